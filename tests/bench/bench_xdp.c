// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP micro-benchmark (DESIGN.md section 7): the balancer's cost per packet through
 * BPF_PROG_TEST_RUN, as a ratio to a program that only swaps MACs and returns XDP_TX
 * (bpf/baseline.bpf.c), measured in the same process on the same CPU.
 *
 * BPF_PROG_TEST_RUN reruns a program on one buffer, so each run would see the previous run's
 * output. The balancer therefore runs behind bench_wrap (bpf/bench_wrap.bpf.c), which restores
 * the frame, sets its source and tail-calls it. Every ratio is gross over gross through that
 * same harness: (wrapper + balancer) / (wrapper + macswap). The harness floor (a program that
 * only returns XDP_TX, run directly) and macswap alone are printed on their own lines.
 *
 * Two balancers are loaded: "hi" with an insert budget no run exhausts (the per-packet cost
 * of recording a new source), and "prod" on limpetd's production settings (default table
 * size and insert budget), which holds the 1M, then 2M, known clients (IPv6,
 * BENCH_MANY_PREFIX + i) recorded by ACKs at that budget before anything is timed. The
 * benchmark fails if any of them is unrecorded, and if any case does not take the path it is
 * named for.
 *
 * Run it in the LB namespace of the rig (scripts/bench.sh): the balancer's FIB lookups need
 * lb0/lb1, the routes and the static neighbours of the backends.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "bench_common.h"
#include "dataplane/dataplane.h"
#include "common/log.h"
#include "pkt.h"

#define SAMPLES		5
#define SAMPLE_NS	100000000ull	/* a sample runs at least this long */
#define CALIB_NS	(SAMPLE_NS / 10)

/* Sources the wrapper generates: SYN sources cycle through 198.18.0.0/15 (2^17 addresses;
 * SYNs are never recorded, so every run is a sticky miss); a new ACK source every run counts
 * up from 11.0.0.0 (test-run frames never reach a wire); the known clients are
 * BENCH_MANY_PREFIX + i. */
#define SYN_BASE	0xc6120000u	/* 198.18.0.0 */
#define SYN_N		(1u << 17)
#define ACK_BASE	0x0b000000u
#define EVERY_RUN_NEW	(~0u)
#define MANY_BASE	0u
#define MANY2_N		(2 * BENCH_MANY_N)

enum expect {
	E_TX = BENCH_ACT(XDP_TX),
	E_FORWARD = BENCH_ACT(XDP_TX) | BENCH_ACT(XDP_REDIRECT),
	E_PASS = BENCH_ACT(XDP_PASS),
};

/* Which balancer a case runs: insert budget never exhausted, or limpetd's settings. */
enum lb { LB_HI, LB_PROD };

static struct pkt f_ack4, f_syn4, f_other4, f_ack6, f_many6;

struct bcase {
	const char *label;
	const char *bench;		/* BENCH name, NULL: table only */
	enum bench_prog prog;
	const struct pkt *frame;
	uint32_t src_base, nsrc;	/* see bench_wrap.bpf.c */
	enum expect expect;
	enum lb lb;
	double target;			/* ratio to reach, 0: none */
	bool records;			/* every run records a new source: the farm's entries are
					 * forgotten after each sample, so the table keeps room */
	int known;			/* known clients the prod table holds while it runs */
};

enum { R_FLOOR, R_MACSWAP, R_WRAP, R_BASE, R_KNOWN, R_KNOWN6, R_NONVIP, R_SYN, R_ACK, R_MANY,
       R_SYN_FLOOD, R_ACK_FLOOD, R_MANY2, R_MAX };

#define M1 BENCH_MANY_N
#define M2 MANY2_N

static const struct bcase cases[R_MAX] = {
	[R_FLOOR] = { "harness floor (XDP_TX only)", "xdp.harness_floor", P_NOP, &f_ack4, 0, 0,
		      E_TX, LB_HI, 0, false, M1 },
	[R_MACSWAP] = { "macswap alone", "xdp.macswap", P_MACSWAP, &f_ack4, 0, 0, E_TX, LB_HI, 0,
			false, M1 },
	[R_WRAP] = { "wrapper alone", "xdp.wrapper", P_WRAP_NOP, &f_ack4, 0, 0, E_TX, LB_HI, 0,
		     false, M1 },
	[R_BASE] = { "baseline: wrapper + macswap", NULL, P_WRAP_MACSWAP, &f_ack4, 0, 0, E_TX,
		     LB_HI, 0, false, M1 },
	[R_KNOWN] = { "known client (v4 ACK)", "xdp.known_client", P_WRAP_LB, &f_ack4, 0, 0,
		      E_FORWARD, LB_HI, 2.7, false, M1 },
	[R_KNOWN6] = { "known client (v6 ACK)", "xdp.ipv6_known_client", P_WRAP_LB, &f_ack6, 0, 0,
		       E_FORWARD, LB_HI, 0, false, M1 },
	[R_NONVIP] = { "non-VIP -> PASS", "xdp.non_vip", P_WRAP_LB, &f_other4, 0, 0, E_PASS,
		       LB_HI, 1.5, false, M1 },
	[R_SYN] = { "new SYN, fresh budget", "xdp.new_client_syn", P_WRAP_LB, &f_syn4, SYN_BASE,
		    SYN_N, E_FORWARD, LB_HI, 0, false, M1 },
	[R_ACK] = { "new ACK, fresh budget", "xdp.new_client_ack", P_WRAP_LB, &f_ack4, ACK_BASE,
		    EVERY_RUN_NEW, E_FORWARD, LB_HI, 0, true, M1 },
	[R_MANY] = { "known among 1M (v6)", "xdp.known_client_1m", P_WRAP_LB, &f_many6, MANY_BASE,
		     M1, E_FORWARD, LB_PROD, 6.4, false, M1 },
	[R_SYN_FLOOD] = { "new SYN, flood (prod, 1M known)", "xdp.new_client_syn_flood",
			  P_WRAP_LB, &f_syn4, SYN_BASE, SYN_N, E_FORWARD, LB_PROD, 5, false, M1 },
	[R_ACK_FLOOD] = { "new ACK, flood (prod, 1M known)", "xdp.new_client_ack_flood",
			  P_WRAP_LB, &f_ack4, ACK_BASE, EVERY_RUN_NEW, E_FORWARD, LB_PROD, 0,
			  false, M1 },
	[R_MANY2] = { "known among 2M (v6)", "xdp.known_client_2m", P_WRAP_LB, &f_many6,
		      MANY_BASE, M2, E_FORWARD, LB_PROD, 0, false, M2 },
};

struct timing {
	uint32_t repeat;		/* runs per sample */
	uint32_t src_next;		/* the wrapper's source counter between samples */
	double d[SAMPLES];		/* ns per run */
	double min, med;
};

struct bench {
	struct bench_progs p;		/* p.dp: the balancer the current case runs */
	struct dataplane *hi, *prod;
	struct timing t[R_MAX];
	uint32_t (*many)[LB_ADDR_WORDS];	/* the MANY2_N known clients' addresses */
};

/* --- test runs ---------------------------------------------------------------------------- */

/* The program a case starts at, on the balancer it names. */
static int case_entry(struct bench *b, const struct bcase *c, uint32_t src_next)
{
	b->p.dp = c->lb == LB_HI ? b->hi : b->prod;
	return bench_entry(&b->p, c->label, c->prog, c->frame, c->src_base, c->nsrc, src_next);
}

/* One run of case c with its output: it must take the path it is named for. */
static int verify(struct bench *b, const struct bcase *c, int entry)
{
	char why[PKT_WHY_LEN];
	struct bench_run r;
	int err, k;

	err = bench_check_run(&b->p, c->label, entry, c->frame, c->prog == P_WRAP_LB, c->expect,
			      &r);
	if (err)
		return err;
	if (c->expect == E_FORWARD) {
		k = r.out_len >= 6 ? bench_backend_of(r.out) : 0;
		if (!k) {
			pr_err("%s: forwarded frame is not addressed to a backend MAC", c->label);
			return -EINVAL;
		}
		printf("  check %-32s %-12s to backend %d\n", c->label,
		       bench_action_name(r.retval), k);
	} else if (c->expect == E_PASS) {
		if (!pkt_check_same(c->frame, r.out, r.out_len, why)) {
			pr_err("%s: passed frame changed: %s", c->label, why);
			return -EINVAL;
		}
		printf("  check %-32s %-12s frame untouched\n", c->label,
		       bench_action_name(r.retval));
	}
	return 0;
}

/* Forget the entries of farm 4's servers (dataplane_forget_servers walks the table). */
static int forget_farm4(struct dataplane *dp)
{
	struct dp_forget fg[BENCH_NBACKENDS];

	for (int k = 0; k < BENCH_NBACKENDS; k++)
		fg[k] = (struct dp_forget){ .farm = BENCH_FARM4, .id = k + 1 };
	return dataplane_forget_servers(dp, fg, BENCH_NBACKENDS);
}

/* The sources a case recorded are forgotten: the next sample records into a table with as
 * much room as this one had. */
static int forget_recorded(struct bench *b, const struct bcase *c)
{
	int err = c->records ? forget_farm4(b->p.dp) : 0;

	if (err)
		pr_err("%s: forgetting the sources it recorded: %s", c->label, strerror(-err));
	return err;
}

/* Runs per sample so that one lasts at least SAMPLE_NS. */
static int calibrate(struct bench *b, const struct bcase *c, int entry, struct timing *t)
{
	uint64_t repeat = 1000;
	struct bench_run r;
	int err;

	/* grow until one run is long enough to estimate the per-packet time */
	for (;;) {
		err = bench_test_run(&b->p, entry, c->frame, repeat, 0, &r, false);
		if (err) {
			pr_err("%s: test run: %s", c->label, strerror(-err));
			return err;
		}
		if ((uint64_t)r.duration * repeat >= CALIB_NS || repeat >= UINT32_MAX / 10)
			break;
		repeat *= 10;
	}
	/* a quarter over the goal, so a noisy calibration does not leave a sample short */
	repeat = SAMPLE_NS * 5 / 4 / (r.duration ? r.duration : 1);
	t->repeat = repeat > UINT32_MAX ? UINT32_MAX : repeat;
	t->src_next = b->p.wrap->bss->src_next;
	return forget_recorded(b, c);
}

/* Sample i of case c: one timed test run, the kernel's duration per run. */
static int sample(struct bench *b, const struct bcase *c, int i, struct timing *t)
{
	struct bench_run r;
	int entry, err;

	entry = case_entry(b, c, t->src_next);
	if (entry < 0)
		return entry;
	err = bench_test_run(&b->p, entry, c->frame, t->repeat, 0, &r, false);
	if (err) {
		pr_err("%s: test run: %s", c->label, strerror(-err));
		return err;
	}
	if (!bench_action_in(c->expect, r.retval)) {
		pr_err("%s: sample %d ended with %s", c->label, i, bench_action_name(r.retval));
		return -EINVAL;
	}
	t->d[i] = r.duration;
	t->src_next = b->p.wrap->bss->src_next;
	return forget_recorded(b, c);
}

/* --- the known clients -------------------------------------------------------------------- */

/*
 * Record the first n known clients in the prod balancer at its (limpetd's default) insert
 * budget: passes of one ACK from each through the wrapper, checked against the table once a
 * second (the budget refills each second) until all are recorded or a second adds none.
 * Prints sticky.unrecorded_<which + 1>m; any source left unrecorded is an error.
 */
static int many_warm(struct bench *b, uint32_t n, int which)
{
	const struct bcase *c = &cases[which ? R_MANY2 : R_MANY];
	double t0 = bench_now_s(), checked = t0;
	size_t rec = 0, prev = 0;
	uint64_t full;
	int entry, passes = 0, err = 0;
	struct bench_run r;

	while (!err) {
		entry = case_entry(b, c, 0);
		err = entry < 0 ? entry : bench_test_run(&b->p, entry, c->frame, n, 0, &r, false);
		passes++;
		if (err || bench_now_s() - checked < 1.0)
			continue;
		checked = bench_now_s();
		err = dataplane_sticky_recorded(b->prod, BENCH_FARM6,
						(const uint32_t (*)[LB_ADDR_WORDS])b->many, n, &rec);
		if (err || rec == n || rec == prev)
			break;
		prev = rec;
	}
	err = err ?: dataplane_sticky_full(b->prod, &full);
	if (err) {
		pr_err("%s: warm-up: %s", c->label, strerror(-err));
		return err;
	}
	printf("BENCH sticky.unrecorded_%dm value=%zu unit=sources baseline=%u ratio=%.6f\n",
	       which + 1, n - rec, n, (double)(n - rec) / n);
	printf("  warm-up: %zu of %u known clients recorded in %d passes of ACKs, %.1f s, at the "
	       "default insert budget (%u/s per CPU); sticky_full %llu\n", rec, n, passes,
	       bench_now_s() - t0, LB_STICKY_INSERTS_PER_SEC, (unsigned long long)full);
	if (rec < n) {
		pr_err("%s: %zu known clients unrecorded: not benchmarking known clients", c->label,
		       n - rec);
		return -EINVAL;
	}
	return 0;
}

/* --- setup -------------------------------------------------------------------------------- */

static void frame_pad(struct pkt *p)
{
	/* the balancer accepts L2 padding past the IP total length */
	if (p->len > BENCH_FRAME_LEN) {
		fprintf(stderr, "bench_xdp: frame of %zu bytes exceeds %zu\n", p->len,
			BENCH_FRAME_LEN);
		abort();
	}
	memset(p->data + p->len, 0, BENCH_FRAME_LEN - p->len);
	p->len = BENCH_FRAME_LEN;
}

static void build_frames(void)
{
	struct pkt_spec s = { .family = LB_V4, .proto = IPPROTO_TCP, .sport = 40000,
			      .dport = 80, .tcp_flags = 0x10 };

	pkt_addr4(s.src, "198.18.0.2");
	pkt_addr4(s.dst, BENCH_VIP4);
	pkt_build(&f_ack4, &s);
	s.tcp_flags = 0x02;
	pkt_build(&f_syn4, &s);
	s.tcp_flags = 0x10;
	pkt_addr4(s.dst, "198.18.0.1");
	s.dport = 22;
	pkt_build(&f_other4, &s);

	s = (struct pkt_spec){ .family = LB_V6, .proto = IPPROTO_TCP, .sport = 40000,
			       .dport = 80, .tcp_flags = 0x10 };
	pkt_addr6(s.src, "2001:2::2");
	pkt_addr6(s.dst, BENCH_VIP6);
	pkt_build(&f_ack6, &s);
	pkt_addr6(s.src, BENCH_MANY_PREFIX);
	pkt_build(&f_many6, &s);

	frame_pad(&f_ack4);
	frame_pad(&f_syn4);
	frame_pad(&f_other4);
	frame_pad(&f_ack6);
	frame_pad(&f_many6);
}

/* The prod balancer: limpetd's defaults, the same farms as bench_open()'s. */
static int prod_open(struct bench *b)
{
	int err = dataplane_open(&b->prod, NULL);

	err = err ?: bench_farm_setup(b->prod, LB_V4, BENCH_FARM4, BENCH_VIP4, IPPROTO_TCP, 80);
	return err ?: bench_farm_setup(b->prod, LB_V6, BENCH_FARM6, BENCH_VIP6, IPPROTO_TCP, 80);
}

static int setup(struct bench *b)
{
	int lb1, err;

	err = bench_open(&b->p, IPPROTO_TCP, 80);
	b->hi = b->p.dp;
	err = err ?: prod_open(b);
	if (err)
		return err;
	b->many = calloc(MANY2_N, sizeof(*b->many));
	if (!b->many)
		return -ENOMEM;
	for (uint32_t i = 0; i < MANY2_N; i++) {
		pkt_addr6(b->many[i], BENCH_MANY_PREFIX);
		b->many[i][3] = htonl(MANY_BASE + i);
	}
	/* backend 3 is routed through lb1 in a two-port rig: a devmap redirect */
	lb1 = if_nametoindex("lb1");
	if (lb1)
		err = dataplane_port_add(b->hi, lb1) ?: dataplane_port_add(b->prod, lb1);
	if (err)
		pr_err("port lb1: %s", strerror(-err));
	return err;
}

/* --- report ------------------------------------------------------------------------------- */

static void report(const struct bench *b)
{
	double base = b->t[R_BASE].med;
	char target[24];

	printf("\nXDP per-packet cost, ns (BPF_PROG_TEST_RUN duration; min and median of %d "
	       "samples >= %llu ms each)\nratio = median / median of the baseline (wrapper + "
	       "macswap): gross over gross through the same harness\n\n", SAMPLES,
	       SAMPLE_NS / 1000000);
	printf("%-34s %8s %8s %8s  %s\n", "case", "min", "median", "ratio", "target");
	for (int i = 0; i < R_MAX; i++) {
		const struct bcase *c = &cases[i];
		double ratio = b->t[i].med / base;

		bench_target(target, sizeof(target), c->target, true, ratio);
		printf("%-34s %8.0f %8.0f %7.2fx  %s\n", c->label, b->t[i].min, b->t[i].med, ratio,
		       target);
	}
	printf("\nthe harness alone costs %.0f ns a run (a program that only returns XDP_TX); the "
	       "wrapper (frame restore and tail call) %.0f ns more\n\n", b->t[R_FLOOR].med,
	       b->t[R_WRAP].med - b->t[R_FLOOR].med);
	for (int i = 0; i < R_MAX; i++)
		if (cases[i].bench)
			printf("BENCH %s value=%.0f unit=ns baseline=%.0f ratio=%.2f\n",
			       cases[i].bench, b->t[i].med, base, b->t[i].med / base);
}

/* Check and calibrate, then sample round-robin, the cases run while the prod table holds
 * `known` clients: a drift of the machine spreads over every case of the round. */
static int measure(struct bench *b, int known)
{
	int entry, err = 0;

	for (int i = 0; i < R_MAX && !err; i++) {
		const struct bcase *c = &cases[i];

		if (c->known != known)
			continue;
		entry = case_entry(b, c, 0);
		err = entry < 0 ? entry : verify(b, c, entry);
		err = err ?: calibrate(b, c, entry, &b->t[i]);
	}
	for (int s = 0; s < SAMPLES && !err; s++)
		for (int i = 0; i < R_MAX && !err; i++)
			if (cases[i].known == known)
				err = sample(b, &cases[i], s, &b->t[i]);
	for (int i = 0; i < R_MAX && !err; i++)
		if (cases[i].known == known)
			bench_min_median(b->t[i].d, SAMPLES, &b->t[i].min, &b->t[i].med);
	return err;
}

int main(void)
{
	struct bench b = { 0 };
	int cpu = 0, err;

	log_route_libs();
	build_frames();
	err = bench_pin_cpu(&cpu);
	if (err)
		return 1;
	err = setup(&b);
	if (err)
		goto out;
	printf("bench_xdp: pinned to CPU %d, frames of %zu bytes, ingress lb0 (ifindex %d); prod "
	       "table %u buckets, rated for %llu sources\n", cpu, BENCH_FRAME_LEN, b.p.ifindex,
	       dataplane_sticky_buckets(b.prod),
	       (unsigned long long)LB_STICKY_RATED(dataplane_sticky_buckets(b.prod)));
	err = many_warm(&b, M1, 0);
	err = err ?: measure(&b, M1);
	/* the flood's ACKs recorded some sources of farm 4: the 2M get the table to themselves */
	err = err ?: forget_farm4(b.prod);
	err = err ?: many_warm(&b, M2, 1);
	err = err ?: measure(&b, M2);
	if (!err)
		report(&b);
out:
	b.p.dp = b.hi;
	bench_close(&b.p);
	dataplane_close(b.prod);
	free(b.many);
	return err ? 1 : 0;
}
