/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to the prober: included by health.c (the loop, the schedule and sync), state.c
 * (rise/fall, what the API reads) and conn.c (one probe's connection) only. The module's
 * contract with the rest of limpet is health.h; the protocols are probe.h's.
 */
#ifndef LIMPET_HEALTH_INT_H
#define LIMPET_HEALTH_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "health/health.h"
#include "health/probe.h"
#include "health/sched.h"

#define NS_PER_S	1000000000ULL

/* Among timers due at once a deadline goes first: a probe that times out exactly when its
 * next one is due is over before that one starts. */
enum { TIMER_DEADLINE, TIMER_START };

/* A farm's probe, compiled once per sync and shared by its servers. */
struct hfarm {
	char *sig;		/* every probe setting, to tell at sync whether they changed */
	struct probe_spec spec;
	uint64_t interval, timeout;	/* ns */
	uint32_t rise, fall;
};

enum conn_phase { CONN_IDLE, CONN_CONNECTING, CONN_SENDING, CONN_READING };

/* A probed server: allocated on its own so that the epoll data and the queued timers that
 * point at it stay valid across syncs that keep it. */
struct target {
	/* identity: the key the API asks by, and what is probed */
	enum cfg_layer layer;
	uint32_t farm, server;
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} addr;			/* the address and port probed */
	bool disabled;		/* status inactive: not probed */
	bool keep;		/* during a sync: the new config has it unchanged */
	struct hfarm *hf;

	/* state and history */
	enum health_state state;
	uint32_t good, bad;	/* consecutive results */
	uint64_t checks;
	time_t last_check, since;
	bool last_ok;
	char err[PROBE_ERR_LEN];

	/* schedule: the next start; the deadline of the probe in flight */
	struct timer start, deadline;

	/* the probe in flight: fd -1 when none */
	int fd;
	enum conn_phase phase;
	char *buf;		/* PROBE_READ_MAX bytes from the pool, once connected */
	size_t len, sent, reqlen;
};

struct health {
	int epfd, tfd;
	struct health_cb cb;
	struct target **t;	/* sorted by (layer, farm, server) */
	size_t n;
	struct hfarm *farms;
	size_t nfarms;
	struct sched sched;
	uint64_t armed;		/* the due time the timerfd is armed to, 0: none */
	bool running;		/* inside health_run(): the targets must not change */
	int sock_err;		/* the last local error logged, until a probe starts again */
	/* answer buffers, allocated lazily and reused: room for as many as targets ever */
	char **bufs;
	size_t nbufs, bufs_cap;
};

/* conn.c: a probe's connection, from connect to close */
void conn_start(struct health *h, struct target *t, uint64_t deadline);
/* Its socket is ready: errors and hang-ups show in the next call on it, so the phase alone
 * says what to do. */
void conn_event(struct health *h, struct target *t);
void conn_timeout(struct health *h, struct target *t);
/* Close without a result (a target forgotten or replaced by a sync, health_free). */
void conn_abort(struct health *h, struct target *t);

/* state.c: a result into the rise/fall state machine, and the lookups */
void target_result(struct health *h, struct target *t, bool ok, const char *err);
/* "tcp farm 1 server 2 (198.18.1.12:80)" */
const char *target_name(const struct target *t, char buf[128]);
struct target *target_find(const struct health *h, enum cfg_layer l, uint32_t farm,
			   uint32_t server);
int target_cmp(const void *a, const void *b);

#endif /* LIMPET_HEALTH_INT_H */
