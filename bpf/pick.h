/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Server pick: sticky table (sourceIp), connection table (null), weighted Maglev ring.
 *
 * Sticky table design. Katran keeps known clients in an LRU hash: a lookup walks a hash
 * bucket list, an element and its LRU node (about three cache misses per packet at 1M
 * clients), and every hit writes the LRU state. Ours is a set-associative cache in a plain
 * BPF array:
 *   - one bucket is one 64-byte cache line holding LB_STICKY_WAYS entries of
 *     {tag, server key, last seen}; the keyed hash of (farm, source) picks the bucket with its
 *     low bits and gives the 32-bit tag with its high bits. A lookup touches one line.
 *   - no full key is stored: two sources with the same bucket and tag (odds ~5 in 2^32 per
 *     lookup) share a server. Both still land on an eligible server of their farm.
 *   - the entry names the server by its key (slot | stamp): if the server was removed,
 *     replaced or disabled, the key no longer matches an eligible server and the source is
 *     picked again from the ring (only the clients of a gone server move).
 *   - `seen` is rewritten only when older than LB_STICKY_REFRESH_SEC, so a busy client does
 *     not turn every packet into a store to a shared line.
 *   - insert policy, against floods of new (spoofed) sources: a TCP source is recorded only
 *     once it sends a packet that is neither a bare SYN nor a RST (so a spoofer, who never
 *     completes a handshake, is never recorded); new entries are capped per CPU per second
 *     (insert_budget); an entry is evicted only if expired or idle for LB_STICKY_EVICT_IDLE.
 *     A source that is not recorded still gets the same server from the ring while the ring
 *     does not change: stickiness degrades to Maglev's, never to a drop.
 *   - concurrent writers may race on an entry; the worst outcome is one lost update, and a
 *     torn entry fails the key check and is re-picked.
 * Trade-offs: memory is fixed up front (64 bytes per 5 clients, 32 MiB for 2.6M entries);
 * a bucket overflows when more than 5 live sources hash to it (at 1M clients in 2^19
 * buckets, load 0.38: rare), and its extra sources fall back to the ring.
 */
#ifndef LIMPET_PICK_H
#define LIMPET_PICK_H

#include "limpet/hash.h"
#include "maps.h"
#include "parse.h"

const volatile __u32 sticky_mask = LB_STICKY_BUCKETS - 1;
const volatile __u32 insert_rate = LB_STICKY_INSERTS_PER_SEC;

extern unsigned int CONFIG_HZ __kconfig __weak;

/* Seconds, for sticky ages and cache expiry. jiffies is read inline (the verifier turns
 * bpf_jiffies64 into a load); a kernel that hides its config falls back to a helper call. */
static __always_inline __u32 now_sec(void)
{
	if (CONFIG_HZ)
		return bpf_jiffies64() / CONFIG_HZ;
	return bpf_ktime_get_coarse_ns() / 1000000000ULL;
}

/* The server a recorded key names, if it is still in the farm and has one of the flags
 * (LB_SERVER_F_*): eligible, or for an established connection also keeping its flows. */
static __always_inline struct lb_server *server_by_key(struct lb_farm *f, __u32 key, __u8 flags)
{
	__u32 slot = LB_SERVER_KEY_SLOT(key);
	struct lb_server *s;

	if (slot >= LB_FARM_SERVERS_MAX || slot >= f->hdr.nservers)
		return NULL;
	s = &f->servers[slot];
	if (s->key != key || !(s->flags & flags))
		return NULL;
	return s;
}

/* Weighted Maglev: the ring holds only eligible servers (user/maglev.c). */
static __always_inline struct lb_server *ring_pick(struct lb_farm *f, __u64 hash)
{
	__u32 size = f->hdr.ring_size, idx, slot;

	if (!size)
		return NULL;
	idx = hash % size;
	if (idx >= LB_RING_MAX)
		return NULL;
	slot = f->ring[idx];
	if (slot >= LB_FARM_SERVERS_MAX)
		return NULL;
	return &f->servers[slot];
}

/* A new source or flow may be recorded: not a bare SYN or a RST, and budget left. */
static __always_inline bool may_record(const struct pkt_info *pi, __u32 now)
{
	struct insert_budget *b;
	__u32 zero = 0;

	if (pi->frag == FRAG_LATER)
		return false;
	if (pi->proto == IPPROTO_TCP &&
	    ((pi->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN ||
	     (pi->tcp_flags & TCP_FLAG_RST)))
		return false;
	b = bpf_map_lookup_elem(&insert_rl, &zero);
	if (!b)
		return false;
	if (b->second != now) {
		b->second = now;
		b->used = 0;
	}
	if (b->used >= insert_rate)
		return false;
	b->used++;
	return true;
}

static __always_inline bool sticky_live(const struct lb_sticky_ent *e, __u32 now, __u32 timeout)
{
	return e->tag && now - e->seen <= timeout;
}

static __always_inline struct lb_server *pick_source(struct lb_farm *f, __u32 farm,
						     const struct pkt_info *pi, __u32 now)
{
	__u64 h = lb_hash_addr(pi->src, f->hdr.seed);
	__u64 sh = lb_sticky_hash(h, farm);
	__u32 tag = lb_sticky_tag(sh), idx = sh & sticky_mask;
	__u32 timeout = f->hdr.timeout, victim = LB_STICKY_WAYS, oldest = ~0u;
	struct lb_sticky_bucket *b;
	struct lb_sticky_ent *e;
	struct lb_server *s;
	int i;

	b = bpf_map_lookup_elem(&sticky, &idx);
	if (!b)
		return ring_pick(f, h);

#pragma unroll
	for (i = 0; i < LB_STICKY_WAYS; i++) {
		e = &b->ent[i];
		if (e->tag != tag)
			continue;
		if (sticky_live(e, now, timeout)) {
			s = server_by_key(f, e->server, LB_SERVER_F_ELIGIBLE);
			if (s) {
				if (now - e->seen >= LB_STICKY_REFRESH_SEC)
					e->seen = now;
				return s;
			}
		}
		/* known source whose server is gone or whose entry expired: pick again,
		 * in place (no insert budget: it cannot grow the table) */
		s = ring_pick(f, h);
		if (s) {
			e->server = s->key;
			e->seen = now;
		}
		return s;
	}

	s = ring_pick(f, h);
	if (!s || !may_record(pi, now))
		return s;
#pragma unroll
	for (i = 0; i < LB_STICKY_WAYS; i++) {
		e = &b->ent[i];
		if (!sticky_live(e, now, timeout)) {
			victim = i;
			break;
		}
		if (e->seen < oldest) {
			oldest = e->seen;
			victim = i;
		}
	}
	if (victim >= LB_STICKY_WAYS)
		return s;
	e = &b->ent[victim];
	if (sticky_live(e, now, timeout) && now - e->seen < LB_STICKY_EVICT_IDLE)
		return s;	/* every way holds a live client: keep them */
	e->tag = tag;
	e->server = s->key;
	e->seen = now;
	return s;
}

static __always_inline struct lb_server *pick_flow(struct lb_farm *f, __u32 farm,
						   const struct pkt_info *pi, __u32 now)
{
	struct lb_flow_key k = {
		.sport = pi->sport,
		.dport = pi->dport,
		.farm = farm,
		.proto = pi->proto,
		.family = pi->family,
	};
	struct lb_conn *c, nc;
	struct lb_server *s;

	__builtin_memcpy(k.src, pi->src, sizeof(k.src));
	__builtin_memcpy(k.dst, pi->dst, sizeof(k.dst));
	c = bpf_map_lookup_elem(&conns, &k);
	if (c) {
		/* a server that failed its probe keeps its established flows unless its
		 * onMarkedDown says shutdown-sessions (issue 7); a sourceIp client moves */
		s = server_by_key(f, c->server, LB_SERVER_F_ELIGIBLE | LB_SERVER_F_KEEP_FLOWS);
		if (s) {
			if (now - c->seen >= LB_STICKY_REFRESH_SEC)
				c->seen = now;
			return s;
		}
	}
	s = ring_pick(f, lb_hash_flow(pi->src, pi->dst,
				      (__u32)pi->sport << 16 | pi->dport, pi->proto, f->hdr.seed));
	if (!s)
		return NULL;
	if (c) {
		c->server = s->key;
		c->seen = now;
	} else if (may_record(pi, now)) {
		nc.server = s->key;
		nc.seen = now;
		bpf_map_update_elem(&conns, &k, &nc, BPF_ANY);
	}
	return s;
}

#endif /* LIMPET_PICK_H */
