// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/metrics.h"

#define TEXT_LEN 32	/* a number or an id as text */

/* Every family, in the order they are written. */
enum family {
	M_BUILD,
	M_FE_PACKETS,
	M_FE_BYTES,
	M_SV_PACKETS,
	M_SV_BYTES,
	M_SV_ELIGIBLE,
	M_SV_UP,
	M_SV_STATE,
	M_SV_STICKY,
	M_VERDICTS,
	M_STICKY,
	M_STICKY_CAP,
	M_STICKY_RATED,
	M_STICKY_FULL,
	M_CONNS,
	M_CONNS_CAP,
	M_REFRESHES,
	M_REFRESH_DURATION,
	M_REFRESH_TIME,
	M_PENDING,
	M_IFACES,
	M_VIP_ANNOUNCED,
	M_DRAINING,
	M_L7_REQUESTS,
	M_L7_RESPONSES,
	M_L7_LATENCY,
	M_L7_ACTIVE,
	M_L7_CONNS,
	M_L7_ERRORS,
	M_MAX
};

static const struct {
	const char *name, *type, *help;
} families[M_MAX] = {
	[M_BUILD] = { "limpet_build_info", "gauge",
		      "Always 1; the labels name the running limpetd." },
	[M_FE_PACKETS] = { "limpet_frontend_packets_total", "counter",
			   "Packets received for the frontend's VIP." },
	[M_FE_BYTES] = { "limpet_frontend_bytes_total", "counter",
			 "Bytes received for the frontend's VIP (frames as received)." },
	[M_SV_PACKETS] = { "limpet_server_packets_total", "counter",
			   "Packets forwarded to the server." },
	[M_SV_BYTES] = { "limpet_server_bytes_total", "counter",
			 "Bytes forwarded to the server (frames as received)." },
	[M_SV_ELIGIBLE] = { "limpet_server_eligible", "gauge",
			    "1 if the server takes new clients (active, probe up or checking, and "
			    "for a backup no other server of its farm up), else 0." },
	[M_SV_UP] = { "limpet_server_up", "gauge",
		      "1 if the server is active and its probe up or checking (or it has no "
		      "probe), else 0 (down or disabled)." },
	[M_SV_STATE] = { "limpet_server_state", "gauge",
			 "1 for the server's state (up, down, checking, disabled), 0 for the "
			 "others." },
	[M_SV_STICKY] = { "limpet_server_sticky_entries", "gauge",
			  "Live sticky-table or connection-table entries naming the server." },
	[M_VERDICTS] = { "limpet_verdict_packets_total", "counter",
			 "Packets that left the XDP program, by verdict reason." },
	[M_STICKY] = { "limpet_sticky_entries", "gauge",
		       "Live entries in the sticky table (sourceIp stickiness)." },
	[M_STICKY_CAP] = { "limpet_sticky_capacity", "gauge",
			   "Entries the sticky table can hold." },
	[M_STICKY_RATED] = { "limpet_sticky_rated_sources", "gauge",
			     "Live sources the sticky table records without a hole." },
	[M_STICKY_FULL] = { "limpet_sticky_full_total", "counter",
			    "Sources the sticky table could not record (both their buckets full "
			    "of live clients); they were forwarded by the Maglev ring." },
	[M_CONNS] = { "limpet_conn_entries", "gauge",
		      "Entries in the connection table (null stickiness)." },
	[M_CONNS_CAP] = { "limpet_conn_capacity", "gauge",
			  "Entries the connection table can hold." },
	[M_REFRESHES] = { "limpet_refresh_total", "counter",
			  "Configuration refreshes since the daemon started, by result." },
	[M_REFRESH_DURATION] = { "limpet_refresh_duration_seconds", "gauge",
				 "How long the last refresh took." },
	[M_REFRESH_TIME] = { "limpet_last_refresh_timestamp_seconds", "gauge",
			     "When the last refresh ran, in seconds since the epoch." },
	[M_PENDING] = { "limpet_pending_changes", "gauge",
			"Changes staged and not yet applied by a refresh." },
	[M_IFACES] = { "limpet_interfaces_attached", "gauge",
		       "Network interfaces the XDP program is attached to." },
	[M_VIP_ANNOUNCED] = { "limpet_vip_announced", "gauge",
			      "1 while the VIP's route is in the announce table (BGP announces it), "
			      "else 0 (status says why)." },
	[M_DRAINING] = { "limpet_draining", "gauge",
			 "1 while the node drains (limpetctl drain: every VIP withdrawn, "
			 "forwarding kept), else 0." },
	[M_L7_REQUESTS] = { "limpet_l7_requests_total", "counter",
			    "HTTP requests the L7 proxy sent to the server." },
	[M_L7_RESPONSES] = { "limpet_l7_responses_total", "counter",
			     "HTTP responses from the server, by status class (other: none "
			     "came)." },
	[M_L7_LATENCY] = { "limpet_l7_response_seconds", "histogram",
			   "From a request's last byte sent to the server to its response's "
			   "headers." },
	[M_L7_ACTIVE] = { "limpet_l7_active_requests", "gauge",
			  "HTTP requests in flight to the server." },
	[M_L7_CONNS] = { "limpet_l7_connections", "gauge",
			 "Open connections of the L7 proxy: with clients, to servers (busy or "
			 "idle in the pool)." },
	[M_L7_ERRORS] = { "limpet_l7_errors_total", "counter",
			  "Error responses the L7 proxy made itself, by HTTP status." },
};

struct label {
	const char *name;
	const char *value;	/* NULL: missing, and the sample is left out */
};

struct render {
	FILE *out;
	const char *service;	/* the serviceName label of every sample, or NULL */
	bool started[M_MAX];	/* HELP and TYPE written (before the family's first sample) */
};

/* Label values escape backslash, double quote and newline (exposition format 0.0.4). */
static void put_label(FILE *out, const char *sep, const char *name, const char *value)
{
	fprintf(out, "%s%s=\"", sep, name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

/* A sample needs its value and every label; the family's header comes before its first.
 * suffix: "" but for a histogram's _bucket, _sum and _count. */
static void sample_of(struct render *r, enum family f, const char *suffix, const struct label *l,
		      size_t n, const char *value)
{
	const char *sep = "{";

	if (!value)
		return;
	for (size_t i = 0; i < n; i++)
		if (!l[i].value)
			return;
	if (!r->started[f]) {
		fprintf(r->out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
			families[f].name, families[f].type);
		r->started[f] = true;
	}
	fprintf(r->out, "%s%s", families[f].name, suffix);
	if (r->service) {
		put_label(r->out, sep, "serviceName", r->service);
		sep = ",";
	}
	for (size_t i = 0; i < n; i++, sep = ",")
		put_label(r->out, sep, l[i].name, l[i].value);
	fprintf(r->out, "%s %s\n", *sep == ',' ? "}" : "", value);
}

static void sample(struct render *r, enum family f, const struct label *l, size_t n,
		   const char *value)
{
	sample_of(r, f, "", l, n, value);
}

/* Shortest text that reads back as the same double. */
static const char *double_text(double d, char buf[TEXT_LEN])
{
	if (isnan(d))
		return "NaN";
	if (isinf(d))
		return d > 0 ? "+Inf" : "-Inf";
	snprintf(buf, TEXT_LEN, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, TEXT_LEN, "%.17g", d);
	return buf;
}

/* The sample value of a JSON number or boolean; NULL for anything else. */
static const char *value_text(const json_t *v, char buf[TEXT_LEN])
{
	if (json_is_integer(v)) {
		snprintf(buf, TEXT_LEN, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v))
		return double_text(json_real_value(v), buf);
	if (json_is_boolean(v))
		return json_is_true(v) ? "1" : "0";
	return NULL;
}

/* A label value from a JSON string or integer (ids); NULL for anything else. */
static const char *label_text(const json_t *v, char buf[TEXT_LEN])
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, TEXT_LEN, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return NULL;
}

static void gauge(struct render *r, enum family f, const json_t *v)
{
	char val[TEXT_LEN];

	sample(r, f, NULL, 0, value_text(v, val));
}

/* One series per frontend of stats.frontends: its field `field`. */
static void per_frontend(struct render *r, const json_t *frontends, enum family f,
			 const char *field)
{
	char id[TEXT_LEN], val[TEXT_LEN];
	const json_t *fe;
	size_t i;

	json_array_foreach(frontends, i, fe) {
		struct label l[] = {
			{ "layer", json_string_value(json_object_get(fe, "layer")) },
			{ "frontendId", label_text(json_object_get(fe, "frontendId"), id) },
		};

		sample(r, f, l, 2, value_text(json_object_get(fe, field), val));
	}
}

static const char *const states[] = { "up", "down", "checking", "disabled" };

#define NSTATES (sizeof(states) / sizeof(states[0]))

/* From a server's "state": limpet_server_up, or limpet_server_state, one series per state (1
 * for the server's) so that a query need not know which states exist. l: the server's three
 * labels and room for a fourth. */
static void server_state(struct render *r, enum family f, struct label l[4], const char *state)
{
	if (!state)
		return;
	if (f == M_SV_UP) {
		sample(r, f, l, 3, !strcmp(state, "up") || !strcmp(state, "checking") ? "1" : "0");
		return;
	}
	for (size_t k = 0; k < NSTATES; k++) {
		l[3] = (struct label){ "state", states[k] };
		sample(r, f, l, 4, strcmp(state, states[k]) ? "0" : "1");
	}
}

/* One series per server of stats.farms[].servers: its field `field` ("state" for
 * limpet_server_up and limpet_server_state). */
static void per_server(struct render *r, const json_t *farms, enum family f, const char *field)
{
	char farm_id[TEXT_LEN], server_id[TEXT_LEN], val[TEXT_LEN];
	const json_t *farm, *s;
	size_t i, j;

	json_array_foreach(farms, i, farm) {
		const char *layer = json_string_value(json_object_get(farm, "layer"));
		const char *fid = label_text(json_object_get(farm, "farmId"), farm_id);

		json_array_foreach(json_object_get(farm, "servers"), j, s) {
			const char *sid = label_text(json_object_get(s, "serverId"), server_id);
			const json_t *v = json_object_get(s, field);
			struct label l[4] = {
				{ "layer", layer }, { "farmId", fid }, { "serverId", sid },
			};

			if (f == M_SV_UP || f == M_SV_STATE)
				server_state(r, f, l, json_string_value(v));
			else
				sample(r, f, l, 3, value_text(v, val));
		}
	}
}

static void verdicts(struct render *r, const json_t *v)
{
	char val[TEXT_LEN];
	const char *reason;
	json_t *n;

	/* jansson iterates objects through non-const pointers; nothing is changed */
	json_object_foreach((json_t *)v, reason, n) {
		struct label l = { "reason", reason };

		sample(r, M_VERDICTS, &l, 1, value_text(n, val));
	}
}

/* Seconds since the epoch of an RFC 3339 time ("2026-11-29T18:00:00Z", with a fraction or an
 * offset); false if s is not one. */
static bool rfc3339_seconds(const char *s, double *out)
{
	struct tm tm = { 0 };
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	int hh, mm, len = 0;
	double frac = 0;
	long off = 0;

	if (!p)
		return false;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return false;
		for (double unit = 0.1; isdigit((unsigned char)*++p); unit /= 10)
			frac += (*p - '0') * unit;
	}
	if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &len) != 2)
			return false;
		off = (*p == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
	} else if (*p != 'Z' && *p != 'z') {
		return false;
	}
	if (p[1 + len])		/* anything after the zone */
		return false;
	*out = (double)timegm(&tm) - off + frac;
	return true;
}

static void refresh(struct render *r, const json_t *status)
{
	const json_t *counts = json_object_get(status, "refreshes");
	const json_t *last = json_object_get(status, "lastRefresh");
	const json_t *ms = json_object_get(last, "durationMs");
	char val[TEXT_LEN];
	double t;

	for (int i = 0; i < 2; i++) {
		struct label l = { "result", i ? "failed" : "ok" };

		sample(r, M_REFRESHES, &l, 1, value_text(json_object_get(counts, l.value), val));
	}
	if (json_is_number(ms))
		sample(r, M_REFRESH_DURATION, NULL, 0,
		       double_text(json_number_value(ms) / 1000, val));
	if (rfc3339_seconds(json_string_value(json_object_get(last, "time")), &t))
		sample(r, M_REFRESH_TIME, NULL, 0, double_text(t, val));
}

/* status.announce (with --announce-table only): one series per VIP, and the drain switch */
static void announce(struct render *r, const json_t *a)
{
	char val[TEXT_LEN];
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(a, "vips"), i, v) {
		struct label l = { "address", json_string_value(json_object_get(v, "address")) };

		sample(r, M_VIP_ANNOUNCED, &l, 1, value_text(json_object_get(v, "announced"), val));
	}
	sample(r, M_DRAINING, NULL, 0, value_text(json_object_get(a, "draining"), val));
}

/* --- the L7 proxy: stats.l7 (l7/l7.h, l7_stats) ------------------------------------------- */

/* One series per key of object o, the key as label `name` (response classes, error statuses,
 * connection sides). */
static void per_key(struct render *r, enum family f, const json_t *o, struct label *l, size_t n,
		    const char *name)
{
	char val[TEXT_LEN];
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		l[n] = (struct label){ name, key };
		sample(r, f, l, n + 1, value_text(v, val));
	}
}

/* The latency histogram of one server: a bucket per finite bound (the counts are cumulative),
 * +Inf, _sum and _count. */
static void latency(struct render *r, const json_t *lat, struct label *l, size_t n)
{
	const json_t *le = json_object_get(lat, "le"), *count = json_object_get(lat, "count");
	const json_t *total = json_object_get(lat, "total");
	char bound[TEXT_LEN], val[TEXT_LEN];
	const json_t *b;
	size_t i;

	if (!json_is_integer(total))
		return;
	json_array_foreach(le, i, b) {
		if (!json_is_number(b) || !isfinite(json_number_value(b)))
			continue;
		l[n] = (struct label){ "le", double_text(json_number_value(b), bound) };
		sample_of(r, M_L7_LATENCY, "_bucket", l, n + 1,
			  value_text(json_array_get(count, i), val));
	}
	l[n] = (struct label){ "le", "+Inf" };
	sample_of(r, M_L7_LATENCY, "_bucket", l, n + 1, value_text(total, val));
	sample_of(r, M_L7_LATENCY, "_sum", l, n, value_text(json_object_get(lat, "sum"), val));
	sample_of(r, M_L7_LATENCY, "_count", l, n, value_text(total, val));
}

/* Each family over every server of stats.l7.farm (one family at a time: families are never
 * split), with the layer, farmId and serverId labels of the XDP path's per-server series. */
static void l7_servers(struct render *r, const json_t *farms)
{
	static const enum family fams[] = { M_L7_REQUESTS, M_L7_RESPONSES, M_L7_LATENCY,
					    M_L7_ACTIVE };
	char farm_id[TEXT_LEN], server_id[TEXT_LEN], val[TEXT_LEN];
	const json_t *farm, *s;
	size_t i, j;

	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		json_array_foreach(farms, i, farm) {
			const char *fid = label_text(json_object_get(farm, "farmId"), farm_id);

			json_array_foreach(json_object_get(farm, "server"), j, s) {
				struct label l[4] = {
					{ "layer", "http" }, { "farmId", fid },
					{ "serverId", label_text(json_object_get(s, "serverId"),
								 server_id) },
				};

				if (fams[k] == M_L7_REQUESTS)
					sample(r, fams[k], l, 3,
					       value_text(json_object_get(s, "requests"), val));
				else if (fams[k] == M_L7_ACTIVE)
					sample(r, fams[k], l, 3,
					       value_text(json_object_get(s, "active"), val));
				else if (fams[k] == M_L7_RESPONSES)
					per_key(r, fams[k], json_object_get(s, "responses"), l, 3,
						"class");
				else
					latency(r, json_object_get(s, "latency"), l, 3);
			}
		}
	}
}

static void l7(struct render *r, const json_t *l7)
{
	struct label l[1];

	l7_servers(r, json_object_get(l7, "farm"));
	per_key(r, M_L7_CONNS, json_object_get(l7, "connections"), l, 0, "side");
	per_key(r, M_L7_ERRORS, json_object_get(l7, "errors"), l, 0, "status");
}

char *metrics_render(const json_t *status, const json_t *stats)
{
	struct render r = { .service = json_string_value(json_object_get(status, "serviceName")) };
	struct label version = { "version", json_string_value(json_object_get(status, "version")) };
	const json_t *frontends = json_object_get(stats, "frontends");
	const json_t *farms = json_object_get(stats, "farms");
	const json_t *sticky = json_object_get(stats, "sticky");
	const json_t *conns = json_object_get(stats, "connections");
	const json_t *ifaces = json_object_get(status, "interfaces");
	char *text = NULL, val[TEXT_LEN];
	size_t len;
	int err;

	r.out = open_memstream(&text, &len);
	if (!r.out)
		return NULL;
	sample(&r, M_BUILD, &version, 1, "1");
	per_frontend(&r, frontends, M_FE_PACKETS, "packets");
	per_frontend(&r, frontends, M_FE_BYTES, "bytes");
	per_server(&r, farms, M_SV_PACKETS, "packets");
	per_server(&r, farms, M_SV_BYTES, "bytes");
	per_server(&r, farms, M_SV_ELIGIBLE, "eligible");
	per_server(&r, farms, M_SV_UP, "state");
	per_server(&r, farms, M_SV_STATE, "state");
	per_server(&r, farms, M_SV_STICKY, "stickyEntries");
	verdicts(&r, json_object_get(stats, "verdicts"));
	gauge(&r, M_STICKY, json_object_get(sticky, "entries"));
	gauge(&r, M_STICKY_CAP, json_object_get(sticky, "capacity"));
	gauge(&r, M_STICKY_RATED, json_object_get(sticky, "rated"));
	gauge(&r, M_STICKY_FULL, json_object_get(sticky, "full"));
	gauge(&r, M_CONNS, json_object_get(conns, "entries"));
	gauge(&r, M_CONNS_CAP, json_object_get(conns, "capacity"));
	refresh(&r, status);
	gauge(&r, M_PENDING, json_object_get(status, "pendingChanges"));
	if (json_is_array(ifaces)) {
		snprintf(val, sizeof(val), "%zu", json_array_size(ifaces));
		sample(&r, M_IFACES, NULL, 0, val);
	}
	announce(&r, json_object_get(status, "announce"));
	l7(&r, json_object_get(stats, "l7"));
	/* a failed write (out of memory) shows in the stream's error flag */
	err = ferror(r.out);
	err |= fclose(r.out);
	if (err) {
		free(text);
		return NULL;
	}
	return text;
}
