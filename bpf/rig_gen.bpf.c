// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frame generator of the rig benchmark (tests/bench/bench_rig.c): BPF_PROG_TEST_RUN runs it
 * in live-frames mode on g0 (scripts/rig.sh --topology pair), and every frame it returns
 * XDP_TX for really leaves g0 for the LB's veth. The kernel fills a page from the test run's
 * data_in only when it first hands it out; a page that comes back (the frame was dropped at
 * the far end) is reused as the LB side left it. So every run writes again the fields the LB
 * side rewrites (both MACs) and the one that varies (the source address).
 *
 * Every global is set by user space through the skeleton between test runs (.bss is mmapped).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define GEN_FRAME_MAX 128	/* src_off is checked against it */

unsigned char dmac[ETH_ALEN], smac[ETH_ALEN];
__u32 src_off;		/* byte offset of the 32-bit word that varies per source (IPv4: the
			 * source address; IPv6: its last word) */
__u32 src_base;		/* first source word, host order */
__u32 nsrc;		/* 0: keep the frame's source; else src_base + next, next cycling
			 * through 0..nsrc-1 (~0u: a new source every frame) */

/* next, per CPU: a generator on each CPU walks the sources on its own */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);	/* user space reads per-CPU values 8 bytes apart anyway */
} gen_next SEC(".maps");

SEC("xdp")
int limpet_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0, off;
	__u64 *next;
	__be32 *src;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	if (!nsrc)
		return XDP_TX;
	next = bpf_map_lookup_elem(&gen_next, &zero);
	if (!next)
		return XDP_ABORTED;
	/* the verifier takes a variable packet offset only once it is bounded */
	off = src_off;
	if (off > GEN_FRAME_MAX - sizeof(__u32))
		return XDP_ABORTED;
	src = data + off;
	if ((void *)(src + 1) > end)
		return XDP_ABORTED;
	/* checksums are left stale: the balancer does not verify them */
	*src = bpf_htonl(src_base + (__u32)*next);
	/* compare and reset, not %: a division per frame */
	if (++*next >= nsrc)
		*next = 0;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
