/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the policy half's files (snapshot.c, balance.c, counters.c, sticky.c, addr.c) share
 * among themselves; the engine sees only l7-int.h.
 */
#ifndef LIMPET_L7_POLICY_H
#define LIMPET_L7_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "l7/l7-int.h"

/* A socket address as the dataplane hashes it: IPv4 in w[0] (network order), the rest zero;
 * an IPv4-mapped IPv6 address (dual-stack socket) is IPv4. Returns LB_V4, LB_V6, or 0 for
 * another family (w zeroed). port in host order, may be NULL. */
uint8_t l7_addr_words(const struct sockaddr *sa, uint32_t w[4], uint16_t *port);

/* --- remembered sources (sourceIp, balance source): client -> serverId, one table per farm,
 * kept across snapshots ------------------------------------------------------------------ */
struct l7_sticky;

struct l7_client {
	uint32_t w[4];
	uint8_t family;
	uint64_t hash;		/* lb_hash_addr(w, farm seed): picks the bucket */
};

int l7_sticky_new(struct l7_sticky **out);
void l7_sticky_free(struct l7_sticky *t);
/* The server remembered for c if seen within timeout seconds (refreshing it), else false. */
bool l7_sticky_get(struct l7_sticky *t, const struct l7_client *c, uint32_t timeout,
		   uint32_t *server);
/* Remember c -> server (evicting the bucket's stalest entry when full). */
void l7_sticky_set(struct l7_sticky *t, const struct l7_client *c, uint32_t timeout,
		   uint32_t server);

/* --- what outlives snapshots, held by the registry (main thread only) ------------------- */
/* The counters of (farm, server), created on first use; NULL when out of memory. */
struct l7_counters *l7_registry_counters(struct l7_registry *r, uint32_t farm, uint32_t server);
/* The remembered sources of farm, created on first use; NULL when out of memory. */
struct l7_sticky *l7_registry_sticky(struct l7_registry *r, uint32_t farm);

/* --- balance.c's per-farm state, built with the snapshot -------------------------------- */
/* f's servers are filled; index is f's position in the snapshot (its pick state slot). */
int l7_farm_policy_new(struct l7_farm *f, const struct cfg_farm *cf, uint64_t seed,
		       size_t index, struct l7_registry *reg);
void l7_farm_policy_free(struct l7_farm_policy *p);

#endif /* LIMPET_L7_POLICY_H */
