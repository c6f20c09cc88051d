// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config document (DESIGN.md section 4): parsed with jansson into struct config, then
 * validated whole. Two passes, both of which report every problem and go on:
 *
 *   parse     shape of the document: unknown fields, types, ranges, required fields, the
 *             hosted-product values limpet refuses. A field that is wrong keeps its default
 *             (or 0, "unset"), so the second pass can still run without inventing errors.
 *   validate  what the dataplane can serve: the layer split, farm references, forwarding
 *             without NAT (ports, address families), overlapping VIPs, the abi.h limits.
 *
 * Every message is "<json path>: <what is wrong>"; the path is the document's own keys
 * (tcp.farm[0].server[2].weight), which are also the REST paths of the API.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limpet/abi.h"
#include "limpet/hash.h"
#include "config.h"
#include "maglev.h"

/* Longest path: http.farm[N].server[N].proxyProtocolVersion, with room to spare. */
#define PATH_LEN		128
#define CFG_FILE_MAX		(64u << 20)
#define CFG_ZONE_DEFAULT	"local"
#define PROBE_INTERVAL_DEFAULT	30
#define PROBE_INTERVAL_MAX	86400
#define PROBE_RISE_DEFAULT	2
#define PROBE_FALL_DEFAULT	3
#define PROBE_COUNT_MAX		100	/* rise / fall */
#define STICKY_TIMEOUT_MAX	86400
#define COOKIE_NAME_MAX		64
#define XSTR(x)			STR(x)
#define STR(x)			#x
#define NAME_RULE		"1.." XSTR(CFG_NAME_MAX) " characters of A-Z a-z 0-9 _ -"
#define PORT_EXAMPLES		"\"80\", \"80,443\", \"8000-8100\""
#define NO_HTTP			"the http layer (L7 proxy) is not available in this version"
/* Pairwise checks (duplicate ids, overlapping VIPs) are quadratic: beyond the abi.h limits the
 * limit error is reported and they are skipped, so a hostile document cannot stall the daemon. */
#define PAIRWISE_MAX		4096

enum { FIELD_BAD = -1, FIELD_ABSENT = 0, FIELD_OK = 1 };

struct pctx {
	struct cfg_errors *errs;	/* NULL: count only */
	size_t nerr;
	bool oom;
};

/* --- errors and paths ------------------------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
err_at(struct pctx *px, const char *path, const char *fmt, ...)
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
static void path_fit(char *out, int len)
{
	if (len >= PATH_LEN)
		memcpy(out + PATH_LEN - 4, "...", 4);
}

static void path_key(char *out, const char *parent, const char *key)
{
	path_fit(out, snprintf(out, PATH_LEN, "%s%s%s", parent, *parent ? "." : "", key));
}

static void path_idx(char *out, const char *parent, const char *key, size_t i)
{
	path_fit(out, snprintf(out, PATH_LEN, "%s%s%s[%zu]", parent, *parent ? "." : "", key, i));
}

static void *alloc_array(struct pctx *px, size_t n, size_t size)
{
	void *p;

	if (!n)
		return NULL;
	p = calloc(n, size);
	if (!p)
		px->oom = true;
	return p;
}

static char *dup_or_oom(struct pctx *px, const char *s)
{
	char *d = strdup(s);

	if (!d)
		px->oom = true;
	return d;
}

/* --- typed field access ----------------------------------------------------------------- */

static const char *kind_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON type";
}

/* v is of type t (JSON_TRUE stands for either boolean); else report it at path. */
static bool want_at(struct pctx *px, const json_t *v, const char *path, json_type t)
{
	if (json_typeof(v) == t || (t == JSON_TRUE && json_is_boolean(v)))
		return true;
	err_at(px, path, "expected %s, got %s", kind_name(t), kind_name(json_typeof(v)));
	return false;
}

/* The value of key, NULL when absent. JSON null counts as absent (the hosted API exports
 * unset optional fields as null); a required field that is absent is reported. */
static json_t *field(struct pctx *px, json_t *obj, const char *parent, const char *key,
		     bool required)
{
	json_t *v = json_object_get(obj, key);
	char p[PATH_LEN];

	if (v && !json_is_null(v))
		return v;
	if (required) {
		path_key(p, parent, key);
		err_at(px, p, v ? "required, got null" : "required field missing");
	}
	return NULL;
}

/* Look the field up and check its type: FIELD_OK with *out, FIELD_ABSENT or FIELD_BAD. */
static int get_typed(struct pctx *px, json_t *obj, const char *parent, const char *key,
		     bool required, json_type t, json_t **out)
{
	json_t *v = field(px, obj, parent, key, required);
	char p[PATH_LEN];

	if (!v)
		return required ? FIELD_BAD : FIELD_ABSENT;
	path_key(p, parent, key);
	if (!want_at(px, v, p, t))
		return FIELD_BAD;
	*out = v;
	return FIELD_OK;
}

/* *out is written only on FIELD_OK, so the caller's default stands otherwise. */
static int get_u32(struct pctx *px, json_t *obj, const char *parent, const char *key,
		   bool required, long long min, long long max, uint32_t *out)
{
	char p[PATH_LEN];
	long long x;
	json_t *v;
	int rc;

	rc = get_typed(px, obj, parent, key, required, JSON_INTEGER, &v);
	if (rc != FIELD_OK)
		return rc;
	x = json_integer_value(v);
	if (x < min || x > max) {
		path_key(p, parent, key);
		err_at(px, p, "%lld is out of range %lld..%lld", x, min, max);
		return FIELD_BAD;
	}
	*out = (uint32_t)x;
	return FIELD_OK;
}

static int get_port(struct pctx *px, json_t *obj, const char *parent, const char *key,
		    uint16_t *out)
{
	uint32_t x;
	int rc = get_u32(px, obj, parent, key, false, 1, 65535, &x);

	if (rc == FIELD_OK)
		*out = (uint16_t)x;
	return rc;
}

static int get_bool(struct pctx *px, json_t *obj, const char *parent, const char *key, bool *out)
{
	json_t *v;
	int rc = get_typed(px, obj, parent, key, false, JSON_TRUE, &v);

	if (rc == FIELD_OK)
		*out = json_is_true(v);
	return rc;
}

static int get_str(struct pctx *px, json_t *obj, const char *parent, const char *key,
		   bool required, const char **out)
{
	char p[PATH_LEN];
	json_t *v;
	int rc;

	rc = get_typed(px, obj, parent, key, required, JSON_STRING, &v);
	if (rc != FIELD_OK)
		return rc;
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		path_key(p, parent, key);
		err_at(px, p, "contains a NUL character");
		return FIELD_BAD;
	}
	*out = json_string_value(v);
	return FIELD_OK;
}

static int dup_str(struct pctx *px, json_t *obj, const char *parent, const char *key,
		   char **out)
{
	const char *s;
	int rc = get_str(px, obj, parent, key, false, &s);

	if (rc == FIELD_OK)
		*out = dup_or_oom(px, s);
	return rc;
}

/* Index of s in the NULL-terminated names, or -1 after reporting it at path. */
static int enum_lookup(struct pctx *px, const char *path, const char *s,
		       const char *const names[])
{
	char list[128] = "";
	size_t used = 0;

	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	for (int i = 0; names[i] && used < sizeof(list); i++)
		used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? "|" : "", names[i]);
	err_at(px, path, "\"%.64s\" is not one of %s", s, list);
	return -1;
}

static int get_enum(struct pctx *px, json_t *obj, const char *parent, const char *key,
		    const char *const names[], int *out)
{
	char p[PATH_LEN];
	const char *s;
	int rc, i;

	rc = get_str(px, obj, parent, key, false, &s);
	if (rc != FIELD_OK)
		return rc;
	path_key(p, parent, key);
	i = enum_lookup(px, p, s, names);
	if (i < 0)
		return FIELD_BAD;
	*out = i;
	return FIELD_OK;
}

/* An enum kept as its canonical string in the model. */
static int dup_enum(struct pctx *px, json_t *obj, const char *parent, const char *key,
		    const char *const names[], char **out)
{
	int i, rc = get_enum(px, obj, parent, key, names, &i);

	if (rc == FIELD_OK)
		*out = dup_or_oom(px, names[i]);
	return rc;
}

/* --- unknown and refused fields --------------------------------------------------------- */

struct refusal {
	const char *name;
	const char *why;
};

#define WHY_TLS		"TLS is not terminated here"
#define WHY_CHAIN	"TLS is not terminated here, there is no certificate chain to use"
#define WHY_VRACK	"no vRack: servers are reached on the networks of the limpet node"

static bool in_list(const char *s, const char *const list[])
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

/* Optimal string alignment distance, case-insensitive: a typo or a swapped pair costs one. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static const char *suggest(const char *key, const char *const known[])
{
	size_t best = strlen(key) <= 4 ? 1 : 2, d;
	const char *hit = NULL;

	for (int i = 0; known[i]; i++) {
		d = edit_distance(key, known[i]);
		if (d <= best) {
			best = d;
			hit = known[i];
		}
	}
	return hit;
}

/*
 * Every key of obj must be known. A refused key (a hosted-product feature limpet does not
 * serve) is accepted only with the value that means "off" (false or null), so that an export
 * of a hosted service without that feature still loads and nothing is silently dropped.
 */
static void check_fields(struct pctx *px, json_t *obj, const char *path, const char *const known[],
			 const struct refusal *refused)
{
	const struct refusal *r;
	char p[PATH_LEN];
	const char *key, *hint;
	json_t *v;

	json_object_foreach(obj, key, v) {
		if (in_list(key, known))
			continue;
		for (r = refused; r && r->name && strcmp(r->name, key); r++)
			;
		if (r && r->name) {
			if (!json_is_null(v) && !json_is_false(v)) {
				path_key(p, path, key);
				err_at(px, p, "not supported by limpet (%s)", r->why);
			}
			continue;
		}
		hint = suggest(key, known);
		if (hint)
			err_at(px, path, "unknown field \"%.64s\" (did you mean \"%s\"?)", key,
			       hint);
		else
			err_at(px, path, "unknown field \"%.64s\"", key);
	}
}

static bool is_object(struct pctx *px, const json_t *v, const char *path)
{
	return want_at(px, v, path, JSON_OBJECT);
}

/* --- values: names, addresses, prefixes, port sets -------------------------------------- */

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < 1 || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* An HTTP cookie name is an RFC 9110 token. */
static bool cookie_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > COOKIE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *s))
			return false;
	return true;
}

static int addr_parse(const char *s, struct cfg_addr *a)
{
	struct in6_addr a6;
	struct in_addr a4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a4) == 1) {
		a->family = LB_V4;
		memcpy(&a->addr[0], &a4, sizeof(a4));
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		a->family = LB_V6;
		memcpy(a->addr, &a6, sizeof(a6));
		return 0;
	}
	return -EINVAL;
}

static const char *addr_str(const struct cfg_addr *a, char buf[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(a->family == LB_V4 ? AF_INET : AF_INET6, a->addr, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

static const char *family_name(uint8_t family)
{
	return family == LB_V4 ? "IPv4" : "IPv6";
}

static bool addr_eq(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int get_addr(struct pctx *px, json_t *obj, const char *parent, const char *key,
		    struct cfg_addr *out)
{
	char p[PATH_LEN];
	const char *s;
	int rc = get_str(px, obj, parent, key, true, &s);

	if (rc != FIELD_OK)
		return rc;
	if (addr_parse(s, out)) {
		path_key(p, parent, key);
		err_at(px, p, "\"%.64s\" is not an IPv4 or IPv6 address", s);
		return FIELD_BAD;
	}
	return FIELD_OK;
}

/* "198.18.0.0/15", or a bare address (a /32 or /128). Reports at path; 0 or -EINVAL. */
static int cidr_parse(struct pctx *px, const char *path, const char *s, struct cfg_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	unsigned int max, bytes;
	uint8_t *b;
	bool host = false;
	char *end;

	if (alen >= sizeof(buf))
		goto bad;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (addr_parse(buf, &out->addr))
		goto bad;
	max = out->addr.family == LB_V4 ? 32 : 128;
	len = max;
	if (slash) {
		if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3)
			goto bad;
		len = strtoul(slash + 1, &end, 10);
		if (*end)
			goto bad;
		if (len > max) {
			err_at(px, path, "\"%.64s\": prefix length %lu exceeds %u for %s", s, len,
			       max, family_name(out->addr.family));
			return -EINVAL;
		}
	}
	out->len = (uint8_t)len;
	b = (uint8_t *)out->addr.addr;
	bytes = max / 8;
	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		uint8_t mask = keep ? (uint8_t)(0xff00u >> keep) : 0;

		if (b[i] & ~mask) {
			host = true;
			b[i] &= mask;
		}
	}
	if (host) {
		err_at(px, path, "\"%.64s\" has host bits set (the prefix is %s/%lu)", s,
		       addr_str(&out->addr, net), len);
		return -EINVAL;
	}
	return 0;
bad:
	err_at(px, path, "\"%.64s\" is not an address or a prefix (address/length)", s);
	return -EINVAL;
}

static uint64_t ports_count(const struct cfg_ports *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->range[i].hi - p->range[i].lo + 1u;
	return n;
}

static bool ports_single(const struct cfg_ports *p)
{
	return p->n == 1 && p->range[0].lo == p->range[0].hi;
}

/* "80,443,8000-8100": the canonical text of a port set (sorted, merged), malloc'ed. */
static char *ports_str(const struct cfg_ports *p)
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

/* One decimal port number of [s, e): 1..65535. */
static int port_num(struct pctx *px, const char *path, const char *s, const char *e,
		    unsigned long *out)
{
	unsigned long x = 0;

	for (const char *c = s; c < e; c++)
		x = x > 65535 ? x : x * 10 + (unsigned long)(*c - '0');
	if (x < 1 || x > 65535) {
		err_at(px, path, "port %.*s is out of range 1..65535",
		       (int)(e - s > 10 ? 10 : e - s), s);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

/*
 * "80", "80,443", "8000-8100" and comma lists of those (spaces around entries allowed), into
 * sorted ranges with overlapping and adjacent ones merged: the set of ports is what counts.
 * Reports the first problem at path.
 */
static int ports_parse(struct pctx *px, const char *path, const char *s, struct cfg_ports *out)
{
	uint64_t set[65536 / 64] = { 0 };
	const char *t = s;
	size_t n = 0;

	for (;;) {
		const char *end = strchr(t, ','), *a, *b, *dash = NULL, *c;
		unsigned long lo, hi;

		if (!end)
			end = t + strlen(t);
		for (a = t; a < end && *a == ' '; a++)
			;
		for (b = end; b > a && b[-1] == ' '; b--)
			;
		if (a == b) {
			err_at(px, path, "\"%.64s\": empty entry (expected e.g. %s)", s,
			       PORT_EXAMPLES);
			return -EINVAL;
		}
		for (c = a; c < b; c++) {
			if (*c == '-' && !dash && c > a && c + 1 < b)
				dash = c;
			else if (!isdigit((unsigned char)*c))
				break;
		}
		if (c < b) {
			err_at(px, path, "\"%.*s\" is not a port or a port range (expected e.g. "
			       "%s)", (int)(b - a > 32 ? 32 : b - a), a, PORT_EXAMPLES);
			return -EINVAL;
		}
		if (port_num(px, path, a, dash ? dash : b, &lo))
			return -EINVAL;
		hi = lo;
		if (dash) {
			if (port_num(px, path, dash + 1, b, &hi))
				return -EINVAL;
			if (lo > hi) {
				err_at(px, path, "range %lu-%lu is reversed (%lu > %lu)", lo, hi,
				       lo, hi);
				return -EINVAL;
			}
		}
		for (unsigned long p = lo; p <= hi; p++)
			set[p / 64] |= 1ull << (p % 64);
		if (!*end)
			break;
		t = end + 1;
	}

	/* Two passes over the set: count the ranges, then fill them. */
	for (int pass = 0; pass < 2; pass++) {
		n = 0;
		for (uint32_t p = 1; p <= 65535; p++) {
			uint32_t lo;

			if (!set[p / 64]) {
				p |= 63;
				continue;
			}
			if (!(set[p / 64] & (1ull << (p % 64))))
				continue;
			lo = p;
			while (p + 1 <= 65535 && set[(p + 1) / 64] & (1ull << ((p + 1) % 64)))
				p++;
			if (pass) {
				out->range[n].lo = (uint16_t)lo;
				out->range[n].hi = (uint16_t)p;
			}
			n++;
		}
		if (!pass) {
			out->range = alloc_array(px, n, sizeof(*out->range));
			if (!out->range)
				return -ENOMEM;
		}
	}
	out->n = n;
	return 0;
}

/* First port in both sets (sorted, disjoint ranges), 0 if none. */
static uint32_t ports_overlap(const struct cfg_ports *a, const struct cfg_ports *b)
{
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		uint32_t lo = a->range[i].lo > b->range[j].lo ? a->range[i].lo : b->range[j].lo;
		uint32_t hi = a->range[i].hi < b->range[j].hi ? a->range[i].hi : b->range[j].hi;

		if (lo <= hi)
			return lo;
		if (a->range[i].hi < b->range[j].hi)
			i++;
		else
			j++;
	}
	return 0;
}

/* --- enums ------------------------------------------------------------------------------- */

static const char *const layer_names[] = {
	[CFG_TCP] = "tcp", [CFG_UDP] = "udp", [CFG_HTTP] = "http", NULL
};
static const char *const balance_names[] = {
	[BAL_FIRST] = "first", [BAL_LEASTCONN] = "leastconn", [BAL_ROUNDROBIN] = "roundrobin",
	[BAL_SOURCE] = "source", [BAL_URI] = "uri", NULL
};
/* "null" is a value of the hosted API's stickiness enum; JSON null and absence mean it too. */
static const char *const stickiness_names[] = {
	[STICK_NULL] = "null", [STICK_SOURCE_IP] = "sourceIp", [STICK_COOKIE] = "cookie", NULL
};
static const char *const forwarding_names[] = { [FWD_DSR] = "dsr", [FWD_IPIP] = "ipip", NULL };
static const char *const probe_types[] = { "tcp", "http", "smtp", "mysql", "pgsql", NULL };
static const char *const probe_methods[] = { "GET", "HEAD", "OPTIONS", NULL };
static const char *const probe_matches[] = { "default", "status", "contains", "matches", NULL };
static const char *const server_statuses[] = { "active", "inactive", NULL };
static const char *const marked_down_actions[] = { "shutdown-sessions", NULL };
static const char *const proxy_versions[] = { "v1", "v2", NULL };

const char *cfg_layer_name(enum cfg_layer l)
{
	return (unsigned int)l < CFG_LAYERS ? layer_names[l] : "?";
}

/* --- parse: one function per object kind -------------------------------------------------- */

static void parse_probe(struct pctx *px, json_t *v, const char *path, struct cfg_probe *pr)
{
	static const char *const known[] = {
		"type", "interval", "port", "url", "method", "match", "pattern", "negate",
		"forceSsl", "rise", "fall", NULL
	};
	char p[PATH_LEN];
	const char *type;
	int i;

	pr->present = true;
	pr->interval = PROBE_INTERVAL_DEFAULT;
	pr->rise = PROBE_RISE_DEFAULT;
	pr->fall = PROBE_FALL_DEFAULT;
	if (!is_object(px, v, path))
		return;
	check_fields(px, v, path, known, NULL);

	if (get_str(px, v, path, "type", true, &type) == FIELD_OK) {
		path_key(p, path, "type");
		if (!strcmp(type, "oco") || !strcmp(type, "internal"))
			err_at(px, p, "probe type \"%s\" is not supported by limpet (a "
			       "hosted-product check; use tcp, http, smtp, mysql or pgsql)", type);
		else if ((i = enum_lookup(px, p, type, probe_types)) >= 0)
			pr->type = dup_or_oom(px, probe_types[i]);
	}
	get_u32(px, v, path, "interval", false, 1, PROBE_INTERVAL_MAX, &pr->interval);
	get_port(px, v, path, "port", &pr->port);
	dup_str(px, v, path, "url", &pr->url);
	dup_enum(px, v, path, "method", probe_methods, &pr->method);
	if (dup_enum(px, v, path, "match", probe_matches, &pr->match) != FIELD_OK)
		pr->match = dup_or_oom(px, "default");
	dup_str(px, v, path, "pattern", &pr->pattern);
	get_bool(px, v, path, "negate", &pr->negate);
	get_bool(px, v, path, "forceSsl", &pr->force_ssl);
	get_u32(px, v, path, "rise", false, 1, PROBE_COUNT_MAX, &pr->rise);
	get_u32(px, v, path, "fall", false, 1, PROBE_COUNT_MAX, &pr->fall);

	/* A probe option the probe type does not use would be silently ignored. */
	if (pr->type && strcmp(pr->type, "http")) {
		if (pr->url) {
			path_key(p, path, "url");
			err_at(px, p, "only meaningful for an http probe (type is %s)", pr->type);
		}
		if (pr->method) {
			path_key(p, path, "method");
			err_at(px, p, "only meaningful for an http probe (type is %s)", pr->type);
		}
	}
	if (pr->match && strcmp(pr->match, "default") && !pr->pattern) {
		path_key(p, path, "pattern");
		err_at(px, p, "required with match \"%s\"", pr->match);
	}
}

static void parse_server(struct pctx *px, json_t *v, const char *path, struct cfg_server *s)
{
	static const char *const known[] = {
		"serverId", "displayName", "address", "port", "weight", "status", "backup", "probe",
		"onMarkedDown", "proxyProtocolVersion", "cookie", NULL
	};
	static const struct refusal refused[] = {
		{ "ssl", WHY_TLS }, { "chain", WHY_CHAIN }, { NULL, NULL }
	};
	json_t *cookie;
	int status;

	s->weight = 1;
	s->active = true;
	if (!is_object(px, v, path))
		return;
	check_fields(px, v, path, known, refused);

	get_u32(px, v, path, "serverId", true, 1, UINT32_MAX, &s->id);
	dup_str(px, v, path, "displayName", &s->display_name);
	get_addr(px, v, path, "address", &s->addr);
	get_port(px, v, path, "port", &s->port);
	get_u32(px, v, path, "weight", false, CFG_WEIGHT_MIN, CFG_WEIGHT_MAX, &s->weight);
	if (get_enum(px, v, path, "status", server_statuses, &status) == FIELD_OK)
		s->active = status == 0;
	get_bool(px, v, path, "backup", &s->backup);
	get_bool(px, v, path, "probe", &s->probe);
	dup_enum(px, v, path, "onMarkedDown", marked_down_actions, &s->on_marked_down);
	dup_enum(px, v, path, "proxyProtocolVersion", proxy_versions, &s->proxy_protocol);
	/* Read-only in the API (the value a stuck client carries): accepted so that an export
	 * loads again, never used. */
	get_typed(px, v, path, "cookie", false, JSON_STRING, &cookie);
}

static void parse_farm(struct pctx *px, json_t *v, const char *path, struct cfg_farm *f)
{
	static const char *const known[] = {
		"farmId", "displayName", "port", "balance", "stickiness", "forwarding",
		"stickinessTimeout", "maglevTableSize", "cookieName", "probe", "server", NULL
	};
	static const struct refusal refused[] = { { "vrackNetworkId", WHY_VRACK }, { NULL, NULL } };
	char p[PATH_LEN];
	json_t *probe, *servers;
	int e;

	f->balance = BAL_ROUNDROBIN;
	f->stickiness = STICK_NULL;
	f->forwarding = FWD_DSR;
	if (!is_object(px, v, path))
		return;
	check_fields(px, v, path, known, refused);

	get_u32(px, v, path, "farmId", true, 1, UINT32_MAX, &f->id);
	dup_str(px, v, path, "displayName", &f->display_name);
	get_port(px, v, path, "port", &f->port);
	if (get_enum(px, v, path, "balance", balance_names, &e) == FIELD_OK)
		f->balance = e;
	if (get_enum(px, v, path, "stickiness", stickiness_names, &e) == FIELD_OK)
		f->stickiness = e;
	if (get_enum(px, v, path, "forwarding", forwarding_names, &e) == FIELD_OK)
		f->forwarding = e;
	get_u32(px, v, path, "stickinessTimeout", false, 1, STICKY_TIMEOUT_MAX,
		&f->stickiness_timeout);
	/* 0 is the default (LB_RING_DEFAULT); the rest is checked with the servers, later. */
	get_u32(px, v, path, "maglevTableSize", false, 0, UINT32_MAX, &f->table_size);
	if (dup_str(px, v, path, "cookieName", &f->cookie_name) == FIELD_OK && f->cookie_name &&
	    !cookie_name_ok(f->cookie_name)) {
		path_key(p, path, "cookieName");
		err_at(px, p, "\"%.64s\" is not a cookie name (1..%d token characters)",
		       f->cookie_name, COOKIE_NAME_MAX);
	}
	if (get_typed(px, v, path, "probe", false, JSON_OBJECT, &probe) == FIELD_OK) {
		path_key(p, path, "probe");
		parse_probe(px, probe, p, &f->probe);
	}
	if (get_typed(px, v, path, "server", false, JSON_ARRAY, &servers) == FIELD_OK) {
		size_t n = json_array_size(servers);

		f->servers = alloc_array(px, n, sizeof(*f->servers));
		if (!f->servers)
			return;
		f->nservers = n;
		for (size_t i = 0; i < n; i++) {
			path_idx(p, path, "server", i);
			parse_server(px, json_array_get(servers, i), p, &f->servers[i]);
		}
	}
}

static void parse_frontend(struct pctx *px, json_t *v, const char *path, struct cfg_frontend *fe)
{
	static const char *const known[] = {
		"frontendId", "displayName", "address", "port", "defaultFarmId", "allowedSource",
		"disabled", NULL
	};
	static const struct refusal refused[] = { { "ssl", WHY_TLS }, { NULL, NULL } };
	char p[PATH_LEN];
	const char *port;
	json_t *acl;

	if (!is_object(px, v, path))
		return;
	check_fields(px, v, path, known, refused);

	get_u32(px, v, path, "frontendId", true, 1, UINT32_MAX, &fe->id);
	dup_str(px, v, path, "displayName", &fe->display_name);
	get_addr(px, v, path, "address", &fe->addr);
	if (get_str(px, v, path, "port", true, &port) == FIELD_OK) {
		path_key(p, path, "port");
		ports_parse(px, p, port, &fe->ports);
	}
	get_u32(px, v, path, "defaultFarmId", true, 1, UINT32_MAX, &fe->default_farm);
	if (get_typed(px, v, path, "allowedSource", false, JSON_ARRAY, &acl) == FIELD_OK) {
		size_t n = json_array_size(acl), k = 0;

		fe->allowed = alloc_array(px, n, sizeof(*fe->allowed));
		for (size_t i = 0; fe->allowed && i < n; i++) {
			json_t *e = json_array_get(acl, i);
			struct cfg_cidr *c = &fe->allowed[k];

			path_idx(p, path, "allowedSource", i);
			if (!want_at(px, e, p, JSON_STRING) ||
			    cidr_parse(px, p, json_string_value(e), c))
				continue;
			if (fe->addr.family && c->addr.family != fe->addr.family) {
				err_at(px, p, "%s prefix for an %s frontend address",
				       family_name(c->addr.family), family_name(fe->addr.family));
				continue;
			}
			k++;
		}
		fe->nallowed = k;
	}
	get_bool(px, v, path, "disabled", &fe->disabled);
}

static void parse_layer(struct pctx *px, json_t *v, enum cfg_layer l, struct cfg_layer_cfg *lc)
{
	static const char *const known[] = { "frontend", "farm", NULL };
	const char *name = cfg_layer_name(l);
	char p[PATH_LEN];
	json_t *a;
	size_t n;

	if (!is_object(px, v, name))
		return;
	check_fields(px, v, name, known, NULL);

	if (get_typed(px, v, name, "frontend", false, JSON_ARRAY, &a) == FIELD_OK) {
		n = json_array_size(a);
		lc->frontends = alloc_array(px, n, sizeof(*lc->frontends));
		if (lc->frontends) {
			lc->nfrontends = n;
			for (size_t i = 0; i < n; i++) {
				path_idx(p, name, "frontend", i);
				parse_frontend(px, json_array_get(a, i), p, &lc->frontends[i]);
			}
		}
	}
	if (get_typed(px, v, name, "farm", false, JSON_ARRAY, &a) == FIELD_OK) {
		n = json_array_size(a);
		lc->farms = alloc_array(px, n, sizeof(*lc->farms));
		if (lc->farms) {
			lc->nfarms = n;
			for (size_t i = 0; i < n; i++) {
				path_idx(p, name, "farm", i);
				parse_farm(px, json_array_get(a, i), p, &lc->farms[i]);
			}
		}
	}
}

/* The default hashSeed: a pure function of serviceName, so that nodes of one service agree. */
static uint64_t seed_from_name(const char *s)
{
	uint64_t h = lb_mix64(0x6c696d7065746864ULL ^ strlen(s));	/* "limpethd" */

	for (; *s; s++)
		h = lb_mix64(h ^ (unsigned char)*s);
	return h;
}

static void parse_root(struct pctx *px, json_t *root, struct config *c)
{
	static const char *const known[] = {
		"serviceName", "zone", "hashSeed", "tcp", "udp", "http", NULL
	};
	const char *s;
	json_t *v;

	if (!is_object(px, root, ""))
		return;
	check_fields(px, root, "", known, NULL);

	if (get_str(px, root, "", "serviceName", true, &s) == FIELD_OK) {
		if (name_ok(s, CFG_NAME_MAX)) {
			c->service_name = dup_or_oom(px, s);
			c->hash_seed = seed_from_name(s);
		} else {
			err_at(px, "serviceName", "\"%.64s\" is not %s", s, NAME_RULE);
		}
	}
	if (get_str(px, root, "", "zone", false, &s) == FIELD_OK) {
		if (name_ok(s, CFG_NAME_MAX))
			c->zone = dup_or_oom(px, s);
		else
			err_at(px, "zone", "\"%.64s\" is not %s", s, NAME_RULE);
	}
	if (!c->zone)
		c->zone = dup_or_oom(px, CFG_ZONE_DEFAULT);
	if (get_str(px, root, "", "hashSeed", false, &s) == FIELD_OK) {
		char *end;

		if (strlen(s) == 16 && strspn(s, "0123456789abcdefABCDEF") == 16)
			c->hash_seed = strtoull(s, &end, 16);
		else
			err_at(px, "hashSeed", "\"%.64s\" is not 16 hex digits", s);
	}
	for (int l = 0; l < CFG_LAYERS; l++) {
		v = field(px, root, "", cfg_layer_name(l), false);
		if (v)
			parse_layer(px, v, l, &c->layer[l]);
	}
}

/* --- validate: what the dataplane can serve ---------------------------------------------- */

static int farm_index(const struct cfg_layer_cfg *lc, uint32_t id)
{
	for (size_t i = 0; i < lc->nfarms; i++)
		if (lc->farms[i].id == id)
			return (int)i;
	return -1;
}

static void validate_farm(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc,
			  size_t j)
{
	const struct cfg_farm *f = &lc->farms[j];
	const char *name = cfg_layer_name(l);
	char path[PATH_LEN], p[PATH_LEN], sp[PATH_LEN];

	snprintf(path, sizeof(path), "%s.farm[%zu]", name, j);

	if (l == CFG_HTTP)
		err_at(px, path, NO_HTTP);

	if (f->id && lc->nfarms <= PAIRWISE_MAX) {
		for (size_t k = 0; k < j; k++) {
			if (lc->farms[k].id == f->id) {
				path_key(p, path, "farmId");
				err_at(px, p, "duplicate farmId %u (%s.farm[%zu] has it too)",
				       f->id, name, k);
				break;
			}
		}
	}

	if (f->nservers > LB_FARM_SERVERS_MAX) {
		path_key(p, path, "server");
		err_at(px, p, "%zu servers, at most %d per farm (LB_FARM_SERVERS_MAX)", f->nservers,
		       LB_FARM_SERVERS_MAX);
	} else {
		for (size_t i = 0; i < f->nservers; i++) {
			if (!f->servers[i].id)
				continue;
			for (size_t k = 0; k < i; k++) {
				if (f->servers[k].id != f->servers[i].id)
					continue;
				path_fit(sp, snprintf(sp, sizeof(sp), "%s.server[%zu].serverId",
						      path, i));
				err_at(px, sp, "duplicate serverId %u (%s.server[%zu] has it too)",
				       f->servers[i].id, path, k);
				break;
			}
		}
	}

	if (f->table_size) {
		path_key(p, path, "maglevTableSize");
		if (f->table_size > LB_RING_MAX)
			err_at(px, p, "%u exceeds %d, the largest table of the dataplane "
			       "(LB_RING_MAX)", f->table_size, LB_RING_MAX);
		else if (maglev_check_size(f->table_size))
			err_at(px, p, "%u is not a prime", f->table_size);
		else if (f->table_size < f->nservers)
			err_at(px, p, "%u is smaller than the farm's %zu servers", f->table_size,
			       f->nservers);
	}

	if (f->cookie_name && f->stickiness != STICK_COOKIE) {
		path_key(p, path, "cookieName");
		err_at(px, p, "only meaningful with cookie stickiness");
	}

	if (l == CFG_HTTP)
		return;
	/* The XDP path (DESIGN.md section 4, layer split). */
	if (f->balance != BAL_ROUNDROBIN && f->balance != BAL_SOURCE) {
		path_key(p, path, "balance");
		err_at(px, p, "%s needs an http farm (the L7 path); %s farms serve roundrobin or "
		       "source", balance_names[f->balance], name);
	}
	if (f->stickiness == STICK_COOKIE) {
		path_key(p, path, "stickiness");
		err_at(px, p, "cookie stickiness needs an http farm (the L7 path)");
	}
	for (size_t i = 0; i < f->nservers; i++) {
		if (!f->servers[i].proxy_protocol)
			continue;
		snprintf(sp, sizeof(sp), "%s.farm[%zu].server[%zu].proxyProtocolVersion", name, j,
			 i);
		err_at(px, sp, "needs an http farm (the L7 path); %s forward does not touch the "
		       "payload", forwarding_names[f->forwarding]);
	}
}

/*
 * dsr and ipip deliver the packet as the client sent it: the server sees the VIP's port and
 * the VIP's address family. A port to translate to, or a server of the other family, cannot
 * be served, so it is an error rather than a setting that would be ignored.
 */

/* The ports of frontend i against its farm j: the farm's port and every server's. */
static void validate_ports(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc,
			   size_t i, size_t j)
{
	const struct cfg_frontend *fe = &lc->frontends[i];
	const struct cfg_farm *f = &lc->farms[j];
	const char *name = cfg_layer_name(l), *fwd = forwarding_names[f->forwarding];
	bool single = ports_single(&fe->ports);
	char p[PATH_LEN], ports[48], *text;

	text = ports_str(&fe->ports);
	if (!text) {
		px->oom = true;
		return;
	}
	if (strlen(text) > 40)
		snprintf(ports, sizeof(ports), "%.37s...", text);
	else
		snprintf(ports, sizeof(ports), "%s", text);
	free(text);

	/* k == nservers stands for the farm's own port */
	for (size_t k = 0; k <= f->nservers; k++) {
		uint16_t port = k < f->nservers ? f->servers[k].port : f->port;

		if (!port || (single && port == fe->ports.range[0].lo))
			continue;
		if (k < f->nservers)
			snprintf(p, sizeof(p), "%s.farm[%zu].server[%zu].port", name, j, k);
		else
			snprintf(p, sizeof(p), "%s.farm[%zu].port", name, j);
		if (single)
			err_at(px, p, "%u differs from port %u of %s.frontend[%zu] (frontendId "
			       "%u): %s forward cannot translate ports", port,
			       fe->ports.range[0].lo, name, i, fe->id, fwd);
		else
			err_at(px, p, "must be absent: %s.frontend[%zu] (frontendId %u) listens on "
			       "\"%s\" and %s forward keeps each packet's port", name, i, fe->id,
			       ports, fwd);
	}
}

/* Every server of farm j has the family of every frontend that uses it. */
static void validate_families(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc,
			      size_t j, const int *fe_farm)
{
	const struct cfg_frontend *v4 = NULL, *v6 = NULL, *other;
	const struct cfg_farm *f = &lc->farms[j];
	char p[PATH_LEN];

	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *fe = &lc->frontends[i];

		if (fe_farm[i] != (int)j)
			continue;
		if (fe->addr.family == LB_V4 && !v4)
			v4 = fe;
		if (fe->addr.family == LB_V6 && !v6)
			v6 = fe;
	}
	for (size_t k = 0; k < f->nservers; k++) {
		const struct cfg_server *s = &f->servers[k];

		other = s->addr.family == LB_V4 ? v6 : s->addr.family == LB_V6 ? v4 : NULL;
		if (!other)
			continue;
		snprintf(p, sizeof(p), "%s.farm[%zu].server[%zu].address", cfg_layer_name(l), j, k);
		err_at(px, p, "%s server in a farm of %s frontend %u (dsr/ipip forward without "
		       "translation)", family_name(s->addr.family), family_name(other->addr.family),
		       other->id);
	}
}

static void validate_frontends(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc)
{
	const char *name = cfg_layer_name(l);
	char path[PATH_LEN], p[PATH_LEN];
	bool unsure = false;
	int *fe_farm;

	if (!lc->nfrontends)
		return;
	fe_farm = alloc_array(px, lc->nfrontends, sizeof(*fe_farm));
	if (!fe_farm)
		return;
	/* A farm whose farmId was already reported may be the one a frontend names. */
	for (size_t j = 0; j < lc->nfarms; j++)
		if (!lc->farms[j].id)
			unsure = true;
	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *fe = &lc->frontends[i];

		snprintf(path, sizeof(path), "%s.frontend[%zu]", name, i);
		if (l == CFG_HTTP)
			err_at(px, path, NO_HTTP);
		if (fe->id && lc->nfrontends <= PAIRWISE_MAX) {
			for (size_t k = 0; k < i; k++) {
				if (lc->frontends[k].id != fe->id)
					continue;
				path_key(p, path, "frontendId");
				err_at(px, p, "duplicate frontendId %u (%s.frontend[%zu] has it "
				       "too)", fe->id, name, k);
				break;
			}
		}
		fe_farm[i] = -1;
		if (!fe->default_farm)
			continue;
		fe_farm[i] = farm_index(lc, fe->default_farm);
		if (fe_farm[i] < 0 && !unsure) {
			path_key(p, path, "defaultFarmId");
			err_at(px, p, "no farm %u in %s", fe->default_farm, name);
		}
	}
	if (l != CFG_HTTP) {
		for (size_t i = 0; i < lc->nfrontends; i++)
			if (fe_farm[i] >= 0 && lc->frontends[i].ports.n)
				validate_ports(px, l, lc, i, (size_t)fe_farm[i]);
		for (size_t j = 0; j < lc->nfarms; j++)
			validate_families(px, l, lc, j, fe_farm);
	}
	free(fe_farm);
}

/* abi.h limits, counted over every frontend (enabled or not), so that enabling a frontend
 * through the API can never push a valid config over a limit of the dataplane. */
static void validate_limits(struct pctx *px, const struct config *c)
{
	size_t farms = 0, servers = 0, frontends = 0, acl = 0;
	uint64_t keys = 0;
	bool farms_over = false, servers_over = false, fe_over = false, keys_over = false;
	bool acl_over = false;
	char p[PATH_LEN];

	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &c->layer[l];
		const char *name = cfg_layer_name(l);

		for (size_t j = 0; j < lc->nfarms; j++) {
			if (!farms_over && ++farms > LB_FARMS_MAX) {
				snprintf(p, sizeof(p), "%s.farm[%zu]", name, j);
				err_at(px, p, "farm number %zu of the config: at most %d farms in "
				       "all layers (LB_FARMS_MAX)", farms, LB_FARMS_MAX);
				farms_over = true;
			}
			servers += lc->farms[j].nservers;
			if (!servers_over && servers > LB_SERVER_STATS_MAX) {
				snprintf(p, sizeof(p), "%s.farm[%zu].server", name, j);
				err_at(px, p, "brings the servers to %zu: at most %d in all farms "
				       "(LB_SERVER_STATS_MAX)", servers, LB_SERVER_STATS_MAX);
				servers_over = true;
			}
		}
		for (size_t i = 0; i < lc->nfrontends; i++) {
			const struct cfg_frontend *fe = &lc->frontends[i];

			if (!fe_over && ++frontends > LB_FRONTENDS_MAX) {
				snprintf(p, sizeof(p), "%s.frontend[%zu]", name, i);
				err_at(px, p, "frontend number %zu of the config: at most %d "
				       "frontends in all layers (LB_FRONTENDS_MAX)", frontends,
				       LB_FRONTENDS_MAX);
				fe_over = true;
			}
			/* A key per port, and the frontend's fragment key (port 0). */
			keys += ports_count(&fe->ports) + 1;
			if (!keys_over && keys > LB_VIP_KEYS_MAX) {
				snprintf(p, sizeof(p), "%s.frontend[%zu].port", name, i);
				err_at(px, p, "brings the VIP keys (its ports and a fragment key "
				       "each) to %llu: at most %d in all (LB_VIP_KEYS_MAX)",
				       (unsigned long long)keys, LB_VIP_KEYS_MAX);
				keys_over = true;
			}
			acl += fe->nallowed;
			if (!acl_over && acl > LB_ACL_MAX) {
				snprintf(p, sizeof(p), "%s.frontend[%zu].allowedSource", name, i);
				err_at(px, p, "brings the allowedSource prefixes to %zu: at most "
				       "%d in all frontends (LB_ACL_MAX)", acl, LB_ACL_MAX);
				acl_over = true;
			}
		}
	}
}

struct fe_ref {
	enum cfg_layer l;
	size_t i;
	const struct cfg_frontend *fe;
};

static void report_claim(struct pctx *px, const struct fe_ref *a, const struct fe_ref *b,
			 uint32_t port, const char *proto)
{
	char p[PATH_LEN], addr[INET6_ADDRSTRLEN];

	snprintf(p, sizeof(p), "%s.frontend[%zu].port", cfg_layer_name(b->l), b->i);
	err_at(px, p, "%s port %u/%s is already claimed by %s.frontend[%zu] (frontendId %u)",
	       addr_str(&b->fe->addr, addr), port, proto, cfg_layer_name(a->l), a->i, a->fe->id);
}

/*
 * No two enabled frontends of one protocol may claim the same (address, port): the vips map
 * has one entry per key. http frontends are TCP too.
 */
static void validate_claims(struct pctx *px, const struct config *c)
{
	static const struct {
		const char *name;
		enum cfg_layer layers[2];
		size_t nlayers;
	} protos[] = {
		{ "tcp", { CFG_TCP, CFG_HTTP }, 2 },
		{ "udp", { CFG_UDP }, 1 },
	};
	struct fe_ref *refs;
	size_t total = 0, n;

	for (int l = 0; l < CFG_LAYERS; l++)
		total += c->layer[l].nfrontends;
	if (total > PAIRWISE_MAX)
		return;
	refs = alloc_array(px, total, sizeof(*refs));
	if (!refs)
		return;

	for (size_t pr = 0; pr < sizeof(protos) / sizeof(protos[0]); pr++) {
		n = 0;
		for (size_t k = 0; k < protos[pr].nlayers; k++) {
			const struct cfg_layer_cfg *lc = &c->layer[protos[pr].layers[k]];

			for (size_t i = 0; i < lc->nfrontends; i++) {
				const struct cfg_frontend *fe = &lc->frontends[i];

				if (!fe->disabled && fe->addr.family && fe->ports.n)
					refs[n++] = (struct fe_ref){ protos[pr].layers[k], i, fe };
			}
		}
		for (size_t b = 1; b < n; b++) {
			for (size_t a = 0; a < b; a++) {
				uint32_t port;

				if (!addr_eq(&refs[a].fe->addr, &refs[b].fe->addr))
					continue;
				port = ports_overlap(&refs[a].fe->ports, &refs[b].fe->ports);
				if (port)
					report_claim(px, &refs[a], &refs[b], port, protos[pr].name);
			}
		}
	}
	free(refs);
}

static void validate(struct pctx *px, const struct config *c)
{
	for (int l = 0; l < CFG_LAYERS; l++) {
		for (size_t j = 0; j < c->layer[l].nfarms; j++)
			validate_farm(px, l, &c->layer[l], j);
		validate_frontends(px, l, &c->layer[l]);
	}
	validate_limits(px, c);
	validate_claims(px, c);
}

/* --- entry points --------------------------------------------------------------------------- */

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
		err_at(&px, where, "config is not valid JSON: %s", jerr.text);
		free(where);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		px.oom = true;
		goto out;
	}
	parse_root(&px, root, c);
	if (!px.oom)
		validate(&px, c);
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
	err_at(&px, path, "cannot read the config: %s", strerror(-err));
	return err;
}

const struct cfg_farm *config_find_farm(const struct config *c, enum cfg_layer l, uint32_t id)
{
	int j;

	if (!c || (unsigned int)l >= CFG_LAYERS)
		return NULL;
	j = farm_index(&c->layer[l], id);
	return j < 0 ? NULL : &c->layer[l].farms[j];
}

/* --- the canonical document ------------------------------------------------------------------ */

struct jctx {
	bool ok;
};

/* Set o[key] = v (stealing v); a NULL v (allocation failure) marks the document failed. */
static void put(struct jctx *jx, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v))
		jx->ok = false;
}

static void put_str(struct jctx *jx, json_t *o, const char *key, const char *s)
{
	if (s)
		put(jx, o, key, json_string(s));
}

static void append(struct jctx *jx, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v))
		jx->ok = false;
}

static json_t *addr_json(const struct cfg_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	return json_string(addr_str(a, buf));
}

static json_t *probe_json(struct jctx *jx, const struct cfg_probe *pr)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	put_str(jx, o, "type", pr->type);
	put(jx, o, "interval", json_integer(pr->interval));
	if (pr->port)
		put(jx, o, "port", json_integer(pr->port));
	put_str(jx, o, "url", pr->url);
	put_str(jx, o, "method", pr->method);
	put_str(jx, o, "match", pr->match ? pr->match : "default");
	put_str(jx, o, "pattern", pr->pattern);
	put(jx, o, "negate", json_boolean(pr->negate));
	put(jx, o, "forceSsl", json_boolean(pr->force_ssl));
	put(jx, o, "rise", json_integer(pr->rise));
	put(jx, o, "fall", json_integer(pr->fall));
	return o;
}

static json_t *server_json(struct jctx *jx, const struct cfg_server *s)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	put(jx, o, "serverId", json_integer(s->id));
	put_str(jx, o, "displayName", s->display_name);
	put(jx, o, "address", addr_json(&s->addr));
	if (s->port)
		put(jx, o, "port", json_integer(s->port));
	put(jx, o, "weight", json_integer(s->weight));
	put(jx, o, "status", json_string(s->active ? "active" : "inactive"));
	put(jx, o, "backup", json_boolean(s->backup));
	put(jx, o, "probe", json_boolean(s->probe));
	put_str(jx, o, "onMarkedDown", s->on_marked_down);
	put_str(jx, o, "proxyProtocolVersion", s->proxy_protocol);
	return o;
}

static json_t *farm_json(struct jctx *jx, const struct cfg_farm *f)
{
	json_t *o = json_object(), *servers = json_array();

	if (!o || !servers) {
		json_decref(o);
		json_decref(servers);
		return NULL;
	}
	put(jx, o, "farmId", json_integer(f->id));
	put_str(jx, o, "displayName", f->display_name);
	if (f->port)
		put(jx, o, "port", json_integer(f->port));
	put(jx, o, "balance", json_string(balance_names[f->balance]));
	put(jx, o, "stickiness", f->stickiness == STICK_NULL ? json_null() :
	    json_string(stickiness_names[f->stickiness]));
	put(jx, o, "forwarding", json_string(forwarding_names[f->forwarding]));
	if (f->stickiness_timeout)
		put(jx, o, "stickinessTimeout", json_integer(f->stickiness_timeout));
	if (f->table_size)
		put(jx, o, "maglevTableSize", json_integer(f->table_size));
	put_str(jx, o, "cookieName", f->cookie_name);
	if (f->probe.present)
		put(jx, o, "probe", probe_json(jx, &f->probe));
	for (size_t k = 0; k < f->nservers; k++)
		append(jx, servers, server_json(jx, &f->servers[k]));
	put(jx, o, "server", servers);
	return o;
}

static json_t *frontend_json(struct jctx *jx, const struct cfg_frontend *fe)
{
	json_t *o = json_object(), *acl = json_array();
	char net[INET6_ADDRSTRLEN + 5], a[INET6_ADDRSTRLEN], *ports;

	if (!o || !acl) {
		json_decref(o);
		json_decref(acl);
		return NULL;
	}
	put(jx, o, "frontendId", json_integer(fe->id));
	put_str(jx, o, "displayName", fe->display_name);
	put(jx, o, "address", addr_json(&fe->addr));
	ports = ports_str(&fe->ports);
	put(jx, o, "port", ports ? json_string(ports) : NULL);
	free(ports);
	put(jx, o, "defaultFarmId", json_integer(fe->default_farm));
	for (size_t i = 0; i < fe->nallowed; i++) {
		snprintf(net, sizeof(net), "%s/%u", addr_str(&fe->allowed[i].addr, a),
			 fe->allowed[i].len);
		append(jx, acl, json_string(net));
	}
	put(jx, o, "allowedSource", acl);
	put(jx, o, "disabled", json_boolean(fe->disabled));
	return o;
}

json_t *config_to_json(const struct config *c)
{
	struct jctx jx = { .ok = true };
	char seed[17];
	json_t *root;

	if (!c)
		return NULL;
	root = json_object();
	if (!root)
		return NULL;
	put_str(&jx, root, "serviceName", c->service_name);
	put_str(&jx, root, "zone", c->zone);
	snprintf(seed, sizeof(seed), "%016llx", (unsigned long long)c->hash_seed);
	put(&jx, root, "hashSeed", json_string(seed));
	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &c->layer[l];
		json_t *layer = json_object(), *fes = json_array(), *farms = json_array();

		if (!layer || !fes || !farms) {
			json_decref(layer);
			json_decref(fes);
			json_decref(farms);
			jx.ok = false;
			break;
		}
		for (size_t i = 0; i < lc->nfrontends; i++)
			append(&jx, fes, frontend_json(&jx, &lc->frontends[i]));
		for (size_t j = 0; j < lc->nfarms; j++)
			append(&jx, farms, farm_json(&jx, &lc->farms[j]));
		put(&jx, layer, "frontend", fes);
		put(&jx, layer, "farm", farms);
		put(&jx, root, cfg_layer_name(l), layer);
	}
	if (!jx.ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}
