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

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "baseline.skel.h"
#include "bench_common.h"
#include "bench_wrap.skel.h"
#include "dataplane.h"
#include "log.h"
#include "pkt.h"

#define FRAME_LEN	sizeof(((struct bench_wrap__bss *)0)->frame)
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
#define MANY_WARMUP	1100000u	/* every source once, then 10% more as hits */

enum prog_kind { P_MACSWAP, P_WRAP_NOP, P_WRAP_MACSWAP, P_WRAP_LB };
enum expect { E_TX, E_FORWARD, E_PASS };

static struct pkt f_ack4, f_syn4, f_other4, f_ack6, f_many6;

struct bcase {
	const char *label;
	const char *bench;		/* BENCH name, NULL: table only */
	enum prog_kind prog;
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
	struct dataplane *dp;
	struct baseline *base;
	struct bench_wrap *wrap;
	int ifindex;
	struct timing t[R_MAX];
};

/* --- test runs ---------------------------------------------------------------------------- */

struct run {
	uint32_t retval;
	uint32_t duration;		/* ns per run, averaged by the kernel */
	uint8_t out[PKT_MAX + 64];	/* room for an outer header */
	uint32_t out_len;
};

static int test_run(const struct bench *b, int prog_fd, const struct pkt *f, uint32_t repeat,
		    struct run *r, bool want_out)
{
	struct xdp_md ctx = { .data_end = f->len, .ingress_ifindex = b->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->data, .data_size_in = f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (want_out) {
		o.data_out = r->out;
		o.data_size_out = sizeof(r->out);
	}
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	r->retval = o.retval;
	r->duration = o.duration;
	r->out_len = o.data_size_out;
	return 0;
}

static int prog_fd(const struct bench *b, enum prog_kind k)
{
	switch (k) {
	case P_MACSWAP:
		return bpf_program__fd(b->base->progs.limpet_macswap);
	case P_WRAP_NOP:
		return bpf_program__fd(b->wrap->progs.bench_nop);
	case P_WRAP_MACSWAP:
		return bpf_program__fd(b->base->progs.limpet_macswap);
	case P_WRAP_LB:
		return dataplane_prog_fd(b->dp);
	}
	return -1;
}

/* The program test runs start at: the wrapper, set up for case c with its source counter at
 * src_next, or macswap alone. */
static int entry_for(struct bench *b, const struct bcase *c, uint32_t src_next)
{
	struct bench_wrap__bss *g = b->wrap->bss;
	const uint8_t *f = c->frame->data;
	size_t l3 = pkt_l3_offset(c->frame);
	bool v6 = f[l3 - 2] == 0x86 && f[l3 - 1] == 0xdd;
	uint32_t zero = 0;
	int fd = prog_fd(b, c->prog);

	if (c->prog == P_MACSWAP)
		return fd;
	if (bpf_map_update_elem(bpf_map__fd(b->wrap->maps.target), &zero, &fd, BPF_ANY))
		return -errno;
	memcpy(g->frame, f, FRAME_LEN);
	/* the varying word: the IPv4 source, or the last word of the IPv6 source */
	g->src_off = l3 + (v6 ? 8 + 12 : 12);
	g->src_base = c->src_base;
	g->nsrc = c->nsrc;
	g->src_next = src_next;
	return bpf_program__fd(b->wrap->progs.bench_wrap);
}

static bool action_ok(enum expect e, uint32_t act)
{
	if (e == E_FORWARD)
		return act == XDP_TX || act == XDP_REDIRECT;
	return act == (e == E_PASS ? XDP_PASS : XDP_TX);
}

static const char *action_name(uint32_t act)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return act < sizeof(names) / sizeof(names[0]) ? names[act] : "?";
}

/* Which verdict counters of the balancer moved since `before`: why a check failed. */
static void explain(const struct bench *b, const struct lb_counter before[LB_R_MAX])
{
	struct lb_counter now[LB_R_MAX];

	if (dataplane_verdicts(b->dp, now))
		return;
	for (int r = 0; r < LB_R_MAX; r++)
		if (now[r].packets != before[r].packets)
			pr_err("  balancer verdict %s: +%llu", dataplane_reason_name(r),
			       (unsigned long long)(now[r].packets - before[r].packets));
}

/* One run of case c with its output: it must take the path it is named for. */
static int verify(struct bench *b, const struct bcase *c, int entry)
{
	struct lb_counter before[LB_R_MAX] = { 0 };
	char why[PKT_WHY_LEN];
	struct run r;
	int err, k;

	if (c->prog == P_WRAP_LB && dataplane_verdicts(b->dp, before))
		return -EIO;
	err = test_run(b, entry, c->frame, 1, &r, true);
	if (err) {
		pr_err("%s: test run: %s", c->label, strerror(-err));
		return err;
	}
	if (!action_ok(c->expect, r.retval)) {
		pr_err("%s: expected %s, got %s: not benchmarking a broken path", c->label,
		       c->expect == E_FORWARD ? "XDP_TX or XDP_REDIRECT" :
		       c->expect == E_PASS ? "XDP_PASS" : "XDP_TX", action_name(r.retval));
		if (c->prog == P_WRAP_LB)
			explain(b, before);
		return -EINVAL;
	}
	if (c->expect == E_FORWARD) {
		k = r.out_len >= 6 ? bench_backend_of(r.out) : 0;
		if (!k) {
			pr_err("%s: forwarded frame is not addressed to a backend MAC", c->label);
			return -EINVAL;
		}
		printf("  check %-28s %-12s to backend %d\n", c->label, action_name(r.retval), k);
	} else if (c->expect == E_PASS) {
		if (!pkt_check_same(c->frame, r.out, r.out_len, why)) {
			pr_err("%s: passed frame changed: %s", c->label, why);
			return -EINVAL;
		}
		printf("  check %-28s %-12s frame untouched\n", c->label, action_name(r.retval));
	}
	return 0;
}

/* Runs per sample so that one lasts at least SAMPLE_NS. */
static int calibrate(struct bench *b, const struct bcase *c, int entry, struct timing *t)
{
	uint64_t repeat = 1000;
	struct run r;
	int err;

	/* grow until one run is long enough to estimate the per-packet time */
	for (;;) {
		err = test_run(b, entry, c->frame, repeat, &r, false);
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
	t->src_next = b->wrap->bss->src_next;
	return 0;
}

/* Sample i of case c: one timed test run, the kernel's duration per run. */
static int sample(struct bench *b, const struct bcase *c, int i, struct timing *t)
{
	int entry = entry_for(b, c, t->src_next), err;
	struct run r;

	if (entry < 0) {
		pr_err("%s: setting up the wrapper: %s", c->label, strerror(-entry));
		return entry;
	}
	err = test_run(b, entry, c->frame, t->repeat, &r, false);
	if (err) {
		pr_err("%s: test run: %s", c->label, strerror(-err));
		return err;
	}
	if (!action_ok(c->expect, r.retval)) {
		pr_err("%s: sample %d ended with %s", c->label, i, action_name(r.retval));
		return -EINVAL;
	}
	t->d[i] = r.duration;
	t->src_next = b->wrap->bss->src_next;
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
	uint32_t over = bench_many_overflow(BENCH_FARM6, MANY_BASE, MANY_N, LB_STICKY_BUCKETS);
	struct run r;
	int err;

	err = test_run(b, entry, c->frame, MANY_WARMUP, &r, false);
	if (err) {
		pr_err("%s: warm-up: %s", c->label, strerror(-err));
		return err;
	}
	if (!action_ok(c->expect, r.retval)) {
		pr_err("%s: warm-up ended with %s", c->label, action_name(r.retval));
		return -EINVAL;
	}
	printf("  warm-up: %u ACKs over %u sources %s%x+ (sticky insert budget raised to "
	       "%u/s per CPU, default %u, so that all are recorded);\n"
	       "           %u sources (%.2f%%) find their bucket full and stay on Maglev\n",
	       MANY_WARMUP, MANY_N, BENCH_MANY_PREFIX, MANY_BASE, BENCH_INSERT_RATE,
	       LB_STICKY_INSERTS_PER_SEC, over, 100.0 * over / MANY_N);
	return 0;
}

/* --- setup -------------------------------------------------------------------------------- */

static void frame_pad(struct pkt *p)
{
	/* the balancer accepts L2 padding past the IP total length */
	if (p->len > FRAME_LEN) {
		fprintf(stderr, "bench_xdp: frame of %zu bytes exceeds %zu\n", p->len, FRAME_LEN);
		abort();
	}
	memset(p->data + p->len, 0, FRAME_LEN - p->len);
	p->len = FRAME_LEN;
}

static void build_frames(void)
{
	struct pkt_spec s = { .family = LB_V4, .proto = IPPROTO_TCP, .sport = 40000,
			      .dport = 80, .tcp_flags = 0x10 };

	pkt_addr4(s.src, "198.18.0.2");
	pkt_addr4(s.dst, "198.18.100.1");
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
	pkt_addr6(s.dst, "2001:2:0:100::1");
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
	struct dataplane_opts opts = { .insert_rate = BENCH_INSERT_RATE };
	int lb1, err;

	b->ifindex = if_nametoindex("lb0");
	if (!b->ifindex) {
		pr_err("no lb0 here: run me in the rig's LB namespace (scripts/bench.sh)");
		return -ENODEV;
	}
	err = dataplane_open(&b->dp, &opts);
	if (err)
		return err;
	err = bench_farm_setup(b->dp, LB_V4, BENCH_FARM4, "198.18.100.1", IPPROTO_TCP, 80);
	if (!err)
		err = bench_farm_setup(b->dp, LB_V6, BENCH_FARM6, "2001:2:0:100::1", IPPROTO_TCP,
				       80);
	if (err)
		return err;
	/* backend 3 is routed through lb1 in a two-port rig: a devmap redirect */
	lb1 = if_nametoindex("lb1");
	if (lb1) {
		err = dataplane_port_add(b->dp, lb1);
		if (err) {
			pr_err("port lb1: %s", strerror(-err));
			return err;
		}
	}
	b->base = baseline__open_and_load();
	if (!b->base) {
		err = -errno;
		pr_err("loading the baseline: %s", strerror(-err));
		return err;
	}
	b->wrap = bench_wrap__open_and_load();
	if (!b->wrap) {
		err = -errno;
		pr_err("loading the wrapper: %s", strerror(-err));
		return err;
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
		if (c->target > 0)
			snprintf(target, sizeof(target), "<= %gx %s", c->target,
				 n / base <= c->target ? "ok" : "MISSED");
		else
			snprintf(target, sizeof(target), "-");
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

	log_route_libbpf();
	build_frames();
	err = bench_pin_cpu(&cpu);
	if (err) {
		pr_err("pinning to one CPU: %s", strerror(-err));
		return 1;
	}
	err = setup(&b);
	if (err)
		goto out;
	printf("bench_xdp: pinned to CPU %d, frames of %zu bytes, ingress lb0 (ifindex %d)\n",
	       cpu, FRAME_LEN, b.ifindex);
	for (int i = 0; i < R_MAX && !err; i++) {
		const struct bcase *c = &cases[i];

		entry = entry_for(&b, c, 0);
		if (entry < 0) {
			err = entry;
			pr_err("%s: setting up the wrapper: %s", c->label, strerror(-err));
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
	bench_wrap__destroy(b.wrap);
	baseline__destroy(b.base);
	dataplane_close(b.dp);
	return err ? 1 : 0;
}
