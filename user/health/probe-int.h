/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the probe protocols share inside user/health/: probe.c dispatches to one file per
 * protocol (probe_http.c, probe_smtp.c, probe_mysql.c, probe_pgsql.c). The judges get at most
 * PROBE_READ_MAX bytes (probe.c cuts there and sets eof), a non-NULL buf and err.
 */
#ifndef LIMPET_HEALTH_PROBE_INT_H
#define LIMPET_HEALTH_PROBE_INT_H

#include "health/probe.h"

/* err = prefix then n bytes of s (quoted when quoted is true) with controls and non-ASCII
 * as '?', cut with "..." so that it fits: peer bytes go into logs and the API as they are. */
void probe_err_put(char err[PROBE_ERR_LEN], const char *prefix, const char *s, size_t n,
		   bool quoted);

/* The URL, method and status pattern of an http probe: 0 or -EINVAL with err set. */
int probe_http_check(const struct probe_spec *spec, char err[PROBE_ERR_LEN]);
int probe_http_request(const struct probe_spec *spec, const char *host, char *buf, size_t cap);
enum probe_verdict probe_http_judge(const struct probe_spec *spec, const char *buf, size_t len,
				    bool eof, char err[PROBE_ERR_LEN]);

enum probe_verdict probe_smtp_judge(const char *buf, size_t len, bool eof,
				    char err[PROBE_ERR_LEN]);
enum probe_verdict probe_mysql_judge(const char *buf, size_t len, bool eof,
				     char err[PROBE_ERR_LEN]);
int probe_pgsql_request(char *buf, size_t cap);
enum probe_verdict probe_pgsql_judge(const char *buf, size_t len, bool eof,
				     char err[PROBE_ERR_LEN]);

#endif /* LIMPET_HEALTH_PROBE_INT_H */
