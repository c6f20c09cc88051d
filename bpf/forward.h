/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Forwarding: next hop from the kernel FIB, then DSR (MAC rewrite) or IPIP encapsulation,
 * out through XDP_TX (same device) or the tx_ports devmap (another device).
 *
 * Failure policy: a FIB or neighbour miss passes the packet to the stack untouched (the
 * kernel then resolves the neighbour; the next packets are forwarded here). An encapsulated
 * packet larger than the egress MTU is dropped and counted (LB_R_TOO_BIG): XDP cannot
 * fragment, the outer header always carries DF so that tunnels are never fragmented, and the
 * operator gives the LB-to-server path a 20 (IPv4) / 40 (IPv6) byte larger MTU than the
 * client side or clamps the MSS.
 *
 * VLAN: a tagged frame is forwarded with its tag back out of the port it came in on when the
 * server's route egresses that port; otherwise it is passed (XDP cannot transmit through a
 * VLAN sub-interface).
 */
#ifndef LIMPET_FORWARD_H
#define LIMPET_FORWARD_H

#include "maps.h"
#include "parse.h"
#include "stats.h"

#define LB_AF_INET	2
#define LB_AF_INET6	10
#define LB_IPIP_HLEN4	20
#define LB_IPIP_HLEN6	40
#define LB_L2_MAX	(ETH_HLEN + 4)	/* Ethernet + one VLAN tag */

/* Outcome of a FIB lookup: LB_R_MAX on success, else the reason to give up. */
static __always_inline int fib_next_hop(struct xdp_md *ctx, const struct lb_server *s,
					const struct pkt_info *pi, __u16 tot_len, bool want_src,
					struct bpf_fib_lookup *fib)
{
	int rc;

	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = pi->proto;
	fib->tot_len = tot_len;
	if (s->family == LB_V4) {
		fib->family = LB_AF_INET;
		fib->ipv4_dst = s->addr[0];
		fib->ipv4_src = want_src ? 0 : pi->src[0];
	} else {
		fib->family = LB_AF_INET6;
		__builtin_memcpy(fib->ipv6_dst, s->addr, sizeof(fib->ipv6_dst));
		if (!want_src)
			__builtin_memcpy(fib->ipv6_src, pi->src, sizeof(fib->ipv6_src));
	}
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), want_src ? BPF_FIB_LOOKUP_SRC : 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return LB_R_TOO_BIG;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return LB_R_FIB_MISS;
	/* DSR needs the server itself as next hop: a router would send the VIP back here */
	if (!want_src && (s->family == LB_V4 ? fib->ipv4_dst != s->addr[0] :
			  (fib->ipv6_dst[0] ^ s->addr[0]) | (fib->ipv6_dst[1] ^ s->addr[1]) |
			  (fib->ipv6_dst[2] ^ s->addr[2]) | (fib->ipv6_dst[3] ^ s->addr[3])))
		return LB_R_FIB_MISS;
	if (pi->vlan && fib->ifindex != ctx->ingress_ifindex)
		return LB_R_UNSUPPORTED;
	if (fib->ifindex != ctx->ingress_ifindex &&
	    !bpf_map_lookup_elem(&tx_ports, &fib->ifindex))
		return LB_R_FIB_MISS;
	return LB_R_MAX;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline void ipv4_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;
	int i;

	ip->check = 0;
#pragma unroll
	for (i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
}

/* Grow the frame at the front by hlen and move the L2 header there (hlen exceeds the L2
 * header, so the copy never overlaps). Returns the new L3 offset (where the outer header
 * goes), or 0. The two L2 sizes are separate branches so that the verifier sees constant
 * packet offsets. */
static __always_inline int push_outer(struct xdp_md *ctx, __u16 l3_off, int hlen)
{
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -hlen))
		return 0;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + hlen + LB_L2_MAX > end)
		return 0;
	if (l3_off == ETH_HLEN) {
		__builtin_memcpy(data, data + hlen, ETH_HLEN);
		return ETH_HLEN;
	}
	__builtin_memcpy(data, data + hlen, LB_L2_MAX);
	return LB_L2_MAX;
}

static __always_inline int encap4(struct xdp_md *ctx, const struct lb_server *s,
				  const struct pkt_info *pi, const struct bpf_fib_lookup *fib)
{
	int off = push_outer(ctx, pi->l3_off, LB_IPIP_HLEN4);
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = off == ETH_HLEN ? data + ETH_HLEN : data + LB_L2_MAX;

	if (!off || (void *)(ip + 1) > end)
		return -1;
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = pi->tos;
	ip->tot_len = bpf_htons(pi->ip_len + LB_IPIP_HLEN4);
	ip->id = 0;
	ip->frag_off = bpf_htons(0x4000);	/* DF */
	ip->ttl = LB_TUNNEL_TTL;
	ip->protocol = IPPROTO_IPIP;
	ip->saddr = fib->ipv4_src;
	ip->daddr = s->addr[0];
	ipv4_csum(ip);
	return 0;
}

static __always_inline int encap6(struct xdp_md *ctx, const struct lb_server *s,
				  const struct pkt_info *pi, const struct bpf_fib_lookup *fib)
{
	int off = push_outer(ctx, pi->l3_off, LB_IPIP_HLEN6);
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = off == ETH_HLEN ? data + ETH_HLEN : data + LB_L2_MAX;
	__u32 fl = pi->src[3] ^ pi->sport ^ pi->dport;	/* flow label: entropy for ECMP */

	if (!off || (void *)(ip6 + 1) > end)
		return -1;
	ip6->version = 6;
	ip6->priority = pi->tos >> 4;
	ip6->flow_lbl[0] = (pi->tos << 4) | ((fl >> 16) & 0x0f);
	ip6->flow_lbl[1] = fl >> 8;
	ip6->flow_lbl[2] = fl;
	ip6->payload_len = bpf_htons(pi->ip_len);
	ip6->nexthdr = IPPROTO_IPV6;
	ip6->hop_limit = LB_TUNNEL_TTL;
	__builtin_memcpy(&ip6->saddr, fib->ipv6_src, sizeof(ip6->saddr));
	__builtin_memcpy(&ip6->daddr, s->addr, sizeof(ip6->daddr));
	return 0;
}

/* Send the packet to server s according to the farm's forwarding mode. */
static __always_inline int forward(struct xdp_md *ctx, const struct lb_farm *f,
				   const struct lb_server *s, const struct pkt_info *pi, __u64 len)
{
	struct bpf_fib_lookup fib = {};
	bool ipip = f->hdr.forwarding == LB_FWD_IPIP;
	int hlen = s->family == LB_V4 ? LB_IPIP_HLEN4 : LB_IPIP_HLEN6;
	struct ethhdr *eth;
	void *end;
	int rc;

	rc = fib_next_hop(ctx, s, pi, pi->ip_len + (ipip ? hlen : 0), ipip, &fib);
	if (rc == LB_R_TOO_BIG)
		return lb_exit(rc, XDP_DROP, len);
	if (rc != LB_R_MAX)
		return lb_exit(rc, XDP_PASS, len);
	if (ipip) {
		rc = s->family == LB_V4 ? encap4(ctx, s, pi, &fib) : encap6(ctx, s, pi, &fib);
		if (rc)
			return lb_exit(LB_R_PARSE, XDP_DROP, len);	/* frame changed: cannot pass */
	}
	eth = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) > end)
		return lb_exit(LB_R_PARSE, XDP_DROP, len);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	if (ipip && pi->l3_off == ETH_HLEN)
		eth->h_proto = s->family == LB_V4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	else if (ipip) {
		/* the tag's inner ethertype names the new outer header */
		__be16 *inner = (void *)(eth + 1) + 2;

		if ((void *)(inner + 1) > end)
			return lb_exit(LB_R_PARSE, XDP_DROP, len);
		*inner = s->family == LB_V4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	}
	count(&stats_server, s->stat, len);
	if (fib.ifindex == ctx->ingress_ifindex)
		return lb_exit(LB_R_TX, XDP_TX, len);
	return lb_exit(LB_R_REDIRECT, bpf_redirect_map(&tx_ports, fib.ifindex, 0), len);
}

#endif /* LIMPET_FORWARD_H */
