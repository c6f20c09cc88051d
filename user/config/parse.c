// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The parse pass: the JSON document into struct config, one function per object kind, each
 * checking its object's shape: unknown fields (with a suggestion for a typo), types, ranges,
 * required fields, the hosted-product fields and values limpet refuses, and the syntax of
 * values (names, addresses, prefixes, port sets). What concerns more than one object (farm
 * references, ports against forwarding, duplicates, limits) is check.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limpet/abi.h"
#include "limpet/hash.h"
#include "config/config-int.h"

#define CFG_ZONE_DEFAULT	"local"
#define PROBE_INTERVAL_DEFAULT	30
#define PROBE_INTERVAL_MAX	3600
#define PROBE_TIMEOUT_DEFAULT	5	/* or the interval, if shorter */
#define PROBE_RISE_DEFAULT	2
#define PROBE_FALL_DEFAULT	3
#define PROBE_COUNT_MAX		100	/* rise / fall */
#define STICKY_TIMEOUT_MAX	86400
#define COOKIE_NAME_MAX		64
#define XSTR(x)			STR(x)
#define STR(x)			#x
#define NAME_RULE		"1.." XSTR(CFG_NAME_MAX) " characters of A-Z a-z 0-9 _ -"
#define PORT_EXAMPLES		"\"80\", \"80,443\", \"8000-8100\""

enum { FIELD_BAD = -1, FIELD_ABSENT = 0, FIELD_OK = 1 };

/* --- typed field access ------------------------------------------------------------------ */

static char *dup_or_oom(struct pctx *px, const char *s)
{
	char *d = strdup(s);

	if (!d)
		px->oom = true;
	return d;
}

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
	cfg_err_at(px, path, "expected %s, got %s", kind_name(t), kind_name(json_typeof(v)));
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
		cfg_path_key(p, parent, key);
		cfg_err_at(px, p, v ? "required, got null" : "required field missing");
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
	cfg_path_key(p, parent, key);
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
		cfg_path_key(p, parent, key);
		cfg_err_at(px, p, "%lld is out of range %lld..%lld", x, min, max);
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
		cfg_path_key(p, parent, key);
		cfg_err_at(px, p, "contains a NUL character");
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
	cfg_err_at(px, path, "\"%.64s\" is not one of %s", s, list);
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
	cfg_path_key(p, parent, key);
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

/* --- unknown and refused fields ---------------------------------------------------------- */

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
				cfg_path_key(p, path, key);
				cfg_err_at(px, p, "not supported by limpet (%s)", r->why);
			}
			continue;
		}
		hint = suggest(key, known);
		if (hint)
			cfg_err_at(px, path, "unknown field \"%.64s\" (did you mean \"%s\"?)", key,
				   hint);
		else
			cfg_err_at(px, path, "unknown field \"%.64s\"", key);
	}
}

static bool is_object(struct pctx *px, const json_t *v, const char *path)
{
	return want_at(px, v, path, JSON_OBJECT);
}

/* --- values: names, addresses, prefixes, port sets --------------------------------------- */

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

/* An HTTP cookie name is a token (RFC 6265 section 4.1.1, RFC 9110 section 5.6.2). */
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

static int get_addr(struct pctx *px, json_t *obj, const char *parent, const char *key,
		    struct cfg_addr *out)
{
	char p[PATH_LEN];
	const char *s;
	int rc = get_str(px, obj, parent, key, true, &s);

	if (rc != FIELD_OK)
		return rc;
	if (addr_parse(s, out)) {
		cfg_path_key(p, parent, key);
		cfg_err_at(px, p, "\"%.64s\" is not an IPv4 or IPv6 address", s);
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
			cfg_err_at(px, path, "\"%.64s\": prefix length %lu exceeds %u for %s", s,
				   len, max, cfg_family_name(out->addr.family));
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
		cfg_err_at(px, path, "\"%.64s\" has host bits set (the prefix is %s/%lu)", s,
			   cfg_addr_str(&out->addr, net), len);
		return -EINVAL;
	}
	return 0;
bad:
	cfg_err_at(px, path, "\"%.64s\" is not an address or a prefix (address/length)", s);
	return -EINVAL;
}

/* One decimal port number of [s, e): 1..65535. */
static int port_num(struct pctx *px, const char *path, const char *s, const char *e,
		    unsigned long *out)
{
	unsigned long x = 0;

	for (const char *c = s; c < e; c++)
		x = x > 65535 ? x : x * 10 + (unsigned long)(*c - '0');
	if (x < 1 || x > 65535) {
		cfg_err_at(px, path, "port %.*s is out of range 1..65535",
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
			cfg_err_at(px, path, "\"%.64s\": empty entry (expected e.g. %s)", s,
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
			cfg_err_at(px, path, "\"%.*s\" is not a port or a port range (expected "
				   "e.g. %s)", (int)(b - a > 32 ? 32 : b - a), a, PORT_EXAMPLES);
			return -EINVAL;
		}
		if (port_num(px, path, a, dash ? dash : b, &lo))
			return -EINVAL;
		hi = lo;
		if (dash) {
			if (port_num(px, path, dash + 1, b, &hi))
				return -EINVAL;
			if (lo > hi) {
				cfg_err_at(px, path, "range %lu-%lu is reversed (%lu > %lu)", lo,
					   hi, lo, hi);
				return -EINVAL;
			}
		}
		/* Whole words at once: a document of many wide ranges must not stall us. */
		for (unsigned long p = lo; p <= hi;) {
			if (!(p % 64) && hi - p >= 63) {
				set[p / 64] = ~0ull;
				p += 64;
			} else {
				set[p / 64] |= 1ull << (p % 64);
				p++;
			}
		}
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
			while (p + 1 <= 65535) {
				uint32_t q = p + 1;

				if (!(q % 64) && set[q / 64] == ~0ull)
					p += 64;
				else if (set[q / 64] & (1ull << (q % 64)))
					p++;
				else
					break;
			}
			if (pass) {
				out->range[n].lo = (uint16_t)lo;
				out->range[n].hi = (uint16_t)p;
			}
			n++;
		}
		if (!pass) {
			out->range = cfg_alloc_array(px, n, sizeof(*out->range));
			if (!out->range)
				return -ENOMEM;
		}
	}
	out->n = n;
	return 0;
}

/* --- enums ------------------------------------------------------------------------------- */

static const char *const probe_types[] = { "tcp", "http", "smtp", "mysql", "pgsql", NULL };
static const char *const probe_methods[] = { "GET", "HEAD", "OPTIONS", NULL };
static const char *const probe_matches[] = { "default", "status", "contains", "matches", NULL };
static const char *const server_statuses[] = { "active", "inactive", NULL };
static const char *const marked_down_actions[] = { "shutdown-sessions", NULL };
static const char *const proxy_versions[] = { "v1", "v2", NULL };

/* "200", "200-299,302": status codes 100..599 and ranges of them, commas between. */
static bool status_pattern_ok(const char *s)
{
	do {
		char *end;
		unsigned long lo = strtoul(s + strspn(s, " "), &end, 10), hi = lo;

		if (end == s + strspn(s, " "))
			return false;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s)
				return false;
		}
		end += strspn(end, " ");
		if (lo < 100 || hi > 599 || lo > hi || (*end && *end != ','))
			return false;
		s = end;
	} while (*s++ == ',');
	return true;
}

/* The prober compiles the pattern at run time: a config it could not use is refused here. */
static void check_pattern(struct pctx *px, const char *path, const char *match,
			  const char *pattern)
{
	char msg[128];
	regex_t re;
	int rc;

	if (!strcmp(match, "status") && !status_pattern_ok(pattern))
		cfg_err_at(px, path, "\"%.64s\" is not a list of status codes 100..599 and ranges "
			   "(e.g. \"200-299,302\")", pattern);
	if (!strcmp(match, "matches")) {
		rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, &re, msg, sizeof(msg));
			cfg_err_at(px, path, "not a POSIX extended regular expression: %s", msg);
		} else {
			regfree(&re);
		}
	}
}

/* --- parse: one function per object kind ------------------------------------------------- */

static void parse_probe(struct pctx *px, json_t *v, const char *path, struct cfg_probe *pr)
{
	static const char *const known[] = {
		"type", "interval", "timeout", "port", "url", "method", "match", "pattern",
		"negate", "forceSsl", "rise", "fall", NULL
	};
	char p[PATH_LEN];
	const char *type;
	int i, ivl;

	pr->present = true;
	pr->interval = PROBE_INTERVAL_DEFAULT;
	pr->rise = PROBE_RISE_DEFAULT;
	pr->fall = PROBE_FALL_DEFAULT;
	if (!is_object(px, v, path))
		return;
	check_fields(px, v, path, known, NULL);

	if (get_str(px, v, path, "type", true, &type) == FIELD_OK) {
		cfg_path_key(p, path, "type");
		if (!strcmp(type, "oco") || !strcmp(type, "internal"))
			cfg_err_at(px, p, "probe type \"%s\" is not supported by limpet (a "
				   "hosted-product check; use tcp, http, smtp, mysql or pgsql)",
				   type);
		else if ((i = enum_lookup(px, p, type, probe_types)) >= 0)
			pr->type = dup_or_oom(px, probe_types[i]);
	}
	ivl = get_u32(px, v, path, "interval", false, 1, PROBE_INTERVAL_MAX, &pr->interval);
	pr->timeout = pr->interval < PROBE_TIMEOUT_DEFAULT ? pr->interval : PROBE_TIMEOUT_DEFAULT;
	/* A probe outliving its interval would overlap the next one of the same server; against
	 * an interval that is itself wrong, the comparison would only add a misleading error. */
	if (get_u32(px, v, path, "timeout", false, 1, PROBE_INTERVAL_MAX, &pr->timeout) ==
	    FIELD_OK && ivl != FIELD_BAD && pr->timeout > pr->interval) {
		cfg_path_key(p, path, "timeout");
		cfg_err_at(px, p, "%u s is longer than the interval (%u s)", pr->timeout,
			   pr->interval);
	}
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
		/* their "off" values (the canonical document writes them) are fine */
		const bool set[] = { pr->url, pr->method, pr->match && strcmp(pr->match, "default"),
				     pr->pattern, pr->negate };
		static const char *const http_only[] = { "url", "method", "match", "pattern",
							 "negate" };

		for (i = 0; i < (int)(sizeof(set) / sizeof(set[0])); i++) {
			if (!set[i])
				continue;
			cfg_path_key(p, path, http_only[i]);
			cfg_err_at(px, p, "only meaningful for an http probe (type is %s)",
				   pr->type);
		}
	}
	if (pr->force_ssl) {
		cfg_path_key(p, path, "forceSsl");
		cfg_err_at(px, p, "TLS probes are not served by limpet: probe the server's plain "
			   "port, or use a tcp probe on the TLS port");
	}
	if (pr->match && strcmp(pr->match, "default") && !pr->pattern) {
		cfg_path_key(p, path, "pattern");
		cfg_err_at(px, p, "required with match \"%s\"", pr->match);
	} else if (pr->pattern) {
		cfg_path_key(p, path, "pattern");
		check_pattern(px, p, pr->match, pr->pattern);
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

static void parse_farm(struct pctx *px, json_t *v, const char *path, enum cfg_layer l,
		       struct cfg_farm *f)
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
	/* set on an http farm, it would be silently ignored */
	if (l == CFG_HTTP && field(px, v, path, "forwarding", false)) {
		cfg_path_key(p, path, "forwarding");
		cfg_err_at(px, p, "not used by http farms: the L7 proxy opens its own connections "
			   "to the servers (dsr and ipip are the XDP path's)");
	}

	get_u32(px, v, path, "farmId", true, 1, UINT32_MAX, &f->id);
	dup_str(px, v, path, "displayName", &f->display_name);
	get_port(px, v, path, "port", &f->port);
	if (get_enum(px, v, path, "balance", cfg_balance_names, &e) == FIELD_OK)
		f->balance = e;
	if (get_enum(px, v, path, "stickiness", cfg_stickiness_names, &e) == FIELD_OK)
		f->stickiness = e;
	if (get_enum(px, v, path, "forwarding", cfg_forwarding_names, &e) == FIELD_OK)
		f->forwarding = e;
	get_u32(px, v, path, "stickinessTimeout", false, 1, STICKY_TIMEOUT_MAX,
		&f->stickiness_timeout);
	/* 0 is the default (LB_RING_DEFAULT); the rest is checked with the servers, later. */
	get_u32(px, v, path, "maglevTableSize", false, 0, UINT32_MAX, &f->table_size);
	if (dup_str(px, v, path, "cookieName", &f->cookie_name) == FIELD_OK && f->cookie_name &&
	    !cookie_name_ok(f->cookie_name)) {
		cfg_path_key(p, path, "cookieName");
		cfg_err_at(px, p, "\"%.64s\" is not a cookie name (1..%d token characters)",
			   f->cookie_name, COOKIE_NAME_MAX);
	}
	if (get_typed(px, v, path, "probe", false, JSON_OBJECT, &probe) == FIELD_OK) {
		cfg_path_key(p, path, "probe");
		parse_probe(px, probe, p, &f->probe);
	}
	if (get_typed(px, v, path, "server", false, JSON_ARRAY, &servers) == FIELD_OK) {
		size_t n = json_array_size(servers);

		f->servers = cfg_alloc_array(px, n, sizeof(*f->servers));
		if (!f->servers)
			return;
		f->nservers = n;
		for (size_t i = 0; i < n; i++) {
			cfg_path_idx(p, path, "server", i);
			parse_server(px, json_array_get(servers, i), p, &f->servers[i]);
		}
	}
}

static void parse_frontend(struct pctx *px, json_t *v, const char *path, enum cfg_layer l,
			   struct cfg_frontend *fe)
{
	static const char *const known[] = {
		"frontendId", "displayName", "address", "port", "defaultFarmId", "allowedSource",
		"disabled", "tlsTerminated", NULL
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
		cfg_path_key(p, path, "port");
		ports_parse(px, p, port, &fe->ports);
	}
	get_u32(px, v, path, "defaultFarmId", true, 1, UINT32_MAX, &fe->default_farm);
	if (get_typed(px, v, path, "allowedSource", false, JSON_ARRAY, &acl) == FIELD_OK) {
		size_t n = json_array_size(acl), k = 0;

		fe->allowed = cfg_alloc_array(px, n, sizeof(*fe->allowed));
		for (size_t i = 0; fe->allowed && i < n; i++) {
			json_t *e = json_array_get(acl, i);
			struct cfg_cidr *c = &fe->allowed[k];

			cfg_path_idx(p, path, "allowedSource", i);
			if (!want_at(px, e, p, JSON_STRING) ||
			    cidr_parse(px, p, json_string_value(e), c))
				continue;
			if (fe->addr.family && c->addr.family != fe->addr.family) {
				cfg_err_at(px, p, "%s prefix for an %s frontend address",
					   cfg_family_name(c->addr.family),
					   cfg_family_name(fe->addr.family));
				continue;
			}
			k++;
		}
		fe->nallowed = k;
	}
	get_bool(px, v, path, "disabled", &fe->disabled);
	/* false is the "off" value, accepted anywhere (like the refused fields) */
	if (get_bool(px, v, path, "tlsTerminated", &fe->tls_terminated) == FIELD_OK &&
	    fe->tls_terminated && l != CFG_HTTP) {
		cfg_path_key(p, path, "tlsTerminated");
		cfg_err_at(px, p, "only meaningful for an http frontend (the L7 proxy's "
			   "X-Forwarded-Proto and Secure cookie); the XDP path does not read "
			   "the payload");
		fe->tls_terminated = false;
	}
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
		lc->frontends = cfg_alloc_array(px, n, sizeof(*lc->frontends));
		if (lc->frontends) {
			lc->nfrontends = n;
			for (size_t i = 0; i < n; i++) {
				cfg_path_idx(p, name, "frontend", i);
				parse_frontend(px, json_array_get(a, i), p, l,
					       &lc->frontends[i]);
			}
		}
	}
	if (get_typed(px, v, name, "farm", false, JSON_ARRAY, &a) == FIELD_OK) {
		n = json_array_size(a);
		lc->farms = cfg_alloc_array(px, n, sizeof(*lc->farms));
		if (lc->farms) {
			lc->nfarms = n;
			for (size_t i = 0; i < n; i++) {
				cfg_path_idx(p, name, "farm", i);
				parse_farm(px, json_array_get(a, i), p, l, &lc->farms[i]);
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

void cfg_parse_root(struct pctx *px, json_t *root, struct config *c)
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
			cfg_err_at(px, "serviceName", "\"%.64s\" is not %s", s, NAME_RULE);
		}
	}
	if (get_str(px, root, "", "zone", false, &s) == FIELD_OK) {
		if (name_ok(s, CFG_NAME_MAX))
			c->zone = dup_or_oom(px, s);
		else
			cfg_err_at(px, "zone", "\"%.64s\" is not %s", s, NAME_RULE);
	}
	if (!c->zone)
		c->zone = dup_or_oom(px, CFG_ZONE_DEFAULT);
	if (get_str(px, root, "", "hashSeed", false, &s) == FIELD_OK) {
		char *end;

		if (strlen(s) == 16 && strspn(s, "0123456789abcdefABCDEF") == 16)
			c->hash_seed = strtoull(s, &end, 16);
		else
			cfg_err_at(px, "hashSeed", "\"%.64s\" is not 16 hex digits", s);
	}
	for (int l = 0; l < CFG_LAYERS; l++) {
		v = field(px, root, "", cfg_layer_name(l), false);
		if (v)
			parse_layer(px, v, l, &c->layer[l]);
	}
}
