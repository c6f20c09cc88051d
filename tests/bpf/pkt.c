// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet builder and checkers for the dataplane tests (see pkt.h).
 *
 * Frames are read and written byte by byte or through memcpy: an IP header at offset 14 is not
 * aligned, and the checkers take any pointer a test hands them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <limpet/abi.h>

#include "pkt.h"

#define PKT_IP_DF	0x4000
#define PKT_IP_MF	0x2000
#define PKT_IP_OFFMASK	0x1fff
#define PKT_IP_ID	0x1234		/* shared by every fragment of a test datagram */
#define PKT_FRAG_ID	0x12345678u
#define PKT_TCP_SEQ	1000u
#define PKT_TCP_ACK	2000u
#define PKT_TCP_F_ACK	0x10
#define PKT_ICMP_ECHO	8
#define PKT_ICMP6_ECHO	128
#define PKT_ROUTING_EXP	253		/* RFC 4727 experimental routing type */
#define PKT_EXT_LEN	8		/* every extension header pkt_build adds */

static const uint8_t smac_default[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t dmac_default[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };

_Noreturn static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("pkt: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static bool fail(char *why, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(why, PKT_WHY_LEN, fmt, ap);
		va_end(ap);
	}
	return false;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

static const char *fmt_mac(char buf[18], const uint8_t *m)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static const char *fmt_addr(char buf[INET6_ADDRSTRLEN], int family, const void *a)
{
	if (!inet_ntop(family == LB_V4 ? AF_INET : AF_INET6, a, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

/* --- Internet checksum (RFC 1071): big-endian 16-bit words, folded at the end ---------------- */

/* Odd n only for the last chunk of a sum. */
static uint64_t csum_add(uint64_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(b + i);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). A fold of 0 is taken as 0xffff (the same value in
 * ones' complement) because a full sum over real data never folds to 0: so the result is the
 * one pkt_build would compute, bit for bit.
 */
static void csum_replace(uint8_t *field, const uint8_t *old, const uint8_t *new, size_t n,
			 bool udp)
{
	uint16_t hc = get16(field), f;
	uint64_t sum;
	size_t i;

	if (udp && !hc)
		return;		/* UDP sent without a checksum stays so */
	sum = (uint16_t)~hc;
	for (i = 0; i < n; i += 2)
		sum += (uint16_t)~get16(old + i) + (uint32_t)get16(new + i);
	f = csum_fold(sum);
	if (!f)
		f = 0xffff;
	f = (uint16_t)~f;
	put16(field, udp && !f ? 0xffff : f);
}

/* Sum of the pseudo-header of the L4 segment after IP header ip (RFC 768/793, RFC 8200 8.1). */
static uint64_t pseudo_sum(int family, const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	uint64_t sum = proto + (l4_len >> 16) + (l4_len & 0xffff);

	if (family == LB_V4)
		return csum_add(sum, ip + offsetof(struct iphdr, saddr), 8);
	return csum_add(sum, ip + offsetof(struct ipv6hdr, saddr), 32);
}

struct l4_kind {
	const char *name;
	size_t hdr_len;		/* what pkt_build writes */
	size_t csum_off;
	bool pseudo;		/* checksum covers the pseudo-header */
};

static bool l4_kind(uint8_t proto, struct l4_kind *k)
{
	switch (proto) {
	case IPPROTO_TCP:
		*k = (struct l4_kind){ "tcp", sizeof(struct tcphdr), offsetof(struct tcphdr, check),
				       true };
		return true;
	case IPPROTO_UDP:
		*k = (struct l4_kind){ "udp", sizeof(struct udphdr), offsetof(struct udphdr, check),
				       true };
		return true;
	case IPPROTO_ICMP:
		*k = (struct l4_kind){ "icmp", 8, 2, false };
		return true;
	case IPPROTO_ICMPV6:
		*k = (struct l4_kind){ "icmpv6", 8, 2, true };
		return true;
	}
	return false;
}

/* --- building -------------------------------------------------------------------------------- */

static bool mac_is_zero(const uint8_t *m)
{
	static const uint8_t zero[ETH_ALEN];

	return !memcmp(m, zero, ETH_ALEN);
}

static void build_ip4(uint8_t *ip, const struct pkt_spec *s, size_t hdr_len, size_t l4_len)
{
	struct iphdr h;
	uint16_t frag = s->frag_off;

	memset(&h, 0, sizeof(h));
	h.version = 4;
	h.ihl = hdr_len / 4;
	h.tos = s->tos;
	h.tot_len = htons(hdr_len + l4_len);
	h.id = htons(PKT_IP_ID);
	if (s->df)
		frag |= PKT_IP_DF;
	if (s->more_frags)
		frag |= PKT_IP_MF;
	h.frag_off = htons(frag);
	h.ttl = s->ttl ? s->ttl : 64;
	h.protocol = s->proto;
	h.saddr = s->src[0];
	h.daddr = s->dst[0];
	memcpy(ip, &h, sizeof(h));

	if (s->ip_opt_len) {
		memset(ip + sizeof(h), IPOPT_NOOP, s->ip_opt_len - 1);
		ip[hdr_len - 1] = IPOPT_END;
	}
	put16(ip + offsetof(struct iphdr, check), (uint16_t)~csum_fold(csum_add(0, ip, hdr_len)));
}

/* An 8-byte extension header of type t whose own length field says 8 bytes. */
static void build_ext6(uint8_t *e, uint8_t t, uint8_t next)
{
	memset(e, 0, PKT_EXT_LEN);
	e[0] = next;
	switch (t) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_DSTOPTS:
		e[2] = 1;	/* PadN over the 6 option bytes */
		e[3] = 4;
		break;
	case IPPROTO_ROUTING:
		e[2] = PKT_ROUTING_EXP;	/* segments left 0: dst is the final destination */
		break;
	case IPPROTO_FRAGMENT:
		put32(e + 4, PKT_FRAG_ID);	/* an atomic fragment: offset 0, M clear */
		break;
	}
}

static void build_ip6(uint8_t *ip, const struct pkt_spec *s, bool frag_hdr, size_t hdr_len,
		      size_t l4_len)
{
	struct ipv6hdr h;
	uint8_t *e = ip + sizeof(h);
	uint8_t next = s->proto;

	if (frag_hdr) {
		e[0] = s->proto;
		e[1] = 0;
		put16(e + 2, (uint16_t)(s->frag_off << 3 | s->more_frags));
		put32(e + 4, PKT_FRAG_ID);
		next = IPPROTO_FRAGMENT;
	}
	if (s->v6_ext_hdr) {
		if (frag_hdr)
			memmove(e + PKT_EXT_LEN, e, PKT_EXT_LEN);
		build_ext6(e, s->v6_ext, next);
		next = s->v6_ext;
	}

	memset(&h, 0, sizeof(h));
	h.version = 6;
	h.priority = s->tos >> 4;
	h.flow_lbl[0] = (s->tos & 0xf) << 4;
	h.payload_len = htons(hdr_len - sizeof(h) + l4_len);
	h.nexthdr = next;
	h.hop_limit = s->ttl ? s->ttl : 64;
	memcpy(&h.saddr, s->src, sizeof(h.saddr));
	memcpy(&h.daddr, s->dst, sizeof(h.daddr));
	memcpy(ip, &h, sizeof(h));
}

static void build_l4(uint8_t *l4, const struct pkt_spec *s, size_t l4_len)
{
	uint8_t flags = s->tcp_flags ? s->tcp_flags : PKT_TCP_F_ACK;

	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, PKT_TCP_SEQ);
		put32(l4 + 8, flags & PKT_TCP_F_ACK ? PKT_TCP_ACK : 0);
		l4[12] = (sizeof(struct tcphdr) / 4) << 4;
		l4[13] = flags;
		put16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, l4_len);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = s->proto == IPPROTO_ICMP ? PKT_ICMP_ECHO : PKT_ICMP6_ECHO;
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->dport);
		break;
	}
}

static void check_spec(const struct pkt_spec *s)
{
	if (s->family != LB_V4 && s->family != LB_V6)
		die("spec: family %d is neither LB_V4 nor LB_V6", s->family);
	if (s->vlan > 0xfff)
		die("spec: vlan %u > 4095", s->vlan);
	if (s->frag_off > PKT_IP_OFFMASK)
		die("spec: frag_off %u does not fit 13 bits", s->frag_off);
	if (s->v6_ext && !s->v6_ext_hdr)
		die("spec: v6_ext %u set without v6_ext_hdr", s->v6_ext);
	if (s->family == LB_V4) {
		if (s->ip_opt_len % 4 || s->ip_opt_len > 40)
			die("spec: ip_opt_len %u is not a multiple of 4 <= 40", s->ip_opt_len);
		if (s->v6_frag_hdr || s->v6_ext_hdr)
			die("spec: IPv6 extension header asked for an IPv4 packet");
		return;
	}
	if (s->ip_opt_len || s->df)
		die("spec: IPv4 options or DF asked for an IPv6 packet");
	switch (s->v6_ext_hdr ? s->v6_ext : IPPROTO_HOPOPTS) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
		break;
	default:
		die("spec: v6_ext %u is not 0, 43, 44 or 60", s->v6_ext);
	}
}

void pkt_build(struct pkt *p, const struct pkt_spec *s)
{
	bool v6 = s->family == LB_V6, first = !s->frag_off;
	bool frag_hdr = v6 && (s->frag_off || s->more_frags || s->v6_frag_hdr);
	size_t l3, ip_len, l4, l4_hdr = 0, l4_len, i;
	struct l4_kind k;
	uint8_t *d = p->data;

	check_spec(s);
	memset(p, 0, sizeof(*p));

	memcpy(d, mac_is_zero(s->dmac) ? dmac_default : s->dmac, ETH_ALEN);
	memcpy(d + ETH_ALEN, mac_is_zero(s->smac) ? smac_default : s->smac, ETH_ALEN);
	l3 = 2 * ETH_ALEN;
	if (s->vlan) {
		put16(d + l3, ETH_P_8021Q);
		put16(d + l3 + 2, s->vlan);
		l3 += 4;
	}
	put16(d + l3, v6 ? ETH_P_IPV6 : ETH_P_IP);
	l3 += 2;

	if (v6)
		ip_len = sizeof(struct ipv6hdr) + (s->v6_ext_hdr + frag_hdr) * PKT_EXT_LEN;
	else
		ip_len = sizeof(struct iphdr) + s->ip_opt_len;
	if (first && l4_kind(s->proto, &k))
		l4_hdr = k.hdr_len;
	l4 = l3 + ip_len;
	if (s->payload_len > PKT_MAX - l4 - l4_hdr)
		die("spec: payload_len %zu does not fit a %d-byte frame", s->payload_len, PKT_MAX);
	l4_len = l4_hdr + s->payload_len;
	p->len = l4 + l4_len;

	for (i = 0; i < s->payload_len; i++)
		d[l4 + l4_hdr + i] = (uint8_t)i;
	if (v6)
		build_ip6(d + l3, s, frag_hdr, ip_len, l4_len);
	else
		build_ip4(d + l3, s, ip_len, l4_len);

	if (l4_hdr) {
		uint64_t sum = k.pseudo ? pseudo_sum(s->family, d + l3, s->proto, l4_len) : 0;
		uint16_t c;

		build_l4(d + l4, s, l4_len);
		c = (uint16_t)~csum_fold(csum_add(sum, d + l4, l4_len));
		if (s->proto == IPPROTO_UDP && !c)
			c = 0xffff;
		put16(d + l4 + k.csum_off, c);
	}
}

size_t pkt_l3_offset(const struct pkt *p)
{
	uint16_t type = get16(p->data + 2 * ETH_ALEN);

	return type == ETH_P_8021Q || type == ETH_P_8021AD ? ETH_HLEN + 4 : ETH_HLEN;
}

void pkt_addr4(uint32_t out[4], const char *dotted)
{
	struct in_addr a;

	if (inet_pton(AF_INET, dotted, &a) != 1)
		die("pkt_addr4: '%s' is not an IPv4 address", dotted);
	memset(out, 0, LB_ADDR_WORDS * sizeof(out[0]));
	out[0] = a.s_addr;
}

void pkt_addr6(uint32_t out[4], const char *text)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, text, &a) != 1)
		die("pkt_addr6: '%s' is not an IPv6 address", text);
	memcpy(out, &a, sizeof(a));
}

/* --- parsing --------------------------------------------------------------------------------- */

struct layout {
	int family;
	size_t l3;		/* IP header */
	size_t l4;		/* upper-layer header (or fragment data) */
	size_t end;		/* end of the IP packet by its own length, <= the frame's */
	uint8_t proto;		/* upper-layer protocol */
	bool first;		/* fragment offset 0: the L4 header is at l4 */
};

static bool parse_ip4(const uint8_t *f, size_t len, struct layout *lo, char *why)
{
	const uint8_t *ip = f + lo->l3;
	size_t room = len - lo->l3, hl;
	uint16_t tot;

	if (room < sizeof(struct iphdr))
		return fail(why, "ipv4 header: want 20 bytes, got %zu", room);
	if (ip[0] >> 4 != 4)
		return fail(why, "ipv4 version: want 4, got %u", ip[0] >> 4);
	hl = (ip[0] & 0xf) * 4u;
	if (hl < sizeof(struct iphdr) || hl > room)
		return fail(why, "ipv4 ihl: want 5..%zu, got %zu", room / 4, hl / 4);
	tot = get16(ip + offsetof(struct iphdr, tot_len));
	if (tot < hl || tot > room)
		return fail(why, "ipv4 tot_len: want %zu..%zu, got %u", hl, room, tot);
	lo->family = LB_V4;
	lo->proto = ip[offsetof(struct iphdr, protocol)];
	lo->l4 = lo->l3 + hl;
	lo->end = lo->l3 + tot;
	lo->first = !(get16(ip + offsetof(struct iphdr, frag_off)) & PKT_IP_OFFMASK);
	return true;
}

static bool parse_ip6(const uint8_t *f, size_t len, struct layout *lo, char *why)
{
	const uint8_t *ip = f + lo->l3;
	size_t room = len - lo->l3, off = lo->l3 + sizeof(struct ipv6hdr), hl;
	uint16_t plen;
	uint8_t nh;

	if (room < sizeof(struct ipv6hdr))
		return fail(why, "ipv6 header: want 40 bytes, got %zu", room);
	if (ip[0] >> 4 != 6)
		return fail(why, "ipv6 version: want 6, got %u", ip[0] >> 4);
	plen = get16(ip + offsetof(struct ipv6hdr, payload_len));
	if (plen > room - sizeof(struct ipv6hdr))
		return fail(why, "ipv6 payload_len: want <= %zu, got %u",
			    room - sizeof(struct ipv6hdr), plen);
	lo->family = LB_V6;
	lo->end = off + plen;
	lo->first = true;
	nh = ip[offsetof(struct ipv6hdr, nexthdr)];
	while (lo->first && (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
			     nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH || nh == IPPROTO_DSTOPTS)) {
		const uint8_t *e = f + off;

		if (lo->end - off < 8)
			return fail(why, "ipv6 extension header %u at %zu: want 8 bytes, got %zu",
				    nh, off, lo->end - off);
		if (nh == IPPROTO_FRAGMENT) {
			hl = 8;
			lo->first = !(get16(e + 2) >> 3);
		} else if (nh == IPPROTO_AH) {
			hl = (e[1] + 2) * 4u;
		} else {
			hl = (e[1] + 1) * 8u;
		}
		if (nh == IPPROTO_ROUTING && e[3])
			return fail(why, "ipv6 routing header: want 0 segments left, got %u", e[3]);
		if (hl > lo->end - off)
			return fail(why, "ipv6 extension header %u at %zu: want %zu bytes, got %zu",
				    nh, off, hl, lo->end - off);
		nh = e[0];
		off += hl;
	}
	lo->proto = nh;
	lo->l4 = off;
	return true;
}

static bool parse(const uint8_t *f, size_t len, struct layout *lo, char *why)
{
	uint16_t type;

	if (len < ETH_HLEN)
		return fail(why, "frame: want >= %d bytes, got %zu", ETH_HLEN, len);
	lo->l3 = ETH_HLEN;
	type = get16(f + 2 * ETH_ALEN);
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		if (len < ETH_HLEN + 4)
			return fail(why, "vlan frame: want >= %d bytes, got %zu", ETH_HLEN + 4,
				    len);
		type = get16(f + ETH_HLEN + 2);
		lo->l3 += 4;
	}
	if (type == ETH_P_IP)
		return parse_ip4(f, len, lo, why);
	if (type == ETH_P_IPV6)
		return parse_ip6(f, len, lo, why);
	return fail(why, "ethertype: want 0x0800 or 0x86dd, got 0x%04x", type);
}

/* --- checks ---------------------------------------------------------------------------------- */

static bool check_ipv4_csum(const char *what, const uint8_t *ip, char *why)
{
	size_t hl = (ip[0] & 0xf) * 4u;
	uint16_t got = get16(ip + offsetof(struct iphdr, check));
	uint64_t sum;

	if (ip[0] >> 4 != 4)
		return fail(why, "%s version: want 4, got %u", what, ip[0] >> 4);
	if (hl < sizeof(struct iphdr))
		return fail(why, "%s ihl: want >= 5, got %zu", what, hl / 4);
	sum = csum_add(0, ip, hl);
	if (csum_fold(sum) != 0xffff)
		return fail(why, "%s header checksum: want 0x%04x, got 0x%04x", what,
			    (uint16_t)~csum_fold(sum - got), got);
	return true;
}

bool pkt_check_l4_csum(const uint8_t *frame, size_t len, char *why)
{
	struct layout lo;
	struct l4_kind k;
	const uint8_t *l4;
	size_t l4_len;
	uint16_t got, want;
	uint64_t sum;

	if (!parse(frame, len, &lo, why))
		return false;
	if (!lo.first)
		return fail(why, "l4 checksum: non-first fragment has no L4 header");
	if (!l4_kind(lo.proto, &k))
		return fail(why, "l4 protocol: want tcp, udp, icmp or icmpv6, got %u", lo.proto);
	l4 = frame + lo.l4;
	l4_len = lo.end - lo.l4;
	if (l4_len < k.hdr_len)
		return fail(why, "%s header: want >= %zu bytes, got %zu", k.name, k.hdr_len,
			    l4_len);
	if (lo.proto == IPPROTO_TCP && (l4[12] >> 4 < 5 || (l4[12] >> 4) * 4u > l4_len))
		return fail(why, "tcp doff: want 5..%zu, got %u", l4_len / 4, l4[12] >> 4);
	if (lo.proto == IPPROTO_UDP && get16(l4 + 4) != l4_len)
		return fail(why, "udp length: want %zu (from ip), got %u", l4_len, get16(l4 + 4));

	got = get16(l4 + k.csum_off);
	sum = k.pseudo ? pseudo_sum(lo.family, frame + lo.l3, lo.proto, l4_len) : 0;
	sum = csum_add(sum, l4, l4_len);
	want = (uint16_t)~csum_fold(sum - got);
	if (lo.proto == IPPROTO_UDP && !want)
		want = 0xffff;
	if (lo.proto == IPPROTO_UDP && !got)
		return fail(why, "udp checksum: want 0x%04x, got 0 (none)", want);
	if (csum_fold(sum) != 0xffff)
		return fail(why, "%s checksum: want 0x%04x, got 0x%04x", k.name, want, got);
	return true;
}

/* The first byte where a and b differ, or n. */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

static bool check_mac(const char *what, const uint8_t *got, const uint8_t *want, char *why)
{
	char g[18], w[18];

	if (!memcmp(got, want, ETH_ALEN))
		return true;
	return fail(why, "%s: want %s, got %s", what, fmt_mac(w, want), fmt_mac(g, got));
}

static bool check_addr(const char *what, int family, const uint8_t *got, const uint32_t *want,
		       char *why)
{
	char g[INET6_ADDRSTRLEN], w[INET6_ADDRSTRLEN];

	if (!memcmp(got, want, family == LB_V4 ? 4 : 16))
		return true;
	return fail(why, "%s: want %s, got %s", what, fmt_addr(w, family, want),
		    fmt_addr(g, family, got));
}

static bool check_outer4(const uint8_t *o, const struct pkt_encap_want *w, uint8_t proto,
			 size_t inner_len, char *why)
{
	uint16_t v;

	if (o[0] != 0x45)
		return fail(why, "outer ipv4 version/ihl: want 0x45, got 0x%02x", o[0]);
	v = get16(o + offsetof(struct iphdr, tot_len));
	if (v != inner_len + sizeof(struct iphdr))
		return fail(why, "outer ipv4 tot_len: want %zu, got %u",
			    inner_len + sizeof(struct iphdr), v);
	v = get16(o + offsetof(struct iphdr, frag_off));
	if (v != PKT_IP_DF)
		return fail(why, "outer ipv4 frag_off: want 0x4000 (DF only), got 0x%04x", v);
	if (o[offsetof(struct iphdr, ttl)] != w->ttl)
		return fail(why, "outer ipv4 ttl: want %u, got %u", w->ttl,
			    o[offsetof(struct iphdr, ttl)]);
	if (o[offsetof(struct iphdr, protocol)] != proto)
		return fail(why, "outer ipv4 protocol: want %u, got %u", proto,
			    o[offsetof(struct iphdr, protocol)]);
	if (!check_ipv4_csum("outer ipv4", o, why))
		return false;
	return check_addr("outer ipv4 src", LB_V4, o + offsetof(struct iphdr, saddr), w->src,
			  why) &&
	       check_addr("outer ipv4 dst", LB_V4, o + offsetof(struct iphdr, daddr), w->dst, why);
}

static bool check_outer6(const uint8_t *o, const struct pkt_encap_want *w, uint8_t proto,
			 size_t inner_len, char *why)
{
	uint16_t plen = get16(o + offsetof(struct ipv6hdr, payload_len));

	if (o[0] >> 4 != 6)
		return fail(why, "outer ipv6 version: want 6, got %u", o[0] >> 4);
	if (plen != inner_len)
		return fail(why, "outer ipv6 payload_len: want %zu, got %u", inner_len, plen);
	if (o[offsetof(struct ipv6hdr, nexthdr)] != proto)
		return fail(why, "outer ipv6 nexthdr: want %u, got %u", proto,
			    o[offsetof(struct ipv6hdr, nexthdr)]);
	if (o[offsetof(struct ipv6hdr, hop_limit)] != w->ttl)
		return fail(why, "outer ipv6 hop_limit: want %u, got %u", w->ttl,
			    o[offsetof(struct ipv6hdr, hop_limit)]);
	return check_addr("outer ipv6 src", LB_V6, o + offsetof(struct ipv6hdr, saddr), w->src,
			  why) &&
	       check_addr("outer ipv6 dst", LB_V6, o + offsetof(struct ipv6hdr, daddr), w->dst,
			  why);
}

bool pkt_check_ipip(const struct pkt *in, const uint8_t *out, size_t out_len,
		    const struct pkt_encap_want *w, char *why)
{
	size_t l2 = pkt_l3_offset(in), hl, inner_len, i;
	const uint8_t *inner = in->data + l2;
	uint16_t type, want_type;
	uint8_t proto;

	if (in->len <= l2)
		die("pkt_check_ipip: input frame of %zu bytes has no IP packet", in->len);
	inner_len = in->len - l2;
	if (inner[0] >> 4 == 4)
		proto = IPPROTO_IPIP;
	else if (inner[0] >> 4 == 6)
		proto = IPPROTO_IPV6;
	else
		die("pkt_check_ipip: input IP version %u", inner[0] >> 4);
	if (w->family == LB_V4) {
		hl = sizeof(struct iphdr);
		want_type = ETH_P_IP;
	} else if (w->family == LB_V6) {
		hl = sizeof(struct ipv6hdr);
		want_type = ETH_P_IPV6;
	} else {
		die("pkt_check_ipip: want family %d is neither LB_V4 nor LB_V6", w->family);
	}

	if (out_len < l2)
		return fail(why, "ethernet header: want %zu bytes, got %zu", l2, out_len);
	if (!check_mac("eth dst", out, w->dmac, why) ||
	    !check_mac("eth src", out + ETH_ALEN, w->smac, why))
		return false;
	if (l2 > ETH_HLEN && memcmp(out + 12, in->data + 12, 4))
		return fail(why, "vlan tag: want %04x/%04x, got %04x/%04x", get16(in->data + 12),
			    get16(in->data + 14), get16(out + 12), get16(out + 14));
	type = get16(out + l2 - 2);
	if (type != want_type)
		return fail(why, "ethertype: want 0x%04x, got 0x%04x", want_type, type);

	if (out_len < l2 + hl)
		return fail(why, "outer ip header: want %zu bytes, got %zu", hl, out_len - l2);
	if (w->family == LB_V4 ? !check_outer4(out + l2, w, proto, inner_len, why) :
				 !check_outer6(out + l2, w, proto, inner_len, why))
		return false;

	if (out_len != l2 + hl + inner_len)
		return fail(why, "frame length: want %zu (%zu + outer %zu + inner %zu), got %zu",
			    l2 + hl + inner_len, l2, hl, inner_len, out_len);
	i = first_diff(out + l2 + hl, inner, inner_len);
	if (i < inner_len)
		return fail(why, "inner packet byte %zu (frame byte %zu): want 0x%02x, got 0x%02x",
			    i, l2 + hl + i, inner[i], out[l2 + hl + i]);
	return true;
}

bool pkt_check_dsr(const struct pkt *in, const uint8_t *out, size_t out_len,
		   const uint8_t dmac[6], const uint8_t smac[6], char *why)
{
	size_t i;

	if (in->len < 2 * ETH_ALEN)
		die("pkt_check_dsr: input frame of %zu bytes has no MACs", in->len);
	if (out_len != in->len)
		return fail(why, "frame length: want %zu, got %zu", in->len, out_len);
	if (!check_mac("eth dst", out, dmac, why) ||
	    !check_mac("eth src", out + ETH_ALEN, smac, why))
		return false;
	i = 2 * ETH_ALEN + first_diff(out + 2 * ETH_ALEN, in->data + 2 * ETH_ALEN,
				      in->len - 2 * ETH_ALEN);
	if (i < in->len)
		return fail(why, "byte %zu after the MACs: want 0x%02x, got 0x%02x", i, in->data[i],
			    out[i]);
	return true;
}

bool pkt_check_same(const struct pkt *in, const uint8_t *out, size_t out_len, char *why)
{
	size_t i;

	if (out_len != in->len)
		return fail(why, "frame length: want %zu (unchanged), got %zu", in->len, out_len);
	i = first_diff(out, in->data, in->len);
	if (i < in->len)
		return fail(why, "byte %zu: want 0x%02x (unchanged), got 0x%02x", i, in->data[i],
			    out[i]);
	return true;
}

/* --- in-place rewrites ----------------------------------------------------------------------- */

static void parse_built(const struct pkt *p, struct layout *lo, const char *who)
{
	char why[PKT_WHY_LEN];

	if (!parse(p->data, p->len, lo, why))
		die("%s: %s", who, why);
}

void pkt_set_src(struct pkt *p, const uint32_t src[4])
{
	struct layout lo;
	struct l4_kind k;
	uint8_t *ip, *a;
	size_t n;

	parse_built(p, &lo, "pkt_set_src");
	ip = p->data + lo.l3;
	if (lo.family == LB_V4) {
		a = ip + offsetof(struct iphdr, saddr);
		n = 4;
		csum_replace(ip + offsetof(struct iphdr, check), a, (const uint8_t *)src, n, false);
	} else {
		a = ip + offsetof(struct ipv6hdr, saddr);
		n = 16;
	}
	if (lo.first && l4_kind(lo.proto, &k) && k.pseudo && lo.end - lo.l4 >= k.hdr_len)
		csum_replace(p->data + lo.l4 + k.csum_off, a, (const uint8_t *)src, n,
			     lo.proto == IPPROTO_UDP);
	memcpy(a, src, n);
}
