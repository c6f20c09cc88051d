// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config document (DESIGN.md section 4): parsed with jansson into struct config, then
 * validated whole. Two passes, both of which report every problem and go on:
 *
 *   parse     (parse.c) shape of the document: unknown fields, types, ranges, required
 *             fields, the hosted-product values limpet refuses. A field that is wrong keeps its
 *             default (or 0, "unset"), so the second pass can still run without inventing errors.
 *   validate  (check.c) what the dataplane can serve: the layer split, farm references,
 *             forwarding without NAT (ports, address families), overlapping VIPs, the abi.h
 *             limits.
 *
 * Every message is "<json path>: <what is wrong>"; the path is the document's own keys
 * (tcp.farm[0].server[2].weight), which are also the REST paths of the API.
 *
 * This file holds what the passes share (the error collector, paths, the names and text of
 * model values) and the model's lifetime; it is below the passes. load.c, above them, holds
 * the entry points; json.c writes the model back out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limpet/abi.h"
#include "config/config-int.h"

/* --- errors and paths -------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s, 0 if it is not valid UTF-8 by jansson's rules (shortest
 * form, no surrogate, at most U+10FFFF). Stops at a NUL, which is no continuation byte. */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void cfg_err_at(struct pctx *px, const char *path, const char *fmt, ...)
{
	char *msg, *line, **grown;
	va_list ap;
	int len;

	/* an 8 MiB document can hold millions of mistakes: the first ones are enough */
	if (px->nerr++ >= CFG_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (len < 0)
		goto oom;
	len = asprintf(&line, "%s: %s", path && *path ? path : "(top level)", msg);
	free(msg);
	if (len < 0)
		goto oom;
	/* Messages quote user strings and end up in logs and in the API's JSON answers: no
	 * control characters, and valid UTF-8 even where a quote cut a character short (jansson
	 * refuses a string that is not, and the answer would lose the error). */
	for (unsigned char *s = (unsigned char *)line; *s;) {
		size_t n = utf8_len(s);

		if (!n || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
			*s++ = '?';
			continue;
		}
		s += n;
	}
	if (!px->errs) {
		free(line);
		return;
	}
	grown = realloc(px->errs->msg, (px->errs->n + 1) * sizeof(*grown));
	if (!grown) {
		free(line);
		goto oom;
	}
	px->errs->msg = grown;
	px->errs->msg[px->errs->n++] = line;
	return;
oom:
	px->oom = true;
}

/* Paths are built from our own keys and bounded nesting, so they fit; mark it if not. */
void cfg_path_fit(char *out, int len)
{
	if (len >= PATH_LEN)
		memcpy(out + PATH_LEN - 4, "...", 4);
}

void cfg_path_key(char *out, const char *parent, const char *key)
{
	cfg_path_fit(out, snprintf(out, PATH_LEN, "%s%s%s", parent, *parent ? "." : "", key));
}

void cfg_path_idx(char *out, const char *parent, const char *key, size_t i)
{
	int len = snprintf(out, PATH_LEN, "%s%s%s[%zu]", parent, *parent ? "." : "", key, i);

	cfg_path_fit(out, len);
}

void *cfg_alloc_array(struct pctx *px, size_t n, size_t size)
{
	void *p;

	if (!n)
		return NULL;
	p = calloc(n, size);
	if (!p)
		px->oom = true;
	return p;
}

/* --- names and text of model values ------------------------------------------------------ */

static const char *const layer_names[] = {
	[CFG_TCP] = "tcp", [CFG_UDP] = "udp", [CFG_HTTP] = "http", NULL
};
const char *const cfg_balance_names[] = {
	[BAL_FIRST] = "first", [BAL_LEASTCONN] = "leastconn", [BAL_ROUNDROBIN] = "roundrobin",
	[BAL_SOURCE] = "source", [BAL_URI] = "uri", NULL
};
/* "null" is a value of the hosted API's stickiness enum; JSON null and absence mean it too. */
const char *const cfg_stickiness_names[] = {
	[STICK_NULL] = "null", [STICK_SOURCE_IP] = "sourceIp", [STICK_COOKIE] = "cookie", NULL
};
const char *const cfg_forwarding_names[] = { [FWD_DSR] = "dsr", [FWD_IPIP] = "ipip", NULL };

const char *cfg_layer_name(enum cfg_layer l)
{
	return (unsigned int)l < CFG_LAYERS ? layer_names[l] : "?";
}

bool cfg_addr_eq(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == LB_V4 ? 4 : sizeof(a->addr));
}

const char *cfg_addr_str(const struct cfg_addr *a, char buf[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(a->family == LB_V4 ? AF_INET : AF_INET6, a->addr, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

const char *cfg_family_name(uint8_t family)
{
	return family == LB_V4 ? "IPv4" : "IPv6";
}

/* "80,443,8000-8100": the canonical text of a port set (sorted, merged), malloc'ed. */
char *cfg_ports_str(const struct cfg_ports *p)
{
	size_t size = p->n * 12 + 1, used = 0;
	char *s = malloc(size);

	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		const char *sep = i ? "," : "";

		if (p->range[i].lo == p->range[i].hi)
			used += snprintf(s + used, size - used, "%s%u", sep, p->range[i].lo);
		else
			used += snprintf(s + used, size - used, "%s%u-%u", sep, p->range[i].lo,
					 p->range[i].hi);
	}
	return s;
}

/* --- lookups ----------------------------------------------------------------------------- */

int cfg_farm_index(const struct cfg_layer_cfg *lc, uint32_t id)
{
	for (size_t i = 0; i < lc->nfarms; i++)
		if (lc->farms[i].id == id)
			return (int)i;
	return -1;
}

const struct cfg_farm *config_find_farm(const struct config *c, enum cfg_layer l, uint32_t id)
{
	int j;

	if (!c || (unsigned int)l >= CFG_LAYERS)
		return NULL;
	j = cfg_farm_index(&c->layer[l], id);
	return j < 0 ? NULL : &c->layer[l].farms[j];
}

/* --- lifetime ---------------------------------------------------------------------------- */

static void probe_free(struct cfg_probe *p)
{
	free(p->type);
	free(p->url);
	free(p->method);
	free(p->match);
	free(p->pattern);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (int l = 0; l < CFG_LAYERS; l++) {
		struct cfg_layer_cfg *lc = &c->layer[l];

		for (size_t i = 0; i < lc->nfrontends; i++) {
			free(lc->frontends[i].display_name);
			free(lc->frontends[i].ports.range);
			free(lc->frontends[i].allowed);
		}
		free(lc->frontends);
		for (size_t j = 0; j < lc->nfarms; j++) {
			struct cfg_farm *f = &lc->farms[j];

			free(f->display_name);
			free(f->cookie_name);
			probe_free(&f->probe);
			for (size_t k = 0; k < f->nservers; k++) {
				free(f->servers[k].display_name);
				free(f->servers[k].on_marked_down);
				free(f->servers[k].proxy_protocol);
			}
			free(f->servers);
		}
		free(lc->farms);
	}
	free(c->service_name);
	free(c->zone);
	free(c);
}

void cfg_errors_free(struct cfg_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
}
