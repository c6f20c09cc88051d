// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which server a request goes to (l7-int.h's l7_pick): a valid cookie, else a remembered
 * source (sourceIp, or balance source), else the farm's balance over the eligible servers.
 * Eligibility comes with the snapshot, which is rebuilt at every change, so a down or
 * disabled server is skipped at once; a cookie client carries its server, so weight changes
 * and a returning server move no cookie client (DESIGN.md section 3).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "limpet/abi.h"
#include "limpet/hash.h"
#include "maglev/maglev.h"
#include "l7/policy.h"

struct l7_farm_policy {
	size_t index;			/* the farm's slot in a pick state */
	size_t neligible;
	uint64_t seed;			/* hashSeed: source and uri hash as the XDP path does */
	uint32_t ring_size;		/* source, uri: the farm's Maglev table, as XDP builds it */
	uint16_t *ring;			/* server indices (< LB_FARM_SERVERS_MAX, as in XDP's) */
	uint32_t *by_token;		/* cookie: server indices sorted by token */
	uint32_t *by_id;		/* remembered sources: server indices sorted by serverId */
	struct l7_sticky *sticky;	/* the farm's remembered sources (registry-owned), or NULL */
	uint32_t timeout;		/* of a remembered source, seconds */
};

/* A worker's positions: smooth weighted roundrobin's current weights, leastconn's rotation. */
struct farm_state {
	int64_t *cw;
	size_t next;
};

struct l7_pick_state {
	size_t nfarms;
	struct farm_state *farm;
	int64_t cw[];
};

/* The farm's server indexes: indices sorted by a key inside struct l7_server, bisected. */
struct index_def {
	size_t key_off;		/* of the key in struct l7_server */
	int (*cmp)(const void *key, const struct l7_server *s);
};

static int token_cmp(const void *token, const struct l7_server *s)
{
	return memcmp(token, s->cookie, L7_COOKIE_LEN);
}

static int id_cmp(const void *id, const struct l7_server *s)
{
	uint32_t x = *(const uint32_t *)id;

	return (x > s->id) - (x < s->id);
}

static const struct index_def token_index = { offsetof(struct l7_server, cookie), token_cmp };
static const struct index_def id_index = { offsetof(struct l7_server, id), id_cmp };

struct sort_ctx {
	const struct l7_farm *f;
	const struct index_def *d;
};

static int sort_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	const char *sa = (const char *)&c->f->servers[*(const uint32_t *)a];

	return c->d->cmp(sa + c->d->key_off, &c->f->servers[*(const uint32_t *)b]);
}

static uint32_t *index_build(const struct l7_farm *f, const struct index_def *d)
{
	uint32_t *idx = calloc(f->nservers ? f->nservers : 1, sizeof(*idx));
	struct sort_ctx c = { f, d };

	if (!idx)
		return NULL;
	for (size_t i = 0; i < f->nservers; i++)
		idx[i] = i;
	qsort_r(idx, f->nservers, sizeof(*idx), sort_cmp, &c);
	return idx;
}

static const struct l7_server *index_find(const struct l7_farm *f, const uint32_t *idx,
					  const struct index_def *d, const void *key)
{
	size_t lo = 0, hi = f->nservers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = d->cmp(key, &f->servers[idx[mid]]);

		if (!c)
			return &f->servers[idx[mid]];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The same table as user/dataplane's farm_compile: same ids, weights, eligibility, seed, size.
 * An ineligible server's entries are handed to eligible ones (maglev.h), so with any server
 * eligible no entry is MAGLEV_ENTRY_NONE. */
static int ring_build(struct l7_farm_policy *p, const struct l7_farm *f, uint32_t table_size)
{
	struct maglev_server *ms = calloc(f->nservers ? f->nservers : 1, sizeof(*ms));
	uint32_t *table;
	int err = -ENOMEM;

	_Static_assert(LB_FARM_SERVERS_MAX <= UINT16_MAX, "ring entries are uint16_t");
	p->ring_size = table_size ? table_size : LB_RING_DEFAULT;
	table = calloc(p->ring_size, sizeof(*table));
	p->ring = calloc(p->ring_size, sizeof(*p->ring));
	if (!ms || !table || !p->ring)
		goto out;
	for (size_t i = 0; i < f->nservers; i++)
		ms[i] = (struct maglev_server){ f->servers[i].id, f->servers[i].weight,
						f->servers[i].eligible };
	err = maglev_build(ms, f->nservers, p->seed, p->ring_size, table);
	for (uint32_t e = 0; !err && p->neligible && e < p->ring_size; e++)
		p->ring[e] = table[e];
out:
	free(ms);
	free(table);
	return err;
}

/* Sources are remembered under sourceIp stickiness, and under balance source without
 * stickiness as the XDP path does (apply.c's stickiness_of): there the table only keeps a
 * client where the ring sent it across weight changes and a returning server. */
static bool remembers(const struct l7_farm *f)
{
	return f->stickiness == STICK_SOURCE_IP ||
	       (f->balance == BAL_SOURCE && f->stickiness == STICK_NULL);
}

void l7_farm_policy_free(struct l7_farm_policy *p)
{
	if (!p)
		return;
	free(p->ring);
	free(p->by_token);
	free(p->by_id);
	free(p);
}

int l7_farm_policy_new(struct l7_farm *f, const struct cfg_farm *cf, uint64_t seed,
		       size_t index, struct l7_registry *reg)
{
	struct l7_farm_policy *p = calloc(1, sizeof(*p));
	int err = 0;

	if (!p)
		return -ENOMEM;
	p->index = index;
	p->seed = seed;
	for (size_t i = 0; i < f->nservers; i++)
		p->neligible += f->servers[i].eligible;
	if (f->balance == BAL_SOURCE || f->balance == BAL_URI)
		err = ring_build(p, f, cf->table_size);
	if (!err && f->stickiness == STICK_COOKIE && !(p->by_token = index_build(f, &token_index)))
		err = -ENOMEM;
	if (!err && remembers(f)) {
		p->timeout = cf->stickiness_timeout ? cf->stickiness_timeout
						    : LB_STICKY_TIMEOUT_DEFAULT;
		p->by_id = index_build(f, &id_index);
		p->sticky = l7_registry_sticky(reg, f->id);
		if (!p->by_id || !p->sticky)
			err = -ENOMEM;
	}
	if (err) {
		l7_farm_policy_free(p);
		return err;
	}
	f->policy = p;
	return 0;
}

struct l7_pick_state *l7_pick_state_new(const struct l7_snap *s)
{
	size_t n = 0;
	struct l7_pick_state *ps;

	for (size_t i = 0; i < s->nfarms; i++)
		n += s->farms[i].nservers;
	ps = calloc(1, sizeof(*ps) + n * sizeof(ps->cw[0]));
	if (!ps)
		return NULL;
	ps->farm = calloc(s->nfarms ? s->nfarms : 1, sizeof(*ps->farm));
	if (!ps->farm) {
		free(ps);
		return NULL;
	}
	ps->nfarms = s->nfarms;
	n = 0;
	for (size_t i = 0; i < s->nfarms; i++) {
		ps->farm[i].cw = ps->cw + n;
		n += s->farms[i].nservers;
	}
	return ps;
}

void l7_pick_state_free(struct l7_pick_state *ps)
{
	if (ps)
		free(ps->farm);
	free(ps);
}

static bool usable(const struct l7_server *s, const struct l7_server *avoid)
{
	return s->eligible && s != avoid;
}

/* nginx's smooth weighted roundrobin: weights 5,1,1 give a a b a c a a. */
static const struct l7_server *pick_roundrobin(const struct l7_farm *f, struct farm_state *st,
					       const struct l7_server *avoid)
{
	const struct l7_server *best = NULL;
	int64_t total = 0;
	size_t bi = 0;

	for (size_t i = 0; i < f->nservers; i++) {
		if (!usable(&f->servers[i], avoid))
			continue;
		st->cw[i] += f->servers[i].weight;
		total += f->servers[i].weight;
		if (!best || st->cw[i] > st->cw[bi]) {
			best = &f->servers[i];
			bi = i;
		}
	}
	if (best)
		st->cw[bi] -= total;
	return best;
}

/* Fewest requests in flight per unit of weight; the scan starts one further each time, so
 * ties take turns. */
static const struct l7_server *pick_leastconn(const struct l7_farm *f, struct farm_state *st,
					      const struct l7_server *avoid)
{
	const struct l7_server *best = NULL;
	int64_t best_active = 0;
	size_t start;

	if (!f->nservers)
		return NULL;
	start = st->next++ % f->nservers;
	for (size_t k = 0; k < f->nservers; k++) {
		const struct l7_server *s = &f->servers[(start + k) % f->nservers];
		int64_t a;

		if (!usable(s, avoid))
			continue;
		a = atomic_load_explicit(&s->ctr->active, memory_order_relaxed);
		if (a < 0)
			a = 0;
		if (!best || a * best->weight < best_active * s->weight) {
			best = s;
			best_active = a;
		}
	}
	return best;
}

/* limpet has no maxconn: "first" is the first eligible server in config order. */
static const struct l7_server *pick_first(const struct l7_farm *f, const struct l7_server *avoid)
{
	for (size_t i = 0; i < f->nservers; i++)
		if (usable(&f->servers[i], avoid))
			return &f->servers[i];
	return NULL;
}

/* The ring entry of hash, or (avoid) the next entry naming another server. */
static const struct l7_server *pick_ring(const struct l7_farm *f, uint64_t hash,
					 const struct l7_server *avoid)
{
	const struct l7_farm_policy *p = f->policy;
	size_t left = p->neligible - (avoid && avoid->eligible);
	uint32_t idx = hash % p->ring_size;

	if (!p->neligible || !left)
		return NULL;
	for (uint32_t k = 0; k < p->ring_size; k++, idx = (idx + 1) % p->ring_size)
		if (usable(&f->servers[p->ring[idx]], avoid))
			return &f->servers[p->ring[idx]];
	return NULL;
}

/* A keyed hash of the path, mixed 8 bytes at a time (hash.h's finaliser). */
static uint64_t path_hash(const char *s, size_t n, uint64_t seed)
{
	uint64_t h = lb_mix64(seed ^ n);

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = 0;

		memcpy(&w, s + i, n - i < 8 ? n - i : 8);
		h = lb_mix64(h ^ w);
	}
	return h;
}

static const struct l7_server *pick_balance(const struct l7_farm *f, struct l7_pick_state *ps,
					    const struct l7_req_info *ri,
					    const struct l7_client *c, const struct l7_server *avoid)
{
	struct farm_state *st = &ps->farm[f->policy->index];

	switch (f->balance) {
	case BAL_FIRST:
		return pick_first(f, avoid);
	case BAL_LEASTCONN:
		return pick_leastconn(f, st, avoid);
	case BAL_SOURCE:
		return pick_ring(f, c->hash, avoid);
	case BAL_URI:
		return pick_ring(f, path_hash(ri->path, ri->path ? ri->path_len : 0, f->policy->seed),
				 avoid);
	case BAL_ROUNDROBIN:
		break;
	}
	return pick_roundrobin(f, st, avoid);
}

const struct l7_server *l7_pick(const struct l7_farm *f, struct l7_pick_state *ps,
				const struct l7_req_info *ri, const struct l7_server *avoid,
				bool *set_cookie)
{
	const struct l7_farm_policy *p = f->policy;
	const struct l7_server *s;
	struct l7_client c;
	uint32_t id;

	*set_cookie = false;
	/* tokens are MACs: a bisect that stops at the first byte differing from some token
	 * tells nothing about the secret, so no constant-time compare is needed */
	if (f->stickiness == STICK_COOKIE && ri->cookie && ri->cookie_len == L7_COOKIE_LEN) {
		s = index_find(f, p->by_token, &token_index, ri->cookie);
		if (s && usable(s, avoid))
			return s;
	}
	c.family = l7_addr_words(ri->client, c.w, NULL);
	c.hash = lb_hash_addr(c.w, p->seed);
	if (p->sticky && l7_sticky_get(p->sticky, &c, p->timeout, &id)) {
		s = index_find(f, p->by_id, &id_index, &id);
		if (s && usable(s, avoid))
			return s;
	}
	s = pick_balance(f, ps, ri, &c, avoid);
	if (s && p->sticky)
		l7_sticky_set(p->sticky, &c, p->timeout, s->id);
	*set_cookie = s && f->stickiness == STICK_COOKIE;
	return s;
}
