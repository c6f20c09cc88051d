// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The balancer through BPF_PROG_TEST_RUN: table-driven packet cases checking the verdict, the
 * counted reason and the output bytes, then the stickiness properties over many sources.
 * Runs in the rig's LB namespace (scripts/rig.sh --lb-ports 2 --static-neigh): the FIB
 * lookups need its routes and neighbours. Backend k is 198.18.1.(10+k) / 2001:2::1:(10+k)
 * with MAC 02:00:00:00:01:0k; backend 3 is routed through lb1 (devmap redirect); backend 1
 * is the router to 198.18.3.0/24 and 2001:2:0:300::/64 (off-link servers). The forwarding
 * cases turn lb0's forwarding sysctls off for a moment: nothing else may use that rig.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "dataplane/dataplane.h"
#include "common/log.h"
#include "pkt.h"
#include "tap.h"

#define NBACKENDS	3
#define SEED		0x9c1e52a07d3b4f16ULL

/* farm slots for IPv4; IPv6 uses slot + 8 */
enum farm_slot { F_SRC_DSR, F_SRC_IPIP, F_NULL_DSR, F_NULL_IPIP, F_VLAN, F_VLAN_IPIP, F_FRESH, F_ODD };
enum want { W_PASS, W_DROP, W_DSR, W_IPIP };

static struct dataplane *dp;
static int ifindex_lb0, ifindex_lb1;
static const uint8_t mac_lb0[6] = { 2, 0, 0, 0, 0, 1 }, mac_lb1[6] = { 2, 0, 0, 0, 0, 3 };
static uint32_t weights[NBACKENDS] = { 1, 2, 3 };

/* --- addresses ------------------------------------------------------------------------- */
static void backend_addr(int family, int k, uint32_t out[4])
{
	char buf[64];

	if (family == LB_V4) {
		snprintf(buf, sizeof(buf), "198.18.1.%d", 10 + k);
		pkt_addr4(out, buf);
	} else {
		snprintf(buf, sizeof(buf), "2001:2::1:%d", 10 + k);
		pkt_addr6(out, buf);
	}
}

static void vip_addr(int family, int n, uint32_t out[4])
{
	char buf[64];

	if (family == LB_V4) {
		snprintf(buf, sizeof(buf), "198.18.100.%d", n);
		pkt_addr4(out, buf);
	} else {
		snprintf(buf, sizeof(buf), "2001:2:0:100::%d", n);
		pkt_addr6(out, buf);
	}
}

/* The i-th synthetic client: 198.18.128.0 + i (i < 2^17 stays in 198.18.0.0/15), or
 * 2001:2:0:200::i. */
static void client_addr(int family, uint32_t i, uint32_t out[4])
{
	memset(out, 0, 16);
	if (family == LB_V4) {
		out[0] = htonl((198u << 24 | 18u << 16 | 128u << 8) + i);
	} else {
		pkt_addr6(out, "2001:2:0:200::");
		out[2] = htonl(i >> 16);
		out[3] = htonl(i & 0xffff);
	}
}

/* --- configuration ----------------------------------------------------------------------- */
static int set_farm(enum farm_slot slot, int family, uint8_t stickiness, uint8_t fwd,
		    int nservers, const uint32_t *w, const bool *eligible)
{
	struct dp_server sv[NBACKENDS];
	struct dp_farm f = {
		.slot = slot, .seed = SEED, .stickiness = stickiness, .forwarding = fwd,
		.nservers = nservers, .servers = sv,
	};

	for (int k = 0; k < nservers; k++) {
		sv[k] = (struct dp_server){ .id = k + 1, .family = family, .weight = w[k],
					    .eligible = eligible ? eligible[k] : true };
		backend_addr(family, k + 1, sv[k].addr);
	}
	return dataplane_farm_set(dp, &f);
}

/* VIP n of a family: frontend n*2+family, tcp and udp on port 80 (or a range). */
static int add_vip(int family, int n, enum farm_slot farm, uint16_t lo, uint16_t hi,
		   uint32_t flags, bool frag_key)
{
	int err = 0;

	for (int i = 0; i < 2 && !err; i++) {
		struct dp_vip v = {
			.family = family, .proto = i ? IPPROTO_UDP : IPPROTO_TCP,
			.port_lo = lo, .port_hi = hi, .farm = farm,
			.frontend = n * 16 + family, .flags = flags, .frag_key = frag_key,
		};

		vip_addr(family, n, v.addr);
		err = dataplane_vip_set(dp, &v);
	}
	return err;
}

/* VIP numbers, the same in both families (address 198.18.100.N / 2001:2:0:100::N) */
enum { V_SRC_DSR = 1, V_SRC_IPIP, V_NULL_DSR, V_NULL_IPIP, V_RANGE, V_ACL, V_VLAN, V_VLAN_IPIP,
       V_FRESH, V_ODD };

static int setup(void)
{
	static const bool all[NBACKENDS] = { true, true, true };
	struct dp_acl acl;
	int err = 0;

	ifindex_lb0 = if_nametoindex("lb0");
	ifindex_lb1 = if_nametoindex("lb1");
	if (!ifindex_lb0 || !ifindex_lb1) {
		fprintf(stderr, "test_xdp: lb0/lb1 missing: run me in the rig's LB namespace "
				"(scripts/rig.sh ... --lb-ports 2 --static-neigh)\n");
		return -ENODEV;
	}
	err = dataplane_open(&dp, NULL);
	if (!err)
		err = dataplane_port_add(dp, ifindex_lb1);
	for (int fam = LB_V4; fam <= LB_V6 && !err; fam += 2) {
		/* one farm per family and mode: slot + 8 for IPv6 */
		int o = fam == LB_V6 ? 8 : 0;

		err = err ?: set_farm(F_SRC_DSR + o, fam, LB_STICKY_SOURCE_IP, LB_FWD_DSR, 3, weights, all);
		err = err ?: set_farm(F_SRC_IPIP + o, fam, LB_STICKY_SOURCE_IP, LB_FWD_IPIP, 3, weights, all);
		err = err ?: set_farm(F_NULL_DSR + o, fam, LB_STICKY_NONE, LB_FWD_DSR, 3, weights, all);
		err = err ?: set_farm(F_NULL_IPIP + o, fam, LB_STICKY_NONE, LB_FWD_IPIP, 3, weights, all);
		/* VLAN frames can only leave through lb0: backends 1 and 2 */
		err = err ?: set_farm(F_VLAN + o, fam, LB_STICKY_SOURCE_IP, LB_FWD_DSR, 2, weights, all);
		err = err ?: set_farm(F_VLAN_IPIP + o, fam, LB_STICKY_SOURCE_IP, LB_FWD_IPIP, 2, weights,
				      all);
		err = err ?: add_vip(fam, V_SRC_DSR, F_SRC_DSR + o, 80, 80, 0, true);
		err = err ?: add_vip(fam, V_SRC_IPIP, F_SRC_IPIP + o, 80, 80, 0, true);
		err = err ?: add_vip(fam, V_NULL_DSR, F_NULL_DSR + o, 80, 80, 0, false);
		err = err ?: add_vip(fam, V_NULL_IPIP, F_NULL_IPIP + o, 80, 80, 0, false);
		err = err ?: add_vip(fam, V_RANGE, F_SRC_DSR + o, 8000, 8100, 0, false);
		err = err ?: add_vip(fam, V_ACL, F_SRC_DSR + o, 80, 80, LB_VIP_F_ACL, false);
		err = err ?: add_vip(fam, V_VLAN, F_VLAN + o, 80, 80, 0, false);
		err = err ?: add_vip(fam, V_VLAN_IPIP, F_VLAN_IPIP + o, 80, 80, 0, false);
		err = err ?: add_vip(fam, V_FRESH, F_FRESH + o, 80, 80, 0, false);
		err = err ?: add_vip(fam, V_ODD, F_ODD + o, 80, 80, 0, false);
		acl.frontend = V_ACL * 16 + fam;
		acl.family = fam;
		if (fam == LB_V4) {
			pkt_addr4(acl.addr, "198.18.128.0");
			acl.prefixlen = 24;
		} else {
			pkt_addr6(acl.addr, "2001:2:0:200::");
			acl.prefixlen = 120;
		}
		err = err ?: dataplane_acl_add(dp, &acl);
	}
	if (err)
		fprintf(stderr, "test_xdp: setup: %s\n", strerror(-err));
	return err;
}

static int farm_of(int family, enum farm_slot f)
{
	return f + (family == LB_V6 ? 8 : 0);
}

/* --- running the program ------------------------------------------------------------------ */
struct run {
	int action;
	uint8_t out[PKT_MAX + 64];
	uint32_t out_len;
};

static int run_on(const struct pkt *p, size_t len, int ifindex, struct run *r)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->data, .data_size_in = len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	int err = bpf_prog_test_run_opts(dataplane_prog_fd(dp), &o);

	if (err)
		return -errno;
	r->action = o.retval;
	r->out_len = o.data_size_out;
	return 0;
}

static int run(const struct pkt *p, struct run *r)
{
	return run_on(p, p->len, ifindex_lb0, r);
}

/* Which backend (1..3) a forwarded frame went to, from its destination MAC; 0 if none. */
static int backend_of(const struct run *r)
{
	if (r->out_len < 14 || (r->action != XDP_TX && r->action != XDP_REDIRECT))
		return 0;
	if (memcmp(r->out, "\x02\x00\x00\x00\x01", 5) || r->out[5] < 1 || r->out[5] > NBACKENDS)
		return 0;
	return r->out[5];
}

static uint64_t reason_count(enum lb_reason why)
{
	struct lb_counter c[LB_R_MAX];

	if (dataplane_verdicts(dp, c))
		return UINT64_MAX;
	return c[why].packets;
}

/* --- table-driven packet cases --------------------------------------------------------- */
struct xdp_case {
	const char *name;
	struct pkt_spec spec;
	enum want want;
	enum lb_reason reason;	/* for PASS and DROP: the counter that must move */
};

#define V4(...) { .family = LB_V4, .proto = IPPROTO_TCP, .sport = 40000, .dport = 80, __VA_ARGS__ }
#define V6(...) { .family = LB_V6, .proto = IPPROTO_TCP, .sport = 40000, .dport = 80, __VA_ARGS__ }

/* Addresses are filled in by fill_case(): src = client 7, dst = VIP number dst[3] (or the
 * literal address in dst[0..2] when dst[3] is 0). */
/* the case table names only the fields that matter; the V4/V6 defaults are overridable */
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static struct xdp_case cases[] = {
	{ "tcp4 to vip, dsr", V4(.dst[3] = V_SRC_DSR), W_DSR },
	{ "udp4 to vip, dsr", V4(.proto = IPPROTO_UDP, .dst[3] = V_SRC_DSR), W_DSR },
	{ "tcp6 to vip, dsr", V6(.dst[3] = V_SRC_DSR), W_DSR },
	{ "udp6 to vip, dsr", V6(.proto = IPPROTO_UDP, .dst[3] = V_SRC_DSR), W_DSR },
	{ "tcp4 to vip, ipip", V4(.dst[3] = V_SRC_IPIP, .payload_len = 100), W_IPIP },
	{ "udp4 to vip, ipip", V4(.proto = IPPROTO_UDP, .dst[3] = V_SRC_IPIP), W_IPIP },
	{ "tcp6 to vip, ipip", V6(.dst[3] = V_SRC_IPIP, .payload_len = 100), W_IPIP },
	{ "udp6 to vip, ipip", V6(.proto = IPPROTO_UDP, .dst[3] = V_SRC_IPIP), W_IPIP },
	{ "tcp4 null stickiness, dsr", V4(.dst[3] = V_NULL_DSR), W_DSR },
	{ "udp4 null stickiness, dsr", V4(.proto = IPPROTO_UDP, .dst[3] = V_NULL_DSR), W_DSR },
	{ "tcp6 null stickiness, dsr", V6(.dst[3] = V_NULL_DSR), W_DSR },
	{ "udp6 null stickiness, dsr", V6(.proto = IPPROTO_UDP, .dst[3] = V_NULL_DSR), W_DSR },
	{ "tcp4 null stickiness, ipip", V4(.dst[3] = V_NULL_IPIP), W_IPIP },
	{ "udp4 null stickiness, ipip", V4(.proto = IPPROTO_UDP, .dst[3] = V_NULL_IPIP), W_IPIP },
	{ "tcp6 null stickiness, ipip", V6(.dst[3] = V_NULL_IPIP), W_IPIP },
	{ "udp6 null stickiness, ipip", V6(.proto = IPPROTO_UDP, .dst[3] = V_NULL_IPIP), W_IPIP },
	{ "tos and ttl kept inside ipip", V4(.dst[3] = V_SRC_IPIP, .tos = 0xb8, .ttl = 3), W_IPIP },
	{ "port range, low end", V4(.dst[3] = V_RANGE, .dport = 8000), W_DSR },
	{ "port range, high end", V6(.dst[3] = V_RANGE, .dport = 8100), W_DSR },
	{ "port range, past the end", V4(.dst[3] = V_RANGE, .dport = 8101), W_PASS, LB_R_NOT_VIP },
	{ "vlan tcp4, dsr keeps the tag", V4(.dst[3] = V_VLAN, .vlan = 42), W_DSR },
	{ "vlan tcp6, dsr keeps the tag", V6(.dst[3] = V_VLAN, .vlan = 42), W_DSR },
	{ "vlan udp4, ipip keeps the tag", V4(.proto = IPPROTO_UDP, .dst[3] = V_VLAN_IPIP,
					      .vlan = 7), W_IPIP },
	{ "vlan tcp6, ipip keeps the tag", V6(.dst[3] = V_VLAN_IPIP, .vlan = 4095), W_IPIP },
	{ "ipv4 options, dsr", V4(.dst[3] = V_SRC_DSR, .ip_opt_len = 40), W_DSR },
	{ "ipv4 options, ipip", V4(.dst[3] = V_SRC_IPIP, .ip_opt_len = 8), W_IPIP },
	{ "first ipv4 fragment, sourceIp", V4(.dst[3] = V_SRC_DSR, .more_frags = true,
					      .payload_len = 64), W_DSR },
	{ "later ipv4 fragment, sourceIp", V4(.dst[3] = V_SRC_DSR, .frag_off = 9,
					      .payload_len = 64), W_DSR },
	{ "later ipv6 fragment, sourceIp", V6(.dst[3] = V_SRC_IPIP, .frag_off = 9,
					      .more_frags = true, .payload_len = 64), W_IPIP },
	{ "first ipv6 fragment, sourceIp", V6(.dst[3] = V_SRC_DSR, .more_frags = true,
					      .payload_len = 64), W_DSR },
	{ "later ipv4 fragment, null stickiness", V4(.dst[3] = V_NULL_DSR, .frag_off = 9,
						     .payload_len = 64), W_PASS, LB_R_NOT_VIP },
	{ "first ipv4 fragment, null stickiness", V4(.dst[3] = V_NULL_DSR, .more_frags = true,
						     .payload_len = 64), W_DSR },
	{ "ipv6 hop-by-hop header to vip", V6(.dst[3] = V_SRC_DSR, .v6_ext_hdr = true,
					     .v6_ext = 0), W_PASS, LB_R_UNSUPPORTED },
	{ "ipv6 routing header to vip", V6(.dst[3] = V_SRC_DSR, .v6_ext_hdr = true,
					   .v6_ext = 43), W_PASS, LB_R_UNSUPPORTED },
	{ "vip address, other port", V4(.dst[3] = V_SRC_DSR, .dport = 81), W_PASS, LB_R_NOT_VIP },
	{ "not a vip", V4(.dst[3] = 200), W_PASS, LB_R_NOT_VIP },
	{ "not a vip, ipv6", V6(.dst[3] = 200), W_PASS, LB_R_NOT_VIP },
	{ "icmp to vip", V4(.proto = IPPROTO_ICMP, .dst[3] = V_SRC_DSR), W_PASS, LB_R_NOT_VIP },
	{ "icmpv6 to vip", V6(.proto = IPPROTO_ICMPV6, .dst[3] = V_SRC_DSR), W_PASS,
	  LB_R_NOT_VIP },
	{ "allowedSource: listed source", V4(.dst[3] = V_ACL), W_DSR },
	{ "allowedSource: listed source, ipv6", V6(.dst[3] = V_ACL), W_DSR },
	{ "allowedSource: other source dropped", V4(.dst[3] = V_ACL, .src[3] = 300), W_DROP,
	  LB_R_ACL },
	{ "allowedSource: other source dropped, ipv6", V6(.dst[3] = V_ACL, .src[3] = 300),
	  W_DROP, LB_R_ACL },
};

/* src[3] carries a client number (default 7), dst[3] a VIP number. */
static void fill_case(struct pkt_spec *s)
{
	uint32_t client = s->src[3] ? s->src[3] : 7, vip = s->dst[3];

	client_addr(s->family, client, s->src);
	vip_addr(s->family, vip, s->dst);
}

/* The IPIP outer header a frame to backend k must carry. */
static void encap_want(int family, int k, struct pkt_encap_want *w)
{
	memset(w, 0, sizeof(*w));
	w->family = family;
	w->ttl = LB_TUNNEL_TTL;
	backend_addr(family, k, w->dst);
	if (family == LB_V4)
		pkt_addr4(w->src, k == 3 ? "198.18.0.3" : "198.18.0.1");
	else
		pkt_addr6(w->src, k == 3 ? "2001:2::3" : "2001:2::1");
	memcpy(w->smac, k == 3 ? mac_lb1 : mac_lb0, 6);
	memcpy(w->dmac, "\x02\x00\x00\x00\x01", 5);
	w->dmac[5] = k;
}

/* Check one forwarded or passed/dropped result against what the case wants. */
static void check_result(const struct xdp_case *c, const struct pkt *p, const struct run *r,
			 uint64_t before)
{
	char why[PKT_WHY_LEN] = "";
	struct pkt_encap_want w;
	int k = backend_of(r);

	switch (c->want) {
	case W_PASS:
	case W_DROP:
		CHECK(r->action == (c->want == W_PASS ? XDP_PASS : XDP_DROP),
		      "action: want %s, got %d", c->want == W_PASS ? "XDP_PASS" : "XDP_DROP",
		      r->action);
		if (c->want == W_PASS)
			CHECK(pkt_check_same(p, r->out, r->out_len, why), "%s", why);
		CHECK(reason_count(c->reason) == before + 1, "counter %s: want %llu, got %llu",
		      dataplane_reason_name(c->reason), (unsigned long long)before + 1,
		      (unsigned long long)reason_count(c->reason));
		return;
	case W_DSR:
	case W_IPIP:
		if (!CHECK(k, "want a frame to a backend, got action %d, dmac %02x:..:%02x",
			   r->action, r->out[0], r->out[5]))
			return;
		CHECK(r->action == (k == 3 ? XDP_REDIRECT : XDP_TX),
		      "backend %d: want %s, got action %d", k, k == 3 ? "XDP_REDIRECT" : "XDP_TX",
		      r->action);
		encap_want(c->spec.family, k, &w);
		if (c->want == W_DSR)
			CHECK(pkt_check_dsr(p, r->out, r->out_len, w.dmac, w.smac, why), "%s", why);
		else
			CHECK(pkt_check_ipip(p, r->out, r->out_len, &w, why), "%s", why);
		return;
	}
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xdp_case *c = &cases[i];
		char why[PKT_WHY_LEN];
		struct pkt p;
		struct run r;
		uint64_t before;

		tap_begin();
		fill_case(&c->spec);
		pkt_build(&p, &c->spec);
		/* a frame the balancer forwards must be one a host would accept */
		if (c->want >= W_DSR && !c->spec.frag_off)
			CHECK(pkt_check_l4_csum(p.data, p.len, why), "input frame: %s", why);
		before = reason_count(c->reason);
		if (CHECK(!run(&p, &r), "test_run failed"))
			check_result(c, &p, &r, before);
		tap_end(c->name);
	}
}

/* --- truncated and malformed frames --------------------------------------------------- */
static void test_truncated(const char *name, const struct pkt_spec *spec)
{
	struct pkt p, cut;
	struct run r;
	char why[PKT_WHY_LEN];

	tap_begin();
	pkt_build(&p, spec);
	/* BPF_PROG_TEST_RUN refuses XDP frames shorter than an Ethernet header */
	for (size_t len = 14; len < p.len && tap_ok; len++) {
		memcpy(cut.data, p.data, len);
		cut.len = len;
		if (!CHECK(!run(&cut, &r), "test_run at %zu bytes", len))
			break;
		CHECK(r.action == XDP_PASS, "cut at %zu of %zu bytes: want XDP_PASS, got %d", len,
		      p.len, r.action);
		CHECK(pkt_check_same(&cut, r.out, r.out_len, why), "cut at %zu: %s", len, why);
	}
	tap_end(name);
}

struct mangle {
	const char *name;
	int family;
	size_t off;		/* from the L3 header */
	uint8_t val;
	uint8_t mask;		/* bits of the byte replaced by val */
};

static const struct mangle mangles[] = {
	{ "ipv4 ihl 4", LB_V4, 0, 0x04, 0x0f },
	{ "ipv4 ihl 15 past the packet", LB_V4, 0, 0x0f, 0x0f },
	{ "ipv4 version 5", LB_V4, 0, 0x50, 0xf0 },
	{ "ipv4 total length past the frame", LB_V4, 2, 0x7f, 0xff },
	{ "ipv4 total length below the header", LB_V4, 3, 0x10, 0xff },
	{ "tcp data offset 4", LB_V4, 20 + 12, 0x40, 0xf0 },
	{ "tcp data offset past the packet", LB_V4, 20 + 12, 0xf0, 0xf0 },
	{ "ipv6 payload length past the frame", LB_V6, 4, 0x40, 0xff },
	{ "ipv6 payload length 0 (jumbogram)", LB_V6, 5, 0x00, 0xff },
	{ "ipv6 version 4", LB_V6, 0, 0x40, 0xf0 },
};

static void test_malformed(void)
{
	for (size_t i = 0; i < sizeof(mangles) / sizeof(mangles[0]); i++) {
		const struct mangle *m = &mangles[i];
		struct pkt_spec spec = { .family = m->family, .proto = IPPROTO_TCP, .sport = 4000,
					 .dport = 80 };
		char why[PKT_WHY_LEN], name[128];
		struct pkt p;
		struct run r;
		uint8_t *b;
		uint64_t before = reason_count(LB_R_PARSE);

		tap_begin();
		client_addr(m->family, 7, spec.src);
		vip_addr(m->family, V_SRC_DSR, spec.dst);
		pkt_build(&p, &spec);
		if (m->family == LB_V6 && m->off == 5)	/* jumbogram: both length bytes zero */
			p.data[14 + 4] = 0;
		b = &p.data[14 + m->off];
		*b = (*b & ~m->mask) | m->val;
		if (CHECK(!run(&p, &r), "test_run")) {
			CHECK(r.action == XDP_PASS, "want XDP_PASS, got %d", r.action);
			CHECK(pkt_check_same(&p, r.out, r.out_len, why), "%s", why);
			CHECK(reason_count(LB_R_PARSE) == before + 1,
			      "want the parse-error counter to move");
		}
		snprintf(name, sizeof(name), "malformed: %s -> pass untouched", m->name);
		tap_end(name);
	}
}

/* --- stickiness ---------------------------------------------------------------------------- */
/* Send one packet from client i (TCP with flags, from sport) to VIP n; the backend or 0. */
static int pick(int family, int n, uint32_t client, uint16_t sport, uint8_t flags)
{
	struct pkt_spec spec = { .family = family, .proto = IPPROTO_TCP, .sport = sport,
				 .dport = 80, .tcp_flags = flags };
	struct pkt p;
	struct run r;

	client_addr(family, client, spec.src);
	vip_addr(family, n, spec.dst);
	pkt_build(&p, &spec);
	return run(&p, &r) ? 0 : backend_of(&r);
}

#define ACK 0x10
#define SYN 0x02

static void test_same_source_same_server(int family)
{
	int first = pick(family, V_SRC_DSR, 11, 1024, ACK), k, moved = 0;

	tap_begin();
	CHECK(first, "first packet not forwarded");
	for (int i = 1; i < 10000; i++) {
		k = pick(family, V_SRC_DSR, 11, 1024 + i, i % 3 ? ACK : SYN);
		moved += k != first;
	}
	CHECK(!moved, "want 10000 packets to backend %d, %d went elsewhere", first, moved);
	tap_end(family == LB_V4 ? "same IPv4 source, 10000 ports: one server"
				: "same IPv6 source, 10000 ports: one server");
}

/* The fragments of one datagram go where its first fragment went, for many sources. */
static void test_fragments_follow_source(int family)
{
	struct pkt_spec first = { .family = family, .proto = IPPROTO_UDP, .sport = 53, .dport = 80,
				  .more_frags = true, .payload_len = 32 };
	struct pkt_spec later = { .family = family, .proto = IPPROTO_UDP, .frag_off = 5,
				  .payload_len = 32 };
	struct pkt p1, p2;
	struct run r1, r2;
	int apart = 0, lost = 0;

	tap_begin();
	vip_addr(family, V_SRC_IPIP, first.dst);
	vip_addr(family, V_SRC_IPIP, later.dst);
	for (uint32_t i = 0; i < 500; i++) {
		client_addr(family, 60000 + i, first.src);
		memcpy(later.src, first.src, sizeof(later.src));
		/* the later fragment first: it must not depend on the first having been seen */
		pkt_build(&p2, &later);
		pkt_build(&p1, &first);
		if (run(&p2, &r2) || run(&p1, &r1) || !backend_of(&r1) || !backend_of(&r2)) {
			lost++;
			continue;
		}
		apart += backend_of(&r1) != backend_of(&r2);
	}
	CHECK(!lost, "%d datagrams not forwarded", lost);
	CHECK(!apart, "%d of 500 datagrams split over two servers", apart);
	tap_end(family == LB_V4 ? "ipv4 fragments follow their source's server"
				: "ipv6 fragments follow their source's server");
}

#define SPREAD_N 30000
#define SPREAD_BASE 1000

static int spread_server[SPREAD_N];

static void test_spread_by_weight(void)
{
	int n[NBACKENDS + 1] = { 0 };
	double total = weights[0] + weights[1] + weights[2];

	tap_begin();
	for (int i = 0; i < SPREAD_N; i++) {
		spread_server[i] = pick(LB_V4, V_SRC_DSR, SPREAD_BASE + i, 5000, ACK);
		n[spread_server[i]]++;
	}
	CHECK(!n[0], "%d sources not forwarded", n[0]);
	/* binomial sd of the smallest share (1/6 of 30000) is 0.39% of it: +-3% is > 7 sd */
	for (int k = 1; k <= NBACKENDS; k++) {
		double want = weights[k - 1] / total, got = (double)n[k] / SPREAD_N;

		CHECK(got > want * 0.97 && got < want * 1.03,
		      "backend %d: want share %.4f +-3%%, got %.4f", k, want, got);
	}
	tap_end("30000 sources spread by weight 1:2:3 within 3%");
}

/* How many of the known sources the ring alone (a farm with no sticky history) sends
 * elsewhere: proves that a test of stickiness is not passing by luck of the table. */
static int ring_disagrees(int family, const uint32_t *w, const bool *elig, int first, int n,
			  const int *known)
{
	int differ = 0;

	if (set_farm(farm_of(family, F_FRESH), family, LB_STICKY_SOURCE_IP, LB_FWD_DSR, 3, w, elig))
		return -1;
	/* SYN: looked up but never recorded, so the fresh farm stays without history */
	for (int i = 0; i < n; i++)
		differ += pick(family, V_FRESH, first + i, 5000, SYN) != known[i];
	return differ;
}

static void test_weight_change_keeps_known_sources(void)
{
	static const uint32_t w2[NBACKENDS] = { 3, 2, 1 };
	int moved = 0, differ;

	tap_begin();
	CHECK(!set_farm(F_SRC_DSR, LB_V4, LB_STICKY_SOURCE_IP, LB_FWD_DSR, 3, w2, NULL),
	      "weight change");
	for (int i = 0; i < SPREAD_N; i++)
		moved += pick(LB_V4, V_SRC_DSR, SPREAD_BASE + i, 6000, ACK) != spread_server[i];
	differ = ring_disagrees(LB_V4, w2, NULL, SPREAD_BASE, SPREAD_N, spread_server);
	CHECK(!moved, "weights 1:2:3 -> 3:2:1: want 0 known sources moved, got %d", moved);
	CHECK(differ > SPREAD_N / 10, "the new ring alone moves only %d of %d sources: the test "
	      "proves nothing", differ, SPREAD_N);
	printf("# weights 1:2:3 -> 3:2:1: ring alone would move %d of %d, moved %d\n", differ,
	       SPREAD_N, moved);
	tap_end("weight change: known sources keep their server");
}

static void test_disable_moves_only_its_sources(void)
{
	static const bool elig[NBACKENDS] = { true, false, true };
	static const uint32_t w2[NBACKENDS] = { 3, 2, 1 };
	int wrong = 0, moved = 0, k;

	tap_begin();
	CHECK(!set_farm(F_SRC_DSR, LB_V4, LB_STICKY_SOURCE_IP, LB_FWD_DSR, 3, w2, elig),
	      "disable server 2");
	for (int i = 0; i < SPREAD_N; i++) {
		k = pick(LB_V4, V_SRC_DSR, SPREAD_BASE + i, 7000, ACK);
		if (spread_server[i] == 2) {
			wrong += k != 1 && k != 3;
			moved++;
			spread_server[i] = k;
		} else {
			wrong += k != spread_server[i];
		}
	}
	CHECK(!wrong, "want only server 2's %d sources to move (to 1 or 3), %d went wrong",
	      moved, wrong);
	CHECK(moved > 0, "server 2 had no sources");
	tap_end("server disabled: only its sources move");
}

static void test_enable_moves_nobody(void)
{
	static const uint32_t w2[NBACKENDS] = { 3, 2, 1 };
	int moved = 0, to2 = 0;

	tap_begin();
	CHECK(!set_farm(F_SRC_DSR, LB_V4, LB_STICKY_SOURCE_IP, LB_FWD_DSR, 3, w2, NULL),
	      "re-enable server 2");
	for (int i = 0; i < SPREAD_N; i++)
		moved += pick(LB_V4, V_SRC_DSR, SPREAD_BASE + i, 8000, ACK) != spread_server[i];
	for (int i = 0; i < 3000; i++)
		to2 += pick(LB_V4, V_SRC_DSR, SPREAD_BASE + SPREAD_N + i, 8000, ACK) == 2;
	CHECK(!moved, "want nobody to move when server 2 comes back, %d did", moved);
	CHECK(to2 > 3000 / 6 * 0.8, "server 2 (weight 2 of 6) got %d of 3000 new sources", to2);
	tap_end("server re-enabled: nobody moves, it gets new sources");
}

#define KNOWN_N 5000
#define FLOOD_N 1000000

static void test_syn_flood_keeps_known_sources(void)
{
	static const uint32_t w2[NBACKENDS] = { 3, 2, 1 };
	static int known[KNOWN_N], flood[KNOWN_N];
	int recorded = 0;
	struct pkt_spec spec = { .family = LB_V6, .proto = IPPROTO_TCP, .sport = 999, .dport = 80,
				 .tcp_flags = SYN };
	uint32_t src[4];
	int moved = 0, differ;
	struct pkt p;
	struct run r;

	tap_begin();
	for (int i = 0; i < KNOWN_N; i++)
		known[i] = pick(LB_V6, V_SRC_DSR, i + 1, 5000, ACK);
	client_addr(LB_V6, 0, spec.src);
	vip_addr(LB_V6, V_SRC_DSR, spec.dst);
	pkt_build(&p, &spec);
	for (uint32_t i = 0; i < FLOOD_N && tap_ok; i++) {
		client_addr(LB_V6, 0x1000000 + i, src);
		pkt_set_src(&p, src);
		CHECK(!run(&p, &r) && backend_of(&r), "flood packet %u not forwarded", i);
	}
	CHECK(!set_farm(farm_of(LB_V6, F_SRC_DSR), LB_V6, LB_STICKY_SOURCE_IP, LB_FWD_DSR, 3, w2,
			NULL), "weight change");
	for (int i = 0; i < KNOWN_N; i++)
		moved += pick(LB_V6, V_SRC_DSR, i + 1, 5001, ACK) != known[i];
	differ = ring_disagrees(LB_V6, w2, NULL, 1, KNOWN_N, known);
	CHECK(!moved, "after 1M SYN-only sources and a weight change, %d of %d known moved", moved,
	      KNOWN_N);
	CHECK(differ > KNOWN_N / 10, "ring alone moves only %d: proves nothing", differ);
	/* and the flood was not recorded: its sources follow the new ring like fresh ones */
	for (int i = 0; i < KNOWN_N; i++)
		flood[i] = pick(LB_V6, V_FRESH, 0x1000000 + i * 199, 5000, SYN);
	for (int i = 0; i < KNOWN_N; i++)
		recorded += pick(LB_V6, V_SRC_DSR, 0x1000000 + i * 199, 5000, SYN) != flood[i];
	CHECK(!recorded, "%d of %d SYN-only flood sources were recorded", recorded, KNOWN_N);
	tap_end("1M new SYN-only sources do not evict known sources");
}

static void test_null_flows_stay(void)
{
	static const uint32_t w2[NBACKENDS] = { 3, 2, 1 };
	static const bool elig[NBACKENDS] = { false, true, true };
	int first[2000], moved = 0, wrong = 0, k;

	tap_begin();
	for (int i = 0; i < 2000; i++)
		first[i] = pick(LB_V4, V_NULL_DSR, 77, 10000 + i, ACK);
	CHECK(!set_farm(F_NULL_DSR, LB_V4, LB_STICKY_NONE, LB_FWD_DSR, 3, w2, NULL), "weights");
	for (int i = 0; i < 2000; i++)
		moved += pick(LB_V4, V_NULL_DSR, 77, 10000 + i, ACK) != first[i];
	CHECK(!moved, "weight change: want 0 established flows moved, got %d", moved);
	CHECK(!set_farm(F_NULL_DSR, LB_V4, LB_STICKY_NONE, LB_FWD_DSR, 3, w2, elig), "disable 1");
	for (int i = 0; i < 2000; i++) {
		k = pick(LB_V4, V_NULL_DSR, 77, 10000 + i, ACK);
		wrong += first[i] == 1 ? k == 1 || !k : k != first[i];
	}
	CHECK(!wrong, "disable server 1: want only its flows moved, %d wrong", wrong);
	tap_end("null stickiness: established flows stay, a disabled server's flows move");
}

/* --- census of the sticky and connection tables ------------------------------------------ */
#define CENSUS_N	1000
#define F_CENSUS	16	/* farm slots past both families' */
#define F_CENSUS_NULL	17

enum { V_CENSUS = V_ODD + 1, V_CENSUS_NULL };

/* Backends first..3 as server ids id0 + k (keys no other farm has), behind VIP n; server
 * id0 + 1 eligible or not, keeping its flows or not (the applier's LB_SERVER_F_KEEP_FLOWS). */
static int v4_farm(uint32_t slot, int n, uint8_t stickiness, uint32_t timeout, uint32_t id0,
		   int first, bool elig1, bool keep1)
{
	struct dp_server sv[NBACKENDS];
	struct dp_farm f = { .slot = slot, .seed = SEED, .timeout = timeout,
			     .stickiness = stickiness, .forwarding = LB_FWD_DSR, .servers = sv };
	int err;

	for (int k = first; k <= NBACKENDS; k++) {
		sv[f.nservers] = (struct dp_server){ .id = id0 + k, .family = LB_V4,
						     .weight = weights[k - 1],
						     .eligible = k > 1 || elig1,
						     .keep_flows = k == 1 && keep1 };
		backend_addr(LB_V4, k, sv[f.nservers++].addr);
	}
	err = dataplane_farm_set(dp, &f);
	return err ?: add_vip(LB_V4, n, slot, 80, 80, 0, false);
}

static int census_farm(uint32_t slot, int n, uint8_t stickiness, uint32_t timeout, uint32_t id0,
		       int first)
{
	return v4_farm(slot, n, stickiness, timeout, id0, first, true, false);
}

/* The census names, for each server id0 + k, as many entries as packets went to backend k. */
static void census_check(const struct dp_census *c, uint32_t slot, uint32_t id0, const int *sent,
			 const char *what)
{
	for (int k = 1; k <= NBACKENDS; k++) {
		uint32_t got = dp_census_count(c, dataplane_server_key(dp, slot, id0 + k));

		CHECK(got == (uint32_t)sent[k], "%s: server %u: want %d entries, got %u", what,
		      id0 + k, sent[k], got);
	}
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_sticky_census(void)
{
	/* past a 1 s timeout on a seconds clock, whatever the phase of the second */
	const struct timespec expire = { .tv_sec = 2, .tv_nsec = 200 * 1000 * 1000 };
	struct dp_census before = { 0 }, c = { 0 }, later = { 0 };
	int sent[NBACKENDS + 1] = { 0 }, none[NBACKENDS + 1] = { 0 };
	struct timespec t0;
	double ms;

	tap_begin();
	if (!CHECK(!census_farm(F_CENSUS, V_CENSUS, LB_STICKY_SOURCE_IP, 1, 100, 1), "farm") ||
	    !CHECK(!dataplane_sticky_census(dp, &before), "census before"))
		goto out;
	for (int i = 0; i < CENSUS_N; i++)
		sent[pick(LB_V4, V_CENSUS, 90000 + i, 5000, ACK)]++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!CHECK(!dataplane_sticky_census(dp, &c), "census"))
		goto out;
	ms = ms_since(&t0);
	CHECK(!sent[0], "%d of %d sources not forwarded", sent[0], CENSUS_N);
	census_check(&c, F_CENSUS, 100, sent, "sticky");
	CHECK(c.entries == before.entries + CENSUS_N, "entries: want %llu + %d, got %llu",
	      (unsigned long long)before.entries, CENSUS_N, (unsigned long long)c.entries);
	CHECK(c.capacity == (uint64_t)LB_STICKY_BUCKETS * LB_STICKY_WAYS,
	      "capacity: want %u, got %llu", LB_STICKY_BUCKETS * LB_STICKY_WAYS,
	      (unsigned long long)c.capacity);
	printf("# sticky census: %u buckets (%zu MiB) walked in %.1f ms\n", LB_STICKY_BUCKETS,
	       (size_t)LB_STICKY_BUCKETS * sizeof(struct lb_sticky_bucket) >> 20, ms);
	tap_end("sticky census: new sources counted by the server they went to");

	tap_begin();
	nanosleep(&expire, NULL);
	if (CHECK(!dataplane_sticky_census(dp, &later), "census later")) {
		census_check(&later, F_CENSUS, 100, none, "after the timeout");
		CHECK(later.stale == c.stale + CENSUS_N && later.entries == c.entries - CENSUS_N,
		      "want %d entries moved to stale, got entries %llu -> %llu, stale %llu -> "
		      "%llu",
		      CENSUS_N, (unsigned long long)c.entries, (unsigned long long)later.entries,
		      (unsigned long long)c.stale, (unsigned long long)later.stale);
	}
	tap_end("sticky census: entries past their farm's timeout are stale (balancer's clock)");
	goto done;
out:
	tap_end("sticky census: new sources counted by the server they went to");
done:
	dp_census_free(&before);
	dp_census_free(&c);
	dp_census_free(&later);
}

static void test_conn_census(void)
{
	struct dp_census before = { 0 }, c = { 0 }, after = { 0 };
	int sent[NBACKENDS + 1] = { 0 }, kept[NBACKENDS + 1] = { 0 };

	tap_begin();
	if (!CHECK(!census_farm(F_CENSUS_NULL, V_CENSUS_NULL, LB_STICKY_NONE, 0, 200, 1), "farm") ||
	    !CHECK(!dataplane_conn_census(dp, &before), "census before"))
		goto out;
	for (int i = 0; i < CENSUS_N; i++)
		sent[pick(LB_V4, V_CENSUS_NULL, 7, 20000 + i, ACK)]++;
	if (!CHECK(!dataplane_conn_census(dp, &c), "census"))
		goto out;
	CHECK(!sent[0], "%d of %d flows not forwarded", sent[0], CENSUS_N);
	census_check(&c, F_CENSUS_NULL, 200, sent, "conns");
	CHECK(c.entries == before.entries + CENSUS_N, "entries: want %llu + %d, got %llu",
	      (unsigned long long)before.entries, CENSUS_N, (unsigned long long)c.entries);
	CHECK(c.capacity == LB_CONN_MAX, "capacity: want %u, got %llu", LB_CONN_MAX,
	      (unsigned long long)c.capacity);
	tap_end("connection census: new flows counted by the server they went to");

	tap_begin();
	kept[2] = sent[2];
	kept[3] = sent[3];
	if (CHECK(!census_farm(F_CENSUS_NULL, V_CENSUS_NULL, LB_STICKY_NONE, 0, 200, 2),
		  "remove server 201") &&
	    CHECK(!dataplane_conn_census(dp, &after), "census after")) {
		census_check(&after, F_CENSUS_NULL, 200, kept, "server 201 removed");
		CHECK(after.stale == c.stale + sent[1] && after.entries == c.entries - sent[1],
		      "want server 201's %d flows stale, got entries %llu -> %llu, stale %llu -> "
		      "%llu", sent[1], (unsigned long long)c.entries,
		      (unsigned long long)after.entries, (unsigned long long)c.stale,
		      (unsigned long long)after.stale);
	}
	tap_end("connection census: flows of a removed server are stale");
	goto done;
out:
	tap_end("connection census: new flows counted by the server they went to");
done:
	dp_census_free(&before);
	dp_census_free(&c);
	dp_census_free(&after);
}

/* --- a server down by its probe: flags, and onMarkedDown shutdown-sessions --------------- */
#define F_KEEP		18
#define F_FORGET	19
#define F_FORGET_NULL	20
#define FLOWS_N		2000

enum { V_KEEP = V_CENSUS_NULL + 1, V_FORGET, V_FORGET_NULL };

/* Backends 1..3 behind VIP n, server id0 + 1 eligible or not, keeping its flows or not. */
static int down_farm(uint32_t slot, int n, uint8_t stickiness, uint32_t id0, bool elig1,
		     bool keep1)
{
	return v4_farm(slot, n, stickiness, 0, id0, 1, elig1, keep1);
}

static void test_keep_flows(void)
{
	static int first[FLOWS_N];
	int on1 = 0, moved = 0, new1 = 0, wrong = 0, k;

	tap_begin();
	if (!CHECK(!down_farm(F_KEEP, V_KEEP, LB_STICKY_NONE, 500, true, false), "farm"))
		goto out;
	for (int i = 0; i < FLOWS_N; i++) {
		first[i] = pick(LB_V4, V_KEEP, 78, 30000 + i, ACK);
		on1 += first[i] == 1;
	}
	CHECK(!down_farm(F_KEEP, V_KEEP, LB_STICKY_NONE, 500, false, true), "server 1 down");
	for (int i = 0; i < FLOWS_N; i++)
		moved += pick(LB_V4, V_KEEP, 78, 30000 + i, ACK) != first[i];
	for (int i = 0; i < FLOWS_N; i++)
		new1 += pick(LB_V4, V_KEEP, 78, 40000 + i, ACK) == 1;
	CHECK(on1 > 0, "server 1 had no flows");
	CHECK(!moved, "down, keeping its flows: want 0 of %d established flows moved (%d on "
	      "server 1), %d moved", FLOWS_N, on1, moved);
	CHECK(!new1, "down: want no new flow on server 1, %d of %d went there", new1, FLOWS_N);
	CHECK(!down_farm(F_KEEP, V_KEEP, LB_STICKY_NONE, 500, false, false), "flag off");
	for (int i = 0; i < FLOWS_N; i++) {
		k = pick(LB_V4, V_KEEP, 78, 30000 + i, ACK);
		wrong += first[i] == 1 ? k == 1 || !k : k != first[i];
	}
	CHECK(!wrong, "without the flag: want server 1's %d flows moved, the others staying; %d "
	      "wrong", on1, wrong);
out:
	tap_end("null stickiness: a server down keeping its flows keeps them and takes no new "
		"ones; without the flag they move");

	tap_begin();
	on1 = wrong = 0;
	if (!CHECK(!down_farm(F_KEEP, V_KEEP, LB_STICKY_SOURCE_IP, 600, true, false), "farm"))
		goto out_src;
	for (int i = 0; i < FLOWS_N; i++) {
		first[i] = pick(LB_V4, V_KEEP, 70000 + i, 5000, ACK);
		on1 += first[i] == 1;
	}
	CHECK(!down_farm(F_KEEP, V_KEEP, LB_STICKY_SOURCE_IP, 600, false, true), "server 1 down");
	for (int i = 0; i < FLOWS_N; i++) {
		k = pick(LB_V4, V_KEEP, 70000 + i, 5000, ACK);
		wrong += first[i] == 1 ? k == 1 || !k : k != first[i];
	}
	CHECK(on1 > 0, "server 1 had no sources");
	CHECK(!wrong, "want server 1's %d sources moved, the others staying; %d wrong", on1,
	      wrong);
out_src:
	tap_end("sourceIp: a server down keeping its flows still loses its sources to the others");
}

/* The census counts of servers id0 + 1..3 of a farm slot. */
static void census_counts(const struct dp_census *c, uint32_t slot, uint32_t id0, int *got)
{
	for (int k = 1; k <= NBACKENDS; k++)
		got[k] = dp_census_count(c, dataplane_server_key(dp, slot, id0 + k));
}

/* shutdown-sessions: server 1 of a sourceIp and of a null farm forgotten in one call (with a
 * server no farm has); the entries of the others stay. */
static void test_forget_servers(void)
{
	struct dp_forget fg[] = {
		{ .farm = F_FORGET, .id = 701 }, { .farm = F_FORGET_NULL, .id = 801 },
		{ .farm = F_FORGET, .id = 799 },
	};
	struct dp_census s0 = { 0 }, c0 = { 0 }, s1 = { 0 }, c1 = { 0 };
	int ss[NBACKENDS + 1] = { 0 }, sc[NBACKENDS + 1] = { 0 };
	int as[NBACKENDS + 1], ac[NBACKENDS + 1];
	uint64_t other_s, other_c;

	tap_begin();
	if (!CHECK(!down_farm(F_FORGET, V_FORGET, LB_STICKY_SOURCE_IP, 700, true, false),
		   "sourceIp farm") ||
	    !CHECK(!down_farm(F_FORGET_NULL, V_FORGET_NULL, LB_STICKY_NONE, 800, true, false),
		   "null farm"))
		goto out;
	for (int i = 0; i < CENSUS_N; i++) {
		ss[pick(LB_V4, V_FORGET, 80000 + i, 5000, ACK)]++;
		sc[pick(LB_V4, V_FORGET_NULL, 79, 20000 + i, ACK)]++;
	}
	/* as limpetd does it: the farms applied without server 1 first */
	if (!CHECK(!down_farm(F_FORGET, V_FORGET, LB_STICKY_SOURCE_IP, 700, false, false),
		   "sourceIp farm, server 1 down") ||
	    !CHECK(!down_farm(F_FORGET_NULL, V_FORGET_NULL, LB_STICKY_NONE, 800, false, false),
		   "null farm, server 1 down") ||
	    !CHECK(!dataplane_sticky_census(dp, &s0) && !dataplane_conn_census(dp, &c0),
		   "census before") ||
	    !CHECK(!dataplane_forget_servers(dp, fg, 3), "forget") ||
	    !CHECK(!dataplane_sticky_census(dp, &s1) && !dataplane_conn_census(dp, &c1),
		   "census after"))
		goto out;
	CHECK(!ss[0] && !sc[0] && ss[1] && sc[1], "want every packet forwarded and server 1 "
	      "used: sources %d lost, %d on 1; flows %d lost, %d on 1", ss[0], ss[1], sc[0], sc[1]);
	CHECK(fg[0].sticky == (uint64_t)ss[1] && !fg[0].conns, "sourceIp server 701: want %d "
	      "sticky entries and 0 connections removed, got %llu and %llu", ss[1],
	      (unsigned long long)fg[0].sticky, (unsigned long long)fg[0].conns);
	CHECK(fg[1].conns == (uint64_t)sc[1] && !fg[1].sticky, "null server 801: want %d "
	      "connections and 0 sticky entries removed, got %llu and %llu", sc[1],
	      (unsigned long long)fg[1].conns, (unsigned long long)fg[1].sticky);
	CHECK(!fg[2].sticky && !fg[2].conns, "server 799 (no such server): want nothing removed");
	census_counts(&s1, F_FORGET, 700, as);
	census_counts(&c1, F_FORGET_NULL, 800, ac);
	CHECK(!as[1] && !ac[1], "server 1: want no entry left, %d sticky and %d connections",
	      as[1], ac[1]);
	for (int k = 2; k <= NBACKENDS; k++)
		CHECK(as[k] == ss[k] && ac[k] == sc[k], "server %d: want its %d sources and %d "
		      "flows intact, got %d and %d", k, ss[k], sc[k], as[k], ac[k]);
	/* every other farm's entries: the totals less what was removed */
	other_s = s0.entries - ss[1];
	other_c = c0.entries - sc[1];
	CHECK(s1.entries == other_s && c1.entries == other_c, "tables: want %llu sticky and "
	      "%llu connection entries left, got %llu and %llu", (unsigned long long)other_s,
	      (unsigned long long)other_c, (unsigned long long)s1.entries,
	      (unsigned long long)c1.entries);
	CHECK(dataplane_forget_servers(dp, &fg[2], 1) == -ENOENT, "forgetting only a server "
	      "no farm has: want -ENOENT");
out:
	tap_end("forget servers: their sticky and connection entries are gone, the others intact");
	dp_census_free(&s0);
	dp_census_free(&c0);
	dp_census_free(&s1);
	dp_census_free(&c1);
}

/* --- failure verdicts and counters ---------------------------------------------------- */
static void test_odd_farm(const char *name, int family, const char *addr, bool eligible,
			  uint8_t fwd, size_t payload, int want_action, enum lb_reason why)
{
	struct dp_server sv = { .id = 9, .family = family, .weight = 1, .eligible = eligible };
	struct dp_farm f = { .slot = farm_of(family, F_ODD), .seed = SEED, .forwarding = fwd,
			     .stickiness = LB_STICKY_SOURCE_IP, .nservers = 1, .servers = &sv };
	struct pkt_spec spec = { .family = family, .proto = IPPROTO_UDP, .sport = 1, .dport = 80,
				 .payload_len = payload };
	char buf[PKT_WHY_LEN];
	uint64_t before = reason_count(why);
	struct pkt p;
	struct run r;

	tap_begin();
	if (family == LB_V4)
		pkt_addr4(sv.addr, addr);
	else
		pkt_addr6(sv.addr, addr);
	CHECK(!dataplane_farm_set(dp, &f), "farm");
	client_addr(family, 5, spec.src);
	vip_addr(family, V_ODD, spec.dst);
	pkt_build(&p, &spec);
	if (CHECK(!run(&p, &r), "test_run")) {
		CHECK(r.action == want_action, "want action %d, got %d", want_action, r.action);
		if (want_action == XDP_PASS)
			CHECK(pkt_check_same(&p, r.out, r.out_len, buf), "%s", buf);
		CHECK(reason_count(why) == before + 1, "want counter %s to move",
		      dataplane_reason_name(why));
	}
	tap_end(name);
}

/* A VIP rewritten in place is seen by the very next packet: the balancer's per-CPU copies of
 * vips entries (vip_cache) go stale with the write. V_RANGE turns http (passed up, L7) and
 * back. */
static void test_vip_change_seen(int family)
{
	struct pkt_spec spec = { .family = family, .proto = IPPROTO_TCP, .sport = 7,
				 .dport = 8050, .tcp_flags = ACK };
	uint64_t l7 = reason_count(LB_R_L7);
	struct pkt p;
	struct run r;
	int o = family == LB_V6 ? 8 : 0;

	tap_begin();
	client_addr(family, 6, spec.src);
	vip_addr(family, V_RANGE, spec.dst);
	pkt_build(&p, &spec);
	CHECK(!run(&p, &r) && backend_of(&r), "before: not forwarded");
	CHECK(!add_vip(family, V_RANGE, F_SRC_DSR + o, 8000, 8100, LB_VIP_F_L7, false), "to L7");
	CHECK(!run(&p, &r) && r.action == XDP_PASS && reason_count(LB_R_L7) == l7 + 1,
	      "after the change to http: want pass (l7), got action %d", r.action);
	CHECK(!add_vip(family, V_RANGE, F_SRC_DSR + o, 8000, 8100, 0, false), "back");
	CHECK(!run(&p, &r) && backend_of(&r), "after the change back: not forwarded");
	tap_end(family == LB_V4 ? "vip rewritten: the next packet sees it"
				: "ipv6 vip rewritten: the next packet sees it");
}

/* Read the sysctl at path into old (NUL-terminated, newline cut), then write val. */
static int sysctl_swap(const char *path, const char *val, char old[16])
{
	int fd = open(path, O_RDWR), err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, old, 15, 0);
	if (n <= 0)
		err = n ? -errno : -EIO;
	else
		old[strcspn(old, "\n")] = old[n] = 0;
	if (!err && pwrite(fd, val, strlen(val), 0) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* IP forwarding off on the ingress device: bpf_fib_lookup refuses to route, and the pass is
 * counted as such (the sysctl is restored after: the other cases forward through lb0). */
static void test_fwd_disabled(const char *name, int family, const char *addr)
{
	char path[64], was[16], off[16];
	int err;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv%d/conf/lb0/forwarding", family);
	err = sysctl_swap(path, "0", was);
	if (err) {
		tap_begin();
		CHECK(false, "turning %s off: %s", path, strerror(-err));
		tap_end(name);
		return;
	}
	test_odd_farm(name, family, addr, true, LB_FWD_DSR, 0, XDP_PASS, LB_R_FIB_FWD_DISABLED);
	err = sysctl_swap(path, was, off);
	if (err)
		fprintf(stderr, "test_xdp: restoring %s to %s: %s\n", path, was, strerror(-err));
}

static void test_counters(void)
{
	struct lb_counter vip0, vip1, s0[NBACKENDS], s1[NBACKENDS];
	uint64_t served = 0, bytes = 0;
	uint32_t frontend = V_VLAN * 16 + LB_V4;
	int f = F_VLAN;

	tap_begin();
	dataplane_vip_stats(dp, frontend, &vip0);
	for (int k = 0; k < 2; k++)
		dataplane_server_stats(dp, f, k + 1, &s0[k]);
	for (int i = 0; i < 100; i++)
		pick(LB_V4, V_VLAN, 20000 + i, 1, ACK);
	dataplane_vip_stats(dp, frontend, &vip1);
	for (int k = 0; k < 2; k++) {
		dataplane_server_stats(dp, f, k + 1, &s1[k]);
		served += s1[k].packets - s0[k].packets;
		bytes += s1[k].bytes - s0[k].bytes;
	}
	CHECK(vip1.packets - vip0.packets == 100, "vip packets: want 100, got %llu",
	      (unsigned long long)(vip1.packets - vip0.packets));
	CHECK(vip1.bytes - vip0.bytes == 100 * 54, "vip bytes: want %d, got %llu", 100 * 54,
	      (unsigned long long)(vip1.bytes - vip0.bytes));
	CHECK(served == 100 && bytes == 100 * 54, "servers: want 100 packets / 5400 bytes, got "
	      "%llu / %llu", (unsigned long long)served, (unsigned long long)bytes);
	tap_end("per-VIP and per-server counters count packets and bytes");
}

int main(void)
{
	struct pkt_spec trunc4 = V4(.dst[3] = V_SRC_IPIP, .ip_opt_len = 8, .payload_len = 4);
	struct pkt_spec trunc6 = V6(.proto = IPPROTO_UDP, .dst[3] = V_SRC_DSR, .payload_len = 4);
	struct pkt_spec truncv = V4(.dst[3] = V_VLAN, .vlan = 9, .payload_len = 4);
	struct pkt_spec truncf = V6(.dst[3] = V_SRC_DSR, .more_frags = true, .payload_len = 4);

	log_route_libs();
	if (setup())
		return 1;
	test_cases();
	fill_case(&trunc4);
	fill_case(&trunc6);
	fill_case(&truncv);
	fill_case(&truncf);
	test_truncated("tcp4 with options truncated at every length -> pass untouched", &trunc4);
	test_truncated("udp6 truncated at every length -> pass untouched", &trunc6);
	test_truncated("vlan tcp4 truncated at every length -> pass untouched", &truncv);
	test_truncated("ipv6 first fragment truncated at every length -> pass untouched", &truncf);
	test_malformed();
	test_odd_farm("server without a neighbour entry -> pass, no neigh", LB_V4, "198.18.1.99",
		      true, LB_FWD_DSR, 0, XDP_PASS, LB_R_FIB_NO_NEIGH);
	test_odd_farm("ipv6 server without a neighbour entry -> pass, no neigh", LB_V6,
		      "2001:2::1:99", true, LB_FWD_IPIP, 0, XDP_PASS, LB_R_FIB_NO_NEIGH);
	test_odd_farm("server without a route -> pass, no route", LB_V4, "198.19.0.1", true,
		      LB_FWD_IPIP, 0, XDP_PASS, LB_R_FIB_NO_ROUTE);
	test_odd_farm("ipv6 server without a route -> pass, no route", LB_V6, "2001:2:0:400::1",
		      true, LB_FWD_DSR, 0, XDP_PASS, LB_R_FIB_NO_ROUTE);
	test_odd_farm("server behind a router in dsr mode -> pass, off-link", LB_V4, "198.18.3.1",
		      true, LB_FWD_DSR, 0, XDP_PASS, LB_R_FIB_OFFLINK);
	test_odd_farm("ipv6 server behind a router in dsr mode -> pass, off-link", LB_V6,
		      "2001:2:0:300::1", true, LB_FWD_DSR, 0, XDP_PASS, LB_R_FIB_OFFLINK);
	test_odd_farm("server behind a router in ipip mode is forwarded to the router", LB_V4,
		      "198.18.3.1", true, LB_FWD_IPIP, 0, XDP_TX, LB_R_TX);
	test_fwd_disabled("forwarding off on lb0 -> pass, fwd disabled", LB_V4, "198.18.1.12");
	test_fwd_disabled("ipv6 forwarding off on lb0 -> pass, fwd disabled", LB_V6,
			  "2001:2::1:12");
	test_odd_farm("no eligible server -> drop", LB_V4, "198.18.1.11", false, LB_FWD_DSR, 0,
		      XDP_DROP, LB_R_NO_SERVER);
	test_odd_farm("ipip over the egress MTU -> drop, too big", LB_V4, "198.18.1.11", true,
		      LB_FWD_IPIP, 1500 - 28, XDP_DROP, LB_R_TOO_BIG);
	test_odd_farm("ipip6 at the egress MTU is forwarded", LB_V6, "2001:2::1:11", true,
		      LB_FWD_IPIP, 1500 - 48 - 40, XDP_TX, LB_R_TX);
	test_counters();
	test_vip_change_seen(LB_V4);
	test_vip_change_seen(LB_V6);
	test_sticky_census();
	test_conn_census();
	test_keep_flows();
	test_forget_servers();
	test_fragments_follow_source(LB_V4);
	test_fragments_follow_source(LB_V6);
	test_same_source_same_server(LB_V4);
	test_same_source_same_server(LB_V6);
	test_spread_by_weight();
	test_weight_change_keeps_known_sources();
	test_disable_moves_only_its_sources();
	test_enable_moves_nobody();
	test_null_flows_stay();
	test_syn_flood_keeps_known_sources();
	dataplane_close(dp);
	return tap_done();
}
