// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shared by the benchmarks: see bench_common.h. */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_common.h"
#include "common/log.h"

int bench_farm_setup(struct dataplane *dp, uint8_t family, uint32_t farm, const char *vip,
		     uint8_t proto, uint16_t port)
{
	static const char *const srv4[BENCH_NBACKENDS] = { "198.18.1.11", "198.18.1.12",
							   "198.18.1.13" };
	static const char *const srv6[BENCH_NBACKENDS] = { "2001:2::1:11", "2001:2::1:12",
							   "2001:2::1:13" };
	struct dp_server sv[BENCH_NBACKENDS];
	struct dp_farm f = { .slot = farm, .seed = BENCH_SEED, .stickiness = LB_STICKY_SOURCE_IP,
			     .forwarding = LB_FWD_DSR, .nservers = BENCH_NBACKENDS, .servers = sv };
	struct dp_vip v = { .family = family, .proto = proto, .port_lo = port, .port_hi = port,
			    .farm = farm, .frontend = farm };
	int err;

	for (int k = 0; k < BENCH_NBACKENDS; k++) {
		sv[k] = (struct dp_server){ .id = k + 1, .family = family, .weight = k + 1,
					    .eligible = true };
		if (family == LB_V4)
			pkt_addr4(sv[k].addr, srv4[k]);
		else
			pkt_addr6(sv[k].addr, srv6[k]);
	}
	if (family == LB_V4)
		pkt_addr4(v.addr, vip);
	else
		pkt_addr6(v.addr, vip);
	err = dataplane_farm_set(dp, &f);
	if (err) {
		pr_err("farm %u: %s", farm, strerror(-err));
		return err;
	}
	err = dataplane_vip_set(dp, &v);
	if (err)
		pr_err("vip %s port %u: %s", vip, port, strerror(-err));
	return err;
}

int bench_open(struct bench_progs *p, uint8_t proto, uint16_t port)
{
	struct dataplane_opts opts = { .insert_rate = BENCH_INSERT_RATE };
	int err;

	p->ifindex = if_nametoindex("lb0");
	if (!p->ifindex) {
		pr_err("no lb0 here: run me in the rig's LB namespace (scripts/bench.sh)");
		return -ENODEV;
	}
	err = dataplane_open(&p->dp, &opts);
	if (err)
		return err;
	err = bench_farm_setup(p->dp, LB_V4, BENCH_FARM4, BENCH_VIP4, proto, port);
	if (!err)
		err = bench_farm_setup(p->dp, LB_V6, BENCH_FARM6, BENCH_VIP6, proto, port);
	if (err)
		return err;
	p->base = baseline__open_and_load();
	if (!p->base) {
		err = -errno;
		pr_err("loading the baseline: %s", strerror(-err));
		return err;
	}
	p->wrap = bench_wrap__open_and_load();
	if (!p->wrap) {
		err = -errno;
		pr_err("loading the wrapper: %s", strerror(-err));
		return err;
	}
	return 0;
}

void bench_close(struct bench_progs *p)
{
	bench_wrap__destroy(p->wrap);
	baseline__destroy(p->base);
	dataplane_close(p->dp);
}

static int prog_fd(const struct bench_progs *p, enum bench_prog k)
{
	switch (k) {
	case P_MACSWAP:
	case P_WRAP_MACSWAP:
		return bpf_program__fd(p->base->progs.limpet_macswap);
	case P_WRAP_NOP:
	case P_NOP:
		return bpf_program__fd(p->wrap->progs.bench_nop);
	case P_WRAP_LB:
		return dataplane_prog_fd(p->dp);
	}
	return -1;
}

static int wrap_setup(struct bench_progs *p, int fd, const struct pkt *frame, uint32_t src_base,
		      uint32_t nsrc, uint32_t src_next)
{
	struct bench_wrap__bss *g = p->wrap->bss;
	const uint8_t *f = frame->data;
	size_t l3 = pkt_l3_offset(frame);
	bool v6 = f[l3 - 2] == 0x86 && f[l3 - 1] == 0xdd;
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(p->wrap->maps.target), &zero, &fd, BPF_ANY))
		return -errno;
	memcpy(g->frame, f, BENCH_FRAME_LEN);
	/* the varying word: the IPv4 source, or the last word of the IPv6 source */
	g->src_off = l3 + (v6 ? 8 + 12 : 12);
	g->src_base = src_base;
	g->nsrc = nsrc;
	g->src_next = src_next;
	return bpf_program__fd(p->wrap->progs.bench_wrap);
}

int bench_entry(struct bench_progs *p, const char *label, enum bench_prog prog,
		const struct pkt *frame, uint32_t src_base, uint32_t nsrc, uint32_t src_next)
{
	int entry = prog_fd(p, prog);

	if (prog != P_MACSWAP && prog != P_NOP)
		entry = wrap_setup(p, entry, frame, src_base, nsrc, src_next);
	if (entry < 0)
		pr_err("%s: setting up the wrapper: %s", label, strerror(-entry));
	return entry;
}

int bench_test_run(const struct bench_progs *p, int fd, const struct pkt *f, uint32_t repeat,
		   uint32_t batch, struct bench_run *r, bool want_out)
{
	struct xdp_md ctx = { .data_end = f->len, .ingress_ifindex = p->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->data, .data_size_in = f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (batch) {
		o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
		o.batch_size = batch;
	}
	if (want_out) {
		o.data_out = r->out;
		o.data_size_out = sizeof(r->out);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	r->retval = o.retval;
	r->duration = o.duration;
	r->out_len = o.data_size_out;
	return 0;
}

const char *bench_action_name(uint32_t act)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return act < sizeof(names) / sizeof(names[0]) ? names[act] : "?";
}

bool bench_action_in(unsigned int acts, uint32_t act)
{
	return act < 32 && (acts & BENCH_ACT(act));
}

void bench_explain(const struct dataplane *dp, const struct lb_counter before[LB_R_MAX])
{
	struct lb_counter now[LB_R_MAX];

	if (dataplane_verdicts(dp, now))
		return;
	for (int r = 0; r < LB_R_MAX; r++)
		if (now[r].packets != before[r].packets)
			pr_err("  balancer verdict %s: +%llu", dataplane_reason_name(r),
			       (unsigned long long)(now[r].packets - before[r].packets));
}

int bench_check_run(const struct bench_progs *p, const char *label, int entry,
		    const struct pkt *frame, bool lb, unsigned int acts, struct bench_run *r)
{
	struct lb_counter before[LB_R_MAX] = { 0 };
	char want[64] = "";
	int err;

	if (lb && dataplane_verdicts(p->dp, before))
		return -EIO;
	err = bench_test_run(p, entry, frame, 1, 0, r, true);
	if (err) {
		pr_err("%s: test run: %s", label, strerror(-err));
		return err;
	}
	if (bench_action_in(acts, r->retval))
		return 0;
	for (uint32_t a = 0; a <= XDP_REDIRECT; a++)
		if (acts & BENCH_ACT(a))
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
				 *want ? " or " : "", bench_action_name(a));
	pr_err("%s: expected %s, got %s: not benchmarking a broken path", label, want,
	       bench_action_name(r->retval));
	if (lb)
		bench_explain(p->dp, before);
	return -EINVAL;
}

int bench_pin_cpu(int *cpu)
{
	cpu_set_t set;
	int c, err;

	if (sched_getaffinity(0, sizeof(set), &set))
		goto fail;
	for (c = CPU_SETSIZE - 1; c > 0 && !CPU_ISSET(c, &set); c--)
		;
	CPU_ZERO(&set);
	CPU_SET(c, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		goto fail;
	*cpu = c;
	return 0;
fail:
	err = -errno;
	pr_err("pinning to one CPU: %s", strerror(-err));
	return err;
}

int bench_backend_of(const uint8_t mac[6])
{
	/* rig.sh: backend K has 02:00:00:00:01:0K */
	static const uint8_t prefix[5] = { 0x02, 0, 0, 0, 0x01 };

	if (memcmp(mac, prefix, sizeof(prefix)) || mac[5] < 1 || mac[5] > BENCH_NBACKENDS)
		return 0;
	return mac[5];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_min_median(double *v, int n, double *min, double *med)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	*min = v[0];
	*med = v[n / 2];
}

void bench_target(char *buf, size_t len, double target, bool at_most, double value)
{
	if (target <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s %gx %s", at_most ? "<=" : ">=", target,
			 (at_most ? value <= target : value >= target) ? "ok" : "MISSED");
}

double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void bench_cpu_ticks(int cpu, uint64_t *busy, uint64_t *soft)
{
	unsigned long long v[8] = { 0 };
	char line[256], want[16];
	FILE *f = fopen("/proc/stat", "r");

	*busy = *soft = 0;
	if (!f)
		return;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		/* user nice system idle iowait irq softirq steal */
		if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
			*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
			*soft = v[6];
		}
		break;
	}
	fclose(f);
}

uint64_t bench_forwarded(const struct lb_counter v[LB_R_MAX])
{
	return v[LB_R_TX].packets + v[LB_R_REDIRECT].packets;
}
