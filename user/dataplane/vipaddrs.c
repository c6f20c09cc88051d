// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The vip_addrs bitmap (abi.h): a bit per hashed VIP address, which lets the balancer pass
 * traffic for other addresses without a lookup in the vips map. A bit is set before the first
 * key of its address is installed and cleared only after the last is gone, so that no VIP
 * packet is ever passed by it; user space keeps the map's value and writes it whole.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/dataplane-int.h"
#include "limpet/hash.h"

static __u64 *word_of(struct lb_vip_addrs *a, const uint32_t *addr, __u64 *mask)
{
	uint32_t bit = lb_vip_addr_bit(addr);

	*mask = 1ull << (bit % 64);
	return &a->bits[bit / 64];
}

static void bit_set(struct lb_vip_addrs *a, const uint32_t *addr)
{
	__u64 mask, *w = word_of(a, addr, &mask);

	*w |= mask;
}

static int vip_addrs_write(struct dataplane *dp, const struct lb_vip_addrs *a)
{
	uint32_t zero = 0;

	if (!memcmp(a, &dp->vip_addrs, sizeof(*a)))
		return 0;
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.vip_addrs), &zero, a, BPF_ANY))
		return -errno;
	dp->vip_addrs = *a;
	return 0;
}

int vip_addrs_add(struct dataplane *dp, const uint32_t *addr)
{
	struct lb_vip_addrs a;
	__u64 mask;

	/* an apply sets every VIP again: most are there already */
	if (*word_of(&dp->vip_addrs, addr, &mask) & mask)
		return 0;
	a = dp->vip_addrs;
	bit_set(&a, addr);
	return vip_addrs_write(dp, &a);
}

int vip_addrs_sync(struct dataplane *dp, const struct dp_vip *v, size_t n)
{
	struct lb_vip_addrs a = { { 0 } };

	for (size_t i = 0; i < n; i++)
		bit_set(&a, v[i].addr);
	return vip_addrs_write(dp, &a);
}

int vip_addrs_load(struct dataplane *dp)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.vip_addrs), &zero, &dp->vip_addrs))
		return -errno;
	return 0;
}
