// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pendingChanges: how two config documents differ, resource by resource (config_diff,
 * edit.h). Resources are matched by id, so a change names exactly the path a client would
 * edit; their own fields are compared with json_equal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/edit.h"

#define CHANGE_PATH_LEN	64	/* "/http/farm/4294967295/server/4294967295" */

struct dctx {
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
 * skip(k) names keys that are not fields (the layers of the root, a farm's servers). NULL on
 * allocation failure. */
static json_t *fields_diff(const json_t *a, const json_t *b, bool (*skip)(const char *k))
{
	size_t n = 0, cap = json_object_size(a) + json_object_size(b) + 1;
	const char **names = malloc(cap * sizeof(*names));
	json_t *out = json_array(), *v;
	const char *k;

	if (!names || !out)
		goto fail;
	json_object_foreach((json_t *)a, k, v)
		if (!skip(k) && !json_equal(v, json_object_get(b, k)))
			names[n++] = k;
	json_object_foreach((json_t *)b, k, v)
		if (!skip(k) && !json_object_get(a, k))
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

static bool skip_servers(const char *k)
{
	return !strcmp(k, "server");
}

static bool skip_none(const char *k)
{
	(void)k;
	return false;
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

/* A collection's members by id: sorted once, so that two collections are compared in one
 * walk (documents of 10 000 servers are diffed on every refresh and status). */
struct member {
	json_int_t id;
	const json_t *obj;
};

static int member_cmp(const void *a, const void *b)
{
	json_int_t x = ((const struct member *)a)->id, y = ((const struct member *)b)->id;

	return x < y ? -1 : x > y;
}

/* The members of arr with a valid id field key (only an invalid document holds others; a
 * reference cannot name them), ascending. NULL with *n = 0 for an empty or absent array. */
static struct member *members(struct dctx *dx, const json_t *arr, const char *key, size_t *n)
{
	struct member *m = json_array_size(arr) ? calloc(json_array_size(arr), sizeof(*m)) : NULL;
	const json_t *v;
	size_t i;

	*n = 0;
	if (json_array_size(arr) && !m) {
		dx->ok = false;
		return NULL;
	}
	json_array_foreach((json_t *)arr, i, v) {
		json_t *id = json_object_get(v, key);

		if (json_is_integer(id) && json_integer_value(id) >= 1 &&
		    json_integer_value(id) <= UINT32_MAX)
			m[(*n)++] = (struct member){ json_integer_value(id), v };
	}
	if (*n > 1)
		qsort(m, *n, sizeof(*m), member_cmp);
	return m;
}

static const char *const kind_names[] = {
	[RES_FRONTEND] = "frontend", [RES_FARM] = "farm", [RES_SERVER] = "server"
};
static const char *const id_keys[] = {
	[RES_FRONTEND] = "frontendId", [RES_FARM] = "farmId", [RES_SERVER] = "serverId"
};

static void diff_coll(struct dctx *dx, enum cfg_layer l, enum res_kind kind, json_int_t farm,
		      const json_t *from, const json_t *to);

/* One resource, present in a, in b, or in both. */
static void diff_res(struct dctx *dx, enum cfg_layer l, enum res_kind kind, json_int_t farm,
		     json_int_t id, const json_t *a, const json_t *b)
{
	const char *layer = cfg_layer_name(l);
	char path[CHANGE_PATH_LEN];

	if (kind == RES_SERVER)
		snprintf(path, sizeof(path), "/%s/farm/%lld/server/%lld", layer, (long long)farm,
			 (long long)id);
	else
		snprintf(path, sizeof(path), "/%s/%s/%lld", layer, kind_names[kind], (long long)id);
	if (a && b)
		change_fields(dx, path,
			      fields_diff(a, b, kind == RES_FARM ? skip_servers : skip_none));
	else
		change(dx, path, b ? "create" : "delete", NULL);
	/* a farm's servers are resources of their own, listed right after it */
	if (kind == RES_FARM)
		diff_coll(dx, l, RES_SERVER, id, json_object_get(a, "server"),
			  json_object_get(b, "server"));
}

/* The resources of two versions of a collection in id order: one walk over both. */
static void diff_coll(struct dctx *dx, enum cfg_layer l, enum res_kind kind, json_int_t farm,
		      const json_t *from, const json_t *to)
{
	size_t na, nb, i = 0, j = 0;
	struct member *a = members(dx, from, id_keys[kind], &na);
	struct member *b = members(dx, to, id_keys[kind], &nb);

	while (dx->ok && (i < na || j < nb)) {
		bool in_a = i < na && (j == nb || a[i].id <= b[j].id);
		bool in_b = j < nb && (i == na || b[j].id <= a[i].id);

		diff_res(dx, l, kind, farm, in_a ? a[i].id : b[j].id, in_a ? a[i].obj : NULL,
			 in_b ? b[j].obj : NULL);
		i += in_a;
		j += in_b;
	}
	free(a);
	free(b);
}

json_t *config_diff(const json_t *from, const json_t *to)
{
	struct dctx dx = { .changes = json_array(), .ok = true };

	if (!dx.changes)
		return NULL;
	change_fields(&dx, "/", fields_diff(from, to, is_layer));
	for (int l = 0; l < CFG_LAYERS; l++) {
		const json_t *la = json_object_get(from, cfg_layer_name(l));
		const json_t *lb = json_object_get(to, cfg_layer_name(l));

		diff_coll(&dx, l, RES_FRONTEND, 0, json_object_get(la, "frontend"),
			  json_object_get(lb, "frontend"));
		diff_coll(&dx, l, RES_FARM, 0, json_object_get(la, "farm"),
			  json_object_get(lb, "farm"));
	}
	if (!dx.ok) {
		json_decref(dx.changes);
		return NULL;
	}
	return dx.changes;
}
