#!/usr/bin/env bash
# limpetctl end to end, TAP output.
#   - without a daemon: every command's --help, every kind of usage error (exit 2, before any
#     connection), no daemon on the socket or port (exit 1, naming it);
#   - against limpetd in the rig (service "ctl", API on its own socket): golden tables and field
#     lines, --json as the API answers, edits, pending, refresh, stats after real traffic, API
#     errors (exit 1, every "errors" line), config export/import, shutdown; then a TCP listener
#     with a bearer token, and shutdown --keep-dataplane.
# Both binaries are the ASan/UBSan builds: a leak or overflow fails the check that ran it.
# Needs root. Usage: tests/e2e/test_ctl.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ctl=${LIMPETCTL_BIN:-$root/build/limpetctl-san}
export LIMPETD_BIN=${LIMPETD_BIN:-$root/build/limpetd-san}
unset LIMPET_API LIMPET_TOKEN_FILE

if [ "${1:-}" = --in-rig ]; then
	state=$2
	read -r n failed <"$state"
fi
work=$(mktemp -d)
nosock=$work/nonexistent.sock

. "$root/tests/e2e/tap.sh"

# run ARGS...: limpetctl ARGS; stdout in $out, stderr in $err, exit status in $rc
run() {
	"$ctl" "$@" >"$work/out" 2>"$work/err" <"${stdin:-/dev/null}"
	rc=$?
	out=$(<"$work/out")
	err=$(<"$work/err")
}

# no sanitizer report on the last run
clean() {
	grep -qE 'Sanitizer|runtime error' "$work/err" || return 0
	why+="sanitizer report:"$'\n'"$err"
	return 1
}

# golden ARGS... <<<WANT: exit 0, nothing on stderr, stdout exactly WANT; $mask (a sed
# script) first blanks out what changes from run to run
golden() {
	local want
	want=$(cat)
	run "$@"
	[ -n "${mask:-}" ] && out=$(sed -E "$mask" <<<"$out")
	[ "$rc" -eq 0 ] || why+="exit $rc (want 0)"$'\n'
	[ -z "$err" ] || why+="stderr: $err"$'\n'
	[ "$out" = "$want" ] ||
		why+="output differs (-want +got):"$'\n'"$(diff <(echo "$want") <(echo "$out"))"
	[ -z "$why" ] && clean
}

# fails STATUS MSG ARGS...: exit STATUS, nothing on stdout, MSG on stderr
fails() {
	local want=$1 msg=$2
	shift 2
	run "$@"
	why="exit $rc (want $want), stdout: '$out', stderr: $err"
	[ "$rc" -eq "$want" ] && [ -z "$out" ] && [[ $err == *"$msg"* ]] && clean
}

# usage MSG ARGS...: a usage error, found before any connection: exit 2, MSG and a hint
usage() {
	local msg=$1
	shift
	fails 2 "$msg" --api "unix:$nosock" "$@" && [[ $err == *"--help'."* ]]
}

# helps "WORDS" "ARGS": `limpetctl WORDS --help` exits 0 and starts with the command's usage,
# which `limpetctl --help` lists too
helps() {
	local -a words
	local line="$1${2:+ $2}"
	read -ra words <<<"$1"
	run "${words[@]}" --help
	why="exit $rc, first line: $(head -1 <<<"$out")"
	[ "$rc" -eq 0 ] && [ "$(head -1 <<<"$out")" = "usage: limpetctl [options] $line" ] &&
		"$ctl" --help | grep -qF "  $line  " && clean
}

# --- without a daemon ----------------------------------------------------------------------
usages=(
	"frontend list|[LAYER]" "frontend show|LAYER ID" "frontend add|LAYER [FIELD=VALUE...]"
	"frontend set|LAYER ID FIELD=VALUE..." "frontend del|LAYER ID"
	"farm list|[LAYER]" "farm show|LAYER ID" "farm add|LAYER [FIELD=VALUE...]"
	"farm set|LAYER ID FIELD=VALUE..." "farm del|LAYER ID"
	"server list|LAYER FARM" "server show|LAYER FARM ID"
	"server add|LAYER FARM [FIELD=VALUE...]"
	"server set|LAYER FARM ID FIELD=VALUE..." "server del|LAYER FARM ID"
	"refresh|" "pending|" "status|" "stats|" "config export|[FILE]" "config import|FILE|-"
	"shutdown|"
)

t_help_top() {
	run --help
	why="exit $rc"
	[ "$rc" -eq 0 ] && [[ $out == "usage: limpetctl [options] COMMAND"* ]] &&
		[[ $out == *"exit status: 0 ok, 1 API error or no connection, 2 usage error"* ]] &&
		[[ $out == *"FIELD=VALUE"*"port=80,443"* ]] && run -h && [ "$rc" -eq 0 ] && clean
}

# limpetctl GROUP --help lists the group's commands, and only them
t_help_group() {
	local group=$1 u lines
	run "$group" --help
	lines=$(grep -c '^  [a-z]' <<<"$out")
	why="exit $rc, $lines command lines:"$'\n'"$out"
	[ "$rc" -eq 0 ] || return 1
	for u in "${usages[@]}"; do
		[[ $u == "$group "* ]] || continue
		grep -q "^  ${u%%|*} " <<<"$out" || return 1
		lines=$((lines - 1))
	done
	[ "$lines" -eq 0 ] && clean
}

t_help_opts() {	# t_help_opts "WORDS" OPTION...: the command's help lists its own options
	local -a words
	read -ra words <<<"$1"
	shift
	run "${words[@]}" -h
	why="exit $rc:"$'\n'"$out"
	[ "$rc" -eq 0 ] || return 1
	for o in "$@" --help; do
		grep -q -- "$o" <<<"$out" || return 1
	done
}

no_daemon() {
	local u
	tap "limpetctl --help and -h: usage, commands, FIELD=VALUE rule, exit codes" t_help_top
	for u in "${usages[@]}"; do
		tap "limpetctl ${u%%|*} --help: exit 0, its usage" helps "${u%%|*}" "${u#*|}"
	done
	for u in frontend farm server config; do
		tap "limpetctl $u --help: the $u commands" t_help_group "$u"
	done
	tap "refresh --help lists --zone" t_help_opts refresh --zone
	tap "config export --help lists --staged" t_help_opts "config export" --staged
	tap "shutdown --help lists --keep-dataplane" t_help_opts shutdown --keep-dataplane

	tap "usage: no command" usage "limpetctl: missing command"
	tap "usage: unknown command" usage "unknown command 'bogus'" bogus
	tap "usage: group without command" usage "limpetctl: farm: missing command" farm
	tap "usage: unknown command in a group" usage "server: unknown command 'move'" server move
	tap "usage: unknown option" usage "unknown option '--bogus'" --bogus status
	tap "usage: another command's option" usage "farm list: unknown option '--zone'" \
		farm list --zone x
	tap "usage: option without its value" usage "refresh: option '--zone' needs a value" \
		refresh --zone
	tap "usage: bad --api" usage "--api ftp://x: expected unix:PATH" --api ftp://x status
	tap "usage: missing LAYER" usage "farm show: missing LAYER" farm show
	tap "usage: bad LAYER" usage "bad LAYER 'sctp': expected tcp, udp or http" \
		frontend list sctp
	tap "usage: missing ID" usage "server show: missing ID" server show tcp 1
	tap "usage: missing FARM" usage "server list: missing FARM" server list tcp
	tap "usage: bad id 0" usage "bad ID '0'" farm del tcp 0
	tap "usage: bad id with a leading zero" usage "bad ID '01'" farm show tcp 01
	tap "usage: bad id above 2^32-1" usage "bad FARM '4294967296'" server list udp 4294967296
	tap "usage: bad id not a number" usage "bad ID 'one'" frontend show tcp one
	tap "usage: extra argument" usage "unexpected argument '2'" farm show tcp 1 2
	tap "usage: extra argument to status" usage "status: unexpected argument 'x'" status x
	tap "usage: set without FIELD=VALUE" usage "missing FIELD=VALUE" farm set tcp 1
	tap "usage: FIELD=VALUE without '='" usage "bad FIELD=VALUE 'weight'" \
		server set tcp 1 1 weight
	tap "usage: FIELD=VALUE without FIELD" usage "bad FIELD=VALUE '=3'" server add tcp 1 =3
	tap "usage: FIELD not a field name" usage "bad FIELD=VALUE 'we-ight=3'" \
		server add tcp 1 we-ight=3
	tap "usage: a field given twice" usage "field 'weight' given twice" \
		server add tcp 1 weight=1 address=198.18.1.11 weight=2
	tap "usage: config import without FILE" usage "config import: missing FILE" config import
	tap "usage: config export with two files" usage "unexpected argument 'b'" config export a b

	tap "no daemon on the socket: exit 1, naming it" fails 1 \
		"cannot connect to unix:$nosock: No such file or directory (is limpetd running?)" \
		--api "unix:$nosock" status
	tap "no daemon on the port: exit 1, naming it" fails 1 \
		"cannot connect to http://127.0.0.1:1: Connection refused" \
		--api http://127.0.0.1:1 --service x farm list
	tap "LIMPET_API is the default --api" env LIMPET_API="unix:$nosock" bash -c \
		"\"$ctl\" status 2>&1 | grep -q 'unix:$nosock'"
	tap "an unreadable token file: exit 1, naming it" fails 1 \
		"token file $work/none: No such file or directory" \
		--api http://127.0.0.1:1 --token-file "$work/none" status
}

if [ -z "${RIG_PREFIX:-}" ]; then
	trap 'rm -rf "$work"' EXIT
	no_daemon
	# then the rest inside a rig, numbered on; the plan is printed here whatever happens there
	state=$work/state
	echo "$n $failed" >"$state"
	"$root/scripts/rig.sh" run --prefix "lpctl$$" --backends 2 --clients 4 --vips 1 --serve \
		--backend-mode dsr -- "$0" --in-rig "$state"
	rc=$?
	read -r n failed <"$state"
	if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		n=$((n + 1))
		failed=1
		echo "not ok $n - the rig part ran (exit $rc)"
	fi
	echo "1..$n"
	[ "$failed" -eq 0 ]
	exit
fi

# --- against limpetd in the rig ------------------------------------------------------------
. "$root/scripts/lib.sh"
sock=/run/limpet/ctl-test.sock
api=unix:$sock
port=18431
# whatever happens, no limpetd, pins, lock or socket of this test outlive it, and the outer
# part learns how far it went
trap 'limpetd_stop >/dev/null 2>&1; echo "$n $failed" >"$state";
      rm -rf "$work" /sys/fs/bpf/limpet/ctl /run/limpet/ctl.lock "$sock"' EXIT
cfg=$work/ctl.json
cat >"$cfg" <<'JSON'
{"serviceName": "ctl", "zone": "local", "hashSeed": "0123456789abcdef",
 "tcp": {
  "frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1,
		"displayName": "web"}],
  "farm": [{"farmId": 1, "balance": "roundrobin", "stickiness": "sourceIp", "forwarding": "dsr",
	    "probe": {"type": "tcp", "interval": 2}, "displayName": "web",
	    "server": [{"serverId": 1, "address": "198.18.1.11", "weight": 1},
		       {"serverId": 2, "address": "198.18.1.12", "weight": 2,
			"status": "inactive"}]}]},
 "udp": {
  "frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 7}],
  "farm": [{"farmId": 7, "stickiness": null, "forwarding": "dsr",
	    "server": [{"serverId": 1, "address": "198.18.1.11"}]}]}}
JSON

export LIMPET_API=$api

# wait_exit: limpetd's exit status once it has stopped by itself (5 s at most)
wait_exit() {
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$LIMPETD_PID" 2>/dev/null || break
		sleep 0.1
	done
	limpetd_stop
}

# api_get PATH: the API's answer to GET PATH, compact, as curl gets it
api_get() { curl -s --unix-socket "$sock" "http://localhost/ipLoadbalancing/ctl$1" | jq -c .; }

# same_json "WHAT" WANT ARGS...: limpetctl --json ARGS is the document WANT (compared compact,
# key order included)
same_json() {
	local what=$1 want=$2
	shift 2
	run --json "$@"
	why="$what: want $want"$'\n'"got $(jq -c . <<<"$out" 2>&1) (exit $rc, $err)"
	[ "$rc" -eq 0 ] && [ "$(jq -c . <<<"$out")" = "$want" ] && clean
}

t_status() {
	mask='s/^(pid +)[0-9]+$/\1PID/; s/^(version +).+$/\1V/' golden status <<-'EOF'
	serviceName        ctl
	zone               local
	version            V
	pid                PID
	dataplane.pinDir   /sys/fs/bpf/limpet/ctl
	dataplane.adopted  false
	counts.frontends   2
	counts.farms       2
	counts.servers     3
	counts.eligible    2
	counts.down        0
	pendingChanges     0
	lastRefresh        null
	refreshes.ok       0
	refreshes.failed   0
	warnings           []

	interfaces:
	NAME  IFINDEX  MODE
	lb0   2        native
	EOF
}

t_frontend_list() {
	golden frontend list <<-'EOF'
	LAYER  ID  ADDRESS       PORT  FARM  DISABLED  NAME
	tcp    1   198.18.100.1  80    1     false     web
	udp    1   198.18.100.1  80    7     false     -
	EOF
}

t_frontend_list_udp() {
	golden frontend list udp <<-'EOF'
	LAYER  ID  ADDRESS       PORT  FARM  DISABLED  NAME
	udp    1   198.18.100.1  80    7     false     -
	EOF
}

t_farm_list() {
	golden farm list <<-'EOF'
	LAYER  ID  BALANCE     STICKINESS  FORWARDING  PROBE  SERVERS  NAME
	tcp    1   roundrobin  sourceIp    dsr         tcp    2        web
	udp    7   roundrobin  null        dsr         -      1        -
	EOF
}

t_farm_list_http() {
	golden farm list http <<-'EOF'
	LAYER  ID  BALANCE  STICKINESS  FORWARDING  PROBE  SERVERS  NAME
	EOF
}

t_server_list() {
	golden server list tcp 1 <<-'EOF'
	ID  ADDRESS      PORT  WEIGHT  STATUS    STATE     BACKUP  PROBE  NAME
	1   198.18.1.11  -     1       active    up        false   false  -
	2   198.18.1.12  -     2       inactive  disabled  false   false  -
	EOF
}

t_farm_show() {
	golden farm show tcp 1 <<-'EOF'
	farmId          1
	displayName     web
	balance         roundrobin
	stickiness      sourceIp
	forwarding      dsr
	probe.type      tcp
	probe.interval  2
	probe.timeout   2
	probe.match     default
	probe.negate    false
	probe.forceSsl  false
	probe.rise      2
	probe.fall      3
	EOF
}

t_frontend_show() {
	golden frontend show tcp 1 <<-'EOF'
	frontendId     1
	displayName    web
	address        198.18.100.1
	port           80
	defaultFarmId  1
	allowedSource  []
	disabled       false
	EOF
}

t_server_show() {
	golden server show tcp 1 2 <<-'EOF'
	serverId  2
	address   198.18.1.12
	weight    2
	status    inactive
	backup    false
	probe     false
	state     disabled
	EOF
}

# every layer: {"tcp": [...], "udp": [...], "http": [...]} as the staged config holds them; the
# servers of a farm with the state of the running ones
t_list_json() {
	local doc
	doc=$("$ctl" config export --staged) || return 1
	same_json "frontend list" "$(jq -c '{tcp: .tcp.frontend, udp: .udp.frontend,
		http: .http.frontend}' <<<"$doc")" frontend list &&
		same_json "farm list tcp" "$(jq -c .tcp.farm <<<"$doc")" farm list tcp &&
		same_json "server list udp 7" \
			"$(jq -c '.udp.farm[0].server | map(. + {state: "up"})' <<<"$doc")" \
			server list udp 7
}

t_show_json() {
	same_json "farm show" "$(api_get /tcp/farm/1)" farm show tcp 1 &&
		same_json "server show" "$(api_get /tcp/farm/1/server/2)" server show tcp 1 2 &&
		same_json "status" "$(api_get /status)" status
}

t_service() {
	golden --service ctl frontend list udp <<-'EOF' || return 1
	LAYER  ID  ADDRESS       PORT  FARM  DISABLED  NAME
	udp    1   198.18.100.1  80    7     false     -
	EOF
	fails 1 'limpetctl: no service "nope' --service nope status
}

t_server_add() {
	golden server add tcp 1 address=198.18.1.12 weight=3 displayName=7 <<-'EOF' || return 1
	serverId     3
	displayName  7
	address      198.18.1.12
	weight       3
	status       active
	backup       false
	probe        false
	EOF
	same_json "server 3" "$(api_get /tcp/farm/1/server/3)" server show tcp 1 3 &&
		[ "$(jq -r '.displayName | type' <<<"$out")" = string ] ||
		{ why+="displayName=7 not sent as a string"; return 1; }
}

t_server_set() {
	golden server set tcp 1 3 weight=4 displayName=null <<-'EOF'
	serverId  3
	address   198.18.1.12
	weight    4
	status    active
	backup    false
	probe     false
	EOF
}

t_frontend_add() {
	golden frontend add tcp address=198.18.100.2 port=80,443 defaultFarmId=1 <<-'EOF' ||
		return 1
	frontendId     2
	address        198.18.100.2
	port           80,443
	defaultFarmId  1
	allowedSource  []
	disabled       false
	EOF
	run --json frontend add tcp address=198.18.100.3 port=8080 defaultFarmId=1 \
		'allowedSource=["198.18.64.0/24"]' disabled=true
	why="exit $rc: $out $err"
	[ "$rc" -eq 0 ] && jq -e '.frontendId == 3 and .port == "8080" and .disabled == true and
		.allowedSource == ["198.18.64.0/24"]' <<<"$out" >/dev/null
}

t_farm_set_json_value() {
	run farm set tcp 1 'probe={"type":"tcp","interval":5}'
	why="exit $rc: $out $err"
	[ "$rc" -eq 0 ] && grep -qE '^probe.interval +5$' <<<"$out"
}

t_del() {
	golden frontend del tcp 3 </dev/null || return 1
	same_json "del" "{}" server del tcp 1 3 || return 1
	# back to what the next goldens expect: server 3 and frontend 2 created, farm 1 as it was
	"$ctl" server add tcp 1 serverId=3 address=198.18.1.12 weight=3 >/dev/null &&
		"$ctl" farm set tcp 1 'probe={"type":"tcp","interval":2}' >/dev/null
}

t_pending() {
	golden pending <<-'EOF'
	zone local: 2 pending changes
	ACTION  RESOURCE              FIELDS
	create  /tcp/frontend/2
	create  /tcp/farm/1/server/3
	EOF
}

t_pending_json() {
	same_json "pending" "$(api_get /pendingChanges)" pending
}

t_refresh() {
	mask='s/ in [0-9.]+ ms:/ in T ms:/' golden refresh --zone local <<-'EOF'
	applied zone local in T ms: 2 changes
	ACTION  RESOURCE              FIELDS
	create  /tcp/frontend/2
	create  /tcp/farm/1/server/3
	EOF
}

t_refreshed() {
	golden pending <<<"zone local: 0 pending changes" || return 1
	mask='s/ in [0-9.]+ ms:/ in T ms:/' golden refresh \
		<<<"applied zone local in T ms: 0 changes"
}

t_refresh_zone() {
	fails 1 'zone "mars": this service'"'"'s zone is "local"' refresh --zone mars
}

# the prober's fields are shown, never set: a body naming one is refused whole
t_read_only() {
	fails 1 "limpetctl: state: read-only" server set tcp 1 1 state=down weight=2 &&
		fails 1 "limpetctl: lastCheck: read-only" server add tcp 1 address=198.18.1.13 \
			lastCheck=null || return 1
	why=
	golden pending <<<"zone local: 0 pending changes"
}

t_api_errors() {
	local e="tcp.farm[0].server[0].weight: 300 is out of range 1..256"
	run server set tcp 1 1 weight=300
	why="exit $rc, stdout '$out', stderr:"$'\n'"$err"
	[ "$rc" -eq 1 ] && [ -z "$out" ] && [ "$err" = \
		"limpetctl: the staged config would be invalid (1 error): $e" ] && clean
}

# 2 sources x 3 UDP requests to the null-stickiness farm: the stats tables show what the
# API counts, a farm's row the sum of its servers'
t_stats() {
	local js p b fp fb
	clients udp 198.18.100.1 "$(client_base4 1)" 2 3 >/dev/null
	js=$("$ctl" --json stats) || { why="stats --json failed"; return 1; }
	run stats
	why="exit $rc, --json: $js"$'\n'"human:"$'\n'"$out"
	[ "$rc" -eq 0 ] && clean || return 1
	p=$(jq '.frontends[] | select(.layer == "udp") | .packets' <<<"$js")
	b=$(jq '.frontends[] | select(.layer == "udp") | .bytes' <<<"$js")
	fp=$(jq '[.farms[] | select(.layer == "udp") | .servers[].packets] | add' <<<"$js")
	fb=$(jq '[.farms[] | select(.layer == "udp") | .servers[].bytes] | add' <<<"$js")
	[ "$p" -ge 6 ] || { why="udp frontend: $p packets, want >= 6"$'\n'"$why"; return 1; }
	grep -qE "^udp +1 +$p +$b$" <<<"$out" &&
		grep -qE "^udp +7 +- +$fp +$fb +[0-9]+ +- +-$" <<<"$out" &&
		grep -qE "^udp +7 +1 +$fp +$fb +[0-9]+ +true +up$" <<<"$out" &&
		grep -qE "^VERDICT +PACKETS$" <<<"$out" &&
		[ "$(grep -cE '^(pass|drop|tx|redirect)' <<<"$out")" -eq \
			"$(jq '.verdicts | length' <<<"$js")" ] &&
		grep -qE "^TABLE +ENTRIES +CAPACITY +RATED +FULL$" <<<"$out" &&
		grep -qE "^sticky +[0-9]+ +[0-9]+ +$(jq .sticky.rated <<<"$js") +[0-9]+$" \
			<<<"$out" &&
		grep -qE "^connections +[0-9]+ +[0-9]+ +- +-$" <<<"$out"
}

# a farm in use whose every server is disabled drops every packet of its VIP: status warns
# until a server is back
t_no_server() {
	local w
	"$ctl" server set udp 7 1 status=inactive >/dev/null && "$ctl" refresh >/dev/null ||
		{ why="disabling udp farm 7's server failed"; return 1; }
	w=$("$ctl" --json status | jq -c .warnings)
	"$ctl" server set udp 7 1 status=active >/dev/null && "$ctl" refresh >/dev/null ||
		{ why="enabling udp farm 7's server again failed"; return 1; }
	run --json status
	why="disabled: warnings $w; enabled again: $(jq -c .warnings <<<"$out")"
	[ "$w" = '["udp farm 7 has no eligible server: its VIPs drop every packet"]' ] &&
		[ "$(jq -c .warnings <<<"$out")" = "[]" ] && clean
}

t_export() {
	"$ctl" server del tcp 1 3 || return 1
	run config export "$work/applied.json"
	[ "$rc" -eq 0 ] && [ -z "$out" ] ||
		{ why="export to a file: exit $rc, '$out' $err"; return 1; }
	run config export --staged
	why="applied and staged exports should differ by server 3"
	[ "$(jq -c '.tcp.farm[0].server | map(.serverId)' "$work/applied.json")" = "[1,2,3]" ] &&
		[ "$(jq -c '.tcp.farm[0].server | map(.serverId)' <<<"$out")" = "[1,2]" ] &&
		[ "$(jq -c . <<<"$out")" = "$(api_get '/config?staged=1')" ]
}

t_import() {
	golden config import "$work/applied.json" <<-'EOF' || return 1
	staged config replaced: 0 pending changes (limpetctl refresh applies the staged config)
	EOF
	jq '.tcp.farm[0].server[0].weight = 5' "$work/applied.json" >"$work/w5.json"
	stdin=$work/w5.json golden config import - <<-'EOF'
	staged config replaced: 1 pending change (limpetctl refresh applies the staged config)
	EOF
}

t_import_bad() {
	printf '{"serviceName": "ctl",\n "tcp": [' >"$work/broken.json"
	fails 1 "limpetctl: $work/broken.json:2:" config import "$work/broken.json" || return 1
	jq '.tcp.farm[0].server[0].weight = 0 | .udp.farm[0].server[0].weight = 999' \
		"$work/applied.json" >"$work/bad.json"
	fails 1 "  tcp.farm[0].server[0].weight: 0 is out of range 1..256" \
		config import "$work/bad.json" &&
		[[ $err == *$'\n'"  udp.farm[0].server[0].weight: 999 is out of range 1..256"* ]]
}

t_not_found() {
	fails 1 "limpetctl: no farm 99 in tcp" farm show tcp 99 &&
		fails 1 "limpetctl: no farm 99 in tcp" server list tcp 99
}

t_shutdown() {
	golden shutdown <<<"limpetd is stopping; the dataplane is detached" || return 1
	wait_exit || { why="limpetd exited with $?"; return 1; }
	fails 1 "cannot connect to $api" status
}

# limpetd on a TCP port in the LB's namespace; limpetctl there too
t_token() {
	local tok=$work/token bad=$work/bad-token
	echo "0123456789abcdef-ctl-test" >"$tok"
	echo "0123456789abcdef-wrong" >"$bad"
	chmod 600 "$tok" "$bad"
	limpetd_start "$cfg" --api "tcp:127.0.0.1:$port" --api-token-file "$tok" ||
		{ why="limpetd did not start: $(cat "$LIMPETD_LOG")"; return 1; }
	in_lb_ctl() { in_lb env LIMPET_API="tcp:127.0.0.1:$port" "$ctl" "$@" 2>&1; }
	out=$(in_lb_ctl --token-file "$tok" frontend list udp)
	[ "$out" = "LAYER  ID  ADDRESS       PORT  FARM  DISABLED  NAME
udp    1   198.18.100.1  80    7     false     -" ] || { why="with the token: $out"; return 1; }
	out=$(in_lb env LIMPET_TOKEN_FILE="$tok" "$ctl" --api "http://127.0.0.1:$port/" status 2>&1)
	[[ $out == *"serviceName  "*"ctl"* ]] ||
		{ why="LIMPET_TOKEN_FILE, http:// URL: $out"; return 1; }
	out=$(in_lb_ctl --token-file "$bad" status)
	[ $? -eq 1 ] && [[ $out == *"missing or wrong bearer token"* ]] ||
		{ why="wrong token: $out"; return 1; }
	out=$(in_lb_ctl status)
	[ $? -eq 1 ] && [[ $out == *"missing or wrong bearer token"* ]] ||
		{ why="no token: $out"; return 1; }
}

t_keep_dataplane() {
	out=$(in_lb env LIMPET_API="tcp:127.0.0.1:$port" "$ctl" --token-file "$work/token" \
		shutdown --keep-dataplane 2>&1)
	[ "$out" = "limpetd is stopping; the dataplane stays attached for the next limpetd" ] ||
		{ why="got: $out"; return 1; }
	wait_exit || { why="limpetd exited with $?"; return 1; }
	[ -e /sys/fs/bpf/limpet/ctl ] || why+="no pins left. "
	in_lb ip link show lb0 | grep -q xdp || why+="no XDP program left on lb0. "
	[ -z "$why" ]
}

if ! limpetd_start "$cfg" --api "$api"; then
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - limpetd starts with --api $api"
	sed 's/^/# /' "$LIMPETD_LOG"
	exit 1
fi
tap "status: field lines, interfaces table" t_status
tap "frontend list: every layer" t_frontend_list
tap "frontend list udp" t_frontend_list_udp
tap "farm list: every layer, probe type and server count" t_farm_list
tap "farm list http: header only when empty" t_farm_list_http
tap "server list tcp 1" t_server_list
tap "farm show: nested probe fields flattened" t_farm_show
tap "frontend show" t_frontend_show
tap "server show" t_server_show
tap "list --json: the staged config's arrays, servers with their state" t_list_json
tap "show and status --json: the API's answer as is" t_show_json
tap "--service given, and one limpetd does not serve" t_service
tap "server add: the created server; displayName=7 sent as a string" t_server_add
tap "server set: weight changed, displayName=null back to the default" t_server_set
tap "frontend add: port=80,443 and port=8080 sent as strings, JSON values" t_frontend_add
tap "farm set: a JSON object value" t_farm_set_json_value
tap "del prints nothing, --json del prints {}" t_del
tap "pending: the changes refresh would apply" t_pending
tap "pending --json: the API's answer as is" t_pending_json
tap "refresh --zone local: what changed" t_refresh
tap "after refresh: nothing pending, a second refresh changes nothing" t_refreshed
tap "refresh --zone of another zone: exit 1 with the API's message" t_refresh_zone
tap "an invalid edit: exit 1, the message and every error on its own line" t_api_errors
tap "server set/add with a read-only state field: exit 1 naming it, nothing staged" t_read_only
tap "stats after UDP traffic: the tables show the API's counters" t_stats
tap "udp farm without an eligible server: a status warning while it lasts" t_no_server
tap "config export: applied to a file, --staged to stdout" t_export
tap "config import FILE and -: staged replaced, pending counted" t_import
tap "config import: bad JSON names the position, an invalid config every error" t_import_bad
tap "an unknown farm: exit 1 with a message" t_not_found
tap "shutdown: limpetd exits 0, the socket is gone (exit 1 naming it)" t_shutdown
tap "TCP listener: bearer token from --token-file or LIMPET_TOKEN_FILE, wrong or none is 401" \
	t_token
tap "shutdown --keep-dataplane: limpetd exits 0, pins and XDP stay" t_keep_dataplane
