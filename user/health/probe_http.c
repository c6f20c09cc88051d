// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The http probe: one HTTP/1.1 request, its response parsed by http-parser (status line,
 * headers, a body by Content-Length, chunks or the close) and matched: default (2xx/3xx),
 * status (a pattern of codes and ranges), contains (the body holds the pattern) or matches
 * (a POSIX extended regex finds a match in the body); negate inverts the match, not a
 * malformed or missing response. A verdict takes the fewest bytes it can: a status match is
 * decided at the end of the headers, contains as soon as the pattern is seen, matches at the
 * end of the body (or the close, or PROBE_READ_MAX).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "health/probe-int.h"

static bool request_safe(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

/* One code of a status pattern, 100..599, with the spaces around it. */
static int status_code_scan(const char **pos, unsigned int *code)
{
	const char *p = *pos;

	while (*p == ' ')
		p++;
	if (p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return -EINVAL;
	*code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	for (p += 3; *p == ' ';)
		p++;
	*pos = p;
	return 0;
}

/* Whether code is in pattern ("200", "200-299,302"); -EINVAL if pattern is not one. */
static int status_in(const char *pattern, unsigned int code, bool *in)
{
	const char *p = pattern;
	unsigned int lo, hi;

	*in = false;
	for (;;) {
		if (status_code_scan(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (status_code_scan(&p, &hi) || hi < lo)
				return -EINVAL;
		}
		*in |= code >= lo && code <= hi;
		if (!*p)
			return 0;
		if (*p++ != ',')
			return -EINVAL;
	}
}

int probe_http_check(const struct probe_spec *spec, char err[PROBE_ERR_LEN])
{
	bool in;

	if (strcmp(spec->method, "GET") && strcmp(spec->method, "HEAD") &&
	    strcmp(spec->method, "OPTIONS")) {
		snprintf(err, PROBE_ERR_LEN, "method \"%.16s\" is not GET, HEAD or OPTIONS",
			 spec->method);
		return -EINVAL;
	}
	if (!request_safe(spec->url)) {
		snprintf(err, PROBE_ERR_LEN, "url is empty or has a space or a control byte");
		return -EINVAL;
	}
	if (spec->match == MATCH_STATUS && status_in(spec->pattern, 0, &in)) {
		snprintf(err, PROBE_ERR_LEN,
			 "status pattern \"%.40s\" is not codes (100-599) or ranges (200-299) "
			 "separated by commas", spec->pattern);
		return -EINVAL;
	}
	return 0;
}

int probe_http_request(const struct probe_spec *spec, const char *host, char *buf, size_t cap)
{
	int n;

	/* host goes into the request as it is: a CR or a space would end its header */
	if (!request_safe(host))
		return -EINVAL;
	n = snprintf(buf, cap,
		     "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
		     "User-Agent: limpet-probe\r\n\r\n",
		     spec->method, spec->url, host);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* --- the response ------------------------------------------------------------------------- */

struct http_answer {
	const struct probe_spec *spec;
	unsigned int status;	/* of the final response: 0 until its headers are complete */
	bool done;		/* the final response is complete, body and all */
	char *body;		/* contains and matches only: the body so far, chunks joined */
	size_t nbody;
};

static int on_headers_complete(http_parser *p)
{
	struct http_answer *a = p->data;

	/* interim answers (103 Early Hints before the response) are not the response */
	if (p->status_code / 100 == 1 && p->status_code != 101)
		return 0;
	a->status = p->status_code;
	if (a->spec->match == MATCH_DEFAULT || a->spec->match == MATCH_STATUS) {
		http_parser_pause(p, 1);
		return 0;
	}
	/* 1: no body, whatever Content-Length says (the answer to a HEAD) */
	return !strcmp(a->spec->method, "HEAD");
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_answer *a = p->data;

	/* body bytes are bytes of the buffer judged: a->body, as long as it, holds them all */
	if (a->status) {
		memcpy(a->body + a->nbody, at, n);
		a->nbody += n;
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_answer *a = p->data;

	if (a->status) {
		a->done = true;
		/* what follows the response is not ours to parse */
		http_parser_pause(p, 1);
	}
	return 0;
}

static bool body_has(const struct probe_spec *spec, const char *body, size_t n)
{
	regmatch_t range = { .rm_so = 0, .rm_eo = (regoff_t)n };

	if (spec->match == MATCH_CONTAINS)
		return memmem(body, n, spec->pattern, strlen(spec->pattern));
	/* REG_STARTEND (glibc, BSD): the body is matched to its length, NUL bytes and all */
	return !regexec(&spec->re, body, 1, &range, REG_STARTEND);
}

static enum probe_verdict verdict(const struct probe_spec *spec, bool hit, unsigned int status,
				  char err[PROBE_ERR_LEN])
{
	const char *what;

	if (hit != spec->negate)
		return PV_UP;
	switch (spec->match) {
	case MATCH_CONTAINS:
		what = hit ? "pattern found (negate)" : "pattern not found";
		break;
	case MATCH_MATCHES:
		what = hit ? "pattern matched (negate)" : "pattern not matched";
		break;
	default:
		snprintf(err, PROBE_ERR_LEN, "status %u%s", status, hit ? " (negate)" : "");
		return PV_DOWN;
	}
	snprintf(err, PROBE_ERR_LEN, "%s", what);
	return PV_DOWN;
}

enum probe_verdict probe_http_judge(const struct probe_spec *spec, const char *buf, size_t len,
				    bool eof, char err[PROBE_ERR_LEN])
{
	static const http_parser_settings cbs = {
		.on_headers_complete = on_headers_complete,
		.on_body = on_body,
		.on_message_complete = on_message_complete,
	};
	bool by_body = spec->match == MATCH_CONTAINS || spec->match == MATCH_MATCHES;
	struct http_answer a = { .spec = spec };
	http_parser p = { .data = &a };
	enum probe_verdict v;
	enum http_errno e;

	/* +1: never 0 bytes, and the body stays a C string should a regexec look past its end */
	if (by_body && !(a.body = calloc(1, len + 1))) {
		snprintf(err, PROBE_ERR_LEN, "out of memory");
		return PV_DOWN;
	}
	http_parser_init(&p, HTTP_RESPONSE);
	http_parser_execute(&p, &cbs, buf, len);
	e = HTTP_PARSER_ERRNO(&p);
	if (e == HPE_OK && eof) {
		/* a body that runs to the close ends here; one cut short by it (or by
		 * PROBE_READ_MAX) is judged as it is, but headers cut short are an error */
		http_parser_execute(&p, &cbs, NULL, 0);
		if (!a.status)
			e = HTTP_PARSER_ERRNO(&p);
	}
	if (e != HPE_OK && e != HPE_PAUSED) {
		snprintf(err, PROBE_ERR_LEN, "malformed response: %s (%s)", http_errno_name(e),
			 http_errno_description(e));
		v = PV_DOWN;
	} else if (!a.status) {
		if (eof)
			snprintf(err, PROBE_ERR_LEN, "connection closed without a response");
		v = eof ? PV_DOWN : PV_MORE;
	} else if (!by_body) {
		bool in = a.status >= 200 && a.status <= 399;

		if (spec->match == MATCH_STATUS)
			status_in(spec->pattern, a.status, &in);
		v = verdict(spec, in, a.status, err);
	} else {
		bool hit = body_has(spec, a.body, a.nbody);

		if (a.done || eof || (hit && spec->match == MATCH_CONTAINS))
			v = verdict(spec, hit, a.status, err);
		else
			v = PV_MORE;
	}
	free(a.body);
	return v;
}
