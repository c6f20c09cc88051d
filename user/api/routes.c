// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "common/log.h"
#include "config/edit.h"
#include "daemon/service.h"

#define API_ROOT	"/ipLoadbalancing"

#define BAD_REQUEST	"Client::BadRequest"
#define NOT_FOUND	"Client::NotFound"
#define NOT_ALLOWED	"Client::MethodNotAllowed"
#define INTERNAL	"Server::InternalServerError"

void api_error(struct api_answer *ans, int status, const char *cls, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t n;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* cut short: drop a UTF-8 sequence left incomplete (jansson refuses invalid strings) */
	if (len >= (int)sizeof(msg)) {
		for (n = sizeof(msg) - 1; n && ((unsigned char)msg[n - 1] & 0xc0) == 0x80; n--)
			;
		if (n && (unsigned char)msg[n - 1] >= 0xc0)
			msg[n - 1] = 0;
		else if (n < sizeof(msg) - 1)
			msg[n] = 0;
	}
	ans->status = status;
	ans->json = json_pack("{s:s, s:s}", "class", cls, "message", msg);
}

static void ok(struct api_answer *ans, json_t *body)
{
	if (!body) {
		api_error(ans, 500, INTERNAL, "out of memory");
		return;
	}
	ans->status = 200;
	ans->json = body;
}

static void not_allowed(struct api_answer *ans, const char *allow, const char *method)
{
	api_error(ans, 405, NOT_ALLOWED, "%s is not served on this path (allowed: %s)", method,
		  allow);
	ans->allow = allow;
}

/* The request body as a JSON object; NULL with a 400 answer otherwise. An empty body is
 * an empty object where allow_empty. */
static json_t *body_object(const struct api_request *rq, struct api_answer *ans,
			   bool allow_empty)
{
	json_error_t jerr;
	json_t *body;

	if (!rq->len && allow_empty)
		return json_object();
	body = json_loadb(rq->body ? rq->body : "", rq->len,
			  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!body) {
		api_error(ans, 400, BAD_REQUEST, "body is not valid JSON: %s (line %d, column %d)",
			  jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		api_error(ans, 400, BAD_REQUEST, "body must be a JSON object");
		return NULL;
	}
	return body;
}

/* Make doc the staged config, or answer why not (every validation error, with its path). */
static bool stage(struct service *svc, const json_t *doc, struct api_answer *ans)
{
	struct cfg_errors errs = { 0 };
	json_t *list;
	int err = service_stage(svc, doc, &errs);

	if (!err)
		return true;
	if (err == -EPERM) {
		api_error(ans, 400, BAD_REQUEST, "serviceName cannot be changed through the API "
			  "(this limpetd serves \"%s\")", service_name(svc));
	} else if (err == -EINVAL) {
		api_error(ans, 400, BAD_REQUEST, "the staged config would be invalid (%zu error%s): %s",
			  errs.n, errs.n == 1 ? "" : "s", errs.n ? errs.msg[0] : "?");
		list = json_array();
		for (size_t i = 0; i < errs.n; i++)
			json_array_append_new(list, json_string(errs.msg[i]));
		json_object_set_new(ans->json, "errors", list);
	} else {
		api_error(ans, 500, INTERNAL, "staging: %s", strerror(-err));
	}
	cfg_errors_free(&errs);
	return false;
}

static void edit_failed(struct api_answer *ans, const struct edit_err *e)
{
	api_error(ans, e->status ? e->status : 500, e->cls ? e->cls : INTERNAL, "%s", e->msg);
}

/* A server as GET, PUT and POST answer it: with the read-only state of the running server
 * (absent until a refresh applies the server). */
static json_t *with_state(struct service *svc, const struct res_ref *ref, json_t *res)
{
	json_t *st;

	if (!res || ref->kind != RES_SERVER)
		return res;
	st = service_server_state(svc, ref->layer, ref->farm, ref->id);
	if (st && json_object_update(res, st)) {
		json_decref(res);
		res = NULL;
	}
	json_decref(st);
	return res;
}

/* A body naming a read-only field is refused whole: its value would silently not be set. */
static bool read_only_field(const struct res_ref *ref, const json_t *body, struct api_answer *ans)
{
	if (ref->kind != RES_SERVER)
		return false;
	for (const char *const *f = service_server_state_fields; *f; f++) {
		if (!json_object_get(body, *f))
			continue;
		api_error(ans, 400, BAD_REQUEST, "%s: read-only (the running server's state or "
			  "cookie, as GET shows it): leave it out of the body", *f);
		return true;
	}
	return false;
}

static void do_resource(struct service *svc, const struct api_request *rq, struct res_ref *ref,
			struct api_answer *ans)
{
	const json_t *staged = service_staged(svc);
	struct edit_err e = { 0 };
	json_t *body = NULL, *doc = NULL;
	bool get = !strcmp(rq->method, "GET");

	if (!ref->has_id && get) {
		json_t *ids = res_list(staged, ref, &e);

		if (ids)
			ok(ans, ids);
		else
			edit_failed(ans, &e);
		return;
	}
	if (ref->has_id && get) {
		json_t *res = res_get(staged, ref, &e);

		if (res)
			ok(ans, with_state(svc, ref, res));
		else
			edit_failed(ans, &e);
		return;
	}
	if (!ref->has_id && strcmp(rq->method, "POST")) {
		not_allowed(ans, "GET, POST", rq->method);
		return;
	}
	if (ref->has_id && strcmp(rq->method, "PUT") && strcmp(rq->method, "DELETE")) {
		not_allowed(ans, "GET, PUT, DELETE", rq->method);
		return;
	}
	if (strcmp(rq->method, "DELETE")) {
		body = body_object(rq, ans, false);
		if (!body)
			return;
		if (read_only_field(ref, body, ans)) {
			json_decref(body);
			return;
		}
	}
	if (!strcmp(rq->method, "POST"))
		doc = res_create(staged, ref, body, &ref->id, &e);
	else if (!strcmp(rq->method, "PUT"))
		doc = res_update(staged, ref, body, &e);
	else
		doc = res_delete(staged, ref, &e);
	json_decref(body);
	if (!doc) {
		edit_failed(ans, &e);
		return;
	}
	if (stage(svc, doc, ans)) {
		ref->has_id = true;
		if (!strcmp(rq->method, "DELETE"))
			ok(ans, json_object());
		else
			ok(ans, with_state(svc, ref, res_get(service_staged(svc), ref, &e)));
	}
	json_decref(doc);
}

static void do_config(struct service *svc, const struct api_request *rq, struct api_answer *ans)
{
	json_t *doc;

	if (!strcmp(rq->method, "GET")) {
		/* documents are never changed in place: the answer can share it */
		ok(ans, json_incref((json_t *)(rq->staged ? service_staged(svc)
							  : service_applied(svc))));
		return;
	}
	if (strcmp(rq->method, "PUT")) {
		not_allowed(ans, "GET, PUT", rq->method);
		return;
	}
	doc = body_object(rq, ans, false);
	if (!doc)
		return;
	if (stage(svc, doc, ans)) {
		json_t *pending = service_pending(svc);

		ok(ans, json_pack("{s:O}", "pendingChanges",
				  json_object_get(json_array_get(pending, 0), "number")));
		json_decref(pending);
	}
	json_decref(doc);
}

/*
 * A POST whose optional body holds one optional field: the body (the caller frees it), with
 * the field unpacked by fmt into out when present; NULL once answered (wrong method, bad
 * body or field).
 */
static json_t *post_field(const struct api_request *rq, struct api_answer *ans, const char *fmt,
			  const char *key, void *out, const char *expected)
{
	json_t *body;

	if (strcmp(rq->method, "POST")) {
		not_allowed(ans, "POST", rq->method);
		return NULL;
	}
	body = body_object(rq, ans, true);
	if (body && json_unpack(body, fmt, key, out)) {
		api_error(ans, 400, BAD_REQUEST, "%s: expected %s", key, expected);
		json_decref(body);
		return NULL;
	}
	return body;
}

static void do_refresh(struct service *svc, const struct api_request *rq, struct api_answer *ans)
{
	const char *zone = service_applied_config(svc)->zone, *want = "all";
	json_t *body = post_field(rq, ans, "{s?s}", "zone", &want, "a string"), *report = NULL;
	bool other_zone;
	int err;

	if (!body)
		return;
	other_zone = strcmp(want, "all") && strcmp(want, zone);
	if (other_zone)
		api_error(ans, 400, BAD_REQUEST, "zone \"%s\": this service's zone is \"%s\" "
			  "(or use \"all\")", want, zone);
	json_decref(body);
	if (other_zone)
		return;
	err = service_refresh(svc, "api", &report);
	if (err) {
		api_error(ans, 500, INTERNAL, "refresh failed, the running config stays: %s",
			  json_string_value(json_object_get(report, "message")));
		json_decref(report);
		return;
	}
	ok(ans, report);
}

static void do_shutdown(struct service *svc, const struct api_request *rq,
			struct api_answer *ans)
{
	int keep = 0;
	json_t *body = post_field(rq, ans, "{s?b}", "keepDataplane", &keep, "true or false");

	if (!body)
		return;
	json_decref(body);
	pr_info("shutdown requested through the API%s", keep ? ", keeping the dataplane" : "");
	service_request_stop(svc, keep);
	ok(ans, json_pack("{s:b, s:b}", "stopping", 1, "keepDataplane", keep));
}

/* POST drain / undrain: the VIPs' announcement state after the change. */
static void do_drain(struct service *svc, const struct api_request *rq, struct api_answer *ans,
		     bool drain)
{
	json_t *st;
	int err;

	if (strcmp(rq->method, "POST")) {
		not_allowed(ans, "POST", rq->method);
		return;
	}
	err = service_drain(svc, drain);
	if (err == -ENOTSUP) {
		api_error(ans, 400, BAD_REQUEST, "this limpetd announces no VIP (start it with "
			  "--announce-table N)");
		return;
	}
	if (err) {
		api_error(ans, 500, INTERNAL, "%s: a route could not be changed: %s (limpetd tries "
			  "again every second)", drain ? "drain" : "undrain", strerror(-err));
		return;
	}
	st = service_status(svc);
	ok(ans, json_incref(json_object_get(st, "announce")));
	json_decref(st);
}

/* Read-only service paths: GET only. */
static bool read_only(const struct api_request *rq, struct api_answer *ans)
{
	if (!strcmp(rq->method, "GET"))
		return true;
	not_allowed(ans, "GET", rq->method);
	return false;
}

static void do_service(struct service *svc, const char *rest, const struct api_request *rq,
		       struct api_answer *ans)
{
	const json_t *staged = service_staged(svc);
	struct res_ref ref;

	if (!*rest) {
		if (read_only(rq, ans))
			ok(ans, json_pack("{s:O, s:O, s:O}", "serviceName",
					  json_object_get(staged, "serviceName"), "zone",
					  json_object_get(staged, "zone"), "hashSeed",
					  json_object_get(staged, "hashSeed")));
	} else if (!strcmp(rest, "config")) {
		do_config(svc, rq, ans);
	} else if (!strcmp(rest, "refresh")) {
		do_refresh(svc, rq, ans);
	} else if (!strcmp(rest, "pendingChanges")) {
		if (read_only(rq, ans))
			ok(ans, service_pending(svc));
	} else if (!strcmp(rest, "status")) {
		if (read_only(rq, ans))
			ok(ans, service_status(svc));
	} else if (!strcmp(rest, "stats")) {
		if (read_only(rq, ans))
			ok(ans, service_stats(svc));
	} else if (!strcmp(rest, "shutdown")) {
		do_shutdown(svc, rq, ans);
	} else if (!strcmp(rest, "drain") || !strcmp(rest, "undrain")) {
		do_drain(svc, rq, ans, !strcmp(rest, "drain"));
	} else if (!res_parse(rest, &ref)) {
		do_resource(svc, rq, &ref, ans);
	} else {
		api_error(ans, 404, NOT_FOUND, "no such path: %s", rq->url);
	}
}

static void do_metrics(struct service *svc, const struct api_request *rq,
		       struct api_answer *ans)
{
	if (!read_only(rq, ans))
		return;
	ans->text = service_metrics(svc);
	if (ans->text)
		ans->status = 200;
	else
		api_error(ans, 500, INTERNAL, "rendering the metrics failed");
}

void api_route(struct service *svc, const struct api_request *rq, struct api_answer *ans)
{
	const char *url = rq->url, *name = service_name(svc);
	size_t n = strlen(name);

	memset(ans, 0, sizeof(*ans));
	if (!strcmp(url, "/metrics")) {
		do_metrics(svc, rq, ans);
	} else if (!strcmp(url, API_ROOT) || !strcmp(url, API_ROOT "/")) {
		if (read_only(rq, ans))
			ok(ans, json_pack("[s]", name));
	} else if (!strncmp(url, API_ROOT "/", sizeof(API_ROOT)) &&
		   !strncmp(url + sizeof(API_ROOT), name, n) &&
		   (url[sizeof(API_ROOT) + n] == '/' || !url[sizeof(API_ROOT) + n])) {
		const char *rest = url + sizeof(API_ROOT) + n;

		do_service(svc, *rest ? rest + 1 : rest, rq, ans);
	} else if (!strncmp(url, API_ROOT "/", sizeof(API_ROOT))) {
		const char *asked = url + sizeof(API_ROOT);

		api_error(ans, 404, NOT_FOUND, "no service \"%.*s\" here (this limpetd serves \"%s\")",
			  (int)strcspn(asked, "/") > 64 ? 64 : (int)strcspn(asked, "/"), asked, name);
	} else {
		api_error(ans, 404, NOT_FOUND, "no such path: %.200s", url);
	}
	if (!ans->json && !ans->text)
		api_error(ans, 500, INTERNAL, "out of memory");
}
