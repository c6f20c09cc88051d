/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Dataplane sync: loads the balancer (libbpf skeleton) and keeps its maps equal to the farms,
 * VIPs and allowedSource lists it is given. Every call is all-or-nothing for what it changes:
 * a farm is swapped in whole (see bpf/maps.h), a VIP's keys are installed before it answers.
 *
 * Server slots: within a farm a server keeps its slot for as long as its id stays, so sticky
 * entries keep naming it; its key is slot | stamp << 16 where the stamp is a hash of (id,
 * address), so a slot taken over by another server does not inherit the old one's clients.
 */
#ifndef LIMPET_DATAPLANE_H
#define LIMPET_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limpet/abi.h"

struct dataplane;

struct dataplane_opts {
	uint32_t sticky_buckets;	/* power of two; 0: LB_STICKY_BUCKETS */
	uint32_t conn_max;		/* 0: LB_CONN_MAX */
	uint32_t insert_rate;		/* new entries per CPU per second; 0: default */
};

struct dp_server {
	uint32_t id;			/* serverId */
	uint8_t family;			/* LB_V4 / LB_V6 */
	uint32_t addr[LB_ADDR_WORDS];	/* network order */
	uint32_t weight;		/* 1..256 */
	bool eligible;			/* active (and probe up) */
};

struct dp_farm {
	uint32_t slot;			/* < LB_FARMS_MAX */
	uint64_t seed;
	uint32_t ring_size;		/* prime <= LB_RING_MAX; 0: LB_RING_DEFAULT */
	uint32_t timeout;		/* seconds; 0: LB_STICKY_TIMEOUT_DEFAULT */
	uint8_t stickiness;		/* LB_STICKY_* */
	uint8_t forwarding;		/* LB_FWD_* */
	size_t nservers;
	const struct dp_server *servers;
};

struct dp_vip {
	uint8_t family;
	uint8_t proto;			/* IPPROTO_TCP / IPPROTO_UDP */
	uint32_t addr[LB_ADDR_WORDS];	/* network order */
	uint16_t port_lo, port_hi;	/* host order, inclusive */
	uint32_t farm;			/* farm slot */
	uint32_t frontend;		/* < LB_FRONTENDS_MAX */
	uint32_t flags;			/* LB_VIP_F_* */
	bool frag_key;			/* also route non-first fragments of this address here */
};

int dataplane_open(struct dataplane **dpp, const struct dataplane_opts *opts);
void dataplane_close(struct dataplane *dp);
int dataplane_prog_fd(const struct dataplane *dp);

/* Build the farm's Maglev ring and swap it in. Returns 0 or -errno (nothing changed). */
int dataplane_farm_set(struct dataplane *dp, const struct dp_farm *farm);
int dataplane_farm_del(struct dataplane *dp, uint32_t slot);
/* The key (slot | stamp << 16) the farm gave server id, or 0 if it has none. */
uint32_t dataplane_server_key(const struct dataplane *dp, uint32_t farm, uint32_t id);

int dataplane_vip_set(struct dataplane *dp, const struct dp_vip *vip);

/* Make the vips map hold exactly the keys of these VIPs: upsert them all first, then
 * delete the keys no VIP claims, so a VIP that stays never stops answering. */
int dataplane_vips_sync(struct dataplane *dp, const struct dp_vip *v, size_t n);

struct dp_acl {
	uint32_t frontend;
	uint8_t family;
	uint32_t addr[LB_ADDR_WORDS];	/* network order */
	uint32_t prefixlen;
};

int dataplane_acl_add(struct dataplane *dp, const struct dp_acl *a);
/* Likewise for allowedSource prefixes: add all, then delete those not listed. */
int dataplane_acl_sync(struct dataplane *dp, const struct dp_acl *a, size_t n);

/* Pin every map and the program under dir (created if missing; DESIGN: one folder per
 * serviceName); unpin removes the pins and the folder. */
int dataplane_pin(struct dataplane *dp, const char *dir);
void dataplane_unpin(struct dataplane *dp, const char *dir);

/* Allow redirects to ifindex (a device other than the one a packet came in on). */
int dataplane_port_add(struct dataplane *dp, int ifindex);

/* Counters summed over CPUs. */
int dataplane_verdicts(const struct dataplane *dp, struct lb_counter out[LB_R_MAX]);
int dataplane_server_stats(const struct dataplane *dp, uint32_t farm, uint32_t id,
			   struct lb_counter *out);
int dataplane_vip_stats(const struct dataplane *dp, uint32_t frontend, struct lb_counter *out);
const char *dataplane_reason_name(enum lb_reason r);

#endif /* LIMPET_DATAPLANE_H */
