#!/usr/bin/env bash
# End to end: limpetd on the rig's LB, real clients (rigclient, curl) through the VIPs to the
# backends' namesrv, config changes by SIGHUP. TAP output. Runs itself inside a fresh rig.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RIG_PREFIX:-}" ]; then
	exec "$root/scripts/rig.sh" run --backends 3 --clients 1300 --vips 5 --serve \
		--backend-mode ipip -- "$0" "$@"
fi
# the daemon under test is the ASan/UBSan build: a leak or overflow fails the run
export LIMPETD_BIN=$root/build/limpetd-san
. "$root/scripts/lib.sh"

work=$(mktemp -d)
# whatever happens, no limpetd, pins or lock of this test's service outlive it
trap 'limpetd_stop >/dev/null 2>&1; rm -rf "$work" /sys/fs/bpf/limpet/e2e /run/limpet/e2e.lock' EXIT
cfg=$work/limpet.json

. "$root/tests/e2e/tap.sh"

# write_config W1 W2 W3 STATUS2: the test's config, every farm with backends b1..b3
write_config() {
	local w1=$1 w2=$2 w3=$3 s2=$4
	servers() {	# servers v4|v6
		local a1=198.18.1.11 a2=198.18.1.12 a3=198.18.1.13
		[ "$1" = v6 ] && a1=2001:2::1:11 a2=2001:2::1:12 a3=2001:2::1:13
		printf '[{"serverId": 1, "address": "%s", "weight": %s},
			{"serverId": 2, "address": "%s", "weight": %s, "status": "%s"},
			{"serverId": 3, "address": "%s", "weight": %s}]' \
			"$a1" "$w1" "$a2" "$w2" "$s2" "$a3" "$w3"
	}
	cat >"$cfg" <<-JSON
	{"serviceName": "e2e", "hashSeed": "0123456789abcdef",
	 "tcp": {
	  "frontend": [
	   {"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1},
	   {"frontendId": 2, "address": "198.18.100.2", "port": "80", "defaultFarmId": 2},
	   {"frontendId": 3, "address": "2001:2:0:100::1", "port": "80", "defaultFarmId": 3},
	   {"frontendId": 4, "address": "198.18.100.3", "port": "80", "defaultFarmId": 4},
	   {"frontendId": 5, "address": "198.18.100.4", "port": "80", "defaultFarmId": 5}],
	  "farm": [
	   {"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr", "server": $(servers v4)},
	   {"farmId": 2, "stickiness": "sourceIp", "forwarding": "ipip", "server": $(servers v4)},
	   {"farmId": 3, "stickiness": "sourceIp", "forwarding": "dsr", "server": $(servers v6)},
	   {"farmId": 4, "stickiness": null, "forwarding": "ipip", "server": $(servers v4)},
	   {"farmId": 5, "stickiness": "sourceIp", "forwarding": "dsr", "server": $(servers v4)}]},
	 "udp": {
	  "frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1}],
	  "farm": [{"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr",
		    "server": $(servers v4)}]}}
	JSON
}

# reconfigure W1 W2 W3 STATUS2: write the config and SIGHUP limpetd; fails if not applied
reconfigure() {
	write_config "$@"
	limpetd_hup || { why="SIGHUP: config not applied"; return 1; }
}

# --- checks --------------------------------------------------------------------------------
# sticky FILE: every source got an answer on each request, always from one backend; and the
# sources as a whole reached more than one backend
sticky() {
	local bad backends
	bad=$(awk '{ for (i = 2; i <= NF; i++) if ($i == "-" || $i != $2) { print; break } }' "$1")
	backends=$(awk '{ print $2 }' "$1" | sort -u | wc -l)
	[ -z "$bad" ] || why="sources not stuck to one backend:"$'\n'"$(echo "$bad" | head -5)"
	[ "$backends" -ge 2 ] || why+=$'\n'"all sources on one backend: stickiness untested"
	[ -z "$bad" ] && [ "$backends" -ge 2 ] && [ "$(wc -l <"$1")" -gt 0 ]
}

# moved OLD NEW: how many sources answer from another backend in NEW than in OLD
moved() { join <(sort "$1") <(sort "$2") | awk '$2 != $3' | wc -l; }

run_clients() {	# run_clients OUT http|udp VIP FIRST COUNT CONNS
	local out=$1 proto=$2 vip=$3 first=$4 count=$5 conns=$6 base
	if [[ $vip == *:* ]]; then base=$(client_base6 "$first"); else base=$(client_base4 "$first"); fi
	clients "$proto" "$vip" "$base" "$count" "$conns" >"$out"
}

t_started() {
	grep -q "attached to lb0" "$LIMPETD_LOG" || why="no attach line in the log"
	in_lb xdp-loader status lb0 2>/dev/null | grep -q limpet_balancer ||
		why+=" xdp-loader status does not show limpet_balancer"
	in_lb bpftool map dump pinned /sys/fs/bpf/limpet/e2e/vips >/dev/null 2>&1 ||
		why+=" no pinned vips map"
	# the applied config is saved in the state directory and validates again
	"$LIMPETD_BIN" --check --config "/run/limpet-rig/$RIG_PREFIX.state/e2e.json" >/dev/null ||
		why+=" no valid applied config in the state directory"
	[ -z "$why" ]
}

# limpetd keeps the servers' neighbours resolved: managed entries, reachable before any
# client packet, so no first packet is passed to the kernel for a FIB/neighbour miss
t_neighbours() {
	local i
	for ((i = 0; i < 30; i++)); do
		[ "$(in_lb ip neigh show | grep -c 'managed REACHABLE')" -ge 6 ] && return 0
		sleep 0.1
	done
	why="want 6 managed reachable entries (3 backends x 2 families), got:"$'\n'"$(in_lb ip neigh show)"
	return 1
}

# every VIP packet of the run left by XDP_TX: none passed for a FIB miss (any pass_fib_*
# reason) or a parse error, none dropped for any reason
t_no_fib_miss() {
	local v tx lost
	v=$(verdicts e2e)
	tx=$(awk '$1 == "tx" { print $2 }' <<<"$v")
	lost=$(awk '$1 ~ /^drop_/ || $1 ~ /^pass_fib_/ || $1 == "pass_parse_error" { n += $2 }
		    END { print n + 0 }' <<<"$v")
	why="want tx > 5000 and 0 passed/dropped otherwise, got:"$'\n'"$v"
	[ "${tx:-0}" -gt 5000 ] && [ "$lost" -eq 0 ]
}

t_sticky() {	# t_sticky http|udp VIP
	run_clients "$work/s.txt" "$1" "$2" 1 64 5
	sticky "$work/s.txt"
}

# Distribution over 1000 sources for weights 1:2:3. Each count is binomial(1000, w/6): sd is
# 11.8, 14.9 and 15.8; allowing 4 sd (47, 60, 63) fails by chance less than once in 10^4 runs,
# while a weight ignored or swapped moves a count by >= 160.
t_spread() {
	local c1 c2 c3
	run_clients "$work/d0.txt" http 198.18.100.1 101 1000 1
	c1=$(awk '$2 == "b1"' "$work/d0.txt" | wc -l)
	c2=$(awk '$2 == "b2"' "$work/d0.txt" | wc -l)
	c3=$(awk '$2 == "b3"' "$work/d0.txt" | wc -l)
	why="b1 $c1 (want 167+-47), b2 $c2 (333+-60), b3 $c3 (500+-63)"
	[ $((c1 - 167)) -le 47 ] && [ $((167 - c1)) -le 47 ] &&
		[ $((c2 - 333)) -le 60 ] && [ $((333 - c2)) -le 60 ] &&
		[ $((c3 - 500)) -le 63 ] && [ $((500 - c3)) -le 63 ]
}

t_weights_keep() {
	local m differ
	reconfigure 3 2 1 active || return 1
	run_clients "$work/d1.txt" http 198.18.100.1 101 1000 1
	m=$(moved "$work/d0.txt" "$work/d1.txt")
	# the same sources on farm 5 (same servers and weights, never visited): where the new
	# table alone sends them. Many differ, so 0 moved above is the sticky table's work.
	run_clients "$work/f5.txt" http 198.18.100.4 101 1000 1
	differ=$(moved "$work/d1.txt" "$work/f5.txt")
	why="weights 1:2:3 -> 3:2:1: $m of 1000 known sources moved (want 0); the new table alone would move $differ"
	echo "# $why"
	[ "$m" -eq 0 ] && [ "$differ" -gt 100 ]
}

t_download() {
	local out rc
	write_config 1 2 3 active
	in_client curl -s --interface "$(client_base4 1250)" --limit-rate 30M -o /dev/null \
		-w '%{size_download} %{http_code}' "http://198.18.100.1/bytes/60000000" \
		>"$work/dl.txt" 2>&1 &
	local pid=$!
	sleep 0.7
	limpetd_hup || why="SIGHUP: config not applied. "
	wait "$pid"
	rc=$?
	out=$(cat "$work/dl.txt")
	why+="curl exit $rc, got '$out' (want '60000000 200')"
	[ "$rc" -eq 0 ] && [ "$out" = "60000000 200" ]
}

t_disable() {
	local wrong
	reconfigure 1 2 3 inactive || return 1
	run_clients "$work/d2.txt" http 198.18.100.1 101 1000 1
	# b2's sources must now be on b1 or b3; everyone else exactly where they were
	wrong=$(join <(sort "$work/d1.txt") <(sort "$work/d2.txt") |
		awk '($2 == "b2" && ($3 == "b2" || $3 == "-")) || ($2 != "b2" && $2 != $3)' | wc -l)
	why="$wrong sources wrong; b2 had $(awk '$2 == "b2"' "$work/d1.txt" | wc -l)"
	[ "$wrong" -eq 0 ] && grep -q b2 "$work/d1.txt"
}

t_enable() {
	local m new2
	reconfigure 1 2 3 active || return 1
	run_clients "$work/d3.txt" http 198.18.100.1 101 1000 1
	m=$(moved "$work/d2.txt" "$work/d3.txt")
	run_clients "$work/n.txt" http 198.18.100.1 1101 150 1
	new2=$(awk '$2 == "b2"' "$work/n.txt" | wc -l)
	why="$m known sources moved (want 0); $new2 of 150 new sources on b2 (want > 20)"
	[ "$m" -eq 0 ] && [ "$new2" -gt 20 ]
}

t_bad_hup() {
	echo '{"serviceName": "e2e", "tcp": {"farm": [' >"$cfg"
	if limpetd_hup; then
		why="a broken config was applied"
		return 1
	fi
	run_clients "$work/d4.txt" http 198.18.100.1 101 100 1
	[ "$(moved "$work/d3.txt" "$work/d4.txt")" -eq 0 ] && ! grep -q ' -' "$work/d4.txt" ||
		{ why="traffic changed after a rejected config"; return 1; }
	grep -q "config is not valid JSON" "$LIMPETD_LOG" || { why="no error in the log"; return 1; }
}

t_second_instance() {
	local out rc
	out=$(in_lb "$LIMPETD_BIN" --config "$cfg.ok" --iface lb0 --foreground 2>&1)
	rc=$?
	why="exit $rc: $out"
	[ "$rc" -eq 1 ] && [[ $out == *"already running"* ]]
}

t_stopped_clean() {
	limpetd_stop || { why="limpetd exited with $?"; return 1; }
	in_lb ip link show lb0 | grep -q "xdp" && why+="XDP still on lb0. "
	[ -e /sys/fs/bpf/limpet/e2e ] && why+="pins left in /sys/fs/bpf/limpet/e2e. "
	[ -e /run/limpet/e2e.lock ] && why+="lock file left. "
	in_lb ip neigh show | grep -q managed && why+="managed neighbour entries left. "
	[ -z "$why" ]
}

# IP forwarding off on lb0 (both families: the config has IPv4 and IPv6 servers): limpetd
# refuses to start with status 2, naming each switch, why and the command; attaches nothing
t_fwd_refused() {
	local out rc
	in_lb sysctl -qw net.ipv4.conf.lb0.forwarding=0 net.ipv6.conf.lb0.forwarding=0
	out=$(in_lb "$LIMPETD_BIN" --config "$cfg.ok" --iface lb0 --foreground \
		--api "unix:$work/api.sock" 2>&1)
	rc=$?
	why="exit $rc (want 2), output: $out"
	[ "$rc" -eq 2 ] && [[ $out == *"sysctl -w net.ipv4.conf.lb0.forwarding=1"* ]] &&
		[[ $out == *"sysctl -w net.ipv6.conf.lb0.forwarding=1"* ]] &&
		[[ $out == *"every client would time out"* ]] && [[ $out == *--set-forwarding* ]] &&
		! in_lb ip link show lb0 | grep -q xdp && [ ! -e /sys/fs/bpf/limpet/e2e ] &&
		[ ! -e /run/limpet/e2e.lock ] && [ "$(in_lb sysctl -n net.ipv4.conf.lb0.forwarding)" = 0 ]
}

# --set-forwarding: limpetd turns both switches on, logs each, starts and forwards
t_fwd_set() {
	local f
	limpetd_start "$cfg.ok" --set-forwarding --api "unix:$work/api.sock" ||
		{ why="limpetd did not start:"$'\n'"$(tail -5 "$LIMPETD_LOG")"; return 1; }
	for f in net.ipv4.conf.lb0.forwarding net.ipv6.conf.lb0.forwarding; do
		grep -q "lb0: set $f=1" "$LIMPETD_LOG" || why+="no log line for $f. "
		[ "$(in_lb sysctl -n "$f")" = 1 ] || why+="$f still off. "
	done
	run_clients "$work/fw4.txt" http 198.18.100.1 1 32 3
	sticky "$work/fw4.txt" || why+="IPv4 sources not served. "
	run_clients "$work/fw6.txt" http 2001:2:0:100::1 1 32 3
	sticky "$work/fw6.txt" || why+="IPv6 sources not served. "
	[ -z "$why" ]
}

# forwarding turned off under the running limpetd: the passes are reported within seconds as
# pass_fib_fwd_disabled, with the count and the command, in the log and in status
t_fib_warning() {
	local i line status rc
	in_lb sysctl -qw net.ipv4.conf.lb0.forwarding=0
	sleep 1.5	# the balancer's next hops are cached for up to a second
	in_client bash -c 'for i in 1 2 3; do echo x >/dev/udp/198.18.100.1/80; done'
	for ((i = 0; i < 30; i++)); do
		line=$(grep "pass_fib_fwd_disabled: [0-9]* packets* to servers" "$LIMPETD_LOG")
		[ -n "$line" ] && break
		sleep 0.1
	done
	status=$(curl -s --unix-socket "$work/api.sock" http://limpet/ipLoadbalancing/e2e/status)
	in_lb sysctl -qw net.ipv4.conf.lb0.forwarding=1
	limpetd_stop
	rc=$?
	why="exit $rc; log: '$line'"$'\n'"status: $status"
	[[ $line == *"sysctl -w net.ipv4.conf.lb0.forwarding=1"* ]] &&
		[[ $status == *pass_fib_fwd_disabled* ]] && [ "$rc" -eq 0 ]
}

# generic (skb) XDP: the same forwarding through the kernel's generic hook
t_generic() {
	limpetd_start "$cfg.ok" --xdp-mode generic || { why="limpetd did not start"; return 1; }
	in_lb ip link show lb0 | grep -q xdpgeneric || why="lb0 has no generic XDP program. "
	grep -q "attached to lb0 (generic XDP)" "$LIMPETD_LOG" || why+="no attach line. "
	run_clients "$work/g.txt" http 198.18.100.2 1 32 3
	sticky "$work/g.txt" || why+="sources not sticky. "
	limpetd_stop || why+="limpetd exited with $?"
	[ -z "$why" ]
}

# bad_config NAME JSON-or-FILE EXPECTED [ARGS]: limpetd exits 2 naming the problem, attaches
# nothing
bad_config() {
	local name=$1 json=$2 want=$3 out rc
	shift 3
	printf '%s\n' "$json" >"$work/bad.json"
	out=$(in_lb "$LIMPETD_BIN" --config "$work/bad.json" --foreground "$@" 2>&1)
	rc=$?
	why="exit $rc (want 2), output: $out"
	tap "bad config rejected: $name" eval '[ "$rc" -eq 2 ] && [[ $out == *"$want"* ]] &&
		! in_lb ip link show lb0 | grep -q xdp && [ ! -e /sys/fs/bpf/limpet/x ]'
}

srv='[{"serverId": 1, "address": "198.18.1.11"}]'
fe='[{"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1}]'
bad_configs() {
	local i=(--iface lb0)
	bad_config "malformed JSON" '{"serviceName": "x",' "not valid JSON" "${i[@]}"
	bad_config "unknown field" '{"serviceName": "x", "tpc": {}}' 'unknown field "tpc"' "${i[@]}"
	bad_config "wrong type" '{"serviceName": "x", "tcp": {"farm": [{"farmId": "1"}]}}' \
		"tcp.farm[0].farmId: expected an integer" "${i[@]}"
	bad_config "weight out of range" "{\"serviceName\": \"x\", \"tcp\": {\"farm\": [{\"farmId\": 1,
		\"server\": [{\"serverId\": 1, \"address\": \"198.18.1.11\", \"weight\": 300}]}]}}" \
		"tcp.farm[0].server[0].weight: 300 is out of range 1..256" "${i[@]}"
	bad_config "duplicate serverId" "{\"serviceName\": \"x\", \"tcp\": {\"farm\": [{\"farmId\": 1,
		\"server\": [{\"serverId\": 1, \"address\": \"198.18.1.11\"},
			     {\"serverId\": 1, \"address\": \"198.18.1.12\"}]}]}}" \
		"tcp.farm[0].server[1].serverId" "${i[@]}"
	bad_config "dangling defaultFarmId" "{\"serviceName\": \"x\", \"tcp\": {\"frontend\": $fe}}" \
		"tcp.frontend[0].defaultFarmId: no farm 1 in tcp" "${i[@]}"
	bad_config "cookie stickiness on tcp" "{\"serviceName\": \"x\", \"tcp\": {\"farm\":
		[{\"farmId\": 1, \"stickiness\": \"cookie\", \"server\": $srv}]}}" \
		"tcp.farm[0].stickiness" "${i[@]}"
	bad_config "leastconn on udp" "{\"serviceName\": \"x\", \"udp\": {\"farm\":
		[{\"farmId\": 1, \"balance\": \"leastconn\", \"server\": $srv}]}}" \
		"udp.farm[0].balance" "${i[@]}"
	bad_config "IPv6 VIP with IPv4 server in dsr" "{\"serviceName\": \"x\", \"tcp\": {
		\"frontend\": [{\"frontendId\": 1, \"address\": \"2001:2:0:100::1\", \"port\": \"80\",
			       \"defaultFarmId\": 1}],
		\"farm\": [{\"farmId\": 1, \"server\": $srv}]}}" \
		"tcp.farm[0].server[0].address" "${i[@]}"
	bad_config "unknown interface" '{"serviceName": "x"}' "--iface nope0: no such interface" \
		--iface nope0
}

t_examples() {
	local f out
	for f in "$root"/examples/*.json; do
		out=$("$LIMPETD_BIN" --check --config "$f" 2>&1) || why+="$f: $out"$'\n'
	done
	[ -z "$why" ]
}

# --- the run -------------------------------------------------------------------------------
tap "the shipped example configs validate (limpetd --check)" t_examples
bad_configs
write_config 1 2 3 active
cp "$cfg" "$cfg.ok"
if ! limpetd_start "$cfg"; then
	echo "not ok $((n + 1)) - limpetd starts"
	sed 's/^/# /' "$LIMPETD_LOG"
	echo "1..$((n + 1))"
	exit 1
fi
tap "limpetd attaches through libxdp and pins its maps" t_started
tap "servers' neighbours are resolved before any client packet (managed entries)" t_neighbours
tap "64 sources x 5 TCP connections, sourceIp dsr: one backend each" \
	t_sticky http 198.18.100.1
tap "64 sources x 5 TCP connections, sourceIp ipip (decap on backends): one backend each" \
	t_sticky http 198.18.100.2
tap "64 IPv6 sources x 5 TCP connections, sourceIp dsr: one backend each" \
	t_sticky http 2001:2:0:100::1
tap "64 sources x 5 UDP requests, sourceIp dsr: one backend each" t_sticky udp 198.18.100.1
tap "1000 sources spread by weight 1:2:3 (within 4 sd)" t_spread
tap "weight change by SIGHUP: no known source moves" t_weights_keep
tap "an established download survives a SIGHUP that changes weights" t_download
tap "server set inactive: only its sources move" t_disable
tap "server re-enabled: nobody moves, it gets new sources" t_enable
tap "an invalid config on SIGHUP is rejected, the running one stays" t_bad_hup
tap "every client packet was forwarded by XDP: no pass_fib_*, parse error or drop" t_no_fib_miss
tap "a second limpetd for the same service refuses to start" t_second_instance
tap "SIGTERM detaches, unpins and removes what limpetd added" t_stopped_clean
tap "IP forwarding off on lb0: limpetd exits 2 naming the sysctls, attaches nothing" \
	t_fwd_refused
tap "--set-forwarding: limpetd turns forwarding on, logs it, starts and forwards" t_fwd_set
tap "forwarding turned off at run time: reported as pass_fib_fwd_disabled with the fix" \
	t_fib_warning
limpetd_stop >/dev/null 2>&1
in_lb sysctl -qw net.ipv4.conf.lb0.forwarding=1 net.ipv6.conf.lb0.forwarding=1
tap "--xdp-mode generic: attached in skb mode, sources stay sticky (ipip)" t_generic
echo "1..$n"
[ "$failed" -eq 0 ]
