/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Server pick: sticky table (sourceIp), connection table (null), weighted Maglev ring.
 *
 * Sticky table design. Katran keeps known clients in an LRU hash: a lookup walks a hash
 * bucket list, an element and its LRU node (about three cache misses per packet at 1M
 * clients), and every hit writes the LRU state. Ours is a set-associative cache in a plain
 * BPF array:
 *   - one bucket is one 64-byte cache line holding LB_STICKY_WAYS entries of
 *     {tag, server key, last seen}. The keyed hash of (farm, source) gives the first bucket
 *     with its low bits and the 32-bit tag with its high bits; the second bucket is the first
 *     xor a hash of the tag (lb_sticky_alt: either bucket gives the other, so an entry can be
 *     moved knowing only its tag).
 *   - two choices: a new source goes into the emptier of its two buckets (the first on a tie,
 *     ~70% of sources at 2M); if both hold only live clients, one client of either moves to
 *     its own other bucket if that one has room (one level of cuckoo kick, only on an insert,
 *     so at most the insert budget's worth a second). Why not more ways or more memory: one
 *     choice of 5 ways leaves holes from 0.5M sources on (1M: 9 302 unrecorded, the issue's
 *     0.3-1.1%); two choices without kicks from 1.5M (2M: 5 220); with the kick, holes start
 *     past 2M (below; kicking to the emptiest alternative bucket instead of the first with
 *     room changes nothing).
 *   - occupancy at the default size (2^19 buckets, 2.62M ways), unrecorded sources vs live
 *     ones, every source live (a model of this policy with the dataplane's own hashes, bench
 *     seed; bench_xdp checks 1M and 2M, test_sticky 1M and the rated capacity, through the
 *     program):
 *       live   1.0M 1.5M 2.0M 2.1M 2.2M 2.3M  2.4M   2.5M   2.6M
 *       holes     0    0    0    2   15  237  2426  14835  53099
 *     The first hole over 524 seeds: 1.93M once, 1.99M-2.0M 3 times, after 2.0M in the other
 *     520 (smaller tables do no worse). Rated capacity LB_STICKY_RATED: 3.6 live sources a
 *     bucket, 1.89M at the default size, below the earliest hole seen; above it, sources that
 *     find both buckets full are counted in sticky_full and fall back to the ring
 *     (stickiness degrades to Maglev's, never to a drop).
 *   - a lookup first reads the 32-bit summaries of both buckets (sticky_sum: one bit per tag
 *     a bucket holds, 2 MiB at the default size, cache resident where the 32 MiB table is
 *     not), side by side, then the first bucket if its summary may hold the tag, and the
 *     second only on a miss there. An unknown source, the flood case, mostly costs two
 *     summary reads instead of two bucket misses (make bench on a shared 2-core VM, SYN flood
 *     with 1M known clients: 252 ns a packet with one choice and no summary, 140-157 with
 *     both). A known client pays one summary read more (1M known: 265 -> 280 ns). Reading the
 *     buckets first for all but bare SYNs (a known client's ACKs) gains that back (1M known
 *     291-299 -> 276-294 ns) but a flood of new ACK sources pays two table misses instead of
 *     two summary reads (200-229 -> 294-331 ns): summaries first for every packet. The
 *     balancer rewrites a summary from its bucket whenever it writes the bucket, so it needs
 *     no upkeep; stale bits (expired or forgotten entries) only cost a bucket read.
 *   - no full key is stored: two sources with the same buckets and tag (odds ~10 in 2^32 per
 *     lookup) share a server. Both still land on an eligible server of their farm.
 *   - the entry names the server by its key (slot | stamp): if the server was removed,
 *     replaced or disabled, the key no longer matches an eligible server and the source is
 *     picked again from the ring (only the clients of a gone server move).
 *   - `seen` is rewritten only when older than LB_STICKY_REFRESH_SEC, so a busy client does
 *     not turn every packet into a store to a shared line.
 *   - insert policy, against floods of new (spoofed) sources: a TCP source is recorded only
 *     once it sends a packet that is neither a bare SYN nor a RST (so a spoofer, who never
 *     completes a handshake, is never recorded); new entries are capped per CPU per second
 *     (insert_budget); an entry is evicted only if expired or idle for LB_STICKY_EVICT_IDLE
 *     (a kick moves a client, it never drops one).
 *   - concurrent writers may race on an entry; the worst outcome is one lost update, and a
 *     torn entry fails the key check and is re-picked. A lookup racing a kick may miss the
 *     moved client once: it is then treated as new (same server while the ring is unchanged).
 * Trade-offs: memory is fixed up front (68 bytes per bucket: 34 MiB for 1.89M rated sources);
 * a source's tag can only live in two buckets, so a table above its rated capacity leaves
 * holes (counted) rather than evicting anyone.
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

static __always_inline __u32 *sticky_sum_of(__u32 idx)
{
	__u32 k = idx / LB_STICKY_SUM_BUCKETS;
	struct lb_sticky_sum *s = bpf_map_lookup_elem(&sticky_sum, &k);

	return s ? &s->bits[idx % LB_STICKY_SUM_BUCKETS] : NULL;
}

/* Rewrite a bucket's summary from its ways, after writing them. Two CPUs writing one bucket
 * at once may leave out the other's tag; the next write of the bucket puts it back. */
static __always_inline void sticky_sum_update(__u32 idx, const struct lb_sticky_bucket *b)
{
	__u32 *sum = sticky_sum_of(idx), bits = 0;
	int i;

#pragma unroll
	for (i = 0; i < LB_STICKY_WAYS; i++)
		if (b->ent[i].tag)
			bits |= lb_sticky_tag_bit(b->ent[i].tag);
	if (sum)
		*sum = bits;
}

/* Whether a bucket's summary has the tag's bit: it may hold the tag. */
static __always_inline bool sticky_may_hold(__u32 idx, __u32 bit)
{
	__u32 *sum = sticky_sum_of(idx);

	return sum && (*sum & bit);
}

/* The entry of bucket idx with this tag. */
static __always_inline struct lb_sticky_ent *sticky_find(__u32 idx, __u32 tag)
{
	struct lb_sticky_bucket *b = bpf_map_lookup_elem(&sticky, &idx);
	int i;

	if (!b)
		return NULL;
#pragma unroll
	for (i = 0; i < LB_STICKY_WAYS; i++)
		if (b->ent[i].tag == tag)
			return &b->ent[i];
	return NULL;
}

/* Where an insert into a bucket would go: an empty or expired way, else the least recently
 * seen one if idle for LB_STICKY_EVICT_IDLE (way LB_STICKY_WAYS: none); and how many live
 * clients the bucket holds, to fill the emptier of a source's two buckets. */
struct sticky_room {
	__u32 way;
	__u32 live;
};

static __always_inline struct sticky_room sticky_room(const struct lb_sticky_bucket *b,
						       __u32 now, __u32 timeout)
{
	struct sticky_room r = { .way = LB_STICKY_WAYS };
	__u32 oldest = ~0u, old = LB_STICKY_WAYS;
	int i;

#pragma unroll
	for (i = 0; i < LB_STICKY_WAYS; i++) {
		const struct lb_sticky_ent *e = &b->ent[i];

		if (!sticky_live(e, now, timeout)) {
			r.way = i;
			continue;
		}
		r.live++;
		if (e->seen < oldest) {
			oldest = e->seen;
			old = i;
		}
	}
	if (r.way == LB_STICKY_WAYS && old < LB_STICKY_WAYS &&
	    now - b->ent[old].seen >= LB_STICKY_EVICT_IDLE)
		r.way = old;
	return r;
}

/* Make room in bucket idx by moving one of its clients to that client's other bucket: the
 * way freed, or LB_STICKY_WAYS. The client is written there before it is overwritten here, so
 * a lookup, which tries both buckets, finds it in one or the other. */
static __always_inline __u32 sticky_kick(__u32 idx, struct lb_sticky_bucket *b, __u32 now,
					 __u32 timeout)
{
	struct lb_sticky_bucket *ab;
	struct sticky_room r;
	__u32 alt;
	int i;

	for (i = 0; i < LB_STICKY_WAYS; i++) {
		alt = lb_sticky_alt(idx, b->ent[i].tag, sticky_mask);
		if (alt == idx)
			continue;
		ab = bpf_map_lookup_elem(&sticky, &alt);
		if (!ab)
			continue;
		r = sticky_room(ab, now, timeout);
		if (r.way >= LB_STICKY_WAYS)
			continue;
		ab->ent[r.way] = b->ent[i];
		sticky_sum_update(alt, ab);
		return i;
	}
	return LB_STICKY_WAYS;
}

static __always_inline void sticky_count_full(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sticky_full, &zero);

	if (n)
		*n += 1;
}

/* Record a new source in the emptier of its two buckets (the first on a tie: a lookup reads
 * it first), or, both full, in one whose client could move to its own other bucket. */
static __always_inline void sticky_insert(__u32 idx0, __u32 idx1, __u32 tag, __u32 key,
					  __u32 now, __u32 timeout)
{
	struct lb_sticky_bucket *b0 = bpf_map_lookup_elem(&sticky, &idx0);
	struct lb_sticky_bucket *b1 = bpf_map_lookup_elem(&sticky, &idx1);
	struct lb_sticky_bucket *b = b0;
	struct sticky_room r0, r1;
	__u32 idx = idx0, way;

	if (!b0 || !b1)
		return;
	r0 = sticky_room(b0, now, timeout);
	r1 = sticky_room(b1, now, timeout);
	way = r0.way;
	if (r1.way < LB_STICKY_WAYS && (way >= LB_STICKY_WAYS || r1.live < r0.live)) {
		b = b1;
		idx = idx1;
		way = r1.way;
	}
	if (way >= LB_STICKY_WAYS)
		way = sticky_kick(idx0, b0, now, timeout);
	if (way >= LB_STICKY_WAYS) {
		b = b1;
		idx = idx1;
		way = sticky_kick(idx1, b1, now, timeout);
	}
	if (way >= LB_STICKY_WAYS) {
		sticky_count_full();
		return;
	}
	b->ent[way].tag = tag;
	b->ent[way].server = key;
	b->ent[way].seen = now;
	sticky_sum_update(idx, b);
}

static __always_inline struct lb_server *pick_source(struct lb_farm *f, __u32 farm,
						     const struct pkt_info *pi, __u32 now)
{
	__u64 sh = lb_sticky_hash(pi->src, f->hdr.seed, farm);
	__u32 tag = lb_sticky_tag(sh), idx0 = sh & sticky_mask;
	__u32 idx1 = lb_sticky_alt(idx0, tag, sticky_mask);
	__u32 bit = lb_sticky_tag_bit(tag);
	struct lb_sticky_ent *e;
	struct lb_server *s;
	bool may0, may1;

	/* both summaries first, then a bucket only if its summary may hold the tag: an
	 * unknown source costs two reads of the small summary map, made side by side */
	may0 = sticky_may_hold(idx0, bit);
	may1 = idx1 != idx0 && sticky_may_hold(idx1, bit);
	e = may0 ? sticky_find(idx0, tag) : NULL;
	if (!e && may1)
		e = sticky_find(idx1, tag);
	if (e) {
		if (sticky_live(e, now, f->hdr.timeout)) {
			s = server_by_key(f, e->server, LB_SERVER_F_ELIGIBLE);
			if (s) {
				if (now - e->seen >= LB_STICKY_REFRESH_SEC)
					e->seen = now;
				return s;
			}
		}
		/* known source whose server is gone or whose entry expired: pick again,
		 * in place (no insert budget: it cannot grow the table) */
		s = ring_pick(f, lb_hash_addr(pi->src, f->hdr.seed));
		if (s) {
			e->server = s->key;
			e->seen = now;
		}
		return s;
	}

	s = ring_pick(f, lb_hash_addr(pi->src, f->hdr.seed));
	if (s && may_record(pi, now))
		sticky_insert(idx0, idx1, tag, s->key, now, f->hdr.timeout);
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
