// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Probe specs and the dispatch to each protocol's file; the error text helper they share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/probe-int.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const type_names[] = {
	[PROBE_TCP] = "tcp", [PROBE_HTTP] = "http", [PROBE_SMTP] = "smtp",
	[PROBE_MYSQL] = "mysql", [PROBE_PGSQL] = "pgsql",
};

static const char *const match_names[] = {
	[MATCH_DEFAULT] = "default", [MATCH_STATUS] = "status", [MATCH_CONTAINS] = "contains",
	[MATCH_MATCHES] = "matches",
};

static int name_lookup(const char *const names[], size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

int probe_spec_init(struct probe_spec *spec, const struct cfg_probe *cfg,
		    char err[PROBE_ERR_LEN])
{
	int type, match, ret;

	memset(spec, 0, sizeof(*spec));
	err[0] = '\0';
	type = name_lookup(type_names, ARRAY_SIZE(type_names), cfg->type);
	if (type < 0) {
		snprintf(err, PROBE_ERR_LEN, "unknown probe type \"%s\"",
			 cfg->type ? cfg->type : "(none)");
		return -EINVAL;
	}
	spec->type = type;
	/* match, pattern and negate judge an http answer; the other types have nothing to
	 * match them against */
	if (type != PROBE_HTTP)
		return 0;

	match = cfg->match ? name_lookup(match_names, ARRAY_SIZE(match_names), cfg->match)
			   : MATCH_DEFAULT;
	if (match < 0) {
		snprintf(err, PROBE_ERR_LEN, "unknown match \"%s\"", cfg->match);
		return -EINVAL;
	}
	if (match != MATCH_DEFAULT && !cfg->pattern) {
		snprintf(err, PROBE_ERR_LEN, "match \"%s\" needs a pattern", cfg->match);
		return -EINVAL;
	}
	spec->negate = cfg->negate;
	spec->method = strdup(cfg->method ? cfg->method : "GET");
	spec->url = strdup(cfg->url ? cfg->url : "/");
	spec->pattern = match != MATCH_DEFAULT ? strdup(cfg->pattern) : NULL;
	if (!spec->method || !spec->url || (match != MATCH_DEFAULT && !spec->pattern)) {
		snprintf(err, PROBE_ERR_LEN, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	if (match == MATCH_MATCHES) {
		ret = regcomp(&spec->re, spec->pattern, REG_EXTENDED | REG_NOSUB);
		if (ret) {
			char why[PROBE_ERR_LEN - 32];

			regerror(ret, &spec->re, why, sizeof(why));
			snprintf(err, PROBE_ERR_LEN, "pattern is not a regex: %s", why);
			ret = -EINVAL;
			goto fail;
		}
	}
	/* only now: probe_spec_free() frees the regex of a "matches" spec */
	spec->match = match;
	ret = probe_http_check(spec, err);
	if (ret)
		goto fail;
	return 0;
fail:
	probe_spec_free(spec);
	return ret;
}

void probe_spec_free(struct probe_spec *spec)
{
	if (!spec)
		return;
	if (spec->match == MATCH_MATCHES)
		regfree(&spec->re);
	free(spec->method);
	free(spec->url);
	free(spec->pattern);
	memset(spec, 0, sizeof(*spec));
}

int probe_request(const struct probe_spec *spec, const char *host, char *buf, size_t cap)
{
	switch (spec->type) {
	case PROBE_HTTP:
		return probe_http_request(spec, host, buf, cap);
	case PROBE_PGSQL:
		return probe_pgsql_request(buf, cap);
	default:
		/* tcp needs only the connect; smtp and mysql servers speak first */
		return 0;
	}
}

enum probe_verdict probe_judge(const struct probe_spec *spec, const char *buf, size_t len,
			       bool eof, char err[PROBE_ERR_LEN])
{
	err[0] = '\0';
	/* No peer makes a judge read past the bound, whatever the caller does: at the bound
	 * the answer is judged as it is. */
	if (len >= PROBE_READ_MAX) {
		len = PROBE_READ_MAX;
		eof = true;
	}
	/* the judges may do pointer arithmetic on buf, which NULL does not allow */
	if (!len)
		buf = "";
	switch (spec->type) {
	case PROBE_HTTP:
		return probe_http_judge(spec, buf, len, eof, err);
	case PROBE_SMTP:
		return probe_smtp_judge(buf, len, eof, err);
	case PROBE_MYSQL:
		return probe_mysql_judge(buf, len, eof, err);
	case PROBE_PGSQL:
		return probe_pgsql_judge(buf, len, eof, err);
	default:
		/* tcp is up at connect: there is nothing to judge */
		return PV_UP;
	}
}

const char *probe_goodbye(const struct probe_spec *spec)
{
	return spec->type == PROBE_SMTP ? "QUIT\r\n" : NULL;
}

void probe_err_put(char err[PROBE_ERR_LEN], const char *prefix, const char *s, size_t n,
		   bool quoted)
{
	static const char cut[] = "...";
	size_t o = strnlen(prefix, PROBE_ERR_LEN - 1), room;

	memcpy(err, prefix, o);
	/* what is left once the quotes and the NUL have their bytes */
	room = PROBE_ERR_LEN - 1 - o;
	room = room > 2u * quoted ? room - 2u * quoted : 0;
	if (room < sizeof(cut)) {
		err[o] = '\0';
		return;
	}
	if (quoted)
		err[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (i == room - (sizeof(cut) - 1) && n > room) {
			memcpy(err + o, cut, sizeof(cut) - 1);
			o += sizeof(cut) - 1;
			break;
		}
		err[o++] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	if (quoted)
		err[o++] = '"';
	err[o] = '\0';
}
