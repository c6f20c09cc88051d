// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/dataplane-int.h"
#include "limpet/hash.h"
#include "common/log.h"
#include "maglev/maglev.h"

static const char *const reason_names[LB_R_MAX] = {
	[LB_R_TX] = "tx",
	[LB_R_REDIRECT] = "redirect",
	[LB_R_NOT_VIP] = "pass_not_vip",
	[LB_R_PARSE] = "pass_parse_error",
	[LB_R_UNSUPPORTED] = "pass_unsupported",
	[LB_R_FRAG] = "pass_fragment",
	[LB_R_L7] = "pass_l7",
	[LB_R_FIB_FWD_DISABLED] = "pass_fib_fwd_disabled",
	[LB_R_FIB_NO_ROUTE] = "pass_fib_no_route",
	[LB_R_FIB_NO_NEIGH] = "pass_fib_no_neigh",
	[LB_R_FIB_OFFLINK] = "pass_fib_offlink",
	[LB_R_FIB_OTHER] = "pass_fib_other",
	[LB_R_ACL] = "drop_acl",
	[LB_R_NO_SERVER] = "drop_no_server",
	[LB_R_TOO_BIG] = "drop_too_big",
	[LB_R_ENCAP] = "drop_encap",
};

const char *dataplane_reason_name(enum lb_reason r)
{
	return r < LB_R_MAX ? reason_names[r] : "?";
}

int dataplane_open(struct dataplane **dpp, const struct dataplane_opts *opts)
{
	uint32_t buckets = opts && opts->sticky_buckets ? opts->sticky_buckets : LB_STICKY_BUCKETS;
	struct dataplane *dp;
	int err;

	if ((buckets & (buckets - 1)) || buckets < LB_STICKY_BUCKETS_MIN ||
	    buckets > LB_STICKY_BUCKETS_MAX) {
		pr_err("sticky table size %u is not a power of two from %u to %u", buckets,
		       LB_STICKY_BUCKETS_MIN, LB_STICKY_BUCKETS_MAX);
		return -EINVAL;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->prog_fd = -1;
	dp->ncpus = libbpf_num_possible_cpus();
	dp->skel = balancer__open();
	if (!dp->skel) {
		err = -errno;
		goto fail;
	}
	dp->skel->rodata->sticky_mask = buckets - 1;
	if (opts && opts->insert_rate)
		dp->skel->rodata->insert_rate = opts->insert_rate;
	err = dataplane_sticky_size(dp, buckets);
	if (!err && opts && opts->conn_max)
		err = bpf_map__set_max_entries(dp->skel->maps.conns, opts->conn_max);
	if (!err)
		err = balancer__load(dp->skel);
	if (!err)
		err = dataplane_meta_init(dp);
	if (err) {
		pr_err("loading the balancer: %s", strerror(-err));
		goto fail;
	}
	dp->prog_fd = bpf_program__fd(dp->skel->progs.limpet_balancer);
	*dpp = dp;
	return 0;
fail:
	dataplane_close(dp);
	return err;
}

void dataplane_close(struct dataplane *dp)
{
	if (!dp)
		return;
	balancer__destroy(dp->skel);
	if (dp->adopted && dp->prog_fd >= 0)
		close(dp->prog_fd);
	for (int i = 0; i < LB_FARMS_MAX; i++)
		free(dp->farms[i]);
	free(dp);
}

int dataplane_prog_fd(const struct dataplane *dp)
{
	return dp->prog_fd;
}

int dataplane_sticky_size(struct dataplane *dp, uint32_t buckets)
{
	int err = bpf_map__set_max_entries(dp->skel->maps.sticky, buckets);

	return err ?: bpf_map__set_max_entries(dp->skel->maps.sticky_sum,
					       buckets / LB_STICKY_SUM_BUCKETS);
}

uint32_t dataplane_sticky_buckets(const struct dataplane *dp)
{
	return bpf_map__max_entries(dp->skel->maps.sticky);
}

uint32_t dataplane_sticky_buckets_for(uint64_t sources)
{
	uint32_t b = LB_STICKY_BUCKETS_MIN;

	while (LB_STICKY_RATED(b) < sources && b < LB_STICKY_BUCKETS_MAX)
		b <<= 1;
	return LB_STICKY_RATED(b) < sources ? 0 : b;
}

/* The farm is in the stamp so that a server in two farms has two keys: the census (stats.c)
 * tells apart the entries of each, which a sticky entry does not otherwise record. */
static uint32_t server_stamp(const struct dp_server *s, uint32_t farm)
{
	uint64_t h = lb_hash_addr(s->addr, (uint64_t)farm << 40 | (uint64_t)s->id << 8 | s->family);

	return (uint32_t)(h >> 48);
}

/* A counter slot is handed out zeroed: a new server does not inherit the counts of the
 * server that had it before. */
static int stat_alloc(struct dataplane *dp)
{
	struct lb_counter *zero;
	uint32_t i;
	int err;

	for (i = 0; i < LB_SERVER_STATS_MAX && dp->stat_used[i]; i++)
		;
	if (i == LB_SERVER_STATS_MAX)
		return -ENOSPC;
	zero = calloc(dp->ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	err = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.stats_server), &i, zero, BPF_ANY);
	err = err ? -errno : 0;
	free(zero);
	if (err)
		return err;
	dp->stat_used[i] = 1;
	return i;
}

static int book_find(const struct farm_book *b, uint32_t id)
{
	for (uint32_t i = 0; i < b->nslots; i++)
		if (b->key[i] && b->id[i] == id)
			return i;
	return -1;
}

/*
 * New slot book for the servers: kept ids keep their slot (and stat counter), new ids take
 * the lowest free slots. Works on `next`; dp->stat_used is only touched on success.
 */
static int book_assign(struct dataplane *dp, const struct farm_book *prev, struct farm_book *next,
		       const struct dp_farm *f, uint32_t *slot_of)
{
	uint8_t taken[LB_FARM_SERVERS_MAX] = { 0 };
	int fresh_stats[LB_FARM_SERVERS_MAX], nfresh = 0, err = 0;
	uint32_t s;

	memset(next, 0, sizeof(*next));
	for (size_t i = 0; i < f->nservers; i++) {
		int old = prev ? book_find(prev, f->servers[i].id) : -1;

		slot_of[i] = UINT32_MAX;
		if (old < 0)
			continue;
		slot_of[i] = old;
		taken[old] = 1;
		next->stat[old] = prev->stat[old];
	}
	for (size_t i = 0; i < f->nservers; i++) {
		if (slot_of[i] != UINT32_MAX)
			continue;
		for (s = 0; taken[s]; s++)
			;
		taken[s] = 1;
		slot_of[i] = s;
		err = stat_alloc(dp);
		if (err < 0)
			goto undo;
		fresh_stats[nfresh++] = err;
		next->stat[s] = err;
		err = 0;
	}
	for (size_t i = 0; i < f->nservers; i++) {
		s = slot_of[i];
		next->id[s] = f->servers[i].id;
		next->key[s] = s | server_stamp(&f->servers[i], f->slot) << 16;
		if (!next->key[s])	/* 0 means free: slot 0 with stamp 0 takes stamp 1 */
			next->key[s] = 1u << 16;
		if (s + 1 > next->nslots)
			next->nslots = s + 1;
	}
	return 0;
undo:
	while (nfresh--)
		dp->stat_used[fresh_stats[nfresh]] = 0;
	return err;
}

static int farm_check(const struct dp_farm *f)
{
	if (f->slot >= LB_FARMS_MAX || f->nservers > LB_FARM_SERVERS_MAX)
		return -EINVAL;
	if (f->ring_size > LB_RING_MAX || maglev_check_size(f->ring_size) ||
	    f->ring_size < f->nservers)
		return -EINVAL;
	if (f->stickiness > LB_STICKY_SOURCE_IP || f->forwarding > LB_FWD_IPIP)
		return -EINVAL;
	for (size_t i = 0; i < f->nservers; i++)
		if (f->servers[i].family != LB_V4 && f->servers[i].family != LB_V6)
			return -EINVAL;
	return 0;
}

/* Fill the map value of a farm from its servers and their Maglev table. */
static int farm_compile(const struct dp_farm *f, const struct farm_book *book,
			const uint32_t *slot_of, struct lb_farm *out)
{
	struct maglev_server *ms;
	uint32_t *table;
	int err = -ENOMEM;

	ms = calloc(f->nservers ? f->nservers : 1, sizeof(*ms));
	table = calloc(f->ring_size, sizeof(*table));
	if (!ms || !table)
		goto out;
	for (size_t i = 0; i < f->nservers; i++) {
		const struct dp_server *s = &f->servers[i];
		struct lb_server *ls = &out->servers[slot_of[i]];

		ms[i] = (struct maglev_server){ s->id, s->weight, s->eligible };
		memcpy(ls->addr, s->addr, sizeof(ls->addr));
		ls->key = book->key[slot_of[i]];
		ls->stat = book->stat[slot_of[i]];
		ls->id = s->id;
		ls->family = s->family;
		ls->flags = s->eligible ? LB_SERVER_F_ELIGIBLE
					: s->keep_flows ? LB_SERVER_F_KEEP_FLOWS : 0;
		if (s->probe_down)
			ls->flags |= LB_SERVER_F_PROBE_DOWN;
	}
	err = maglev_build(ms, f->nservers, f->seed, f->ring_size, table);
	if (err)
		goto out;
	out->hdr.seed = f->seed;
	out->hdr.ring_size = f->ring_size;
	out->hdr.timeout = f->timeout ? f->timeout : LB_STICKY_TIMEOUT_DEFAULT;
	out->hdr.nservers = book->nslots;
	out->hdr.stickiness = f->stickiness;
	out->hdr.forwarding = f->forwarding;
	for (uint32_t e = 0; e < f->ring_size; e++)
		out->ring[e] = table[e] == MAGLEV_ENTRY_NONE ? LB_SLOT_NONE : slot_of[table[e]];
out:
	free(ms);
	free(table);
	return err;
}

/*
 * Swap a new single-entry inner map holding `val` into farms[slot], or, in a batch, queue it
 * for dataplane_batch_commit(). Each update of the farms map from user space returns only
 * after an RCU grace period (about 14 ms measured here), which is why a batch commits all its
 * farms in one update.
 */
static int farm_swap(struct dataplane *dp, uint32_t slot, const struct lb_farm *val)
{
	uint32_t zero = 0;
	int inner, err;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "farm", sizeof(zero), sizeof(*val), 1, NULL);
	if (inner < 0)
		return -errno;
	if (bpf_map_update_elem(inner, &zero, val, BPF_ANY)) {
		err = -errno;
		close(inner);
		return err;
	}
	if (dp->batching) {
		for (size_t i = 0; i < dp->npending; i++) {
			if (dp->pending[i].slot == slot) {
				close(dp->pending[i].inner);
				dp->pending[i].inner = inner;
				return 0;
			}
		}
		dp->pending[dp->npending++] = (struct pending_swap){ slot, inner };
		return 0;
	}
	err = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.farms), &slot, &inner, BPF_ANY);
	err = err ? -errno : 0;
	close(inner);	/* the farms map holds its own reference */
	return err;
}

void dataplane_batch_begin(struct dataplane *dp)
{
	dp->batching = true;
}

int dataplane_batch_commit(struct dataplane *dp)
{
	uint32_t keys[LB_FARMS_MAX], n = dp->npending;
	int fds[LB_FARMS_MAX], err = 0;

	for (size_t i = 0; i < dp->npending; i++) {
		keys[i] = dp->pending[i].slot;
		fds[i] = dp->pending[i].inner;
	}
	if (n && bpf_map_update_batch(bpf_map__fd(dp->skel->maps.farms), keys, fds, &n, NULL))
		err = -errno;
	for (size_t i = 0; i < dp->npending; i++)
		close(dp->pending[i].inner);
	dp->npending = 0;
	dp->batching = false;
	return err;
}

static uint64_t farm_digest(const struct lb_farm *val)
{
	const uint64_t *w = (const uint64_t *)val;
	uint64_t h = 0;

	for (size_t i = 0; i < sizeof(*val) / sizeof(*w); i++)
		h = lb_mix64(h ^ w[i]) + i;
	return h;
}

void book_note_value(struct farm_book *b, const struct lb_farm *val)
{
	b->digest = farm_digest(val);
	b->timeout = val->hdr.timeout;
	b->seed = val->hdr.seed;
	for (uint32_t s = 0; s < b->nslots; s++)
		b->flags[s] = val->servers[s].flags;
}

/* What a farm is built from: an unchanged input rebuilds nothing (a Maglev table of 65537
 * entries costs milliseconds, and a refresh of 1000 farms usually changes one). */
static uint64_t farm_input(const struct dp_farm *f)
{
	uint64_t h = lb_mix64(f->seed ^ ((uint64_t)f->ring_size << 32 | f->timeout));

	h = lb_mix64(h ^ ((uint64_t)f->stickiness << 8 | f->forwarding) ^ (uint64_t)f->nservers << 16);
	for (size_t i = 0; i < f->nservers; i++) {
		const struct dp_server *s = &f->servers[i];

		h = lb_mix64(h ^ ((uint64_t)s->id << 32 | s->weight << 3 | s->probe_down << 2 |
				  s->keep_flows << 1 | s->eligible));
		h = lb_mix64(h ^ ((uint64_t)s->addr[0] << 32 | s->addr[1]) ^ s->family);
		h = lb_mix64(h ^ ((uint64_t)s->addr[2] << 32 | s->addr[3]));
	}
	return h | 1;	/* 0 means unknown */
}

int dataplane_farm_set(struct dataplane *dp, const struct dp_farm *fin)
{
	struct dp_farm f = *fin;
	struct farm_book *next = NULL, *prev;
	struct lb_farm *val = NULL;
	uint32_t *slot_of = NULL;
	int err;

	if (!f.ring_size)
		f.ring_size = LB_RING_DEFAULT;
	err = farm_check(&f);
	if (err)
		return err;
	prev = dp->farms[f.slot];
	if (prev && prev->input == farm_input(&f))
		return 0;
	next = calloc(1, sizeof(*next));
	val = calloc(1, sizeof(*val));
	slot_of = calloc(f.nservers ? f.nservers : 1, sizeof(*slot_of));
	if (!next || !val || !slot_of) {
		err = -ENOMEM;
		goto out;
	}
	err = book_assign(dp, prev, next, &f, slot_of);
	if (err)
		goto out;
	err = farm_compile(&f, next, slot_of, val);
	book_note_value(next, val);
	next->input = farm_input(&f);
	/* an unchanged farm is not swapped: each swap waits for an RCU grace period */
	if (!err && !(prev && prev->digest == next->digest))
		err = farm_swap(dp, f.slot, val);
	if (err) {
		/* release the counters this attempt took */
		for (uint32_t s = 0; s < next->nslots; s++)
			if (next->key[s] && (!prev || book_find(prev, next->id[s]) < 0))
				dp->stat_used[next->stat[s]] = 0;
		goto out;
	}
	/* counters of servers that left the farm are free again */
	for (uint32_t s = 0; prev && s < prev->nslots; s++)
		if (prev->key[s] && book_find(next, prev->id[s]) < 0)
			dp->stat_used[prev->stat[s]] = 0;
	dp->farms[f.slot] = next;
	next = prev;
out:
	free(next);
	free(val);
	free(slot_of);
	return err;
}

int dataplane_farm_del(struct dataplane *dp, uint32_t slot)
{
	struct farm_book *b;

	if (slot >= LB_FARMS_MAX)
		return -EINVAL;
	b = dp->farms[slot];
	if (!b)
		return -ENOENT;
	if (bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.farms), &slot))
		return -errno;
	for (uint32_t s = 0; s < b->nslots; s++)
		if (b->key[s])
			dp->stat_used[b->stat[s]] = 0;
	free(b);
	dp->farms[slot] = NULL;
	return 0;
}

uint32_t dataplane_server_key(const struct dataplane *dp, uint32_t farm, uint32_t id)
{
	const struct farm_book *b = farm < LB_FARMS_MAX ? dp->farms[farm] : NULL;
	int s = b ? book_find(b, id) : -1;

	return s < 0 ? 0 : b->key[s];
}

bool dataplane_server_probe_down(const struct dataplane *dp, uint32_t farm, uint32_t id)
{
	const struct farm_book *b = farm < LB_FARMS_MAX ? dp->farms[farm] : NULL;
	int s = b ? book_find(b, id) : -1;

	return s >= 0 && (b->flags[s] & LB_SERVER_F_PROBE_DOWN);
}

/*
 * Delete every key of map for which keep(key, arg) is false. Keys are collected first and
 * deleted after the walk, since deleting while walking can restart the walk.
 */
static int map_prune(int fd, size_t key_size, bool (*keep)(const void *key, const void *arg),
		     const void *arg)
{
	size_t n = 0, cap = 0;
	char *doomed = NULL, *key = malloc(key_size), *prev = NULL;
	int err = 0;

	if (!key)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, key)) {
		if (!keep(key, arg)) {
			if (n == cap) {
				char *d = realloc(doomed, (cap = cap ? cap * 2 : 64) * key_size);

				if (!d) {
					err = -ENOMEM;
					goto out;
				}
				doomed = d;
			}
			memcpy(doomed + n++ * key_size, key, key_size);
		}
		if (!prev && !(prev = malloc(key_size))) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(prev, key, key_size);
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, doomed + i * key_size) && errno != ENOENT)
			err = -errno;
out:
	free(doomed);
	free(key);
	free(prev);
	return err;
}

static void vip_key(const struct dp_vip *v, uint16_t port, struct lb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, v->addr, sizeof(k->addr));
	k->port = htons(port);
	k->proto = v->proto;
	k->family = v->family;
}

/* Apply fn to the first `limit` keys of the VIP (its ports, then the fragment key); returns
 * how many it did before an error, which it leaves in *err. */
static uint32_t vip_keys(const struct dp_vip *v, int (*fn)(int fd, const void *k, const void *val),
			 int fd, const struct lb_vip *val, uint32_t limit, int *err)
{
	uint32_t n = v->port_hi - v->port_lo + 1 + v->frag_key, done;
	struct lb_vip_key k;

	*err = 0;
	for (done = 0; done < n && done < limit; done++) {
		vip_key(v, done < n - v->frag_key ? v->port_lo + done : 0, &k);
		if (fn(fd, &k, val)) {
			*err = -errno;
			break;
		}
	}
	return done;
}

static int vip_put(int fd, const void *k, const void *val)
{
	return bpf_map_update_elem(fd, k, val, BPF_ANY);
}

static int vip_drop(int fd, const void *k, const void *val)
{
	(void)val;
	return bpf_map_delete_elem(fd, k) && errno != ENOENT ? -1 : 0;
}

static int vip_check(const struct dp_vip *v)
{
	if ((v->family != LB_V4 && v->family != LB_V6) || !v->port_lo ||
	    v->port_lo > v->port_hi || v->farm >= LB_FARMS_MAX || v->frontend >= LB_FRONTENDS_MAX)
		return -EINVAL;
	return 0;
}

/* After any write to vips: the balancers' copies of its entries (vip_cache) are stale. */
static int vip_gen_bump(struct dataplane *dp)
{
	int fd = bpf_map__fd(dp->skel->maps.vip_gen);
	uint32_t zero = 0, gen;

	if (bpf_map_lookup_elem(fd, &zero, &gen))
		return -errno;
	gen++;
	return bpf_map_update_elem(fd, &zero, &gen, BPF_ANY) ? -errno : 0;
}

int dataplane_vip_set(struct dataplane *dp, const struct dp_vip *v)
{
	struct lb_vip val = { .farm = v->farm, .frontend = v->frontend, .flags = v->flags };
	int fd = bpf_map__fd(dp->skel->maps.vips), err, ignored, bumped;
	uint32_t done;

	err = vip_check(v);
	if (!err)
		err = vip_addrs_add(dp, v->addr);
	if (err)
		return err;
	done = vip_keys(v, vip_put, fd, &val, UINT32_MAX, &err);
	if (err) {
		/* nothing half-applied: remove the keys this call added */
		pr_warn("vip: installing key %u: %s", done, strerror(-err));
		vip_keys(v, vip_drop, fd, NULL, done, &ignored);
	}
	bumped = vip_gen_bump(dp);
	return err ?: bumped;
}

struct vip_set {
	const struct dp_vip *v;
	size_t n;
};

static bool vip_claimed(const void *key, const void *arg)
{
	const struct vip_set *set = arg;
	const struct lb_vip_key *k = key;
	uint16_t port = ntohs(k->port);

	for (size_t i = 0; i < set->n; i++) {
		const struct dp_vip *v = &set->v[i];

		if (v->family == k->family && v->proto == k->proto &&
		    !memcmp(v->addr, k->addr, sizeof(k->addr)) &&
		    (port ? port >= v->port_lo && port <= v->port_hi : v->frag_key))
			return true;
	}
	return false;
}

int dataplane_vips_sync(struct dataplane *dp, const struct dp_vip *v, size_t n)
{
	struct vip_set set = { v, n };
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = dataplane_vip_set(dp, &v[i]);
	if (err)
		return err;
	err = map_prune(bpf_map__fd(dp->skel->maps.vips), sizeof(struct lb_vip_key), vip_claimed,
			&set);
	err = vip_gen_bump(dp) ?: err;
	/* the bits of addresses left with no key go only now */
	return err ?: vip_addrs_sync(dp, v, n);
}

static int acl_key(const struct dp_acl *a, struct lb_acl_key *k)
{
	uint32_t bits = a->family == LB_V4 ? 32 : 128;

	if (a->frontend >= LB_FRONTENDS_MAX || (a->family != LB_V4 && a->family != LB_V6) ||
	    a->prefixlen > bits)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->frontend = htonl(a->frontend);
	k->prefixlen = 32 + a->prefixlen;
	for (uint32_t w = 0; w < LB_ADDR_WORDS; w++) {
		uint32_t keep = a->prefixlen > w * 32 ? a->prefixlen - w * 32 : 0;
		uint32_t mask = keep >= 32 ? UINT32_MAX : keep ? ~(UINT32_MAX >> keep) : 0;

		k->addr[w] = a->addr[w] & htonl(mask);
	}
	return 0;
}

int dataplane_acl_add(struct dataplane *dp, const struct dp_acl *a)
{
	struct lb_acl_key k;
	uint32_t one = 1;
	int err = acl_key(a, &k);

	if (err)
		return err;
	return bpf_map_update_elem(bpf_map__fd(dp->skel->maps.acl), &k, &one, BPF_ANY) ? -errno
										     : 0;
}

struct acl_set {
	const struct dp_acl *a;
	size_t n;
};

static bool acl_listed(const void *key, const void *arg)
{
	const struct acl_set *set = arg;
	struct lb_acl_key k;

	for (size_t i = 0; i < set->n; i++)
		if (!acl_key(&set->a[i], &k) && !memcmp(&k, key, sizeof(k)))
			return true;
	return false;
}

int dataplane_acl_sync(struct dataplane *dp, const struct dp_acl *a, size_t n)
{
	struct acl_set set = { a, n };
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = dataplane_acl_add(dp, &a[i]);
	if (err)
		return err;
	return map_prune(bpf_map__fd(dp->skel->maps.acl), sizeof(struct lb_acl_key), acl_listed,
			 &set);
}

int dataplane_port_add(struct dataplane *dp, int ifindex)
{
	uint32_t k = ifindex, v = ifindex;

	return bpf_map_update_elem(bpf_map__fd(dp->skel->maps.tx_ports), &k, &v, BPF_ANY) ? -errno
											 : 0;
}

/* Sum the per-CPU lb_counter values of idx in a per-CPU array. */
static int percpu_sum(const struct dataplane *dp, const struct bpf_map *map, uint32_t idx,
		      struct lb_counter *out)
{
	struct lb_counter *v = calloc(dp->ncpus, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(map), &idx, v)) {
		err = -errno;
	} else {
		for (int c = 0; c < dp->ncpus; c++) {
			out->packets += v[c].packets;
			out->bytes += v[c].bytes;
		}
	}
	free(v);
	return err;
}

int dataplane_verdicts(const struct dataplane *dp, struct lb_counter out[LB_R_MAX])
{
	int err = 0;

	for (uint32_t r = 0; r < LB_R_MAX && !err; r++)
		err = percpu_sum(dp, dp->skel->maps.verdicts, r, &out[r]);
	return err;
}

int dataplane_sticky_full(const struct dataplane *dp, uint64_t *out)
{
	uint64_t *v = calloc(dp->ncpus, sizeof(*v));
	uint32_t zero = 0;
	int err = 0;

	if (!v)
		return -ENOMEM;
	*out = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.sticky_full), &zero, v))
		err = -errno;
	for (int c = 0; c < dp->ncpus && !err; c++)
		*out += v[c];
	free(v);
	return err;
}

int dataplane_server_stats(const struct dataplane *dp, uint32_t farm, uint32_t id,
			   struct lb_counter *out)
{
	const struct farm_book *b = farm < LB_FARMS_MAX ? dp->farms[farm] : NULL;
	int s = b ? book_find(b, id) : -1;

	if (s < 0)
		return -ENOENT;
	return percpu_sum(dp, dp->skel->maps.stats_server, b->stat[s], out);
}

int dataplane_vip_stats(const struct dataplane *dp, uint32_t frontend, struct lb_counter *out)
{
	if (frontend >= LB_FRONTENDS_MAX)
		return -EINVAL;
	return percpu_sum(dp, dp->skel->maps.stats_vip, frontend, out);
}
