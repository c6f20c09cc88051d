// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A server's state from its results, HAProxy's way: `fall` consecutive failures take an up
 * server down, `rise` consecutive successes bring a down one up, and the first result of a
 * server new to the prober sets its state at once. What the API and the dataplane read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "health/health-int.h"

static const char *const state_names[] = {
	[HS_NONE] = "disabled", [HS_CHECKING] = "checking", [HS_UP] = "up", [HS_DOWN] = "down",
};

const char *target_name(const struct target *t, char buf[128])
{
	char a[INET6_ADDRSTRLEN];

	if (t->addr.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &t->addr.v6.sin6_addr, a, sizeof(a));
		snprintf(buf, 128, "%s farm %u server %u ([%s]:%u)", cfg_layer_name(t->layer),
			 t->farm, t->server, a, ntohs(t->addr.v6.sin6_port));
	} else {
		inet_ntop(AF_INET, &t->addr.v4.sin_addr, a, sizeof(a));
		snprintf(buf, 128, "%s farm %u server %u (%s:%u)", cfg_layer_name(t->layer),
			 t->farm, t->server, a, ntohs(t->addr.v4.sin_port));
	}
	return buf;
}

static void transition(struct health *h, struct target *t, enum health_state to,
		       const char *err)
{
	bool was_eligible = t->state != HS_DOWN;
	uint32_t n = to == HS_UP ? t->good : t->bad;
	char name[128], why[PROBE_ERR_LEN + 2] = "";

	if (err)
		snprintf(why, sizeof(why), ": %s", err);
	/* a first check that finds the server up changes nothing for its traffic: at the start
	 * of a big config, thousands of such lines would drown the ones that matter */
	if (t->state == HS_CHECKING)
		log_msg(to == HS_UP ? LOG_LVL_DEBUG : LOG_LVL_INFO,
			"%s: %s after its first check%s", target_name(t, name), state_names[to],
			why);
	else
		pr_info("%s: %s after %u %s check%s%s", target_name(t, name), state_names[to], n,
			to == HS_UP ? "good" : "failed", n == 1 ? "" : "s", why);
	t->state = to;
	t->since = time(NULL);
	if (h->cb.changed && was_eligible != (to != HS_DOWN))
		h->cb.changed(h->cb.arg, t->layer, t->farm, t->server, to == HS_UP);
}

void target_result(struct health *h, struct target *t, bool ok, const char *err)
{
	t->checks++;
	t->last_check = time(NULL);
	t->last_ok = ok;
	snprintf(t->err, sizeof(t->err), "%s", ok ? "" : err);
	if (ok) {
		t->good++;
		t->bad = 0;
	} else {
		t->bad++;
		t->good = 0;
	}

	if (t->state == HS_CHECKING)
		transition(h, t, ok ? HS_UP : HS_DOWN, ok ? NULL : err);
	else if (ok && t->state == HS_DOWN && t->good >= t->hf->rise)
		transition(h, t, HS_UP, NULL);
	else if (!ok && t->state == HS_UP && t->bad >= t->hf->fall)
		transition(h, t, HS_DOWN, err);
}

int target_cmp(const void *a, const void *b)
{
	const struct target *x = *(struct target *const *)a, *y = *(struct target *const *)b;

	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	if (x->farm != y->farm)
		return x->farm < y->farm ? -1 : 1;
	if (x->server != y->server)
		return x->server < y->server ? -1 : 1;
	return 0;
}

struct target *target_find(const struct health *h, enum cfg_layer l, uint32_t farm,
			   uint32_t server)
{
	struct target key = { .layer = l, .farm = farm, .server = server }, *k = &key, **found;

	if (!h->n)
		return NULL;
	found = bsearch(&k, h->t, h->n, sizeof(*h->t), target_cmp);
	return found ? *found : NULL;
}

enum health_state health_state(const struct health *h, enum cfg_layer l, uint32_t farm,
			       uint32_t server)
{
	const struct target *t = target_find(h, l, farm, server);

	return t ? t->state : HS_NONE;
}

bool health_up(const struct health *h, enum cfg_layer l, uint32_t farm, uint32_t server)
{
	return health_state(h, l, farm, server) != HS_DOWN;
}

bool health_seed_down(struct health *h, enum cfg_layer l, uint32_t farm, uint32_t server)
{
	struct target *t = target_find(h, l, farm, server);

	/* no callback: nothing was applied from its "checking" yet */
	if (!t || t->state != HS_CHECKING || t->checks)
		return false;
	t->state = HS_DOWN;
	return true;
}

static json_t *iso_time(time_t when)
{
	char buf[sizeof("2000-01-01T00:00:00Z")];
	struct tm tm;

	if (!gmtime_r(&when, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return json_string(buf);
}

json_t *health_server_json(const struct health *h, enum cfg_layer l, uint32_t farm,
			   uint32_t server)
{
	const struct target *t = target_find(h, l, farm, server);
	bool checked;

	if (!t)
		return NULL;
	checked = t->checks;
	/* "o?" takes NULL for JSON null, and every "o" reference even on failure */
	return json_pack("{s:s, s:o?, s:s?, s:s?, s:o?, s:I}",
			 "state", state_names[t->state],
			 "lastCheck", checked ? iso_time(t->last_check) : NULL,
			 "lastResult", checked ? (t->last_ok ? "ok" : "failed") : NULL,
			 "error", checked && !t->last_ok ? t->err : NULL,
			 "stateSince", iso_time(t->since),
			 "checks", (json_int_t)t->checks);
}
