#!/usr/bin/env bash
# End to end: two limpet nodes behind a router's ECMP, the VIPs announced over BGP by BIRD
# (DESIGN.md section 8; scripts/rig.sh --topology cluster, real BIRD 2 from the Debian package,
# limpetd-san on both nodes). The same config on both nodes sends each client to the same
# server whichever node its connections cross; a drained node leaves the router's ECMP route
# while its clients keep their servers through the other; a farm without an eligible server is
# withdrawn by that node alone; a limpetd killed with -9 leaves its announcement and its
# forwarding, and the next one adopts both. TAP output.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RIG_PREFIX:-}" ]; then
	exec "$root/scripts/rig.sh" run --topology cluster --backends 3 --clients 130 --serve \
		--backend-mode dsr -- "$0" "$@"
fi
export LIMPETD_BIN=$root/build/limpetd-san
. "$root/scripts/lib-cluster.sh"
. "$root/tests/e2e/tap.sh"

svc=cl
A=198.19.1.2	# node a's next hop on the router
B=198.19.2.2
work=$(mktemp -d)
cfg=$work/cluster.json
trap 'node_stop a; node_stop b; [ -n "${SYN_WATCH_PID:-}" ] && kill "$SYN_WATCH_PID";
      rm -rf "$work" /sys/fs/bpf/limpet/$svc@a /sys/fs/bpf/limpet/$svc@b /run/limpet/$svc@* \
	"$(node_run a)".* "$(node_run b)".*' EXIT

cluster_config "$cfg" "$svc"

# moved OLD NEW: sources whose first answer in NEW is not their first in OLD
moved() { join <(sort "$1") <(sort "$2") | awk '$2 != $3' | wc -l; }
# announced X VIP: true/false, and the reason, in node X's status
announced() { ctl "$1" --json status 2>/dev/null | jq -r --arg v "$2" \
	'.announce.vips[] | select(.address == $v) | "\(.announced) \(.reason)"'; }
table_routes() { in_node "$1" ip route show table "$RIG_ANNOUNCE_TABLE" proto 76 | wc -l; }

t_bgp() {
	node_start a "$cfg" || why+="limpetd on a did not start: $(node_log a). "
	node_start b "$cfg" || why+="limpetd on b did not start: $(node_log b). "
	[ -z "$why" ] || return 1
	wait_bgp || why+="BGP sessions: $(birdc_r show protocols). "
	for v in 198.18.100.1 198.18.100.2; do
		wait_hops "$v" "$A $B" >/dev/null ||
			why+="router's next hops for $v: '$(hops "$v")', want '$A $B'. "
	done
	[ "$(table_routes a)" -eq 2 ] || why+="table $RIG_ANNOUNCE_TABLE of a: $(table_routes a) routes. "
	[ -z "$why" ]
}

t_state() {
	local m x
	for x in a b; do
		[ "$(announced "$x" 198.18.100.1)" = "true ready" ] ||
			why+="$x status: 198.18.100.1 is '$(announced "$x" 198.18.100.1)'. "
	done
	m=$(curl -s --unix-socket "$(node_run a).sock" http://limpet/metrics)
	grep -qx "limpet_vip_announced{serviceName=\"$svc\",address=\"198.18.100.2\"} 1" <<<"$m" ||
		why+="no limpet_vip_announced 1 for 198.18.100.2 in a's /metrics. "
	grep -qx "limpet_draining{serviceName=\"$svc\"} 0" <<<"$m" || why+="no limpet_draining 0. "
	[ -z "$why" ]
}

# 120 clients x 4 connections; synwatch on the router says which node each connection crossed
t_spread() {
	local both onA onB split
	syn_watch "$work/syn0.txt" || why+="synwatch did not start. "
	cl_clients http 198.18.100.1 1 120 4 >"$work/c0.txt"
	syn_unwatch
	[ "$(unanswered "$work/c0.txt")" -eq 0 ] ||
		why+="$(unanswered "$work/c0.txt") of 480 requests unanswered. "
	split=$(awk '{ for (i = 3; i <= NF; i++) if ($i != $2) { n++; break } } END { print n + 0 }' \
		"$work/c0.txt")
	[ "$split" -eq 0 ] || why+="$split clients answered by more than one server. "
	onA=$(grep -c '^ra ' "$work/syn0.txt")
	onB=$(grep -c '^rb ' "$work/syn0.txt")
	both=$(awk '{ seen[$2] = seen[$2] $1 } END { for (s in seen)
		if (seen[s] ~ /ra/ && seen[s] ~ /rb/) n++; print n + 0 }' "$work/syn0.txt")
	echo "# connections through a: $onA, through b: $onB; clients whose connections crossed both: $both of 120"
	[ "$onA" -gt 0 ] && [ "$onB" -gt 0 ] || why+="one node carried nothing. "
	[ "$both" -ge 20 ] || why+="only $both clients crossed both nodes. "
	[ -z "$why" ]
}

# downloads (40 MB at 10 MB/s from 6 sources) run across a's drain; then a UDP loop across a
# second drain (undrain, drain) with no bulk traffic beside it: the downloads fill the veths'
# rings in bursts, and a datagram dropped there would be the rig's loss, not the drain's
t_drain() {
	local i dl=() loop ms onA t0
	syn_watch "$work/syn1.txt" || why+="synwatch did not start. "
	for i in 1 2 3 4 5 6; do
		in_cl_client curl -s --interface "$(cluster_client $((120 + i)))" --limit-rate 10M \
			-o /dev/null -w '%{size_download} %{http_code}' \
			http://198.18.100.1/bytes/40000000 >"$work/dl$i.txt" 2>&1 &
		dl+=($!)
	done
	sleep 1
	t0=$(date +%s%3N)
	ctl a drain >/dev/null || why+="limpetctl drain failed. "
	ms=$(wait_hops 198.18.100.1 "$B" 10000 "$t0") ||
		why+="a's next hop still on the route: '$(hops 198.18.100.1)'. "
	echo "# the router's route lost a ${ms:-?} ms after limpetctl drain started"
	[ "$(announced a 198.18.100.1)" = "false draining" ] ||
		why+="a status: '$(announced a 198.18.100.1)', want 'false draining'. "
	for i in "${!dl[@]}"; do
		wait "${dl[$i]}" || why+="download $((i + 1)): curl exit $? (56: reset). "
		[ "$(cat "$work/dl$((i + 1)).txt")" = "40000000 200" ] ||
			why+="download $((i + 1)): '$(cat "$work/dl$((i + 1)).txt")'. "
	done
	syn_unwatch
	onA=$(awk '$1 == "ra" && $2 ~ /^198\.19\.64\.12[1-6]$/' "$work/syn1.txt" | wc -l)
	echo "# $onA of 6 downloads crossed a, the drain moved them to b"
	ctl a undrain >/dev/null || why+="limpetctl undrain failed. "
	wait_hops 198.18.100.1 "$A $B" >/dev/null || why+="a did not announce again. "
	(while [ ! -e "$work/stop" ]; do cl_clients udp 198.18.100.1 1 32 1; done) \
		>"$work/udp.txt" &
	loop=$!
	sleep 1
	ctl a drain >/dev/null || why+="limpetctl drain failed. "
	wait_hops 198.18.100.1 "$B" >/dev/null || why+="a's next hop still on the route. "
	sleep 1
	touch "$work/stop"
	wait "$loop"
	echo "# $(wc -l <"$work/udp.txt") UDP requests across the second drain, $(unanswered "$work/udp.txt") unanswered"
	[ "$(unanswered "$work/udp.txt")" -eq 0 ] || why+="UDP requests lost across the drain. "
	[ -z "$why" ]
}

# after the drain every connection crosses b, and a's clients keep their servers
t_drained_clients() {
	syn_watch "$work/syn2.txt" || why+="synwatch did not start. "
	cl_clients http 198.18.100.1 1 120 2 >"$work/c1.txt"
	syn_unwatch
	[ "$(grep -c '^ra ' "$work/syn2.txt")" -eq 0 ] ||
		why+="$(grep -c '^ra ' "$work/syn2.txt") connections still crossed a. "
	[ "$(unanswered "$work/c1.txt")" -eq 0 ] || why+="requests unanswered. "
	[ "$(moved "$work/c0.txt" "$work/c1.txt")" -eq 0 ] ||
		why+="$(moved "$work/c0.txt" "$work/c1.txt") of 120 clients moved. "
	echo "# 120 clients through b alone: $(moved "$work/c0.txt" "$work/c1.txt") moved"
	[ -z "$why" ]
}

t_stop_drained() {
	local loop rc
	(while [ ! -e "$work/stop2" ]; do cl_clients udp 198.18.100.1 1 32 1; done) \
		>"$work/udp2.txt" &
	loop=$!
	sleep 0.5
	node_stop a
	rc=$?
	sleep 0.5
	touch "$work/stop2"
	wait "$loop"
	[ "$rc" -eq 0 ] || why+="limpetd on a exited $rc: $(node_log a | tail -20). "
	[ "$(unanswered "$work/udp2.txt")" -eq 0 ] ||
		why+="$(unanswered "$work/udp2.txt") UDP requests lost while a stopped. "
	[ "$(table_routes a)" -eq 0 ] || why+="routes left in a's table. "
	[ -e "/sys/fs/bpf/limpet/$svc@a" ] && why+="a's pins left. "
	echo "# $(wc -l <"$work/udp2.txt") UDP requests across the stop, $(unanswered "$work/udp2.txt") unanswered"
	[ -z "$why" ]
}

# b1 drops b's probes (a blackhole route to b's address): b alone sees farm 2 without server
t_farm_down() {
	node_start a "$cfg" || why+="limpetd on a did not restart. "
	wait_hops 198.18.100.2 "$A $B" >/dev/null || why+="a did not announce again. "
	nsenter --net="/run/netns/$RIG_PREFIX-b1" ip route add blackhole 198.18.0.2/32
	wait_hops 198.18.100.2 "$A" >/dev/null ||
		why+="198.18.100.2 next hops: '$(hops 198.18.100.2)', want '$A'. "
	[ "$(announced b 198.18.100.2)" = "false noEligibleServer" ] ||
		why+="b status: '$(announced b 198.18.100.2)'. "
	[ "$(hops 198.18.100.1)" = "$A $B" ] || why+="198.18.100.1 lost a next hop. "
	nsenter --net="/run/netns/$RIG_PREFIX-b1" ip route del blackhole 198.18.0.2/32
	wait_hops 198.18.100.2 "$A $B" >/dev/null || why+="b did not announce again. "
	[ -z "$why" ]
}

# How many withdraws the router took from b: unchanged if b's routes were never withdrawn.
# (Not the route's time in `show route`: BIRD prints it from two clocks, off by a millisecond
# from one call to the next.)
withdraws_b() { birdc_r show protocols all lb_b | awk '/Import withdraws:/ { print $3 }'; }

t_kill9() {
	local before
	before=$(withdraws_b)
	node_stop b KILL
	sleep 0.5
	[ "$(table_routes b)" -eq 2 ] || why+="b's table holds $(table_routes b) routes after kill -9. "
	[ "$(hops 198.18.100.1)" = "$A $B" ] || why+="router's route: '$(hops 198.18.100.1)'. "
	cl_clients http 198.18.100.1 1 120 2 >"$work/c2.txt"
	[ "$(unanswered "$work/c2.txt")" -eq 0 ] || why+="requests unanswered without b's limpetd. "
	[ "$(moved "$work/c0.txt" "$work/c2.txt")" -eq 0 ] || why+="clients moved. "
	node_start b "" || why+="limpetd on b did not restart: $(node_log b). "
	node_log b | grep -q "adopted the dataplane" || why+="b did not adopt its dataplane. "
	node_log b | grep -q "2 routes of an earlier limpetd found" || why+="b did not take its routes over. "
	[ -n "$before" ] && [ "$(withdraws_b)" = "$before" ] ||
		why+="the router took withdraws from b (before: '$before', now: '$(withdraws_b)'). "
	[ "$(announced b 198.18.100.1)" = "true ready" ] || why+="b status: '$(announced b 198.18.100.1)'. "
	[ -z "$why" ]
}

t_clean_stop() {
	node_stop a || why+="a exited $?. "
	node_stop b || why+="b exited $?. "
	[ -z "$(hops 198.18.100.1)$(hops 198.18.100.2)" ] || why+="router still routes the VIPs. "
	[ "$(table_routes a)$(table_routes b)" = 00 ] || why+="routes left in the nodes' tables. "
	[ -z "$why" ]
}

# bad values are refused before anything is touched (exit status 2, the option named)
t_usage() {
	local arg out
	for arg in "--announce-table 254" "--announce-table x" "--announce-proto 12" \
		"--announce-proto 256" "--instance a/b"; do
		# shellcheck disable=SC2086
		out=$("$LIMPETD_BIN" --iface lo --config "$cfg" $arg 2>&1)
		[ $? -eq 2 ] && grep -q -- "${arg% *}" <<<"$out" || why+="limpetd $arg: '$out'. "
	done
	[ -z "$why" ]
}

tap "limpetd refuses the main/local tables, BIRD's protocol number and a bad --instance" t_usage
up_failed=$failed
tap "BGP established; the router holds one ECMP route per VIP with both nodes as next hops" t_bgp
# nothing else can pass without it (and each unanswered request costs rigclient 2 s)
[ "$failed" -eq "$up_failed" ] || { echo "Bail out! the cluster did not come up"; exit 1; }
tap "status and /metrics show each VIP announced" t_state
tap "120 clients x 4 connections: each on one server whichever node it crossed; both nodes carry traffic" t_spread
tap "drain a: a leaves the router's route; downloads across it finish (0 resets), no UDP request lost" t_drain
tap "after the drain a's clients cross b and keep their servers (0 moved)" t_drained_clients
tap "stopping a after the drain loses nothing; its routes and pins are gone" t_stop_drained
tap "all servers of a farm down on node b: b alone withdraws that VIP, and announces it again" t_farm_down
tap "limpetd on b killed with -9: announcement and forwarding stay; restarted, it adopts both" t_kill9
tap "a clean stop of both nodes withdraws every VIP" t_clean_stop
echo "1..$n"
[ "$failed" -eq 0 ]
