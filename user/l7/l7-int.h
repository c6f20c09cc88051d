/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the L7 proxy's parts share inside user/l7/. Two halves meet here:
 *   - policy (snapshot.c, balance.c, counters.c, cookie.c): the immutable snapshot of the http
 *     layer, the server pick for a request, the per-server counters;
 *   - engine (l7.c, worker.c, conn.c, ...): threads, sockets, HTTP parsing and streaming; it
 *     asks the policy which frontend a connection is for and which server a request goes to,
 *     and reports what happened to the counters.
 */
#ifndef LIMPET_L7_INT_H
#define LIMPET_L7_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "l7/cookie.h"
#include "l7/l7.h"

/* --- counters: one per (farmId, serverId), shared by all workers, kept across snapshots ---- */
#define L7_LAT_BUCKETS	14	/* upper bounds in l7_lat_le (seconds); the last is +Inf */
extern const double l7_lat_le[L7_LAT_BUCKETS];

enum l7_class { L7_C1XX, L7_C2XX, L7_C3XX, L7_C4XX, L7_C5XX, L7_COTHER, L7_CLASSES };

struct l7_counters {
	atomic_uint_least64_t requests;		/* sent to the server */
	atomic_uint_least64_t responses[L7_CLASSES];	/* by the server's status class */
	atomic_uint_least64_t lat[L7_LAT_BUCKETS];	/* response header latency, not cumulative */
	atomic_uint_least64_t lat_sum_us;
	atomic_int_least64_t active;		/* requests in flight to it: leastconn reads it */
};

/* Proxy-generated errors, by status (the engine counts, l7_stats reports). */
enum l7_err { L7_E400, L7_E408, L7_E414, L7_E431, L7_E502, L7_E503, L7_E504, L7_ERRS };

struct l7_registry;	/* counters by (farmId, serverId); policy-owned, engine-held */
struct l7_snap;

int l7_registry_new(struct l7_registry **out);
void l7_registry_free(struct l7_registry *r);
/* Proxy errors: the engine bumps them. */
void l7_count_error(struct l7_registry *r, enum l7_err e);
/* A response from a server (status 0: none came, e.g. reset after the request) after latency_us
 * from the request's last byte sent to the response's headers. */
void l7_count_response(struct l7_counters *c, unsigned status, uint64_t latency_us);
/* Rendered as l7.h's l7_stats() says, for the servers of snap (may be NULL: only totals). */
json_t *l7_registry_json(struct l7_registry *r, const struct l7_snap *snap,
			 const atomic_uint_least64_t conns[3]);

/* --- the snapshot of the http layer: immutable once published, refcounted ---------------- */
struct l7_server {
	uint32_t id;			/* serverId */
	struct sockaddr_storage addr;	/* where to connect (address, port: server's or farm's) */
	socklen_t addrlen;
	uint32_t weight;		/* 1..256 */
	bool eligible;			/* may take new clients (l7_eligible_fn) */
	uint8_t proxy_protocol;		/* 0: none, 1: v1, 2: v2 */
	char cookie[L7_COOKIE_LEN + 1];	/* its token in this farm */
	/* "Set-Cookie: NAME=TOKEN; Path=/; HttpOnly; SameSite=Lax": the start of the line a
	 * response carries for cookie stickiness (the frontend adds "; Secure" and CRLF) */
	char *set_cookie;
	size_t set_cookie_len;
	struct l7_counters *ctr;	/* never NULL */
};

struct l7_farm {
	uint32_t id;			/* farmId */
	enum cfg_balance balance;
	enum cfg_stickiness stickiness;
	const char *cookie_name;	/* stickiness cookie: the farm's, or L7_COOKIE_NAME_DEFAULT */
	size_t cookie_name_len;
	size_t nservers;
	struct l7_server *servers;
	struct l7_farm_policy *policy;	/* balance.c's private state (ring, token index, ...) */
};

struct l7_frontend {
	uint32_t id;			/* frontendId */
	const struct l7_farm *farm;	/* its defaultFarmId */
	bool tls_terminated;		/* tlsTerminated: X-Forwarded-Proto https, Secure cookie */
};

/* One (VIP, port) the proxy listens on, and the frontend it serves. */
struct l7_listen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const struct l7_frontend *fe;
};

struct l7_snap {
	atomic_int refs;
	uint64_t gen;			/* 1, 2, ...: which apply built it */
	size_t nfarms, nfrontends, nlisten;
	struct l7_farm *farms;
	struct l7_frontend *frontends;
	struct l7_listen *listen;	/* sorted by address: l7_snap_listen() bisects */
};

/*
 * Build the snapshot of cfg's http layer: enabled frontends, each port of each expanded to a
 * listen entry; farms with their servers, eligibility from eligible(), tokens from key,
 * counters from reg (created for new (farm, server) pairs, kept for those that stay). refs is
 * 1. 0 or -errno with a message in err.
 */
int l7_snap_build(const struct config *cfg, l7_eligible_fn eligible, void *arg,
		  const uint8_t key[L7_SECRET_LEN], struct l7_registry *reg, uint64_t gen,
		  struct l7_snap **out, char *err, size_t errlen);
static inline struct l7_snap *l7_snap_get(struct l7_snap *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}
void l7_snap_put(struct l7_snap *s);	/* frees on the last reference; NULL is fine */

/* The entry for a connection accepted on local address (VIP, port), or NULL (close it). */
const struct l7_listen *l7_snap_listen(const struct l7_snap *s, const struct sockaddr *local);

/* --- the pick: which server a request goes to (balance.c) --------------------------------- */

/* A worker's own mutable balancing state for one snapshot (smooth weighted roundrobin
 * positions...): created when the worker adopts the snapshot, freed with it. */
struct l7_pick_state;
struct l7_pick_state *l7_pick_state_new(const struct l7_snap *s);
void l7_pick_state_free(struct l7_pick_state *ps);

struct l7_req_info {
	const struct sockaddr *client;	/* the client's address: source balance, sourceIp */
	const char *path;		/* request target without the query: uri balance */
	size_t path_len;
	const char *cookie;		/* the value of the farm's cookie in the request, or NULL */
	size_t cookie_len;
};

/*
 * The server for a request to farm f, or NULL when none is eligible (503). A valid cookie for
 * an eligible server wins (*set_cookie false); otherwise the farm's balance (and sourceIp
 * stickiness) picks, and *set_cookie says whether the response must carry the farm's cookie
 * (cookie stickiness). avoid: a server that refused or reset the connection for this request
 * (the retry, and the cookie redispatch) or NULL; it is never returned (NULL if it was the
 * only eligible server). The engine counts: requests++ and active++ when it sends a request to
 * the returned server, active-- when that exchange ends (response complete or failed).
 */
const struct l7_server *l7_pick(const struct l7_farm *f, struct l7_pick_state *ps,
				const struct l7_req_info *ri, const struct l7_server *avoid,
				bool *set_cookie);

#endif /* LIMPET_L7_INT_H */
