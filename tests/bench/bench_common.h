/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the benchmarks share (bench_xdp.c, bench_rig.c): the farm they balance over, the
 * programs they load and run through BPF_PROG_TEST_RUN (the balancer, macswap, the wrapper),
 * the 1M known clients, pinning to one CPU and the sample statistics. The rig's facts they
 * rely on (VIPs, backend addresses and MACs) are those of scripts/rig.sh.
 */
#ifndef LIMPET_BENCH_COMMON_H
#define LIMPET_BENCH_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "baseline.skel.h"
#include "bench_wrap.skel.h"
#include "dataplane/dataplane.h"
#include "pkt.h"

#define BENCH_SEED		0x6c696d706574ull
#define BENCH_NBACKENDS		3	/* rig backends b1..b3, weights 1:2:3 */
#define BENCH_FARM4		0
#define BENCH_FARM6		1
#define BENCH_VIP4		"198.18.100.1"
#define BENCH_VIP6		"2001:2:0:100::1"

/* Every frame has the size of the one the wrapper restores on each run. */
#define BENCH_FRAME_LEN		sizeof(((struct bench_wrap__bss *)0)->frame)

/* The 1M known clients are IPv6 (BENCH_MANY_PREFIX + i, i < BENCH_MANY_N): 198.18.0.0/15
 * holds only 2^17 addresses. */
#define BENCH_MANY_PREFIX	"2001:2:0:200::"
#define BENCH_MANY_N		1000000u
/* bench_open()'s insert budget: more than a CPU can insert in a second, never exhausted. */
#define BENCH_INSERT_RATE	10000000u

/* What a case runs: the harness floor (bench_nop alone: returns XDP_TX), macswap alone, or the
 * wrapper in front of nothing (bench_nop), of macswap or of the balancer. */
enum bench_prog { P_MACSWAP, P_WRAP_NOP, P_WRAP_MACSWAP, P_WRAP_LB, P_NOP };

/* What the benchmarks load, and lb0: test-run frames come in on it. */
struct bench_progs {
	struct dataplane *dp;
	struct baseline *base;
	struct bench_wrap *wrap;
	int ifindex;
};

/* One test run: its verdict, the kernel's time per run and, if asked for, the output frame. */
struct bench_run {
	uint32_t retval;
	uint32_t duration;		/* ns per run, averaged by the kernel */
	uint8_t out[PKT_MAX + 64];	/* room for an outer header */
	uint32_t out_len;
};

/* One sourceIp/DSR farm in slot farm over the rig's backends .11/.12/.13 (2001:2::1:11..13),
 * weights 1:2:3, and its VIP vip:port/proto. Returns 0 or -errno, logged. */
int bench_farm_setup(struct dataplane *dp, uint8_t family, uint32_t farm, const char *vip,
		     uint8_t proto, uint16_t port);

/* In the rig's LB namespace: find lb0, open the balancer (sticky insert budget
 * BENCH_INSERT_RATE) with the farms BENCH_FARM4 and BENCH_FARM6 for BENCH_VIP4 and BENCH_VIP6
 * port/proto, and load macswap and the wrapper. Returns 0 or -errno, logged; bench_close()
 * releases what was loaded either way. */
int bench_open(struct bench_progs *p, uint8_t proto, uint16_t port);
void bench_close(struct bench_progs *p);

/* The program test runs of a case start at: macswap alone, or the wrapper set up to run prog
 * on frame, its source counter at src_next (src_base, nsrc: see bench_wrap.bpf.c). Returns the
 * program's fd or -errno, logged with the case's label. */
int bench_entry(struct bench_progs *p, const char *label, enum bench_prog prog,
		const struct pkt *frame, uint32_t src_base, uint32_t nsrc, uint32_t src_next);

/* repeat runs of the program fd on frame f as if received on lb0, with the output frame if
 * want_out. batch 0: the frames go nowhere; else in live-frames mode, batch frames at a time,
 * what the program transmits leaves lb0 (and r->duration means nothing). Returns 0 or -errno. */
int bench_test_run(const struct bench_progs *p, int fd, const struct pkt *f, uint32_t repeat,
		   uint32_t batch, struct bench_run *r, bool want_out);

/* A set of XDP actions (enum xdp_action): those a case may end with. */
#define BENCH_ACT(a)		(1u << (a))

/* XDP_PASS, XDP_TX... for a program's return value. */
const char *bench_action_name(uint32_t act);
/* Whether act is one of the set acts. */
bool bench_action_in(unsigned int acts, uint32_t act);

/* Which verdict counters of the balancer moved since `before`: why a check failed. */
void bench_explain(const struct dataplane *dp, const struct lb_counter before[LB_R_MAX]);

/* A case's first check, before anything is timed: one run of entry on frame, its output in r,
 * must end with one of the actions acts. lb: the balancer runs, and its verdict counters say
 * why when it does not. Returns 0 or -errno, logged with the case's label. */
int bench_check_run(const struct bench_progs *p, const char *label, int entry,
		    const struct pkt *frame, bool lb, unsigned int acts, struct bench_run *r);

/* Pin the calling thread to the last CPU it may run on: samples stay comparable, and the
 * sticky insert budget (per CPU) is one budget. Returns 0 or -errno, logged. */
int bench_pin_cpu(int *cpu);

/* The backend (1..BENCH_NBACKENDS) a frame's destination MAC names, 0 if none. */
int bench_backend_of(const uint8_t mac[6]);

/* Sort v[0..n) and give its minimum and median. */
void bench_min_median(double *v, int n, double *min, double *med);

/* A report's target cell: "-" without a target (0), else whether value is at most (or, for a
 * rate, at least) target: "<= 3x ok", ">= 0.7x MISSED". */
void bench_target(char *buf, size_t len, double target, bool at_most, double value);

/* --- for the live-frame benchmarks (bench_rig.c, bench_rig_backends.c) --- */

/* CLOCK_MONOTONIC in seconds. */
double bench_now_s(void);
/* The CPU's ticks busy and in softirq so far (/proc/stat); 0 and 0 if unreadable. */
void bench_cpu_ticks(int cpu, uint64_t *busy, uint64_t *soft);
/* Frames the balancer forwarded (XDP_TX and redirect) in verdict counters v. */
uint64_t bench_forwarded(const struct lb_counter v[LB_R_MAX]);

#endif /* LIMPET_BENCH_COMMON_H */
