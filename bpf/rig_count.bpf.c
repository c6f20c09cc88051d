// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Receiving end of the rig benchmark (tests/bench/bench_rig.c): count every frame by its
 * destination and drop it. On g0 it takes what the LB side transmitted back; on lb0 it is the
 * ceiling (the generator's frames dropped on arrival).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#define COUNT_SLOTS 8

/* Slot K: frames to backend K's MAC (scripts/rig.sh: 02:00:00:00:01:0K, 0 < K < COUNT_SLOTS);
 * slot 0: to any other MAC. Per CPU: no shared line between the CPUs that count. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} rx SEC(".maps");

SEC("xdp")
int limpet_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const unsigned char *d = data;
	__u32 k = 0;
	__u64 *n;

	if (d + ETH_ALEN <= (unsigned char *)end && d[0] == 0x02 && !d[1] && !d[2] && !d[3] &&
	    d[4] == 0x01 && d[5] < COUNT_SLOTS)
		k = d[5];
	n = bpf_map_lookup_elem(&rx, &k);
	if (n)
		*n += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
