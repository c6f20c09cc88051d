#!/usr/bin/env bash
# Control-plane benchmark driver (run by scripts/bench.sh inside a rig): for each size, start
# limpetd in the LB namespace with a generated config, then build/bench_api measures refresh
# and GET latency against it. The servers (198.19.0.0/16) sit behind one route via backend b1,
# so limpetd keeps one neighbour resolved, not one per server.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/lib.sh"

work=$(mktemp -d)
sock=/run/limpet/bench.sock
trap 'limpetd_stop >/dev/null 2>&1; rm -rf "$work" /sys/fs/bpf/limpet/bench /run/limpet/bench.lock' EXIT

in_lb ip route replace 198.19.0.0/16 via 198.18.1.11
# "servers farms name;..." (BENCH_API_CASES picks some)
IFS=';' read -ra cases <<<"${BENCH_API_CASES:-1 1 1_server;100 1 100_servers;1000 1 1000_servers;10000 1000 10k_servers}"
for c in "${cases[@]}"; do
	set -- $c
	"$root/build/bench_api" config "$1" "$2" >"$work/bench.json"
	limpetd_start "$work/bench.json" --api "unix:$sock" ||
		{ echo "bench_api: limpetd did not start:"; cat "$LIMPETD_LOG"; exit 1; }
	in_lb "$root/build/bench_api" measure "$sock" "$1" "$2" "$3"
	limpetd_stop
done
