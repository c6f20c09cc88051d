/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet dataplane ABI: every BPF map key and value, flag and limit, shared by the XDP
 * program (bpf/) and user space (user/, tests/). Nothing here is declared twice.
 *
 * Byte order: fields named addr/port are network order (__be*), everything else host order.
 * Every struct has explicit padding and a size assertion so that both compilers agree.
 */
#ifndef LIMPET_ABI_H
#define LIMPET_ABI_H

#include <linux/types.h>

/*
 * Version of everything below as the maps hold it. A limpetd adopts a pinned dataplane only if
 * its meta map says this version: libbpf checks each map's type and sizes when it reuses a
 * pin, not what the bytes mean. Bump it whenever a layout, a key's encoding or the meaning of
 * a value (a flag, a reason index) changes.
 */
#define LB_ABI_VERSION		3	/* 2: two-choice sticky table, sticky_sum, sticky_full,
					 * vip_addrs; 3: vip_cache, vip_gen, lb_sticky_hash()
					 * from the source, not from lb_hash_addr() */

/* --- limits ----------------------------------------------------------------------------- */
#define LB_FARMS_MAX		1024	/* farm slots in the farms map (a used one holds ~164 KiB) */
#define LB_FARM_SERVERS_MAX	1024	/* servers per farm (ring entries are __u16 slots) */
#define LB_RING_MAX		65537	/* largest Maglev table the dataplane holds (a prime) */
#define LB_RING_DEFAULT		65537
#define LB_VIP_KEYS_MAX		65536	/* (address, port, protocol) keys, port ranges expanded */
#define LB_FRONTENDS_MAX	1024	/* frontend slots: per-VIP counters and ACLs */
#define LB_SERVER_STATS_MAX	16384	/* server counter slots, all farms together */
#define LB_ACL_MAX		16384	/* allowedSource prefixes, all frontends together */
#define LB_IFACES_MAX		64	/* devices in the redirect devmap */
#define LB_STICKY_WAYS		5	/* entries per sticky bucket: 5 x 12 bytes + pad = 64 */
#define LB_STICKY_BUCKETS	(1u << 19) /* default bucket count (power of two): 2.6M entries */
#define LB_STICKY_BUCKETS_MIN	64	/* four lines of summaries (sticky_sum) */
#define LB_STICKY_BUCKETS_MAX	(1u << 26) /* 4.25 GiB, 241M rated sources */
/* Live sources a table of b buckets records without a hole: 3.6 a bucket, 1.89M at the
 * default size (bpf/pick.h: the occupancy curve it is read from) */
#define LB_STICKY_RATED(b)	((__u64)(b) * 18 / 5)
#define LB_CONN_MAX		(1u << 18) /* default connection-table size (null stickiness) */

#define LB_SLOT_NONE		0xffff	/* ring entry of a farm with no eligible server */
#define LB_SERVER_KEY_SLOT(k)	((k) & 0xffffu)

/* --- address families as the ABI spells them (not AF_* so BPF needs no libc) --------------- */
#define LB_V4			4
#define LB_V6			6

/* An IPv4 address lives in addr[0], addr[1..3] are zero. */
#define LB_ADDR_WORDS		4

/* --- vips: (address, port, protocol) -> frontend ------------------------------------------- */
struct lb_vip_key {
	__be32 addr[LB_ADDR_WORDS];
	__be16 port;		/* 0: the key non-first fragments are looked up with */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* LB_V4 or LB_V6 */
};
_Static_assert(sizeof(struct lb_vip_key) == 20, "lb_vip_key layout");

#define LB_VIP_F_ACL		(1u << 0) /* allowedSource set: sources not in acl are dropped */
#define LB_VIP_F_L7		(1u << 1) /* http frontend: passed up to the L7 proxy */

struct lb_vip {
	__u32 farm;		/* slot in the farms map */
	__u32 frontend;		/* slot for stats_vip and the acl key */
	__u32 flags;		/* LB_VIP_F_* */
};
_Static_assert(sizeof(struct lb_vip) == 12, "lb_vip layout");

/*
 * --- vip_addrs: one bit per hashed destination address (lb_vip_addr_bit()) -----------------
 * Set for every address the vips map has a key of: a clear bit says "not a VIP" before the
 * hash lookup (most of an edge host's traffic). User space writes the value whole; an
 * address in both the old and the new set has its bit in every byte a reader may see.
 */
#define LB_VIP_ADDR_BITS	65536
struct lb_vip_addrs {
	__u64 bits[LB_VIP_ADDR_BITS / 64];
};
_Static_assert(sizeof(struct lb_vip_addrs) == LB_VIP_ADDR_BITS / 8, "lb_vip_addrs layout");

/*
 * --- vip_cache: per CPU, direct-mapped copies of vips entries -------------------------------
 * The vips hash lookup (jhash of the 20-byte key, a bucket walk, a memcmp) took ~18 ns of the
 * ~70 the balancer spent on a known client; a copy here is a few loads. A copy is good while
 * vip_gen (one __u32) still holds the generation read before the lookup it was made from:
 * user space bumps vip_gen after every write to vips. Only found keys are copied. The slot:
 * (lb_vip_addr_bit() of the address ^ port) % LB_VIP_CACHE_SLOTS.
 */
#define LB_VIP_CACHE_SLOTS	256
struct lb_vip_cached {
	__u32 gen;		/* vip_gen when copied (a zeroed slot's key, family 0, matches
				 * no packet) */
	struct lb_vip_key key;
	struct lb_vip vip;
	__u32 __pad;
};
_Static_assert(sizeof(struct lb_vip_cached) == 40, "lb_vip_cached layout");

/* --- acl: LPM trie keyed by (frontend, source prefix) --------------------------------------- */
struct lb_acl_key {
	__u32 prefixlen;	/* 32 (frontend) + source prefix length */
	__be32 frontend;	/* network order so the LPM trie compares it first, whole */
	__be32 addr[LB_ADDR_WORDS];
};
_Static_assert(sizeof(struct lb_acl_key) == 24, "lb_acl_key layout");

/* --- farms: one inner map per farm holding its whole state ---------------------------------- */
#define LB_STICKY_NONE		0	/* stickiness null: per-connection, connection table */
#define LB_STICKY_SOURCE_IP	1	/* stickiness sourceIp: sticky table by source address */

#define LB_FWD_DSR		0	/* rewrite destination MAC */
#define LB_FWD_IPIP		1	/* IPv4-in-IPv4 / IPv6-in-IPv6 */

#define LB_SERVER_F_ELIGIBLE	(1u << 0) /* may receive traffic (active, probe up) */
/*
 * Not eligible, but its established connections (null stickiness: conns entries) stay: its
 * probe failed, it is still active, and its onMarkedDown is not shutdown-sessions. A balancer
 * older than the flag treats such a server as any ineligible one (its flows are re-picked),
 * which is why the flag needs no new LB_ABI_VERSION: either side of an adoption stays safe.
 */
#define LB_SERVER_F_KEEP_FLOWS	(1u << 1)
/*
 * Active but down by its probe, for user space alone: the balancer ignores it (it reads only
 * the bits above). An adopting limpetd starts such a server down instead of "checking"
 * (eligible), so a restart does not hand it new clients before its first probe result. A
 * limpetd older than the flag never sets it, which is why it needs no new LB_ABI_VERSION.
 */
#define LB_SERVER_F_PROBE_DOWN	(1u << 2)

struct lb_server {
	__be32 addr[LB_ADDR_WORDS];
	__u32 key;		/* slot | stamp << 16; a sticky entry holding another key is stale */
	__u32 stat;		/* slot in stats_server */
	__u8 family;		/* LB_V4 or LB_V6 */
	__u8 flags;		/* LB_SERVER_F_* */
	__u16 __pad;
	__u32 id;		/* serverId: what an adopting limpetd rebuilds its books from */
};
_Static_assert(sizeof(struct lb_server) == 32, "lb_server layout");

struct lb_farm_hdr {
	__u64 seed;		/* hashSeed: keys the source/flow hash */
	__u32 ring_size;	/* prime <= LB_RING_MAX */
	__u32 timeout;		/* stickinessTimeout, seconds */
	__u16 nservers;
	__u8 stickiness;	/* LB_STICKY_* */
	__u8 forwarding;	/* LB_FWD_* */
	__u32 __pad;
};
_Static_assert(sizeof(struct lb_farm_hdr) == 24, "lb_farm_hdr layout");

/*
 * Servers and Maglev ring are one value of one single-entry array: a farm changes by building
 * a new inner map and swapping it into its farms slot with one update, so a packet sees the
 * old farm or the new one, never a table that disagrees with its servers.
 */
struct lb_farm {
	struct lb_farm_hdr hdr;
	struct lb_server servers[LB_FARM_SERVERS_MAX];
	__u16 ring[LB_RING_MAX];	/* server slot per Maglev entry, LB_SLOT_NONE if none */
	__u16 __pad[3];
};
_Static_assert(sizeof(struct lb_farm) == 24 + 32 * LB_FARM_SERVERS_MAX + 2 * LB_RING_MAX + 6,
	       "lb_farm layout");
_Static_assert(sizeof(struct lb_farm) % 8 == 0, "lb_farm alignment");

/* --- sticky table: set-associative, one 64-byte bucket per lookup (see bpf/pick.h) ----------- */
struct lb_sticky_ent {
	__u32 tag;		/* upper half of the keyed source hash, | 1; 0 means empty */
	__u32 server;		/* lb_server.key of the server the source is stuck to */
	__u32 seen;		/* last use, seconds of bpf_ktime_get_coarse_ns() */
};

struct lb_sticky_bucket {
	struct lb_sticky_ent ent[LB_STICKY_WAYS];
	__u32 __pad;
};
_Static_assert(sizeof(struct lb_sticky_bucket) == 64, "lb_sticky_bucket is one cache line");

/*
 * The summary of a bucket: bit (tag >> 1) & 31 of every tag it holds (lb_sticky_tag_bit()),
 * rewritten by the balancer from the bucket's ways whenever it writes them. A clear bit says
 * "not in this bucket" without reading the bucket (the flood path); a set bit may be a stale
 * or a shared one. 32 bits, not 16: at 1M sources a 16-bit summary sent 22% of unknown
 * sources on to a bucket read, and the SYN flood cost 160 ns a packet instead of 140. One
 * value holds the summaries of LB_STICKY_SUM_BUCKETS buckets: an array map rounds each value
 * up to 8 bytes, one __u32 per value would take twice the room.
 */
#define LB_STICKY_SUM_BUCKETS	16
struct lb_sticky_sum {
	__u32 bits[LB_STICKY_SUM_BUCKETS];
};
_Static_assert(sizeof(struct lb_sticky_sum) == 64, "lb_sticky_sum is one cache line");

/* --- connection table (stickiness null): LRU hash by 5-tuple -------------------------------- */
struct lb_flow_key {
	__be32 src[LB_ADDR_WORDS];
	__be32 dst[LB_ADDR_WORDS];
	__be16 sport;
	__be16 dport;
	__u16 farm;
	__u8 proto;
	__u8 family;
};
_Static_assert(sizeof(struct lb_flow_key) == 40, "lb_flow_key layout");

struct lb_conn {
	__u32 server;		/* lb_server.key */
	__u32 seen;		/* seconds */
};
_Static_assert(sizeof(struct lb_conn) == 8, "lb_conn layout");

/* --- next-hop cache: per CPU, by server counter slot (bpf/forward.h) ------------------------ */
struct lb_nexthop {
	__be32 dst[LB_ADDR_WORDS];	/* the server this entry is for */
	__be32 src[LB_ADDR_WORDS];	/* outer source address (ipip) */
	__u32 ifindex;			/* egress device */
	__u32 iif;			/* ingress device the lookup was made for */
	__u32 expires;			/* seconds; looked up again after this */
	__u16 mtu;			/* egress MTU (route or device) */
	__u8 smac[6];
	__u8 dmac[6];
	__u8 ipip;			/* looked up for ipip (source wanted) or dsr */
	__u8 __pad[5];
};
_Static_assert(sizeof(struct lb_nexthop) == 64, "lb_nexthop is one cache line");

/* --- counters (per-CPU; user space sums the CPUs) ------------------------------------------- */
struct lb_counter {
	__u64 packets;
	__u64 bytes;		/* frame length as received */
};
_Static_assert(sizeof(struct lb_counter) == 16, "lb_counter layout");

/* Why a packet left the program: the index of the verdicts map. */
enum lb_reason {
	LB_R_TX = 0,		/* forwarded, XDP_TX on the ingress device */
	LB_R_REDIRECT,		/* forwarded, devmap redirect to another device */
	LB_R_NOT_VIP,		/* passed: not for a VIP (or not IP/TCP/UDP) */
	LB_R_PARSE,		/* passed: truncated or malformed headers */
	LB_R_UNSUPPORTED,	/* passed: IPv6 extension header, IP options we do not walk */
	LB_R_FRAG,		/* passed: non-first fragment for a farm not keyed by source */
	LB_R_L7,		/* passed: http frontend, for the L7 proxy */
	/* passed, the FIB lookup towards the server failed; split by its answer, since each
	 * has another fix (limpetd names it when they appear) */
	LB_R_FIB_FWD_DISABLED,	/* IP forwarding is off on the ingress device */
	LB_R_FIB_NO_ROUTE,	/* no route, or a blackhole/unreachable/prohibit/local one */
	LB_R_FIB_NO_NEIGH,	/* route found, the next hop's MAC is not resolved */
	LB_R_FIB_OFFLINK,	/* dsr server reached through a router: it must be on-link */
	LB_R_FIB_OTHER,		/* no source address (ipip), lwt route, egress not in tx_ports */
	LB_R_ACL,		/* dropped: source not in allowedSource */
	LB_R_NO_SERVER,		/* dropped: farm missing or without an eligible server */
	LB_R_TOO_BIG,		/* dropped: encapsulated packet exceeds the egress MTU */
	LB_R_ENCAP,		/* dropped: no headroom to encapsulate (frame already changed) */
	LB_R_MAX
};

/* --- meta: what the pinned dataplane is (one entry; not read by the balancer) --------------- */
struct lb_meta {
	__u32 abi_version;	/* LB_ABI_VERSION of its creator; first in every version */
	__u32 sticky_buckets;	/* max_entries of sticky (a power of two) */
	__u32 conn_max;		/* max_entries of conns */
	__u32 insert_rate;	/* the balancer's insert_rate: new entries per CPU per second */
};
_Static_assert(sizeof(struct lb_meta) == 16, "lb_meta layout");

/*
 * --- owners: which config object holds each farm and frontend slot (one entry) ---------------
 * Not read by the balancer: limpetd's record, pinned with the maps and rewritten whole after
 * every successful apply, so that a limpetd adopting them gives each farm and frontend the
 * slot its servers' keys, sticky entries and counters belong to.
 */
#define LB_OWNER_HTTP	0xfe	/* the proto of an http frontend (TCP, for the L7 proxy) */

struct lb_owner {
	__u32 id;		/* farmId or frontendId */
	__u8 proto;		/* its layer: IPPROTO_TCP, IPPROTO_UDP or LB_OWNER_HTTP; 0: free */
	__u8 __pad[3];
};
_Static_assert(sizeof(struct lb_owner) == 8, "lb_owner layout");

struct lb_owners {
	struct lb_owner farm[LB_FARMS_MAX];
	struct lb_owner frontend[LB_FRONTENDS_MAX];
};
_Static_assert(sizeof(struct lb_owners) == 8 * (LB_FARMS_MAX + LB_FRONTENDS_MAX),
	       "lb_owners layout");

/* --- load-time knobs (const volatile rodata of the balancer) -------------------------------- */
#define LB_STICKY_INSERTS_PER_SEC 100000 /* new sticky entries per CPU per second */
#define LB_STICKY_REFRESH_SEC	2	/* seen is rewritten only when older than this */
#define LB_STICKY_EVICT_IDLE	60	/* a live entry is evicted only after this long unused */
#define LB_STICKY_TIMEOUT_DEFAULT 1800	/* stickinessTimeout when the config sets none */

#define LB_TUNNEL_TTL		64	/* outer TTL / hop limit of ipip */
#define LB_NEXTHOP_TTL_SEC	1	/* a cached FIB result is used for at most this long */

#endif /* LIMPET_ABI_H */
