/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the benchmarks share (bench_xdp.c, bench_rig.c): the farm they balance over, the 1M
 * known clients, pinning to one CPU and the sample statistics. The rig's facts they rely on
 * (backend addresses and MACs) are those of scripts/rig.sh.
 */
#ifndef LIMPET_BENCH_COMMON_H
#define LIMPET_BENCH_COMMON_H

#include <stdint.h>

#include "dataplane.h"

#define BENCH_SEED		0x6c696d706574ull
#define BENCH_NBACKENDS		3	/* rig backends b1..b3, weights 1:2:3 */
#define BENCH_FARM4		0
#define BENCH_FARM6		1

/* The 1M known clients are IPv6 (BENCH_MANY_PREFIX + i, i < BENCH_MANY_N): 198.18.0.0/15
 * holds only 2^17 addresses. */
#define BENCH_MANY_PREFIX	"2001:2:0:200::"
#define BENCH_MANY_N		1000000u
/* The default budget (LB_STICKY_INSERTS_PER_SEC) would record only 100k of them a second. */
#define BENCH_INSERT_RATE	10000000u

/* One sourceIp/DSR farm in slot farm over the rig's backends .11/.12/.13 (2001:2::1:11..13),
 * weights 1:2:3, and its VIP vip:port/proto. Returns 0 or -errno, logged. */
int bench_farm_setup(struct dataplane *dp, uint8_t family, uint32_t farm, const char *vip,
		     uint8_t proto, uint16_t port);

/* Pin the calling thread to the last CPU it may run on: samples stay comparable, and the
 * sticky insert budget (per CPU) is one budget. */
int bench_pin_cpu(int *cpu);

/* The backend (1..BENCH_NBACKENDS) a frame's destination MAC names, 0 if none. */
int bench_backend_of(const uint8_t mac[6]);

/* How many of the known clients BENCH_MANY_PREFIX + base + i (i < n) find their sticky bucket
 * full in farm (more than LB_STICKY_WAYS sources hash to it) and so stay on Maglev; computed
 * with the dataplane's own hash over buckets (a power of two). */
uint32_t bench_many_overflow(uint32_t farm, uint32_t base, uint32_t n, uint32_t buckets);

/* Sort v[0..n) and give its minimum and median. */
void bench_min_median(double *v, int n, double *min, double *med);

#endif /* LIMPET_BENCH_COMMON_H */
