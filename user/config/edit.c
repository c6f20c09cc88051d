// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The API's resource tree on a canonical config document (edit.h): paths into references, and
 * the list, read, create, update and delete of frontends, farms and servers. Edits work on a
 * copy and check only the edit's own shape; the validator judges the result whole.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/edit.h"

#define PATH_SEGS_MAX	5	/* layer/farm/{farmId}/server/{serverId} */
#define ID_DIGITS_MAX	10	/* UINT32_MAX is 4294967295 */
#define VALUE_SHOWN_MAX	48	/* of a bad value quoted in a message */
#define WHERE_LEN	32	/* "http farm 4294967295" */
#define REF_PATH_LEN	64	/* "http/farm/4294967295/server/4294967295" */

static const char *const kind_names[] = { "frontend", "farm", "server" };
static const char *const id_keys[] = { "frontendId", "farmId", "serverId" };

/* --- paths ------------------------------------------------------------------------------- */

struct seg {
	const char *s;
	size_t n;
};

static bool seg_is(const struct seg *g, const char *word)
{
	return g->n == strlen(word) && !memcmp(g->s, word, g->n);
}

/* Decimal 1..UINT32_MAX, no sign, no leading zero: one spelling per id. */
static bool seg_id(const struct seg *g, uint32_t *id)
{
	uint64_t x = 0;

	if (g->n < 1 || g->n > ID_DIGITS_MAX || g->s[0] == '0')
		return false;
	for (size_t i = 0; i < g->n; i++) {
		if (g->s[i] < '0' || g->s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(g->s[i] - '0');
	}
	if (x > UINT32_MAX)
		return false;
	*id = (uint32_t)x;
	return true;
}

int res_parse(const char *path, struct res_ref *ref)
{
	struct seg seg[PATH_SEGS_MAX];
	struct res_ref r = { 0 };
	const char *p = path, *slash;
	size_t n = 0, id_seg;
	int l;

	/* Empty segments (a leading, trailing or doubled slash) name nothing. */
	for (;;) {
		if (n == PATH_SEGS_MAX)
			return -ENOENT;
		slash = strchr(p, '/');
		seg[n].s = p;
		seg[n].n = slash ? (size_t)(slash - p) : strlen(p);
		if (!seg[n++].n)
			return -ENOENT;
		if (!slash)
			break;
		p = slash + 1;
	}
	for (l = 0; l < CFG_LAYERS && !seg_is(&seg[0], cfg_layer_name(l)); l++)
		;
	if (l == CFG_LAYERS || n < 2)
		return -ENOENT;
	r.layer = l;
	if (seg_is(&seg[1], "frontend") && n <= 3) {
		r.kind = RES_FRONTEND;
	} else if (seg_is(&seg[1], "farm") && n <= 3) {
		r.kind = RES_FARM;
	} else if (seg_is(&seg[1], "farm") && n >= 4 && seg_is(&seg[3], "server") &&
		   seg_id(&seg[2], &r.farm)) {
		r.kind = RES_SERVER;
	} else {
		return -ENOENT;
	}
	id_seg = r.kind == RES_SERVER ? 4 : 2;
	if (n > id_seg) {
		if (!seg_id(&seg[id_seg], &r.id))
			return -ENOENT;
		r.has_id = true;
	}
	*ref = r;
	return 0;
}

/* --- errors ------------------------------------------------------------------------------ */

static const char *status_class(int status)
{
	switch (status) {
	case 400:
		return "Client::BadRequest";
	case 404:
		return "Client::NotFound";
	case 405:
		return "Client::MethodNotAllowed";
	case 409:
		return "Client::Conflict";
	}
	return "Server::InternalServerError";
}

static void __attribute__((format(printf, 3, 4)))
err_set(struct edit_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->cls = status_class(status);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static json_t *oom(struct edit_err *e)
{
	err_set(e, 500, "out of memory");
	return NULL;
}

/* Where r's collection lives, for messages: "tcp" or "tcp farm 7". */
static const char *res_where(const struct res_ref *r, char buf[WHERE_LEN])
{
	if (r->kind == RES_SERVER)
		snprintf(buf, WHERE_LEN, "%s farm %u", cfg_layer_name(r->layer), r->farm);
	else
		snprintf(buf, WHERE_LEN, "%s", cfg_layer_name(r->layer));
	return buf;
}

/* r as a path, for messages: "tcp/farm/7/server" or "tcp/farm/7/server/2". */
static const char *res_path(const struct res_ref *r, char buf[REF_PATH_LEN])
{
	int n;

	if (r->kind == RES_SERVER)
		n = snprintf(buf, REF_PATH_LEN, "%s/farm/%u/server", cfg_layer_name(r->layer),
			     r->farm);
	else
		n = snprintf(buf, REF_PATH_LEN, "%s/%s", cfg_layer_name(r->layer),
			     kind_names[r->kind]);
	if (r->has_id)
		snprintf(buf + n, REF_PATH_LEN - (size_t)n, "/%u", r->id);
	return buf;
}

static void not_found(struct edit_err *e, const struct res_ref *r)
{
	char where[WHERE_LEN];

	err_set(e, 404, "no %s %u in %s", kind_names[r->kind], r->id, res_where(r, where));
}

/* A value quoted in a message, cut short: encoding stops once the buffer is full. */
struct shown {
	char *buf;
	size_t len;
	bool cut;
};

static int shown_put(const char *s, size_t n, void *data)
{
	struct shown *sh = data;
	size_t room = VALUE_SHOWN_MAX - 1 - sh->len, k = n < room ? n : room;

	memcpy(sh->buf + sh->len, s, k);
	sh->len += k;
	sh->cut = n > room;
	return sh->cut ? -1 : 0;
}

/* Compact and ASCII, so that a cut splits no UTF-8 sequence. */
static const char *value_str(const json_t *v, char buf[VALUE_SHOWN_MAX])
{
	struct shown sh = { .buf = buf };

	json_dump_callback(v, shown_put, &sh, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	buf[sh.len] = '\0';
	if (sh.cut)
		strcpy(buf + VALUE_SHOWN_MAX - 4, "...");
	return buf;
}

/* The router picks the function by method and path shape; a mismatch is a method the path
 * does not serve. */
static bool shape_ok(const struct res_ref *r, bool coll, const char *verb, struct edit_err *e)
{
	char path[REF_PATH_LEN];

	if (r->has_id != coll)
		return true;
	err_set(e, 405, "%s needs a %s path, got %s", verb, coll ? "collection" : "resource",
		res_path(r, path));
	return false;
}

/* --- the document ------------------------------------------------------------------------ */

static json_t *elem_find(const json_t *arr, const char *key, json_int_t id, size_t *at)
{
	json_t *o, *v;
	size_t i;

	json_array_foreach(arr, i, o) {
		v = json_object_get(o, key);
		if (json_is_integer(v) && json_integer_value(v) == id) {
			if (at)
				*at = i;
			return o;
		}
	}
	return NULL;
}

/*
 * Documents are never changed in place (the service shares them with its answers), yet a copy
 * of 10 000 servers costs ~12 ms: an edit copies, shallowly, only the nodes on the path to the
 * resource it changes, and shares every other node with the document it came from.
 */

/* A shallow copy whose every member is there: jansson's json_copy() drops the members it
 * fails to insert, which would make a short document out of an allocation failure. Scalars
 * are never changed in place: shared. */
static json_t *copy_node(json_t *v)
{
	json_t *c, *m;
	const char *k;
	size_t i;

	if (json_is_object(v)) {
		c = json_object();
		json_object_foreach(v, k, m)
			if (c && json_object_set(c, k, m))
				goto fail;
		return c;
	}
	if (json_is_array(v)) {
		c = json_array();
		json_array_foreach(v, i, m)
			if (c && json_array_append(c, m))
				goto fail;
		return c;
	}
	return json_incref(v);
fail:
	json_decref(c);
	return NULL;
}

/* *out = a copy of parent[key], put in its place; or made by make() when absent and make is
 * given; NULL when absent. -ENOMEM on failure. parent is already the edit's own. */
static int own(json_t *parent, const char *key, json_t *(*make)(void), json_t **out)
{
	json_t *v = json_object_get(parent, key);

	*out = NULL;
	if (!v && !make)
		return 0;
	v = v ? copy_node(v) : make();
	/* json_object_set_new releases v when it fails */
	if (!v || json_object_set_new(parent, key, v))
		return -ENOMEM;
	*out = v;
	return 0;
}

/* Likewise for the element of arr whose key is id (the edit's own array). */
static int own_elem(json_t *arr, const char *key, json_int_t id, json_t **out)
{
	size_t at;
	json_t *v = elem_find(arr, key, id, &at);

	*out = NULL;
	if (!v)
		return 0;
	v = copy_node(v);
	if (!v || json_array_set_new(arr, at, v))
		return -ENOMEM;
	*out = v;
	return 0;
}

/*
 * The array of r's collection in the edit's document, made its own: 0 and *out, which is
 * NULL when the collection is absent (an empty one) unless make asks to create it. -1 with e
 * set: the farm of a server does not exist (404), or copying failed.
 */
static int coll_find(json_t *doc, const struct res_ref *r, bool make, json_t **out,
		     struct edit_err *e)
{
	json_t *layer, *farms, *farm;
	int err;

	*out = NULL;
	err = own(doc, cfg_layer_name(r->layer), make ? json_object : NULL, &layer);
	if (!err && r->kind == RES_SERVER) {
		err = own(layer, "farm", NULL, &farms);
		err = err ?: own_elem(farms, "farmId", r->farm, &farm);
		if (!err && !farm) {
			err_set(e, 404, "no farm %u in %s", r->farm, cfg_layer_name(r->layer));
			return -1;
		}
		err = err ?: own(farm, "server", make ? json_array : NULL, out);
	} else if (!err) {
		err = own(layer, kind_names[r->kind], make ? json_array : NULL, out);
	}
	if (err) {
		oom(e);
		return -1;
	}
	return 0;
}

/* A copy of a resource's own fields: a farm's servers are resources of their own. */
static json_t *copy_own(json_t *o, enum res_kind kind)
{
	json_t *copy = json_object(), *v;
	const char *k;

	if (!copy)
		return NULL;
	json_object_foreach(o, k, v) {
		if (kind == RES_FARM && !strcmp(k, "server"))
			continue;
		if (json_object_set_new(copy, k, json_deep_copy(v))) {
			json_decref(copy);
			return NULL;
		}
	}
	return copy;
}

/* Set the body's fields into o, removing those set to null; skip is the id field. */
static int merge(json_t *o, json_t *body, const char *skip)
{
	const char *k;
	json_t *v;

	json_object_foreach(body, k, v) {
		if (!strcmp(k, skip))
			continue;
		if (json_is_null(v))
			json_object_del(o, k);
		else if (json_object_set_new(o, k, json_deep_copy(v)))
			return -ENOMEM;
	}
	return 0;
}

/* --- the shape of an edit ---------------------------------------------------------------- */

static bool body_ok(const struct res_ref *r, const json_t *body, struct edit_err *e)
{
	char shown[VALUE_SHOWN_MAX];

	if (!json_is_object(body)) {
		err_set(e, 400, "a %s must be given as a JSON object, got %s", kind_names[r->kind],
			body ? value_str(body, shown) : "no body");
		return false;
	}
	if (r->kind == RES_FARM && json_object_get(body, "server")) {
		err_set(e, 400, "\"server\" is not a field of a farm's body: servers are edited "
			"under /%s/farm/{farmId}/server", cfg_layer_name(r->layer));
		return false;
	}
	return true;
}

/* The new resource's id: the body's (v, unless absent or null), else the highest + 1. */
static bool id_pick(const json_t *coll, const struct res_ref *r, const json_t *v, uint32_t *id,
		    struct edit_err *e)
{
	const char *key = id_keys[r->kind];
	char where[WHERE_LEN], shown[VALUE_SHOWN_MAX];
	json_int_t x, max = 0;
	json_t *o;
	size_t i;

	if (v && !json_is_null(v)) {
		x = json_is_integer(v) ? json_integer_value(v) : 0;
		if (x < 1 || x > UINT32_MAX) {
			err_set(e, 400, "%s must be an integer in 1..%u, got %s", key, UINT32_MAX,
				value_str(v, shown));
			return false;
		}
		if (elem_find(coll, key, x, NULL)) {
			err_set(e, 409, "%s %lld exists already in %s", key, (long long)x,
				res_where(r, where));
			return false;
		}
		*id = (uint32_t)x;
		return true;
	}
	json_array_foreach(coll, i, o) {
		x = json_integer_value(json_object_get(o, key));
		if (x > max)
			max = x;
	}
	if (max >= UINT32_MAX) {
		err_set(e, 409, "no %s left to assign in %s: give one in the body", key,
			res_where(r, where));
		return false;
	}
	*id = (uint32_t)max + 1;
	return true;
}

/* On PUT the id may be given only with the path's value: a resource is not renumbered. */
static bool id_same(const struct res_ref *r, const json_t *body, struct edit_err *e)
{
	const char *key = id_keys[r->kind];
	json_t *v = json_object_get(body, key);
	char shown[VALUE_SHOWN_MAX];

	if (!v || (json_is_integer(v) && json_integer_value(v) == r->id))
		return true;
	err_set(e, 400, "%s in the body (%s) differs from the path's (%u)", key,
		value_str(v, shown), r->id);
	return false;
}

/* --- the verbs --------------------------------------------------------------------------- */

static int id_cmp(const void *a, const void *b)
{
	json_int_t x = *(const json_int_t *)a, y = *(const json_int_t *)b;

	return (x > y) - (x < y);
}

json_t *res_list(const json_t *doc, const struct res_ref *r, struct edit_err *e)
{
	const char *key = id_keys[r->kind];
	json_t *coll, *ids, *o, *v;
	json_int_t *buf;
	size_t i, n = 0;

	if (!shape_ok(r, true, "GET (list)", e) || coll_find((json_t *)doc, r, false, &coll, e))
		return NULL;
	buf = malloc((json_array_size(coll) + 1) * sizeof(*buf));
	ids = json_array();
	if (!buf || !ids)
		goto fail;
	json_array_foreach(coll, i, o) {
		v = json_object_get(o, key);
		if (json_is_integer(v))
			buf[n++] = json_integer_value(v);
	}
	qsort(buf, n, sizeof(*buf), id_cmp);
	for (i = 0; i < n; i++)
		if (json_array_append_new(ids, json_integer(buf[i])))
			goto fail;
	free(buf);
	return ids;
fail:
	free(buf);
	json_decref(ids);
	return oom(e);
}

json_t *res_get(const json_t *doc, const struct res_ref *r, struct edit_err *e)
{
	json_t *coll, *o, *copy;

	if (!shape_ok(r, false, "GET", e) || coll_find((json_t *)doc, r, false, &coll, e))
		return NULL;
	o = elem_find(coll, id_keys[r->kind], r->id, NULL);
	if (!o) {
		not_found(e, r);
		return NULL;
	}
	copy = copy_own(o, r->kind);
	return copy ? copy : oom(e);
}

json_t *res_create(const json_t *doc, const struct res_ref *r, const json_t *body, uint32_t *id,
		   struct edit_err *e)
{
	const char *key = id_keys[r->kind];
	json_t *out, *coll, *res;
	uint32_t nid;

	if (!shape_ok(r, true, "POST", e) || !body_ok(r, body, e))
		return NULL;
	out = copy_node((json_t *)doc);
	if (!out)
		return oom(e);
	if (coll_find(out, r, true, &coll, e) ||
	    !id_pick(coll, r, json_object_get(body, key), &nid, e))
		goto fail;
	/* Appended first, so that the document owns it whatever fails next. The id comes
	 * first and a farm's (empty) server list last, as in the canonical document. */
	res = json_object();
	if (json_array_append_new(coll, res) || json_object_set_new(res, key, json_integer(nid)) ||
	    merge(res, (json_t *)body, key) ||
	    (r->kind == RES_FARM && json_object_set_new(res, "server", json_array()))) {
		oom(e);
		goto fail;
	}
	*id = nid;
	return out;
fail:
	json_decref(out);
	return NULL;
}

json_t *res_update(const json_t *doc, const struct res_ref *r, const json_t *body,
		   struct edit_err *e)
{
	const char *key = id_keys[r->kind];
	json_t *out, *coll, *res;

	if (!shape_ok(r, false, "PUT", e) || !body_ok(r, body, e) || !id_same(r, body, e))
		return NULL;
	out = copy_node((json_t *)doc);
	if (!out)
		return oom(e);
	if (coll_find(out, r, false, &coll, e))
		goto fail;
	if (own_elem(coll, key, r->id, &res)) {
		oom(e);
		goto fail;
	}
	if (!res) {
		not_found(e, r);
		goto fail;
	}
	if (merge(res, (json_t *)body, key)) {
		oom(e);
		goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

json_t *res_delete(const json_t *doc, const struct res_ref *r, struct edit_err *e)
{
	json_t *out, *coll;
	size_t at;

	if (!shape_ok(r, false, "DELETE", e))
		return NULL;
	out = copy_node((json_t *)doc);
	if (!out)
		return oom(e);
	if (coll_find(out, r, false, &coll, e))
		goto fail;
	if (!elem_find(coll, id_keys[r->kind], r->id, &at)) {
		not_found(e, r);
		goto fail;
	}
	json_array_remove(coll, at);
	return out;
fail:
	json_decref(out);
	return NULL;
}
