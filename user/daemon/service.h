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

/* What the daemon gives the service; the service borrows them. */
struct service_env {
	struct dataplane *dp;
	struct applier *ap;
	const char *state_dir;
	const char *pin_dir;
	bool adopted;			/* the dataplane was adopted from a previous limpetd */
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
 * trigger says who asked ("api", "sighup"), for the log and status. */
int service_refresh(struct service *s, const char *trigger, json_t **report);

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

/* Ask the daemon to stop after the current request: keep_dataplane leaves the program
 * attached and the maps pinned for the next limpetd to adopt. */
void service_request_stop(struct service *s, bool keep_dataplane);
/* 0: keep running; 1: stop and clean up; 2: stop and keep the dataplane. */
int service_stop_requested(const struct service *s);

#endif /* LIMPET_SERVICE_H */
