/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The service limpetd runs (DESIGN.md section 3): the staged config the API edits, the
 * applied config the dataplane holds, and refresh, which turns the one into the other:
 * validate whole, compile and apply atomically (apply/), persist (write, fsync, rename, fsync
 * the directory), and report what changed. Everything here runs on limpetd's one event loop:
 * no locks.
 */
#ifndef LIMPET_SERVICE_H
#define LIMPET_SERVICE_H

#include <stdbool.h>

#include <jansson.h>

#include "config/config.h"

struct service;
struct dataplane;
struct applier;
struct health;
struct announcer;
struct l7;
struct localroutes;

/* What the daemon gives the service; the service borrows them. */
struct service_env {
	struct dataplane *dp;
	struct applier *ap;
	struct health *health;		/* the prober, synced by refresh; NULL: none */
	const char *state_dir;
	const char *pin_dir;
	bool adopted;			/* the dataplane was adopted from a previous limpetd */
	struct announcer *announcer;	/* the VIPs' routes, synced after every apply; NULL: none */
	struct l7 *l7;			/* the L7 proxy, given every applied config; NULL: none */
	struct localroutes *routes;	/* the http VIPs' local routes; NULL: none */
	json_t *(*interfaces)(void *arg);	/* new array for status: [{name, ifindex, mode}] */
	void (*applied)(void *arg, const struct config *cfg);	/* after each refresh */
	void *arg;
};

/* The applied config starts as cfg (taken over; already applied by the caller). */
int service_new(struct service **out, const struct service_env *env, struct config *cfg);
void service_free(struct service *s);

const char *service_name(const struct service *s);
const struct config *service_applied_config(const struct service *s);
const json_t *service_staged(const struct service *s);
const json_t *service_applied(const struct service *s);

/* Replace the staged document by doc after validating it whole (doc is not kept: copied in
 * its canonical form). -EINVAL with every error in errs, -EPERM when doc renames the service,
 * -ENOMEM. errs: as config_parse(). */
int service_stage(struct service *s, const json_t *doc, struct cfg_errors *errs);

/* Apply the staged config. 0 and *report = {"zone", "applied": true, "changes", "durationMs",
 * "counts"}; or -errno and *report = {"message"}; the applied config is unchanged then.
 * trigger says who asked ("api", "sighup"), for the log and status. The prober is synced with
 * the new config before it is applied, so that the dataplane gets the probe state of the
 * servers that stay (a down server never takes traffic for a moment). The http layer goes
 * first (local routes of new VIPs, then the L7 proxy, all or nothing), the dataplane after it,
 * so that the proxy listens before the XDP program passes it a VIP's packets; a dataplane
 * that fails puts the proxy back on the running config. */
int service_refresh(struct service *s, const char *trigger, json_t **report);

/*
 * Apply the applied config again, with the probe state as it is now: after probe results,
 * only the farms whose eligibility changed are rebuilt (one swap for them all). Not a refresh:
 * nothing is saved, counted or reported as one. why names what changed, for the log
 * ("tcp farm 1: server 2 down"). 0 or -errno (logged; the dataplane keeps the previous
 * eligibility).
 */
int service_reapply(struct service *s, const char *why);

/* A server of the applied config, as the prober names it. */
struct server_ref {
	enum cfg_layer layer;
	uint32_t farm, server;
};

/* onMarkedDown "shutdown-sessions": of these servers, those that have it and are down now
 * lose their sticky and connection entries (one walk of each table for them all; logged per
 * server with the counts). Call after the re-apply that took them out of their farms. 0 or
 * -errno (logged). */
int service_shutdown_sessions(struct service *s, const struct server_ref *srv, size_t n);

/* The read-only state of a server of the applied config (docs/api.md): a new object
 * {"state", for a probed server "lastCheck", "lastResult", "error", "stateSince", "checks",
 * for an http server "cookie"}, or NULL if the applied config has no such server. */
json_t *service_server_state(const struct service *s, enum cfg_layer l, uint32_t farm,
			     uint32_t server);
/* The names of the fields service_server_state() adds, NULL-terminated: never set by a body. */
extern const char *const service_server_state_fields[];

/* New objects for the API (docs/api.md). */
json_t *service_pending(const struct service *s);
json_t *service_status(const struct service *s);
json_t *service_stats(const struct service *s);
/* Prometheus text exposition of stats and status: malloc'ed, NUL-terminated. */
char *service_metrics(const struct service *s);

/* A warning shown by status until the condition is cleared (key: who raised it). */
void service_warn(struct service *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void service_warn_clear(struct service *s, const char *key);

/* Withdraw every VIP and keep forwarding (drain), or announce again those ready (undrain).
 * 0; -ENOTSUP when this limpetd announces nothing; -errno of a route change (logged). */
int service_drain(struct service *s, bool drain);

/* Ask the daemon to stop after the current request: keep_dataplane leaves the program
 * attached and the maps pinned for the next limpetd to adopt. */
void service_request_stop(struct service *s, bool keep_dataplane);
/* 0: keep running; 1: stop and clean up; 2: stop and keep the dataplane. */
int service_stop_requested(const struct service *s);

#endif /* LIMPET_SERVICE_H */
