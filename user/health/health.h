/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The prober (issue 7): every server with `probe: true` in a farm with a `probe` is checked
 * every `interval`, on one epoll loop of non-blocking sockets and one timerfd (no thread per
 * server), its first check spread over the interval (no thundering herd). A server is up or
 * down by HAProxy's rise/fall: `fall` consecutive failures take an up server down, `rise`
 * consecutive successes bring a down one up. A server new to the prober starts "checking"
 * (eligible) and its first result sets its state at once, unless seeded down
 * (health_seed_down).
 *
 * limpetd polls health_fd() in its own loop and calls health_run() when it is readable; a
 * slow or silent server holds up nothing (each probe has its own deadline: `timeout`,
 * default min(interval, 5 s)).
 */
#ifndef LIMPET_HEALTH_H
#define LIMPET_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

struct health;

enum health_state {
	HS_NONE,	/* not probed: eligible by its status alone */
	HS_CHECKING,	/* probed, no result yet: eligible */
	HS_UP,
	HS_DOWN,
};

/* Called from health_run() for each transition between up and down (not to/from checking
 * when nothing changes for eligibility); one log line per transition is the engine's. */
struct health_cb {
	void (*changed)(void *arg, enum cfg_layer l, uint32_t farm, uint32_t server, bool up);
	void *arg;
};

int health_new(struct health **out, const struct health_cb *cb);
void health_free(struct health *h);

/* An epoll fd: readable when health_run() has work (sockets, timers). */
int health_fd(const struct health *h);
void health_run(struct health *h);

/*
 * Probe what cfg says (the applied config; called at start and after each refresh). A server
 * that stays (same layer, farm, server id, address, port and farm probe settings) keeps its
 * state and history; others start over; servers gone are forgotten. Servers of disabled
 * status are not probed (state "disabled" in health_server_json).
 */
int health_sync(struct health *h, const struct config *cfg);

enum health_state health_state(const struct health *h, enum cfg_layer l, uint32_t farm,
			       uint32_t server);
/* Whether the prober lets the server take traffic: not probed, checking or up. */
bool health_up(const struct health *h, enum cfg_layer l, uint32_t farm, uint32_t server);

/*
 * Start a target that has no result yet down instead of "checking": it then needs `rise`
 * good checks to come up. For an adopting limpetd, right after its first health_sync, for
 * the servers the dataplane had down by their probe. True if the target was so seeded.
 */
bool health_seed_down(struct health *h, enum cfg_layer l, uint32_t farm, uint32_t server);

/* Read-only fields for the API's server resource and stats, or NULL if not probed:
 * {"state": "up|down|checking|disabled", "lastCheck": ISO time or null, "lastResult":
 * "ok|failed" or null, "error": text or null ("connection refused", "timeout after 2 s",
 * "status 500", "pattern not found"), "stateSince": ISO time, "checks": N} */
json_t *health_server_json(const struct health *h, enum cfg_layer l, uint32_t farm,
			   uint32_t server);

#endif /* LIMPET_HEALTH_H */
