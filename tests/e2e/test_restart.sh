#!/usr/bin/env bash
# End to end: hitless restart. A limpetd that crashes, is killed (-9) or shuts down keeping
# its dataplane leaves the balancer attached and forwarding; the next one adopts the pinned
# maps and program with every sticky and connection entry, so that no client moves. TAP
# output. Runs itself inside a fresh rig (the options of test_limpetd.sh).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RIG_PREFIX:-}" ]; then
	exec "$root/scripts/rig.sh" run --backends 3 --clients 1300 --vips 5 --serve \
		--backend-mode ipip -- "$0" "$@"
fi
# the daemon under test is the ASan/UBSan build: a leak or overflow fails the run
export LIMPETD_BIN=$root/build/limpetd-san
. "$root/scripts/lib.sh"

svc=rs
sock=/run/limpet/$svc.sock
pins=/sys/fs/bpf/limpet/$svc
state=/run/limpet-rig/$RIG_PREFIX.state
work=$(mktemp -d)
# whatever happens, no limpetd, pins, lock or socket of this test's service outlive it (and
# no balancer left attached by a kept dataplane: the rig's namespaces go with the rig)
trap 'limpetd_stop >/dev/null 2>&1; rm -rf "$work" "$pins" "$state" /run/limpet/$svc.*' EXIT
api_args=(--api "unix:$sock")

. "$root/tests/e2e/tap.sh"

# write_config FILE W1 W2 W3 [REVERSED]: tcp farms 1 (sourceIp, dsr), 2 (sourceIp, dsr: the
# same servers and weights, visited only to show where the table alone sends a source) and
# 3 (null stickiness, ipip), a udp farm; REVERSED lists the tcp farms 3, 2, 1, which would
# give them other slots than in config order if limpetd did not keep its record of them
write_config() {
	local file=$1 w1=$2 w2=$3 w3=$4 order="1 2 3" farms= f
	[ "${5:-}" = reversed ] && order="3 2 1"
	servers() {
		printf '[{"serverId": 1, "address": "198.18.1.11", "weight": %s},
			{"serverId": 2, "address": "198.18.1.12", "weight": %s},
			{"serverId": 3, "address": "198.18.1.13", "weight": %s}]' "$w1" "$w2" "$w3"
	}
	for f in $order; do
		case $f in
		1) farms+='{"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr", ' ;;
		2) farms+='{"farmId": 2, "stickiness": "sourceIp", "forwarding": "dsr", ' ;;
		3) farms+='{"farmId": 3, "stickiness": null, "forwarding": "ipip", ' ;;
		esac
		farms+="\"server\": $(servers)},"
	done
	cat >"$file" <<-JSON
	{"serviceName": "$svc", "hashSeed": "0123456789abcdef",
	 "tcp": {
	  "frontend": [
	   {"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1},
	   {"frontendId": 2, "address": "198.18.100.2", "port": "80", "defaultFarmId": 2},
	   {"frontendId": 3, "address": "198.18.100.3", "port": "80", "defaultFarmId": 3}],
	  "farm": [${farms%,}]},
	 "udp": {
	  "frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80",
			"defaultFarmId": 1}],
	  "farm": [{"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr",
		    "server": $(servers)}]}}
	JSON
}

# api METHOD PATH [BODY]: the REST API of the service, on its Unix socket
api() {
	curl -s --max-time 10 --unix-socket "$sock" -X "$1" -H 'Content-Type: application/json' \
		"http://limpet/ipLoadbalancing/$svc/$2" ${3:+-d "$3"}
}

run_clients() {	# run_clients OUT http|udp VIP FIRST COUNT CONNS
	clients "$2" "$3" "$(client_base4 "$4")" "$5" "$6" >"$1"
}

# moved OLD NEW: how many sources answer from another backend in NEW than in OLD
moved() { join <(sort "$1") <(sort "$2") | awk '$2 != $3' | wc -l; }
# unanswered FILE: requests nothing answered
unanswered() { awk '{ for (i = 2; i <= NF; i++) if ($i == "-") n++ } END { print n + 0 }' "$1"; }
# same_backends OLD NEW WHAT: every source of NEW answered, each by its backend in OLD
same_backends() {
	local m u
	m=$(moved "$1" "$2")
	u=$(unanswered "$2")
	[ "$m" -eq 0 ] && [ "$u" -eq 0 ] && return 0
	why+="$3: $m sources moved, $u requests unanswered. "
	return 1
}

prog_id() { in_lb ip -j link show lb0 | jq -r '.[0].xdp.prog.id // empty'; }
managed() { in_lb ip neigh show | grep -c managed; }
# farm_maps: the inner map each farm slot holds (a farm swapped in anew gets another)
farm_maps() { in_lb bpftool -j map dump pinned "$pins/farms" | jq -c '[.[] | [.key, .value]]'; }

# limpetd_kill9: no cleanup at all, as in a crash
limpetd_kill9() {
	kill -KILL "$LIMPETD_PID"
	wait "$LIMPETD_PID" 2>/dev/null
	LIMPETD_PID=
}

# limpetd_exit: wait for a limpetd that stops by itself; its exit status
limpetd_exit() {
	wait "$LIMPETD_PID" 2>/dev/null
	local rc=$?
	LIMPETD_PID=
	return $rc
}

# shutdown_keep: POST shutdown {"keepDataplane": true}; 0 if limpetd said so and exited 0
shutdown_keep() {
	local out
	out=$(api POST shutdown '{"keepDataplane": true}')
	limpetd_exit || { why="limpetd exited with $? after shutdown (answer: $out)"; return 1; }
	[ "$(jq -r .keepDataplane <<<"$out")" = true ] ||
		{ why="shutdown answered '$out'"; return 1; }
}

adopted() { [ "$(api GET status | jq -r .dataplane.adopted)" = "$1" ]; }

# --- 1. kill -9 under traffic, restart with other weights ----------------------------------
cfg_a=$work/a.json
cfg_b=$work/b.json
write_config "$cfg_a" 1 2 3
write_config "$cfg_b" 3 2 1 reversed

t_fresh() {
	limpetd_start "$cfg_a" "${api_args[@]}" || { why=$(cat "$LIMPETD_LOG"); return 1; }
	grep -q "attached to lb0" "$LIMPETD_LOG" || why="no attach line. "
	grep -q "adopted the dataplane" "$LIMPETD_LOG" && why+="adopted at a first start. "
	adopted false || why+="status: dataplane.adopted is not false. "
	[ -n "$(prog_id)" ] || why+="no XDP program on lb0. "
	run_clients "$work/d0.txt" http 198.18.100.1 101 1000 1
	run_clients "$work/u0.txt" udp 198.18.100.1 101 200 1
	[ "$(unanswered "$work/d0.txt")" -eq 0 ] || why+="unanswered requests before the kill. "
	[ -z "$why" ]
}

# While a client downloads through a sourceIp farm and another through a null-stickiness
# farm (connection table), and a third loops over 20 sources, limpetd is killed with -9 and a
# new one starts with other weights and the tcp farms listed in another order.
t_kill9_traffic() {
	local dl1 dl2 loop loops before after i
	before=$(prog_id)
	in_client curl -s --interface "$(client_base4 1250)" --limit-rate 30M -o /dev/null \
		-w '%{size_download} %{http_code}' "http://198.18.100.1/bytes/150000000" \
		>"$work/dl1.txt" 2>&1 &
	dl1=$!
	in_client curl -s --interface "$(client_base4 1251)" --limit-rate 30M -o /dev/null \
		-w '%{size_download} %{http_code}' "http://198.18.100.3/bytes/150000000" \
		>"$work/dl2.txt" 2>&1 &
	dl2=$!
	(while [ ! -e "$work/stop" ]; do
		clients http 198.18.100.1 "$(client_base4 1201)" 20 1
	done) >"$work/loop.txt" &
	loop=$!
	sleep 1
	limpetd_kill9
	sleep 1	# nobody runs: the balancer forwards on its own
	limpetd_start "$cfg_b" "${api_args[@]}" ||
		why="the new limpetd did not start: $(cat "$LIMPETD_LOG")"
	sleep 1
	touch "$work/stop"
	wait "$loop"
	wait "$dl1" || why+="curl (sourceIp farm) exit $?. "
	wait "$dl2" || why+="curl (null farm) exit $?. "
	after=$(prog_id)
	for i in 1 2; do
		[ "$(cat "$work/dl$i.txt")" = "150000000 200" ] ||
			why+="download $i: '$(cat "$work/dl$i.txt")', want '150000000 200'. "
	done
	loops=$(wc -l <"$work/loop.txt")
	i=$(unanswered "$work/loop.txt")
	[ "$i" -eq 0 ] || why+="$i of $loops looped requests unanswered. "
	i=$(awk '{ if (!($1 in first)) first[$1] = $2; if (first[$1] != $2) n++ }
		 END { print n + 0 }' "$work/loop.txt")
	[ "$i" -eq 0 ] || why+="$i looped requests answered by another backend than before. "
	[ "$loops" -ge 60 ] || why+="only $loops looped requests. "
	[ -n "$before" ] && [ "$before" = "$after" ] ||
		why+="XDP program on lb0 was $before, now '$after' (want it never detached). "
	echo "# $loops looped requests, 2 downloads of 150 MB through kill -9 and the restart"
	[ -z "$why" ]
}

t_kill9_adopted() {
	local line
	line=$(grep "adopted the dataplane pinned under $pins" "$LIMPETD_LOG")
	[ -n "$line" ] || why="no adoption line in the log:"$'\n'"$(cat "$LIMPETD_LOG")"
	echo "# ${line#*info: }"
	grep -q "lb0: the adopted program stays attached" "$LIMPETD_LOG" ||
		why+=" no 'stays attached' line."
	adopted true || why+=" status: dataplane.adopted is not true."
	[ -z "$why" ]
}

# 1000 sources stuck on farm 1 before the kill; weights are now 3:2:1 instead of 1:2:3. The
# same sources on farm 2 (same servers and weights, never visited) show where the new table
# alone sends them: many elsewhere, so 0 moved is the adopted sticky table's work.
t_kill9_sticky() {
	local m differ mu
	run_clients "$work/d1.txt" http 198.18.100.1 101 1000 1
	run_clients "$work/f2.txt" http 198.18.100.2 101 1000 1
	run_clients "$work/u1.txt" udp 198.18.100.1 101 200 1
	m=$(moved "$work/d0.txt" "$work/d1.txt")
	mu=$(moved "$work/u0.txt" "$work/u1.txt")
	differ=$(moved "$work/d1.txt" "$work/f2.txt")
	why="after kill -9 and a restart with weights 3:2:1: $m of 1000 tcp and $mu of 200 udp"
	why+=" sources moved (want 0); the new table alone would move $differ of 1000"
	echo "# $why"
	[ "$m" -eq 0 ] && [ "$mu" -eq 0 ] && [ "$differ" -gt 100 ] &&
		[ "$(unanswered "$work/d1.txt")" -eq 0 ]
}

# --- 2. shutdown keeping the dataplane, adoption, then a plain SIGTERM ---------------------
t_keep_shutdown() {
	local before
	before=$(prog_id)
	farm_maps >"$work/farms0.txt"
	shutdown_keep || return 1
	grep -q "leaving the dataplane attached and pinned under $pins" "$LIMPETD_LOG" ||
		why+="no 'leaving the dataplane' line. "
	[ "$(prog_id)" = "$before" ] || why+="XDP program on lb0 changed or went: '$(prog_id)'. "
	[ -e "$pins/limpet_balancer" ] && [ -e "$pins/sticky" ] || why+="pins gone. "
	[ -e "/run/limpet/$svc.lock" ] && why+="lock left. "
	[ -e "$sock" ] && why+="API socket left. "
	[ "$(managed)" -ge 3 ] || why+="managed neighbour entries gone (forwarding needs them). "
	# no limpetd runs: the balancer alone keeps every source where it was
	run_clients "$work/d2.txt" http 198.18.100.1 101 1000 1
	same_backends "$work/d1.txt" "$work/d2.txt" "without a daemon"
	[ -z "$why" ]
}

# the same config again: adoption plus re-apply swaps no farm (each keeps its inner map)
t_keep_adopt() {
	limpetd_start "$cfg_b" "${api_args[@]}" || { why=$(cat "$LIMPETD_LOG"); return 1; }
	grep -q "adopted the dataplane pinned under $pins" "$LIMPETD_LOG" ||
		why+="no adoption line. "
	adopted true || why+="status: dataplane.adopted is not true. "
	farm_maps >"$work/farms1.txt"
	cmp -s "$work/farms0.txt" "$work/farms1.txt" ||
		why+="farms swapped anew: $(<"$work/farms0.txt") -> $(<"$work/farms1.txt"). "
	run_clients "$work/d3.txt" http 198.18.100.1 101 1000 1
	same_backends "$work/d1.txt" "$work/d3.txt" "after the adoption"
	[ -z "$why" ]
}

t_sigterm_clean() {
	limpetd_stop || { why="limpetd exited with $?"; return 1; }
	[ -n "$(prog_id)" ] && why+="XDP still on lb0. "
	[ -e "$pins" ] && why+="pins left in $pins. "
	[ -e "/run/limpet/$svc.lock" ] && why+="lock file left. "
	[ -e "$sock" ] && why+="API socket left. "
	[ "$(managed)" -eq 0 ] ||
		why+="managed neighbour entries left: $(in_lb ip neigh show | grep managed). "
	[ -z "$why" ]
}

# --- 3. a pinned dataplane of another ABI ---------------------------------------------------
# meta: the pinned meta record as bpftool shows it (raw bytes in .value)
meta() { in_lb bpftool -j map lookup pinned "$pins/meta" key 0 0 0 0; }
meta_abi() { meta | jq .formatted.value.abi_version; }
# the version this build's limpetd writes
abi=$(awk '$2 == "LB_ABI_VERSION" { print $3 }' "$root/include/limpet/abi.h")

t_abi_refused() {
	local before out rc rest
	limpetd_start "$cfg_a" "${api_args[@]}" || { why=$(cat "$LIMPETD_LOG"); return 1; }
	run_clients "$work/d5.txt" http 198.18.100.1 101 300 1
	shutdown_keep || return 1
	before=$(prog_id)
	# abi_version (the first 4 bytes, little endian) 99, the rest as it is
	rest=$(meta | jq -r '.value[4:] | join(" ")')
	# shellcheck disable=SC2086
	in_lb bpftool map update pinned "$pins/meta" key 0 0 0 0 value 99 0 0 0 $rest &&
		[ "$(meta_abi)" = 99 ] ||
		{ why="writing ABI version 99 into $pins/meta failed"; return 1; }
	limpetd_start "$cfg_a" "${api_args[@]}"
	rc=$?
	LIMPETD_PID=
	out=$(cat "$LIMPETD_LOG")
	echo "# $(grep 'cannot adopt' <<<"$out" | sed 's/^error: //')"
	[ "$rc" -eq 1 ] || why+="exit $rc (want 1). "
	[[ $out == *"ABI version is 99, this limpetd's is $abi"* ]] ||
		why+="the mismatch is not named. "
	[[ $out == *--replace-dataplane* ]] || why+="--replace-dataplane is not named. "
	[ "$(prog_id)" = "$before" ] || why+="XDP program changed: $before -> '$(prog_id)'. "
	[ -e "$pins/sticky" ] || why+="pins removed. "
	run_clients "$work/d6.txt" http 198.18.100.1 101 300 1
	same_backends "$work/d5.txt" "$work/d6.txt" "the old dataplane, left running"
	[ -z "$why" ]
}

t_abi_replaced() {
	local before
	before=$(prog_id)
	limpetd_start "$cfg_a" "${api_args[@]}" --replace-dataplane ||
		{ why=$(cat "$LIMPETD_LOG"); return 1; }
	grep -q "replacing the dataplane pinned there" "$LIMPETD_LOG" || why+="no replacing line. "
	grep -q "attached to lb0" "$LIMPETD_LOG" || why+="no attach line. "
	adopted false || why+="status: dataplane.adopted is not false. "
	[ -n "$(prog_id)" ] && [ "$(prog_id)" != "$before" ] ||
		why+="XDP program $before -> '$(prog_id)' (want a new one). "
	[ "$(meta_abi)" = "$abi" ] || why+="meta says ABI '$(meta_abi)', want $abi. "
	[ "$(api GET stats | jq .sticky.entries)" -eq 0 ] || why+="sticky table not fresh. "
	run_clients "$work/d7.txt" http 198.18.100.1 101 300 3
	[ "$(unanswered "$work/d7.txt")" -eq 0 ] ||
		why+="$(unanswered "$work/d7.txt") requests unanswered. "
	[ -z "$why" ]
}

# --- 4. the applied config persists; a crash at the rename keeps the previous file ----------
weight_of() {	# weight_of JSON: farm 1's server 2 weight in a config document
	jq '.tcp.farm[] | select(.farmId == 1) | .server[] | select(.serverId == 2) | .weight' "$@"
}

t_persist_api_edit() {
	local w
	api PUT tcp/farm/1/server/2 '{"weight": 7}' >/dev/null
	[ "$(api POST refresh '{}' | jq -r .applied)" = true ] ||
		{ why="refresh failed"; return 1; }
	limpetd_kill9
	limpetd_start "" "${api_args[@]}" || { why=$(cat "$LIMPETD_LOG"); return 1; }
	grep -q "restoring the config last applied: $state/$svc.json" "$LIMPETD_LOG" ||
		why+="no restoring line. "
	grep -q "adopted the dataplane" "$LIMPETD_LOG" || why+="not adopted. "
	w=$(api GET config | weight_of)
	[ "$w" = 7 ] || why+="restored weight $w, want 7 (the API edit). "
	[ -z "$why" ]
}

# limpetd under strace, killed (SIGKILL) at its second rename: the first is the state save of
# its start, the second the one of the refresh below
t_persist_crash_at_rename() {
	local w out
	cp "$state/$svc.json" "$work/before.json"
	limpetd_stop || { why="limpetd exited with $?"; return 1; }
	cat >"$work/limpetd-strace" <<-EOF
	#!/bin/sh
	exec strace -f -o "$work/strace.txt" -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:signal=KILL:when=2 \
		"$root/build/limpetd-san" "\$@"
	EOF
	chmod +x "$work/limpetd-strace"
	LIMPETD_BIN=$work/limpetd-strace limpetd_start "" "${api_args[@]}" ||
		{ why=$(cat "$LIMPETD_LOG"); return 1; }
	api PUT tcp/farm/1/server/2 '{"weight": 9}' >/dev/null
	out=$(api POST refresh '{}')
	limpetd_exit
	# the refresh's rename, then the kill it got instead of its result
	grep -A1 'rename(.*json' "$work/strace.txt" | tail -2 | grep -q 'killed by SIGKILL' ||
		why+="limpetd was not killed at the rename: $(tail -3 "$work/strace.txt"). "
	echo "# strace: $(grep 'rename(.*json' "$work/strace.txt" | tail -1 | sed 's/^[0-9]* *//')"
	[ -z "$out" ] || why+="the refresh answered: $out. "
	cmp -s "$work/before.json" "$state/$svc.json" ||
		why+="$state/$svc.json changed: $(diff "$work/before.json" "$state/$svc.json"). "
	"$LIMPETD_BIN" --check --config "$state/$svc.json" >/dev/null ||
		why+="the saved config is not valid. "
	limpetd_start "" "${api_args[@]}" || { why+=$(cat "$LIMPETD_LOG"); return 1; }
	w=$(api GET config | weight_of)
	[ "$w" = 7 ] || why+="restored weight $w, want 7 (the previous config). "
	grep -q "adopted the dataplane" "$LIMPETD_LOG" || why+="not adopted. "
	[ -z "$why" ]
}

# --- the run --------------------------------------------------------------------------------
{ limpetd_start "$cfg_a" "${api_args[@]}" >/dev/null && limpetd_stop; } ||
	bail "limpetd starts and stops" <"$LIMPETD_LOG"
rm -rf "$state"
tap "a first limpetd creates the dataplane (not adopted)" t_fresh
tap "kill -9 and restart under traffic: no request fails, downloads go on, XDP never detached" \
	t_kill9_traffic
tap "the new limpetd adopts the pinned dataplane (log line, status adopted: true)" \
	t_kill9_adopted
tap "restart with other weights: 0 of 1000 sticky sources move, the table alone would move many" \
	t_kill9_sticky
tap "shutdown keepDataplane: XDP stays attached and forwards with no daemon" t_keep_shutdown
tap "a new limpetd adopts it; re-applying the same config swaps no farm" t_keep_adopt
tap "SIGTERM then leaves nothing: no XDP, pins, lock, socket, managed neighbours" \
	t_sigterm_clean
tap "pinned meta of another ABI: limpetd exits 1 naming it, the old one keeps forwarding" \
	t_abi_refused
tap "--replace-dataplane replaces it: fresh tables, forwarding" t_abi_replaced
tap "restart without --config restores the config an API edit and refresh applied" \
	t_persist_api_edit
tap "killed at the rename of a refresh: the saved config is the previous one, whole, restored" \
	t_persist_crash_at_rename
tap "SIGTERM after it all leaves nothing behind" t_sigterm_clean
echo "1..$n"
[ "$failed" -eq 0 ]
