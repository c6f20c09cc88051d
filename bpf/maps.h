/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The balancer's maps, declared once, sized from abi.h. */
#ifndef LIMPET_MAPS_H
#define LIMPET_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "limpet/abi.h"

/* (address, port, protocol) -> frontend and farm */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_VIP_KEYS_MAX);
	__type(key, struct lb_vip_key);
	__type(value, struct lb_vip);
} vips SEC(".maps");

/* the VIP addresses, as a bit per hashed address (abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_vip_addrs);
} vip_addrs SEC(".maps");

/* copies of vips entries, per CPU, and the generation that keeps them good (abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_VIP_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct lb_vip_cached);
} vip_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vip_gen SEC(".maps");

/* allowedSource prefixes per frontend */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, LB_ACL_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lb_acl_key);
	__type(value, __u32);
} acl SEC(".maps");

/*
 * Farm slot -> single-entry array holding the farm (servers + Maglev ring). A farm changes by
 * swapping in a new inner map: the update is one pointer store for readers (RCU), and the
 * syscall returns only after programs that could still see the old map have finished
 * (maybe_wait_bpf_programs), so user space knows when the old state is gone.
 */
struct farm_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	/* sizes, not BTF types: clang emits only a forward declaration for a type reached
	 * through an inner map definition, and libbpf cannot size that */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct lb_farm));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_FARMS_MAX);
	__type(key, __u32);
	__array(values, struct farm_inner);
} farms SEC(".maps");

/* sourceIp stickiness: buckets of LB_STICKY_WAYS entries, one cache line each */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_STICKY_BUCKETS);
	__type(key, __u32);
	__type(value, struct lb_sticky_bucket);
} sticky SEC(".maps");

/* one 32-bit summary per sticky bucket (abi.h lb_sticky_sum): max_entries = buckets / 16 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_STICKY_BUCKETS / LB_STICKY_SUM_BUCKETS);
	__type(key, __u32);
	__type(value, struct lb_sticky_sum);
} sticky_sum SEC(".maps");

/* sources that could not be recorded: both their buckets hold live clients, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sticky_full SEC(".maps");

/* null stickiness: established flows */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_CONN_MAX);
	__type(key, struct lb_flow_key);
	__type(value, struct lb_conn);
} conns SEC(".maps");

/* new sticky/connection entries recorded this second, per CPU */
struct insert_budget {
	__u32 second;
	__u32 used;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct insert_budget);
} insert_rl SEC(".maps");

/* FIB results per server (bpf/forward.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_SERVER_STATS_MAX);
	__type(key, __u32);
	__type(value, struct lb_nexthop);
} nexthops SEC(".maps");

/* egress devices other than the ingress one, by ifindex */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, LB_IFACES_MAX);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

/*
 * The balancer reads neither of these two: they are limpetd's records, declared here so that
 * they are created, pinned and adopted with the maps they describe (abi.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_meta);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_owners);
} owners SEC(".maps");

#endif /* LIMPET_MAPS_H */
