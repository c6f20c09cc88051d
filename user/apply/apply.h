/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Compile a validated config into dataplane state and apply it (DESIGN.md section 3):
 * farms first (each swapped in whole), then the VIPs that point at them, then what is gone.
 * Farms and frontends keep their dataplane slots across applies, so sticky entries and
 * counters stay attached to them.
 */
#ifndef LIMPET_APPLY_H
#define LIMPET_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "dataplane/dataplane.h"

struct applier;

/* Of every layer: the http layer's farms and servers are the L7 proxy's, counted too. */
struct apply_counts {
	size_t farms, servers, eligible, frontends, vip_keys, acl;
};

int applier_new(struct applier **out);
void applier_free(struct applier *ap);

/* Make the dataplane equal to cfg, its servers eligible as the probe says now (applying the
 * same cfg again after a probe result rebuilds only the farms whose eligibility changed). On
 * an error, what changed is reverted by re-applying the previous config (when there was
 * one). */
int applier_apply(struct applier *ap, struct dataplane *dp, const struct config *cfg,
		  struct apply_counts *counts);

/*
 * Take over the slots an earlier limpetd's applier recorded in the dataplane it adopted, so
 * that the next apply keeps every farm and frontend in the slot its sticky entries and
 * counters belong to (an unchanged farm is then not even swapped). Call before the first
 * apply. A farm the dataplane holds in a slot the record leaves free (an apply cut short) is
 * removed by the next apply.
 */
int applier_adopt(struct applier *ap, const struct dataplane *dp);

/*
 * Whether the prober lets a server take traffic (limpetd's: health_up()); the applier asks it
 * at every apply. Without one, every server is up.
 */
typedef bool (*applier_probe_fn)(void *arg, enum cfg_layer l, uint32_t farm, uint32_t server);
void applier_set_probe(struct applier *ap, applier_probe_fn up, void *arg);

/*
 * Eligibility, the one definition the dataplane, status and stats share (DESIGN.md section 3,
 * issue 7): a server is up when it is active and its probe lets it (server_up); it takes
 * traffic when up, a backup only while no server of its farm that is not a backup is up
 * (farm_primary_up).
 */
bool server_up(const struct applier *ap, enum cfg_layer l, uint32_t farm,
	       const struct cfg_server *s);
bool farm_primary_up(const struct applier *ap, enum cfg_layer l, const struct cfg_farm *f);
static inline bool server_eligible(const struct applier *ap, enum cfg_layer l,
				   const struct cfg_farm *f, const struct cfg_server *s,
				   bool primary_up)
{
	return server_up(ap, l, f->id, s) && s->backup != primary_up;
}

/*
 * The same eligibility for the servers of the http layer, as the L7 proxy asks it
 * (l7_eligible_fn of l7/l7.h): arg is a struct http_eligibility, which keeps the primary_up
 * of the farm last asked about (the proxy asks server after server).
 */
struct http_eligibility {
	const struct applier *ap;
	const struct cfg_farm *farm;	/* NULL: none asked yet */
	bool primary_up;
};
bool http_server_eligible(void *arg, const struct cfg_farm *f, const struct cfg_server *s);

/* The dataplane slot of a farm or frontend of the applied config, or -1 (not applied; an
 * http farm, which is the L7 proxy's: http frontends do have a slot, for their counters and
 * allowedSource). */
int applier_farm_slot(const struct applier *ap, enum cfg_layer l, uint32_t id);
int applier_frontend_slot(const struct applier *ap, enum cfg_layer l, uint32_t id);

/* Whether the adopted dataplane had server down by its probe (LB_SERVER_F_PROBE_DOWN) in the
 * farm (layer, id); call after applier_adopt, before the first apply. */
bool applier_adopted_down(const struct applier *ap, const struct dataplane *dp,
			  enum cfg_layer l, uint32_t farm, uint32_t server);

/* Call fn for every server address of the XDP layers of cfg. */
void config_for_each_server(const struct config *cfg,
			    void (*fn)(const struct cfg_server *s, void *arg), void *arg);

#endif /* LIMPET_APPLY_H */
