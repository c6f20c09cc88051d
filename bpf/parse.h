/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet parsing: Ethernet (+ one 802.1Q/802.1ad tag), IPv4 (options skipped, fragments
 * classified), IPv6 (fixed header, fragment header; other extension headers are not walked),
 * TCP, UDP. Bounds are checked once per header through a cursor; nothing is written.
 */
#ifndef LIMPET_PARSE_H
#define LIMPET_PARSE_H

#include <stdbool.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "limpet/abi.h"

#ifndef IP_MF
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#endif
#define IPV6_FRAG_HDR	44
#define IPV6_FRAG_OFFSET 0xfff8	/* fragment offset bits of frag_off, network order removed */
#define IPV6_FRAG_MORE	0x0001

#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_RST	0x04
#define TCP_FLAG_ACK	0x10

struct cursor {
	void *pos;
	void *end;
};

enum frag_kind {
	FRAG_NONE = 0,
	FRAG_FIRST,		/* offset 0, more to come: carries the L4 header */
	FRAG_LATER,		/* offset > 0: no L4 header, ports unknown */
};

/* What the balancer needs to know of a packet. */
struct pkt_info {
	__be32 src[LB_ADDR_WORDS];
	__be32 dst[LB_ADDR_WORDS];
	__be16 sport;
	__be16 dport;
	__u16 l3_off;		/* bytes from the frame start to the IP header */
	__u16 ip_len;		/* IP packet length from its header (without L2 padding) */
	__u8 family;		/* LB_V4 / LB_V6 */
	__u8 proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u8 tcp_flags;
	__u8 frag;		/* enum frag_kind */
	__u8 tos;		/* IPv4 TOS / IPv6 traffic class */
	__u8 vlan;		/* frame carries an 802.1Q tag */
};

/* The reason a packet is not balanced; LB_R_MAX means it is a candidate. */
#define PARSE_OK	LB_R_MAX

struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

static __always_inline int parse_eth(struct cursor *c, struct pkt_info *pi, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr {
		__be16 tci;
		__be16 proto;
	} *vh;

	if ((void *)(eth + 1) > c->end)
		return LB_R_PARSE;
	c->pos = eth + 1;
	*proto = eth->h_proto;
	if (*proto == bpf_htons(ETH_P_8021Q) || *proto == bpf_htons(ETH_P_8021AD)) {
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return LB_R_PARSE;
		c->pos = vh + 1;
		*proto = vh->proto;
		pi->vlan = 1;
	}
	return PARSE_OK;
}

static __always_inline int parse_l4(struct cursor *c, struct pkt_info *pi)
{
	if (pi->frag == FRAG_LATER)
		return PARSE_OK;
	if (pi->proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;

		if ((void *)(th + 1) > c->end || th->doff < 5)
			return LB_R_PARSE;
		if (c->pos + th->doff * 4 > c->end)
			return LB_R_PARSE;
		pi->sport = th->source;
		pi->dport = th->dest;
		pi->tcp_flags = ((__u8 *)th)[13];
		return PARSE_OK;
	}
	if (pi->proto == IPPROTO_UDP) {
		struct udphdr *uh = c->pos;

		if ((void *)(uh + 1) > c->end)
			return LB_R_PARSE;
		pi->sport = uh->source;
		pi->dport = uh->dest;
		return PARSE_OK;
	}
	return LB_R_NOT_VIP;
}

static __always_inline int parse_ipv4(struct cursor *c, struct pkt_info *pi)
{
	struct iphdr *ip = c->pos;
	__u16 tot, hlen, off;

	if ((void *)(ip + 1) > c->end)
		return LB_R_PARSE;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen)
		return LB_R_PARSE;
	/* the frame may carry L2 padding past tot_len, never less than tot_len */
	if (c->pos + tot > c->end || c->pos + hlen > c->end)
		return LB_R_PARSE;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return LB_R_NOT_VIP;

	pi->family = LB_V4;
	pi->proto = ip->protocol;
	pi->src[0] = ip->saddr;
	pi->dst[0] = ip->daddr;
	pi->ip_len = tot;
	pi->tos = ip->tos;
	off = bpf_ntohs(ip->frag_off);
	if (off & IP_OFFSET)
		pi->frag = FRAG_LATER;
	else if (off & IP_MF)
		pi->frag = FRAG_FIRST;
	c->pos += hlen;
	return parse_l4(c, pi);
}

static __always_inline int parse_ipv6(struct cursor *c, struct pkt_info *pi)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ipv6_frag_hdr *fh;
	__u16 tot;
	__u8 next;

	if ((void *)(ip6 + 1) > c->end)
		return LB_R_PARSE;
	tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	/* payload_len 0 is a jumbogram (or garbage): not ours to handle */
	if (ip6->version != 6 || !ip6->payload_len || c->pos + tot > c->end)
		return LB_R_PARSE;

	pi->family = LB_V6;
	__builtin_memcpy(pi->src, &ip6->saddr, sizeof(pi->src));
	__builtin_memcpy(pi->dst, &ip6->daddr, sizeof(pi->dst));
	pi->ip_len = tot;
	pi->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	c->pos = ip6 + 1;
	next = ip6->nexthdr;
	if (next == IPV6_FRAG_HDR) {
		fh = c->pos;
		if ((void *)(fh + 1) > c->end)
			return LB_R_PARSE;
		c->pos = fh + 1;
		next = fh->nexthdr;
		if (bpf_ntohs(fh->frag_off) & IPV6_FRAG_OFFSET)
			pi->frag = FRAG_LATER;
		else if (bpf_ntohs(fh->frag_off) & IPV6_FRAG_MORE)
			pi->frag = FRAG_FIRST;
	}
	if (next != IPPROTO_TCP && next != IPPROTO_UDP) {
		/* hop-by-hop, routing, destination options, ...: a VIP packet carrying them is
		 * left to the kernel rather than walked here */
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
		    next == IPV6_FRAG_HDR || next == 51 /* AH */ || next == 135 /* mobility */)
			return LB_R_UNSUPPORTED;
		return LB_R_NOT_VIP;
	}
	pi->proto = next;
	return parse_l4(c, pi);
}

/* Fill pi from the frame; PARSE_OK or the reason to pass the frame on untouched. */
static __always_inline int parse_packet(void *data, void *end, struct pkt_info *pi)
{
	struct cursor c = { .pos = data, .end = end };
	__be16 proto;
	int rc;

	rc = parse_eth(&c, pi, &proto);
	if (rc != PARSE_OK)
		return rc;
	pi->l3_off = c.pos - data;
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(&c, pi);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(&c, pi);
	return LB_R_NOT_VIP;
}

#endif /* LIMPET_PARSE_H */
