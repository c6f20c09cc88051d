// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP micro-benchmark (DESIGN.md section 7): the balancer's cost per packet through
 * BPF_PROG_TEST_RUN, as a ratio to a program that only swaps MACs and returns XDP_TX
 * (bpf/baseline.bpf.c), measured in the same process on the same CPU.
 *
 * BPF_PROG_TEST_RUN reruns a program on one buffer, so each run would see the previous run's
 * output. The balancer therefore runs behind bench_wrap (bpf/bench_wrap.bpf.c), which restores
 * the frame, sets its source and tail-calls it. The wrapper alone (tail call into bench_nop)
 * is measured in the same source mode and subtracted: net = (wrapper + balancer) - wrapper.
 *
 * Run it in the LB namespace of the rig (scripts/bench.sh): the balancer's FIB lookups need
 * lb0/lb1, the routes and the static neighbours of the backends. Every case is first checked
 * to take the path it claims to measure; a benchmark of a broken path aborts.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "dataplane/dataplane.h"
#include "common/log.h"
#include "pkt.h"

#define SAMPLES		5
#define SAMPLE_NS	100000000ull	/* a sample runs at least this long */
#define CALIB_NS	(SAMPLE_NS / 10)

/* Sources the wrapper generates, inside the rig's ranges even though test-run frames never
 * reach a wire: new clients cycle through 198.18.0.0/15 (2^17 addresses; SYNs are never
 * recorded, so every run is a sticky miss), the 1M known clients are bench_common.h's. */
#define NEW_BASE	0xc6120000u	/* 198.18.0.0 */
#define NEW_N		(1u << 17)
#define MANY_BASE	0u		/* last word of BENCH_MANY_PREFIX */
#define MANY_N		BENCH_MANY_N

enum expect {
	E_TX = BENCH_ACT(XDP_TX),
	E_FORWARD = BENCH_ACT(XDP_TX) | BENCH_ACT(XDP_REDIRECT),
	E_PASS = BENCH_ACT(XDP_PASS),
};

static struct pkt f_ack4, f_syn4, f_other4, f_ack6, f_many6;

struct bcase {
	const char *label;
	const char *bench;		/* BENCH name, NULL: table only */
	enum bench_prog prog;
	const struct pkt *frame;
	uint32_t src_base, nsrc;	/* see bench_wrap.bpf.c */
	enum expect expect;
	int minus;			/* row holding the wrapper cost to subtract, -1: none */
	double target;			/* ratio to reach, 0: none */
	bool many;			/* record the MANY_N sources first */
};

enum { R_BASE, R_WRAP, R_WRAP_CTR, R_WRAP_MACSWAP, R_KNOWN, R_NEW, R_NONVIP, R_KNOWN6, R_MANY,
       R_MAX };

static const struct bcase cases[R_MAX] = {
	[R_BASE] = { "baseline: macswap", NULL, P_MACSWAP, &f_ack4, 0, 0, E_TX, -1, 0, false },
	[R_WRAP] = { "wrapper alone", "xdp.wrapper", P_WRAP_NOP, &f_ack4, 0, 0, E_TX, -1, 0,
		     false },
	[R_WRAP_CTR] = { "wrapper alone, src counter", NULL, P_WRAP_NOP, &f_ack4, NEW_BASE,
			 NEW_N, E_TX, -1, 0, false },
	/* its net is macswap's own work: how much of the baseline is the harness's */
	[R_WRAP_MACSWAP] = { "wrapper + macswap", NULL, P_WRAP_MACSWAP, &f_ack4, 0, 0, E_TX,
			     R_WRAP, 0, false },
	[R_KNOWN] = { "known client", "xdp.known_client", P_WRAP_LB, &f_ack4, 0, 0, E_FORWARD,
		      R_WRAP, 3, false },
	/* SYN only: a new source is never recorded, so every run misses and goes to Maglev */
	[R_NEW] = { "new client (SYN)", "xdp.new_client", P_WRAP_LB, &f_syn4, NEW_BASE, NEW_N,
		    E_FORWARD, R_WRAP_CTR, 20, false },
	[R_NONVIP] = { "non-VIP", "xdp.non_vip", P_WRAP_LB, &f_other4, 0, 0, E_PASS, R_WRAP, 1.5,
		       false },
	[R_KNOWN6] = { "IPv6 known client", "xdp.ipv6_known_client", P_WRAP_LB, &f_ack6, 0, 0,
		       E_FORWARD, R_WRAP, 0, false },
	[R_MANY] = { "known client among 1M (v6)", "xdp.known_client_1m", P_WRAP_LB, &f_many6,
		     MANY_BASE, MANY_N, E_FORWARD, R_WRAP_CTR, 15, true },
};

struct timing {
	uint32_t repeat;		/* runs per sample */
	uint32_t src_next;		/* the wrapper's source counter between samples */
	double d[SAMPLES];		/* ns per run */
	double min, med;
};

struct bench {
	struct bench_progs p;
	struct timing t[R_MAX];
};

/* --- test runs ---------------------------------------------------------------------------- */

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
		printf("  check %-28s %-12s to backend %d\n", c->label,
		       bench_action_name(r.retval), k);
	} else if (c->expect == E_PASS) {
		if (!pkt_check_same(c->frame, r.out, r.out_len, why)) {
			pr_err("%s: passed frame changed: %s", c->label, why);
			return -EINVAL;
		}
		printf("  check %-28s %-12s frame untouched\n", c->label,
		       bench_action_name(r.retval));
	}
	return 0;
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
	return 0;
}

/* Sample i of case c: one timed test run, the kernel's duration per run. */
static int sample(struct bench *b, const struct bcase *c, int i, struct timing *t)
{
	struct bench_run r;
	int entry, err;

	entry = bench_entry(&b->p, c->label, c->prog, c->frame, c->src_base, c->nsrc,
			    t->src_next);
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
	return 0;
}

static void summarize(struct timing *t)
{
	bench_min_median(t->d, SAMPLES, &t->min, &t->med);
}

/* --- the 1M known clients ----------------------------------------------------------------- */

/* Record the MANY_N sources: ACKs, one test run over all of them, on this one CPU (the
 * insert budget is per CPU). The wrapper's counter goes on cycling through them after. */
static int many_warmup(struct bench *b, const struct bcase *c, int entry)
{
	struct bench_run r;
	int err;

	err = bench_test_run(&b->p, entry, c->frame, BENCH_MANY_WARMUP, 0, &r, false);
	if (err) {
		pr_err("%s: warm-up: %s", c->label, strerror(-err));
		return err;
	}
	if (!bench_action_in(c->expect, r.retval)) {
		pr_err("%s: warm-up ended with %s", c->label, bench_action_name(r.retval));
		return -EINVAL;
	}
	printf("  warm-up: %u ACKs over %u sources %s%x+ (sticky insert budget raised to "
	       "%u/s per CPU, default %u, so that all are recorded);\n",
	       BENCH_MANY_WARMUP, MANY_N, BENCH_MANY_PREFIX, MANY_BASE, BENCH_INSERT_RATE,
	       LB_STICKY_INSERTS_PER_SEC);
	bench_many_note(MANY_BASE);
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

static int setup(struct bench *b)
{
	int lb1, err;

	err = bench_open(&b->p, IPPROTO_TCP, 80);
	if (err)
		return err;
	/* backend 3 is routed through lb1 in a two-port rig: a devmap redirect */
	lb1 = if_nametoindex("lb1");
	if (lb1) {
		err = dataplane_port_add(b->p.dp, lb1);
		if (err) {
			pr_err("port lb1: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

/* --- report ------------------------------------------------------------------------------- */

static double net_of(const struct bench *b, int i)
{
	return cases[i].minus < 0 ? b->t[i].med : b->t[i].med - b->t[cases[i].minus].med;
}

static void report(const struct bench *b)
{
	double base = b->t[R_BASE].med;
	char net[16], target[24];

	printf("\nXDP per-packet cost, ns (BPF_PROG_TEST_RUN duration; min and median of %d "
	       "samples >= %llu ms each)\n",
	       SAMPLES, SAMPLE_NS / 1000000);
	printf("net = median - median of the wrapper alone in the same source mode; "
	       "ratio = net / baseline median\n\n");
	printf("%-28s %8s %8s %8s %8s  %s\n", "case", "min", "median", "net", "ratio", "target");
	for (int i = 0; i < R_MAX; i++) {
		const struct bcase *c = &cases[i];
		double n = net_of(b, i);

		if (c->minus < 0)
			snprintf(net, sizeof(net), "-");
		else
			snprintf(net, sizeof(net), "%.0f", n);
		bench_target(target, sizeof(target), c->target, true, n / base);
		printf("%-28s %8.0f %8.0f %8s %7.2fx  %s\n", c->label, b->t[i].min, b->t[i].med,
		       net, n / base, target);
	}
	/* what the ratios are against: macswap's own work is small next to the harness */
	printf("\nmacswap's own work is the net of \"wrapper + macswap\" (%.0f ns); the other "
	       "%.0f ns of the baseline\nare BPF_PROG_TEST_RUN's cost per run, paid once by "
	       "every case too (inside \"wrapper alone\").\n\n",
	       net_of(b, R_WRAP_MACSWAP), base - net_of(b, R_WRAP_MACSWAP));
	for (int i = 0; i < R_MAX; i++) {
		double n = net_of(b, i);

		if (cases[i].bench)
			printf("BENCH %s value=%.0f unit=ns baseline=%.0f ratio=%.2f\n",
			       cases[i].bench, n, base, n / base);
	}
}

int main(void)
{
	struct bench b = { 0 };
	int cpu = 0, entry, err;

	log_route_libs();
	build_frames();
	err = bench_pin_cpu(&cpu);
	if (err)
		return 1;
	err = setup(&b);
	if (err)
		goto out;
	printf("bench_xdp: pinned to CPU %d, frames of %zu bytes, ingress lb0 (ifindex %d)\n",
	       cpu, BENCH_FRAME_LEN, b.p.ifindex);
	for (int i = 0; i < R_MAX && !err; i++) {
		const struct bcase *c = &cases[i];

		entry = bench_entry(&b.p, c->label, c->prog, c->frame, c->src_base, c->nsrc, 0);
		if (entry < 0) {
			err = entry;
			break;
		}
		if (c->many)
			err = many_warmup(&b, c, entry);
		/* the first ACK of a known client records it, before anything is timed */
		if (!err)
			err = verify(&b, c, entry);
		if (!err)
			err = calibrate(&b, c, entry, &b.t[i]);
	}
	/* round-robin: a drift of the machine (frequency, a neighbour's load) spreads over
	 * every case instead of skewing the ones measured while it lasted */
	for (int s = 0; s < SAMPLES && !err; s++)
		for (int i = 0; i < R_MAX && !err; i++)
			err = sample(&b, &cases[i], s, &b.t[i]);
	for (int i = 0; i < R_MAX && !err; i++)
		summarize(&b.t[i]);
	if (!err)
		report(&b);
out:
	bench_close(&b.p);
	return err ? 1 : 0;
}
