// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * frontend, farm and server commands. `list` renders from one GET of the staged config (the
 * document resource GETs read too): one request, one consistent snapshot, every field at hand;
 * `server list` also asks GET …/stats for the state of the running servers (its STATE column,
 * and the "state" of each server in --json, as their GETs have it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/args.h"
#include "ctl/cmd.h"
#include "ctl/print.h"
#include "ctl/table.h"

/* displayName may read as a number; a frontend's port is a port list ("80,443") */
static const char *const frontend_strings[] = { "port", "displayName", NULL };
static const char *const name_strings[] = { "displayName", NULL };

static const struct column frontend_columns[] = {
	{ "ID", "frontendId" },	  { "ADDRESS", "address" },   { "PORT", "port" },
	{ "FARM", "defaultFarmId" }, { "DISABLED", "disabled" }, { "NAME", "displayName" },
	{ NULL, NULL },
};

static const struct column farm_columns[] = {
	{ "ID", "farmId" },		{ "BALANCE", "balance" }, { "STICKINESS", "stickiness" },
	{ "FORWARDING", "forwarding" }, { "PROBE", "probe.type" }, { "SERVERS", "#server" },
	{ "NAME", "displayName" },	{ NULL, NULL },
};

/* STATE is not the config's: list_states() adds it */
static const struct column server_columns[] = {
	{ "ID", "serverId" },	 { "ADDRESS", "address" }, { "PORT", "port" },
	{ "WEIGHT", "weight" },	 { "STATUS", "status" },   { "STATE", "state" },
	{ "BACKUP", "backup" },	 { "PROBE", "probe" },	   { "NAME", "displayName" },
	{ NULL, NULL },
};

const struct res_type res_frontend = { .name = "frontend", .strings = frontend_strings,
				       .columns = frontend_columns };
const struct res_type res_farm = { .name = "farm", .strings = name_strings,
				   .columns = farm_columns };
const struct res_type res_server = { .name = "server", .in_farm = true, .strings = name_strings,
				     .columns = server_columns };

struct res_args {
	const char *layer;	/* NULL: every layer (list) */
	uint32_t farm, id;
	json_t *fields;
};

enum res_want {
	WANT_ID = 1,
	WANT_FIELDS = 2,	/* FIELD=VALUE... may follow */
	NEED_FIELDS = 4,	/* at least one */
	ANY_LAYER = 8,		/* LAYER may be left out */
};

/* LAYER [FARM] [ID] [FIELD=VALUE...], as want and the resource kind say */
static int res_args(const struct ctx *ctx, int argc, char **argv, unsigned want,
		    struct res_args *a)
{
	const struct res_type *rt = ctx->cmd->res;
	int i = 0, err;

	*a = (struct res_args){ 0 };
	if (!(want & ANY_LAYER) || argc) {
		err = arg_layer(ctx, i < argc ? argv[i] : NULL, &a->layer);
		if (err)
			return err;
		i++;
	}
	if (rt->in_farm) {
		err = arg_id(ctx, "FARM", i < argc ? argv[i] : NULL, &a->farm);
		if (err)
			return err;
		i++;
	}
	if (want & WANT_ID) {
		err = arg_id(ctx, "ID", i < argc ? argv[i] : NULL, &a->id);
		if (err)
			return err;
		i++;
	}
	if (!(want & WANT_FIELDS)) {
		if (i < argc)
			return usage_err(ctx, "unexpected argument '%s'", argv[i]);
		return 0;
	}
	if (i == argc && (want & NEED_FIELDS))
		return usage_err(ctx, "missing FIELD=VALUE: nothing to change");
	return arg_fields(ctx, rt, argc - i, argv + i, &a->fields);
}

/* The API path of the resource (with_id) or of its collection. */
static void res_path(char *buf, size_t len, const struct res_type *rt, const struct res_args *a,
		     bool with_id)
{
	int n;

	if (rt->in_farm)
		n = snprintf(buf, len, "/%s/farm/%u/server", a->layer, a->farm);
	else
		n = snprintf(buf, len, "/%s/%s", a->layer, rt->name);
	if (with_id)
		snprintf(buf + n, len - n, "/%u", a->id);
}

/* The field a column shows: "a.b" nested, "#a" the size of array a. */
static void table_column(struct table *t, const json_t *res, const char *field)
{
	const char *dot = strchr(field, '.');
	char key[64];

	if (field[0] == '#') {
		table_cell(t, "%zu", json_array_size(json_object_get(res, field + 1)));
		return;
	}
	if (!dot) {
		table_json(t, json_object_get(res, field));
		return;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(dot - field), field);
	table_json(t, json_object_get(json_object_get(res, key), dot + 1));
}

static struct table *list_table(const struct res_type *rt)
{
	const char *headers[16];
	size_t n = 0;

	if (!rt->in_farm)
		headers[n++] = "LAYER";
	for (const struct column *c = rt->columns; c->header; c++)
		headers[n++] = c->header;
	headers[n] = NULL;
	return table_new(headers);
}

static void list_rows(struct table *t, const struct res_type *rt, const char *layer,
		      const json_t *items)
{
	json_t *res;
	size_t i;

	json_array_foreach(items, i, res) {
		if (!rt->in_farm)
			table_cell(t, "%s", layer);
		for (const struct column *c = rt->columns; c->header; c++)
			table_column(t, res, c->field);
	}
}

/* A new reference to an array of the document, an empty one if it is absent. */
static json_t *array_ref(json_t *items)
{
	return items ? json_incref(items) : json_array();
}

static json_t *layer_items(const json_t *doc, const char *layer, const struct res_type *rt)
{
	return array_ref(json_object_get(json_object_get(doc, layer), rt->name));
}

/*
 * What list shows, as the staged config holds it: the array of one layer or of one farm's
 * servers; for every layer {"tcp": [...], "udp": [...], "http": [...]}. New reference; NULL
 * if there is no such farm (reported: -ENOENT) or no memory (-ENOMEM).
 */
static json_t *list_select(const json_t *doc, const struct res_type *rt,
			   const struct res_args *a, int *err)
{
	json_t *out, *farm;
	size_t i;

	*err = -ENOMEM;
	if (rt->in_farm) {
		json_array_foreach(json_object_get(json_object_get(doc, a->layer), "farm"), i, farm)
			if (json_integer_value(json_object_get(farm, "farmId")) == a->farm)
				return array_ref(json_object_get(farm, rt->name));
		fprintf(stderr, "limpetctl: no farm %u in %s\n", a->farm, a->layer);
		*err = -ENOENT;
		return NULL;
	}
	if (a->layer)
		return layer_items(doc, a->layer, rt);
	out = json_object();
	for (const char *const *l = arg_layers; out && *l; l++) {
		if (json_object_set_new(out, *l, layer_items(doc, *l, rt))) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

/*
 * Each server of one farm gains the "state" GET …/stats gives the running server (up, down,
 * checking, disabled); a server only staged has none ("-"). Matched pairwise: a farm holds
 * at most LB_FARM_SERVERS_MAX servers.
 */
static int list_states(struct ctx *ctx, const struct res_args *a, json_t *servers)
{
	json_t *stats = NULL, *farm, *srv, *s;
	size_t i, j, k;
	int err = svc_call(ctx, "GET", NULL, &stats, "/stats");

	if (err)
		return err;
	json_array_foreach(json_object_get(stats, "farms"), i, farm) {
		const char *layer = json_string_value(json_object_get(farm, "layer"));

		if (!layer || strcmp(layer, a->layer) ||
		    json_integer_value(json_object_get(farm, "farmId")) != a->farm)
			continue;
		json_array_foreach(json_object_get(farm, "servers"), j, srv) {
			json_int_t id = json_integer_value(json_object_get(srv, "serverId"));

			json_array_foreach(servers, k, s)
				if (json_integer_value(json_object_get(s, "serverId")) == id)
					json_object_set(s, "state", json_object_get(srv, "state"));
		}
	}
	json_decref(stats);
	return 0;
}

int do_res_list(struct ctx *ctx, int argc, char **argv)
{
	const struct res_type *rt = ctx->cmd->res;
	json_t *doc = NULL, *sel = NULL, *items;
	struct table *t = NULL;
	const char *layer;
	struct res_args a;
	int err;

	err = res_args(ctx, argc, argv, rt->in_farm ? 0 : ANY_LAYER, &a);
	if (err)
		return err;
	err = svc_call(ctx, "GET", NULL, &doc, "/config?staged=1");
	if (err)
		return err;
	sel = list_select(doc, rt, &a, &err);
	if (!sel)
		goto out;
	if (rt->in_farm) {
		err = list_states(ctx, &a, sel);
		if (err)
			goto out;
	}
	if (ctx->json) {
		err = print_json(sel, stdout);
		goto out;
	}
	err = -ENOMEM;
	t = list_table(rt);
	if (!t)
		goto out;
	if (json_is_array(sel))
		list_rows(t, rt, a.layer, sel);
	else
		json_object_foreach(sel, layer, items)
			list_rows(t, rt, layer, items);
	err = table_print(t, stdout);
out:
	table_free(t);
	json_decref(sel);
	json_decref(doc);
	return err;
}

/* GET, POST, PUT or DELETE on one resource or its collection, the answer printed. */
static int res_call(struct ctx *ctx, const char *method, const struct res_args *a, bool with_id)
{
	json_t *answer = NULL;
	char path[128];
	int err;

	res_path(path, sizeof(path), ctx->cmd->res, a, with_id);
	err = svc_call(ctx, method, a->fields, &answer, "%s", path);
	/* del prints nothing for humans */
	if (!err && (ctx->json || strcmp(method, "DELETE")))
		err = ctx_print(ctx, answer);
	json_decref(answer);
	return err;
}

int do_res_show(struct ctx *ctx, int argc, char **argv)
{
	struct res_args a;
	int err = res_args(ctx, argc, argv, WANT_ID, &a);

	return err ? err : res_call(ctx, "GET", &a, true);
}

int do_res_add(struct ctx *ctx, int argc, char **argv)
{
	struct res_args a;
	int err = res_args(ctx, argc, argv, WANT_FIELDS, &a);

	if (!err)
		err = res_call(ctx, "POST", &a, false);
	json_decref(a.fields);
	return err;
}

int do_res_set(struct ctx *ctx, int argc, char **argv)
{
	struct res_args a;
	int err = res_args(ctx, argc, argv, WANT_ID | WANT_FIELDS | NEED_FIELDS, &a);

	if (!err)
		err = res_call(ctx, "PUT", &a, true);
	json_decref(a.fields);
	return err;
}

int do_res_del(struct ctx *ctx, int argc, char **argv)
{
	struct res_args a;
	int err = res_args(ctx, argc, argv, WANT_ID, &a);

	return err ? err : res_call(ctx, "DELETE", &a, true);
}
