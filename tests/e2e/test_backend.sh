#!/usr/bin/env bash
# End-to-end: the backend side of limpet on the veth rig, one backend (b1), TAP output.
#   - namesrv (rig.sh --serve) answers HTTP and UDP with the backend's name;
#   - `limpet-backend check` names each misconfiguration it is given (VIP missing, arp_ignore 0,
#     arp_announce 0, rp_filter strict, no decap in ipip mode), all at once and one at a time;
#   - `setup` fixes them; traffic for the VIP then reaches b1 the DSR way (MAC rewrite: here a
#     client route via b1) and the ipip way (a tunnelled datagram, decapsulated by limpet_decap),
#     and the reply comes from the VIP; `teardown` removes the VIP and the decap program;
#   - the rig is gone afterwards: no namespace, no namesrv.
# Needs root, build/namesrv and build/bpf/decap.bpf.o. Usage: tests/e2e/test_backend.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

# ---- outer: run the tests inside a rig, then check that the rig left nothing behind ----
if [ "${1:-}" != --in-rig ]; then
	for f in build/namesrv build/bpf/decap.bpf.o; do
		[ -e "$f" ] || { echo "not ok 1 - $f exists (make $f)"; exit 1; }
	done
	prefix="lpbe$$"
	state=$(mktemp)
	trap 'rm -f "$state"' EXIT
	scripts/rig.sh run --prefix "$prefix" --backends 1 --serve -- "$0" --in-rig "$state"
	rc=$?
	read -r n failed pids <"$state" || { n=0; failed=1; pids=; }
	n=$((n + 1))
	left=$(ip netns list | awk '{print $1}' | grep "^$prefix-")
	for p in $pids; do
		[ -d "/proc/$p" ] && left+=" namesrv(pid $p)"
	done
	[ -e "/run/limpet-rig/$prefix.env" ] && left+=" /run/limpet-rig/$prefix.env"
	if [ -z "$left" ]; then
		echo "ok $n - the rig leaves nothing behind (namespaces, namesrv, state files)"
	else
		echo "not ok $n - the rig leaves nothing behind"
		echo "# left: $left"
		failed=$((failed + 1))
	fi
	echo "1..$n"
	[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
	exit
fi

# ---- inner: in the rig, RIG_* exported ----
state=$2
n=0
failed=0

# t NAME CMD...: one subtest; CMD prints the reason when it fails
t() {
	local name=$1 why
	shift
	n=$((n + 1))
	if why=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' <<<"$why"
		failed=$((failed + 1))
	fi
}

b1() { scripts/rig.sh exec b1 "$@"; }
client() { scripts/rig.sh exec client "$@"; }
lb_backend() { b1 user/backend/limpet-backend "$@"; }

V4=198.18.100.1
V6=2001:2:0:100::1
ARGS=(--vip "$V4" --mode ipip --iface eth0)
ARGS46=(--vip "$V4,$V6" --mode ipip --iface eth0)

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: expected '$3', got '$2'"
	return 1
}

# run_rc CMD...: run CMD, its output in $out, its status in $rc
run_rc() {
	out=$("$@" 2>&1)
	rc=$?
}

# expect_status WANT ARGS...: limpet-backend ARGS exits WANT (its output in $out)
expect_status() {
	local want=$1
	shift
	run_rc lb_backend "$@"
	[ "$rc" -eq "$want" ] && return 0
	echo "limpet-backend $*: expected exit $want, got $rc; output:"
	echo "$out"
	return 1
}

# wrong_items: the items of the WRONG lines in $out, one a line
wrong_items() {
	awk '/^WRONG / { sub(/^WRONG /, ""); print substr($0, 1, index($0, ": ") - 1) }' <<<"$out"
}

# expect_wrong ITEM REGEX: $out has `WRONG ITEM: ... REGEX ... — fix: <command>`
expect_wrong() {
	local line
	line=$(grep -F "WRONG $1: " <<<"$out")
	if [ -z "$line" ]; then
		echo "no WRONG line for '$1' in:"
		echo "$out"
		return 1
	fi
	if ! grep -Eq -- "^: .*$2.* — fix: [a-z]" <<<"${line#"WRONG $1"}"; then
		echo "WRONG line for '$1' does not match '$2 ... — fix: COMMAND': $line"
		return 1
	fi
}

# expect_only_wrong ITEM: $out has exactly one WRONG line, for ITEM; exit status 1
expect_only_wrong() {
	local items
	items=$(wrong_items)
	expect_eq "check exit status" "$rc" 1 || { echo "$out"; return 1; }
	expect_eq "WRONG items" "$items" "$1" || { echo "$out"; return 1; }
}

# ---- namesrv ----

# get URL: the body, as the client sees it
get() { client curl -sS -m 5 "$1"; }
http_v4() { expect_eq "body of http://198.18.1.11/" "$(get http://198.18.1.11/)" b1; }
http_v6() { expect_eq "body of http://[2001:2::1:11]/" "$(get 'http://[2001:2::1:11]/')" b1; }
http_keepalive() {
	# two requests, one connection: curl connects for the first only
	expect_eq "connects per request" \
		"$(client curl -sS -m 5 -o /dev/null -o /dev/null -w '%{num_connects} ' \
			http://198.18.1.11/a http://198.18.1.11/b)" "1 0 "
}
http_bytes() {
	local hdr len
	hdr=$(client curl -sS -m 10 -D - -o /dev/null http://198.18.1.11/bytes/3000000 | tr -d '\r')
	expect_eq "Content-Length of /bytes/3000000" \
		"$(sed -n 's/^Content-Length: //p' <<<"$hdr")" 3000000 || return 1
	len=$(client curl -sS -m 10 http://198.18.1.11/bytes/3000000 | wc -c)
	expect_eq "body length of /bytes/3000000" "$len" 3000000
}
# probe ADDR [OPTIONS]: namesrv's reply to one UDP datagram to ADDR port 80
probe() { client build/namesrv --udp-probe "$1" 80 "${@:2}"; }
udp_v4() { expect_eq "UDP reply from 198.18.1.11:80" "$(probe 198.18.1.11)" b1; }
udp_v6() { expect_eq "UDP reply from [2001:2::1:11]:80" "$(probe 2001:2::1:11)" b1; }
namesrv_recorded() {
	local pid
	pid=$(awk '$1 == "b1" { print $2 }' "/run/limpet-rig/$RIG_PREFIX.pids" 2>/dev/null)
	[ -n "$pid" ] || { echo "no b1 pid in /run/limpet-rig/$RIG_PREFIX.pids"; return 1; }
	[ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = \
		"$(stat -L -c %i "/run/netns/$RIG_PREFIX-b1")" ] ||
		{ echo "pid $pid is not running in $RIG_PREFIX-b1"; return 1; }
}

t "namesrv answers HTTP over IPv4 with its name (curl client -> 198.18.1.11)" http_v4
t "namesrv answers HTTP over IPv6 with its name" http_v6
t "namesrv keeps the connection alive between requests" http_keepalive
t "namesrv serves /bytes/N: N bytes, Content-Length N" http_bytes
t "namesrv answers a UDP datagram over IPv4 with its name" udp_v4
t "namesrv answers a UDP datagram over IPv6 with its name" udp_v6
t "rig --serve records namesrv's pid, running in the backend's namespace" namesrv_recorded

# ---- check on a misconfigured backend ----

misconfigure() {
	b1 sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0 \
		net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1 &&
		b1 ip link set dev eth0 xdp off &&
		! b1 ip -o addr show dev lo | grep -q "$V4/"
}
t "b1 starts misconfigured: no VIP, arp_ignore 0, arp_announce 0, rp_filter 1, no XDP" misconfigure
run_rc lb_backend check "${ARGS[@]}"
check_all_bad="$out"
t "check exits 1 on a misconfigured backend" expect_eq "exit status" "$rc" 1
out=$check_all_bad
t "check reports the VIP missing from lo" expect_wrong "vip $V4/32 on lo" "missing"
t "check reports arp_ignore 0" expect_wrong "net.ipv4.conf.all.arp_ignore" "is 0, want 1"
t "check reports arp_announce 0" expect_wrong "net.ipv4.conf.all.arp_announce" "is 0, want 2"
t "check reports rp_filter strict (all)" expect_wrong "net.ipv4.conf.all.rp_filter" "is 1, want 2"
t "check reports rp_filter strict (eth0)" expect_wrong "net.ipv4.conf.eth0.rp_filter" "is 1, want 2"
t "check reports no decap program in ipip mode" \
	expect_wrong "decap limpet_decap on eth0" "not attached"
t "check prints one line per item, nothing else" \
	expect_eq "item lines / all lines" \
	"$(grep -cE '^(ok    |WRONG )' <<<"$out")/$(wc -l <<<"$out")" "6/6"

# ---- setup ----

setup_ok() {
	expect_status 0 setup "${ARGS[@]}" || return 1
	! grep -q '^WRONG' <<<"$out" || { echo "$out"; return 1; }
}
check_ok() {
	expect_status 0 check "${ARGS[@]}" || return 1
	expect_eq "ok lines" "$(grep -c '^ok    ' <<<"$out")" 6 || { echo "$out"; return 1; }
}
vip_on_lo() {
	b1 ip -o -4 addr show dev lo | grep -q " $V4/32 " ||
		{ echo "no $V4/32 on lo:"; b1 ip -o addr show dev lo; return 1; }
}
decap_attached() {
	local st
	st=$(b1 xdp-loader status eth0 2>&1)
	grep -qw limpet_decap <<<"$st" || { echo "xdp-loader status eth0:"; echo "$st"; return 1; }
}
t "setup fixes every item and exits 0" setup_ok
t "check after setup: all ok, exit 0" check_ok
t "setup put the VIP on lo as /32" vip_on_lo
t "setup attached limpet_decap to eth0 (xdp-loader status)" decap_attached
setup_idempotent() {
	expect_status 0 setup "${ARGS[@]}" || return 1
	! grep -q '^did' <<<"$out" || { echo "$out"; return 1; }
}
t "setup again changes nothing" setup_idempotent

# ---- one misconfiguration at a time: exactly that item is WRONG; setup repairs it ----

# break_one ITEM BREAK-CMD [REPAIR-CMD]: break b1 one way, check, repair (default: setup)
break_one() {
	local item=$1 brk=$2 fix=${3:-}
	eval "b1 $brk" >/dev/null 2>&1 || { echo "could not break: $brk"; return 1; }
	run_rc lb_backend check "${ARGS[@]}"
	local got_out=$out got_rc=$rc
	if [ -n "$fix" ]; then
		eval "b1 $fix" >/dev/null 2>&1
	else
		lb_backend setup "${ARGS[@]}" >/dev/null 2>&1
	fi
	out=$got_out rc=$got_rc
	expect_only_wrong "$item" || return 1
	run_rc lb_backend check "${ARGS[@]}"
	[ "$rc" -eq 0 ] || { echo "not repaired:"; echo "$out"; return 1; }
}
t "VIP removed: check names only the VIP" break_one "vip $V4/32 on lo" "ip addr del $V4/32 dev lo"
t "arp_ignore 0: check names only arp_ignore" \
	break_one net.ipv4.conf.all.arp_ignore "sysctl -qw net.ipv4.conf.all.arp_ignore=0"
t "arp_announce 0: check names only arp_announce" \
	break_one net.ipv4.conf.all.arp_announce "sysctl -qw net.ipv4.conf.all.arp_announce=0"
t "rp_filter 1 on all: check names only all.rp_filter" \
	break_one net.ipv4.conf.all.rp_filter "sysctl -qw net.ipv4.conf.all.rp_filter=1"
t "rp_filter 1 on eth0: check names only eth0.rp_filter" \
	break_one net.ipv4.conf.eth0.rp_filter "sysctl -qw net.ipv4.conf.eth0.rp_filter=1"
t "decap unloaded: check names only the decap" \
	break_one "decap limpet_decap on eth0" "xdp-loader unload eth0 --all"
t "VIP also on eth0 (would answer ARP there): check names the VIP" \
	break_one "vip $V4/32 on lo" "ip addr add $V4/32 dev eth0" "ip addr del $V4/32 dev eth0"
t "lo down: check names the VIP" break_one "vip $V4/32 on lo" "ip link set lo down"

# ---- traffic for the VIPs, both families ----

setup46() { expect_status 0 setup "${ARGS46[@]}"; }
t "setup with an IPv4 and an IPv6 VIP exits 0" setup46

# DSR: limpet rewrites the destination MAC to b1's; a client route via b1 does the same
dsr() {
	local body r=0
	client ip route replace "$V4/32" via 198.18.1.11 &&
		client ip -6 route replace "$V6/128" via 2001:2::1:11 || return 1
	body=$(get "http://$V4/")
	expect_eq "HTTP to $V4 through b1's MAC" "$body" b1 || r=1
	body=$(get "http://[$V6]/")
	expect_eq "HTTP to [$V6] through b1's MAC" "$body" b1 || r=1
	# the probe's socket is connected to the VIP: a reply from any other source is dropped
	body=$(probe "$V4")
	expect_eq "UDP reply from $V4 (source = VIP)" "$body" b1 || r=1
	body=$(probe "$V6")
	expect_eq "UDP reply from $V6 (source = VIP)" "$body" b1 || r=1
	client ip route del "$V4/32"
	client ip -6 route del "$V6/128"
	return $r
}
t "DSR: b1 serves the VIPs (HTTP, UDP) and answers from the VIP" dsr

ipip() {
	local body r=0
	body=$(probe "$V4" --ipip-via 198.18.1.11)
	expect_eq "UDP in IPIP to b1, reply from $V4" "$body" b1 || r=1
	body=$(probe "$V6" --ipip-via 2001:2::1:11)
	expect_eq "UDP in IPv6-in-IPv6 to b1, reply from $V6" "$body" b1 || r=1
	return $r
}
t "ipip: limpet_decap decapsulates; b1 answers the client directly from the VIP" ipip

no_decap_no_ipip() {
	b1 xdp-loader unload eth0 --all >/dev/null 2>&1
	if probe "$V4" --ipip-via 198.18.1.11 --timeout 1000 >/dev/null 2>&1; then
		echo "a tunnelled datagram got an answer without the decap program"
		return 1
	fi
	expect_status 0 setup "${ARGS46[@]}"
}
t "ipip without the decap program gets no answer (and setup restores it)" no_decap_no_ipip

# ---- teardown ----

teardown_ok() {
	expect_status 0 teardown "${ARGS46[@]}" || return 1
	grep -q '^left  sysctls' <<<"$out" ||
		{ echo "teardown does not say it leaves the sysctls: $out"; return 1; }
}
vips_gone() {
	local lo
	lo=$(b1 ip -o addr show dev lo)
	! grep -qE " ($V4/32|$V6/128) " <<<"$lo" || { echo "still on lo:"; echo "$lo"; return 1; }
}
decap_gone() {
	local st
	st=$(b1 xdp-loader status eth0 2>&1)
	! grep -qw limpet_decap <<<"$st" || { echo "$st"; return 1; }
	! b1 ip -d link show dev eth0 | grep -q 'prog/xdp' ||
		{ echo "an XDP program is still on eth0"; return 1; }
}
sysctls_left() {
	expect_eq "arp_ignore after teardown" "$(b1 cat /proc/sys/net/ipv4/conf/all/arp_ignore)" 1
}
check_after_teardown() {
	run_rc lb_backend check "${ARGS46[@]}"
	expect_eq "check exit status" "$rc" 1 || return 1
	expect_eq "WRONG items" "$(wrong_items | tr '\n' ' ')" \
		"vip $V4/32 on lo vip $V6/128 on lo decap limpet_decap on eth0 " ||
		{ echo "$out"; return 1; }
}
t "teardown exits 0 and says it leaves the sysctls" teardown_ok
t "teardown removed the VIPs from lo" vips_gone
t "teardown detached limpet_decap from eth0" decap_gone
t "teardown left the sysctls as they were" sysctls_left
t "check after teardown: VIPs and decap WRONG, exit 1" check_after_teardown

# ---- usage errors: exit 2 ----
t "bad address: exit 2" expect_status 2 check --vip 198.18.100.256 --mode dsr
t "bad IPv6 address: exit 2" expect_status 2 check --vip 2001:2::100::1 --mode dsr
t "bad mode: exit 2" expect_status 2 check --vip "$V4" --mode nat
t "ipip without --iface: exit 2" expect_status 2 check --vip "$V4" --mode ipip
t "unknown interface: exit 2" expect_status 2 check --vip "$V4" --mode ipip --iface eth9
t "no command: exit 2" expect_status 2 --vip "$V4" --mode dsr
t "--help: exit 0" expect_status 0 --help

t "namesrv is still serving at the end" http_v4

# for the outer part: subtests run, failures, namesrv pids (must be gone after the rig)
pids=$(awk '{ print $2 }' "/run/limpet-rig/$RIG_PREFIX.pids" 2>/dev/null | tr '\n' ' ')
echo "$n $failed $pids" >"$state"
[ "$failed" -eq 0 ]
