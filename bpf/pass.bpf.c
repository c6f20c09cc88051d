// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP_PASS and nothing else. A veth only takes frames another veth sends it with XDP_TX or
 * XDP_REDIRECT while it runs an XDP program itself (GRO alone did not do it on the 6.18
 * kernel we test on): attach this to the peer of every veth limpet transmits on.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int limpet_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
