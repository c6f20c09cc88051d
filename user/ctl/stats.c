// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* stats: the dataplane's counters (GET …/stats) as tables, and the L7 proxy's. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "ctl/cmd.h"
#include "ctl/print.h"
#include "ctl/table.h"

/* Print t (taken over; NULL: no memory), after a blank line unless it is the first. */
static int emit(struct table *t, bool first)
{
	int err;

	if (!t)
		return -ENOMEM;
	if (!first)
		putchar('\n');
	err = table_print(t, stdout);
	table_free(t);
	return err;
}

/* Every verdict reason, in the dataplane's order: a drop is never hidden. */
static struct table *verdicts(json_t *stats)
{
	static const char *const headers[] = { "VERDICT", "PACKETS", NULL };
	struct table *t = table_new(headers);
	const char *reason;
	json_t *n;

	if (t)
		json_object_foreach(json_object_get(stats, "verdicts"), reason, n) {
			table_cell(t, "%s", reason);
			table_json(t, n);
		}
	return t;
}

/* The sticky table's RATED (sources it records without a hole) and FULL (sources it could not
 * record: both their buckets held live clients); "-" for the connection table, which has
 * neither. */
static struct table *tables(json_t *stats)
{
	static const char *const headers[] = { "TABLE", "ENTRIES", "CAPACITY", "RATED", "FULL",
					       NULL };
	static const char *const names[] = { "sticky", "connections" };
	struct table *t = table_new(headers);

	for (size_t i = 0; t && i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *tab = json_object_get(stats, names[i]);

		table_cell(t, "%s", names[i]);
		table_json(t, json_object_get(tab, "entries"));
		table_json(t, json_object_get(tab, "capacity"));
		table_json(t, json_object_get(tab, "rated"));
		table_json(t, json_object_get(tab, "full"));
	}
	return t;
}

static struct table *frontends(json_t *stats)
{
	static const char *const headers[] = { "LAYER", "FRONTEND", "PACKETS", "BYTES", NULL };
	struct table *t = table_new(headers);
	json_t *fe;
	size_t i;

	if (t)
		json_array_foreach(json_object_get(stats, "frontends"), i, fe) {
			table_json(t, json_object_get(fe, "layer"));
			table_json(t, json_object_get(fe, "frontendId"));
			table_json(t, json_object_get(fe, "packets"));
			table_json(t, json_object_get(fe, "bytes"));
		}
	return t;
}

/* A row per farm, its packets and bytes the sum of its servers', then a row per server. */
static struct table *farms(json_t *stats)
{
	static const char *const headers[] = { "LAYER",	 "FARM",   "SERVER",   "PACKETS", "BYTES",
					       "STICKY", "ELIGIBLE", "STATE",   NULL };
	struct table *t = table_new(headers);
	json_t *farm, *srv, *layer, *id;
	size_t i, j;

	if (!t)
		return NULL;
	json_array_foreach(json_object_get(stats, "farms"), i, farm) {
		json_t *servers = json_object_get(farm, "servers");
		long long packets = 0, bytes = 0;

		layer = json_object_get(farm, "layer");
		id = json_object_get(farm, "farmId");
		json_array_foreach(servers, j, srv) {
			packets += json_integer_value(json_object_get(srv, "packets"));
			bytes += json_integer_value(json_object_get(srv, "bytes"));
		}
		table_json(t, layer);
		table_json(t, id);
		table_cell(t, "-");
		table_cell(t, "%lld", packets);
		table_cell(t, "%lld", bytes);
		table_json(t, json_object_get(farm, "stickyEntries"));
		table_cell(t, "-");
		table_cell(t, "-");
		json_array_foreach(servers, j, srv) {
			table_json(t, layer);
			table_json(t, id);
			table_json(t, json_object_get(srv, "serverId"));
			table_json(t, json_object_get(srv, "packets"));
			table_json(t, json_object_get(srv, "bytes"));
			table_json(t, json_object_get(srv, "stickyEntries"));
			table_json(t, json_object_get(srv, "eligible"));
			table_json(t, json_object_get(srv, "state"));
		}
	}
	return t;
}

/* The L7 proxy's servers (stats.l7.farm): requests sent, in flight, responses by class. */
static struct table *l7_servers(json_t *stats)
{
	static const char *const headers[] = { "LAYER", "FARM", "SERVER", "REQUESTS", "ACTIVE",
					       "1XX",	"2XX",	"3XX",	  "4XX",      "5XX",
					       "OTHER", NULL };
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };
	struct table *t = table_new(headers);
	json_t *farm, *srv;
	size_t i, j;

	if (!t)
		return NULL;
	json_array_foreach(json_object_get(json_object_get(stats, "l7"), "farm"), i, farm) {
		json_array_foreach(json_object_get(farm, "server"), j, srv) {
			table_cell(t, "http");
			table_json(t, json_object_get(farm, "farmId"));
			table_json(t, json_object_get(srv, "serverId"));
			table_json(t, json_object_get(srv, "requests"));
			table_json(t, json_object_get(srv, "active"));
			for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]); k++)
				table_json(t, json_object_get(json_object_get(srv, "responses"),
							      classes[k]));
		}
	}
	return t;
}

/* The L7 proxy's connections by side and its own error responses by status. */
static struct table *l7_totals(json_t *stats)
{
	static const char *const headers[] = { "L7", "COUNT", NULL };
	static const char *const parts[] = { "connections", "errors" };
	struct table *t = table_new(headers);
	const char *key;
	json_t *n;

	if (!t)
		return NULL;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		json_object_foreach(json_object_get(json_object_get(stats, "l7"), parts[i]), key,
				    n) {
			table_cell(t, "%s.%s", parts[i], key);
			table_json(t, n);
		}
	}
	return t;
}

int do_stats(struct ctx *ctx, int argc, char **argv)
{
	static struct table *(*const parts[])(json_t *) = { verdicts, tables, frontends, farms };
	static struct table *(*const l7_parts[])(json_t *) = { l7_servers, l7_totals };
	json_t *stats = NULL;
	int err;

	if (argc)
		return usage_err(ctx, "unexpected argument '%s'", argv[0]);
	err = svc_call(ctx, "GET", NULL, &stats, "/stats");
	if (err)
		return err;
	if (ctx->json)
		err = print_json(stats, stdout);
	for (size_t i = 0; !ctx->json && !err && i < sizeof(parts) / sizeof(parts[0]); i++)
		err = emit(parts[i](stats), i == 0);
	/* only for a service with http farms: the others' tables stay as they were */
	if (json_array_size(json_object_get(json_object_get(stats, "l7"), "farm")))
		for (size_t i = 0; !ctx->json && !err && i < sizeof(l7_parts) / sizeof(l7_parts[0]);
		     i++)
			err = emit(l7_parts[i](stats), false);
	json_decref(stats);
	return err;
}
