/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Announcing the VIPs (DESIGN.md section 8): limpetd keeps one blackhole route per VIP it is
 * ready to serve in a dedicated kernel routing table, tagged with its own protocol number; the
 * node's routing daemon (BIRD: `protocol kernel { learn; kernel table N; }`) learns that table
 * and announces it to the routers, which spread clients over the nodes by ECMP. The table is
 * referenced by no rule: the routes change nothing in the node's own forwarding.
 *
 * A VIP (an address) is announced while limpetd runs attached, some enabled frontend on it
 * leads to a farm with an eligible server, and the node is not draining. Routes found in the
 * table at start (a limpetd killed or stopped keeping its dataplane left them, and the
 * dataplane kept forwarding) are taken over: kept if still wanted, removed if not.
 */
#ifndef LIMPET_ANNOUNCE_H
#define LIMPET_ANNOUNCE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

struct announcer;

/* Does farm `farm` of layer l have an eligible server right now? */
typedef bool (*announce_ready_fn)(void *arg, enum cfg_layer l, uint32_t farm);

/* Open the netlink socket and take over the routes of (table, proto) already there. */
int announcer_new(struct announcer **out, uint32_t table, uint8_t proto);
/* The VIPs of cfg, each announced or withdrawn as ready() says; the routes of VIPs no longer
 * in cfg are removed. 0, or the first -errno of a route that could not be changed (logged,
 * shown per VIP, tried again by announcer_retry). */
int announcer_sync(struct announcer *a, const struct config *cfg, announce_ready_fn ready,
		   void *arg);
/* Draining withdraws every VIP (the dataplane keeps forwarding the packets still coming);
 * undraining announces again those ready. 0 or the first -errno, as announcer_sync. */
int announcer_drain(struct announcer *a, bool drain);
bool announcer_draining(const struct announcer *a);
/* Routes that failed to change at the last sync: try again (on the daemon's tick). */
void announcer_retry(struct announcer *a);
/* {"table", "protocol", "draining", "vips": [{"address", "announced", "reason"}]} */
json_t *announcer_json(const struct announcer *a);
/* Remove every route it holds, unless keep (a dataplane left forwarding keeps its routes for
 * the next limpetd); free. */
void announcer_free(struct announcer *a, bool keep);

#endif /* LIMPET_ANNOUNCE_H */
