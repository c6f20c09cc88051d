/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Forwarding: next hop from the kernel FIB, then DSR (MAC rewrite) or IPIP encapsulation,
 * out through XDP_TX (same device) or the tx_ports devmap (another device).
 *
 * Failure policy: a FIB or neighbour miss passes the packet to the stack untouched (the
 * kernel then resolves the neighbour; the next packets are forwarded here; limpetd keeps
 * the servers' neighbour entries resolved so that this is rare). It is counted under the
 * lookup's answer (LB_R_FIB_*), so that a host problem (forwarding off, no route) shows as
 * its cause rather than as clients timing out. An encapsulated packet larger than the egress
 * MTU is dropped and counted (LB_R_TOO_BIG): XDP cannot fragment, the outer header always
 * carries DF so that tunnels are never fragmented, and the operator gives the LB-to-server
 * path a 20 (IPv4) / 40 (IPv6) byte larger MTU than the client side or clamps the MSS.
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

static __always_inline bool addr_eq(const __be32 *a, const __be32 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]));
}

/* One FIB lookup towards server s; BPF_FIB_LKUP_RET_* */
static __always_inline int fib_lookup(struct xdp_md *ctx, const struct lb_server *s,
				      const struct pkt_info *pi, __u16 tot_len, bool ipip,
				      struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = pi->proto;
	fib->tot_len = tot_len;
	if (s->family == LB_V4) {
		fib->family = LB_AF_INET;
		fib->ipv4_dst = s->addr[0];
		fib->ipv4_src = ipip ? 0 : pi->src[0];
	} else {
		fib->family = LB_AF_INET6;
		__builtin_memcpy(fib->ipv6_dst, s->addr, sizeof(fib->ipv6_dst));
		if (!ipip)
			__builtin_memcpy(fib->ipv6_src, pi->src, sizeof(fib->ipv6_src));
	}
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), ipip ? BPF_FIB_LOOKUP_SRC : 0);
}

/* The reason counted when a lookup gives no next hop (BPF_FIB_LKUP_RET_* -> LB_R_FIB_*). The
 * rest is "other": no source address for ipip, an lwt route, or an MTU probe that succeeded
 * (a route MTU of 65535 leaves next_hop without an MTU). */
static __always_inline int fib_reason(int rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return LB_R_FIB_FWD_DISABLED;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		return LB_R_FIB_NO_ROUTE;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return LB_R_FIB_NO_NEIGH;
	default:
		return LB_R_FIB_OTHER;
	}
}

/*
 * The next hop towards server s, from the kernel FIB. A FIB lookup costs more than the rest
 * of the fast path together (~130 ns for IPv4, ~300 ns for IPv6 measured here), so its
 * result is kept per CPU and per server for LB_NEXTHOP_TTL_SEC: a route or neighbour change
 * takes effect within that time. Failed lookups are never cached.
 * Returns LB_R_MAX with *out set, or the reason to give up.
 */
static __always_inline int next_hop(struct xdp_md *ctx, const struct lb_server *s,
				    const struct pkt_info *pi, bool ipip, __u32 now,
				    struct lb_nexthop **out)
{
	struct bpf_fib_lookup fib;
	struct lb_nexthop *nh = bpf_map_lookup_elem(&nexthops, &s->stat);
	int rc;

	if (!nh)
		return LB_R_FIB_OTHER;
	*out = nh;
	if (now < nh->expires && nh->iif == ctx->ingress_ifindex && nh->ipip == ipip &&
	    addr_eq(nh->dst, s->addr))
		return LB_R_MAX;

	/* the route's MTU: a lookup for the largest packet fails with it */
	rc = fib_lookup(ctx, s, pi, 0xffff, ipip, &fib);
	if (rc != BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return fib_reason(rc);
	nh->mtu = fib.mtu_result;
	rc = fib_lookup(ctx, s, pi, 0, ipip, &fib);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return fib_reason(rc);
	/* DSR needs the server itself as next hop: a router would send the VIP back here */
	if (!ipip && (s->family == LB_V4 ? fib.ipv4_dst != s->addr[0] :
		      !addr_eq(fib.ipv6_dst, s->addr)))
		return LB_R_FIB_OFFLINK;
	if (fib.ifindex != ctx->ingress_ifindex && !bpf_map_lookup_elem(&tx_ports, &fib.ifindex))
		return LB_R_FIB_OTHER;
	__builtin_memcpy(nh->dst, s->addr, sizeof(nh->dst));
	if (s->family == LB_V4) {
		__builtin_memset(nh->src, 0, sizeof(nh->src));
		nh->src[0] = fib.ipv4_src;
	} else {
		__builtin_memcpy(nh->src, fib.ipv6_src, sizeof(nh->src));
	}
	nh->ifindex = fib.ifindex;
	nh->iif = ctx->ingress_ifindex;
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	nh->ipip = ipip;
	nh->expires = now + LB_NEXTHOP_TTL_SEC;
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
				  const struct pkt_info *pi, const struct lb_nexthop *nh)
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
	ip->saddr = nh->src[0];
	ip->daddr = s->addr[0];
	ipv4_csum(ip);
	return 0;
}

static __always_inline int encap6(struct xdp_md *ctx, const struct lb_server *s,
				  const struct pkt_info *pi, const struct lb_nexthop *nh)
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
	__builtin_memcpy(&ip6->saddr, nh->src, sizeof(ip6->saddr));
	__builtin_memcpy(&ip6->daddr, s->addr, sizeof(ip6->daddr));
	return 0;
}

/* Send the packet to server s according to the farm's forwarding mode. */
static __always_inline int forward(struct xdp_md *ctx, const struct lb_farm *f,
				   const struct lb_server *s, const struct pkt_info *pi, __u64 len,
				   __u32 now)
{
	bool ipip = f->hdr.forwarding == LB_FWD_IPIP;
	int hlen = ipip ? (s->family == LB_V4 ? LB_IPIP_HLEN4 : LB_IPIP_HLEN6) : 0;
	struct lb_nexthop *nh;
	struct ethhdr *eth;
	__u32 ifindex;
	void *end;
	int rc;

	rc = next_hop(ctx, s, pi, ipip, now, &nh);
	if (rc != LB_R_MAX)
		return lb_exit(rc, XDP_PASS, len);
	if (pi->ip_len + hlen > nh->mtu)
		return lb_exit(LB_R_TOO_BIG, XDP_DROP, len);
	ifindex = nh->ifindex;
	if (pi->vlan && ifindex != ctx->ingress_ifindex)
		return lb_exit(LB_R_UNSUPPORTED, XDP_PASS, len);
	if (ipip) {
		rc = s->family == LB_V4 ? encap4(ctx, s, pi, nh) : encap6(ctx, s, pi, nh);
		if (rc)	/* the head may have moved already: the frame cannot be passed */
			return lb_exit(LB_R_ENCAP, XDP_DROP, len);
	}
	eth = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) > end)
		return lb_exit(LB_R_ENCAP, XDP_DROP, len);
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	if (ipip && pi->l3_off == ETH_HLEN) {
		eth->h_proto = s->family == LB_V4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	} else if (ipip) {
		/* the tag's inner ethertype names the new outer header */
		__be16 *inner = (void *)(eth + 1) + 2;

		if ((void *)(inner + 1) > end)
			return lb_exit(LB_R_ENCAP, XDP_DROP, len);
		*inner = s->family == LB_V4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	}
	count(&stats_server, s->stat, len);
	if (ifindex == ctx->ingress_ifindex)
		return lb_exit(LB_R_TX, XDP_TX, len);
	return lb_exit(LB_R_REDIRECT, bpf_redirect_map(&tx_ports, ifindex, 0), len);
}

#endif /* LIMPET_FORWARD_H */
