// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark wrapper (tests/bench/bench_xdp.c). BPF_PROG_TEST_RUN with repeat > 1 runs the
 * program again and again on one buffer, so from the second run on the program under test
 * would see its own output (MACs rewritten, an outer header pushed). bench_wrap puts the
 * pristine frame back, gives it the source user space asked for, and tail-calls the program
 * under test in target[0]. It is measured alone too (target = bench_nop) and that cost is
 * subtracted, so it must stay small: no helper but the tail call on the usual path.
 *
 * Every global is set by user space through the skeleton between runs (.bss is mmapped).
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define BENCH_FRAME_LEN 128	/* every frame is padded to this; user space sees sizeof(frame) */

/* The input frame; 8-byte words so that restoring it is 16 moves, not 128 byte copies
 * (clang expands a memcpy through a void * packet pointer byte by byte). */
__u64 frame[BENCH_FRAME_LEN / 8];

__u32 src_off;		/* byte offset in the frame of the 32-bit word that varies per source
			 * (IPv4: the source address; IPv6: its last word) */
__u32 src_base;		/* first source word, host order */
__u32 nsrc;		/* 0: keep the frame's source; else src_base + src_next, with src_next
			 * cycling through 0..nsrc-1 (~0u: a new source every run) */
__u32 src_next;		/* the counter; user space resets it */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

SEC("xdp")
int bench_wrap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be32 *src;
	__u64 *dst;
	__u32 off, n;
	int i;

	/* the previous run may have pushed an outer header (ipip): take it off again */
	if (end - data != BENCH_FRAME_LEN) {
		if (bpf_xdp_adjust_head(ctx, (int)(end - data) - BENCH_FRAME_LEN))
			return XDP_ABORTED;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
	}
	if (data + BENCH_FRAME_LEN > end)
		return XDP_ABORTED;
	dst = data;
#pragma unroll
	for (i = 0; i < BENCH_FRAME_LEN / 8; i++)
		dst[i] = frame[i];

	n = nsrc;
	if (n) {
		/* the verifier takes a variable packet offset only once it is bounded, and does
		 * not carry the 128-byte range checked above over to it: check again */
		off = src_off;
		if (off > BENCH_FRAME_LEN - sizeof(__u32))
			return XDP_ABORTED;
		src = data + off;
		if ((void *)(src + 1) > end)
			return XDP_ABORTED;
		/* checksums are left stale: the balancer does not verify them */
		*src = bpf_htonl(src_base + src_next);
		/* compare and reset, not %: a division costs more than the rest of the wrapper */
		if (++src_next >= n)
			src_next = 0;
	}

	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;	/* target[0] empty or not an XDP program */
}

/* Stands for the program under test when the wrapper is measured alone. */
SEC("xdp")
int bench_nop(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
