// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rig forwarding rate bound by the balancer (DESIGN.md section 7): frames per second the
 * balancer forwards on a veth, as a ratio to a program that only swaps MACs and returns XDP_TX
 * (bpf/baseline.bpf.c), on the same rig, in the same run, on the same CPU.
 *
 * Rig: scripts/rig.sh --topology pair, one veth pair g0 (generator) <-> lb0 (LB), no bridge
 * and no backend stack on the path. The generator (bpf/rig_gen.bpf.c) runs through
 * BPF_PROG_TEST_RUN in live-frames mode on g0, pinned to one CPU: every frame really leaves
 * g0. lb0 runs, per case, bpf/rig_count.bpf.c (the ceiling: count and drop on arrival), MAC-swap
 * or the balancer, loaded by the dataplane module as limpetd loads it, with limpetd's defaults
 * (sticky table size, insert budget); what they transmit comes back to g0, where rig_count
 * counts it by destination MAC and drops it. Rate = frames counted / wall time of the test run.
 *
 * Everything runs on the generating CPU: the test run flushes a batch to lb0's ring, and the
 * veth NAPI polls of lb0 and then g0 run in the softirq that re-enabling bottom halves after
 * each batch raises. So a case costs generator + hop to lb0 + its program (+ hop back + count);
 * the ceiling and MAC-swap, measured alongside, say how much of that is the rig's.
 *
 * The known clients (64k, 1M: IPv6, BENCH_MANY_PREFIX + i) are recorded first by live ACKs
 * through the balancer at its default insert budget (1M take 10 s), and the benchmark fails
 * unless the sticky table then holds them all (a census of the table; sticky_full is shown).
 * The flood sends SYNs from a new source every frame: never recorded (the insert policy),
 * each one a sticky miss and a Maglev pick.
 *
 * Where the time goes: per frame, the ceiling is the rig's one-way cost, MAC-swap adds the way
 * back, and one more run per case with the kernel's BPF run-time stats on gives the time in
 * the LB side's program itself.
 *
 * `bench_rig --smoke` (make test): one short live run of the ceiling, MAC-swap and the
 * balancer with 1 client, checked (frames counted, forwarded to a backend's MAC), as TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bench_common.h"
#include "common/log.h"
#include "dataplane/dataplane.h"
#include "pkt.h"
#include "rig_count.skel.h"
#include "rig_gen.skel.h"

#define SAMPLES		5
#define SAMPLE_S	0.4	/* a sample is sized for this */
#define CALIB_FRAMES	200000u
#define SMOKE_FRAMES	20000u
#define BATCH		64	/* frames per test-run batch: the kernel's default */
#define VIP_PORT	80
#define KNOWN_BASE	1u	/* the known clients: BENCH_MANY_PREFIX + 1 .. */
#define FLOOD_PREFIX	"2001:2:0:201::"	/* next to the known clients' /64 */
#define WARM_SLACK_S	5	/* a warm-up may last this much over what the budget needs */
#define MIN_COUNTED	0.99	/* of the frames sent, else the path is not the one named */
#define OTHER_ENTRIES	1	/* sticky entries of no known client: the 1 client's */

static const uint8_t mac_lb0[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_g0[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* What runs on lb0. */
enum on_lb { ON_LB_DROP, ON_LB_MACSWAP, ON_LB_BALANCER };

/* TCP to the VIP: ACKs from one client, from the known clients (the source's last word
 * varies), SYNs from the flood's sources. */
static struct pkt f_ack, f_known, f_syn;

struct rcase {
	const char *label;
	const char *bench;		/* BENCH name */
	enum on_lb on_lb;
	const struct pkt *frame;
	uint32_t nsrc;			/* sources, from the frame's (see rig_gen.bpf.c) */
	double target;			/* ratio to MAC-swap to reach, 0: none */
	bool known;			/* record its nsrc sources before timing */
};

enum { C_CEIL, C_MACSWAP, C_1, C_64K, C_1M, C_FLOOD, C_MAX };

/* Every ratio is to C_MACSWAP, the ceiling's too. */
static const struct rcase cases[C_MAX] = {
	[C_CEIL] = { "ceiling: generator -> drop", "rig.lb.ceiling", ON_LB_DROP, &f_ack, 0 },
	[C_MACSWAP] = { "MAC-swap (baseline)", NULL, ON_LB_MACSWAP, &f_ack, 0 },
	[C_1] = { "limpet, 1 client", "rig.lb.mpps.1client", ON_LB_BALANCER, &f_ack, 0, 0.7 },
	[C_64K] = { "limpet, 64k known clients", "rig.lb.mpps.64k_clients", ON_LB_BALANCER,
		    &f_known, 65536, 0, true },
	[C_1M] = { "limpet, 1M known clients", "rig.lb.mpps.1m_clients", ON_LB_BALANCER,
		   &f_known, BENCH_MANY_N, 0.4, true },
	[C_FLOOD] = { "limpet, SYN flood (new src)", "rig.lb.mpps.syn_flood", ON_LB_BALANCER,
		      &f_syn, ~0u },
};

/* ns per frame the kernel's BPF run-time stats (BPF_STATS_RUN_TIME) give the LB side's
 * program and rig_count (the same program in the ceiling) in one more live run. */
struct profile {
	double lb, count;
};

struct timing {
	uint32_t repeat;		/* frames per sample */
	uint64_t next;			/* the generator's source counter between samples */
	double mpps[SAMPLES];
	double min, med;
	uint64_t busy, soft;		/* the CPU's ticks busy / in softirq, over all samples */
	struct profile prof;		/* from one more run, untimed */
};

struct bench {
	struct bench_progs lb;		/* the balancer, MAC-swap (base), lb0 */
	struct rig_gen *gen;
	struct rig_count *count;
	int lb_ns, gen_ns;		/* namespace fds */
	int g0;				/* ifindex in gen_ns */
	int ncpus, cpu;
	int on_lb;			/* what runs on lb0 now, -1: nothing */
	uint64_t entries0;		/* sticky entries before the first check */
	struct timing t[C_MAX];
};

/* --- namespaces, attachments, counters ---------------------------------------------------- */

/* This thread into the namespace fd: the generator's test runs need g0 in theirs, the
 * balancer's dry runs and lb0's attachments lb0 in theirs. */
static void enter(int fd)
{
	if (setns(fd, CLONE_NEWNET)) {
		pr_err("setns: %s", strerror(errno));
		abort();
	}
}

static int open_ns(const char *var)
{
	const char *name = getenv(var);
	char path[256];
	int fd;

	if (!name || !*name) {
		pr_err("%s unset: run me through scripts/rig.sh run --topology pair", var);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	return fd;
}

/* Native XDP, the program alone: where limpetd's libxdp attach ends up too on the kernel we
 * test on (its dispatcher fails libxdp's compatibility check, and libxdp falls back to it). */
static int attach(int ifindex, int fd, const char *what)
{
	int err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);

	if (err)
		pr_err("attaching %s (native XDP): %s", what, strerror(-err));
	return err;
}

static int prog_on_lb(const struct bench *b, enum on_lb k)
{
	switch (k) {
	case ON_LB_DROP:
		return bpf_program__fd(b->count->progs.limpet_count);
	case ON_LB_MACSWAP:
		return bpf_program__fd(b->lb.base->progs.limpet_macswap);
	case ON_LB_BALANCER:
		return dataplane_prog_fd(b->lb.dp);
	}
	return -EINVAL;
}

static int set_on_lb(struct bench *b, enum on_lb k)
{
	int err;

	if (b->on_lb == (int)k)
		return 0;
	enter(b->lb_ns);
	err = attach(b->lb.ifindex, prog_on_lb(b, k), "the LB side's program on lb0");
	enter(b->gen_ns);
	if (!err)
		b->on_lb = k;
	return err;
}

/* rig_count's slots summed over CPUs: [0] to other MACs, [K] to backend K. */
static int read_rx(const struct bench *b, uint64_t rx[BENCH_NBACKENDS + 1])
{
	uint64_t v[b->ncpus];

	for (uint32_t k = 0; k <= BENCH_NBACKENDS; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(b->count->maps.rx), &k, v))
			return -errno;
		rx[k] = 0;
		for (int c = 0; c < b->ncpus; c++)
			rx[k] += v[c];
	}
	return 0;
}

/* The generator's source counter, on every CPU. */
static int set_next(const struct bench *b, uint64_t next)
{
	uint64_t v[b->ncpus];
	uint32_t zero = 0;

	for (int c = 0; c < b->ncpus; c++)
		v[c] = next;
	return bpf_map_update_elem(bpf_map__fd(b->gen->maps.gen_next), &zero, v, BPF_ANY) ? -errno
											    : 0;
}

static uint64_t get_next(const struct bench *b)
{
	uint64_t v[b->ncpus];
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(b->gen->maps.gen_next), &zero, v))
		return 0;
	return v[b->cpu];
}

/* --- one live run ------------------------------------------------------------------------- */

/* What a live run did: frames generated, counted by destination, counted on the case's path
 * (to the backends' MACs through the balancer, else to other MACs), forwarded by the balancer,
 * and how long it took. */
struct live {
	uint32_t sent;
	uint64_t rx[BENCH_NBACKENDS + 1];
	uint64_t to_backends, counted, fwd;
	double secs;
	uint64_t busy, soft;
};

/* Point the generator at case c's frame and sources, its counter at next. */
static int gen_setup(struct bench *b, const struct rcase *c, uint64_t next)
{
	struct rig_gen__bss *g = b->gen->bss;
	size_t l3 = pkt_l3_offset(c->frame);

	memcpy(g->dmac, mac_lb0, 6);
	memcpy(g->smac, mac_g0, 6);
	/* the last word of the IPv6 source */
	g->src_off = l3 + 8 + 12;
	memcpy(&g->src_base, c->frame->data + g->src_off, 4);
	g->src_base = ntohl(g->src_base);
	g->nsrc = c->nsrc;
	return set_next(b, next);
}

/* sent frames of case c, live from g0, with lb0 running the case's program. */
static int live_run(struct bench *b, const struct rcase *c, uint64_t next, uint32_t sent,
		    struct live *l)
{
	struct lb_counter v0[LB_R_MAX], v1[LB_R_MAX];
	uint64_t rx0[BENCH_NBACKENDS + 1], b0, s0;
	struct bench_progs g = { .ifindex = b->g0 };
	struct bench_run r;
	double t0;
	int err;

	err = set_on_lb(b, c->on_lb);
	if (!err)
		err = gen_setup(b, c, next);
	if (!err)
		err = read_rx(b, rx0);
	if (!err)
		err = dataplane_verdicts(b->lb.dp, v0);
	if (err)
		return err;
	bench_cpu_ticks(b->cpu, &b0, &s0);
	t0 = bench_now_s();
	err = bench_test_run(&g, bpf_program__fd(b->gen->progs.limpet_gen), c->frame, sent, BATCH,
			     &r, false);
	l->secs = bench_now_s() - t0;
	bench_cpu_ticks(b->cpu, &l->busy, &l->soft);
	l->busy -= b0;
	l->soft -= s0;
	if (err) {
		pr_err("%s: live test run: %s", c->label, strerror(-err));
		return err;
	}
	err = read_rx(b, l->rx);
	if (!err)
		err = dataplane_verdicts(b->lb.dp, v1);
	if (err)
		return err;
	l->sent = sent;
	l->to_backends = 0;
	for (int k = 0; k <= BENCH_NBACKENDS; k++) {
		l->rx[k] -= rx0[k];
		if (k)
			l->to_backends += l->rx[k];
	}
	l->counted = c->on_lb == ON_LB_BALANCER ? l->to_backends : l->rx[0];
	l->fwd = bench_forwarded(v1) - bench_forwarded(v0);
	return 0;
}

/* The frames of a live run took the path the case names: nearly all came back, to a
 * backend's MAC through the balancer, else to another MAC (the kernel's own few frames,
 * neighbour discovery, land there too). */
static int live_check(const struct rcase *c, const struct live *l)
{
	bool lb = c->on_lb == ON_LB_BALANCER;

	if (l->counted < l->sent * MIN_COUNTED || (lb ? l->fwd < l->counted : l->to_backends)) {
		pr_err("%s: of %u frames, %llu counted on the path, %llu to a backend's MAC, "
		       "%llu forwarded by the balancer: not benchmarking the path named",
		       c->label, l->sent, (unsigned long long)l->counted,
		       (unsigned long long)l->to_backends, (unsigned long long)l->fwd);
		return -EINVAL;
	}
	return 0;
}

/* --- warm-up of the known clients --------------------------------------------------------- */

static int sticky_entries(const struct bench *b, uint64_t *n)
{
	struct dp_census cs;
	int err = dataplane_sticky_census(b->lb.dp, &cs);

	if (err) {
		pr_err("sticky census: %s", strerror(-err));
		return err;
	}
	*n = cs.entries;
	dp_census_free(&cs);
	return 0;
}

/* Record the sources of case c: passes of one ACK from each, live through the balancer, until
 * the sticky table holds them all or stops growing. At the default insert budget this takes
 * nsrc / LB_STICKY_INSERTS_PER_SEC seconds. Fails unless all are recorded. */
static int warm(struct bench *b, const struct rcase *c)
{
	double t0 = bench_now_s();
	double limit = (double)c->nsrc / LB_STICKY_INSERTS_PER_SEC + WARM_SLACK_S;
	uint64_t n = 0, prev = 0, other = b->entries0 + OTHER_ENTRIES, full0, full;
	int stalls = 0, passes = 0, err;
	struct live l;

	err = dataplane_sticky_full(b->lb.dp, &full0);
	for (; !err; passes++) {
		err = live_run(b, c, 0, c->nsrc, &l);
		if (!err)
			err = live_check(c, &l);
		if (!err)
			err = sticky_entries(b, &n);
		if (err)
			break;
		n = n > other ? n - other : 0;
		if (n >= c->nsrc || bench_now_s() - t0 > limit)
			break;
		/* the budget refills each second: passes that add nothing are stuck */
		stalls = n == prev ? stalls + 1 : 0;
		if (stalls > 2)
			break;
		prev = n;
	}
	if (!err)
		err = dataplane_sticky_full(b->lb.dp, &full);
	if (err) {
		pr_err("%s: warm-up: %s", c->label, strerror(-err));
		return err;
	}
	printf("  warm-up %-26s %llu of %u sources recorded in %d passes, %.1f s; sticky_full "
	       "+%llu\n", c->label, (unsigned long long)n, c->nsrc, passes + 1, bench_now_s() - t0,
	       (unsigned long long)(full - full0));
	if (n < c->nsrc) {
		pr_err("%s: %llu of the %u known clients unrecorded: not benchmarking known "
		       "clients", c->label, (unsigned long long)(c->nsrc - n), c->nsrc);
		return -EINVAL;
	}
	return 0;
}

/* --- timing ------------------------------------------------------------------------------- */

static int sample(struct bench *b, int i, int s)
{
	struct timing *t = &b->t[i];
	struct live l;
	int err = live_run(b, &cases[i], t->next, t->repeat, &l);

	if (!err)
		err = live_check(&cases[i], &l);
	if (err)
		return err;
	t->next = get_next(b);
	t->mpps[s] = l.counted / l.secs / 1e6;
	t->busy += l.busy;
	t->soft += l.soft;
	return 0;
}

/* Frames per sample so that one lasts about SAMPLE_S. */
static int calibrate(struct bench *b, int i)
{
	struct live l;
	double repeat;
	int err = live_run(b, &cases[i], 0, CALIB_FRAMES, &l);

	if (!err)
		err = live_check(&cases[i], &l);
	if (err)
		return err;
	repeat = SAMPLE_S * CALIB_FRAMES / (l.secs > 0 ? l.secs : 1e-9);
	b->t[i].repeat = repeat > UINT32_MAX ? UINT32_MAX : (uint32_t)repeat;
	b->t[i].next = get_next(b);
	return 0;
}

static int run_time(int prog_fd, uint64_t *ns)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*ns = info.run_time_ns;
	return 0;
}

/* One more live run of case i with the kernel's BPF run-time stats on (they add two clock
 * reads to every program run: this run is not one of the samples). */
static int profile(struct bench *b, int i)
{
	const struct rcase *c = &cases[i];
	int fd[2] = { prog_on_lb(b, c->on_lb), bpf_program__fd(b->count->progs.limpet_count) };
	uint64_t t0[2], t1[2];
	struct live l;
	int err = 0;

	for (int k = 0; k < 2 && !err; k++)
		err = run_time(fd[k], &t0[k]);
	if (!err)
		err = live_run(b, c, b->t[i].next, CALIB_FRAMES, &l);
	if (!err)
		err = live_check(c, &l);
	for (int k = 0; k < 2 && !err; k++)
		err = run_time(fd[k], &t1[k]);
	if (err) {
		pr_err("%s: profile: %s", c->label, strerror(-err));
		return err;
	}
	b->t[i].prof.lb = (double)(t1[0] - t0[0]) / l.sent;
	b->t[i].prof.count = (double)(t1[1] - t0[1]) / l.sent;
	return 0;
}

/* --- setup -------------------------------------------------------------------------------- */

/* A TCP frame (flags) from src to the VIP's port, from g0's MAC to lb0's, BENCH_FRAME_LEN
 * bytes like the other benchmarks'. */
static void build_tcp6(struct pkt *p, const char *src, uint8_t flags)
{
	struct pkt_spec s = { .family = LB_V6, .proto = IPPROTO_TCP, .sport = 40000,
			      .dport = VIP_PORT, .tcp_flags = flags };

	memcpy(s.smac, mac_g0, 6);
	memcpy(s.dmac, mac_lb0, 6);
	s.payload_len = BENCH_FRAME_LEN - (14 + 40 + 20);
	pkt_addr6(s.src, src);
	pkt_addr6(s.dst, BENCH_VIP6);
	pkt_build(p, &s);
}

static void build_frames(void)
{
	char known[64], flood[64];

	snprintf(known, sizeof(known), "%s%x", BENCH_MANY_PREFIX, KNOWN_BASE);
	snprintf(flood, sizeof(flood), "%s1", FLOOD_PREFIX);
	build_tcp6(&f_ack, "2001:2::2", 0x10);
	build_tcp6(&f_known, known, 0x10);
	build_tcp6(&f_syn, flood, 0x02);
}

/* In the LB's namespace: the balancer as limpetd opens it (its defaults), one TCP farm
 * for BENCH_VIP6 over the rig's backends (static neighbours on lb0), and MAC-swap; in the
 * generator's: g0 with rig_count on it. */
static int setup(struct bench *b)
{
	int err;

	b->lb_ns = open_ns("RIG_NS_LB");
	b->gen_ns = open_ns("RIG_NS_GEN");
	if (b->lb_ns < 0 || b->gen_ns < 0)
		return -EINVAL;
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0)
		return b->ncpus ? b->ncpus : -EINVAL;
	enter(b->lb_ns);
	b->lb.ifindex = if_nametoindex("lb0");
	enter(b->gen_ns);
	b->g0 = if_nametoindex("g0");
	if (!b->lb.ifindex || !b->g0) {
		pr_err("no lb0 or g0: run me through scripts/rig.sh run --topology pair");
		return -ENODEV;
	}
	err = dataplane_open(&b->lb.dp, NULL);
	if (!err)
		err = bench_farm_setup(b->lb.dp, LB_V6, BENCH_FARM6, BENCH_VIP6, IPPROTO_TCP,
				       VIP_PORT);
	if (err)
		return err;
	b->lb.base = baseline__open_and_load();
	b->gen = rig_gen__open_and_load();
	b->count = rig_count__open_and_load();
	if (!b->lb.base || !b->gen || !b->count) {
		err = -errno;
		pr_err("loading MAC-swap, rig_gen, rig_count: %s", strerror(-err));
		return err;
	}
	return attach(b->g0, bpf_program__fd(b->count->progs.limpet_count), "rig_count on g0");
}

static void teardown(struct bench *b)
{
	if (b->gen_ns >= 0 && b->g0) {
		enter(b->gen_ns);
		bpf_xdp_detach(b->g0, XDP_FLAGS_DRV_MODE, NULL);
	}
	if (b->lb_ns >= 0 && b->on_lb >= 0) {
		enter(b->lb_ns);
		bpf_xdp_detach(b->lb.ifindex, XDP_FLAGS_DRV_MODE, NULL);
	}
	rig_count__destroy(b->count);
	rig_gen__destroy(b->gen);
	bench_close(&b->lb);
	if (b->gen_ns >= 0)
		close(b->gen_ns);
	if (b->lb_ns >= 0)
		close(b->lb_ns);
}

/* A dry run of the balancer on the frame of case i (lb0's namespace): XDP_TX to a backend. */
static int check_balancer(struct bench *b, int i)
{
	struct bench_run r;
	int err, k;

	enter(b->lb_ns);
	err = bench_check_run(&b->lb, cases[i].label, dataplane_prog_fd(b->lb.dp),
			      cases[i].frame, true, BENCH_ACT(XDP_TX), &r);
	enter(b->gen_ns);
	if (err)
		return err;
	k = bench_backend_of(r.out);
	if (!k || r.out_len < 12 || memcmp(r.out + 6, mac_lb0, 6)) {
		pr_err("%s: the balancer's frame is not from lb0 to a backend's MAC",
		       cases[i].label);
		return -EINVAL;
	}
	printf("  check %-30s XDP_TX to b%d\n", cases[i].label, k);
	return 0;
}

/* --- report ------------------------------------------------------------------------------- */

static double ratio_of(const struct bench *b, int i)
{
	return b->t[i].med / b->t[C_MACSWAP].med;
}

static void report(const struct bench *b)
{
	double ns_ceil = 1e3 / b->t[C_CEIL].med, ns_swap = 1e3 / b->t[C_MACSWAP].med;
	char target[24];

	printf("\nLive-frame rig, Mpps (IPv6 TCP frames of %zu bytes, g0 -> lb0 -> g0 on one veth "
	       "pair, all on CPU %d;\nmin and median of %d samples of ~%.1f s; ns/frame from the "
	       "median; ratio = median / MAC-swap's)\n\n",
	       BENCH_FRAME_LEN, b->cpu, SAMPLES, SAMPLE_S);
	printf("%-30s %7s %7s %8s %9s %8s %6s  %s\n", "case", "min", "median", "ns/frame",
	       "vs swap", "softirq", "ratio", "target");
	for (int i = 0; i < C_MAX; i++) {
		const struct timing *t = &b->t[i];
		double ns = 1e3 / t->med;

		bench_target(target, sizeof(target), cases[i].target, false, ratio_of(b, i));
		printf("%-30s %7.3f %7.3f %8.1f %+8.1f %7.0f%% %5.2fx  %s\n", cases[i].label,
		       t->min, t->med, ns, ns - ns_swap,
		       t->busy ? 100.0 * t->soft / t->busy : 0.0, ratio_of(b, i), target);
	}
	printf("\nWhere the time goes, per frame on the one CPU: %.1f ns are the rig's one way "
	       "(generator, hop to lb0, drop);\nMAC-swap adds %.1f ns (the swap, the hop back to "
	       "g0, the count); each limpet row's \"vs swap\" is the\nbalancer's cost over "
	       "MAC-swap's. softirq = share of the CPU's busy time past the generator (lb0's\n"
	       "and g0's veth NAPI, their XDP programs).\n",
	       ns_ceil, ns_swap - ns_ceil);
	printf("\nTime in the LB side's program, ns/frame: the kernel's BPF run-time stats over "
	       "one more run per\ncase, net of the stats' own clock reads (taken as what they give "
	       "rig_count in that run: a\nhandful of instructions); rest = the rig's share "
	       "(generator, veth hops and NAPI polls, count)\n\n");
	printf("%-30s %8s %10s %8s %12s\n", "case", "ns/frame", "LB program", "rest",
	       "(stats cost)");
	for (int i = 0; i < C_MAX; i++) {
		const struct profile *p = &b->t[i].prof;
		double ns = 1e3 / b->t[i].med, net = p->lb - p->count;

		printf("%-30s %8.1f %10.1f %8.1f %12.1f\n", cases[i].label, ns, net, ns - net,
		       p->count);
	}
	printf("\n");
	for (int i = 0; i < C_MAX; i++)
		if (cases[i].bench)
			printf("BENCH %s value=%.3f unit=Mpps baseline=%.3f ratio=%.2f\n",
			       cases[i].bench, b->t[i].med, b->t[C_MACSWAP].med, ratio_of(b, i));
	printf("(baseline of every rig.lb line, rig.lb.ceiling's too: MAC-swap on lb0, same "
	       "run)\n");
}

/* --- main --------------------------------------------------------------------------------- */

/* make test: each LB-side program once, briefly, checked; TAP. */
static int smoke(struct bench *b)
{
	static const int which[] = { C_CEIL, C_MACSWAP, C_1 };
	int fails = 0, n = 0;

	printf("1..%zu\n", sizeof(which) / sizeof(which[0]) + 1);
	fails += check_balancer(b, C_1) != 0;
	printf("%s %d - the balancer sends the 1-client frame to a backend's MAC (dry run)\n",
	       fails ? "not ok" : "ok", ++n);
	for (size_t j = 0; j < sizeof(which) / sizeof(which[0]); j++) {
		const struct rcase *c = &cases[which[j]];
		struct live l = { 0 };
		int err = live_run(b, c, 0, SMOKE_FRAMES, &l);

		if (!err)
			err = live_check(c, &l);
		fails += err != 0;
		printf("%s %d - live frames, %s: %llu of %u counted on the path, %llu to backends' "
		       "MACs\n", err ? "not ok" : "ok", ++n, c->label,
		       (unsigned long long)l.counted, SMOKE_FRAMES,
		       (unsigned long long)l.to_backends);
	}
	return fails ? -EINVAL : 0;
}

static int bench(struct bench *b)
{
	int stats = -1, err = sticky_entries(b, &b->entries0);

	for (int i = 0; i < C_MAX && !err; i++)
		if (cases[i].on_lb == ON_LB_BALANCER)
			err = check_balancer(b, i);
	/* 64k first: they are the first 64k of the 1M */
	for (int i = 0; i < C_MAX && !err; i++)
		if (cases[i].known)
			err = warm(b, &cases[i]);
	for (int i = 0; i < C_MAX && !err; i++)
		err = calibrate(b, i);
	/* round-robin: a drift of the machine spreads over every case */
	for (int s = 0; s < SAMPLES && !err; s++)
		for (int i = 0; i < C_MAX && !err; i++)
			err = sample(b, i, s);
	if (!err) {
		stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats < 0) {
			err = stats;
			pr_err("enabling BPF run-time stats: %s", strerror(-err));
		}
	}
	for (int i = 0; i < C_MAX && !err; i++)
		err = profile(b, i);
	if (stats >= 0)
		close(stats);
	if (err)
		return err;
	for (int i = 0; i < C_MAX; i++)
		bench_min_median(b->t[i].mpps, SAMPLES, &b->t[i].min, &b->t[i].med);
	report(b);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .lb_ns = -1, .gen_ns = -1, .on_lb = -1 };
	bool is_smoke = argc == 2 && !strcmp(argv[1], "--smoke");
	int err;

	if (argc > 1 && !is_smoke) {
		fprintf(stderr, "usage: bench_rig [--smoke]  (in rig.sh run --topology pair)\n");
		return 2;
	}
	log_route_libs();
	build_frames();
	if (bench_pin_cpu(&b.cpu))
		return 1;
	if (!is_smoke)
		printf("bench_rig: pinned to CPU %d; generator on g0, lb0 runs the case's program, "
		       "rig_count on g0\n", b.cpu);
	err = setup(&b);
	if (!err)
		err = is_smoke ? smoke(&b) : bench(&b);
	teardown(&b);
	return err ? 1 : 0;
}
