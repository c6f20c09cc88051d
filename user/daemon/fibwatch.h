/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * FIB misses at run time: packets to servers that the balancer passed to the kernel because
 * bpf_fib_lookup gave no next hop (the pass_fib_* verdicts). Clients of those servers time
 * out, so each reason is reported with its likely fix: at most once per FIBWATCH_PERIOD
 * seconds, with the count since the last report, as a status warning (key "fib.<reason>",
 * which the service logs) that is cleared after FIBWATCH_PERIOD seconds without a new miss.
 */
#ifndef LIMPET_FIBWATCH_H
#define LIMPET_FIBWATCH_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "limpet/abi.h"

#define FIBWATCH_PERIOD	60	/* seconds */
#define FIBWATCH_FIRST	LB_R_FIB_FWD_DISABLED
#define FIBWATCH_N	(LB_R_FIB_OTHER - LB_R_FIB_FWD_DISABLED + 1)

struct dataplane;
struct service;

struct fibwatch_reason {
	uint64_t seen;		/* the counter at the last tick */
	uint64_t unreported;	/* misses since the last warning */
	time_t warned;		/* when the last warning was raised */
	time_t last_miss;
	bool raised;		/* the status warning is up */
};

struct fibwatch {
	char (*ifname)[IF_NAMESIZE];	/* the attached devices (borrowed), for the fixes */
	int nifaces;
	time_t last_tick;	/* 0 before the first: the counters then are a baseline */
	struct fibwatch_reason r[FIBWATCH_N];
};

void fibwatch_init(struct fibwatch *fw, char ifnames[][IF_NAMESIZE], int n);
/* Once a second: read the dataplane's verdict counters, raise or clear warnings on svc. */
void fibwatch_tick(struct fibwatch *fw, struct service *svc, const struct dataplane *dp);

#endif /* LIMPET_FIBWATCH_H */
