// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The applier (user/apply.c): configs parsed from JSON are applied to a loaded (not attached)
 * balancer, and what they did is read from what the program does with packets
 * (BPF_PROG_TEST_RUN): the verdict reason it counts and, when it forwards, which server's
 * counter moves (dataplane_server_stats).
 *
 * A server's counter only moves when its packet is really forwarded, so the test runs in the
 * LB namespace of the rig (scripts/rig.sh run --backends 9 --static-neigh): the servers
 * 198.18.1.1x / 2001:2::1:1x are on-link behind lb0 with permanent neighbours, and packets
 * come in on lb0: a packet to a VIP ends as XDP_TX (LB_R_TX) and counts on its server.
 *
 * JSON in this file is written with single quotes, which the helpers turn into double quotes.
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP; our own diagnostics are "# " lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "apply/apply.h"
#include "config/config.h"
#include "dataplane/dataplane.h"
#include "common/log.h"
#include "pkt.h"
#include "helpers.h"

#define CFG_MAX		8
#define CLIENT		"198.18.200.7"	/* a client source; 198.18.201.x are outside the ACLs */

static int ifindex_lb0;

struct fixture {
	struct dataplane *dp;
	struct applier *ap;
	struct config *cfg[CFG_MAX];	/* the applier borrows them: freed at teardown */
	size_t ncfg;
};

static struct fixture *fx;

/* --- the namespace ------------------------------------------------------------------------- */

static int net_setup(void **state)
{
	(void)state;
	ifindex_lb0 = if_nametoindex("lb0");
	if (!ifindex_lb0) {
		printf("# no lb0: run me in the rig's LB namespace (scripts/rig.sh run --backends 9 "
		       "--static-neigh -- scripts/rig.sh exec lb %s)\n", "build/test_apply");
		return -1;
	}
	log_set_level(LOG_LVL_ERROR);
	return 0;
}

/* --- per test: a fresh balancer and applier ------------------------------------------------- */

static int fx_setup(void **state)
{
	/* small tables: this loads once per test */
	struct dataplane_opts o = { .sticky_buckets = 1024, .conn_max = 1024 };
	int err;

	fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	err = dataplane_open(&fx->dp, &o);
	err = err ?: applier_new(&fx->ap);
	if (err) {
		printf("# setup: %s\n", strerror(-err));
		return -1;
	}
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	(void)state;
	applier_free(fx->ap);
	dataplane_close(fx->dp);
	for (size_t i = 0; i < fx->ncfg; i++)
		config_free(fx->cfg[i]);
	free(fx);
	fx = NULL;
	return 0;
}

/* --- configs ------------------------------------------------------------------------------- */

/* Parse a single-quoted document, expecting success; the fixture keeps it. */
static struct config *cfg(const char *sq)
{
	assert_true(fx->ncfg < CFG_MAX);
	fx->cfg[fx->ncfg] = parse_sq(sq);
	return fx->cfg[fx->ncfg++];
}

static void apply_ok(const char *what, const char *sq, struct apply_counts *counts)
{
	struct apply_counts ignored;
	int err = applier_apply(fx->ap, fx->dp, cfg(sq), counts ? counts : &ignored);

	if (err)
		fail_msg("%s: applier_apply: expected 0, got %d (%s)", what, err, strerror(-err));
}

/* --- packets ------------------------------------------------------------------------------- */

static void addr_of(const char *s, int *family, uint32_t out[4])
{
	memset(out, 0, 16);
	if (strchr(s, ':')) {
		*family = LB_V6;
		pkt_addr6(out, s);
	} else {
		*family = LB_V4;
		pkt_addr4(out, s);
	}
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/*
 * Run one packet src -> dst:port through the balancer, coming in on lb0; returns the one
 * verdict reason it counted (a run that counts none or several fails the test).
 */
static enum lb_reason send_pkt(const char *src, const char *dst, uint8_t proto, uint16_t port)
{
	struct lb_counter before[LB_R_MAX], after[LB_R_MAX];
	struct pkt_spec s = { .proto = proto, .sport = 40000, .dport = port, .payload_len = 32 };
	static uint8_t out[PKT_MAX + 64];
	struct xdp_md ctx = { .ingress_ifindex = ifindex_lb0 };
	enum lb_reason got = LB_R_MAX;
	struct pkt p;
	int family2;
	int err;

	addr_of(src, &s.family, s.src);
	addr_of(dst, &family2, s.dst);
	assert_int_equal(s.family, family2);
	pkt_build(&p, &s);
	ctx.data_end = p.len;

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.data, .data_size_in = p.len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	assert_int_equal(dataplane_verdicts(fx->dp, before), 0);
	err = bpf_prog_test_run_opts(dataplane_prog_fd(fx->dp), &o);
	if (err)
		fail_msg("BPF_PROG_TEST_RUN %s -> %s %s:%u: %s", src, proto_name(proto), dst, port,
			 strerror(errno));
	assert_int_equal(dataplane_verdicts(fx->dp, after), 0);
	for (int r = 0; r < LB_R_MAX; r++) {
		uint64_t d = after[r].packets - before[r].packets;

		if (!d)
			continue;
		if (d != 1 || got != LB_R_MAX)
			fail_msg("%s -> %s %s:%u: expected one verdict counted, got %s +%llu",
				 src, proto_name(proto), dst, port, dataplane_reason_name(r),
				 (unsigned long long)d);
		got = r;
	}
	if (got == LB_R_MAX)
		fail_msg("%s -> %s %s:%u: expected one verdict counted, got none", src,
			 proto_name(proto), dst, port);
	return got;
}

static void expect_from(enum lb_reason want, const char *src, const char *dst, uint8_t proto,
			uint16_t port, const char *what)
{
	enum lb_reason got = send_pkt(src, dst, proto, port);

	if (got != want)
		fail_msg("%s: %s -> %s %s:%u: expected %s, got %s", what, src, proto_name(proto),
			 dst, port, dataplane_reason_name(want), dataplane_reason_name(got));
}

static void expect(enum lb_reason want, const char *dst, uint8_t proto, uint16_t port,
		   const char *what)
{
	expect_from(want, strchr(dst, ':') ? "2001:2:0:200::7" : CLIENT, dst, proto, port, what);
}

/* The i-th client 198.18.200.i */
static const char *client(int i)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "198.18.200.%d", i);
	return buf;
}

/* --- counters ------------------------------------------------------------------------------ */

static bool server_in(uint32_t farm_slot, uint32_t id)
{
	return dataplane_server_key(fx->dp, farm_slot, id) != 0;
}

static uint64_t server_packets(uint32_t farm_slot, uint32_t id)
{
	struct lb_counter c;
	int err = dataplane_server_stats(fx->dp, farm_slot, id, &c);

	if (err)
		fail_msg("server %u in farm slot %u: expected counters, got %s", id, farm_slot,
			 strerror(-err));
	return c.packets;
}

static uint64_t vip_packets(uint32_t frontend_slot)
{
	struct lb_counter c;

	assert_int_equal(dataplane_vip_stats(fx->dp, frontend_slot, &c), 0);
	return c.packets;
}

static void expect_num(unsigned long long got, unsigned long long want, const char *what)
{
	if (got != want)
		fail_msg("%s: expected %llu, got %llu", what, want, got);
}

/* --- 1. a config applies ------------------------------------------------------------------- */

static const char basic[] =
	"{'serviceName': 'apply', 'tcp': {'frontend': ["
	"  {'frontendId': 1, 'address': '198.18.100.1', 'port': '80,443,8000-8002',"
	"   'defaultFarmId': 1},"
	"  {'frontendId': 2, 'address': '198.18.100.2', 'port': '80', 'defaultFarmId': 1,"
	"   'disabled': true},"
	"  {'frontendId': 3, 'address': '2001:2:0:100::1', 'port': '80', 'defaultFarmId': 2,"
	"   'allowedSource': ['2001:2:0:200::/64']}],"
	" 'farm': ["
	"  {'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'},"
	"   {'serverId': 2, 'address': '198.18.1.12'},"
	"   {'serverId': 3, 'address': '198.18.1.13', 'status': 'inactive'}]},"
	"  {'farmId': 2, 'stickiness': 'sourceIp',"
	"   'server': [{'serverId': 1, 'address': '2001:2::1:11'}]}]},"
	" 'udp': {'frontend': ["
	"  {'frontendId': 1, 'address': '198.18.100.1', 'port': '53', 'defaultFarmId': 1}],"
	" 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.14'}]}]}}";

static void test_config_applies_enabled_vips_answer_and_counts_are_right(void **state)
{
	struct apply_counts c;

	(void)state;
	apply_ok("basic", basic, &c);
	expect_num(c.farms, 3, "counts.farms (tcp 1, 2 and udp 1)");
	expect_num(c.servers, 5, "counts.servers");
	expect_num(c.eligible, 4, "counts.eligible (one server inactive)");
	expect_num(c.frontends, 4, "counts.frontends (all configured, disabled too)");
	expect_num(c.vip_keys, 2 + 3 + 1 + 1, "counts.vip_keys (80, 443, 8000-8002; v6 80; udp 53)");
	expect_num(c.acl, 1, "counts.acl");

	/* a list and a range: each port, the first and last of the range; not around them */
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "first port of a list");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 443, "second port of a list");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 8000, "first port of a range");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 8002, "last port of a range");
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_TCP, 8003, "past the end of a range");
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_TCP, 7999, "before a range");
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_TCP, 81, "between list entries");
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_TCP, 53, "udp port asked over tcp");
	/* udp frontend, same address */
	expect(LB_R_TX, "198.18.100.1", IPPROTO_UDP, 53, "udp frontend");
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_UDP, 80, "tcp port asked over udp");
	/* disabled frontend */
	expect(LB_R_NOT_VIP, "198.18.100.2", IPPROTO_TCP, 80, "disabled frontend");
	/* IPv6, with an allowedSource list */
	expect(LB_R_TX, "2001:2:0:100::1", IPPROTO_TCP, 80, "IPv6 frontend");
	expect_from(LB_R_ACL, "2001:2:0:201::7", "2001:2:0:100::1", IPPROTO_TCP, 80,
		    "IPv6 source outside allowedSource");

	/* the inactive server never takes traffic */
	for (int i = 1; i <= 32; i++)
		expect_from(LB_R_TX, client(i), "198.18.100.1", IPPROTO_TCP, 80, "client i");
	expect_num(server_packets(0, 3), 0, "packets on inactive server 3");
	expect_num(server_packets(0, 1) + server_packets(0, 2), 32 + 4,
		   "packets on tcp farm 1's servers 1 and 2");
}

/* --- 2. pruning ---------------------------------------------------------------------------- */

/* tcp farms 1 (slot 0) and 2 (slot 1), udp farm 1 (slot 2); frontends 1, 2 and udp 1 */
#define TWO_FARMS_FARMS                                                                     \
	" 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]},"    \
	"  {'farmId': 2, 'server': [{'serverId': 2, 'address': '198.18.1.12'}]}]},"
#define UDP_ONE                                                                             \
	" 'udp': {'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '53',"   \
	"  'defaultFarmId': 1}],"                                                            \
	"  'farm': [{'farmId': 1, 'server': [{'serverId': 3, 'address': '198.18.1.13'}]}]}}"
#define FE_1 "{'frontendId': 1, 'address': '198.18.100.1', 'port': '80', 'defaultFarmId': 1}"
#define FE_2 "{'frontendId': 2, 'address': '198.18.100.2', 'port': '80-81', 'defaultFarmId': 2}"

static const char two_farms[] =
	"{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "," FE_2 "]," TWO_FARMS_FARMS
	UDP_ONE;

static void expect_two_farms_answer(void)
{
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "frontend 1");
	expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 80, "frontend 2, port 80");
	expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 81, "frontend 2, port 81");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_UDP, 53, "udp frontend 1");
}

static void test_reapply_without_a_frontend_prunes_exactly_its_vip_keys(void **state)
{
	struct apply_counts c;

	(void)state;
	apply_ok("two farms", two_farms, NULL);
	expect_two_farms_answer();

	apply_ok("frontend 2 removed",
		 "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "]," TWO_FARMS_FARMS UDP_ONE,
		 &c);
	expect_num(c.vip_keys, 2, "counts.vip_keys");
	expect(LB_R_NOT_VIP, "198.18.100.2", IPPROTO_TCP, 80, "removed frontend 2, port 80");
	expect(LB_R_NOT_VIP, "198.18.100.2", IPPROTO_TCP, 81, "removed frontend 2, port 81");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "frontend 1 still answers");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_UDP, 53, "udp frontend 1 still answers");
	if (!server_in(1, 2))
		fail_msg("tcp farm 2 (slot 1) lost its frontend only: expected it kept, got none");
}

static void test_reapply_without_a_farm_removes_its_vips_and_deletes_it(void **state)
{
	struct apply_counts c;

	(void)state;
	apply_ok("two farms", two_farms, NULL);
	expect_two_farms_answer();
	if (!server_in(1, 2))
		fail_msg("tcp farm 2: expected in slot 1, got no server 2 there");

	apply_ok("farm 2 and its frontend removed",
		 "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "],"
		 " 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]}]},"
		 UDP_ONE, &c);
	expect_num(c.farms, 2, "counts.farms");
	expect(LB_R_NOT_VIP, "198.18.100.2", IPPROTO_TCP, 80, "frontend of removed farm, port 80");
	expect(LB_R_NOT_VIP, "198.18.100.2", IPPROTO_TCP, 81, "frontend of removed farm, port 81");
	if (server_in(1, 2))
		fail_msg("removed tcp farm 2 (slot 1): expected deleted, got its server 2 still "
			 "there");
	if (!server_in(0, 1) || !server_in(2, 3))
		fail_msg("tcp farm 1 / udp farm 1: expected kept in slots 0 / 2, got %s / %s",
			 server_in(0, 1) ? "kept" : "gone", server_in(2, 3) ? "kept" : "gone");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "frontend 1 still answers");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_UDP, 53, "udp frontend 1 still answers");
}

/* --- 3. allowedSource ---------------------------------------------------------------------- */

#define FARM_1 " 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]}]}}"

static void test_allowed_source_filters_and_removing_the_list_lifts_it(void **state)
{
	(void)state;
	apply_ok("acl", "{'serviceName': 'apply', 'tcp': {'frontend': ["
		 " {'frontendId': 1, 'address': '198.18.100.1', 'port': '80', 'defaultFarmId': 1,"
		 "  'allowedSource': ['198.18.200.0/24', '203.0.113.9']},"
		 " {'frontendId': 2, 'address': '198.18.100.2', 'port': '80',"
		 "  'defaultFarmId': 1}]," FARM_1, NULL);
	expect_from(LB_R_TX, "198.18.200.7", "198.18.100.1", IPPROTO_TCP, 80, "source in a /24");
	expect_from(LB_R_TX, "203.0.113.9", "198.18.100.1", IPPROTO_TCP, 80, "listed address");
	expect_from(LB_R_ACL, "198.18.201.7", "198.18.100.1", IPPROTO_TCP, 80, "unlisted source");
	expect_from(LB_R_ACL, "203.0.113.10", "198.18.100.1", IPPROTO_TCP, 80,
		    "next to a listed address");
	expect_from(LB_R_TX, "198.18.201.7", "198.18.100.2", IPPROTO_TCP, 80,
		    "frontend without allowedSource");

	apply_ok("acl removed", "{'serviceName': 'apply', 'tcp': {'frontend': ["
		 " {'frontendId': 1, 'address': '198.18.100.1', 'port': '80', 'defaultFarmId': 1},"
		 " {'frontendId': 2, 'address': '198.18.100.2', 'port': '80',"
		 "  'defaultFarmId': 1}]," FARM_1, NULL);
	expect_from(LB_R_TX, "198.18.201.7", "198.18.100.1", IPPROTO_TCP, 80,
		    "formerly unlisted source, list removed");
	expect_from(LB_R_TX, "198.18.200.7", "198.18.100.1", IPPROTO_TCP, 80,
		    "formerly listed source, list removed");
}

static void test_allowed_source_of_a_removed_frontend_is_pruned(void **state)
{
	uint64_t before;

	(void)state;
	/* frontend 2 (slot 1) allows 198.18.200.0/24 */
	apply_ok("frontend 2 with acl", "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 ","
		 " {'frontendId': 2, 'address': '198.18.100.2', 'port': '80', 'defaultFarmId': 1,"
		 "  'allowedSource': ['198.18.200.0/24']}]," FARM_1, NULL);
	expect_from(LB_R_TX, "198.18.200.7", "198.18.100.2", IPPROTO_TCP, 80, "allowed source");
	apply_ok("frontend 2 removed",
		 "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "]," FARM_1, NULL);
	/* frontend 4 takes the slot frontend 2 had, with a list of its own */
	apply_ok("frontend 4 with another acl", "{'serviceName': 'apply', 'tcp': {'frontend': ["
		 FE_1 ", {'frontendId': 4, 'address': '198.18.100.4', 'port': '80',"
		 "  'defaultFarmId': 1, 'allowedSource': ['198.18.202.0/24']}]," FARM_1, NULL);
	before = vip_packets(1);
	expect_from(LB_R_TX, "198.18.202.7", "198.18.100.4", IPPROTO_TCP, 80,
		    "source frontend 4 allows");
	if (vip_packets(1) != before + 1)
		fail_msg("frontend 4: expected in slot 1 (frontend 2's), got slot 1's counter "
			 "+%llu", (unsigned long long)(vip_packets(1) - before));
	expect_from(LB_R_ACL, "198.18.200.7", "198.18.100.4", IPPROTO_TCP, 80,
		    "source only the removed frontend 2 allowed");
}

/* --- 4. slots, inactive and backup servers ------------------------------------------------- */

static void test_farm_slots_are_lowest_free_in_config_order_tcp_then_udp(void **state)
{
	static const struct { uint32_t slot, id; const char *farm; } want[] = {
		{ 0, 71, "tcp farm 7" }, { 1, 11, "tcp farm 1" }, { 2, 51, "udp farm 5" },
		{ 3, 21, "udp farm 2" },
	};

	(void)state;
	apply_ok("four farms", "{'serviceName': 'apply',"
		 " 'tcp': {'farm': [{'farmId': 7, 'server': [{'serverId': 71, 'address': '198.18.1.11'}]},"
		 "  {'farmId': 1, 'server': [{'serverId': 11, 'address': '198.18.1.12'}]}]},"
		 " 'udp': {'farm': [{'farmId': 5, 'server': [{'serverId': 51, 'address': '198.18.1.13'}]},"
		 "  {'farmId': 2, 'server': [{'serverId': 21, 'address': '198.18.1.14'}]}]}}", NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (uint32_t s = 0; s < 5; s++) {
			if (server_in(s, want[i].id) != (s == want[i].slot))
				fail_msg("%s (server %u): expected in slot %u only, got %s in slot %u",
					 want[i].farm, want[i].id, want[i].slot,
					 server_in(s, want[i].id) ? "present" : "absent", s);
		}
	}
}

/* tcp farm 1 (slot 0): servers 1 and 3 primary, 2 backup; status of each given */
static const char *backup_cfg(const char *s1, const char *s2, const char *s3)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "],"
		 " 'farm': [{'farmId': 1, 'server': ["
		 "  {'serverId': 1, 'address': '198.18.1.11', 'status': '%s'},"
		 "  {'serverId': 2, 'address': '198.18.1.12', 'status': '%s', 'backup': true},"
		 "  {'serverId': 3, 'address': '198.18.1.13', 'status': '%s'}]}]}}",
		 s1, s2, s3);
	return buf;
}

/* Send n packets from distinct clients to frontend 1; how many each server of slot 0 got. */
static void spread(int n, uint64_t got[4])
{
	uint64_t before[4];

	for (uint32_t id = 1; id <= 3; id++)
		before[id] = server_packets(0, id);
	for (int i = 1; i <= n; i++)
		expect_from(LB_R_TX, client(i), "198.18.100.1", IPPROTO_TCP, 80, "client");
	for (uint32_t id = 1; id <= 3; id++)
		got[id] = server_packets(0, id) - before[id];
}

static void test_all_servers_inactive_drops_no_server(void **state)
{
	struct apply_counts c;

	(void)state;
	apply_ok("all inactive", backup_cfg("inactive", "inactive", "inactive"), &c);
	expect_num(c.eligible, 0, "counts.eligible");
	expect(LB_R_NO_SERVER, "198.18.100.1", IPPROTO_TCP, 80, "farm with every server inactive");
	expect_from(LB_R_NO_SERVER, "198.18.200.99", "198.18.100.1", IPPROTO_TCP, 80,
		    "another client");
}

static void test_backup_takes_traffic_only_without_an_active_primary(void **state)
{
	uint64_t got[4];

	(void)state;
	apply_ok("all active", backup_cfg("active", "active", "active"), NULL);
	spread(40, got);
	if (got[2] || got[1] + got[3] != 40 || !got[1] || !got[3])
		fail_msg("primaries 1, 3 and backup 2 active: expected 40 packets on 1 and 3 "
			 "(both some), none on 2, got %llu / %llu / %llu", (unsigned long long)got[1],
			 (unsigned long long)got[2], (unsigned long long)got[3]);

	apply_ok("primary 1 inactive", backup_cfg("inactive", "active", "active"), NULL);
	spread(40, got);
	if (got[1] || got[2] || got[3] != 40)
		fail_msg("primary 3 the only active one: expected 0 / 0 / 40 on servers 1 / 2 / 3, "
			 "got %llu / %llu / %llu", (unsigned long long)got[1],
			 (unsigned long long)got[2], (unsigned long long)got[3]);

	apply_ok("both primaries inactive", backup_cfg("inactive", "active", "inactive"), NULL);
	spread(40, got);
	if (got[1] || got[2] != 40 || got[3])
		fail_msg("no primary active: expected 0 / 40 / 0 on servers 1 / 2 / 3 (the backup), "
			 "got %llu / %llu / %llu", (unsigned long long)got[1],
			 (unsigned long long)got[2], (unsigned long long)got[3]);

	apply_ok("primary 1 back", backup_cfg("active", "active", "inactive"), NULL);
	spread(40, got);
	if (got[1] != 40 || got[2] || got[3])
		fail_msg("primary 1 active again: expected 40 / 0 / 0 on servers 1 / 2 / 3, "
			 "got %llu / %llu / %llu", (unsigned long long)got[1],
			 (unsigned long long)got[2], (unsigned long long)got[3]);

	apply_ok("backup inactive too", backup_cfg("inactive", "inactive", "inactive"), NULL);
	expect(LB_R_NO_SERVER, "198.18.100.1", IPPROTO_TCP, 80, "every server inactive");
}

/* --- 4b. probe state (issue 7) ---------------------------------------------------------------- */

static bool probe_down[4];	/* tcp farm 1's servers 1..3, as the fake prober has them */

static bool fake_probe(void *arg, enum cfg_layer l, uint32_t farm, uint32_t server)
{
	(void)arg;
	return !(l == CFG_TCP && farm == 1 && server < 4 && probe_down[server]);
}

/* backup_cfg() with every server active and server 1's onMarkedDown as given ('' for none) */
static const char *marked_cfg(const char *on_marked_down)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "],"
		 " 'farm': [{'farmId': 1, 'server': ["
		 "  {'serverId': 1, 'address': '198.18.1.11'%s%s%s},"
		 "  {'serverId': 2, 'address': '198.18.1.12', 'backup': true},"
		 "  {'serverId': 3, 'address': '198.18.1.13'}]}]}}",
		 *on_marked_down ? ", 'onMarkedDown': '" : "", on_marked_down,
		 *on_marked_down ? "'" : "");
	return buf;
}

/* spread() from clients first..first+n-1 */
static void spread_from(int first, int n, uint64_t got[4])
{
	uint64_t before[4];

	for (uint32_t id = 1; id <= 3; id++)
		before[id] = server_packets(0, id);
	for (int i = first; i < first + n; i++)
		expect_from(LB_R_TX, client(i), "198.18.100.1", IPPROTO_TCP, 80, "client");
	for (uint32_t id = 1; id <= 3; id++)
		got[id] = server_packets(0, id) - before[id];
}

static void test_probe_down_takes_no_new_flow_keeps_established_unless_shutdown(void **state)
{
	uint64_t base[4], got[4];
	struct apply_counts c;

	(void)state;
	memset(probe_down, 0, sizeof(probe_down));
	applier_set_probe(fx->ap, fake_probe, NULL);
	apply_ok("every server up", marked_cfg(""), &c);
	expect_num(c.eligible, 2, "counts.eligible (primaries 1 and 3)");
	spread_from(1, 40, base);
	if (!base[1] || !base[3] || base[2])
		fail_msg("40 flows: expected some on 1 and 3, none on backup 2; got %llu / %llu / "
			 "%llu", (unsigned long long)base[1], (unsigned long long)base[2],
			 (unsigned long long)base[3]);

	probe_down[1] = true;
	apply_ok("server 1 down (the same config again)", marked_cfg(""), &c);
	expect_num(c.eligible, 1, "counts.eligible (server 1 down)");
	spread_from(1, 40, got);
	if (memcmp(got + 1, base + 1, 3 * sizeof(*got)))
		fail_msg("server 1 down without shutdown-sessions: expected its established flows "
			 "to stay (%llu / %llu / %llu), got %llu / %llu / %llu",
			 (unsigned long long)base[1], (unsigned long long)base[2],
			 (unsigned long long)base[3], (unsigned long long)got[1],
			 (unsigned long long)got[2], (unsigned long long)got[3]);
	spread_from(101, 40, got);
	if (got[3] != 40)
		fail_msg("server 1 down: expected 40 new flows on 3, got %llu / %llu / %llu",
			 (unsigned long long)got[1], (unsigned long long)got[2],
			 (unsigned long long)got[3]);

	apply_ok("server 1 down, shutdown-sessions", marked_cfg("shutdown-sessions"), &c);
	spread_from(1, 40, got);
	if (got[1] || got[2] || got[3] != 40)
		fail_msg("server 1 down with shutdown-sessions: expected its flows on 3 too (0 / 0 "
			 "/ 40), got %llu / %llu / %llu", (unsigned long long)got[1],
			 (unsigned long long)got[2], (unsigned long long)got[3]);
}

static void test_backup_takes_over_while_every_primary_probe_is_down(void **state)
{
	const struct config *c1;
	struct apply_counts c;
	uint64_t got[4];

	(void)state;
	memset(probe_down, 0, sizeof(probe_down));
	applier_set_probe(fx->ap, fake_probe, NULL);
	probe_down[1] = probe_down[3] = true;
	c1 = cfg(marked_cfg(""));
	assert_int_equal(applier_apply(fx->ap, fx->dp, c1, &c), 0);
	expect_num(c.eligible, 1, "counts.eligible (the backup alone)");
	if (farm_primary_up(fx->ap, CFG_TCP, &c1->layer[CFG_TCP].farms[0]))
		fail_msg("farm_primary_up: expected false with both primaries down");
	spread_from(1, 40, got);
	if (got[1] || got[2] != 40 || got[3])
		fail_msg("primaries down: expected 0 / 40 / 0 on servers 1 / 2 / 3, got %llu / %llu "
			 "/ %llu", (unsigned long long)got[1], (unsigned long long)got[2],
			 (unsigned long long)got[3]);

	probe_down[3] = false;
	apply_ok("primary 3 up again", marked_cfg(""), &c);
	expect_num(c.eligible, 1, "counts.eligible (primary 3 alone)");
	spread_from(101, 40, got);
	if (got[1] || got[2] || got[3] != 40)
		fail_msg("primary 3 up again: expected new flows 0 / 0 / 40 on servers 1 / 2 / 3, "
			 "got %llu / %llu / %llu", (unsigned long long)got[1],
			 (unsigned long long)got[2], (unsigned long long)got[3]);
}

/* --- 5. slot stability --------------------------------------------------------------------- */

#define STICKY_FARM_1                                                                       \
	"{'farmId': 1, 'stickiness': 'sourceIp', 'server': ["                                 \
	" {'serverId': 1, 'address': '198.18.1.11'}, {'serverId': 2, 'address': '198.18.1.12'},"  \
	" {'serverId': 3, 'address': '198.18.1.13'}]}"

static const char stable[] =
	"{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "], 'farm': [" STICKY_FARM_1 "]}}";

/* Five packets of one client to frontend 1: they must all land on server `id` of slot 0. */
static void five_on(uint32_t id, uint64_t want_total, const char *what)
{
	for (int i = 0; i < 5; i++)
		expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, what);
	if (server_packets(0, id) != want_total)
		fail_msg("%s: expected server %u of slot 0 at %llu packets, got %llu", what, id,
			 (unsigned long long)want_total,
			 (unsigned long long)server_packets(0, id));
}

static void test_reapply_keeps_farm_and_frontend_slots_and_their_counters(void **state)
{
	uint32_t id = 0, key[4];

	(void)state;
	apply_ok("one farm", stable, NULL);
	for (int i = 0; i < 5; i++)
		expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "one client");
	for (uint32_t s = 1; s <= 3; s++) {
		key[s] = dataplane_server_key(fx->dp, 0, s);
		if (server_packets(0, s) == 5)
			id = s;
	}
	if (!id)
		fail_msg("one sourceIp client: expected its 5 packets on one server, got %llu / "
			 "%llu / %llu", (unsigned long long)server_packets(0, 1),
			 (unsigned long long)server_packets(0, 2),
			 (unsigned long long)server_packets(0, 3));

	apply_ok("the same config again", stable, NULL);
	five_on(id, 10, "after re-applying the same config");

	apply_ok("farm 9 and frontend 9 added in front",
		 "{'serviceName': 'apply', 'tcp': {'frontend': ["
		 " {'frontendId': 9, 'address': '198.18.100.9', 'port': '80', 'defaultFarmId': 9},"
		 FE_1 "], 'farm': [{'farmId': 9, 'server': [{'serverId': 91,"
		 " 'address': '198.18.1.19'}]}, " STICKY_FARM_1 "]}}", NULL);
	for (uint32_t s = 1; s <= 3; s++)
		if (dataplane_server_key(fx->dp, 0, s) != key[s])
			fail_msg("server %u of farm 1: expected key %#x kept in slot 0, got %#x", s,
				 key[s], dataplane_server_key(fx->dp, 0, s));
	if (!server_in(1, 91))
		fail_msg("new farm 9: expected the lowest free slot 1, got no server 91 there");
	five_on(id, 15, "after adding a farm in front");
	expect_num(vip_packets(0), 15, "frontend 1 (slot 0) packets, across applies");

	expect(LB_R_TX, "198.18.100.9", IPPROTO_TCP, 80, "new frontend 9");
	expect_num(server_packets(1, 91), 1, "server 91 of farm 9 (slot 1) packets");
	expect_num(vip_packets(1), 1, "frontend 9 (slot 1) packets");
}

/* --- 6. a failing apply reverts ------------------------------------------------------------ */

/*
 * The vips map holds LB_VIP_KEYS_MAX keys and a config may use them all; but an apply
 * installs the new keys before it removes the old, so moving 65535 keys to another address
 * overflows the map: only the kernel refuses it.
 */
static void test_failing_apply_reverts_to_the_previous_config(void **state)
{
	struct apply_counts c;
	int err;

	(void)state;
	apply_ok("wide frontend on .1",
		 "{'serviceName': 'apply', 'tcp': {'frontend': ["
		 " {'frontendId': 1, 'address': '198.18.100.1', 'port': '1-65535',"
		 "  'defaultFarmId': 1}]," FARM_1, NULL);
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 1, "port 1 of the wide frontend");

	err = applier_apply(fx->ap, fx->dp, cfg("{'serviceName': 'apply', 'tcp': {'frontend': ["
		" {'frontendId': 2, 'address': '198.18.100.2', 'port': '1-65535',"
		"  'defaultFarmId': 2}],"
		" 'farm': [{'farmId': 2, 'server': [{'serverId': 2, 'address': '198.18.1.12'}]}]}}"),
		&c);
	if (err != -E2BIG)
		fail_msg("moving 65535 keys: expected %d (-E2BIG, the vips map is full), got %d (%s)",
			 -E2BIG, err, strerror(-err));
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 1, "previous frontend, first port");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 65535, "previous frontend, last port");
	expect(LB_R_NOT_VIP, "198.18.100.2", IPPROTO_TCP, 1, "frontend of the failed config");
	if (!server_in(0, 1))
		fail_msg("farm 1: expected back in slot 0, got no server 1 there");
	for (uint32_t s = 0; s < 4; s++)
		if (server_in(s, 2))
			fail_msg("farm 2 of the failed config: expected deleted, got it in slot %u", s);

	/* the applier is still usable. Not straight to another address: with 65535 keys in
	 * the map, any config that adds 2 keys overflows it (new keys go in before old go) */
	apply_ok("nothing", "{'serviceName': 'apply'}", NULL);
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_TCP, 1, "empty config");
	apply_ok("after the failure",
		 "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_2 "],"
		 " 'farm': [{'farmId': 2, 'server': [{'serverId': 2, 'address': '198.18.1.12'}]}]}}",
		 NULL);
	expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 81, "frontend 2 after the failure");
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_TCP, 1, "removed wide frontend");
}

/*
 * Committed: farm 2 (slot 0, server 21) then farm 1 (slot 1, sourceIp, servers 1-3), listed
 * farm 1 first. The failed config removes both: the revert must put each back into its own
 * slot (a slot handed out in config order would swap them), so that farm 1's sticky clients
 * stay on their server and its counters go on.
 */
#define WIDE_FE_1                                                                           \
	"{'frontendId': 1, 'address': '198.18.100.1', 'port': '1-65530', 'defaultFarmId': 1}"
#define FARM_2_ONLY "{'farmId': 2, 'server': [{'serverId': 21, 'address': '198.18.1.12'}]}"

static void test_failing_apply_puts_every_farm_back_in_its_slot(void **state)
{
	uint32_t id = 0;
	int err;

	(void)state;
	apply_ok("farm 2", "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_2 "],"
		 " 'farm': [" FARM_2_ONLY "]}}", NULL);
	apply_ok("farm 1 listed before farm 2", "{'serviceName': 'apply', 'tcp': {'frontend': ["
		 WIDE_FE_1 ", " FE_2 "], 'farm': [" STICKY_FARM_1 ", " FARM_2_ONLY "]}}", NULL);
	for (int i = 0; i < 5; i++)
		expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "one client of farm 1");
	for (uint32_t s = 1; s <= 3; s++)
		if (server_in(1, s) && server_packets(1, s) == 5)
			id = s;
	if (!id)
		fail_msg("farm 1: expected in slot 1 with the client's 5 packets on one server, "
			 "got none such");

	err = applier_apply(fx->ap, fx->dp, cfg("{'serviceName': 'apply', 'tcp': {'frontend': ["
		" {'frontendId': 3, 'address': '198.18.100.3', 'port': '1-65535',"
		"  'defaultFarmId': 3}],"
		" 'farm': [{'farmId': 3, 'server': [{'serverId': 31, 'address': '198.18.1.13'}]}]}}"),
		&(struct apply_counts){ 0 });
	if (err != -E2BIG)
		fail_msg("moving 65535 keys: expected %d (-E2BIG), got %d (%s)", -E2BIG, err,
			 strerror(-err));
	if (!server_in(0, 21) || !server_in(1, id))
		fail_msg("after the revert: expected farm 2 in slot 0 and farm 1 in slot 1, got "
			 "server 21 %s slot 0, server %u %s slot 1", server_in(0, 21) ? "in" : "not in",
			 id, server_in(1, id) ? "in" : "not in");
	for (uint32_t s = 0; s < 4; s++)
		if (server_in(s, 31))
			fail_msg("farm 3 of the failed config: expected deleted, got it in slot %u", s);
	for (int i = 0; i < 5; i++)
		expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "the client after the revert");
	expect_num(server_packets(1, id), 10, "packets of the client's server, across the revert");
	expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 81, "frontend 2 after the revert");
	expect_num(server_packets(0, 21), 1, "packets of farm 2's server");
}

/* --- counters of new farms ----------------------------------------------------------------- */

static void test_farm_replacing_another_gets_a_fresh_slot_and_zeroed_counters(void **state)
{
	(void)state;
	apply_ok("farms 1 and 2", "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 ","
		 "{'frontendId': 2, 'address': '198.18.100.2', 'port': '80', 'defaultFarmId': 2}],"
		 " 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]},"
		 "  {'farmId': 2, 'server': [{'serverId': 1, 'address': '198.18.1.12'}]}]}}", NULL);
	for (int i = 0; i < 4; i++)
		expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 80, "frontend 2");
	expect_num(server_packets(1, 1), 4, "server 1 of farm 2 (slot 1)");

	/* farm 3 replaces farm 2 in one apply, with the same server id */
	apply_ok("farm 3 instead of 2", "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 ","
		 "{'frontendId': 3, 'address': '198.18.100.3', 'port': '80', 'defaultFarmId': 3}],"
		 " 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]},"
		 "  {'farmId': 3, 'server': [{'serverId': 1, 'address': '198.18.1.13'}]}]}}", NULL);
	if (server_in(1, 1) || !server_in(2, 1))
		fail_msg("farm 3: expected slot 2 (slot 1 of the removed farm 2 deleted, not taken "
			 "over while farm 2's VIP pointed at it), got slot 1 %s, slot 2 %s",
			 server_in(1, 1) ? "used" : "empty", server_in(2, 1) ? "used" : "empty");
	expect_num(server_packets(2, 1), 0, "server 1 of the new farm 3, before any packet");
	expect(LB_R_TX, "198.18.100.3", IPPROTO_TCP, 80, "frontend 3");
	expect_num(server_packets(2, 1), 1, "server 1 of farm 3 after one packet");
}

static void test_server_reusing_a_freed_counter_starts_at_zero(void **state)
{
	(void)state;
	apply_ok("farms 1 and 2", "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 ","
		 "{'frontendId': 2, 'address': '198.18.100.2', 'port': '80', 'defaultFarmId': 2}],"
		 " 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]},"
		 "  {'farmId': 2, 'server': [{'serverId': 2, 'address': '198.18.1.12'}]}]}}", NULL);
	for (int i = 0; i < 4; i++)
		expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 80, "frontend 2");
	apply_ok("farm 2 removed", "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 "],"
		 " 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]}]}}",
		 NULL);
	apply_ok("farm 4 added", "{'serviceName': 'apply', 'tcp': {'frontend': [" FE_1 ","
		 "{'frontendId': 4, 'address': '198.18.100.4', 'port': '80', 'defaultFarmId': 4}],"
		 " 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]},"
		 "  {'farmId': 4, 'server': [{'serverId': 4, 'address': '198.18.1.14'}]}]}}", NULL);
	if (!server_in(1, 4))
		fail_msg("farm 4: expected the free slot 1, got no server 4 there");
	expect_num(server_packets(1, 4), 0,
		   "server 4 of the new farm 4 (on farm 2's freed counter), before any packet");
}

/* --- 7. a restarted limpetd adopts the pinned dataplane --------------------------------------- */

/* tcp farms 1 and 2, udp farm 1; ADOPT_FARMS_REV lists the tcp farms the other way round,
 * which in config order would give them each other's slots */
#define ADOPT_FARM_1                                                                        \
	"{'farmId': 1, 'stickiness': 'sourceIp', 'server': ["                                \
	" {'serverId': 1, 'address': '198.18.1.11'}, {'serverId': 2, 'address': '198.18.1.12'}]}"
#define ADOPT_FARM_2 "{'farmId': 2, 'server': [{'serverId': 3, 'address': '198.18.1.13'}]}"
#define ADOPT_REST                                                                          \
	" 'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '80',"           \
	"  'defaultFarmId': 1}, {'frontendId': 2, 'address': '198.18.100.2', 'port': '80',"  \
	"  'defaultFarmId': 2}]},"                                                           \
	" 'udp': {'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '53',"   \
	"  'defaultFarmId': 1}],"                                                            \
	" 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.14'}]}]}}"

static const char adopt_cfg[] =
	"{'serviceName': 'apply', 'tcp': {'farm': [" ADOPT_FARM_1 ", " ADOPT_FARM_2 "]," ADOPT_REST;
static const char adopt_cfg_rev[] =
	"{'serviceName': 'apply', 'tcp': {'farm': [" ADOPT_FARM_2 ", " ADOPT_FARM_1 "]," ADOPT_REST;

static char pin_dir[64];

/* Pin the fixture's dataplane and let go of it (its maps live on in bpffs), as a limpetd
 * killed with -9 does; then adopt it into the fixture with a new applier. */
static void pin_and_die(void)
{
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/limpet_test_apply_%d", getpid());
	dataplane_unpin(pin_dir);
	assert_int_equal(dataplane_pin(fx->dp, pin_dir), 0);
	applier_free(fx->ap);
	dataplane_close(fx->dp);
	fx->ap = NULL;
	fx->dp = NULL;
}

static int adopt(char why[256])
{
	int n = dataplane_adopt(&fx->dp, pin_dir, why);

	if (n >= 0) {
		assert_int_equal(applier_new(&fx->ap), 0);
		assert_int_equal(applier_adopt(fx->ap, fx->dp), 0);
	}
	return n;
}

/* The id of the inner map each farm slot holds (0: none): a farm swapped anew changes it. */
static void farm_maps(uint32_t out[4])
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/farms", pin_dir);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	for (uint32_t s = 0; s < 4; s++)
		if (bpf_map_lookup_elem(fd, &s, &out[s]))
			out[s] = 0;
	close(fd);
}

static void test_adopted_dataplane_keeps_slots_keys_counters_and_swaps_nothing(void **state)
{
	uint32_t key[4], maps0[4], maps1[4], fe2 = 0;
	uint64_t pkts[4];
	char why[256];
	int n;

	(void)state;
	apply_ok("three farms", adopt_cfg, NULL);
	for (int i = 1; i <= 16; i++)
		expect_from(LB_R_TX, client(i), "198.18.100.1", IPPROTO_TCP, 80, "farm 1 client");
	expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 80, "farm 2");
	for (uint32_t id = 1; id <= 2; id++) {
		key[id] = dataplane_server_key(fx->dp, 0, id);
		pkts[id] = server_packets(0, id);
	}
	key[3] = dataplane_server_key(fx->dp, 1, 3);
	pkts[3] = server_packets(1, 3);
	fe2 = vip_packets(1);
	pin_and_die();
	farm_maps(maps0);

	n = adopt(why);
	if (n != 3)
		fail_msg("adopting: expected 3 farms, got %d (%s)", n, why);
	/* listed the other way round, the tcp farms keep their slots: the pinned record says */
	apply_ok("the same farms listed the other way round", adopt_cfg_rev, NULL);
	expect_num(applier_farm_slot(fx->ap, CFG_TCP, 1), 0, "tcp farm 1's slot");
	expect_num(applier_farm_slot(fx->ap, CFG_TCP, 2), 1, "tcp farm 2's slot");
	expect_num(applier_farm_slot(fx->ap, CFG_UDP, 1), 2, "udp farm 1's slot");
	expect_num(applier_frontend_slot(fx->ap, CFG_TCP, 2), 1, "tcp frontend 2's slot");
	for (uint32_t id = 1; id <= 3; id++)
		expect_num(dataplane_server_key(fx->dp, id == 3, id), key[id], "a server's key");
	farm_maps(maps1);
	for (uint32_t s = 0; s < 4; s++)
		if (maps0[s] != maps1[s])
			fail_msg("farm slot %u: expected inner map %u kept (an unchanged farm is "
				 "not swapped), got %u", s, maps0[s], maps1[s]);
	/* counters go on from where they were: the same packets again land on the same servers */
	for (int i = 1; i <= 16; i++)
		expect_from(LB_R_TX, client(i), "198.18.100.1", IPPROTO_TCP, 80, "farm 1 client");
	expect(LB_R_TX, "198.18.100.2", IPPROTO_TCP, 80, "farm 2");
	for (uint32_t id = 1; id <= 2; id++)
		expect_num(server_packets(0, id), 2 * pkts[id], "farm 1 server packets, doubled");
	expect_num(server_packets(1, 3), 2 * pkts[3], "farm 2 server packets, doubled");
	expect_num(vip_packets(1), fe2 + 1, "frontend 2 packets");
	dataplane_unpin(pin_dir);
}

/* An apply cut short put farm 3 in a slot the record does not name: the next one removes it. */
static void test_adopted_farm_no_record_names_is_removed(void **state)
{
	struct lb_owners rec;
	char why[256];

	(void)state;
	apply_ok("three farms", adopt_cfg, NULL);
	assert_int_equal(dataplane_owners_load(fx->dp, &rec), 0);
	apply_ok("a fourth farm",
		 "{'serviceName': 'apply', 'tcp': {'farm': [" ADOPT_FARM_1 ", " ADOPT_FARM_2 ","
		 " {'farmId': 3, 'server': [{'serverId': 4, 'address': '198.18.1.15'}]}],"
		 ADOPT_REST, NULL);
	assert_true(dataplane_has_farm(fx->dp, 3));
	assert_int_equal(dataplane_owners_save(fx->dp, &rec), 0);	/* the record of before */
	pin_and_die();

	if (adopt(why) != 4)
		fail_msg("adopting: expected 4 farms, got other (%s)", why);
	apply_ok("three farms again", adopt_cfg, NULL);
	if (dataplane_has_farm(fx->dp, 3))
		fail_msg("farm slot 3: expected the farm no record names removed, still there");
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "farm 1 after the adoption");
	dataplane_unpin(pin_dir);
}

/* An http frontend is a VIP key that passes its packets up to the L7 proxy (pass_l7), after
 * its allowedSource and counted on its frontend; its farm takes no dataplane slot. */
static void test_http_frontend_passes_up_after_its_acl_and_keeps_its_slot(void **state)
{
	static const char http[] =
		"{'serviceName': 'apply', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
		" '198.18.100.1', 'port': '80', 'defaultFarmId': 1}],"
		" 'farm': [{'farmId': 1, 'server': [{'serverId': 1, 'address': '198.18.1.11'}]}]},"
		" 'http': {'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port':"
		" '8080-8081', 'defaultFarmId': 1, 'allowedSource': ['198.18.200.0/24']},"
		" {'frontendId': 2, 'address': '198.18.100.9', 'port': '80', 'defaultFarmId': 1,"
		" 'disabled': true}],"
		" 'farm': [{'farmId': 1, 'stickiness': 'cookie', 'server': [{'serverId': 1,"
		" 'address': '198.18.1.12'}]}]}}";
	struct apply_counts c;
	uint64_t before;
	char why[256];
	int slot, n;

	(void)state;
	apply_ok("tcp and http", http, &c);
	expect_num(c.farms, 2, "counts.farms (tcp 1, http 1)");
	expect_num(c.servers, 2, "counts.servers");
	expect_num(c.eligible, 2, "counts.eligible");
	expect_num(c.frontends, 3, "counts.frontends (tcp 1, http 1 and 2)");
	expect_num(c.vip_keys, 1 + 2, "counts.vip_keys (tcp 80; http 8080-8081)");
	expect_num(applier_farm_slot(fx->ap, CFG_HTTP, 1), -1, "the http farm's slot");
	slot = applier_frontend_slot(fx->ap, CFG_HTTP, 1);
	if (slot < 0)
		fail_msg("http frontend 1: expected a frontend slot, got none");
	before = vip_packets(slot);
	expect(LB_R_TX, "198.18.100.1", IPPROTO_TCP, 80, "the tcp frontend on the same VIP");
	expect(LB_R_L7, "198.18.100.1", IPPROTO_TCP, 8080, "http port: up to the L7 proxy");
	expect(LB_R_L7, "198.18.100.1", IPPROTO_TCP, 8081, "http range end");
	expect(LB_R_NOT_VIP, "198.18.100.1", IPPROTO_UDP, 8080, "udp to an http port");
	expect_from(LB_R_ACL, "198.18.201.7", "198.18.100.1", IPPROTO_TCP, 8080,
		    "source outside the http frontend's allowedSource");
	expect(LB_R_NOT_VIP, "198.18.100.9", IPPROTO_TCP, 80, "disabled http frontend");
	expect_num(vip_packets(slot), before + 3, "http frontend packets (ACL drop included)");

	/* the slot record names it as http: an adopting limpetd gives it the same slot */
	pin_and_die();
	n = adopt(why);
	if (n != 1)
		fail_msg("adopting: expected 1 farm, got %d (%s)", n, why);
	expect_num(applier_frontend_slot(fx->ap, CFG_HTTP, 1), slot, "adopted http frontend slot");
	expect_num(applier_frontend_slot(fx->ap, CFG_TCP, 1) == slot, 0,
		   "tcp frontend 1 in another slot than http frontend 1");
	dataplane_unpin(pin_dir);
}

static void test_adopting_another_abi_is_refused(void **state)
{
	struct lb_meta m;
	uint32_t zero = 0;
	char path[128], why[256];
	int fd, n;

	(void)state;
	apply_ok("three farms", adopt_cfg, NULL);
	pin_and_die();
	snprintf(path, sizeof(path), "%s/meta", pin_dir);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &m), 0);
	expect_num(m.abi_version, LB_ABI_VERSION, "pinned abi_version");
	m.abi_version = LB_ABI_VERSION + 1;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &m, BPF_ANY), 0);
	close(fd);

	n = adopt(why);
	if (n != -EPROTO || !strstr(why, "ABI version"))
		fail_msg("adopting another ABI: expected -EPROTO naming the version, got %d (%s)",
			 n, why);
	assert_null(fx->dp);
	dataplane_unpin(pin_dir);
	assert_false(dataplane_pinned(pin_dir));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_config_applies_enabled_vips_answer_and_counts_are_right),
		T(test_reapply_without_a_frontend_prunes_exactly_its_vip_keys),
		T(test_reapply_without_a_farm_removes_its_vips_and_deletes_it),
		T(test_allowed_source_filters_and_removing_the_list_lifts_it),
		T(test_allowed_source_of_a_removed_frontend_is_pruned),
		T(test_http_frontend_passes_up_after_its_acl_and_keeps_its_slot),
		T(test_farm_slots_are_lowest_free_in_config_order_tcp_then_udp),
		T(test_all_servers_inactive_drops_no_server),
		T(test_backup_takes_traffic_only_without_an_active_primary),
		T(test_probe_down_takes_no_new_flow_keeps_established_unless_shutdown),
		T(test_backup_takes_over_while_every_primary_probe_is_down),
		T(test_reapply_keeps_farm_and_frontend_slots_and_their_counters),
		T(test_failing_apply_reverts_to_the_previous_config),
		T(test_failing_apply_puts_every_farm_back_in_its_slot),
		T(test_farm_replacing_another_gets_a_fresh_slot_and_zeroed_counters),
		T(test_server_reusing_a_freed_counter_starts_at_zero),
		T(test_adopted_dataplane_keeps_slots_keys_counters_and_swaps_nothing),
		T(test_adopted_farm_no_record_names_is_removed),
		T(test_adopting_another_abi_is_refused),
	};
#undef T

	return cmocka_run_group_tests_name("apply", tests, net_setup, NULL);
}
