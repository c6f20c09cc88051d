/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The REST API's paths (docs/api.md) on top of the service: what a request means, apart from
 * how it arrived (server.c). One request in, one answer out.
 */
#ifndef LIMPET_API_ROUTES_H
#define LIMPET_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct service;

struct api_request {
	const char *method;
	const char *url;	/* path only, no query */
	bool staged;		/* ?staged=1 */
	const char *body;	/* NULL or len bytes, not NUL-terminated */
	size_t len;
};

struct api_answer {
	int status;
	json_t *json;		/* the body, or NULL when text is set */
	char *text;		/* /metrics: malloc'ed Prometheus text */
	const char *allow;	/* 405: the methods the path serves */
};

void api_route(struct service *svc, const struct api_request *rq, struct api_answer *ans);

/* {"class", "message"} answers, also for the transport's own errors (401, 413). */
void api_error(struct api_answer *ans, int status, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* LIMPET_API_ROUTES_H */
