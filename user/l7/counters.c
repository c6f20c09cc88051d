// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The L7 counters (l7-int.h): per (farmId, serverId), bumped by the workers with relaxed
 * atomics, read for l7_stats. The registry also holds the farms' remembered sources: both must
 * outlive the snapshots that point at them. Neither is freed before l7_registry_free: a
 * server removed and added back keeps counting where it was (Prometheus counters never go
 * back), and the few hundred bytes per (farm, server) ever configured are not worth a
 * refcount on every snapshot free.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "limpet/hash.h"
#include "l7/policy.h"

const double l7_lat_le[L7_LAT_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, INFINITY,
};

/* uint64 key -> object, open addressing; main thread only. */
struct map {
	size_t cap, n;		/* cap: a power of 2, or 0 */
	struct map_ent {
		uint64_t key;
		void *val;	/* NULL: empty slot */
	} *ent;
};

struct l7_registry {
	struct map ctr;		/* farm << 32 | server -> struct l7_counters */
	struct map sticky;	/* farm -> struct l7_sticky */
	atomic_uint_least64_t errors[L7_ERRS];
};

static struct map_ent *map_slot(const struct map *m, uint64_t key)
{
	size_t i = lb_mix64(key) & (m->cap - 1);

	while (m->ent[i].val && m->ent[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return &m->ent[i];
}

static void *map_get(const struct map *m, uint64_t key)
{
	return m->cap ? map_slot(m, key)->val : NULL;
}

/* Kept at most half full, so probes stay short and a free slot always exists. */
static int map_put(struct map *m, uint64_t key, void *val)
{
	if (2 * (m->n + 1) > m->cap) {
		struct map bigger = { .cap = m->cap ? 2 * m->cap : 64 };

		bigger.ent = calloc(bigger.cap, sizeof(*bigger.ent));
		if (!bigger.ent)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++)
			if (m->ent[i].val)
				*map_slot(&bigger, m->ent[i].key) = m->ent[i];
		bigger.n = m->n;
		free(m->ent);
		*m = bigger;
	}
	*map_slot(m, key) = (struct map_ent){ key, val };
	m->n++;
	return 0;
}

int l7_registry_new(struct l7_registry **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void l7_registry_free(struct l7_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ctr.cap; i++)
		free(r->ctr.ent[i].val);
	for (size_t i = 0; i < r->sticky.cap; i++)
		l7_sticky_free(r->sticky.ent[i].val);
	free(r->ctr.ent);
	free(r->sticky.ent);
	free(r);
}

struct l7_counters *l7_registry_counters(struct l7_registry *r, uint32_t farm, uint32_t server)
{
	uint64_t key = (uint64_t)farm << 32 | server;
	struct l7_counters *c = map_get(&r->ctr, key);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (c && map_put(&r->ctr, key, c)) {
		free(c);
		c = NULL;
	}
	return c;
}

struct l7_sticky *l7_registry_sticky(struct l7_registry *r, uint32_t farm)
{
	struct l7_sticky *t = map_get(&r->sticky, farm);

	if (t || l7_sticky_new(&t))
		return t;
	if (map_put(&r->sticky, farm, t)) {
		l7_sticky_free(t);
		t = NULL;
	}
	return t;
}

void l7_count_error(struct l7_registry *r, enum l7_err e)
{
	atomic_fetch_add_explicit(&r->errors[e], 1, memory_order_relaxed);
}

static void bump(atomic_uint_least64_t *a, uint64_t n)
{
	atomic_fetch_add_explicit(a, n, memory_order_relaxed);
}

/* Status 0 (no response came) counts as "other" and has no latency. */
void l7_count_response(struct l7_counters *c, unsigned status, uint64_t latency_us)
{
	size_t b = 0;

	bump(&c->responses[status >= 100 && status < 600 ? status / 100 - 1 : L7_COTHER], 1);
	if (!status)
		return;
	while (b < L7_LAT_BUCKETS - 1 && latency_us > l7_lat_le[b] * 1e6)
		b++;
	bump(&c->lat[b], 1);
	bump(&c->lat_sum_us, latency_us);
}

static uint64_t get(const atomic_uint_least64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

/* The +Inf bucket is "total" (JSON has no infinity): le and count hold the finite bounds. */
static json_t *latency_json(const struct l7_counters *c)
{
	json_t *le = json_array(), *count = json_array();
	uint64_t cum = 0;

	for (size_t b = 0; b < L7_LAT_BUCKETS; b++) {
		cum += get(&c->lat[b]);
		if (b == L7_LAT_BUCKETS - 1)
			break;
		json_array_append_new(le, json_real(l7_lat_le[b]));
		json_array_append_new(count, json_integer(cum));
	}
	return json_pack("{s:o, s:o, s:f, s:I}", "le", le, "count", count, "sum",
			 get(&c->lat_sum_us) / 1e6, "total", (json_int_t)cum);
}

static json_t *server_json(const struct l7_server *s)
{
	static const char *const cls[L7_CLASSES] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };
	const struct l7_counters *c = s->ctr;
	json_t *resp = json_object();
	int64_t active = atomic_load_explicit(&c->active, memory_order_relaxed);

	for (size_t i = 0; i < L7_CLASSES; i++)
		json_object_set_new(resp, cls[i], json_integer(get(&c->responses[i])));
	return json_pack("{s:I, s:I, s:I, s:o, s:o}", "serverId", (json_int_t)s->id, "requests",
			 (json_int_t)get(&c->requests), "active", (json_int_t)(active > 0 ? active : 0),
			 "responses", resp, "latency", latency_json(c));
}

json_t *l7_registry_json(struct l7_registry *r, const struct l7_snap *snap,
			 const atomic_uint_least64_t conns[3])
{
	static const char *const err_name[L7_ERRS] = { "400", "408", "414", "431",
						       "502", "503", "504" };
	json_t *farms = json_array(), *errors = json_object();

	for (size_t i = 0; snap && i < snap->nfarms; i++) {
		const struct l7_farm *f = &snap->farms[i];
		json_t *servers = json_array();

		for (size_t j = 0; j < f->nservers; j++)
			json_array_append_new(servers, server_json(&f->servers[j]));
		json_array_append_new(farms, json_pack("{s:I, s:o}", "farmId", (json_int_t)f->id,
						       "server", servers));
	}
	for (size_t e = 0; e < L7_ERRS; e++)
		json_object_set_new(errors, err_name[e], json_integer(get(&r->errors[e])));
	return json_pack("{s:{s:I, s:I, s:I}, s:o, s:o}", "connections",
			 "client", (json_int_t)(conns ? get(&conns[0]) : 0),
			 "backend", (json_int_t)(conns ? get(&conns[1]) : 0),
			 "backendIdle", (json_int_t)(conns ? get(&conns[2]) : 0),
			 "farm", farms, "errors", errors);
}
