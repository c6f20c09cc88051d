/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The L7 HTTP proxy (DESIGN.md section 3, cookie stickiness; issue 8), as limpetd sees it.
 *
 * The XDP program passes an http frontend's traffic up to the kernel stack (pass_l7); the
 * proxy's workers serve it. Each worker is a thread with its own epoll loop and its own
 * SO_REUSEPORT listener per (VIP, port), so workers share nothing on the request path but
 * the snapshot (read-only) and the per-server counters (atomics).
 *
 * Config reaches the workers as an immutable, refcounted snapshot of the http layer (farms,
 * servers with their eligibility and cookie tokens, frontends): l7_apply builds the next one
 * and publishes it; each worker picks it up at its next loop turn and drops its reference to
 * the old one once no request of its own still uses it (RCU style). Connections are never
 * dropped by an apply; a listener whose (VIP, port) left the config is closed.
 *
 * Every function here runs on limpetd's main thread.
 */
#ifndef LIMPET_L7_H
#define LIMPET_L7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

struct l7;

struct l7_opts {
	unsigned workers;		/* --l7-workers; 0: the number of online CPUs */
	const char *state_dir;		/* holds the cookie secret (cookie.h) */
};

/* Whether a server of the http layer may take new clients (limpetd: the applier's
 * server_eligible, probes and backup included). Asked for every server at every l7_apply. */
typedef bool (*l7_eligible_fn)(void *arg, const struct cfg_farm *f, const struct cfg_server *s);

/* Load (or create) the cookie secret and start the workers with an empty config. 0 or -errno
 * with a message in err. */
int l7_new(struct l7 **out, const struct l7_opts *o, char *err, size_t errlen);

/*
 * Serve cfg's http layer from now on: build the snapshot, open the listeners of new
 * (address, port) pairs (IP_FREEBIND, so a VIP need not be configured yet), publish the
 * snapshot, close the listeners of pairs that left. All or nothing: on error (-errno, message
 * in err) the previous config keeps being served and no listener was closed.
 * Called after every refresh and every re-apply of probe state.
 */
int l7_apply(struct l7 *l, const struct config *cfg, l7_eligible_fn eligible, void *arg,
	     char *err, size_t errlen);

/*
 * Counters for status, stats and /metrics, a new object:
 *   {"connections": {"client": N, "backend": N, "backendIdle": N},
 *    "farm": [{"farmId": F, "server": [{"serverId": S, "requests": N, "active": N,
 *              "responses": {"1xx": N, "2xx": N, "3xx": N, "4xx": N, "5xx": N, "other": N},
 *              "latency": {"le": [0.001, ...], "count": [...cumulative...], "sum": SECONDS,
 *                          "total": N}}]}],
 *    "errors": {"400": N, "408": N, "414": N, "431": N, "502": N, "503": N, "504": N}}
 * Counters of a server survive applies for as long as (farmId, serverId) stays.
 */
json_t *l7_stats(struct l7 *l);

/* The read-only `cookie` of server (farm, server) of the http layer: the value a client stuck
 * to it carries (cookie.h). out holds L7_COOKIE_LEN + 1 bytes. */
void l7_cookie(const struct l7 *l, uint32_t farm, uint32_t server, char *out);

/* Stop the workers, close every socket, free everything. */
void l7_free(struct l7 *l);

#endif /* LIMPET_L7_H */
