#!/usr/bin/env bash
# Cluster convergence benchmark (DESIGN.md section 8), run by scripts/bench.sh inside a rig
# made with --topology cluster: two limpet nodes, their BIRD and the router's with BIRD's
# default timers (examples/bird/), limpetd (not the ASan build) on both.
#
# Each time is from the action (its command started) to the router's kernel route changing,
# as `ip -ts monitor route` in the router's namespace timestamps it (an event, not a poll):
#   cluster.withdraw_ms     `limpetctl drain` on node a -> a's next hop leaves the route
#   cluster.farm_down_ms    the last server of farm 2 disabled on node a (`limpetctl server set
#                           ... status=inactive` and `refresh`) -> a leaves 198.18.100.2's route
# Baseline for both: a route removed by hand from node a's table 100 (`ip route del`) -> the
# router's route changing: BIRD's learn, BGP and the router's BIRD alone, without limpetd.
# Median of BENCH_CLUSTER_RUNS (default 5) runs each.
#   cluster.drain_lost      UDP requests (rigclient, 32 sources in a loop, one datagram each
#                           way) unanswered across a drain and an undrain; baseline: the
#                           requests sent (ratio: the fraction lost)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/lib-cluster.sh"

runs=${BENCH_CLUSTER_RUNS:-5}
svc=bench-cl
A=198.19.1.2
B=198.19.2.2
work=$(mktemp -d)
mon=
trap 'node_stop a || true; node_stop b || true; [ -n "$mon" ] && kill "$mon" 2>/dev/null;
      rm -rf "$work" /sys/fs/bpf/limpet/$svc@a /sys/fs/bpf/limpet/$svc@b /run/limpet/$svc@* \
	"$(node_run a)".* "$(node_run b)".*' EXIT
die() { echo "bench_cluster: $*" >&2; exit 2; }

now_us() { date +%s%6N; }

# event_after VIP T0: µs from T0 to the first route event naming VIP at or after T0 (the
# monitor's timestamps are local time with µs)
event_after() {
	local i line ts
	for ((i = 0; i < 500; i++)); do
		while read -r line; do
			ts=${line%%]*}
			ts=$(date -d "${ts#[}" +%s%6N)
			[ "$ts" -ge "$2" ] && { echo $((ts - $2)); return 0; }
		done < <(grep -F " $1 " "$work/mon.txt" || true)
		sleep 0.01
	done
	return 1
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

# measure NAME VIP WANT_AFTER ACTION UNDO: median µs of ACTION -> route event, UNDO between runs
measure() {
	local name=$1 vip=$2 want=$3 act=$4 undo=$5 i t0 us all=()
	for ((i = 0; i < runs; i++)); do
		t0=$(now_us)
		$act
		us=$(event_after "$vip" "$t0") || die "$name: no route event for $vip"
		wait_hops "$vip" "$want" >/dev/null || die "$name: next hops '$(hops "$vip")'"
		all+=("$us")
		$undo
		wait_hops "$vip" "$A $B" >/dev/null || die "$name: $vip not back on both nodes"
		sleep 0.2
	done
	printf '%s\n' "${all[@]}" | median
}

by_hand_del() { in_node a ip route del 198.18.100.9/32 table "$RIG_ANNOUNCE_TABLE" proto 76; }
by_hand_add() { in_node a ip route add blackhole 198.18.100.9/32 table "$RIG_ANNOUNCE_TABLE" proto 76; }
drain() { ctl a drain >/dev/null; }
undrain() { ctl a undrain >/dev/null; }
farm_down() { ctl a server set tcp 2 1 status=inactive >/dev/null && ctl a refresh >/dev/null; }
farm_up() { ctl a server set tcp 2 1 status=active >/dev/null && ctl a refresh >/dev/null; }

cluster_config "$work/cfg.json" "$svc"
node_start a "$work/cfg.json" || die "limpetd on a: $(node_log a)"
node_start b "$work/cfg.json" || die "limpetd on b: $(node_log b)"
wait_bgp || die "BGP sessions not established"
wait_hops 198.18.100.1 "$A $B" >/dev/null || die "198.18.100.1 not on both nodes"
wait_hops 198.18.100.2 "$A $B" >/dev/null || die "198.18.100.2 not on both nodes"
in_router ip -ts monitor route >"$work/mon.txt" 2>&1 &
mon=$!
sleep 0.2

# the baseline route: by hand on both nodes, so that removing a's leaves b's
by_hand_add
in_node b ip route add blackhole 198.18.100.9/32 table "$RIG_ANNOUNCE_TABLE" proto 76
wait_hops 198.18.100.9 "$A $B" >/dev/null || die "the baseline route is not on both nodes"
base=$(measure baseline 198.18.100.9 "$B" by_hand_del by_hand_add)
drain_us=$(measure drain 198.18.100.1 "$B" drain undrain)
farm_us=$(measure farm_down 198.18.100.2 "$B" farm_down farm_up)
in_node b ip route del 198.18.100.9/32 table "$RIG_ANNOUNCE_TABLE" proto 76
by_hand_del

# loss: a loop of UDP requests, a drained 1 s in, undrained 1 s later, 1 s more
(while [ ! -e "$work/stop" ]; do cl_clients udp 198.18.100.1 1 32 1; done) >"$work/udp.txt" &
loop=$!
sleep 1
drain
sleep 1
undrain
sleep 1
touch "$work/stop"
wait "$loop"
sent=$(wc -l <"$work/udp.txt")
lost=$(unanswered "$work/udp.txt")

printf '%-34s %10s %10s\n' "cluster convergence (median of $runs)" "ms" "baseline"
printf '%-34s %10s %10s\n' "drain -> router's route" "$(ms "$drain_us")" "$(ms "$base")"
printf '%-34s %10s %10s\n' "farm's last server off -> route" "$(ms "$farm_us")" "$(ms "$base")"
printf '%-34s %10s %10s\n' "UDP requests lost / sent" "$lost" "$sent"
echo "(baseline: a route deleted by hand from the node's table 100; BIRD default timers)"
awk -v d="$drain_us" -v f="$farm_us" -v b="$base" -v l="$lost" -v s="$sent" 'BEGIN {
	printf "BENCH cluster.withdraw_ms value=%.1f unit=ms baseline=%.1f ratio=%.2f\n", d / 1000, b / 1000, d / b
	printf "BENCH cluster.farm_down_ms value=%.1f unit=ms baseline=%.1f ratio=%.2f\n", f / 1000, b / 1000, f / b
	printf "BENCH cluster.drain_lost value=%d unit=requests baseline=%d ratio=%.4f\n", l, s, l / s }'
