/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Dataplane sync: loads the balancer (libbpf skeleton) and keeps its maps equal to the farms,
 * VIPs and allowedSource lists it is given. Every call is all-or-nothing for what it changes:
 * a farm is swapped in whole (see bpf/maps.h), a VIP's keys are installed before it answers.
 *
 * Server slots: within a farm a server keeps its slot for as long as its id stays, so sticky
 * entries keep naming it; its key is slot | stamp << 16 where the stamp is a hash of (farm
 * slot, id, address), so a slot taken over by another server does not inherit the old one's
 * clients.
 */
#ifndef LIMPET_DATAPLANE_H
#define LIMPET_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limpet/abi.h"

struct dataplane;

struct dataplane_opts {
	uint32_t sticky_buckets;	/* power of two >= LB_STICKY_BUCKETS_MIN; 0: LB_STICKY_BUCKETS */
	uint32_t conn_max;		/* 0: LB_CONN_MAX */
	uint32_t insert_rate;		/* new entries per CPU per second; 0: default */
};

struct dp_server {
	uint32_t id;			/* serverId */
	uint8_t family;			/* LB_V4 / LB_V6 */
	uint32_t addr[LB_ADDR_WORDS];	/* network order */
	uint32_t weight;		/* 1..256 */
	bool eligible;			/* active (and probe up) */
	bool keep_flows;		/* not eligible, its established connections stay
					 * (LB_SERVER_F_KEEP_FLOWS) */
	bool probe_down;		/* active, down by its probe (LB_SERVER_F_PROBE_DOWN) */
};

struct dp_farm {
	uint32_t slot;			/* < LB_FARMS_MAX */
	uint64_t seed;
	uint32_t ring_size;		/* prime <= LB_RING_MAX; 0: LB_RING_DEFAULT */
	uint32_t timeout;		/* seconds; 0: LB_STICKY_TIMEOUT_DEFAULT */
	uint8_t stickiness;		/* LB_STICKY_* */
	uint8_t forwarding;		/* LB_FWD_* */
	size_t nservers;
	const struct dp_server *servers;
};

struct dp_vip {
	uint8_t family;
	uint8_t proto;			/* IPPROTO_TCP / IPPROTO_UDP */
	uint32_t addr[LB_ADDR_WORDS];	/* network order */
	uint16_t port_lo, port_hi;	/* host order, inclusive */
	uint32_t farm;			/* farm slot */
	uint32_t frontend;		/* < LB_FRONTENDS_MAX */
	uint32_t flags;			/* LB_VIP_F_* */
	bool frag_key;			/* also route non-first fragments of this address here */
};

int dataplane_open(struct dataplane **dpp, const struct dataplane_opts *opts);
void dataplane_close(struct dataplane *dp);
int dataplane_prog_fd(const struct dataplane *dp);
/* Buckets of the sticky table (an adopted one keeps the size it was created with): it holds
 * LB_STICKY_RATED(buckets) live sources without a hole, in buckets * (64 + 4) bytes. */
uint32_t dataplane_sticky_buckets(const struct dataplane *dp);
/* The fewest buckets (a power of two, >= LB_STICKY_BUCKETS_MIN) rated for `sources` live
 * sources; 0 if that is more than LB_STICKY_BUCKETS_MAX. */
uint32_t dataplane_sticky_buckets_for(uint64_t sources);

/* Build the farm's Maglev ring and swap it in. Returns 0 or -errno (nothing changed). */
int dataplane_farm_set(struct dataplane *dp, const struct dp_farm *farm);
int dataplane_farm_del(struct dataplane *dp, uint32_t slot);

/* Between begin and commit, dataplane_farm_set() builds farms but holds their swaps back;
 * commit swaps them all in one update of the farms map (one RCU grace period). If commit
 * fails, some of them may be swapped in: re-apply the previous config to revert. */
void dataplane_batch_begin(struct dataplane *dp);
int dataplane_batch_commit(struct dataplane *dp);
/* The key (slot | stamp << 16) the farm gave server id, or 0 if it has none. */
uint32_t dataplane_server_key(const struct dataplane *dp, uint32_t farm, uint32_t id);
/* Whether the farm in slot farm holds server id marked down by its probe
 * (LB_SERVER_F_PROBE_DOWN): what an adopting limpetd starts its prober from. */
bool dataplane_server_probe_down(const struct dataplane *dp, uint32_t farm, uint32_t id);

int dataplane_vip_set(struct dataplane *dp, const struct dp_vip *vip);

/* Make the vips map hold exactly the keys of these VIPs: upsert them all first, then
 * delete the keys no VIP claims, so a VIP that stays never stops answering. */
int dataplane_vips_sync(struct dataplane *dp, const struct dp_vip *v, size_t n);

struct dp_acl {
	uint32_t frontend;
	uint8_t family;
	uint32_t addr[LB_ADDR_WORDS];	/* network order */
	uint32_t prefixlen;
};

int dataplane_acl_add(struct dataplane *dp, const struct dp_acl *a);
/* Likewise for allowedSource prefixes: add all, then delete those not listed. */
int dataplane_acl_sync(struct dataplane *dp, const struct dp_acl *a, size_t n);

/* --- the dataplane in bpffs (pins.c) -------------------------------------------------------- */

/* Pin every map and the program under dir (created if missing; DESIGN: one folder per
 * serviceName). */
int dataplane_pin(struct dataplane *dp, const char *dir);
/* Remove dir (limpet's folder for one service) and every pin in it. */
int dataplane_unpin(const char *dir);

/* Whether anything is pinned under dir (a dataplane to adopt or replace). */
bool dataplane_pinned(const char *dir);

/*
 * Adopt the dataplane an earlier limpetd left pinned under dir (a crash, kill -9, or a
 * shutdown that kept it): its maps with every sticky and connection entry, and its program,
 * which stays attached wherever it is. Its meta record must say LB_ABI_VERSION. The farm
 * books are rebuilt from the farms map, so that each server keeps its key and counter, and an
 * unchanged farm is not swapped again. Returns the number of farms it holds, or -errno with
 * the reason in why: -EPROTO for another ABI (meta, a map's type or sizes, the program).
 */
int dataplane_adopt(struct dataplane **dpp, const char *dir, char why[256]);

/*
 * The applier's record of which config object holds each farm and frontend slot (abi.h
 * lb_owners), kept with the maps for a limpetd that adopts them; all free in a new dataplane.
 */
int dataplane_owners_save(struct dataplane *dp, const struct lb_owners *o);
int dataplane_owners_load(const struct dataplane *dp, struct lb_owners *o);
/* Whether the farms map holds a farm in slot (as user space last set it, or found it). */
bool dataplane_has_farm(const struct dataplane *dp, uint32_t slot);

/* Allow redirects to ifindex (a device other than the one a packet came in on). */
int dataplane_port_add(struct dataplane *dp, int ifindex);

/* Counters summed over CPUs. */
int dataplane_verdicts(const struct dataplane *dp, struct lb_counter out[LB_R_MAX]);
int dataplane_server_stats(const struct dataplane *dp, uint32_t farm, uint32_t id,
			   struct lb_counter *out);
int dataplane_vip_stats(const struct dataplane *dp, uint32_t frontend, struct lb_counter *out);
const char *dataplane_reason_name(enum lb_reason r);
/* Sources that could not be recorded since the dataplane was created: both their buckets
 * held live clients (more live sources than the table is rated for). */
int dataplane_sticky_full(const struct dataplane *dp, uint64_t *out);

/* --- census of the sticky and connection tables (stats.c) ----------------------------------- */

struct dp_key_count {
	uint32_t key;			/* lb_server.key */
	uint32_t count;
};

/*
 * Live entries per server key. A sticky entry is live while its `seen` is within its farm's
 * stickinessTimeout on the dataplane's own clock; a connection entry while it exists (the LRU
 * evicts). Entries naming no server of a current farm count as stale, not as entries. A key
 * names one server of one farm (its stamp hashes the farm slot too), so a server in two farms
 * has its entries counted per farm; only a 16-bit stamp collision could merge two keys.
 */
struct dp_census {
	uint64_t entries;		/* live entries naming a current server: sum of counts */
	uint64_t stale;			/* occupied: expired or naming no current server */
	uint64_t capacity;		/* sticky: buckets * LB_STICKY_WAYS; conns: max_entries */
	size_t nkeys;
	struct dp_key_count *keys;	/* every current server key, ascending, counts may be 0 */
};

/* Walk the table (a full sticky walk copies buckets * 64 bytes) into *out; 0 or -errno.
 * Release with dp_census_free(). */
int dataplane_sticky_census(const struct dataplane *dp, struct dp_census *out);
int dataplane_conn_census(const struct dataplane *dp, struct dp_census *out);
/*
 * How many of the n sources src[i] (LB_V4 or LB_V6 addresses as the balancer hashes them,
 * network order) the sticky table records for the farm in slot farm: an entry with their tag
 * in one of their two buckets, naming one of the farm's servers. What a benchmark or a test
 * checks before it trusts that every source is known. 0 or -errno.
 */
int dataplane_sticky_recorded(const struct dataplane *dp, uint32_t farm,
			      const uint32_t (*src)[LB_ADDR_WORDS], size_t n, size_t *recorded);
/* Live entries naming key (dataplane_server_key()); 0 for a key the census does not know. */
uint32_t dp_census_count(const struct dp_census *c, uint32_t key);
void dp_census_free(struct dp_census *c);

/* --- forgetting servers' entries (forget.c) ------------------------------------------------- */

struct dp_forget {
	uint32_t farm;			/* in: farm slot */
	uint32_t id;			/* in: serverId */
	uint64_t sticky;		/* out: sticky-table entries removed */
	uint64_t conns;			/* out: connection-table entries removed */
};

/*
 * onMarkedDown "shutdown-sessions": remove the sticky-table entries naming each server, and
 * the connection-table entries of its farm naming it, so that its clients and established
 * flows are picked again at their next packet; one walk of each table for all n. Call it
 * once the farms no longer let them take traffic (applied without LB_SERVER_F_ELIGIBLE), or
 * their next packets record them again. 0 with the counts filled in (0 for a server its farm
 * does not have); -ENOENT if no farm has any of them; -errno (what was removed until then
 * stays removed).
 */
int dataplane_forget_servers(struct dataplane *dp, struct dp_forget *srv, size_t n);

#endif /* LIMPET_DATAPLANE_H */
