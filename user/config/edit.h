/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The config document as the API's resource tree (docs/api.md): list, read, create, update
 * and delete frontends, farms and servers of a document, and tell how two documents differ
 * (pendingChanges). Pure JSON work on jansson trees: no I/O, no validation of the result
 * beyond the shape of the edit itself; the caller validates the new document whole with
 * config_from_json() before it becomes the staged config.
 *
 * Documents are canonical (config_to_json() output): layers "tcp", "udp", "http" each with
 * "frontend" and "farm" arrays, farms with a "server" array.
 */
#ifndef LIMPET_CONFIG_EDIT_H
#define LIMPET_CONFIG_EDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

enum res_kind { RES_FRONTEND, RES_FARM, RES_SERVER };

/* A resource or a collection: /{layer}/frontend[/{id}], /{layer}/farm[/{id}],
 * /{layer}/farm/{farm}/server[/{id}]. */
struct res_ref {
	enum cfg_layer layer;
	enum res_kind kind;
	uint32_t farm;		/* RES_SERVER: the farm holding it */
	bool has_id;		/* false: the collection */
	uint32_t id;
};

/* What went wrong, as the API answers it: an HTTP status, an error class, a message. */
struct edit_err {
	int status;		/* 400, 404, 409, 500 */
	const char *cls;	/* "Client::BadRequest", "Client::NotFound", ... */
	char msg[256];
};

/*
 * Parse the resource part of an API path, e.g. "tcp/farm/1/server/2" (no leading slash,
 * no query). 0, or -ENOENT when it names no resource kind (the caller answers 404).
 * Ids are decimal 1..UINT32_MAX without sign or leading zeros.
 */
int res_parse(const char *path, struct res_ref *ref);

/* GET on a collection: a new array of the ids, ascending. NULL with e set (404: no such
 * farm). */
json_t *res_list(const json_t *doc, const struct res_ref *r, struct edit_err *e);

/* GET on a resource: a new object, a copy of the resource; a farm without its "server". */
json_t *res_get(const json_t *doc, const struct res_ref *r, struct edit_err *e);

/*
 * POST on a collection: a new document, a copy of doc with the resource added, its id set in
 * *id (the body's, else the highest in the collection + 1; 1 in an empty one). The body must
 * be an object; a farm body must not hold "server"; an id that exists is 409; an id field that
 * is not an integer in 1..UINT32_MAX is 400. NULL with e set.
 */
json_t *res_create(const json_t *doc, const struct res_ref *r, const json_t *body, uint32_t *id,
		   struct edit_err *e);

/*
 * PUT on a resource: a new document with the body's fields merged into the resource; a field
 * set to null is removed (its default applies). The id field may be given only with the
 * path's value; a farm body must not hold "server". NULL with e set.
 */
json_t *res_update(const json_t *doc, const struct res_ref *r, const json_t *body,
		   struct edit_err *e);

/* DELETE on a resource: a new document without it. NULL with e set. */
json_t *res_delete(const json_t *doc, const struct res_ref *r, struct edit_err *e);

/*
 * What changes from `from` to `to`: a new array of {"resource": "/tcp/farm/1/server/2",
 * "action": "create"|"update"|"delete", "fields": [...]} ("fields", for updates only: the
 * names of the fields that differ, sorted). The service's own fields (serviceName, zone,
 * hashSeed) are the resource "/". A farm whose servers changed but not its own fields is not
 * listed (its servers are). Order: by layer (tcp, udp, http), frontends, then farms each
 * followed by its servers, ids ascending. Either document may be NULL (empty).
 */
json_t *config_diff(const json_t *from, const json_t *to);

#endif /* LIMPET_CONFIG_EDIT_H */
