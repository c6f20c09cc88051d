// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Read side of the sticky and connection tables: how many live entries name each server.
 * Tables are copied out with BPF_MAP_LOOKUP_BATCH, WALK_BATCH elements per syscall: the
 * default sticky table is 2^19 buckets, and one syscall per bucket costs several times more.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/dataplane-int.h"
#include "limpet/hash.h"

#define WALK_BATCH 4096

/* A server key and the stickiness timeout an entry naming it is aged by. */
struct key_timeout {
	uint32_t key;
	uint32_t timeout;
};

static int key_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct key_timeout *)a)->key, y = ((const struct key_timeout *)b)->key;

	return x < y ? -1 : x > y;
}

/* Index of key in the census, or -1. */
static long census_find(const struct dp_census *c, uint32_t key)
{
	size_t lo = 0, hi = c->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->keys[mid].key == key)
			return mid;
		if (c->keys[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

uint32_t dp_census_count(const struct dp_census *c, uint32_t key)
{
	long i = census_find(c, key);

	return i < 0 ? 0 : c->keys[i].count;
}

void dp_census_free(struct dp_census *c)
{
	free(c->keys);
	memset(c, 0, sizeof(*c));
}

/*
 * Fill c->keys with every current server key, ascending, and (if asked) timeouts[i] with the
 * timeout of keys[i]: a key two farms share (a stamp collision) takes the longer one, so no
 * live entry is missed.
 */
static int census_keys(const struct dataplane *dp, struct dp_census *c, uint32_t **timeouts)
{
	struct key_timeout *kt;
	size_t n = 0, m = 0;

	for (int f = 0; f < LB_FARMS_MAX; f++)
		for (uint32_t s = 0; dp->farms[f] && s < dp->farms[f]->nslots; s++)
			n += !!dp->farms[f]->key[s];
	kt = calloc(n ? n : 1, sizeof(*kt));
	c->keys = calloc(n ? n : 1, sizeof(*c->keys));
	if (timeouts)
		*timeouts = calloc(n ? n : 1, sizeof(**timeouts));
	if (!kt || !c->keys || (timeouts && !*timeouts)) {
		free(kt);
		return -ENOMEM;
	}
	n = 0;
	for (int f = 0; f < LB_FARMS_MAX; f++) {
		const struct farm_book *b = dp->farms[f];

		for (uint32_t s = 0; b && s < b->nslots; s++)
			if (b->key[s])
				kt[n++] = (struct key_timeout){ b->key[s], b->timeout };
	}
	qsort(kt, n, sizeof(*kt), key_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && c->keys[m - 1].key == kt[i].key) {
			if (timeouts && kt[i].timeout > (*timeouts)[m - 1])
				(*timeouts)[m - 1] = kt[i].timeout;
			continue;
		}
		if (timeouts)
			(*timeouts)[m] = kt[i].timeout;
		c->keys[m++].key = kt[i].key;
	}
	c->nkeys = m;
	free(kt);
	return 0;
}

/* Now on the clock the balancer stamps entries with (bpf/pick.h now_sec()). */
static int balancer_now(const struct dataplane *dp, uint32_t *now)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);

	if (bpf_prog_test_run_opts(bpf_program__fd(dp->skel->progs.limpet_clock), &o))
		return -errno;
	*now = o.retval;
	return 0;
}

/* What counting one table needs. */
struct census_walk {
	const struct dataplane *dp;
	struct dp_census *c;
	const uint32_t *timeouts;	/* sticky: per c->keys[i] */
	uint32_t now;			/* sticky */
};

static void census_add(struct dp_census *c, long i)
{
	if (i < 0) {
		c->stale++;
		return;
	}
	c->keys[i].count++;
	c->entries++;
}

static void sticky_count(void *arg, const void *key, const void *val)
{
	const struct lb_sticky_bucket *b = val;
	struct census_walk *w = arg;

	(void)key;
	for (int e = 0; e < LB_STICKY_WAYS; e++) {
		uint32_t seen = b->ent[e].seen;
		long i;

		if (!b->ent[e].tag)
			continue;
		i = census_find(w->c, b->ent[e].server);
		/* expired (an entry stamped after now, during the walk, is live) */
		if (i >= 0 && seen <= w->now && w->now - seen > w->timeouts[i])
			i = -1;
		census_add(w->c, i);
	}
}

static void conn_count(void *arg, const void *key, const void *val)
{
	const struct lb_flow_key *k = key;
	const struct lb_conn *v = val;
	struct census_walk *w = arg;
	const struct farm_book *b = k->farm < LB_FARMS_MAX ? w->dp->farms[k->farm] : NULL;
	uint32_t slot = LB_SERVER_KEY_SLOT(v->server);

	/* the flow names its farm: the server must be one of that farm's */
	if (b && slot < b->nslots && b->key[slot] == v->server)
		census_add(w->c, census_find(w->c, v->server));
	else
		census_add(w->c, -1);
}

int table_walk(int fd, size_t key_size, size_t val_size,
	       void (*fn)(void *arg, const void *key, const void *val), void *arg)
{
	char *keys = calloc(WALK_BATCH, key_size), *vals = calloc(WALK_BATCH, val_size);
	uint32_t batch, n;	/* the batch token: a u32 for arrays and hashes alike */
	void *in = NULL;
	int err = keys && vals ? 0 : -ENOMEM;

	while (!err) {
		n = WALK_BATCH;
		err = bpf_map_lookup_batch(fd, in, &batch, keys, vals, &n, NULL) ? -errno : 0;
		if (err && err != -ENOENT)
			break;
		for (uint32_t i = 0; i < n; i++)
			fn(arg, keys + i * key_size, vals + i * val_size);
		in = &batch;
	}
	free(keys);
	free(vals);
	return err == -ENOENT ? 0 : err;	/* ENOENT: the walk reached the end */
}

int dataplane_sticky_census(const struct dataplane *dp, struct dp_census *out)
{
	uint32_t *timeouts = NULL;
	struct census_walk w = { .dp = dp, .c = out };
	int err;

	memset(out, 0, sizeof(*out));
	out->capacity = (uint64_t)bpf_map__max_entries(dp->skel->maps.sticky) * LB_STICKY_WAYS;
	err = census_keys(dp, out, &timeouts);
	if (!err)
		err = balancer_now(dp, &w.now);
	w.timeouts = timeouts;
	if (!err)
		err = table_walk(bpf_map__fd(dp->skel->maps.sticky), sizeof(uint32_t),
				 sizeof(struct lb_sticky_bucket), sticky_count, &w);
	free(timeouts);
	if (err)
		dp_census_free(out);
	return err;
}

/* Connections do not age: the balancer honours one for as long as the LRU keeps it. */
int dataplane_conn_census(const struct dataplane *dp, struct dp_census *out)
{
	struct census_walk w = { .dp = dp, .c = out };
	int err;

	memset(out, 0, sizeof(*out));
	out->capacity = bpf_map__max_entries(dp->skel->maps.conns);
	err = census_keys(dp, out, NULL);
	if (!err)
		err = table_walk(bpf_map__fd(dp->skel->maps.conns), sizeof(struct lb_flow_key),
				 sizeof(struct lb_conn), conn_count, &w);
	if (err)
		dp_census_free(out);
	return err;
}

/* The whole sticky table, copied out bucket by bucket (table_walk hands them in order). */
struct table_copy {
	struct lb_sticky_bucket *b;
	uint32_t cap;
};

static void bucket_copy(void *arg, const void *key, const void *val)
{
	struct table_copy *t = arg;
	uint32_t idx = *(const uint32_t *)key;

	if (idx < t->cap)
		memcpy(&t->b[idx], val, sizeof(t->b[idx]));
}

/* Whether bucket b holds tag naming a server of the farm book fb. */
static bool bucket_holds(const struct lb_sticky_bucket *b, uint32_t tag, const struct farm_book *fb)
{
	for (int e = 0; e < LB_STICKY_WAYS; e++) {
		uint32_t slot = LB_SERVER_KEY_SLOT(b->ent[e].server);

		if (b->ent[e].tag == tag && slot < fb->nslots && fb->key[slot] == b->ent[e].server)
			return true;
	}
	return false;
}

int dataplane_sticky_recorded(const struct dataplane *dp, uint32_t farm,
			      const uint32_t (*src)[LB_ADDR_WORDS], size_t n, size_t *recorded)
{
	const struct farm_book *fb = farm < LB_FARMS_MAX ? dp->farms[farm] : NULL;
	uint32_t buckets = bpf_map__max_entries(dp->skel->maps.sticky), mask = buckets - 1;
	struct table_copy t = { .cap = buckets };
	int err;

	*recorded = 0;
	if (!fb)
		return -ENOENT;
	t.b = calloc(buckets, sizeof(*t.b));
	if (!t.b)
		return -ENOMEM;
	err = table_walk(bpf_map__fd(dp->skel->maps.sticky), sizeof(uint32_t), sizeof(*t.b),
			 bucket_copy, &t);
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t sh = lb_sticky_hash(src[i], fb->seed, farm);
		uint32_t tag = lb_sticky_tag(sh), idx = sh & mask;

		*recorded += bucket_holds(&t.b[idx], tag, fb) ||
			     bucket_holds(&t.b[lb_sticky_alt(idx, tag, mask)], tag, fb);
	}
	free(t.b);
	return err;
}
