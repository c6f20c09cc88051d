# Shell helpers shared by the demo and the end-to-end tests (sourced, not run). They drive
# limpetd and the rig's clients inside a rig made by scripts/rig.sh (RIG_PREFIX set).

LIMPET_ROOT=${LIMPET_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LIMPETD_LOG=${LIMPETD_LOG:-/run/limpet-rig/$RIG_PREFIX.limpetd.log}
LIMPETD_PID=
LIMPETD_BIN=${LIMPETD_BIN:-$LIMPET_ROOT/build/limpetd}

in_lb() { "$LIMPET_ROOT/scripts/rig.sh" exec lb "$@"; }
in_client() { "$LIMPET_ROOT/scripts/rig.sh" exec client "$@"; }

# listening NODE PORT: something listens on TCP PORT in NODE
listening() { [ -n "$("$LIMPET_ROOT/scripts/rig.sh" exec "$1" ss -Hltn "sport = :$2")" ]; }

# wait_listen NODE PORT PID [SECONDS]: until PORT listens in NODE (default 5 s); 1 if PID died
# or it never does
wait_listen() {
	local i
	for ((i = 0; i < ${4:-5} * 10; i++)); do
		listening "$1" "$2" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# limpetd_start CONFIG [ARGS...]: start limpetd on the LB's lb0 in the foreground, logging to
# $LIMPETD_LOG; returns once it runs (0) or has exited (its status). CONFIG "": no --config
# (limpetd restores the config last applied, from its state directory)
limpetd_start() {
	local config=$1 i
	shift
	[ -n "$config" ] && set -- --config "$config" "$@"
	: >"$LIMPETD_LOG"
	# rig.sh execs nsenter, which execs limpetd: $! is limpetd itself
	"$LIMPET_ROOT/scripts/rig.sh" exec lb "$LIMPETD_BIN" --iface lb0 --foreground \
		--state-dir "/run/limpet-rig/$RIG_PREFIX.state" "$@" >>"$LIMPETD_LOG" 2>&1 &
	LIMPETD_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "running for service" "$LIMPETD_LOG" && return 0
		if ! kill -0 "$LIMPETD_PID" 2>/dev/null; then
			wait "$LIMPETD_PID"
			return $?
		fi
		sleep 0.1
	done
	return 1
}

# limpetd_running SERVICE: a live limpetd holds SERVICE's lock on this host (another run's?)
limpetd_running() {
	[ -e "/run/limpet/$1.lock" ] && kill -0 "$(cat "/run/limpet/$1.lock" 2>/dev/null)" 2>/dev/null
}

# limpetd_hup: SIGHUP, then wait for the outcome line; 0 if the new config was applied
limpetd_hup() {
	local before i
	before=$(wc -l <"$LIMPETD_LOG")
	kill -HUP "$LIMPETD_PID"
	for ((i = 0; i < 100; i++)); do
		tail -n +"$((before + 1))" "$LIMPETD_LOG" | grep -q "config applied" && return 0
		tail -n +"$((before + 1))" "$LIMPETD_LOG" | grep -q "keeping the running" && return 1
		sleep 0.1
	done
	return 1
}

# limpetd_stop: SIGTERM and wait; returns limpetd's exit status
limpetd_stop() {
	[ -n "$LIMPETD_PID" ] || return 0
	kill -TERM "$LIMPETD_PID" 2>/dev/null
	wait "$LIMPETD_PID"
	local rc=$?
	LIMPETD_PID=
LIMPETD_BIN=${LIMPETD_BIN:-$LIMPET_ROOT/build/limpetd}
	return $rc
}

# clients http|udp VIP BASE COUNT CONNS: one line per source, "SOURCE SERVER..." (rigclient)
clients() {
	in_client "$LIMPET_ROOT/build/rigclient" "$1" "$2" 80 "$3" "$4" "$5"
}

# verdicts SERVICE: "reason packets" for every verdict reason of the service's balancer,
# summed over CPUs (names and order of enum lb_reason, as dataplane_reason_name prints them)
verdicts() {
	in_lb bpftool -j map dump pinned "/sys/fs/bpf/limpet/$1/verdicts" | tr '{}' '\n\n' |
		awk -F'[:,]' '/"key"/ { k = $2 + 0 } /"packets"/ { n[k] += $2 }
		END { m = split("tx redirect pass_not_vip pass_parse_error pass_unsupported " \
				"pass_fragment pass_l7 pass_fib_fwd_disabled pass_fib_no_route " \
				"pass_fib_no_neigh pass_fib_offlink pass_fib_other drop_acl " \
				"drop_no_server drop_too_big drop_encap", name, " ")
		      for (i = 1; i <= m; i++) print name[i], n[i - 1] + 0 }'
}

# client_base4 N / client_base6 N: the rig's N-th client source address (1-based)
client_base4() { echo "198.18.$((64 + $1 / 256)).$(($1 % 256))"; }
client_base6() { printf '2001:2::40:%x\n' "$1"; }
