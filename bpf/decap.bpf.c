// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * limpet decap: for backends whose kernel has no ipip/ip6tnl device. Strips the outer
 * IPv4 (protocol 4, no options) or IPv6 (next header 41) header that the balancer's ipip
 * mode adds and passes the inner packet up the stack, where it meets the VIP on loopback.
 * Everything else passes untouched. Like an ipip device without a remote set, it accepts
 * tunnels from any source: filter the LB addresses upstream if that matters.
 */
#include "parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");	/* [0] decapsulated, [1] passed as is */

static __always_inline int done(__u32 k, int action)
{
	__u64 *n = bpf_map_lookup_elem(&decap_stats, &k);

	if (n)
		*n += 1;
	return action;
}

/* Outer header length to strip, or 0 if the frame is not one of our tunnels. */
static __always_inline int outer_len(struct cursor *c, __be16 proto)
{
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = c->pos;

		if ((void *)(ip + 1) > c->end || ip->version != 4 || ip->ihl != 5 ||
		    ip->protocol != IPPROTO_IPIP ||
		    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return 0;
		if ((void *)(ip + 1) + sizeof(struct iphdr) > c->end)
			return 0;
		return sizeof(*ip);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = c->pos;

		if ((void *)(ip6 + 1) > c->end || ip6->version != 6 ||
		    ip6->nexthdr != IPPROTO_IPV6)
			return 0;
		if ((void *)(ip6 + 1) + sizeof(struct ipv6hdr) > c->end)
			return 0;
		return sizeof(*ip6);
	}
	return 0;
}

SEC("xdp")
int limpet_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct cursor c = { .pos = data, .end = (void *)(long)ctx->data_end };
	struct pkt_info pi = {};
	__be16 proto;
	int hlen;

	if (parse_eth(&c, &pi, &proto) != PARSE_OK)
		return done(1, XDP_PASS);
	hlen = outer_len(&c, proto);
	if (!hlen)
		return done(1, XDP_PASS);
	/* move the L2 header (14 or 18 bytes, less than hlen: no overlap) over the outer one */
	if (data + hlen + ETH_HLEN + 4 > c.end)
		return done(1, XDP_PASS);
	if (c.pos - data == ETH_HLEN)
		__builtin_memcpy(data + hlen, data, ETH_HLEN);
	else
		__builtin_memcpy(data + hlen, data, ETH_HLEN + 4);
	if (bpf_xdp_adjust_head(ctx, hlen))
		return done(1, XDP_DROP);
	return done(0, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
