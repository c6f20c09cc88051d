// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/metrics.h"
#include "apply/apply.h"
#include "common/log.h"
#include "config/edit.h"
#include "daemon/announce.h"
#include "daemon/localroute.h"
#include "daemon/service.h"
#include "daemon/state.h"
#include "daemon/version.h"
#include "dataplane/dataplane.h"
#include "health/health.h"
#include "l7/cookie.h"
#include "l7/l7.h"

#define WARN_MAX	32
#define NO_SERVER_NAMED	8	/* farms the no-eligible-server warning names, at most */

struct warning {
	char key[32];
	char *text;
};

struct last_refresh {
	bool done;
	bool ok;
	time_t when;
	double ms;
	char trigger[16];
	char message[256];
};

struct service {
	struct service_env env;
	struct config *applied_cfg;	/* what the dataplane holds (the applier borrows it) */
	/* Canonical documents, never changed in place: an edit makes a new one, so applied and
	 * staged can share one after a refresh, and an answer can hold a reference. */
	json_t *applied;		/* what the dataplane holds */
	json_t *staged;			/* what the API edits */
	struct config *staged_cfg;	/* staged, validated when staged; NULL: not kept */
	json_t *pending;		/* config_diff(applied, staged), made when staged */
	struct last_refresh last;
	unsigned long refreshes_ok, refreshes_failed;
	size_t eligible;		/* servers eligible in the dataplane, as last applied */
	bool no_server;			/* the no-eligible-server warning is raised */
	struct warning warn[WARN_MAX];
	size_t nwarn;
	int stop;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --- eligibility and probe state ------------------------------------------------------------ */

static const struct cfg_server *farm_server(const struct cfg_farm *f, uint32_t id)
{
	for (size_t i = 0; i < f->nservers; i++)
		if (f->servers[i].id == id)
			return &f->servers[i];
	return NULL;
}

static enum health_state probe_state(const struct service *s, enum cfg_layer l, uint32_t farm,
				     uint32_t id)
{
	return s->env.health ? health_state(s->env.health, l, farm, id) : HS_NONE;
}

/* A server's "state" (docs/api.md): disabled by its status, else as its probe says; not
 * probed, it is up. */
static const char *state_name(const struct service *s, enum cfg_layer l, uint32_t farm,
			      const struct cfg_server *sv)
{
	if (!sv->active)
		return "disabled";
	switch (probe_state(s, l, farm, sv->id)) {
	case HS_CHECKING:
		return "checking";
	case HS_DOWN:
		return "down";
	default:
		return "up";
	}
}

static size_t farm_eligible(const struct service *s, enum cfg_layer l, const struct cfg_farm *f)
{
	bool up = farm_primary_up(s->env.ap, l, f);
	size_t n = 0;

	for (size_t j = 0; j < f->nservers; j++)
		n += server_eligible(s->env.ap, l, f, &f->servers[j], up);
	return n;
}

static bool farm_in_use(const struct cfg_layer_cfg *lc, uint32_t farm)
{
	for (size_t i = 0; i < lc->nfrontends; i++)
		if (!lc->frontends[i].disabled && lc->frontends[i].default_farm == farm)
			return true;
	return false;
}

/*
 * A farm without an eligible server drops every packet of its VIPs (drop_no_server): status
 * says so for as long as it lasts, in one warning naming the first farms. Farms no enabled
 * frontend leads to drop nothing and are not named.
 */
static void warn_no_server(struct service *s)
{
	const struct config *c = s->applied_cfg;
	char names[NO_SERVER_NAMED * 32] = "";
	bool xdp = false, http = false;
	const char *what;
	size_t n = 0, len = 0;

	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &c->layer[l];

		for (size_t i = 0; i < lc->nfarms; i++) {
			const struct cfg_farm *f = &lc->farms[i];

			if (!farm_in_use(lc, f->id) || farm_eligible(s, l, f))
				continue;
			*(l == CFG_HTTP ? &http : &xdp) = true;
			if (n++ < NO_SERVER_NAMED)
				len += snprintf(names + len, sizeof(names) - len, "%s%s farm %u",
						n > 1 ? ", " : "", cfg_layer_name(l), f->id);
		}
	}
	if (!n) {
		if (s->no_server)
			pr_info("every farm in use has an eligible server again");
		service_warn_clear(s, "no-server");
		s->no_server = false;
		return;
	}
	s->no_server = true;
	/* the XDP path drops (drop_no_server), the L7 proxy answers 503 */
	what = !http ? "drop every packet" : !xdp ? "answer every request with 503"
						  : "drop every packet (http: answer 503)";
	if (n == 1)
		service_warn(s, "no-server", "%s has no eligible server: its VIPs %s", names, what);
	else if (n <= NO_SERVER_NAMED)
		service_warn(s, "no-server", "%s have no eligible server: their VIPs %s", names,
			     what);
	else
		service_warn(s, "no-server", "%s and %zu more farms have no eligible server: their "
			     "VIPs %s", names, n - NO_SERVER_NAMED, what);
}

static bool farm_ready(void *arg, enum cfg_layer l, uint32_t farm)
{
	const struct service *s = arg;
	const struct cfg_farm *f = config_find_farm(s->applied_cfg, l, farm);

	return f && farm_eligible(s, l, f);
}

/* After every apply: the VIPs' routes follow their farms' eligibility (failures are logged,
 * shown in status and tried again on the daemon's tick). */
static void announce(struct service *s)
{
	if (s->env.announcer)
		announcer_sync(s->env.announcer, s->applied_cfg, farm_ready, s);
}

static size_t config_eligible(const struct service *s, const struct config *c)
{
	size_t n = 0;

	for (int l = 0; l < CFG_LAYERS; l++)
		for (size_t i = 0; i < c->layer[l].nfarms; i++)
			n += farm_eligible(s, l, &c->layer[l].farms[i]);
	return n;
}

/* --- the service --------------------------------------------------------------------------- */

int service_new(struct service **out, const struct service_env *env, struct config *cfg)
{
	struct service *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->env = *env;
	s->applied = config_to_json(cfg);
	s->staged = json_incref(s->applied);
	s->pending = json_array();
	if (!s->applied || !s->pending) {
		json_decref(s->applied);
		json_decref(s->staged);
		json_decref(s->pending);
		free(s);
		return -ENOMEM;
	}
	s->applied_cfg = cfg;
	s->eligible = config_eligible(s, cfg);
	warn_no_server(s);
	announce(s);
	*out = s;
	return 0;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nwarn; i++)
		free(s->warn[i].text);
	json_decref(s->applied);
	json_decref(s->staged);
	json_decref(s->pending);
	config_free(s->staged_cfg);
	config_free(s->applied_cfg);
	free(s);
}

const char *service_name(const struct service *s)
{
	return s->applied_cfg->service_name;
}

const struct config *service_applied_config(const struct service *s)
{
	return s->applied_cfg;
}

const json_t *service_staged(const struct service *s)
{
	return s->staged;
}

const json_t *service_applied(const struct service *s)
{
	return s->applied;
}

int service_stage(struct service *s, const json_t *doc, struct cfg_errors *errs)
{
	struct config *cfg;
	json_t *canon, *pending;
	int err;

	err = config_from_json((json_t *)doc, &cfg, errs);
	if (err)
		return err;
	if (strcmp(cfg->service_name, service_name(s))) {
		config_free(cfg);
		return -EPERM;
	}
	canon = config_to_json(cfg);
	pending = canon ? config_diff(s->applied, canon) : NULL;
	if (!pending) {
		json_decref(canon);
		config_free(cfg);
		return -ENOMEM;
	}
	json_decref(s->staged);
	s->staged = canon;
	json_decref(s->pending);
	s->pending = pending;
	/* kept for refresh: validating 10 000 servers again would cost it ~13 ms */
	config_free(s->staged_cfg);
	s->staged_cfg = cfg;
	return 0;
}

json_t *service_pending(const struct service *s)
{
	return json_pack("[{s:s, s:I, s:O}]", "zone", s->applied_cfg->zone, "number",
			 (json_int_t)json_array_size(s->pending), "changes", s->pending);
}

static json_t *counts_json(const struct apply_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "farms", (json_int_t)c->farms,
			 "servers", (json_int_t)c->servers, "eligible", (json_int_t)c->eligible,
			 "frontends", (json_int_t)c->frontends, "vipKeys", (json_int_t)c->vip_keys,
			 "allowedSource", (json_int_t)c->acl);
}

static void record(struct service *s, const char *trigger, bool ok, double ms, const char *msg)
{
	struct last_refresh *l = &s->last;

	l->done = true;
	l->ok = ok;
	l->when = time(NULL);
	l->ms = ms;
	snprintf(l->trigger, sizeof(l->trigger), "%s", trigger);
	snprintf(l->message, sizeof(l->message), "%s", msg);
	if (ok)
		s->refreshes_ok++;
	else
		s->refreshes_failed++;
}

static int refresh_fail(struct service *s, const char *trigger, double t0, int err,
			json_t **report, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("refresh (%s): %s; keeping the running config", trigger, msg);
	record(s, trigger, false, now_ms() - t0, msg);
	*report = json_pack("{s:s}", "message", msg);
	return err;
}

/* The http layer of cfg: the local routes of its VIPs that are missing (the others go once
 * the dataplane let them go), then the proxy. 0 or -errno with the reason in msg. */
static int http_apply(struct service *s, const struct config *cfg, char *msg, size_t len)
{
	struct http_eligibility el = { .ap = s->env.ap };
	int err = s->env.routes ? localroutes_add(s->env.routes, cfg) : 0;

	if (err) {
		snprintf(msg, len, "adding the local routes of the http VIPs: %s", strerror(-err));
		return err;
	}
	return s->env.l7 ? l7_apply(s->env.l7, cfg, http_server_eligible, &el, msg, len) : 0;
}

/*
 * Validate, apply, persist. The dataplane is changed only by applier_apply, which is
 * all-or-nothing; the file is renamed into place only once the dataplane holds the config,
 * so the state directory never names a config that did not run.
 */
int service_refresh(struct service *s, const char *trigger, json_t **report)
{
	struct cfg_errors errs = { 0 };
	struct apply_counts counts;
	struct config *cfg = NULL;
	double t0 = now_ms(), t_valid, t_apply, ms;
	char msg[256];
	json_t *changes;
	int err;

	cfg = s->staged_cfg;
	err = cfg ? 0 : config_from_json(s->staged, &cfg, &errs);
	if (err) {
		err = refresh_fail(s, trigger, t0, err, report, "staged config invalid: %s",
				   errs.n ? errs.msg[0] : strerror(-err));
		cfg_errors_free(&errs);
		return err;
	}
	s->staged_cfg = NULL;
	t_valid = now_ms();
	/* first the prober, so that the apply gives the servers that stay their probe state */
	err = s->env.health ? health_sync(s->env.health, cfg) : 0;
	if (err) {
		s->staged_cfg = cfg;
		if (health_sync(s->env.health, s->applied_cfg))
			pr_err("refresh (%s): the prober could not go back to the running config",
			       trigger);
		return refresh_fail(s, trigger, t0, err, report, "syncing the prober: %s",
				    strerror(-err));
	}
	err = http_apply(s, cfg, msg, sizeof(msg));
	if (!err) {
		err = applier_apply(s->env.ap, s->env.dp, cfg, &counts);
		if (err)
			snprintf(msg, sizeof(msg), "applying to the dataplane: %s", strerror(-err));
	}
	if (err) {
		char back[256];

		s->staged_cfg = cfg;	/* still what is staged */
		/* servers the failed config dropped start over as new ("checking", eligible):
		 * as the revert applied them, the prober knowing none of them */
		if (s->env.health && health_sync(s->env.health, s->applied_cfg))
			pr_err("refresh (%s): the prober could not go back to the running config",
			       trigger);
		/* the proxy back on the running config (a failed l7_apply changed nothing), and
		 * the routes this attempt added removed */
		if (http_apply(s, s->applied_cfg, back, sizeof(back)))
			pr_err("refresh (%s): the L7 proxy could not go back to the running config: "
			       "%s", trigger, back);
		if (s->env.routes)
			localroutes_sync(s->env.routes, s->applied_cfg);
		return refresh_fail(s, trigger, t0, err, report, "%s", msg);
	}
	/* the http VIPs the dataplane no longer passes up lose their local route */
	if (s->env.routes && localroutes_sync(s->env.routes, cfg))
		service_warn(s, "localroute", "the local routes of the http VIPs are not all as "
			     "the config wants (see the log)");
	else
		service_warn_clear(s, "localroute");
	changes = json_incref(s->pending);
	t_apply = now_ms();
	config_free(s->applied_cfg);
	s->applied_cfg = cfg;
	json_decref(s->applied);
	s->applied = json_incref(s->staged);
	json_decref(s->pending);
	s->pending = json_array();
	err = state_save(s->env.state_dir, cfg->service_name, s->applied);
	if (err)
		service_warn(s, "state", "saving the applied config in %s: %s", s->env.state_dir,
			     strerror(-err));
	else
		service_warn_clear(s, "state");
	s->eligible = counts.eligible;
	warn_no_server(s);
	announce(s);
	if (s->env.applied)
		s->env.applied(s->env.arg, cfg);
	ms = now_ms() - t0;
	record(s, trigger, true, ms, "");
	pr_info("config applied (%s, %.1f ms: validate %.1f, dataplane %.1f, save %.1f): %zu "
		"change%s; %zu farm%s, %zu servers (%zu eligible), %zu frontends, %zu VIP keys, "
		"%zu allowedSource prefixes", trigger, ms, t_valid - t0, t_apply - t_valid,
		t0 + ms - t_apply, json_array_size(changes), json_array_size(changes) == 1 ? "" : "s",
		counts.farms, counts.farms == 1 ? "" : "s", counts.servers, counts.eligible,
		counts.frontends, counts.vip_keys, counts.acl);
	*report = json_pack("{s:s, s:b, s:o, s:f, s:{s:f, s:f, s:f}, s:o}", "zone", cfg->zone,
			    "applied", 1, "changes", changes, "durationMs", ms, "phasesMs",
			    "validate", t_valid - t0, "dataplane", t_apply - t_valid, "save",
			    t0 + ms - t_apply, "counts", counts_json(&counts));
	return 0;
}

int service_reapply(struct service *s, const char *why)
{
	struct http_eligibility el = { .ap = s->env.ap };
	struct apply_counts c;
	double t0 = now_ms();
	char msg[256];
	int err = applier_apply(s->env.ap, s->env.dp, s->applied_cfg, &c);

	if (err) {
		pr_err("%s: re-applying the config with the probe state: %s", why, strerror(-err));
		return err;
	}
	err = s->env.l7 ? l7_apply(s->env.l7, s->applied_cfg, http_server_eligible, &el, msg,
				   sizeof(msg)) : 0;
	if (err) {
		pr_err("%s: giving the L7 proxy the probe state: %s", why, msg);
		return err;
	}
	pr_info("%s: re-applied in %.1f ms (%zu of %zu servers eligible -> %zu)", why,
		now_ms() - t0, s->eligible, c.servers, c.eligible);
	s->eligible = c.eligible;
	warn_no_server(s);
	announce(s);
	return 0;
}

static bool shuts_down_sessions(const struct service *s, const struct server_ref *r)
{
	const struct cfg_farm *f = config_find_farm(s->applied_cfg, r->layer, r->farm);
	const struct cfg_server *sv = f ? farm_server(f, r->server) : NULL;

	return sv && sv->on_marked_down && !strcmp(sv->on_marked_down, "shutdown-sessions") &&
	       probe_state(s, r->layer, r->farm, r->server) == HS_DOWN &&
	       applier_farm_slot(s->env.ap, r->layer, r->farm) >= 0;
}

int service_shutdown_sessions(struct service *s, const struct server_ref *srv, size_t n)
{
	struct dp_forget *fg = calloc(n ? n : 1, sizeof(*fg));
	const struct server_ref **ref = calloc(n ? n : 1, sizeof(*ref));
	size_t m = 0;
	int err = fg && ref ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !err; i++) {
		if (!shuts_down_sessions(s, &srv[i]))
			continue;
		ref[m] = &srv[i];
		fg[m++] = (struct dp_forget){
			.farm = applier_farm_slot(s->env.ap, srv[i].layer, srv[i].farm),
			.id = srv[i].server,
		};
	}
	if (!err && m)
		err = dataplane_forget_servers(s->env.dp, fg, m);
	if (err)
		pr_err("shutdown-sessions: removing the sticky and connection entries of %zu down "
		       "server%s: %s", m, m == 1 ? "" : "s", strerror(-err));
	for (size_t i = 0; i < m && !err; i++)
		pr_info("%s farm %u: server %u down, shutdown-sessions: removed %llu sticky "
			"entr%s and %llu connection%s", cfg_layer_name(ref[i]->layer), ref[i]->farm,
			ref[i]->server, (unsigned long long)fg[i].sticky,
			fg[i].sticky == 1 ? "y" : "ies", (unsigned long long)fg[i].conns,
			fg[i].conns == 1 ? "" : "s");
	free(fg);
	free(ref);
	return err;
}

/* "state" and "cookie" here, the others health_server_json()'s (health/health.h) */
const char *const service_server_state_fields[] = {
	"state", "lastCheck", "lastResult", "error", "stateSince", "checks", "cookie", NULL
};

json_t *service_server_state(const struct service *s, enum cfg_layer l, uint32_t farm,
			     uint32_t server)
{
	const struct cfg_farm *f = config_find_farm(s->applied_cfg, l, farm);
	const struct cfg_server *sv = f ? farm_server(f, server) : NULL;
	json_t *st;

	if (!sv)
		return NULL;
	st = s->env.health ? health_server_json(s->env.health, l, farm, server) : NULL;
	if (!st)
		st = json_object();
	/* one word for GET, stats and metrics alike: the status decides "disabled" */
	if (st && json_object_set_new(st, "state", json_string(state_name(s, l, farm, sv)))) {
		json_decref(st);
		st = NULL;
	}
	/* the value a client stuck to it carries (l7/cookie.h) */
	if (st && l == CFG_HTTP && s->env.l7) {
		char cookie[L7_COOKIE_LEN + 1];

		l7_cookie(s->env.l7, farm, server, cookie);
		if (json_object_set_new(st, "cookie", json_string(cookie))) {
			json_decref(st);
			st = NULL;
		}
	}
	return st;
}

/* --- warnings ------------------------------------------------------------------------------ */

void service_warn(struct service *s, const char *key, const char *fmt, ...)
{
	struct warning *w = NULL;
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (size_t i = 0; i < s->nwarn && !w; i++)
		if (!strcmp(s->warn[i].key, key))
			w = &s->warn[i];
	if (!w && s->nwarn < WARN_MAX)
		w = &s->warn[s->nwarn++];
	if (!w) {
		free(text);
		return;
	}
	if (!w->text || strcmp(w->text, text))
		pr_warn("%s", text);
	free(w->text);
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->text = text;
}

void service_warn_clear(struct service *s, const char *key)
{
	for (size_t i = 0; i < s->nwarn; i++) {
		if (strcmp(s->warn[i].key, key))
			continue;
		free(s->warn[i].text);
		s->warn[i] = s->warn[--s->nwarn];
		/* the vacated slot is reused by service_warn: no dangling text in it */
		s->warn[s->nwarn] = (struct warning){ 0 };
		return;
	}
}

/* --- status, stats, metrics ---------------------------------------------------------------- */

static json_t *last_json(const struct last_refresh *l)
{
	char when[32];

	if (!l->done)
		return json_null();
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&l->when));
	return json_pack("{s:s, s:I, s:s, s:s, s:f, s:s}", "time", when, "epoch",
			 (json_int_t)l->when, "result", l->ok ? "ok" : "failed", "message",
			 l->message, "durationMs", l->ms, "trigger", l->trigger);
}

/* down: active servers whose probe failed */
static json_t *config_counts(const struct service *s)
{
	const struct config *c = s->applied_cfg;
	size_t fe = 0, farms = 0, servers = 0, down = 0;

	for (int l = 0; l < CFG_LAYERS; l++) {
		fe += c->layer[l].nfrontends;
		farms += c->layer[l].nfarms;
		for (size_t i = 0; i < c->layer[l].nfarms; i++) {
			const struct cfg_farm *f = &c->layer[l].farms[i];

			servers += f->nservers;
			for (size_t j = 0; j < f->nservers; j++)
				down += f->servers[j].active &&
					probe_state(s, l, f->id, f->servers[j].id) == HS_DOWN;
		}
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "frontends", (json_int_t)fe, "farms",
			 (json_int_t)farms, "servers", (json_int_t)servers, "eligible",
			 (json_int_t)config_eligible(s, c), "down", (json_int_t)down);
}

/* status and stats show the proxy's counters for a service that has an http layer */
static bool l7_shown(const struct service *s)
{
	const struct cfg_layer_cfg *lc = &s->applied_cfg->layer[CFG_HTTP];

	return s->env.l7 && (lc->nfrontends || lc->nfarms);
}

/* status has the proxy's totals; stats has them per server too */
static json_t *l7_summary(struct l7 *l)
{
	json_t *st = l7_stats(l);

	json_object_del(st, "farm");
	return st;
}

json_t *service_status(const struct service *s)
{
	json_t *warnings = json_array();
	json_t *st;

	for (size_t i = 0; i < s->nwarn; i++)
		json_array_append_new(warnings, json_string(s->warn[i].text));
	st = json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:b}, s:o, s:o, s:I, s:o, s:{s:I, s:I}, s:o}",
		       "serviceName", service_name(s), "zone", s->applied_cfg->zone, "version",
		       LIMPET_VERSION, "pid", (json_int_t)getpid(), "dataplane", "pinDir",
		       s->env.pin_dir, "adopted", s->env.adopted, "interfaces",
		       s->env.interfaces ? s->env.interfaces(s->env.arg) : json_array(), "counts",
		       config_counts(s), "pendingChanges",
		       (json_int_t)json_array_size(s->pending), "lastRefresh", last_json(&s->last),
		       "refreshes", "ok", (json_int_t)s->refreshes_ok, "failed",
		       (json_int_t)s->refreshes_failed, "warnings", warnings);
	if (st && s->env.announcer)
		json_object_set_new(st, "announce", announcer_json(s->env.announcer));
	if (st && l7_shown(s))
		json_object_set_new(st, "l7", l7_summary(s->env.l7));
	return st;
}

static json_t *counter_json(json_t *o, const struct lb_counter *c)
{
	json_object_set_new(o, "packets", json_integer((json_int_t)c->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)c->bytes));
	return o;
}

static json_t *frontends_stats(const struct service *s)
{
	const struct config *c = s->applied_cfg;
	json_t *out = json_array();

	for (int l = 0; l < CFG_LAYERS; l++) {
		for (size_t i = 0; i < c->layer[l].nfrontends; i++) {
			uint32_t id = c->layer[l].frontends[i].id;
			int slot = applier_frontend_slot(s->env.ap, l, id);
			struct lb_counter n = { 0 };

			if (slot >= 0)
				dataplane_vip_stats(s->env.dp, slot, &n);
			json_array_append_new(out, counter_json(json_pack("{s:s, s:I}", "layer",
				cfg_layer_name(l), "frontendId", (json_int_t)id), &n));
		}
	}
	return out;
}

/* stickyEntries: sticky-table entries (sourceIp) or connection-table entries (null) */
static json_t *farm_stats(const struct service *s, enum cfg_layer l, const struct cfg_farm *f,
			  const struct dp_census *sticky, const struct dp_census *conns)
{
	int slot = applier_farm_slot(s->env.ap, l, f->id);
	json_t *servers = json_array();
	bool up = farm_primary_up(s->env.ap, l, f);
	uint64_t farm_entries = 0;

	for (size_t j = 0; j < f->nservers; j++) {
		const struct cfg_server *sv = &f->servers[j];
		struct lb_counter n = { 0 };
		uint64_t entries = 0;

		if (slot >= 0) {
			uint32_t key = dataplane_server_key(s->env.dp, slot, sv->id);

			dataplane_server_stats(s->env.dp, slot, sv->id, &n);
			entries = dp_census_count(sticky, key) + dp_census_count(conns, key);
		}
		farm_entries += entries;
		json_array_append_new(servers, counter_json(json_pack("{s:I, s:I, s:b, s:s}",
			"serverId", (json_int_t)sv->id, "stickyEntries", (json_int_t)entries,
			"eligible", server_eligible(s->env.ap, l, f, sv, up), "state",
			state_name(s, l, f->id, sv)), &n));
	}
	return json_pack("{s:s, s:I, s:I, s:o}", "layer", cfg_layer_name(l), "farmId",
			 (json_int_t)f->id, "stickyEntries", (json_int_t)farm_entries, "servers",
			 servers);
}

json_t *service_stats(const struct service *s)
{
	const struct config *c = s->applied_cfg;
	struct lb_counter v[LB_R_MAX] = { { 0 } };
	struct dp_census sticky = { 0 }, conns = { 0 };
	json_t *verdicts = json_object(), *farms = json_array(), *st;
	uint64_t full = 0;

	/* sources the sticky table could not record: not a verdict, the packet went on */
	if (dataplane_sticky_full(s->env.dp, &full))
		pr_warn("stats: reading sticky_full failed");
	if (!dataplane_verdicts(s->env.dp, v))
		for (int r = 0; r < LB_R_MAX; r++)
			json_object_set_new(verdicts, dataplane_reason_name(r),
					    json_integer((json_int_t)v[r].packets));
	if (dataplane_sticky_census(s->env.dp, &sticky) ||
	    dataplane_conn_census(s->env.dp, &conns))
		pr_warn("stats: reading the sticky and connection tables failed");
	for (int l = 0; l < CFG_LAYERS; l++)
		for (size_t i = 0; i < c->layer[l].nfarms; i++)
			json_array_append_new(farms, farm_stats(s, l, &c->layer[l].farms[i],
								&sticky, &conns));
	st = json_pack("{s:o, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I}, s:o, s:o}", "verdicts",
		       verdicts, "sticky", "entries", (json_int_t)sticky.entries, "capacity",
		       (json_int_t)sticky.capacity, "rated",
		       (json_int_t)LB_STICKY_RATED(dataplane_sticky_buckets(s->env.dp)), "full",
		       (json_int_t)full, "connections", "entries",
		       (json_int_t)conns.entries, "capacity", (json_int_t)conns.capacity,
		       "frontends", frontends_stats(s), "farms", farms);
	dp_census_free(&sticky);
	dp_census_free(&conns);
	if (st && l7_shown(s))
		json_object_set_new(st, "l7", l7_stats(s->env.l7));
	return st;
}

char *service_metrics(const struct service *s)
{
	json_t *status = service_status(s), *stats = service_stats(s);
	char *text = status && stats ? metrics_render(status, stats) : NULL;

	json_decref(status);
	json_decref(stats);
	return text;
}

int service_drain(struct service *s, bool drain)
{
	return s->env.announcer ? announcer_drain(s->env.announcer, drain) : -ENOTSUP;
}

void service_request_stop(struct service *s, bool keep_dataplane)
{
	s->stop = keep_dataplane ? 2 : 1;
}

int service_stop_requested(const struct service *s)
{
	return s->stop;
}
