#!/usr/bin/env bash
# Health-probe benchmark (issue 7), run by scripts/bench.sh inside a rig (2 backends):
# 10 000 servers (10 farms x 1000; LB_FARM_SERVERS_MAX is 1024 a farm) probed every second,
# with tcp and with http probes. The servers are 1000 addresses (198.19.0.1-198.19.3.250) on
# the backends' loopbacks, half on b1, half on b2, behind one route each (limpetd keeps one
# neighbour per next hop, not one per server); farm f probes port 10000 + f, where
# build/bench_health listens on both backends (accepts, answers http with 200, records the
# time of every accept).
#
# CPU: limpetd's utime + stime (/proc/PID/stat, clock ticks; all its threads) over a window of
# BENCH_HEALTH_WINDOW seconds (default 10), after the probes are up. Baseline: the same
# limpetd, same 10 000 servers and farms, without probes, measured the same way in this run.
# value = with probes - baseline (the prober's share of one core), ratio = value / baseline.
# The on-CPU time from /proc/PID/task/*/schedstat (ns) is shown beside it. On a veth rig the
# kernel's work for the probe packets (the backends' receive path included, when it runs in
# limpetd's syscalls) is part of limpetd's stime: this is an upper bound of the prober's cost.
# So a second baseline, the floor: `bench_health floor`, a bare epoll prober making the same
# connects (and http requests) a second to the same servers, measured the same way
# (health.cpu_10k_TYPE_vs_floor: limpetd's whole CPU against it).
# Spread: from the listeners' accept times, probe starts per 100 ms slot (evenness over the
# interval, no thundering herd) and each server's period against the 1 s interval.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export LIMPETD_BIN=${LIMPETD_BIN:-$root/build/limpetd}
. "$root/scripts/lib.sh"

farms=${BENCH_HEALTH_FARMS:-10}
per=${BENCH_HEALTH_PER:-1000}
window=${BENCH_HEALTH_WINDOW:-10}
svc=bench-hc
sock=/run/limpet/$svc.sock
bh=$root/build/bench_health
work=$(mktemp -d)
listeners=()

stop_listeners() {
	local p
	for p in "${listeners[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${listeners[@]}"; do wait "$p" 2>/dev/null || true; done
	listeners=()
}
cleanup() {
	stop_listeners
	limpetd_stop >/dev/null 2>&1
	rm -rf "$work" "/sys/fs/bpf/limpet/$svc" /run/limpet/$svc.*
}
trap cleanup EXIT

die() { echo "bench_health: $*" >&2; exit 1; }
[ "$per" -le 1000 ] || die "BENCH_HEALTH_PER must be <= 1000 (addresses 198.19.0-3.x)"

# --- servers on the backends ------------------------------------------------------------------
nets=$(((per + 249) / 250))		# /24s of 250 servers
for ((i = 0; i < per; i++)); do
	x=$((i / 250))
	node=b1
	[ "$x" -ge $(((nets + 1) / 2)) ] && node=b2
	echo "addr add 198.19.$x.$((1 + i % 250))/32 dev lo" >>"$work/addr.$node"
done
for node in b1 b2; do
	[ -s "$work/addr.$node" ] && "$root/scripts/rig.sh" exec "$node" ip -batch "$work/addr.$node"
done
for ((x = 0; x < nets; x++)); do
	via=198.18.1.11
	[ "$x" -ge $(((nets + 1) / 2)) ] && via=198.18.1.12
	in_lb ip route replace "198.19.$x.0/24" via "$via"
done

start_listeners() {	# start_listeners tcp|http
	local node
	for node in b1 b2; do
		"$root/scripts/rig.sh" exec "$node" "$bh" listen 10001 $((10000 + farms)) "$1" \
			"$work/acc.$node" 2>>"$work/listen.log" &
		listeners+=($!)
	done
	for node in b1 b2; do
		for ((i = 0; i < 50; i++)); do
			listening "$node" "$((10000 + farms))" && break
			sleep 0.1
		done
	done
}

# --- CPU of limpetd -------------------------------------------------------------------------
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }	# utime stime
oncpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ n += $1 } END { printf "%.0f", n }'; }

# measure: limpetd's CPU over the window in % of one core: "utime+stime schedstat utime stime"
measure() {
	local u0 s0 u1 s1 n0 n1 w0 w1
	read -r u0 s0 <<<"$(ticks "$LIMPETD_PID")"
	n0=$(oncpu_ns "$LIMPETD_PID")
	w0=$(date +%s.%N)
	sleep "$window"
	read -r u1 s1 <<<"$(ticks "$LIMPETD_PID")"
	n1=$(oncpu_ns "$LIMPETD_PID")
	w1=$(date +%s.%N)
	awk -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v n="$((n1 - n0))" -v hz="$hz" -v a="$w0" \
		-v b="$w1" 'BEGIN { w = b - a; printf "%.2f %.2f %.2f %.2f\n", 100 * (u + s) / hz / w,
			100 * n / 1e9 / w, 100 * u / hz / w, 100 * s / hz / w }'
}

api_get() { curl -s --max-time 10 --unix-socket "$sock" "http://limpet/ipLoadbalancing/$svc/$1"; }

# run_case none|tcp|http: limpetd on the config; sets cpu (utime+stime) and cpu_ns (schedstat)
# in percent of one core; the spread of the probe starts in $work/spread.TYPE
run_case() {
	local type=$1 i s r p
	"$bh" config "$farms" "$per" "$type" >"$work/$type.json"
	if [ "$type" != none ]; then
		start_listeners "$type"
		# the baseline prober first, while nothing else probes
		in_lb "$bh" floor "$type" "$farms" "$per" "$window" >"$work/floor.$type" ||
			die "the baseline prober failed ($type)"
	fi
	limpetd_start "$work/$type.json" --api "unix:$sock" ||
		{ cat "$LIMPETD_LOG" >&2; die "limpetd did not start ($type)"; }
	if [ "$type" != none ]; then
		# the probes must be up (a benchmark of failing probes measures another path):
		# first and last server of the first and last farm
		for ((i = 0; i < 100; i++)); do
			s=$(for r in "1/server/1" "1/server/$per" "$farms/server/1" "$farms/server/$per"; do
				api_get "tcp/farm/$r" | jq -r '.state'; done | sort -u | tr '\n' ' ')
			[ "$s" = "up " ] && break
			sleep 0.1
		done
		[ "$s" = "up " ] || die "$type probes not up after 10 s (states: $s)"
		sleep 2	# a whole interval past the first checks
		for p in "${listeners[@]}"; do kill -USR1 "$p"; done
	else
		sleep 3
	fi
	measure >"$work/cpu.$type"
	read -r cpu cpu_ns cpu_user cpu_sys <"$work/cpu.$type"
	if [ "$type" != none ]; then
		stop_listeners
		"$bh" spread 1 "$window" "$work/acc.b1" "$work/acc.b2" >"$work/spread.$type"
	fi
	limpetd_stop || die "limpetd exited with status $? ($type)"
}

servers=$((farms * per))
echo "health probes: $servers servers ($farms farms x $per) at interval 1 s, window $window s, $(nproc) CPUs"
run_case none
idle=$cpu idle_ns=$cpu_ns
printf '  %-22s %7s %% of a core (schedstat %s %%)\n' "limpetd, no probes" "$idle" "$idle_ns"
for type in tcp http; do
	run_case "$type"
	read -r probes nserv cv p50 p99 pmax <<<"$(tail -1 "$work/spread.$type" |
		sed 's/[a-z_0-9]*=//g')"
	want=$((servers * window))
	# a case that does not probe what it is named for is not a measurement
	[ "$nserv" -eq "$servers" ] ||
		die "$type: the listeners saw $nserv of $servers servers probed"
	value=$(awk -v a="$cpu" -v b="$idle" 'BEGIN { v = a - b; printf "%.2f", v < 0 ? 0 : v }')
	value_ns=$(awk -v a="$cpu_ns" -v b="$idle_ns" 'BEGIN { v = a - b; printf "%.2f", v < 0 ? 0 : v }')
	# ratio against the idle daemon; an idle daemon below the clock's resolution counts as
	# one tick in the window
	floor=$(awk -v hz="$hz" -v w="$window" 'BEGIN { printf "%.4f", 100 / hz / w }')
	ratio=$(awk -v v="$value" -v b="$idle" -v f="$floor" \
		'BEGIN { printf "%.1f", v / (b > f ? b : f) }')
	read -r fl fl_user fl_sys fl_probes fl_failed <"$work/floor.$type"
	printf '  %-22s %7s %% of a core (user %s, system %s; schedstat %s %%),' \
		"limpetd, $type probes" "$cpu" "$cpu_user" "$cpu_sys" "$cpu_ns"
	printf ' prober %s %% (schedstat %s %%)\n' "$value" "$value_ns"
	printf '  %-22s %7s %% of a core (user %s, system %s), %s, %s\n' \
		"baseline $type prober" "$fl" "$fl_user" "$fl_sys" "${fl_probes/=/ }" "${fl_failed/=/ }"
	echo "  $type: $(head -1 "$work/spread.$type") ($want expected)"
	echo "BENCH health.cpu_10k_$type value=$value unit=pct_core baseline=$idle ratio=$ratio"
	echo "BENCH health.cpu_10k_${type}_vs_floor value=$cpu unit=pct_core baseline=$fl" \
		"ratio=$(awk -v a="$cpu" -v b="$fl" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
done
