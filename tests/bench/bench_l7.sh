#!/usr/bin/env bash
# L7 benchmark (DESIGN.md section 7, issue 8), run by scripts/bench.sh inside a rig (2 backends
# running namesrv): requests/s and p50/p99 latency of limpet's L7 proxy (cookie stickiness,
# roundrobin) against HAProxy (the Debian package) with the equivalent config, same backends,
# same CPU pinning, same run, measured with wrk from the client namespace:
#   nocookie  every request without a cookie: balanced roundrobin, answered with Set-Cookie
#   cookie    every request with a valid cookie (alternating the two servers' cookies): routed
#             by it, no Set-Cookie
# at 1 worker (limpetd --l7-workers 1 / HAProxy nbthread 1) and at 2.
#
# Pinning (2 CPUs or more): t1: the proxy on CPU 1, wrk and both namesrv on CPU 0; t2: the
# proxy on CPUs 0-1, wrk and the backends too (a 2-core machine has no third core). The
# baseline of the backends: wrk straight to one namesrv, same pinning, must be well above what
# the proxies reach (else the figures say nothing about the proxies: a warning says so).
# Where the time goes: each run's CPU (% of one core) of the proxy, wrk and the backends, from
# /proc/PID/stat and wrk's rusage, "other" (busy CPU time charged to none of them: softirq
# run elsewhere, other processes of the machine), and each CPU's busy and softirq share from
# /proc/stat; for t1, each side's CPU time per request and which side limited the rate.
# On two cores the t1 rate is the load side's limit for an efficient proxy: over veth the
# sender's CPU runs the receiver's network stack, so per request the load side (wrk's send and
# receive, namesrv's) pays for as many sends and receives as the proxy does (to the client, to
# the server), plus wrk's and namesrv's own work. The report then says so and makes
# req/s/core the headline.
#
# limpet: build/limpetd (-O2, no sanitizer) on 198.18.100.1:80; HAProxy on 198.18.100.2:80
# (both VIPs on the LB's lo; limpet's XDP program passes both up: pass_l7, pass_not_vip).
# HAProxy's config: balance roundrobin, cookie LIMPETSRV insert indirect nocache (httponly,
# SameSite=Lax, Path=/ as limpet's), option forwardfor, X-Forwarded-Proto set, keep-alive on
# both sides, http-reuse safe.
#
# Knobs: BENCH_L7_DURATION (s, default 4), BENCH_L7_CONNS (wrk connections, default 50),
# BENCH_L7_ROUNDS (default 2: each figure is the run of the best requests/s among the rounds,
# limpet and HAProxy alternating), BENCH_L7_THREADS ("1 2"), BENCH_L7_PROXIES ("limpet haproxy"),
# BENCH_L7_CAP (default 50: the capped t1 runs hold each proxy to that % of one core with the
# cpu cgroup controller, so that the proxy is the limit and requests/s compare the proxies;
# 0: none).
# Prints a table, then BENCH l7.rps.nocookie, l7.rps.cookie, l7.p99.nocookie, l7.p99.cookie,
# l7.rps_per_core.nocookie, l7.rps_per_core.cookie (1 worker) and the same names with .t2 (2
# workers), l7.rps_capped.nocookie and l7.rps_capped.cookie (capped); value limpet, baseline
# HAProxy. rps_per_core (requests/s per core of the proxy's own CPU time) is the comparison
# that still holds when wrk and the backends, not the proxy, limit the rate - on 2 cores they
# share one with each other and their softirq work: the report says when that is so, and which
# figure is the headline (rps_capped when every capped run was the proxy's limit).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export LIMPETD_BIN=${LIMPETD_BIN:-$root/build/limpetd}
. "$root/scripts/lib.sh"

dur=${BENCH_L7_DURATION:-4}
conns=${BENCH_L7_CONNS:-50}
rounds=${BENCH_L7_ROUNDS:-2}
threads_list=${BENCH_L7_THREADS:-1 2}
proxies=${BENCH_L7_PROXIES:-limpet haproxy}	# for a partial run: only one of them
svc=bench-l7
sock=/run/limpet/$svc.sock
vip_l=198.18.100.1
vip_h=198.18.100.2
work=$(mktemp -d)
haproxy_pid=
py=/usr/bin/python3

cleanup() {
	[ -n "$haproxy_pid" ] && { kill "$haproxy_pid" 2>/dev/null; wait "$haproxy_pid" 2>/dev/null; }
	limpetd_stop >/dev/null 2>&1
	rm -rf "$work" "/sys/fs/bpf/limpet/$svc" /run/limpet/$svc.*
	[ -z "${cg:-}" ] || rmdir "$cg" 2>/dev/null || true
}
trap cleanup EXIT
die() { echo "bench_l7: $*" >&2; exit 1; }

command -v wrk >/dev/null || die "wrk is not installed (scripts/deps.sh)"
command -v haproxy >/dev/null || die "haproxy is not installed (scripts/deps.sh)"
[ "${RIG_SERVE:-0}" = 1 ] && [ "${RIG_BACKENDS:-0}" -ge 2 ] || die "needs a rig with --serve and 2 backends"
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	cpu_load=0 cpu_proxy1=1 cpu_all=0-1
else
	cpu_load=0 cpu_proxy1=0 cpu_all=0
fi


in_lb ip addr add "$vip_h/32" dev lo 2>/dev/null || true
# The rig's bridge stands for a switch: left on, br_netfilter runs the host's iptables hooks on
# every bridged frame, some 8% of each side's CPU per request, charged to whichever sends.
"$root/scripts/rig.sh" exec sw sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
	net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
backend_pids=$(awk '{ print $2 }' "/run/limpet-rig/$RIG_PREFIX.pids")

# --- wrk --------------------------------------------------------------------------------------
# The scripts print one machine-readable line at the end (done() runs once, over all threads).
cat >"$work/done.lua" <<'LUA'
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d status=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		e.connect + e.read + e.write + e.timeout, e.status))
end
LUA
cp "$work/done.lua" "$work/nocookie.lua"
# cookie NAME VALUE1 VALUE2: alternate two servers' cookies, request by request
write_cookie_lua() {
	{
		cat "$work/done.lua"
		cat <<-LUA
		local reqs, n = {}, 0
		init = function(args)
			reqs[1] = wrk.format("GET", "/", { ["Cookie"] = "$1=$2" })
			reqs[2] = wrk.format("GET", "/", { ["Cookie"] = "$1=$3" })
		end
		request = function()
			n = n + 1
			return reqs[n % 2 + 1]
		end
		LUA
	} >"$work/$4.lua"
}

# wrkstat.py WRK-LINE T0 T1 HZ PROXY0 PROXY1 BACKENDS0 BACKENDS1 "WRK-USER WRK-SYS" STAT0 STAT1
cat >"$work/wrkstat.py" <<'PY'
import sys
line, t0, t1, hz, p0, p1, b0, b1, w, s0, s1, pu0, pu1 = sys.argv[1:]
kv = dict(x.split("=") for x in line.split()[1:])
el = float(t1) - float(t0)
hz = float(hz)
rps = int(kv["requests"]) / (int(kv["duration_us"]) / 1e6)
pct = lambda a, b: 100.0 * (int(b) - int(a)) / hz / el
wu, ws = map(float, w.split())
out, busy_all = [], 0.0
for la, lb in zip(s0.splitlines(), s1.splitlines()):
    xa, xb = la.split(), lb.split()
    d = [int(q) - int(p) for p, q in zip(xa[1:], xb[1:])]
    tot = sum(d[:8]) or 1
    busy = tot - d[3] - d[4]
    busy_all += 100.0 * busy / tot
    out.append("%s:%.0f%%(si%.0f%%)" % (xa[0], 100.0 * busy / tot, 100.0 * d[6] / tot))
cp, cw, cb = pct(p0, p1), 100.0 * (wu + ws) / el, pct(b0, b1)
# other: busy CPU time none of the three was charged for (softirq elsewhere, other processes)
# the proxy's user-space share of its CPU time (the rest: its syscalls, softirq charged to it)
usr = 100.0 * (int(pu1) - int(pu0)) / max(1, int(p1) - int(p0))
print("%.0f %s %s %s %s %.0f %.0f %.0f %.0f %.0f %s" % (rps, kv["p50_us"], kv["p99_us"],
      kv["errors"], kv["status"], cp, cw, cb, max(0.0, busy_all - cp - cw - cb), usr, ",".join(out)))
PY
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_snap() { grep '^cpu[0-9]' /proc/stat; }

# wrk_run CPUS URL SCRIPT PROXY_PID: one wrk run; prints
# "rps p50_us p99_us errors status_errors cpu_proxy cpu_wrk cpu_backends cpus"
wrk_run() {
	local cpus=$1 url=$2 script=$3 ppid=$4 out p0 p1 pu0 pu1 b0 b1 t0 t1 s0 s1 w hz line
	hz=$(getconf CLK_TCK)
	p0=$(ticks "$ppid")
	pu0=$(awk '{ print $14 }' "/proc/$ppid/stat" 2>/dev/null || echo 0)
	b0=0
	for p in $backend_pids; do b0=$((b0 + $(ticks "$p"))); done
	s0=$(cpu_snap)
	t0=$(date +%s.%N)
	TIMEFORMAT='%U %S'
	{ time in_client taskset -c "$cpus" wrk -t1 -c"$conns" -d"${dur}s" -s "$script" "$url" \
		>"$work/wrk.out" 2>&1; } 2>"$work/wrk.time"
	t1=$(date +%s.%N)
	p1=$(ticks "$ppid")
	pu1=$(awk '{ print $14 }' "/proc/$ppid/stat" 2>/dev/null || echo 0)
	b1=0
	for p in $backend_pids; do b1=$((b1 + $(ticks "$p"))); done
	s1=$(cpu_snap)
	line=$(grep '^WRK ' "$work/wrk.out") || { cat "$work/wrk.out" >&2; die "wrk failed against $url"; }
	read -r w <"$work/wrk.time" || w="0 0"
	"$py" "$work/wrkstat.py" "$line" "$t0" "$t1" "$hz" "$p0" "$p1" "$b0" "$b1" "$w" "$s0" "$s1" \
		"$pu0" "$pu1"
}

# --- the proxies ------------------------------------------------------------------------------
cat >"$work/limpet.json" <<JSON
{"serviceName": "$svc", "hashSeed": "0123456789abcdef",
 "http": {"frontend": [{"frontendId": 1, "address": "$vip_l", "port": "80", "defaultFarmId": 1}],
	  "farm": [{"farmId": 1, "balance": "roundrobin", "stickiness": "cookie",
		    "server": [{"serverId": 1, "address": "198.18.1.11", "port": 80},
			       {"serverId": 2, "address": "198.18.1.12", "port": 80}]}]}}
JSON

limpet_workers_opt() {
	"$LIMPETD_BIN" --help 2>&1 | grep -q -- '--l7-workers' && echo "--l7-workers $1"
	return 0
}

# limpet_up THREADS CPUS: limpetd with THREADS workers, every thread pinned to CPUS
limpet_up() {
	# shellcheck disable=SC2046
	limpetd_start "$work/limpet.json" --api "unix:$sock" $(limpet_workers_opt "$1") ||
		{ cat "$LIMPETD_LOG" >&2; die "limpetd did not start"; }
	taskset -a -p -c "$2" "$LIMPETD_PID" >/dev/null
}

api_cookie() {	# api_cookie SERVER: the server's read-only cookie
	curl -s --unix-socket "$sock" "http://limpet/ipLoadbalancing/$svc/http/farm/1/server/$1" |
		"$py" -c 'import json, sys; print(json.load(sys.stdin).get("cookie") or "")'
}

haproxy_up() {	# haproxy_up THREADS CPUS
	cat >"$work/haproxy.cfg" <<-CFG
	global
		nbthread $1
		maxconn 4096
	defaults
		mode http
		timeout connect 5s
		timeout client 30s
		timeout server 30s
		option http-keep-alive
		option forwardfor
		http-reuse safe
	frontend fe
		bind $vip_h:80
		http-request set-header X-Forwarded-Proto http
		default_backend be
	backend be
		balance roundrobin
		cookie LIMPETSRV insert indirect nocache httponly attr SameSite=Lax attr Path=/
		server s1 198.18.1.11:80 cookie s1
		server s2 198.18.1.12:80 cookie s2
	CFG
	haproxy -c -f "$work/haproxy.cfg" >/dev/null || die "haproxy refuses its config"
	"$root/scripts/rig.sh" exec lb taskset -c "$2" haproxy -db -f "$work/haproxy.cfg" \
		>"$work/haproxy.log" 2>&1 &
	haproxy_pid=$!
	local i
	for ((i = 0; i < 50; i++)); do
		in_lb ss -Hltn 2>/dev/null | grep -q "$vip_h:80" && return 0
		sleep 0.1
	done
	cat "$work/haproxy.log" >&2
	die "haproxy does not listen on $vip_h:80"
}
haproxy_down() {
	kill "$haproxy_pid" 2>/dev/null
	wait "$haproxy_pid" 2>/dev/null || true
	haproxy_pid=
}

# check VIP COOKIE-NAME GOOD-COOKIE: before timing, the proxy answers, balances, sets the
# cookie to a client without one, routes by a valid one without setting it again
check_proxy() {
	local vip=$1 name=$2 good=$3 h1 h2 seen
	h1=$(in_client curl -s -m 5 -D - -o /dev/null "http://$vip/") ||
		die "$vip does not answer"
	grep -qi "^set-cookie: $name=" <<<"$h1" || die "$vip: no Set-Cookie for a client without one: $h1"
	seen=$(for i in 1 2 3 4; do in_client curl -s -m 5 "http://$vip/"; done | sort -u | wc -l)
	[ "$seen" -eq 2 ] || die "$vip: 4 requests without a cookie reached $seen backends (want 2)"
	h2=$(in_client curl -s -m 5 -D - -H "Cookie: $name=$good" "http://$vip/") ||
		die "$vip does not answer with a cookie"
	grep -qi '^set-cookie' <<<"$h2" && die "$vip: Set-Cookie although the cookie was valid: $h2"
	grep -q '^b1' <<<"$h2" || die "$vip: the cookie of b1 was served by another: $h2"
	return 0
}

# --- the runs ---------------------------------------------------------------------------------
declare -A R	# "proxy.case.threads" -> "rps p50 p99 errors status cpu..."

# measure KEY WRK_RUN-ARGS...: one run; R[KEY] keeps the one with the higher requests/s
measure() {
	local key=$1 new old
	shift
	wrk_run "$@" >"$work/res" || exit 1
	new=$(cat "$work/res")
	old=${R[$key]:-}
	if [ -z "$old" ] || [ "${new%% *}" -gt "${old%% *}" ]; then R[$key]=$new; fi
}
has() { [[ " $proxies " == *" $1 "* ]]; }

# The capped runs (t1): each proxy limited to the same share of one core by the cpu cgroup
# controller (v1 cfs quota or v2 cpu.max, a short period so that throttling stays under a ms
# or so): the proxy, not the load side, is then the limit, and requests/s compare the proxies.
cap=${BENCH_L7_CAP:-50}	# % of one core; 0: no capped runs
cap_period=2000		# us
cg=
if [ "$cap" -gt 0 ] && [ "$ncpu" -ge 2 ]; then
	if [ -w /sys/fs/cgroup/cpu/cgroup.procs ]; then	# v1
		cg=/sys/fs/cgroup/cpu/limpet-bench-l7 cg_root=/sys/fs/cgroup/cpu
		mkdir -p "$cg"
		echo "$cap_period" >"$cg/cpu.cfs_period_us"
		echo $((cap_period * cap / 100)) >"$cg/cpu.cfs_quota_us"
	elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then	# v2
		cg=/sys/fs/cgroup/limpet-bench-l7 cg_root=/sys/fs/cgroup
		echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
		mkdir -p "$cg"
		echo "$((cap_period * cap / 100)) $cap_period" >"$cg/cpu.max"
	fi
	[ -n "$cg" ] || echo "# no cpu cgroup controller: no capped runs"
fi
# capped PID 0|1: move the process (all its threads) into the capped group or back out
capped() {
	if [ "$2" = 1 ]; then echo "$1" >"$cg/cgroup.procs"; else echo "$1" >"$cg_root/cgroup.procs"; fi
}

echo "# L7: wrk -t1 -c$conns -d${dur}s, $rounds round(s); CPUs: $ncpu"
# the backends alone, as pinned in the t1 runs (and unpinned for t2)
for p in $backend_pids; do taskset -p -c "$cpu_load" "$p" >/dev/null; done
measure base "$cpu_load" "http://198.18.1.11/" "$work/nocookie.lua" "${backend_pids%% *}"
base1=${R[base]}
# the backends' own capacity: wrk on the other CPU (idle while no proxy runs), backends on CPU 0
measure base_b "$cpu_proxy1" "http://198.18.1.11/" "$work/nocookie.lua" "${backend_pids%% *}"
echo "# one backend alone, wrk on CPU $cpu_proxy1 and namesrv on CPU $cpu_load: ${R[base_b]%% *} req/s"
echo "# backends alone (wrk -> namesrv b1 directly, wrk and namesrv on CPU $cpu_load): ${base1%% *} req/s"

for t in $threads_list; do
	if [ "$t" -eq 1 ]; then cpus=$cpu_proxy1 load=$cpu_load; else cpus=$cpu_all load=$cpu_all; fi
	for p in $backend_pids; do taskset -p -c "$load" "$p" >/dev/null; done
	if has limpet; then
		limpet_up "$t" "$cpus"
		c1=$(api_cookie 1) c2=$(api_cookie 2)
		[ ${#c1} -eq 22 ] && [ ${#c2} -eq 22 ] ||
			die "no server cookie in the API (got '$c1' '$c2')"
		write_cookie_lua LIMPETSRV "$c1" "$c2" cookie_l
		check_proxy "$vip_l" LIMPETSRV "$c1"
	fi
	if has haproxy; then
		write_cookie_lua LIMPETSRV s1 s2 cookie_h
		haproxy_up "$t" "$cpus"
		check_proxy "$vip_h" LIMPETSRV s1
	fi
	for ((r = 0; r < rounds; r++)); do
		for c in nocookie cookie; do
			sl=$work/$c.lua sh=$work/$c.lua
			[ "$c" = cookie ] && sl=$work/cookie_l.lua sh=$work/cookie_h.lua
			has limpet && measure "limpet.$c.$t" "$load" "http://$vip_l/" "$sl" "$LIMPETD_PID"
			has haproxy && measure "haproxy.$c.$t" "$load" "http://$vip_h/" "$sh" "$haproxy_pid"
			[ "$t" -eq 1 ] && [ -n "$cg" ] || continue
			if has limpet; then
				capped "$LIMPETD_PID" 1
				measure "limpet.$c.cap" "$load" "http://$vip_l/" "$sl" "$LIMPETD_PID"
				capped "$LIMPETD_PID" 0
			fi
			if has haproxy; then
				capped "$haproxy_pid" 1
				measure "haproxy.$c.cap" "$load" "http://$vip_h/" "$sh" "$haproxy_pid"
				capped "$haproxy_pid" 0
			fi
		done
	done
	has haproxy && haproxy_down
	if has limpet; then
		limpetd_stop || die "limpetd exited with status $? (see $LIMPETD_LOG)"
	fi
done

# --- report -----------------------------------------------------------------------------------
fmt_ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
per_core() { awk -v r="$1" -v c="$2" 'BEGIN { printf "%.0f", (c > 0) ? (r * 100 / c) : 0 }'; }
# busy CPU NAME CPUS-FIELD: that CPU's busy % in a run's per-CPU field
busy() { sed -n "s/.*$1:\([0-9]*\)%.*/\1/p" <<<"$2"; }
# the runs to report: each thread count, and "cap" (t1, capped) after t1 when it ran
runs=
for t in $threads_list; do
	runs="$runs $t"
	[ "$t" -eq 1 ] && [ -n "$cg" ] && runs="$runs cap"
done
printf '\n%-8s %-9s %-3s %9s %8s %8s %6s %7s %5s %6s %8s %6s %9s  %s\n' proxy case thr req/s p50_ms \
	p99_ms errors proxy% "(usr" wrk% backend% other% req/s/core "per-CPU busy (softirq)"
for t in $runs; do
	for c in nocookie cookie; do
		for px in $proxies; do
			read -r rps p50 p99 err st cp cw cb co cu cpus <<<"${R[$px.$c.$t]}"
			printf '%-8s %-9s %-3s %9s %8s %8s %6s %7s %5s %6s %8s %6s %9s  %s\n' "$px" "$c" \
				"$t" "$rps" "$(fmt_ms "$p50")" "$(fmt_ms "$p99")" "$((err + st))" "$cp" \
				"$cu%)" "$cw" "$cb" "$co" "$(per_core "$rps" "$cp")" "$cpus"
		done
	done
done
echo "# backends alone: ${base1%% *} req/s (wrk -> one namesrv, same CPU as in the t1 runs);"
echo "# one namesrv with a CPU of its own: ${R[base_b]%% *} req/s (the proxies spread over two)"
echo "# req/s/core: requests/s per core of the proxy's CPU time (its syscalls and the softirq work"
echo "# charged to it included): what a request costs the proxy, whatever else limits the rate;"
echo "# (usr: the share of the proxy's CPU time spent in user space, the rest in the kernel)"
[ -z "$cg" ] || echo "# cap: as t1 with each proxy held to $cap% of one core (cpu cgroup, ${cap_period} us period): its p99 includes the throttling"
# us_req BUSY% RPS: microseconds of one CPU per request at that busy share
us_req() { awk -v b="$1" -v r="$2" 'BEGIN { printf "%.1f", r ? b * 1e4 / r : 0 }'; }
# What limits the rate, per run. t1: the load side (wrk, both namesrv, the softirq work of
# their sends) has CPU $cpu_load to itself, the proxy CPU $cpu_proxy1: the rate is the load
# side's limit when its CPU is saturated and the proxy's is not (cap: the proxy's limit is
# its cap). Each side's cost per request is its CPU's busy time (load) or its own CPU time
# (proxy) over the requests. On veth the sender's CPU runs the receiver's stack (softirq), so
# each side pays for two sends and two receives per request: the load side costs about what
# a proxy costs, and no proxy cheaper than wrk + namesrv can be the limit at t1 on two cores.
load_bound=0 cap_bound=1
for t in $runs; do
	for c in nocookie cookie; do
		for px in $proxies; do
			read -r rps _ _ err st cp cw cb co _ cpus <<<"${R[$px.$c.$t]}"
			[ $((err + st)) -eq 0 ] || echo "# WARNING: $px $c t$t: $err socket errors, $st bad statuses"
			[ "$t" = cap ] || [ "$rps" -lt $(( ${base1%% *} * 3 / 4 )) ] ||
				echo "# WARNING: $px $c t$t reaches $rps req/s, near what wrk and the backends alone do: not the proxy's limit"
			[ "$t" = 1 ] || [ "$t" = cap ] || continue
			[ "$ncpu" -ge 2 ] || continue
			# /proc/stat's tick sampling can miss much of a CPU's short bursts: wrk's and
			# the backends' own accounting is the floor of the load side's time
			lb=$(busy "cpu$cpu_load" "$cpus") full=90 bound="the proxy"
			[ "$lb" -ge $((cw + cb)) ] || lb=$((cw + cb))
			[ "$t" = cap ] && full=$((cap * 9 / 10))
			if [ "$co" -gt 20 ]; then
				bound="other work on the machine (other $co%): a noisy run"
			elif [ "$lb" -ge 95 ] && [ "$cp" -lt "$full" ]; then
				bound="the load side"
			elif [ "$cp" -lt "$full" ]; then
				bound="neither (both CPUs have idle time: latency)"
			fi
			[ "$t" != cap ] || [ "$bound" = "the proxy" ] || cap_bound=0
			[ "$t" = cap ] || [ "$bound" != "the load side" ] || load_bound=1
			echo "# $px $c $t: load side $(us_req "$lb" "$rps") us/req (CPU $cpu_load $lb% busy), proxy $(us_req "$cp" "$rps") us/req ($cp% of CPU $cpu_proxy1): limited by $bound"
		done
	done
done
if [ "$load_bound" = 1 ]; then
	echo "# the t1 requests/s are the load side's limit on this machine (see above): their ratio"
	echo "# says little about the proxies. A proxy below 100% of its CPU also sleeps and is woken"
	echo "# more per request, which lowers its req/s/core: that figure favours the busier proxy."
fi
if [ -n "$cg" ] && [ "$cap_bound" = 1 ]; then
	echo "# HEADLINE: l7.rps_capped (requests/s with each proxy held to $cap% of a core: proxy-bound), with l7.rps_per_core"
else
	echo "# HEADLINE: l7.rps_per_core (requests/s per core of the proxy's CPU time)"
fi
has limpet && has haproxy || exit 0
for t in $runs; do
	sfx=
	[ "$t" = 1 ] || [ "$t" = cap ] || sfx=.t$t
	for c in nocookie cookie; do
		read -r lr _ lp99 _ _ lcp _ <<<"${R[limpet.$c.$t]}"
		read -r hr _ hp99 _ _ hcp _ <<<"${R[haproxy.$c.$t]}"
		if [ "$t" = cap ]; then
			echo "BENCH l7.rps_capped.$c value=$lr unit=req/s baseline=$hr ratio=$(ratio "$lr" "$hr")"
			continue
		fi
		lc=$(per_core "$lr" "$lcp") hc=$(per_core "$hr" "$hcp")
		echo "BENCH l7.rps_per_core.$c$sfx value=$lc unit=req/s/core baseline=$hc ratio=$(ratio "$lc" "$hc")"
		echo "BENCH l7.rps.$c$sfx value=$lr unit=req/s baseline=$hr ratio=$(ratio "$lr" "$hr")"
		echo "BENCH l7.p99.$c$sfx value=$(fmt_ms "$lp99") unit=ms baseline=$(fmt_ms "$hp99") ratio=$(ratio "$lp99" "$hp99")"
	done
done
