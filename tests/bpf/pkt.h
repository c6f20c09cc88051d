/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Test frames for BPF_PROG_TEST_RUN cases and benchmarks: build a frame from a spec, check
 * what the balancer sent back, and rewrite the source of a built frame cheaply.
 *
 * Every pkt_check_* returns true when the frame is as expected; otherwise it writes what was
 * expected and what came instead into why (PKT_WHY_LEN bytes, may be NULL) and returns false.
 * The checks never read past the length they are given.
 *
 * Misuse (a spec that cannot be built, an address that does not parse, rewriting a frame that
 * is not one pkt_build could have made) is a bug in the test: the helpers print it and abort.
 */
#ifndef LIMPET_TESTS_PKT_H
#define LIMPET_TESTS_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX		2048
#define PKT_WHY_LEN	256

/* A frame being built: data[0..len) is on the wire, starting with the Ethernet header. */
struct pkt {
	uint8_t data[PKT_MAX];
	size_t len;
};

/*
 * Zero is the default of every field, so a designated initializer names only what matters.
 * pkt_build aborts on fields of the other family (options or DF for IPv6, extension headers
 * for IPv4) and on values out of range.
 */
struct pkt_spec {
	int family;		/* LB_V4 or LB_V6 */
	uint8_t proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 (echo request, id sport,
				 * seq dport); any other: no L4 header, payload only */
	uint32_t src[4], dst[4]; /* network order words, IPv4 in [0] */
	uint16_t sport, dport;	/* host order */
	uint8_t tcp_flags;	/* TCP flags byte (0x02 SYN, 0x10 ACK, ...); 0 means ACK */
	uint16_t vlan;		/* 0: untagged, else 802.1Q VLAN id (1..4095) */
	uint8_t ip_opt_len;	/* IPv4 options bytes, a multiple of 4, <= 40: NOPs then EOL */
	uint16_t frag_off;	/* fragment offset in 8-byte units (IPv6: in a Fragment header);
				 * non-zero: no L4 header, payload only */
	bool more_frags;	/* IPv4 MF flag / IPv6 Fragment header M flag */
	bool v6_frag_hdr;	/* IPv6: a Fragment header even if !frag_off && !more_frags */
	bool v6_ext_hdr;	/* IPv6: add one 8-byte extension header of type v6_ext ... */
	uint8_t v6_ext;		/* ... 0 hop-by-hop, 43 routing (0 segments left),
				 * 44 fragment (atomic), 60 destination options;
				 * it comes before any Fragment header */
	uint8_t ttl;		/* IPv4 TTL / IPv6 hop limit; 0 means 64 */
	uint8_t tos;		/* IPv4 TOS / IPv6 traffic class */
	bool df;		/* IPv4 DF flag */
	size_t payload_len;	/* bytes after the L4 header: byte i is (uint8_t)i */
	uint8_t smac[6], dmac[6]; /* all zero: 02:00:00:00:00:01 / 02:00:00:00:00:02 */
};

/*
 * Build the frame s describes into p: lengths and checksums are correct (IPv4 header; TCP,
 * UDP and ICMPv6 with their pseudo-header; ICMP). A first fragment's L4 checksum covers only
 * the bytes in that fragment, since the rest of the datagram does not exist.
 */
void pkt_build(struct pkt *p, const struct pkt_spec *s);

/* Offset of the IP header: 18 with an 802.1Q/802.1ad tag, else 14. */
size_t pkt_l3_offset(const struct pkt *p);

/* Parse an address into the lb_vip_key layout (IPv4 in out[0], the rest zero). */
void pkt_addr4(uint32_t out[4], const char *dotted);
void pkt_addr6(uint32_t out[4], const char *text);

/*
 * Parse Ethernet (one optional VLAN tag), IPv4 or IPv6 (through hop-by-hop, routing with no
 * segments left, fragment, AH and destination options headers) and verify the checksum of
 * the TCP, UDP, ICMP or ICMPv6 header that follows, and that the IP and UDP lengths agree
 * with the frame. A UDP checksum of 0 fails (nothing the balancer sends should lack one); a
 * non-first fragment fails (it has no L4 header).
 */
bool pkt_check_l4_csum(const uint8_t *frame, size_t len, char *why);

/* What an IPIP-forwarded frame must carry around the client's packet. */
struct pkt_encap_want {
	int family;		/* outer header: LB_V4 or LB_V6 */
	uint32_t src[4], dst[4]; /* outer addresses, network order, IPv4 in [0] */
	uint8_t smac[6], dmac[6];
	uint8_t ttl;		/* outer TTL / hop limit */
};

/*
 * out must be: Ethernet (dmac, smac, the VLAN tag of in if it has one, the outer family's
 * ethertype); an outer IPv4 header (ihl 5, protocol 4 for an IPv4 inner packet or 41 for
 * IPv6, valid checksum, ttl, DF set and no fragmentation, tot_len = inner length + 20, src,
 * dst) or IPv6 header (next header 4 or 41 likewise, hop limit, payload_len = inner length,
 * src, dst); then in's IP packet, from its L3 offset to its end, byte for byte, and nothing
 * after it.
 */
bool pkt_check_ipip(const struct pkt *in, const uint8_t *out, size_t out_len,
		    const struct pkt_encap_want *w, char *why);

/* out is in with the destination and source MACs replaced by dmac and smac, nothing else. */
bool pkt_check_dsr(const struct pkt *in, const uint8_t *out, size_t out_len,
		   const uint8_t dmac[6], const uint8_t smac[6], char *why);

/* out is in, byte for byte. */
bool pkt_check_same(const struct pkt *in, const uint8_t *out, size_t out_len, char *why);

/*
 * Rewrite the IP source address (src[0] for IPv4) of a built frame in place, updating the
 * IPv4 header checksum and the L4 checksum incrementally (RFC 1624): the result is byte for
 * byte what pkt_build makes with the new source. Cheap enough to make millions of sources.
 */
void pkt_set_src(struct pkt *p, const uint32_t src[4]);


#endif /* LIMPET_TESTS_PKT_H */
