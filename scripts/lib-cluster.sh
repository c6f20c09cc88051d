# shellcheck shell=bash
# Shell helpers for the cluster rig (scripts/rig.sh up --topology cluster), shared by its test,
# benchmark and demo (sourced, not run; RIG_* of the rig in the environment). Node X is a or
# b: its limpetd runs in P-lbX with --instance X (its own pins and lock: both nodes serve the
# same service from the same config on one host), its API on /run/limpet-rig/P.X.sock, its
# state directory and log next to it.

LIMPET_ROOT=${LIMPET_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LIMPETD_BIN=${LIMPETD_BIN:-$LIMPET_ROOT/build/limpetd}
declare -A NODE_PID=()

node_run() { echo "/run/limpet-rig/$RIG_PREFIX.$1"; }
in_node() { local x=$1; shift; nsenter --net="/run/netns/$RIG_PREFIX-lb$x" "$@"; }
in_router() { nsenter --net="/run/netns/$RIG_NS_ROUTER" "$@"; }
in_cl_client() { nsenter --net="/run/netns/$RIG_NS_CLIENT" "$@"; }
ctl() { local x=$1; shift; "$LIMPET_ROOT/build/limpetctl" --api "unix:$(node_run "$x").sock" "$@"; }
birdc_r() { birdc -s "$RIG_BIRD_DIR/r.ctl" "$@"; }

# node_start X CONFIG [ARGS...]: limpetd on node X, announcing into the rig's table (CONFIG "":
# the one it applied last); returns once it runs (0) or has exited (1; its log says why). Its
# log, $(node_run X).log, grows across restarts: NODE_LOG_FROM[X] is where this run's starts.
declare -A NODE_LOG_FROM=()
node_start() {
	local x=$1 config=$2 i log
	shift 2
	log=$(node_run "$x").log
	touch "$log"
	NODE_LOG_FROM[$x]=$(($(wc -l <"$log") + 1))
	[ -n "$config" ] && set -- --config "$config" "$@"
	# nsenter itself, not in_node (a function: a subshell): $! is limpetd, which nsenter execs
	nsenter --net="/run/netns/$RIG_PREFIX-lb$x" "$LIMPETD_BIN" --iface up0,lan0 --foreground \
		--instance "$x" \
		--announce-table "$RIG_ANNOUNCE_TABLE" --api "unix:$(node_run "$x").sock" \
		--state-dir "$(node_run "$x").state" "$@" >>"$log" 2>&1 &
	NODE_PID[$x]=$!
	for ((i = 0; i < 100; i++)); do
		node_log "$x" | grep -q "running for service" && return 0
		kill -0 "${NODE_PID[$x]}" 2>/dev/null || { NODE_PID[$x]=; return 1; }
		sleep 0.1
	done
	return 1
}

# node_log X: the log of node X's last run
node_log() { tail -n +"${NODE_LOG_FROM[$1]:-1}" "$(node_run "$1").log"; }

# node_stop X [SIGNAL]: signal (TERM) limpetd on node X and wait for it; its exit status
node_stop() {
	local x=$1 pid=${NODE_PID[$1]:-} rc
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	NODE_PID[$x]=
	return $rc
}

# hops VIP: the router's next hops for VIP, sorted, on one line ("" without a route)
hops() {
	in_router ip -j route show "$1/32" proto bird |
		jq -r '[.[0] | (.nexthops // [.])[] | .gateway] | sort | join(" ")' 2>/dev/null
}

# wait_hops VIP WANT [MS [T0]]: poll every 2 ms until the router's next hops are WANT; prints
# the ms since T0 (default: the call, in ms since the epoch); 1 after MS (default 10000)
wait_hops() {
	local t0=${4:-$(date +%s%3N)}
	while [ "$(hops "$1")" != "$2" ]; do
		[ $(($(date +%s%3N) - t0)) -lt "${3:-10000}" ] || return 1
		sleep 0.002
	done
	echo $(($(date +%s%3N) - t0))
}

# wait_bgp: both sessions of the router established (BIRD waits 5 s before it connects)
wait_bgp() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(birdc_r show protocols | grep -c Established)" -eq 2 ] && return 0
		sleep 0.1
	done
	return 1
}

# syn_watch FILE: tools/synwatch.py on the router's links to the nodes (ra: node a, rb: b),
# writing "IFACE SOURCE" per new connection to FILE; syn_unwatch stops it
syn_watch() {
	local i
	in_router python3 "$LIMPET_ROOT/tools/synwatch.py" ra rb >"$1" 2>&1 &
	SYN_WATCH_PID=$!
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# syn_unwatch: stop what syn_watch started
syn_unwatch() {
	kill "$SYN_WATCH_PID"
	wait "$SYN_WATCH_PID" 2>/dev/null || true	# killed: not an error (set -e callers)
	SYN_WATCH_PID=
}

# cluster_client N: the rig's N-th client source address (1-based)
cluster_client() { echo "198.19.$((64 + $1 / 256)).$(($1 % 256))"; }

# cluster_config FILE SERVICE: the config both nodes run: tcp and udp 198.18.100.1
# (sourceIp, dsr, b1:b2:b3 weighted 1:2:3, no probe) and tcp 198.18.100.2 (b1 alone, probed
# every second); hashSeed left to its default, derived from the serviceName
cluster_config() {
	local servers='[{"serverId": 1, "address": "198.18.1.11", "weight": 1},
	  {"serverId": 2, "address": "198.18.1.12", "weight": 2},
	  {"serverId": 3, "address": "198.18.1.13", "weight": 3}]'
	cat >"$1" <<-JSON
	{"serviceName": "$2",
	 "tcp": {
	  "frontend": [
	   {"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1},
	   {"frontendId": 2, "address": "198.18.100.2", "port": "80", "defaultFarmId": 2}],
	  "farm": [
	   {"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr", "server": $servers},
	   {"farmId": 2, "stickiness": "sourceIp", "forwarding": "dsr",
	    "probe": {"type": "tcp", "interval": 1, "timeout": 1, "rise": 1, "fall": 1},
	    "server": [{"serverId": 1, "address": "198.18.1.11", "probe": true}]}]},
	 "udp": {
	  "frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80",
			"defaultFarmId": 1}],
	  "farm": [{"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr",
		    "server": $servers}]}}
	JSON
}

# cl_clients http|udp VIP FIRST COUNT CONNS: rigclient from the rig's clients FIRST.. (one line
# per source: the source, then who answered each request, "-" for nobody)
cl_clients() {
	in_cl_client "$LIMPET_ROOT/build/rigclient" "$1" "$2" 80 "$(cluster_client "$3")" "$4" "$5"
}
# unanswered FILE: requests of cl_clients' output nobody answered
unanswered() { awk '{ for (i = 2; i <= NF; i++) if ($i == "-") n++ } END { print n + 0 }' "$1"; }
