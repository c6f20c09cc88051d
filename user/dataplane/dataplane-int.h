/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to the dataplane module: included by its files (dataplane.c, pins.c, stats.c) only.
 * The module's contract with the rest of limpet is dataplane.h.
 */
#ifndef LIMPET_DATAPLANE_INT_H
#define LIMPET_DATAPLANE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "balancer.skel.h"
#include "dataplane/dataplane.h"

/* What user space remembers of a farm: which server id holds which slot. */
struct farm_book {
	uint64_t digest;			/* of the lb_farm value in the map */
	uint64_t input;				/* of the dp_farm it was built from; 0: unknown */
	uint32_t nslots;			/* highest slot in use + 1 */
	uint32_t timeout;			/* stickinessTimeout in the map, seconds */
	uint64_t seed;				/* hashSeed in the map */
	uint32_t id[LB_FARM_SERVERS_MAX];
	uint32_t key[LB_FARM_SERVERS_MAX];	/* 0: slot free */
	uint32_t stat[LB_FARM_SERVERS_MAX];
	uint8_t flags[LB_FARM_SERVERS_MAX];	/* LB_SERVER_F_* in the map */
};

/* A farm swap held back until dataplane_batch_commit(). */
struct pending_swap {
	uint32_t slot;
	int inner;				/* the new inner map */
};

struct dataplane {
	struct balancer *skel;
	bool batching;				/* farm swaps wait for the commit */
	size_t npending;
	struct pending_swap pending[LB_FARMS_MAX];
	int prog_fd;			/* the balancer: the skeleton's, or the adopted pin's (owned) */
	bool adopted;			/* maps and program are those an earlier limpetd pinned */
	struct farm_book *farms[LB_FARMS_MAX];
	uint8_t stat_used[LB_SERVER_STATS_MAX];
	int ncpus;
	struct lb_vip_addrs vip_addrs;		/* the map's value, as last written */
};

/* Copy a whole table (sticky, conns) out a batch of elements per syscall, calling fn on
 * each element (stats.c); 0 or -errno. Elements the balancer changes meanwhile are seen
 * either way. */
int table_walk(int fd, size_t key_size, size_t val_size,
	       void (*fn)(void *arg, const void *key, const void *val), void *arg);

/* Note in a farm's book (its nslots set) what it keeps of the map value val: its digest
 * (equal values, equal digests), timeout, seed and server flags. */
void book_note_value(struct farm_book *b, const struct lb_farm *val);
/* Size the sticky table and its summaries (before load): 0 or -errno. */
int dataplane_sticky_size(struct dataplane *dp, uint32_t buckets);
/* The vip_addrs bitmap (vipaddrs.c): add the bit of addr; make it hold exactly the VIPs v;
 * read it from an adopted map. 0 or -errno. */
int vip_addrs_add(struct dataplane *dp, const uint32_t *addr);
int vip_addrs_sync(struct dataplane *dp, const struct dp_vip *v, size_t n);
int vip_addrs_load(struct dataplane *dp);
/* Write the meta record of a dataplane just created (pins.c). */
int dataplane_meta_init(struct dataplane *dp);

#endif /* LIMPET_DATAPLANE_INT_H */
