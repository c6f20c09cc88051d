// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The sticky table at scale, through BPF_PROG_TEST_RUN: up to its rated capacity every source
 * is recorded and a weight change moves none of them; above it the sources it cannot record
 * are counted (sticky_full) and still forwarded; a flood of new sources evicts no known one.
 * Runs in the rig's LB namespace like test_xdp (scripts/rig.sh --static-neigh): the FIB
 * lookups need the backends' routes and neighbours. IPv6 sources 2001:2:0:200::/64 + i.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "dataplane/dataplane.h"
#include "common/log.h"
#include "pkt.h"
#include "tap.h"

#define NBACKENDS	3
#define SEED		0x51c4e7d2a9b30f68ULL
#define FARM		0
#define FRESH		1	/* the same servers with no history: what the ring alone does */
#define VIP		"2001:2:0:100::1"
#define VIP_FRESH	"2001:2:0:100::2"
#define ACK		0x10
#define SYN		0x02
#define FAST_INSERTS	100000000u	/* so that recording 2M sources takes one pass */

static int ifindex_lb0;
static const uint32_t w_before[NBACKENDS] = { 1, 2, 3 }, w_after[NBACKENDS] = { 3, 2, 1 };

static void source(uint32_t i, uint32_t out[4])
{
	pkt_addr6(out, "2001:2:0:200::");
	out[2] = htonl(i >> 16);
	out[3] = htonl(i & 0xffff);
}

static int farm_set(struct dataplane *dp, uint32_t slot, const uint32_t *w)
{
	struct dp_server sv[NBACKENDS];
	struct dp_farm f = { .slot = slot, .seed = SEED, .stickiness = LB_STICKY_SOURCE_IP,
			     .forwarding = LB_FWD_DSR, .nservers = NBACKENDS, .servers = sv };
	char addr[32];

	for (int k = 0; k < NBACKENDS; k++) {
		sv[k] = (struct dp_server){ .id = k + 1, .family = LB_V6, .weight = w[k],
					    .eligible = true };
		snprintf(addr, sizeof(addr), "2001:2::1:%d", 11 + k);
		pkt_addr6(sv[k].addr, addr);
	}
	return dataplane_farm_set(dp, &f);
}

/* A dataplane with the two farms behind their VIPs (tcp/80): NULL on failure, logged. */
static struct dataplane *open_dp(uint32_t buckets, uint32_t insert_rate)
{
	struct dataplane_opts o = { .sticky_buckets = buckets, .insert_rate = insert_rate };
	struct dp_vip v = { .family = LB_V6, .proto = IPPROTO_TCP, .port_lo = 80, .port_hi = 80 };
	struct dataplane *dp;
	int err = dataplane_open(&dp, &o);

	if (err)
		return NULL;
	for (uint32_t f = FARM; f <= FRESH && !err; f++) {
		v.farm = v.frontend = f;
		pkt_addr6(v.addr, f == FARM ? VIP : VIP_FRESH);
		err = farm_set(dp, f, w_before) ?: dataplane_vip_set(dp, &v);
	}
	if (err) {
		fprintf(stderr, "test_sticky: setup: %s\n", strerror(-err));
		dataplane_close(dp);
		return NULL;
	}
	return dp;
}

/* One packet from source i to the VIP of farm slot f: the backend (1..3) it went to, or 0. */
static int send_one(struct dataplane *dp, uint32_t f, uint32_t i, uint8_t flags)
{
	static struct pkt p[2][2];	/* [farm][syn] */
	static bool built;
	uint8_t out[PKT_MAX + 64];
	struct xdp_md ctx = { .ingress_ifindex = ifindex_lb0 };
	struct pkt *pk = &p[f][flags == SYN];
	uint32_t src[4];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	if (!built) {
		struct pkt_spec s = { .family = LB_V6, .proto = IPPROTO_TCP, .sport = 40000,
				      .dport = 80 };

		for (int a = 0; a < 2; a++)
			for (int b = 0; b < 2; b++) {
				pkt_addr6(s.dst, a == FARM ? VIP : VIP_FRESH);
				s.tcp_flags = b ? SYN : ACK;
				pkt_build(&p[a][b], &s);
			}
		built = true;
	}
	source(i, src);
	pkt_set_src(pk, src);
	ctx.data_end = pk->len;
	o.data_in = pk->data;
	o.data_size_in = pk->len;
	if (bpf_prog_test_run_opts(dataplane_prog_fd(dp), &o))
		return 0;
	if ((o.retval != XDP_TX && o.retval != XDP_REDIRECT) || o.data_size_out < 6 ||
	    memcmp(out, "\x02\x00\x00\x00\x01", 5) || out[5] < 1 || out[5] > NBACKENDS)
		return 0;
	return out[5];
}

/* How many of sources [first, first + n) the table records for FARM; SIZE_MAX on error. */
static size_t recorded(struct dataplane *dp, uint32_t first, uint32_t n)
{
	uint32_t (*src)[4] = calloc(n ? n : 1, sizeof(*src));
	size_t got = SIZE_MAX;

	for (uint32_t i = 0; src && i < n; i++)
		source(first + i, src[i]);
	if (src && dataplane_sticky_recorded(dp, FARM, (const uint32_t (*)[4])src, n, &got))
		got = SIZE_MAX;
	free(src);
	return got;
}

static uint64_t full_count(struct dataplane *dp)
{
	uint64_t n;

	return dataplane_sticky_full(dp, &n) ? UINT64_MAX : n;
}

/* Send ACKs from sources [from, to), noting their backends; how many were not forwarded. */
static uint32_t record(struct dataplane *dp, uint8_t *backend, uint32_t from, uint32_t to)
{
	uint32_t lost = 0;

	for (uint32_t i = from; i < to; i++) {
		backend[i] = send_one(dp, FARM, i, ACK);
		lost += !backend[i];
	}
	return lost;
}

/* After a weight change: how many of sources [0, n) went to another backend than before. */
static uint32_t moved(struct dataplane *dp, const uint8_t *backend, uint32_t n)
{
	uint32_t m = 0;

	for (uint32_t i = 0; i < n; i++)
		m += send_one(dp, FARM, i, ACK) != backend[i];
	return m;
}

/* Of a sample of sources [0, n), how many the ring alone (farm FRESH with weights w, SYNs:
 * never recorded) sends elsewhere: a test of stickiness must not pass by luck. */
static uint32_t ring_would_move(struct dataplane *dp, const uint32_t *w, const uint8_t *backend,
				uint32_t n)
{
	uint32_t m = 0, step = n / 20000 ? n / 20000 : 1;

	if (farm_set(dp, FRESH, w))
		return 0;
	for (uint32_t i = 0; i < n; i += step)
		m += send_one(dp, FRESH, i, SYN) != backend[i];
	return m;
}

/* Record n1 then n2 sources in a default-size table, with a weight change after each: none of
 * them moves, none is left unrecorded, sticky_full stays 0. */
static void test_rated_capacity(uint32_t n1, uint32_t n2)
{
	struct dataplane *dp = open_dp(0, FAST_INSERTS);
	uint8_t *backend = calloc(n2, 1);
	const uint32_t steps[2] = { n1, n2 };
	uint32_t from = 0, n, lost, m, ring;
	size_t rec;

	tap_begin();
	if (!CHECK(dp && backend, "setup"))
		goto out;
	for (int step = 0; step < 2 && tap_ok; step++, from = n) {
		/* the weights go 1:2:3 -> 3:2:1 -> 1:2:3 */
		const uint32_t *w = step ? w_before : w_after;

		n = steps[step];
		lost = record(dp, backend, from, n);
		rec = recorded(dp, 0, n);
		CHECK(!lost, "%u of %u sources not forwarded", lost, n - from);
		CHECK(rec == n, "%u sources sent: want all recorded, %zu are", n, rec);
		CHECK(!farm_set(dp, FARM, w), "weight change");
		m = moved(dp, backend, n);
		CHECK(!m, "weights changed with %u sources recorded: want 0 moved, %u did", n, m);
		ring = ring_would_move(dp, w, backend, n);
		CHECK(ring > 20000 / 10, "the new ring alone moves only %u of 20000 sampled "
		      "sources: the test proves nothing", ring);
		printf("# %u sources (%u buckets): recorded %zu, moved on a weight change %u; the "
		       "ring alone would move %u of 20000\n", n, LB_STICKY_BUCKETS, rec, m, ring);
	}
	CHECK(full_count(dp) == 0, "sticky_full: want 0, got %llu",
	      (unsigned long long)full_count(dp));
out:
	tap_end("rated capacity: 1M and LB_STICKY_RATED sources all recorded, a weight change "
		"moves none, sticky_full 0");
	free(backend);
	dataplane_close(dp);
}

/* Four times a small table's rated capacity: what it cannot record is counted, one per
 * packet that found both buckets full, and still forwarded. */
static void test_above_capacity(void)
{
	const uint32_t buckets = 256, n = LB_STICKY_RATED(256) * 4;
	struct dataplane *dp = open_dp(buckets, FAST_INSERTS);
	uint8_t *backend = calloc(n, 1);
	uint64_t full;
	uint32_t lost;
	size_t rec;

	tap_begin();
	if (!CHECK(dp && backend, "setup"))
		goto out;
	lost = record(dp, backend, 0, n);
	rec = recorded(dp, 0, n);
	full = full_count(dp);
	CHECK(!lost, "%u of %u sources not forwarded", lost, n);
	CHECK(rec >= LB_STICKY_RATED(buckets) && rec <= buckets * LB_STICKY_WAYS,
	      "want between %llu (rated) and %u (ways) recorded, got %zu",
	      (unsigned long long)LB_STICKY_RATED(buckets), buckets * LB_STICKY_WAYS, rec);
	CHECK(full == n - rec, "sticky_full: want %zu (sources not recorded), got %llu", n - rec,
	      (unsigned long long)full);
	printf("# %u sources into %u buckets (%u ways): %zu recorded, sticky_full %llu\n", n,
	       buckets, buckets * LB_STICKY_WAYS, rec, (unsigned long long)full);
out:
	tap_end("above capacity: sources not recorded are counted in sticky_full and forwarded");
	free(backend);
	dataplane_close(dp);
}

/*
 * A table filled to its rated capacity with known clients, then a flood of new sources at the
 * default insert budget: SYN-only ones (never recorded) and ACKs beyond what the budget
 * allows. No known client is evicted: all still recorded, and a weight change moves none.
 */
static void test_flood_evicts_nobody(void)
{
	const uint32_t buckets = 4096, known = LB_STICKY_RATED(4096), syn = 500000,
		       ack = 300000;
	struct dataplane *dp = open_dp(buckets, 0);
	uint8_t *backend = calloc(known, 1);
	uint32_t lost = 0, m;
	size_t rec;

	tap_begin();
	if (!CHECK(dp && backend, "setup"))
		goto out;
	/* the default budget (per CPU, per second) may leave some for the next pass */
	for (int pass = 0; pass < 10 && (rec = recorded(dp, 0, known)) < known; pass++)
		lost += record(dp, backend, 0, known);
	if (!CHECK(rec == known && !lost, "known clients: want %u recorded, %zu are (%u packets "
		   "not forwarded)", known, rec, lost))
		goto out;
	for (uint32_t i = 0; i < syn + ack; i++)
		lost += !send_one(dp, FARM, known + i, i < syn ? SYN : ACK);
	rec = recorded(dp, 0, known);
	CHECK(!lost, "%u flood packets not forwarded", lost);
	CHECK(rec == known, "after the flood: want all %u known clients recorded, %zu are",
	      known, rec);
	CHECK(recorded(dp, known, syn) == 0, "SYN-only sources were recorded");
	CHECK(!farm_set(dp, FARM, w_after), "weight change");
	m = moved(dp, backend, known);
	CHECK(!m, "after the flood and a weight change: want 0 of %u known clients moved, %u did",
	      known, m);
	printf("# %u known clients in %u buckets, then %u SYN-only and %u ACK new sources: "
	       "sticky_full %llu, 0 known evicted\n", known, buckets, syn, ack,
	       (unsigned long long)full_count(dp));
out:
	tap_end("flood of new SYN and ACK sources at the insert budget evicts no known client");
	free(backend);
	dataplane_close(dp);
}

int main(void)
{
	log_route_libs();
	ifindex_lb0 = if_nametoindex("lb0");
	if (!ifindex_lb0) {
		fprintf(stderr, "test_sticky: no lb0: run me in the rig's LB namespace "
				"(scripts/rig.sh ... --static-neigh)\n");
		return 1;
	}
	test_above_capacity();
	test_flood_evicts_nobody();
	test_rated_capacity(1000000, LB_STICKY_RATED(LB_STICKY_BUCKETS));
	return tap_done();
}
