// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pendingChanges: how two config documents differ, resource by resource (config_diff,
 * edit.h). Resources are matched by id through the same lookups as the API's GETs, so a
 * change names exactly the path a client would edit; their own fields are compared with
 * json_equal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/edit.h"

#define CHANGE_PATH_LEN	64	/* "/http/farm/4294967295/server/4294967295" */

struct dctx {
	const json_t *from, *to;
	json_t *changes;
	bool ok;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_layer(const char *key)
{
	for (int l = 0; l < CFG_LAYERS; l++)
		if (!strcmp(key, cfg_layer_name(l)))
			return true;
	return false;
}

/* The names of the fields that differ between objects a and b (either may be NULL), sorted;
 * the layers are not fields of the root. NULL on allocation failure. */
static json_t *fields_diff(const json_t *a, const json_t *b, bool root)
{
	size_t n = 0, cap = json_object_size(a) + json_object_size(b) + 1;
	const char **names = malloc(cap * sizeof(*names));
	json_t *out = json_array(), *v;
	const char *k;

	if (!names || !out)
		goto fail;
	json_object_foreach((json_t *)a, k, v)
		if (!(root && is_layer(k)) && !json_equal(v, json_object_get(b, k)))
			names[n++] = k;
	json_object_foreach((json_t *)b, k, v)
		if (!(root && is_layer(k)) && !json_object_get(a, k))
			names[n++] = k;
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(out, json_string(names[i])))
			goto fail;
	free(names);
	return out;
fail:
	free(names);
	json_decref(out);
	return NULL;
}

/* Record a change; fields (taken over) is NULL but for an update. */
static void change(struct dctx *dx, const char *path, const char *action, json_t *fields)
{
	json_t *c = json_pack("{s:s, s:s, s:o*}", "resource", path, "action", action, "fields",
			      fields);

	if (json_array_append_new(dx->changes, c))
		dx->ok = false;
}

/* An update when fields (taken over, NULL on allocation failure) is not empty. */
static void change_fields(struct dctx *dx, const char *path, json_t *fields)
{
	if (!fields)
		dx->ok = false;
	else if (json_array_size(fields))
		change(dx, path, "update", fields);
	else
		json_decref(fields);
}

/* The ids of a collection, ascending; empty when the document has no such farm. */
static json_t *ids_of(struct dctx *dx, const json_t *doc, const struct res_ref *r)
{
	struct edit_err e;
	json_t *ids = res_list(doc, r, &e);

	if (!ids && e.status == 404)
		ids = json_array();
	if (!ids)
		dx->ok = false;
	return ids;
}

static void diff_coll(struct dctx *dx, const struct res_ref *coll);

/* One resource r, present in from, in to, or in both. */
static void diff_res(struct dctx *dx, const struct res_ref *r, bool in_from, bool in_to)
{
	const char *layer = cfg_layer_name(r->layer);
	char path[CHANGE_PATH_LEN];
	struct edit_err e;
	json_t *a, *b;

	if (r->kind == RES_SERVER)
		snprintf(path, sizeof(path), "/%s/farm/%u/server/%u", layer, r->farm, r->id);
	else
		snprintf(path, sizeof(path), "/%s/%s/%u", layer,
			 r->kind == RES_FARM ? "farm" : "frontend", r->id);
	if (in_from && in_to) {
		/* res_get leaves a farm's servers out: they are resources of their own. */
		a = res_get(dx->from, r, &e);
		b = res_get(dx->to, r, &e);
		change_fields(dx, path, a && b ? fields_diff(a, b, false) : NULL);
		json_decref(a);
		json_decref(b);
	} else {
		change(dx, path, in_to ? "create" : "delete", NULL);
	}
	if (r->kind == RES_FARM) {
		struct res_ref servers = { .layer = r->layer, .kind = RES_SERVER, .farm = r->id };

		diff_coll(dx, &servers);
	}
}

/* The resources of a collection in id order: a walk over both sorted id lists at once. */
static void diff_coll(struct dctx *dx, const struct res_ref *coll)
{
	json_t *a = ids_of(dx, dx->from, coll), *b = ids_of(dx, dx->to, coll);
	size_t i = 0, j = 0, na = json_array_size(a), nb = json_array_size(b);
	struct res_ref r = *coll;

	while (dx->ok && (i < na || j < nb)) {
		json_int_t x = json_integer_value(json_array_get(a, i));
		json_int_t y = json_integer_value(json_array_get(b, j));
		bool in_a = i < na && (j == nb || x <= y), in_b = j < nb && (i == na || y <= x);
		json_int_t id = in_a ? x : y;

		i += in_a;
		j += in_b;
		/* Only an invalid document holds other ids; a reference cannot name them. */
		if (id < 1 || id > UINT32_MAX)
			continue;
		r.has_id = true;
		r.id = (uint32_t)id;
		diff_res(dx, &r, in_a, in_b);
	}
	json_decref(a);
	json_decref(b);
}

json_t *config_diff(const json_t *from, const json_t *to)
{
	struct dctx dx = { .from = from, .to = to, .changes = json_array(), .ok = true };

	if (!dx.changes)
		return NULL;
	change_fields(&dx, "/", fields_diff(from, to, true));
	for (int l = 0; l < CFG_LAYERS; l++) {
		struct res_ref fes = { .layer = l, .kind = RES_FRONTEND };
		struct res_ref farms = { .layer = l, .kind = RES_FARM };

		diff_coll(&dx, &fes);
		diff_coll(&dx, &farms);
	}
	if (!dx.ok) {
		json_decref(dx.changes);
		return NULL;
	}
	return dx.changes;
}
