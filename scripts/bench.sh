#!/usr/bin/env bash
# limpet benchmarks (DESIGN.md section 7), run by `make bench` after the build.
#
# One function per benchmark, run in the order of `steps`; a new benchmark adds a function
# and its name to the list. Each prints a human table and its `BENCH <name> ...` lines.
# Benchmarks print, they do not judge: a step fails only when it cannot measure (setup
# error, or a case that does not take the path it is named for), never for being slow.
set -euo pipefail

cd "$(dirname "$0")/.."

die() { echo "bench: $*" >&2; exit 2; }

# XDP cost per packet through BPF_PROG_TEST_RUN against a MAC-swap XDP_TX program, gross over
# gross through the same harness. It runs in the LB namespace of a rig: the balancer's FIB
# lookups need lb0/lb1, the backends' routes and static neighbours (a neighbour miss would pass
# the packet and time the wrong path). Recording the 1M and 2M known clients at limpetd's
# default insert budget takes about 20 s; it fails if any is left unrecorded.
bench_xdp() {
	[ -x build/bench_xdp ] || die "build/bench_xdp missing: make build/bench_xdp"
	scripts/rig.sh run --backends 3 --lb-ports 2 --static-neigh -- \
		scripts/rig.sh exec lb build/bench_xdp
}

# Rig forwarding rate bound by the balancer (rig.lb.*) against MAC-swap on the same veth pair:
# live frames from a generator on g0 into lb0, XDP_TX back, counted and dropped in XDP on g0;
# the ceiling (generator -> drop), 1 client, 64k and 1M known clients, a SYN flood. The rig's
# namespaces come from RIG_NS_GEN and RIG_NS_LB (exported by `rig.sh run`).
bench_rig() {
	[ -x build/bench_rig ] || die "build/bench_rig missing: make build/bench_rig"
	scripts/rig.sh run --topology pair -- build/bench_rig
}

# The rate through the backends (rig.backends.*), a figure of the rig more than of the
# balancer: live frames from lb0 across the bridge into the backends' kernel stacks, on one
# CPU. RIG_PREFIX (exported by `rig.sh run`) lets it read the bridge ports' counters.
bench_rig_backends() {
	[ -x build/bench_rig_backends ] || die "build/bench_rig_backends missing: make"
	scripts/rig.sh run --backends 3 --static-neigh -- \
		scripts/rig.sh exec lb build/bench_rig_backends
}

# Control plane: refresh latency (API call to farm swapped, read back from the pinned farms
# map) for 1 / 100 / 1000 servers in one farm and 10 000 over 1000 farms, next to
# maglev_build alone; GET latency next to a bare libmicrohttpd server.
bench_api() {
	[ -x build/bench_api ] || die "build/bench_api missing: make build/bench_api"
	scripts/rig.sh run --backends 3 -- tests/bench/bench_api.sh
}

# Health probes: limpetd's CPU (% of one core, against the same limpetd without probes) for
# 10 000 servers probed every second with tcp and with http, and the spread of the probe
# starts seen by the listeners on the backends.
bench_health() {
	[ -x build/bench_health ] || die "build/bench_health missing: make build/bench_health"
	scripts/rig.sh run --backends 2 -- tests/bench/bench_health.sh
}

# L7: limpet's proxy (cookie stickiness) against HAProxy with the equivalent config, same
# backends, same CPU pinning, in this run: requests/s and p50/p99 latency with wrk, for clients
# without a cookie and with a valid one, at 1 worker / nbthread 1 and at 2.
bench_l7() {
	[ -x build/limpetd ] || die "build/limpetd missing: make"
	scripts/rig.sh run --backends 2 --serve -- tests/bench/bench_l7.sh
}

# Cluster (DESIGN.md section 8): two limpet nodes, BIRD with default timers on them and on
# the router: time from `limpetctl drain` and from a farm losing its last server to the
# router's route change, and the UDP requests lost across a drain.
bench_cluster() {
	command -v bird >/dev/null || die "bird missing: scripts/deps.sh"
	scripts/rig.sh run --topology cluster --backends 3 --clients 64 --serve --backend-mode dsr \
		-- tests/bench/bench_cluster.sh
}

steps=(
	bench_xdp
	bench_rig
	bench_rig_backends
	bench_api
	bench_health
	bench_cluster
	bench_l7
)

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, BPF)"
for step in "${steps[@]}"; do
	echo "== $step"
	"$step"
done
