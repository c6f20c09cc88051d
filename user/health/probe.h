/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Health probe protocols (issue 7): what to send once connected and how to judge what comes
 * back, for the probe types of DESIGN.md section 4 (tcp, http, smtp, mysql, pgsql). Pure
 * functions over byte buffers: no sockets, no clock (the engine, health.c, owns those), so
 * each protocol is unit-tested on the real greeting bytes.
 */
#ifndef LIMPET_HEALTH_PROBE_H
#define LIMPET_HEALTH_PROBE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum probe_type { PROBE_TCP, PROBE_HTTP, PROBE_SMTP, PROBE_MYSQL, PROBE_PGSQL };

#define PROBE_READ_MAX	(64u << 10)	/* bytes of an answer read at most (http body: bounded) */
#define PROBE_ERR_LEN	128

/* A farm's probe, compiled once per config: the regex of match "matches" among others. */
struct probe_spec {
	enum probe_type type;
	char *method, *url;		/* http: GET|HEAD|OPTIONS, default GET and "/" */
	enum { MATCH_DEFAULT, MATCH_STATUS, MATCH_CONTAINS, MATCH_MATCHES } match;
	char *pattern;			/* status: "200", "200-299,302"; contains: text */
	regex_t re;			/* matches: POSIX extended */
	bool negate;
};

enum probe_verdict {
	PV_MORE,	/* need more bytes (or the peer's close) to decide */
	PV_UP,
	PV_DOWN,	/* err says why: "status 500", "pattern not found", ... */
};

/* Compile cfg (present, validated) into spec; -EINVAL with err set if the pattern does not
 * compile (validation accepts only patterns that do). */
int probe_spec_init(struct probe_spec *spec, const struct cfg_probe *cfg,
		    char err[PROBE_ERR_LEN]);
void probe_spec_free(struct probe_spec *spec);

/* The bytes to send once connected (http: the request with Host: host, host as the header
 * says it: "[2001:db8::1]:8080"; pgsql: SSLRequest; tcp, smtp, mysql: none). Returns the
 * length, 0 for none; -ENOSPC if cap is too small (http also writes a NUL after the request);
 * -EINVAL if host is empty or has a byte a header line cannot hold (space, control). */
int probe_request(const struct probe_spec *spec, const char *host, char *buf, size_t cap);

/*
 * Judge the answer so far: buf holds every byte received since connect (len of them), eof
 * says whether the peer closed. tcp is up at connect and never calls this. PV_DOWN fills err
 * ("no 220 greeting: got \"554 ...\"", "status 500", "pattern not found", "protocol version
 * 9, want 10", ...), printable ASCII, peer bytes sanitised. PROBE_READ_MAX bytes are a verdict
 * as if the peer had closed (eof = true): never PV_MORE, and no byte past them is read.
 */
enum probe_verdict probe_judge(const struct probe_spec *spec, const char *buf, size_t len,
			       bool eof, char err[PROBE_ERR_LEN]);

/* What to send after an up verdict before closing, politely (smtp: "QUIT\r\n"), or NULL. */
const char *probe_goodbye(const struct probe_spec *spec);

#endif /* LIMPET_HEALTH_PROBE_H */
