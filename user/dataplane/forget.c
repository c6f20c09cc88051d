// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Write side of the sticky and connection tables: forgetting the entries that name some
 * servers (onMarkedDown "shutdown-sessions", issue 7). Each table is walked once in batches
 * (table_walk, stats.c) for all the servers together, since a walk of the default sticky
 * table copies 32 MiB; each entry found is then removed on its own, after reading it again,
 * since the balancer keeps writing the tables meanwhile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/dataplane-int.h"

/* A server key to forget and the request it counts for. */
struct doomed {
	uint32_t key;			/* lb_server.key */
	uint32_t farm;			/* its farm slot: a flow names its farm */
	struct dp_forget *req;
};

/* The keys, ascending, and what the walk found: bucket indexes (sticky) or flow keys. */
struct forget_walk {
	const struct doomed *keys;
	size_t nkeys;
	size_t size;			/* of one element of items */
	size_t n, cap;
	char *items;
	int err;
};

static int doomed_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct doomed *)a)->key, y = ((const struct doomed *)b)->key;

	return x < y ? -1 : x > y;
}

/* The first of the doomed keys equal to key, or NULL. */
static const struct doomed *doomed_find(const struct forget_walk *w, uint32_t key)
{
	size_t lo = 0, hi = w->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->keys[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->nkeys && w->keys[lo].key == key ? &w->keys[lo] : NULL;
}

/* The doomed server a flow of farm slot farm names, or NULL. */
static const struct doomed *doomed_flow(const struct forget_walk *w, uint32_t farm, uint32_t key)
{
	const struct doomed *d = doomed_find(w, key);

	for (; d && d < w->keys + w->nkeys && d->key == key; d++)
		if (d->farm == farm)
			return d;
	return NULL;
}

static void found_add(struct forget_walk *w, const void *item)
{
	char *more;

	if (w->err)
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		more = realloc(w->items, w->cap * w->size);
		if (!more) {
			w->err = -ENOMEM;
			return;
		}
		w->items = more;
	}
	memcpy(w->items + w->n++ * w->size, item, w->size);
}

static void sticky_find(void *arg, const void *idx, const void *val)
{
	const struct lb_sticky_bucket *b = val;
	struct forget_walk *w = arg;

	for (int e = 0; e < LB_STICKY_WAYS; e++) {
		if (b->ent[e].tag && doomed_find(w, b->ent[e].server)) {
			found_add(w, idx);
			return;
		}
	}
}

static void conn_find(void *arg, const void *key, const void *val)
{
	const struct lb_flow_key *k = key;
	const struct lb_conn *c = val;
	struct forget_walk *w = arg;

	if (doomed_flow(w, k->farm, c->server))
		found_add(w, key);
}

/*
 * A bucket is one value of an array: its ways naming a doomed key are cleared by writing the
 * bucket back, read again just before so that only a packet in between can lose its update
 * of another way (the race two CPUs already have on a bucket: bpf/pick.h). Sticky entries
 * record no farm: a 16-bit stamp collision could give a server of another farm the same key,
 * and such a client is picked again from its farm's ring, where it was going anyway while
 * that ring is unchanged.
 */
static int sticky_forget(int fd, const struct forget_walk *w)
{
	struct lb_sticky_bucket b;

	for (size_t i = 0; i < w->n; i++) {
		const void *idx = w->items + i * w->size;
		bool changed = false;

		if (bpf_map_lookup_elem(fd, idx, &b))
			return -errno;
		for (int e = 0; e < LB_STICKY_WAYS; e++) {
			const struct doomed *d = b.ent[e].tag ? doomed_find(w, b.ent[e].server)
							      : NULL;

			if (!d)
				continue;
			memset(&b.ent[e], 0, sizeof(b.ent[e]));
			d->req->sticky++;
			changed = true;
		}
		if (changed && bpf_map_update_elem(fd, idx, &b, BPF_EXIST))
			return -errno;
	}
	return 0;
}

/* A flow the LRU evicted, or the balancer re-picked, since the walk is left alone. */
static int conn_forget(int fd, const struct forget_walk *w)
{
	struct lb_conn c;

	for (size_t i = 0; i < w->n; i++) {
		const struct lb_flow_key *k = (const void *)(w->items + i * w->size);
		const struct doomed *d;

		if (bpf_map_lookup_elem(fd, k, &c))
			continue;
		d = doomed_flow(w, k->farm, c.server);
		if (!d)
			continue;
		if (!bpf_map_delete_elem(fd, k))
			d->req->conns++;
		else if (errno != ENOENT)
			return -errno;
	}
	return 0;
}

int dataplane_forget_servers(struct dataplane *dp, struct dp_forget *srv, size_t n)
{
	struct doomed *keys = calloc(n ? n : 1, sizeof(*keys));
	struct forget_walk sticky = { .size = sizeof(uint32_t) };
	struct forget_walk conns = { .size = sizeof(struct lb_flow_key) };
	int sfd = bpf_map__fd(dp->skel->maps.sticky), cfd = bpf_map__fd(dp->skel->maps.conns);
	size_t m = 0;
	int err;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t key = dataplane_server_key(dp, srv[i].farm, srv[i].id);

		srv[i].sticky = srv[i].conns = 0;
		if (key)
			keys[m++] = (struct doomed){ key, srv[i].farm, &srv[i] };
	}
	qsort(keys, m, sizeof(*keys), doomed_cmp);
	sticky.keys = conns.keys = keys;
	sticky.nkeys = conns.nkeys = m;
	err = m ? 0 : -ENOENT;
	err = err ?: table_walk(sfd, sizeof(uint32_t), sizeof(struct lb_sticky_bucket),
				sticky_find, &sticky);
	err = err ?: sticky.err;
	err = err ?: sticky_forget(sfd, &sticky);
	err = err ?: table_walk(cfd, sizeof(struct lb_flow_key), sizeof(struct lb_conn), conn_find,
				&conns);
	err = err ?: conns.err;
	err = err ?: conn_forget(cfd, &conns);
	free(sticky.items);
	free(conns.items);
	free(keys);
	return err;
}
