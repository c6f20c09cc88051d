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

# XDP cost per packet through BPF_PROG_TEST_RUN against a MAC-swap XDP_TX program. It runs in
# the LB namespace of a rig: the balancer's FIB lookups need lb0/lb1, the backends' routes and
# static neighbours (a neighbour miss would pass the packet and time the wrong path).
bench_xdp() {
	[ -x build/bench_xdp ] || die "build/bench_xdp missing: make build/bench_xdp"
	scripts/rig.sh run --backends 3 --lb-ports 2 --static-neigh -- \
		scripts/rig.sh exec lb build/bench_xdp
}

steps=(
	bench_xdp
)

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, BPF)"
for step in "${steps[@]}"; do
	echo "== $step"
	"$step"
done
