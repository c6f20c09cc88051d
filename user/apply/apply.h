/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Compile a validated config into dataplane state and apply it (DESIGN.md section 3):
 * farms first (each swapped in whole), then the VIPs that point at them, then what is gone.
 * Farms and frontends keep their dataplane slots across applies, so sticky entries and
 * counters stay attached to them.
 */
#ifndef LIMPET_APPLY_H
#define LIMPET_APPLY_H

#include <stddef.h>

#include "config/config.h"
#include "dataplane/dataplane.h"

struct applier;

struct apply_counts {
	size_t farms, servers, eligible, frontends, vip_keys, acl;
};

int applier_new(struct applier **out);
void applier_free(struct applier *ap);

/* Make the dataplane equal to cfg. On an error, what changed is reverted by re-applying
 * the previous config (when there was one). */
int applier_apply(struct applier *ap, struct dataplane *dp, const struct config *cfg,
		  struct apply_counts *counts);

/* Call fn for every server address of the XDP layers of cfg. */
void config_for_each_server(const struct config *cfg,
			    void (*fn)(const struct cfg_server *s, void *arg), void *arg);

#endif /* LIMPET_APPLY_H */
