// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rig rate through the backends (`rig.backends.mpps.1client`): packets per second the balancer
 * forwards from the LB namespace of the bridge rig into the backends' kernel stacks, as a
 * ratio to a program that only swaps MACs and returns XDP_TX (bpf/baseline.bpf.c), on the same
 * rig, in the same run, on the same CPU. The bridge and the backends' stacks run on that CPU
 * too and cost most of the time: this is the rig's rate, not the balancer's (bench_rig.c
 * measures that, on a veth pair); it stays as a figure of the whole path, kept apart.
 *
 * The generator is BPF_PROG_TEST_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): what
 * the program transmits really leaves lb0 (XDP_TX becomes a redirect to the ingress device),
 * reaches the XDP_PASS program on lb0's bridge-side peer, crosses the bridge and is dropped
 * by the stack of the backend it is addressed to (UDP to port 9 of a VIP the backends do not
 * hold, and forwarding is off there). The softirq work past lb0 runs on the generating
 * CPU when the test run re-enables bottom halves after each batch, so the rate is that of the
 * whole path on one CPU, and the wall clock around the syscall measures it (the kernel's
 * duration is not meaningful in this mode). The table shows how much of it is softirq.
 *
 * The kernel fills each page of its pool from data_in once, then reuses it as it comes back:
 * a run sees the frame as an earlier run transmitted it. So every case runs behind bench_wrap
 * (bpf/bench_wrap.bpf.c), which rewrites the frame on every run.
 *
 * Run it in the LB namespace of a rig (scripts/bench.sh). Every case is first checked to take
 * the path it claims to measure, and every sample to have sent all its frames through that
 * path (the balancer's verdict counters); where the frames went is read from the counters of
 * lb0 and, when RIG_PREFIX names the rig, of the bridge ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include "bench_common.h"
#include "dataplane/dataplane.h"
#include "common/log.h"
#include "pkt.h"

#define SAMPLES		5
#define SAMPLE_S	0.65	/* a sample is sized for this, and must last >= MIN_SAMPLE_S */
#define MIN_SAMPLE_S	0.5
#define CALIB_RUNS	200000u
#define BATCH		64	/* frames per batch: the kernel's default, NAPI_POLL_WEIGHT */
#define SETTLE_US	20000	/* for the softirq backlog of a sample to drain before its
				 * counters are read */

#define VIP_PORT	9	/* discard: nobody listens on it, nothing answers */

static const uint8_t mac_lb0[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_c0[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_b1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };

/* What the client sends the LB (from c0's MAC), and the same frame as if from b1's MAC for
 * the baseline: macswap sends it back to b1, so that its frames end where the balancer's
 * do, in a backend's stack, and the two rates differ by the programs alone. */
static struct pkt f_udp4, f_ref4;

struct rcase {
	const char *label;
	const char *bench;		/* BENCH name, NULL: table only */
	enum bench_prog prog;		/* not P_WRAP_NOP */
	const struct pkt *frame;
	int base;			/* row of its baseline, -1: none */
};

enum { R_BASE4, R_LB4, R_MAX };

static const struct rcase cases[R_MAX] = {
	[R_BASE4] = { "baseline: macswap v4", NULL, P_WRAP_MACSWAP, &f_ref4, -1 },
	[R_LB4] = { "1 client (v4)", "rig.backends.mpps.1client", P_WRAP_LB, &f_udp4, R_BASE4 },
};

/* Where the frames went: counters of lb0 (our namespace) and of the bridge ports (the rig's
 * switch namespace). 32-bit, as getifaddrs gives them: deltas are taken modulo 2^32. */
enum where { W_LB0_TX, W_LB0_DROP, W_BR_IN, W_C0, W_B1, W_MAX = W_B1 + BENCH_NBACKENDS };

static const char *const where_name[W_MAX] = { "out lb0", "lb0 drop", "bridge in", "to c0",
					       "to b1", "to b2", "to b3" };

struct where_count {
	uint32_t v[W_MAX];
};

struct timing {
	uint32_t repeat;		/* frames per sample */
	double mpps[SAMPLES];
	double min, med;
	uint64_t sent;			/* frames generated, over all samples */
	uint64_t went[W_MAX];		/* counter deltas, over all samples */
	uint64_t busy, soft;		/* the CPU's ticks busy / in softirq, over all samples */
};

struct bench {
	struct bench_progs p;
	int cpu;			/* the one we run on */
	int own_ns, sw_ns;		/* -1: the switch's counters are not read */
	struct timing t[R_MAX];
};

/* --- counters ----------------------------------------------------------------------------- */

static void read_links(struct where_count *w, bool sw)
{
	struct ifaddrs *ifs, *i;
	char name[IFNAMSIZ];

	if (getifaddrs(&ifs))
		return;
	for (i = ifs; i; i = i->ifa_next) {
		const struct rtnl_link_stats *s = i->ifa_data;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET || !s)
			continue;
		if (!sw && !strcmp(i->ifa_name, "lb0")) {
			/* a veth counts as its tx what its peer's XDP took in, and as its tx
			 * drops what the peer's ring refused */
			w->v[W_LB0_TX] = s->tx_packets;
			w->v[W_LB0_DROP] = s->tx_dropped;
		}
		if (!sw)
			continue;
		if (!strcmp(i->ifa_name, "p-lb-lb0"))
			w->v[W_BR_IN] = s->rx_packets;
		else if (!strcmp(i->ifa_name, "p-c-c0"))
			w->v[W_C0] = s->tx_packets;
		for (int k = 1; k <= BENCH_NBACKENDS; k++) {
			snprintf(name, sizeof(name), "p-b%d-eth0", k);
			if (!strcmp(i->ifa_name, name))
				w->v[W_B1 + k - 1] = s->tx_packets;
		}
	}
	freeifaddrs(ifs);
}

static void read_where(const struct bench *b, struct where_count *w)
{
	memset(w, 0, sizeof(*w));
	read_links(w, false);
	if (b->sw_ns < 0)
		return;
	/* this thread alone visits the switch's namespace, to list its ports */
	if (setns(b->sw_ns, CLONE_NEWNET))
		return;
	read_links(w, true);
	if (setns(b->own_ns, CLONE_NEWNET)) {
		pr_err("back to the LB namespace: %s", strerror(errno));
		abort();
	}
}

/* --- test runs ---------------------------------------------------------------------------- */

/* repeat frames in live-frames mode: they are transmitted. Gives the wall time. */
static int live_run(const struct bench *b, int fd, const struct pkt *f, uint32_t repeat,
		    double *secs)
{
	struct bench_run r;
	double t0 = bench_now_s();
	int err;

	err = bench_test_run(&b->p, fd, f, repeat, BATCH, &r, false);
	if (err)
		return err;
	*secs = bench_now_s() - t0;
	return 0;
}

/* One dry run of case c with its output: it must go where the case says. */
static int verify(struct bench *b, const struct rcase *c, int entry)
{
	struct bench_run r;
	int err, k;

	/* one LB port: every server is reached through lb0 itself */
	err = bench_check_run(&b->p, c->label, entry, c->frame, c->prog == P_WRAP_LB,
			      BENCH_ACT(XDP_TX), &r);
	if (err)
		return err;
	if (r.out_len < 12 || memcmp(r.out + 6, mac_lb0, 6)) {
		pr_err("%s: transmitted frame does not come from lb0's MAC", c->label);
		return -EINVAL;
	}
	if (c->prog == P_WRAP_LB) {
		k = bench_backend_of(r.out);
		if (!k) {
			pr_err("%s: forwarded frame is not addressed to a backend MAC", c->label);
			return -EINVAL;
		}
		printf("  check %-30s XDP_TX to b%d\n", c->label, k);
	} else {
		if (bench_backend_of(r.out) != 1) {
			pr_err("%s: macswap did not send the frame back to b1", c->label);
			return -EINVAL;
		}
		printf("  check %-30s XDP_TX to b1\n", c->label);
	}
	return 0;
}

/* One timed live run of case c, repeat frames; the balancer must have forwarded all. */
static int run_once(struct bench *b, const struct rcase *c, struct timing *t, uint32_t repeat,
		    double *secs)
{
	struct lb_counter before[LB_R_MAX], after[LB_R_MAX];
	struct where_count w0, w1;
	uint64_t busy0, soft0, busy1, soft1, fwd;
	int entry, err;

	entry = bench_entry(&b->p, c->label, c->prog, c->frame, 0, 0, 0);
	if (entry < 0)
		return entry;
	read_where(b, &w0);
	err = dataplane_verdicts(b->p.dp, before);
	bench_cpu_ticks(b->cpu, &busy0, &soft0);
	if (!err)
		err = live_run(b, entry, c->frame, repeat, secs);
	bench_cpu_ticks(b->cpu, &busy1, &soft1);
	if (!err)
		err = dataplane_verdicts(b->p.dp, after);
	if (err) {
		pr_err("%s: live test run: %s", c->label, strerror(-err));
		return err;
	}
	fwd = bench_forwarded(after) - bench_forwarded(before);
	if (c->prog == P_WRAP_LB && fwd != repeat) {
		pr_err("%s: %llu of %u frames forwarded: not benchmarking a broken path", c->label,
		       (unsigned long long)fwd, repeat);
		bench_explain(b->p.dp, before);
		return -EINVAL;
	}
	usleep(SETTLE_US);
	read_where(b, &w1);
	for (int i = 0; i < W_MAX; i++)
		t->went[i] += (uint32_t)(w1.v[i] - w0.v[i]);
	t->sent += repeat;
	t->busy += busy1 - busy0;
	t->soft += soft1 - soft0;
	return 0;
}

/* Frames per sample so that one lasts about SAMPLE_S. */
static int calibrate(struct bench *b, const struct rcase *c, struct timing *t)
{
	double secs, repeat;
	int err;

	err = run_once(b, c, t, CALIB_RUNS, &secs);
	if (err)
		return err;
	repeat = SAMPLE_S * CALIB_RUNS / (secs > 0 ? secs : 1e-9);
	t->repeat = repeat > UINT32_MAX ? UINT32_MAX : (uint32_t)repeat;
	/* what the calibration sent is not part of the samples */
	t->sent = t->busy = t->soft = 0;
	memset(t->went, 0, sizeof(t->went));
	return 0;
}

static int sample(struct bench *b, const struct rcase *c, int i, struct timing *t)
{
	double secs;
	int err = run_once(b, c, t, t->repeat, &secs);

	if (err)
		return err;
	if (secs < MIN_SAMPLE_S)
		pr_warn("%s: sample %d lasted only %.2f s", c->label, i, secs);
	t->mpps[i] = t->repeat / secs / 1e6;
	return 0;
}

/* --- setup -------------------------------------------------------------------------------- */

/* A UDP frame to VIP_PORT, exactly BENCH_FRAME_LEN bytes on the wire (no L2 padding), from
 * smac to lb0's MAC. */
static void build_udp(struct pkt *p, const uint8_t smac[6], int family, const char *src,
		      const char *dst)
{
	struct pkt_spec s = { .family = family, .proto = IPPROTO_UDP, .sport = 40000,
			      .dport = VIP_PORT };
	size_t hdrs = 14 + (family == LB_V4 ? 20 : 40) + 8;

	memcpy(s.smac, smac, 6);
	memcpy(s.dmac, mac_lb0, 6);
	s.payload_len = BENCH_FRAME_LEN - hdrs;
	if (family == LB_V4) {
		pkt_addr4(s.src, src);
		pkt_addr4(s.dst, dst);
	} else {
		pkt_addr6(s.src, src);
		pkt_addr6(s.dst, dst);
	}
	pkt_build(p, &s);
	if (p->len != BENCH_FRAME_LEN) {
		fprintf(stderr, "bench_rig_backends: frame of %zu bytes, want %zu\n", p->len,
			BENCH_FRAME_LEN);
		abort();
	}
}

static void build_frames(void)
{
	build_udp(&f_udp4, mac_c0, LB_V4, "198.18.0.2", BENCH_VIP4);
	build_udp(&f_ref4, mac_b1, LB_V4, "198.18.0.2", BENCH_VIP4);
}

/* The rig's switch namespace, to read where frames went; -1 (and a note) if unknown. */
static int open_sw_ns(void)
{
	const char *prefix = getenv("RIG_PREFIX");
	char path[256];
	int fd;

	if (!prefix || !*prefix) {
		printf("  RIG_PREFIX unset: bridge port counters not read\n");
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s-sw", prefix);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		printf("  %s: %s: bridge port counters not read\n", path, strerror(errno));
	return fd;
}

static int setup(struct bench *b)
{
	int err;

	err = bench_open(&b->p, IPPROTO_UDP, VIP_PORT);
	if (err)
		return err;
	if (if_nametoindex("lb1")) {
		pr_err("a second LB port (lb1): this benchmark wants a one-port rig");
		return -EINVAL;
	}
	b->own_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (b->own_ns < 0) {
		err = -errno;
		pr_err("own network namespace: %s", strerror(-err));
		return err;
	}
	b->sw_ns = open_sw_ns();
	return 0;
}

/* --- report ------------------------------------------------------------------------------- */

static double ratio_of(const struct bench *b, int i)
{
	return cases[i].base < 0 ? 1 : b->t[i].med / b->t[cases[i].base].med;
}

static void report(const struct bench *b)
{
	char ratio[16];

	printf("\nRig rate through the backends, Mpps (BPF_PROG_TEST_RUN live frames of %zu bytes, "
	       "batch %d, one CPU;\nwall clock, min and median of %d samples >= %.1f s each); "
	       "ratio = median / median of its baseline;\nsoftirq = share of the CPU's busy "
	       "time spent past lb0 (peer's XDP, bridge, receiving stack)\n\n",
	       BENCH_FRAME_LEN, BATCH, SAMPLES, MIN_SAMPLE_S);
	printf("%-30s %8s %8s %8s %7s\n", "case", "min", "median", "softirq", "ratio");
	for (int i = 0; i < R_MAX; i++) {
		const struct rcase *c = &cases[i];
		double r = ratio_of(b, i);

		if (c->base < 0)
			snprintf(ratio, sizeof(ratio), "-");
		else
			snprintf(ratio, sizeof(ratio), "%.2fx", r);
		printf("%-30s %8.3f %8.3f %7.0f%% %7s\n", c->label, b->t[i].min, b->t[i].med,
		       b->t[i].busy ? 100.0 * b->t[i].soft / b->t[i].busy : 0.0, ratio);
	}

	printf("\nWhere the frames went, %% of those generated (all samples; counters of lb0 "
	       "and of the bridge ports)\n\n%-30s %12s", "case", "generated");
	for (int w = 0; w < W_MAX; w++)
		printf(" %9s", where_name[w]);
	printf("\n");
	for (int i = 0; i < R_MAX; i++) {
		const struct timing *t = &b->t[i];

		printf("%-30s %12llu", cases[i].label, (unsigned long long)t->sent);
		for (int w = 0; w < W_MAX; w++) {
			if (w >= W_BR_IN && b->sw_ns < 0)
				printf(" %9s", "?");
			else
				printf(" %8.1f%%", 100.0 * t->went[w] / t->sent);
		}
		printf("\n");
	}
	printf("\n(baseline: macswap behind the same wrapper, the frames as if from b1, sent back "
	       "to it)\n\n");

	for (int i = 0; i < R_MAX; i++) {
		const struct rcase *c = &cases[i];

		if (c->bench)
			printf("BENCH %s value=%.3f unit=Mpps baseline=%.3f ratio=%.2f\n", c->bench,
			       b->t[i].med, b->t[c->base].med, ratio_of(b, i));
	}
}

/* Entry, warm-up, check and calibration of case i. */
static int prepare(struct bench *b, int i)
{
	const struct rcase *c = &cases[i];
	int entry, err = 0;

	entry = bench_entry(&b->p, c->label, c->prog, c->frame, 0, 0, 0);
	if (entry < 0)
		return entry;
	err = verify(b, c, entry);
	if (!err)
		err = calibrate(b, c, &b->t[i]);
	return err;
}

/* The frames of case i reached the node they were sent to, through the bridge, and only it
 * (no flooding): else the rate is not that of the path named. Needs the bridge's counters. */
static int check_where(const struct bench *b, int i)
{
	const struct timing *t = &b->t[i];
	uint64_t want = 0, all = 0;

	if (b->sw_ns < 0)
		return 0;
	for (int w = W_C0; w < W_MAX; w++) {
		all += t->went[w];
		if (cases[i].prog == P_WRAP_MACSWAP ? w == W_B1 : w >= W_B1)
			want += t->went[w];
	}
	if (want < t->sent * 0.99 || all > t->sent * 1.01) {
		pr_err("%s: of %llu frames, %llu reached %s and %llu left the bridge in all: not "
		       "benchmarking the path named",
		       cases[i].label, (unsigned long long)t->sent, (unsigned long long)want,
		       cases[i].prog == P_WRAP_MACSWAP ? "b1" : "the backends",
		       (unsigned long long)all);
		return -EINVAL;
	}
	return 0;
}

int main(void)
{
	struct bench b = { .own_ns = -1, .sw_ns = -1 };
	int err;

	log_route_libs();
	build_frames();
	if (bench_pin_cpu(&b.cpu))
		return 1;
	printf("bench_rig_backends: pinned to CPU %d, UDP frames of %zu bytes to port %d of %s, "
	       "ingress lb0\n",
	       b.cpu, BENCH_FRAME_LEN, VIP_PORT, BENCH_VIP4);
	err = setup(&b);
	if (err)
		goto out;
	for (int i = 0; i < R_MAX && !err; i++)
		err = prepare(&b, i);
	/* round-robin: a drift of the machine spreads over every case */
	for (int s = 0; s < SAMPLES && !err; s++)
		for (int i = 0; i < R_MAX && !err; i++)
			err = sample(&b, &cases[i], s, &b.t[i]);
	for (int i = 0; i < R_MAX && !err; i++)
		err = check_where(&b, i);
	for (int i = 0; i < R_MAX && !err; i++)
		bench_min_median(b.t[i].mpps, SAMPLES, &b.t[i].min, &b.t[i].med);
	if (!err)
		report(&b);
out:
	bench_close(&b.p);
	if (b.sw_ns >= 0)
		close(b.sw_ns);
	if (b.own_ns >= 0)
		close(b.own_ns);
	return err ? 1 : 0;
}
