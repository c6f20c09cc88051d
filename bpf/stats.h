/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-CPU counters: per verdict reason, per frontend (VIP), per server. Every verdict leaves
 * through lb_exit() so that nothing is passed or dropped without being counted.
 */
#ifndef LIMPET_STATS_H
#define LIMPET_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "limpet/abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_R_MAX);
	__type(key, __u32);
	__type(value, struct lb_counter);
} verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_FRONTENDS_MAX);
	__type(key, __u32);
	__type(value, struct lb_counter);
} stats_vip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_SERVER_STATS_MAX);
	__type(key, __u32);
	__type(value, struct lb_counter);
} stats_server SEC(".maps");

static __always_inline void count(void *map, __u32 idx, __u64 bytes)
{
	struct lb_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline int lb_exit(enum lb_reason why, int action, __u64 bytes)
{
	count(&verdicts, why, bytes);
	return action;
}

#endif /* LIMPET_STATS_H */
