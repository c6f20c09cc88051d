// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config document (DESIGN.md section 4): parsed with jansson into struct config, then
 * validated whole. Two passes, both of which report every problem and go on:
 *
 *   parse     (config_parse.c) shape of the document: unknown fields, types, ranges, required
 *             fields, the hosted-product values limpet refuses. A field that is wrong keeps its
 *             default (or 0, "unset"), so the second pass can still run without inventing errors.
 *   validate  (config_check.c) what the dataplane can serve: the layer split, farm references,
 *             forwarding without NAT (ports, address families), overlapping VIPs, the abi.h
 *             limits.
 *
 * Every message is "<json path>: <what is wrong>"; the path is the document's own keys
 * (tcp.farm[0].server[2].weight), which are also the REST paths of the API.
 *
 * This file holds what the passes share (the error collector, paths, the names and text of
 * model values), the model's lifetime and the entry points. config_json.c writes it back out.
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
#include "config-int.h"

#define CFG_FILE_MAX		(64u << 20)

/* --- errors and paths -------------------------------------------------------------------- */

void cfg_err_at(struct pctx *px, const char *path, const char *fmt, ...)
{
	char *msg, *line, **grown;
	va_list ap;
	int len;

	px->nerr++;
	va_start(ap, fmt);
	len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (len < 0)
		goto oom;
	len = asprintf(&line, "%s: %s", path && *path ? path : "(top level)", msg);
	free(msg);
	if (len < 0)
		goto oom;
	/* Messages quote user strings and end up in logs: no control characters. */
	for (char *s = line; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
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

/* --- entry points ------------------------------------------------------------------------ */

/* source: prefix of the JSON syntax error position (a file name), or NULL. */
static int parse_text(const char *text, size_t len, const char *source, struct config **out,
		      struct cfg_errors *errs)
{
	struct pctx px = { .errs = errs };
	struct config *c = NULL;
	json_error_t jerr;
	char *where;
	json_t *root;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (asprintf(&where, "%s%s%d:%d", source ? source : "", source ? ":" : "",
			     jerr.line, jerr.column) < 0) {
			px.oom = true;
			goto out;
		}
		cfg_err_at(&px, where, "config is not valid JSON: %s", jerr.text);
		free(where);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		px.oom = true;
		goto out;
	}
	cfg_parse_root(&px, root, c);
	if (!px.oom)
		cfg_validate(&px, c);
out:
	json_decref(root);
	if (px.oom || px.nerr) {
		config_free(c);
		return px.oom ? -ENOMEM : -EINVAL;
	}
	*out = c;
	return 0;
}

int config_parse(const char *text, size_t len, struct config **out, struct cfg_errors *errs)
{
	*out = NULL;
	if (errs)
		*errs = (struct cfg_errors){ 0 };
	return parse_text(text, len, NULL, out, errs);
}

int config_load_file(const char *path, struct config **out, struct cfg_errors *errs)
{
	struct pctx px = { .errs = errs };
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, err;

	*out = NULL;
	if (errs)
		*errs = (struct cfg_errors){ 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto close;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto close;
	}
	if (st.st_size > CFG_FILE_MAX) {
		err = -EFBIG;
		goto close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto close;
	}
	/* st_size is a hint (the file may change under us): read until EOF, within the cap. */
	for (size_t cap = (size_t)st.st_size + 1;;) {
		ssize_t r;

		if (len == cap) {
			char *grown = cap >= CFG_FILE_MAX ? NULL : realloc(buf, cap * 2);

			if (!grown) {
				err = cap >= CFG_FILE_MAX ? -EFBIG : -ENOMEM;
				goto close;
			}
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto close;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	close(fd);
	err = parse_text(buf, len, path, out, errs);
	free(buf);
	return err;
close:
	close(fd);
fail:
	free(buf);
	if (err == -ENOMEM)
		return err;
	cfg_err_at(&px, path, "cannot read the config: %s", strerror(-err));
	return err;
}
