#!/usr/bin/env bash
# End to end: limpetd's REST API (docs/api.md) on the rig, against the ASan/UBSan build.
# Resources edited through the API socket, staged against applied, refresh with real clients
# (rigclient, curl) through the VIPs, /metrics read with the reference Prometheus parser, the
# socket's and the TCP listener's access rules, SIGHUP. TAP output. Runs itself inside a fresh
# rig.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RIG_PREFIX:-}" ]; then
	exec "$root/scripts/rig.sh" run --backends 3 --clients 600 --vips 5 --serve \
		--backend-mode ipip -- "$0" "$@"
fi
# Debian's python3 (prometheus_client is a Debian package), not whatever python3 PATH finds
py=/usr/bin/python3
work=$(mktemp -d)
state=/run/limpet-rig/$RIG_PREFIX.state
# never the default socket: other suites run limpetd in parallel
sock=/run/limpet/api-test.sock
metrics_port=9187
api_port=8187
svc=/ipLoadbalancing/api
# whatever happens, no limpetd, pins, lock or socket of this test's services outlive it
trap 'limpetd_stop >/dev/null 2>&1; rm -rf "$work" /sys/fs/bpf/limpet/api /sys/fs/bpf/limpet/api2 \
	/run/limpet/api.lock /run/limpet/api2.lock "$sock" "$state"' EXIT
# the daemon under test is the ASan/UBSan build: a leak or overflow fails the run. A copy, so
# that every start in this run is the same binary whatever make does meanwhile.
cp "$root/build/limpetd-san" "$work/limpetd-san" || exit 1
export LIMPETD_BIN=$work/limpetd-san
. "$root/scripts/lib.sh"
cfg=$work/limpet.json

. "$root/tests/e2e/tap.sh"

# write_config [W1 [SERVICE [FILE]]]: the test's config (in $cfg unless FILE). tcp frontends 1..3 on 198.18.100.1..3 over
# farms 1..3 (sourceIp; farm 2 ipip, the others dsr), udp frontend 1 on 198.18.100.1 over udp
# farm 1; every farm has servers 1..3 = b1..b3, weight 1 but server 1's W1.
write_config() {
	local w1=${1:-1} name=${2:-api} out=${3:-$cfg}
	local servers='[{"serverId": 1, "address": "198.18.1.11", "weight": '"$w1"'},
		{"serverId": 2, "address": "198.18.1.12"}, {"serverId": 3, "address": "198.18.1.13"}]'
	cat >"$out" <<-JSON
	{"serviceName": "$name", "hashSeed": "0123456789abcdef",
	 "tcp": {
	  "frontend": [
	   {"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1},
	   {"frontendId": 2, "address": "198.18.100.2", "port": "80", "defaultFarmId": 2},
	   {"frontendId": 3, "address": "198.18.100.3", "port": "80", "defaultFarmId": 3}],
	  "farm": [
	   {"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr", "server": $servers},
	   {"farmId": 2, "stickiness": "sourceIp", "forwarding": "ipip", "server": $servers},
	   {"farmId": 3, "stickiness": "sourceIp", "forwarding": "dsr", "server": $servers}]},
	 "udp": {
	  "frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1}],
	  "farm": [{"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr", "server": $servers}]}}
	JSON
}

# --- the API client -----------------------------------------------------------------------
# api METHOD PATH [BODY [CURL-ARGS...]]: one request on the API socket (PATH under $svc unless
# it starts with /, BODY a JSON text or @FILE, "" for none). Sets $code and $last; the answer
# is in $work/body, its headers in $work/hdr.
api() {
	local m=$1 p=$2 data=()
	shift 2
	if [ $# -gt 0 ]; then
		[ -n "$1" ] && data=(--data-binary "$1")
		shift
	fi
	[[ $p == /* ]] || p=$svc/$p
	last="$m $p${data:+ ${data[1]:0:120}}"
	: >"$work/body"
	: >"$work/hdr"
	code=$(curl -s --max-time 30 --unix-socket "$sock" -X "$m" -o "$work/body" -D "$work/hdr" \
		-H 'Content-Type: application/json' -w '%{http_code}' "${data[@]}" "$@" \
		"http://limpet$p")
}

# jv EXPR [FILE]: the Python expression EXPR on the JSON answer d, printed as compact JSON
# (strings raw); "<...>" when the answer is not JSON or EXPR fails on it
jv() {
	"$py" - "$1" "${2:-$work/body}" <<-'PY'
	import json, os, sys
	try:
	    d = json.load(open(sys.argv[2]))
	except Exception as e:
	    print("<not JSON: %s>" % e)
	    sys.exit(0)
	try:
	    r = eval(sys.argv[1])
	except Exception as e:
	    r = "<%s: %s>" % (type(e).__name__, e)
	print(r if isinstance(r, str) else json.dumps(r, sort_keys=True, separators=(",", ":")))
	PY
}

body_text() { head -c 400 "$work/body"; }

# want STATUS [CLASS]: the last answer has this status (and error class); else why says so
want() {
	if [ "$code" != "$1" ]; then
		why+="$last: want status $1, got $code: $(body_text)"$'\n'
		return 1
	fi
	[ -z "${2:-}" ] && return 0
	local c
	c=$(jv 'd["class"]')
	[ "$c" = "$2" ] && return 0
	why+="$last: want class $2, got $c: $(body_text)"$'\n'
	return 1
}

# want_jv EXPR VALUE: jv EXPR on the last answer prints VALUE
want_jv() {
	local got
	got=$(jv "$1")
	[ "$got" = "$2" ] && return 0
	why+="$last: $1: want $2, got $got"$'\n'
	return 1
}

# want_error STATUS CLASS TEXT: an error answer whose message contains TEXT
want_error() {
	want "$1" "$2" || return 1
	[[ $(jv 'd["message"]') == *"$3"* ]] && return 0
	why+="$last: want a message containing '$3', got: $(body_text)"$'\n'
	return 1
}

# want_invalid TEXT: a 400 whose message and errors[] both contain TEXT (a validation error
# naming its JSON path)
want_invalid() {
	local WANT=$1
	export WANT
	want 400 Client::BadRequest || return 1
	[ "$(jv '(os.environ["WANT"] in d["message"] and
		any(os.environ["WANT"] in e for e in d["errors"]))')" = true ] && return 0
	why+="$last: want message and errors[] containing '$1', got: $(body_text)"$'\n'
	return 1
}

# want_header NAME VALUE: the last answer carries header NAME: VALUE
want_header() {
	local got
	got=$(tr -d '\r' <"$work/hdr" | awk -v h="$1" 'tolower($0) ~ "^" tolower(h) ":" {
		sub(/^[^:]*: */, ""); print }')
	[ "$got" = "$2" ] && return 0
	why+="$last: want header '$1: $2', got '$got'"$'\n'
	return 1
}

# pending_is JSON: pendingChanges is [{"zone": "local", "number": N, "changes": C}] with the
# changes, as sorted [resource, action, fields] triples, equal to JSON
pending_is() {
	api GET pendingChanges
	want 200 || return 1
	want_jv 'sorted([c["resource"], c["action"], c.get("fields")] for c in d[0]["changes"])' \
		"$1" || return 1
	want_jv '[len(d), d[0]["zone"], d[0]["number"] == len(d[0]["changes"])]' '[1,"local",true]'
}

# refresh: POST refresh; 0 if applied
refresh() {
	api POST refresh '{"zone": "all"}'
	want 200 && want_jv 'd["applied"]' true
}

# --- clients --------------------------------------------------------------------------------
run_clients() {	# run_clients OUT http|udp VIP FIRST COUNT CONNS
	clients "$2" "$3" "$(client_base4 "$4")" "$5" "$6" >"$1"
}

# moved OLD NEW: how many sources answer from another backend (or none) in NEW than in OLD
moved() {
	join <(sort "$1") <(sort "$2") |
		awk '{ for (i = 3; i <= NF; i++) if ($i != $2) { n++; break } } END { print n + 0 }'
}

# served FILE: every source of FILE got an answer on every request
served() { ! grep -q -- ' -' "$1" && [ -s "$1" ]; }

# --- the daemon -------------------------------------------------------------------------------
# dead_socket PATH: a Unix socket file nobody listens on (what a crashed limpetd leaves)
dead_socket() {
	rm -f "$1"
	"$py" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$1"
}

# log_since N PATTERN: PATTERN in the log after its first N lines
log_since() { tail -n +"$(($1 + 1))" "$LIMPETD_LOG" | grep -q -- "$2"; }

# --- 3. the socket ----------------------------------------------------------------------------
t_stale_socket() {
	grep -q "$sock: replacing a stale API socket" "$LIMPETD_LOG" ||
		why+="no 'replacing a stale API socket' line in the log"$'\n'
	api GET /ipLoadbalancing
	want 200 && want_jv d '["api"]'
	[ -z "$why" ]
}

t_socket_mode() {
	local got
	got=$(stat -c '%F %a %U:%G' "$sock")
	why="$sock: want 'socket 600 root:root', got '$got'"
	[ "$got" = "socket 600 root:root" ]
}

t_socket_taken() {
	local out rc
	write_config 1 api2 "$work/api2.json"
	out=$(in_lb timeout 30 "$LIMPETD_BIN" --config "$work/api2.json" --iface lb0 --foreground \
		--state-dir "$state" --api "unix:$sock" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] && [[ $out == *"$sock"* ]] ||
		why+="second limpetd (service api2) on $sock: want exit 1 naming the socket, got exit $rc: $out"$'\n'
	[ -S "$sock" ] || why+="$sock is gone after the refused start"$'\n'
	[ -e /sys/fs/bpf/limpet/api2 ] &&
		why+="the refused limpetd left pins in /sys/fs/bpf/limpet/api2"$'\n'
	in_lb ip link show lb0 2>/dev/null | grep -q 'prog/xdp' ||
		why+="no XDP program left on lb0"$'\n'
	api GET ""
	want 200 && want_jv 'd["serviceName"]' api
	run_clients "$work/taken.txt" http 198.18.100.1 551 8 1
	served "$work/taken.txt" ||
		why+="clients not served after the refused start:"$'\n'"$(cat "$work/taken.txt")"
	[ -z "$why" ]
}

# --- 7. metrics -----------------------------------------------------------------------------
# metrics_check REFRESHES STICKY PACKETS STATS SCRAPE...: the reference parser on each SCRAPE,
# which must show REFRESHES ok refreshes, STICKY sticky entries, at least PACKETS on tcp
# frontend 3, and agree with the /stats answer in the file STATS; prints problems, one a line
metrics_check() {
	"$py" - "$@" <<-'PY'
	import json, sys
	from prometheus_client.parser import text_string_to_metric_families
	want_refresh, want_sticky, want_pkts = (int(x) for x in sys.argv[1:4])
	stats = json.load(open(sys.argv[4]))
	problems = []
	scrapes = []
	for path in sys.argv[5:]:
	    try:
	        fams = list(text_string_to_metric_families(open(path).read()))
	    except Exception as e:
	        problems.append("%s: does not parse: %r" % (path, e))
	        continue
	    s = {}
	    for f in fams:
	        for x in f.samples:
	            s[(x.name, tuple(sorted(x.labels.items())))] = x.value
	    scrapes.append((path, s))
	def get(s, name, **labels):
	    labels["serviceName"] = "api"
	    return s.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))))
	def check(cond, msg):
	    if not cond:
	        problems.append(msg)
	for path, s in scrapes:
	    where = path.rsplit("/", 1)[-1] + ": "
	    build = [k for k in s if k[0] == "limpet_build_info"]
	    check(len(build) == 1 and s[build[0]] == 1 and dict(build[0][1]).get("version"),
	          where + "want one limpet_build_info 1 with a version label, got %r" % build)
	    fe = get(s, "limpet_frontend_packets_total", layer="tcp", frontendId=3)
	    check(fe is not None and fe >= want_pkts, where + "limpet_frontend_packets_total"
	          "{layer=tcp,frontendId=3}: want >= %d, got %r" % (want_pkts, fe))
	    sv = [get(s, "limpet_server_packets_total", layer="tcp", farmId=3, serverId=i)
	          for i in (1, 2, 3)]
	    check(None not in sv and sum(sv) == fe, where + "limpet_server_packets_total of "
	          "tcp farm 3: want a sum equal to the frontend's %r, got %r" % (fe, sv))
	    tx = get(s, "limpet_verdict_packets_total", reason="tx")
	    check(tx is not None and tx >= want_pkts, where + "limpet_verdict_packets_total"
	          "{reason=tx}: want >= %d, got %r" % (want_pkts, tx))
	    st = get(s, "limpet_sticky_entries")
	    check(st == want_sticky, where + "limpet_sticky_entries: want %d (the sources sent), "
	          "got %r" % (want_sticky, st))
	    rf = get(s, "limpet_refresh_total", result="ok")
	    check(rf == want_refresh, where + "limpet_refresh_total{result=ok}: want %d (the "
	          "refreshes made), got %r" % (want_refresh, rf))
	    rf = get(s, "limpet_refresh_total", result="failed")
	    check(rf == 0, where + "limpet_refresh_total{result=failed}: want 0, got %r" % rf)
	    # /stats says the same
	    for f in stats["frontends"]:
	        for k in ("packets", "bytes"):
	            m = get(s, "limpet_frontend_%s_total" % k, layer=f["layer"],
	                    frontendId=f["frontendId"])
	            check(m == f[k], where + "frontend %s/%d %s: /metrics %r, /stats %r"
	                  % (f["layer"], f["frontendId"], k, m, f[k]))
	    for fa in stats["farms"]:
	        for x in fa["servers"]:
	            lab = dict(layer=fa["layer"], farmId=fa["farmId"], serverId=x["serverId"])
	            for k, name in (("packets", "limpet_server_packets_total"),
	                            ("bytes", "limpet_server_bytes_total"),
	                            ("stickyEntries", "limpet_server_sticky_entries"),
	                            ("eligible", "limpet_server_eligible")):
	                m = get(s, name, **lab)
	                check(m == x[k], where + "server %r %s: /metrics %r, /stats %r"
	                      % (lab, k, m, x[k]))
	            m = [get(s, "limpet_server_state", state=st, **lab)
	                 for st in ("up", "down", "checking", "disabled")]
	            up = get(s, "limpet_server_up", **lab)
	            check(m.count(1) == 1 and m.count(0) == 3 and
	                  ("up", "down", "checking", "disabled")[m.index(1)] == x["state"] and
	                  up == (x["state"] in ("up", "checking")), where + "server %r state: "
	                  "/metrics state series %r and up %r, /stats %r" % (lab, m, up, x["state"]))
	    # the VIP's verdict is our clients' alone; others (pass_not_vip: ARP, neighbour
	    # discovery) go on counting between the scrapes, which come before /stats
	    for r, v in stats["verdicts"].items():
	        m = get(s, "limpet_verdict_packets_total", reason=r)
	        check(m is not None and (m == v if r == "tx" else m <= v), where + "verdict %s: "
	              "/metrics %r, then /stats %r" % (r, m, v))
	    for k, name in (("entries", "limpet_sticky_entries"),
	                    ("capacity", "limpet_sticky_capacity"),
	                    ("rated", "limpet_sticky_rated_sources"),
	                    ("full", "limpet_sticky_full_total")):
	        m = get(s, name)
	        check(m == stats["sticky"][k], where + "sticky %s: /metrics %r, /stats %r"
	              % (k, m, stats["sticky"][k]))
	    m = get(s, "limpet_conn_entries")
	    check(m == stats["connections"]["entries"], where + "connections: /metrics %r, "
	          "/stats %r" % (m, stats["connections"]["entries"]))
	for f in stats["farms"]:
	    if f["layer"] == "tcp" and f["farmId"] == 3:
	        n = f["stickyEntries"]
	        check(n == want_sticky, "/stats tcp farm 3 stickyEntries: want %d, got %r"
	              % (want_sticky, n))
	for p in problems:
	    print(p)
	PY
}

# frontend_packets: tcp frontend 3's packets in /stats (to wait for the counters to settle)
frontend_packets() {
	api GET stats
	jv '[f["packets"] for f in d["frontends"] if f["layer"] == "tcp" and f["frontendId"] == 3][0]'
}

# The first test on a fresh limpetd: known refreshes, then 40 sources x 2 TCP requests to
# tcp frontend 3 (sourceIp farm 3); the counters and gauges of /metrics from both listeners.
t_metrics() {
	local sources=40 conns=2 i prev cur out
	# two refreshes that change something (server 1's displayName), through the API
	api PUT tcp/farm/3/server/1 '{"displayName": "metrics"}'
	want 200 && refresh || return 1
	api PUT tcp/farm/3/server/1 '{"displayName": null}'
	want 200 && refresh || return 1
	run_clients "$work/m.txt" http 198.18.100.3 1 "$sources" "$conns"
	served "$work/m.txt" || { why="clients not served:"$'\n'"$(head "$work/m.txt")"; return 1; }
	# the last ACKs may still be on their way: wait until the counter holds still
	prev=$(frontend_packets)
	for ((i = 0; i < 50; i++)); do
		sleep 0.2
		cur=$(frontend_packets)
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	in_lb curl -s --max-time 10 -o "$work/metrics.listener" -w '%{http_code} %{content_type}' \
		"http://127.0.0.1:$metrics_port/metrics" >"$work/mcode" ||
		why+="GET http://127.0.0.1:$metrics_port/metrics (LB namespace) failed"$'\n'
	[[ $(cat "$work/mcode") == "200 text/plain; version=0.0.4"* ]] ||
		why+="--metrics listener: want 200 text/plain; version=0.0.4, got $(cat "$work/mcode")"$'\n'
	api GET /metrics
	want 200
	cp "$work/body" "$work/metrics.socket"
	api GET stats
	want 200
	cp "$work/body" "$work/stats.json"
	out=$(metrics_check 2 "$sources" $((sources * conns * 3)) "$work/stats.json" \
		"$work/metrics.listener" "$work/metrics.socket" 2>&1)
	[ -n "$out" ] && why+="$out"$'\n'
	# the metrics-only listener serves nothing else
	out=$(in_lb curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port$svc")
	[ "$out" = 404 ] || why+="--metrics listener: GET $svc: want 404, got $out"$'\n'
	[ -z "$why" ]
}

# --- 1. round trips -----------------------------------------------------------------------
# list_is PATH JSON: GET PATH answers JSON (a collection's ids)
list_is() {
	api GET "$1"
	want 200 && want_jv d "$2"
}

# in_config STAGED EXPR VALUE: EXPR on GET config (staged=1 or applied) is VALUE
in_config() {
	api GET "config${1:+?staged=1}"
	want 200 && want_jv "$2" "$3"
}

t_farm_rt() {	# t_farm_rt LAYER IDS: IDS the layer's farm ids, as the config has them
	local l=$1 ids=$2 id
	id=$(jv 'max(d) + 1' <(echo "$ids"))
	list_is "$l/farm" "$ids" || return 1
	api POST "$l/farm" '{"displayName": "rt", "balance": "source", "stickiness": "sourceIp"}'
	want 200 || return 1
	want_jv '[d["farmId"], d["displayName"], d["balance"], d["stickiness"], "server" in d]' \
		"[$id,\"rt\",\"source\",\"sourceIp\",false]"
	cp "$work/body" "$work/created"
	list_is "$l/farm" "${ids%]},$id]"
	api GET "$l/farm/$id"
	want 200 && want_jv "d == json.load(open('$work/created'))" true
	# PUT changes the fields given, and only those; null resets to the default
	api PUT "$l/farm/$id" '{"displayName": "rt2", "stickiness": null}'
	want 200 && want_jv '[d["displayName"], d["balance"], d["stickiness"]]' '["rt2","source",null]'
	api PUT "$l/farm/$id" '{"balance": null}'
	want 200 && want_jv '[d["displayName"], d["balance"]]' '["rt2","roundrobin"]'
	api GET "$l/farm/$id"
	want 200 && want_jv '[d["displayName"], d["balance"]]' '["rt2","roundrobin"]'
	# staged has it, applied does not
	in_config 1 "[f['farmId'] for f in d['$l']['farm']]" "${ids%]},$id]"
	in_config "" "[f['farmId'] for f in d['$l']['farm']]" "$ids"
	pending_is "[[\"/$l/farm/$id\",\"create\",null]]"
	# an id given in the body is taken
	api POST "$l/farm" '{"farmId": 42}'
	want 200 && want_jv 'd["farmId"]' 42
	api DELETE "$l/farm/42"
	want 200 && want_jv d '{}'
	api DELETE "$l/farm/$id"
	want 200 && want_jv d '{}'
	api GET "$l/farm/$id"
	want_error 404 Client::NotFound "no farm $id in $l"
	list_is "$l/farm" "$ids"
	pending_is '[]'
	[ -z "$why" ]
}

t_server_rt() {	# t_server_rt LAYER: on farm 1 (servers 1..3)
	local l=$1 id
	list_is "$l/farm/1/server" '[1,2,3]' || return 1
	api POST "$l/farm/1/server" '{"address": "198.18.1.13", "weight": 5, "displayName": "rt"}'
	want 200 || return 1
	want_jv '[d["serverId"], d["address"], d["weight"], d["status"], d["backup"], d["displayName"]]' \
		'[4,"198.18.1.13",5,"active",false,"rt"]'
	api POST "$l/farm/1/server" '{"serverId": 9, "address": "198.18.1.12"}'
	want 200 && want_jv '[d["serverId"], d["weight"]]' '[9,1]'
	api POST "$l/farm/1/server" '{"address": "198.18.1.11", "status": "inactive"}'
	want 200 && want_jv '[d["serverId"], d["status"]]' '[10,"inactive"]'
	list_is "$l/farm/1/server" '[1,2,3,4,9,10]'
	api PUT "$l/farm/1/server/4" '{"weight": 7}'
	want 200 && want_jv '[d["weight"], d["address"], d["displayName"]]' '[7,"198.18.1.13","rt"]'
	api PUT "$l/farm/1/server/4" '{"weight": null, "displayName": null}'
	want 200 && want_jv '[d["weight"], "displayName" in d, d["address"]]' '[1,false,"198.18.1.13"]'
	api PUT "$l/farm/1/server/2" '{"backup": true}'
	want 200 && want_jv '[d["backup"], d["weight"], d["address"]]' '[true,1,"198.18.1.12"]'
	api GET "$l/farm/1/server/2"
	want 200 && want_jv 'd["backup"]' true
	in_config 1 "[[s['serverId'], s['backup']] for s in d['$l']['farm'][0]['server']]" \
		'[[1,false],[2,true],[3,false],[4,false],[9,false],[10,false]]'
	in_config "" "[[s['serverId'], s['backup']] for s in d['$l']['farm'][0]['server']]" \
		'[[1,false],[2,false],[3,false]]'
	pending_is "[[\"/$l/farm/1/server/10\",\"create\",null],[\"/$l/farm/1/server/2\",\"update\",[\"backup\"]],[\"/$l/farm/1/server/4\",\"create\",null],[\"/$l/farm/1/server/9\",\"create\",null]]"
	api PUT "$l/farm/1/server/2" '{"backup": null}'
	want 200 && want_jv 'd["backup"]' false
	for id in 4 9 10; do
		api DELETE "$l/farm/1/server/$id"
		want 200 && want_jv d '{}'
	done
	api GET "$l/farm/1/server/4"
	want_error 404 Client::NotFound "no server 4 in $l farm 1"
	list_is "$l/farm/1/server" '[1,2,3]'
	pending_is '[]'
	[ -z "$why" ]
}

t_frontend_rt() {	# t_frontend_rt LAYER IDS
	local l=$1 ids=$2 id
	id=$(jv 'max(d) + 1' <(echo "$ids"))
	list_is "$l/frontend" "$ids" || return 1
	api POST "$l/frontend" '{"address": "198.18.100.5", "port": "80", "defaultFarmId": 1,
		"allowedSource": ["198.18.64.0/24"]}'
	want 200 || return 1
	want_jv '[d["frontendId"], d["address"], d["port"], d["defaultFarmId"], d["allowedSource"], d["disabled"]]' \
		"[$id,\"198.18.100.5\",\"80\",1,[\"198.18.64.0/24\"],false]"
	api GET "$l/frontend/$id"
	want 200 && want_jv 'd["frontendId"]' "$id"
	list_is "$l/frontend" "${ids%]},$id]"
	api PUT "$l/frontend/$id" '{"port": "8000-8100", "disabled": true}'
	want 200 && want_jv '[d["port"], d["disabled"], d["address"], d["allowedSource"]]' \
		'["8000-8100",true,"198.18.100.5",["198.18.64.0/24"]]'
	api PUT "$l/frontend/$id" '{"disabled": null, "allowedSource": null}'
	want 200 && want_jv '[d["port"], d["disabled"], d["allowedSource"]]' '["8000-8100",false,[]]'
	in_config 1 "[f['frontendId'] for f in d['$l']['frontend']]" "${ids%]},$id]"
	in_config "" "[f['frontendId'] for f in d['$l']['frontend']]" "$ids"
	pending_is "[[\"/$l/frontend/$id\",\"create\",null]]"
	api PUT "$l/frontend/1" '{"displayName": "fe"}'
	want 200 && want_jv '[d["displayName"], d["address"]]' '["fe","198.18.100.1"]'
	pending_is "[[\"/$l/frontend/1\",\"update\",[\"displayName\"]],[\"/$l/frontend/$id\",\"create\",null]]"
	api PUT "$l/frontend/1" '{"displayName": null}'
	want 200
	api DELETE "$l/frontend/$id"
	want 200 && want_jv d '{}'
	api DELETE "$l/frontend/$id"
	want_error 404 Client::NotFound "no frontend $id in $l"
	list_is "$l/frontend" "$ids"
	pending_is '[]'
	[ -z "$why" ]
}

# A staged frontend does not forward before refresh, and does after
t_staged_applied() {
	api POST tcp/frontend '{"frontendId": 4, "address": "198.18.100.5", "port": "80",
		"defaultFarmId": 3}'
	want 200 || return 1
	in_config 1 "[f['address'] for f in d['tcp']['frontend'] if f['frontendId'] == 4]" \
		'["198.18.100.5"]'
	in_config "" "[f['frontendId'] for f in d['tcp']['frontend']]" '[1,2,3]'
	api GET status
	want 200 && want_jv 'd["pendingChanges"]' 1
	run_clients "$work/sa0.txt" http 198.18.100.5 501 1 1
	grep -q ' b[0-9]' "$work/sa0.txt" &&
		why+="staged frontend on 198.18.100.5 forwards before refresh:"$'\n'"$(cat "$work/sa0.txt")"$'\n'
	refresh
	want_jv 'd["changes"]' '[{"action":"create","resource":"/tcp/frontend/4"}]'
	in_config "" "[f['frontendId'] for f in d['tcp']['frontend']]" '[1,2,3,4]'
	run_clients "$work/sa1.txt" http 198.18.100.5 501 4 1
	served "$work/sa1.txt" ||
		why+="frontend on 198.18.100.5 not serving after refresh:"$'\n'"$(cat "$work/sa1.txt")"$'\n'
	api DELETE tcp/frontend/4
	want 200
	in_config "" "[f['frontendId'] for f in d['tcp']['frontend']]" '[1,2,3,4]'
	refresh
	in_config "" "[f['frontendId'] for f in d['tcp']['frontend']]" '[1,2,3]'
	pending_is '[]'
	[ -z "$why" ]
}

# --- 1. errors ----------------------------------------------------------------------------------
t_not_found() {
	local p
	for p in tcp/farm/99 tcp/farm/1/server/99 tcp/frontend/99 udp/farm/1/server/4 \
		udp/frontend/2 http/farm/1; do
		api GET "$p"
		want 404 Client::NotFound
		api PUT "$p" '{"displayName": "x"}'
		want 404 Client::NotFound
		api DELETE "$p"
		want 404 Client::NotFound
	done
	api GET tcp/farm/99/server
	want_error 404 Client::NotFound "no farm 99 in tcp"
	api POST tcp/farm/99/server '{"address": "198.18.1.11"}'
	want_error 404 Client::NotFound "no farm 99 in tcp"
	pending_is '[]'
	[ -z "$why" ]
}

t_conflict() {
	api POST tcp/farm '{"farmId": 2}'
	want_error 409 Client::Conflict "farmId 2"
	api POST udp/farm/1/server '{"serverId": 3, "address": "198.18.1.11"}'
	want_error 409 Client::Conflict "serverId 3"
	api POST tcp/frontend '{"frontendId": 1, "address": "198.18.100.5", "port": "80",
		"defaultFarmId": 1}'
	want_error 409 Client::Conflict "frontendId 1"
	pending_is '[]'
	[ -z "$why" ]
}

t_bad_weight() {
	api PUT tcp/farm/1/server/2 '{"weight": 300}'
	want_invalid "tcp.farm[0].server[1].weight: 300 is out of range 1..256"
	api POST udp/farm/1/server '{"address": "198.18.1.11", "weight": 300}'
	want_invalid "udp.farm[0].server[3].weight: 300 is out of range 1..256"
	api PUT tcp/farm/3/server/1 '{"weight": 0}'
	want_invalid "tcp.farm[2].server[0].weight: 0 is out of range 1..256"
	api GET tcp/farm/1/server/2
	want 200 && want_jv 'd["weight"]' 1
	pending_is '[]'
	[ -z "$why" ]
}

t_bad_bodies() {
	api POST tcp/farm '{"balance": "source",'
	want_error 400 Client::BadRequest "not valid JSON"
	api PUT tcp/farm/1 'balance=source'
	want_error 400 Client::BadRequest "not valid JSON"
	api POST tcp/farm/1/server '[{"address": "198.18.1.11"}]'
	want_error 400 Client::BadRequest "JSON object"
	api PUT tcp/frontend/1 '"198.18.100.9"'
	want_error 400 Client::BadRequest "JSON object"
	api PUT tcp/farm/1 'null'
	want_error 400 Client::BadRequest "JSON object"
	api PUT "config" '[]'
	want_error 400 Client::BadRequest "JSON object"
	api POST tcp/farm ''
	want 400 Client::BadRequest
	api PUT tcp/farm/1/server/1 '{"weight": "heavy"}'
	want_invalid "tcp.farm[0].server[0].weight: expected an integer"
	api PUT udp/farm/1 '{"balance": 3}'
	want_invalid "udp.farm[0].balance"
	api PUT tcp/frontend/2 '{"port": 80}'
	want_invalid "tcp.frontend[1].port"
	api PUT tcp/farm/2 '{"stickiness": "cookie"}'
	want_invalid "tcp.farm[1].stickiness"
	api PUT tcp/farm/1/server/1 '{"wieght": 2}'
	want_invalid 'tcp.farm[0].server[0]: unknown field "wieght"'
	api PUT tcp/farm/1 '{"farmId": 2}'
	want_error 400 Client::BadRequest "differs from the path"
	api PUT tcp/farm/1 '{"server": []}'
	want_error 400 Client::BadRequest '"server" is not a field'
	pending_is '[]'
	[ -z "$why" ]
}

t_bad_farm_ref() {
	# a farm of another layer: udp farm 7 exists, tcp farm 7 does not
	api POST udp/farm '{"farmId": 7}'
	want 200 || return 1
	api POST tcp/frontend '{"address": "198.18.100.5", "port": "80", "defaultFarmId": 7}'
	want_invalid "tcp.frontend[3].defaultFarmId"
	api PUT tcp/frontend/2 '{"defaultFarmId": 7}'
	want_invalid "tcp.frontend[1].defaultFarmId"
	api PUT udp/frontend/1 '{"defaultFarmId": 2}'
	want_invalid "udp.frontend[0].defaultFarmId"
	api DELETE udp/farm/7
	want 200
	# a missing farm, and deleting the farm a frontend points at
	api PUT tcp/frontend/1 '{"defaultFarmId": 99}'
	want_invalid "tcp.frontend[0].defaultFarmId"
	api DELETE tcp/farm/3
	want_invalid "tcp.frontend[2].defaultFarmId"
	api GET tcp/frontend/2
	want 200 && want_jv 'd["defaultFarmId"]' 2
	pending_is '[]'
	[ -z "$why" ]
}

t_unknown_path() {
	local p
	for p in "$svc/tcp/nothing" "$svc/sctp/farm" "$svc/tcp/farm/abc" "$svc/tcp/farm/1/servers" \
		"$svc/tcp/farm/01" "$svc/tcp/farm/" "/ipLoadbalancing/other/tcp/farm" /nothing \
		"$svc/tcp/farm/1/server/1/x"; do
		api GET "$p"
		want 404 Client::NotFound
	done
	[ -z "$why" ]
}

t_wrong_method() {
	api DELETE tcp/farm
	want 405 Client::MethodNotAllowed && want_header Allow "GET, POST"
	api POST tcp/farm/1
	want 405 Client::MethodNotAllowed && want_header Allow "GET, PUT, DELETE"
	api PUT udp/farm/1/server
	want 405 Client::MethodNotAllowed && want_header Allow "GET, POST"
	api GET refresh
	want 405 Client::MethodNotAllowed && want_header Allow POST
	api DELETE config
	want 405 Client::MethodNotAllowed && want_header Allow "GET, PUT"
	api POST pendingChanges
	want 405 Client::MethodNotAllowed && want_header Allow GET
	api POST /metrics
	want 405 Client::MethodNotAllowed && want_header Allow GET
	[ -z "$why" ]
}

t_config_put() {
	api GET "config?staged=1"
	want 200 || return 1
	jv 'dict(d, serviceName="other")' >"$work/other.json"
	jv 'dict(d, tcp=dict(d["tcp"], farm=[dict(f, displayName="put") if f["farmId"] == 2 else f for f in d["tcp"]["farm"]]))' \
		>"$work/put.json"
	cp "$work/body" "$work/same.json"
	api PUT config "@$work/other.json"
	want_error 400 Client::BadRequest "serviceName cannot be changed"
	pending_is '[]'
	api PUT config "@$work/put.json"
	want 200 && want_jv d '{"pendingChanges":1}'
	pending_is '[["/tcp/farm/2","update",["displayName"]]]'
	api PUT config "@$work/same.json"
	want 200 && want_jv d '{"pendingChanges":0}'
	[ -z "$why" ]
}

t_refresh_zone() {
	local zone
	api GET ""
	want 200 || return 1
	zone=$(jv 'd["zone"]')
	api POST refresh '{"zone": "mars"}'
	want_error 400 Client::BadRequest '"mars"'
	api POST refresh "{\"zone\": \"$zone\"}"
	want 200 && want_jv '[d["zone"], d["applied"], d["changes"]]' "[\"$zone\",true,[]]"
	api POST refresh '{"zone": "all"}'
	want 200 && want_jv 'd["applied"]' true
	api POST refresh
	want 200 && want_jv 'd["applied"]' true
	[ -z "$why" ]
}

# --- 2. body size ----------------------------------------------------------------------------
t_too_big() {
	head -c $((9 << 20)) /dev/zero | tr '\0' ' ' >"$work/big.json"
	api PUT config "@$work/big.json"
	want 413 Client::RequestEntityTooLarge
	api POST tcp/farm/1/server "@$work/big.json"
	want 413 Client::RequestEntityTooLarge
	api GET ""
	want 200 && want_jv 'd["serviceName"]' api
	pending_is '[]'
	[ -z "$why" ]
}

# A body under the limit is read at the speed it comes: a 2 MiB document (a 10 000-server config
# is ~1.5 MiB) is answered within 5 s
t_big_body() {
	local t0 t1
	api GET "config?staged=1"
	want 200 || return 1
	{ head -c $((2 << 20)) /dev/zero | tr '\0' ' '; cat "$work/body"; } >"$work/padded.json"
	t0=$(date +%s%N)
	api PUT config "@$work/padded.json" --max-time 5
	t1=$(date +%s%N)
	if [ "$code" = 100 ] || [ "$code" = 000 ]; then
		why+="$last: no answer after $(((t1 - t0) / 1000000)) ms (curl gave up at 5 s; status seen: $code)"$'\n'
		return 1
	fi
	want 200 && want_jv d '{"pendingChanges":0}'
	[ -z "$why" ]
}

# --- 5. staged edits do not move traffic before refresh ----------------------------------------
t_staged_isolation() {
	local m1 m2 wrong
	run_clients "$work/i0.txt" http 198.18.100.1 201 64 1
	served "$work/i0.txt" || { why="clients not served:"$'\n'"$(head "$work/i0.txt")"; return 1; }
	grep -q ' b2$' "$work/i0.txt" || { why="no source on b2: test void"; return 1; }
	api PUT tcp/farm/1/server/2 '{"status": "inactive"}'
	want 200 && want_jv 'd["status"]' inactive
	api PUT tcp/farm/1/server/3 '{"weight": 5}'
	want 200 && want_jv 'd["weight"]' 5
	[ -z "$why" ] || return 1
	run_clients "$work/i1.txt" http 198.18.100.1 201 64 1
	run_clients "$work/i2.txt" http 198.18.100.1 201 64 1
	m1=$(moved "$work/i0.txt" "$work/i1.txt")
	m2=$(moved "$work/i0.txt" "$work/i2.txt")
	[ "$m1" -eq 0 ] && [ "$m2" -eq 0 ] ||
		why+="before refresh: $m1 and $m2 of 64 sources moved (want 0)"$'\n'
	pending_is '[["/tcp/farm/1/server/2","update",["status"]],["/tcp/farm/1/server/3","update",["weight"]]]'
	refresh
	want_jv 'sorted(c["resource"] for c in d["changes"])' \
		'["/tcp/farm/1/server/2","/tcp/farm/1/server/3"]'
	pending_is '[]'
	run_clients "$work/i3.txt" http 198.18.100.1 201 64 1
	# b2's sources are now on b1 or b3; everyone else exactly where they were
	wrong=$(join <(sort "$work/i0.txt") <(sort "$work/i3.txt") |
		awk '($2 == "b2" && ($3 == "b2" || $3 == "-")) || ($2 != "b2" && $2 != $3)')
	[ -z "$wrong" ] ||
		why+="after refresh, sources wrong (source, before, after):"$'\n'"$(head -5 <<<"$wrong")"$'\n'
	# back as configured: nobody moves
	api PUT tcp/farm/1/server/2 '{"status": null}'
	want 200 && want_jv 'd["status"]' active
	api PUT tcp/farm/1/server/3 '{"weight": null}'
	want 200 && want_jv 'd["weight"]' 1
	refresh
	run_clients "$work/i4.txt" http 198.18.100.1 201 64 1
	m1=$(moved "$work/i3.txt" "$work/i4.txt")
	[ "$m1" -eq 0 ] || why+="b2 re-enabled: $m1 sources moved (want 0)"$'\n'
	pending_is '[]'
	[ -z "$why" ]
}

# --- 6. refreshes under traffic -------------------------------------------------------------------
# 20 refreshes through the API, each changing the weights of servers 1..3 and adding or
# removing server 4 (b1's address under another id), while a 250 MB download (~9.5 s at 25 MiB/s)
# and loops of 64 known sources run through tcp frontend 2 (ipip)
t_refresh_traffic() {
	local size=250000000 dl i r rc out runs bad=0 alive=0 f m
	local dlsrc
	dlsrc=$(client_base4 400)
	# known sources, the download's among them, all on servers 1..3
	run_clients "$work/r0.txt" http 198.18.100.2 301 64 1
	run_clients "$work/rd.txt" http 198.18.100.2 400 1 1
	served "$work/r0.txt" && served "$work/rd.txt" ||
		{ why="clients not served:"$'\n'"$(cat "$work/r0.txt" "$work/rd.txt" | head)"; return 1; }
	in_client curl -s --interface "$dlsrc" --limit-rate 25M --max-time 60 -o /dev/null \
		-w '%{size_download} %{http_code}' "http://198.18.100.2/bytes/$size" \
		>"$work/dl.txt" 2>&1 &
	dl=$!
	rm -f "$work/stop"
	(
		i=0
		while [ ! -e "$work/stop" ]; do
			i=$((i + 1))
			run_clients "$work/run$i.txt" http 198.18.100.2 301 64 1
		done
	) &
	local loop=$! t0
	t0=$(date +%s%N)
	for ((r = 1; r <= 20; r++)); do
		for i in 1 2 3; do
			api PUT "tcp/farm/2/server/$i" "{\"weight\": $(((r * i) % 7 + 1))}"
			want 200 || break 2
		done
		if ((r % 2)); then
			api POST tcp/farm/2/server '{"serverId": 4, "address": "198.18.1.11", "weight": 9}'
		else
			api DELETE tcp/farm/2/server/4
		fi
		want 200 || break
		refresh || break
		kill -0 "$dl" 2>/dev/null && alive=$r
	done
	echo "# 20 refreshes in $((($(date +%s%N) - t0) / 1000000)) ms"
	touch "$work/stop"
	wait "$loop"
	wait "$dl"
	rc=$?
	out=$(cat "$work/dl.txt")
	[ "$r" -gt 20 ] || why+="refresh $r failed"$'\n'
	[ "$alive" -eq 20 ] ||
		why+="the download ended before the last refresh (running until refresh $alive): test too weak"$'\n'
	[ "$rc" -eq 0 ] && [ "$out" = "$size 200" ] ||
		why+="download across the refreshes: curl exit $rc, got '$out' (want '$size 200')"$'\n'
	runs=0
	for f in "$work"/run*.txt; do
		runs=$((runs + 1))
		m=$(moved "$work/r0.txt" "$f")
		[ "$(wc -l <"$f")" -eq 64 ] || why+="$(basename "$f"): $(wc -l <"$f") sources, want 64"$'\n'
		if [ "$m" -ne 0 ]; then
			bad=$((bad + m))
			why+="$(basename "$f"): $m sources moved or unanswered:"$'\n'
			why+="$(join <(sort "$work/r0.txt") <(sort "$f") | awk '$2 != $3' | head -3)"$'\n'
		fi
	done
	[ "$runs" -ge 2 ] || why+="only $runs client runs during the refreshes"$'\n'
	echo "# $runs runs of 64 sources during 20 refreshes: $bad moved; download '$out' exit $rc"
	# back as configured
	api DELETE tcp/farm/2/server/4
	for i in 1 2 3; do api PUT "tcp/farm/2/server/$i" '{"weight": null}'; done
	refresh
	pending_is '[]'
	[ -z "$why" ]
}

# --- 8. SIGHUP ---------------------------------------------------------------------------------
t_sighup() {
	local before
	api PUT tcp/farm/1/server/3 '{"weight": 9}'
	want 200 || return 1
	pending_is '[["/tcp/farm/1/server/3","update",["weight"]]]'
	write_config 4
	before=$(wc -l <"$LIMPETD_LOG")
	limpetd_hup || { why="SIGHUP: config not applied: $(tail -n +$((before + 1)) "$LIMPETD_LOG")"; return 1; }
	log_since "$before" "replaces the staged config" ||
		why+="no log line saying the file replaces the staged API edit"$'\n'
	in_config "" "[[s['serverId'], s['weight']] for s in d['tcp']['farm'][0]['server']]" \
		'[[1,4],[2,1],[3,1]]'
	in_config 1 "[[s['serverId'], s['weight']] for s in d['tcp']['farm'][0]['server']]" \
		'[[1,4],[2,1],[3,1]]'
	pending_is '[]'
	api GET status
	want 200 && want_jv '[d["lastRefresh"]["trigger"], d["lastRefresh"]["result"]]' '["sighup","ok"]'
	api GET tcp/farm/1/server/1
	want 200 && want_jv 'd["weight"]' 4
	[ -z "$why" ]
}

t_stop() {
	local rc
	limpetd_stop
	rc=$?
	[ "$rc" -eq 0 ] || why+="limpetd exited with $rc"$'\n'
	[ -e "$sock" ] && why+="$sock left behind"$'\n'
	[ -e /sys/fs/bpf/limpet/api ] && why+="pins left in /sys/fs/bpf/limpet/api"$'\n'
	grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$LIMPETD_LOG" | head -5 |
		sed 's/^/sanitizer: /' >"$work/san"
	[ -s "$work/san" ] && why+="$(cat "$work/san")"$'\n'
	[ -z "$why" ]
}

# --- 4. the TCP listener -------------------------------------------------------------------------
t_tcp_no_token() {
	local out rc
	out=$(in_lb timeout 30 "$LIMPETD_BIN" --config "$cfg" --iface lb0 --foreground \
		--state-dir "$state" --api "tcp:127.0.0.1:$api_port" 2>&1)
	rc=$?
	why="--api tcp: without --api-token-file: want exit 2 with a message naming --api-token-file, got exit $rc: $out"
	[ "$rc" -eq 2 ] && [[ $out == *--api-token-file* ]] && ! in_lb ip link show lb0 2>/dev/null | grep -q prog/xdp
}

# tcp_api TOKEN|"": GET the service on the TCP listener (in the LB namespace); sets code
tcp_api() {
	local auth=()
	[ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
	last="GET tcp:127.0.0.1:$api_port$svc (token '${1}')"
	code=$(in_lb curl -s --max-time 10 -o "$work/body" -D "$work/hdr" -w '%{http_code}' \
		"${auth[@]}" "http://127.0.0.1:$api_port$svc")
}

t_tcp_token() {
	tcp_api ""
	want 401 Client::Unauthorized && want_header WWW-Authenticate Bearer
	tcp_api "wrong-token-0123456789"
	want 401 Client::Unauthorized && want_header WWW-Authenticate Bearer
	tcp_api "$(head -c 21 "$work/token")"	# a prefix of the right one
	want 401 Client::Unauthorized
	tcp_api "$(cat "$work/token")"
	want 200 && want_jv 'd["serviceName"]' api
	[ -z "$why" ]
}

# --- the run -------------------------------------------------------------------------------------
start_fail() {	# start_fail NAME: the daemon did not start; nothing else can run
	echo "not ok $((n + 1)) - $1"
	sed 's/^/# /' "$LIMPETD_LOG"
	echo "1..$((n + 1))"
	exit 1
}

mkdir -p /run/limpet
write_config
dead_socket "$sock"
limpetd_start "$cfg" --api "unix:$sock" --metrics "127.0.0.1:$metrics_port" ||
	start_fail "limpetd starts over a stale API socket"
tap "a stale socket file at the API path is replaced (logged) and answers" t_stale_socket
tap "the API socket is mode 0600, owned by root" t_socket_mode
tap "/metrics (both listeners, reference parser): counters, sticky entries, refreshes; /stats agrees" \
	t_metrics
tap "a second limpetd (other service) on the live socket exits 1 naming it; the first serves on" \
	t_socket_taken
for l in tcp udp; do
	ids='[1,2,3]'
	[ $l = udp ] && ids='[1]'
	tap "$l farm: POST (id max+1, or given), GET list/one, PUT fields (null resets), DELETE; staged only" \
		t_farm_rt $l "$ids"
	tap "$l server: POST (id max+1, or given), GET list/one, PUT fields (null resets), DELETE; staged only" \
		t_server_rt $l
	tap "$l frontend: POST, GET list/one, PUT fields (null resets), DELETE; staged only" \
		t_frontend_rt $l "$ids"
done
tap "a staged frontend forwards nothing before refresh, serves after it" t_staged_applied
tap "unknown ids: 404 Client::NotFound" t_not_found
tap "POST with an existing id: 409 Client::Conflict" t_conflict
tap "weight out of range: 400 naming tcp.farm[0].server[1].weight" t_bad_weight
tap "bodies not JSON, not an object, of a wrong type or field: 400 naming the path" t_bad_bodies
tap "defaultFarmId of another layer or missing: 400 naming tcp.frontend[...].defaultFarmId" \
	t_bad_farm_ref
tap "unknown paths: 404 Client::NotFound" t_unknown_path
tap "wrong methods: 405 Client::MethodNotAllowed with an Allow header" t_wrong_method
tap "PUT config: another serviceName is 400, a valid document is staged" t_config_put
tap "refresh: a wrong zone is 400; the config's zone, \"all\" or no body are 200" t_refresh_zone
tap "a 9 MiB body: 413 Client::RequestEntityTooLarge, and the API answers on" t_too_big
tap "a 2 MiB body (under the limit) is read and answered within 5 s" t_big_body
tap "staged edits (b2 inactive, a weight) move nobody before refresh; refresh moves b2's sources only" \
	t_staged_isolation
tap "20 API refreshes under traffic: download intact, 0 of 64 sticky sources moved" \
	t_refresh_traffic
tap "SIGHUP applies the edited file and replaces a pending API edit" t_sighup
tap "SIGTERM: limpetd (ASan/UBSan) exits 0, removes its socket and pins, no sanitizer report" t_stop

tap "--api tcp: without --api-token-file: limpetd exits 2" t_tcp_no_token
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
echo >>"$work/token"
chmod 600 "$work/token"
write_config
limpetd_start "$cfg" --api "tcp:127.0.0.1:$api_port" --api-token-file "$work/token" ||
	start_fail "limpetd starts with a TCP API"
tap "TCP API: no token or a wrong one is 401 (WWW-Authenticate: Bearer), the right one 200" t_tcp_token
tap "SIGTERM: limpetd with the TCP API exits 0, no sanitizer report" t_stop
echo "1..$n"
[ "$failed" -eq 0 ]
