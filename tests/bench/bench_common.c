// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shared by the benchmarks: see bench_common.h. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "bench_common.h"
#include "limpet/hash.h"
#include "log.h"
#include "pkt.h"

int bench_farm_setup(struct dataplane *dp, uint8_t family, uint32_t farm, const char *vip,
		     uint8_t proto, uint16_t port)
{
	static const char *const srv4[BENCH_NBACKENDS] = { "198.18.1.11", "198.18.1.12",
							   "198.18.1.13" };
	static const char *const srv6[BENCH_NBACKENDS] = { "2001:2::1:11", "2001:2::1:12",
							   "2001:2::1:13" };
	struct dp_server sv[BENCH_NBACKENDS];
	struct dp_farm f = { .slot = farm, .seed = BENCH_SEED, .stickiness = LB_STICKY_SOURCE_IP,
			     .forwarding = LB_FWD_DSR, .nservers = BENCH_NBACKENDS, .servers = sv };
	struct dp_vip v = { .family = family, .proto = proto, .port_lo = port, .port_hi = port,
			    .farm = farm, .frontend = farm };
	int err;

	for (int k = 0; k < BENCH_NBACKENDS; k++) {
		sv[k] = (struct dp_server){ .id = k + 1, .family = family, .weight = k + 1,
					    .eligible = true };
		if (family == LB_V4)
			pkt_addr4(sv[k].addr, srv4[k]);
		else
			pkt_addr6(sv[k].addr, srv6[k]);
	}
	if (family == LB_V4)
		pkt_addr4(v.addr, vip);
	else
		pkt_addr6(v.addr, vip);
	err = dataplane_farm_set(dp, &f);
	if (err) {
		pr_err("farm %u: %s", farm, strerror(-err));
		return err;
	}
	err = dataplane_vip_set(dp, &v);
	if (err)
		pr_err("vip %s port %u: %s", vip, port, strerror(-err));
	return err;
}

int bench_pin_cpu(int *cpu)
{
	cpu_set_t set;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (c = CPU_SETSIZE - 1; c > 0 && !CPU_ISSET(c, &set); c--)
		;
	CPU_ZERO(&set);
	CPU_SET(c, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	*cpu = c;
	return 0;
}

int bench_backend_of(const uint8_t mac[6])
{
	/* rig.sh: backend K has 02:00:00:00:01:0K */
	static const uint8_t prefix[5] = { 0x02, 0, 0, 0, 0x01 };

	if (memcmp(mac, prefix, sizeof(prefix)) || mac[5] < 1 || mac[5] > BENCH_NBACKENDS)
		return 0;
	return mac[5];
}

uint32_t bench_many_overflow(uint32_t farm, uint32_t base, uint32_t n, uint32_t buckets)
{
	uint8_t *fill = calloc(buckets, 1);
	uint32_t over = 0, w[4];

	if (!fill)
		return 0;
	pkt_addr6(w, BENCH_MANY_PREFIX);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t sh;
		uint32_t idx;

		w[3] = htonl(base + i);
		sh = lb_sticky_hash(lb_hash_addr(w, BENCH_SEED), farm);
		idx = sh & (buckets - 1);
		if (fill[idx] < LB_STICKY_WAYS)
			fill[idx]++;
		else
			over++;
	}
	free(fill);
	return over;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_min_median(double *v, int n, double *min, double *med)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	*min = v[0];
	*med = v[n / 2];
}
