#!/usr/bin/env bash
# make install / make uninstall and the systemd unit, TAP output:
#   - `make install DESTDIR=... PREFIX=/usr` lays out exactly the documented files (the man
#     pages: whatever man/ holds), the installed limpetd and limpetctl run, the installed
#     limpet-backend finds the installed decap object; PREFIX=/usr/local moves the unit and its
#     ExecStart; /etc/default/limpet is never overwritten, and kept by uninstall once changed;
#   - `systemd-analyze verify` accepts the installed unit, without a warning;
#   - readiness (Type=notify): the installed limpetd on the rig's LB, NOTIFY_SOCKET on a socket
#     this test listens on: READY=1 once attached with the API answering, RELOADING=1 then
#     READY=1 around a SIGHUP, STOPPING=1 on SIGTERM;
#   - `make uninstall` leaves no file behind.
# Needs root. Runs itself inside a fresh rig.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RIG_PREFIX:-}" ]; then
	exec "$root/scripts/rig.sh" run --prefix "lpins$$" --backends 2 --vips 1 -- "$0" "$@"
fi

work=$(mktemp -d)
dest=$work/dest
export LIMPETD_BIN=$dest/usr/sbin/limpetd
. "$root/scripts/lib.sh"
sock=/run/limpet/inst.sock
# whatever happens, no limpetd, listener, pins, lock or socket of this test outlive it
trap 'limpetd_stop >/dev/null 2>&1; [ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null
      rm -rf "$work" /sys/fs/bpf/limpet/inst /run/limpet/inst.lock "$sock"' EXIT

. "$root/tests/e2e/tap.sh"

mk() { make -C "$root" --no-print-directory "$@" >"$work/make.out" 2>&1 ||
	{ why="make $*:"$'\n'"$(tail -20 "$work/make.out")"; return 1; }; }

# --- layout ---------------------------------------------------------------------------------
expected() {
	local f
	{
		printf '%s\n' ./etc/default/limpet ./lib/systemd/system/limpetd.service \
			./usr/bin/limpetctl ./usr/sbin/limpetd ./usr/sbin/limpet-backend \
			./usr/lib/limpet/decap.bpf.o ./usr/lib/limpet/pass.bpf.o
		(cd "$root" && find examples -type f) | sed 's|^|./usr/share/doc/limpet/|'
		for f in "$root"/man/*.8; do [ -e "$f" ] && echo "./usr/share/man/man8/${f##*/}"; done
		for f in "$root"/man/*.5; do [ -e "$f" ] && echo "./usr/share/man/man5/${f##*/}"; done
	} | LC_ALL=C sort
}

layout() {
	local d
	mk install DESTDIR="$dest" PREFIX=/usr || return 1
	d=$(diff <(expected) <(cd "$dest" && find . -type f -o -type l | LC_ALL=C sort))
	[ -z "$d" ] || { why="installed files differ from the documented ones (< missing, > extra):"$'\n'"$d"; return 1; }
}
tap "make install DESTDIR PREFIX=/usr lays out exactly the documented files" layout

modes() {
	local f m bad=
	for f in usr/sbin/limpetd usr/sbin/limpet-backend usr/bin/limpetctl; do
		m=$(stat -c %a "$dest/$f")
		[ "$m" = 755 ] || bad+="$f mode $m"$'\n'
	done
	for f in lib/systemd/system/limpetd.service etc/default/limpet usr/lib/limpet/decap.bpf.o; do
		m=$(stat -c %a "$dest/$f")
		[ "$m" = 644 ] || bad+="$f mode $m"$'\n'
	done
	[ -z "$bad" ] || why=$bad
	[ -z "$bad" ]
}
tap "programs 0755, data 0644" modes

version() {
	local out
	out=$("$dest/usr/sbin/limpetd" --version 2>&1) || { why=$out; return 1; }
	[[ $out == "limpetd "[0-9]* ]] || { why="--version: $out"; return 1; }
}
tap "installed limpetd --version runs" version

ctl_help() {
	local out
	out=$("$dest/usr/bin/limpetctl" --help 2>&1) || { why=$out; return 1; }
	[[ $out == usage:\ limpetctl* ]] || { why="--help: $(head -3 <<<"$out")"; return 1; }
}
tap "installed limpetctl --help runs" ctl_help

# no decap on b1 (no --backend-mode): check names the fix, with the object it found
backend_decap() {
	local out
	out=$("$root/scripts/rig.sh" exec b1 "$dest/usr/sbin/limpet-backend" check \
		--vip 198.18.100.1 --mode ipip --iface eth0 2>&1)
	[[ $out == *"xdp-loader load -m native eth0 $dest/usr/lib/limpet/decap.bpf.o"* ]] ||
		{ why="limpet-backend did not find the installed decap object:"$'\n'"$(grep -i decap <<<"$out")"; return 1; }
}
tap "installed limpet-backend finds <prefix>/lib/limpet/decap.bpf.o" backend_decap

unit_paths() {
	local d2=$work/local u
	u=$(grep '^ExecStart=' "$dest/lib/systemd/system/limpetd.service")
	[ "$u" = 'ExecStart=/usr/sbin/limpetd --foreground --iface ${LIMPETD_IFACES} $LIMPETD_ARGS' ] ||
		{ why="PREFIX=/usr: $u"; return 1; }
	mk install DESTDIR="$d2" || return 1
	u=$(grep '^ExecStart=' "$d2/usr/local/lib/systemd/system/limpetd.service" 2>&1)
	[[ $u == "ExecStart=/usr/local/sbin/limpetd "* ]] && [ -x "$d2/usr/local/sbin/limpetd" ] &&
		[ -f "$d2/usr/local/lib/limpet/decap.bpf.o" ] && [ -f "$d2/etc/default/limpet" ] ||
		{ why="PREFIX=/usr/local: $u"$'\n'"$(cd "$d2" && find . -type f)"; return 1; }
	rm -rf "$d2"
}
tap "the unit's ExecStart and directory follow PREFIX (/usr, /usr/local)" unit_paths

# --- the unit -------------------------------------------------------------------------------
# a copy whose ExecStart is the installed binary; MANPATH so Documentation= man pages resolve
verify() {
	local u=$work/unit/limpetd.service
	mkdir -p "$work/unit"
	sed "s|/usr/sbin/limpetd|$dest/usr/sbin/limpetd|" "$dest/lib/systemd/system/limpetd.service" >"$u"
	MANPATH=$dest/usr/share/man systemd-analyze verify "$u" >"$work/verify" 2>&1 ||
		{ why="systemd-analyze verify failed:"$'\n'"$(<"$work/verify")"; return 1; }
	[ ! -s "$work/verify" ] || { why="systemd-analyze verify warns:"$'\n'"$(<"$work/verify")"; return 1; }
}
tap "systemd-analyze verify accepts the installed unit" verify

directives() {
	local u=$dest/lib/systemd/system/limpetd.service d missing=
	for d in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' RuntimeDirectory=limpet \
		StateDirectory=limpet Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict \
		ProtectHome=yes ReadWritePaths=/sys/fs/bpf EnvironmentFile=-/etc/default/limpet; do
		grep -qxF "$d" "$u" || missing+="$d"$'\n'
	done
	[ -z "$missing" ] || why="missing:"$'\n'"$missing"
	[ -z "$missing" ]
}
tap "the unit has its directives (notify, reload, directories, hardening)" directives

defaults_kept() {
	echo 'LIMPETD_IFACES=eth9' >>"$dest/etc/default/limpet"
	mk install DESTDIR="$dest" PREFIX=/usr || return 1
	grep -q '^LIMPETD_IFACES=eth9$' "$dest/etc/default/limpet" ||
		{ why="make install overwrote a changed /etc/default/limpet"; return 1; }
	cp "$root/packaging/limpet.default" "$dest/etc/default/limpet"
}
tap "make install keeps a changed /etc/default/limpet" defaults_kept

# --- readiness ------------------------------------------------------------------------------
# the listener: one line per notification (newlines as spaces); on READY=1 a snapshot of what
# limpetd had logged by then
cat >"$work/listen.py" <<'PY'
import os, socket, sys
path, out, log = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        f.write(msg.replace("\n", " ") + "\n")
        if "READY=1" in msg.split("\n"):
            text = open(log).read()
            f.write("SNAPSHOT attached=%d api=%d\n" % ("attached to lb0" in text,
                                                        "API listening" in text))
PY
notes=$work/notify.log
: >"$notes"
/usr/bin/python3 "$work/listen.py" "$work/notify.sock" "$notes" "$LIMPETD_LOG" &
lpid=$!
for ((i = 0; i < 50; i++)); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
cfg=$work/inst.json
cat >"$cfg" <<'JSON'
{"serviceName": "inst", "hashSeed": "0123456789abcdef",
 "tcp": {
  "frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80", "defaultFarmId": 1}],
  "farm": [{"farmId": 1, "stickiness": "sourceIp", "forwarding": "dsr",
	    "server": [{"serverId": 1, "address": "198.18.1.11"},
		       {"serverId": 2, "address": "198.18.1.12"}]}]}}
JSON

# wait_note PATTERN: until a notification line matches (5 s at most)
wait_note() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -qE "$1" "$notes" && return 0
		sleep 0.1
	done
	why="no notification matching '$1'; got:"$'\n'"$(<"$notes")"
	return 1
}

ready() {
	NOTIFY_SOCKET=$work/notify.sock limpetd_start "$cfg" --api "unix:$sock" ||
		{ why="limpetd did not start:"$'\n'"$(tail -20 "$LIMPETD_LOG")"; return 1; }
	wait_note '^READY=1' || return 1
	grep -q '^SNAPSHOT attached=1 api=1$' "$notes" ||
		{ why="READY=1 before attached and API listening:"$'\n'"$(<"$notes")"; return 1; }
	grep -q '^READY=1 STATUS=serving service inst$' "$notes" ||
		{ why="READY=1 without its STATUS:"$'\n'"$(<"$notes")"; return 1; }
	"$dest/usr/bin/limpetctl" --api "unix:$sock" status >"$work/status" 2>&1 ||
		{ why="the API does not answer after READY=1:"$'\n'"$(<"$work/status")"; return 1; }
}
tap "READY=1 once attached, the config applied and the API listening" ready

reloading() {
	local before
	before=$(wc -l <"$notes")
	limpetd_hup || { why="SIGHUP: config not applied"$'\n'"$(tail -5 "$LIMPETD_LOG")"; return 1; }
	wait_note '^READY=1' || return 1
	for ((i = 0; i < 50; i++)); do
		[ "$(tail -n +"$((before + 1))" "$notes" | grep -c '^READY=1')" -ge 1 ] && break
		sleep 0.1
	done
	tail -n +"$((before + 1))" "$notes" | grep -v '^SNAPSHOT' | cut -d' ' -f1 >"$work/seq"
	[ "$(tr '\n' ' ' <"$work/seq")" = "RELOADING=1 READY=1 " ] ||
		{ why="after SIGHUP:"$'\n'"$(tail -n +"$((before + 1))" "$notes")"; return 1; }
	tail -n +"$((before + 1))" "$notes" | grep -q '^RELOADING=1 .*MONOTONIC_USEC=[0-9]' ||
		{ why="RELOADING=1 without MONOTONIC_USEC"; return 1; }
}
tap "SIGHUP: RELOADING=1, then READY=1" reloading

stopping() {
	local rc
	limpetd_stop
	rc=$?
	[ "$rc" -eq 0 ] || { why="limpetd exited $rc"; return 1; }
	wait_note '^STOPPING=1' || return 1
	[ "$(grep -v '^SNAPSHOT' "$notes" | tail -1 | cut -d' ' -f1)" = STOPPING=1 ] ||
		{ why="STOPPING=1 is not the last notification:"$'\n'"$(<"$notes")"; return 1; }
}
tap "SIGTERM: STOPPING=1, exit 0" stopping
kill "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
lpid=

# --- uninstall ------------------------------------------------------------------------------
uninstall() {
	local left
	mk uninstall DESTDIR="$dest" PREFIX=/usr || return 1
	left=$(cd "$dest" && find . ! -type d)
	[ -z "$left" ] || { why="left behind:"$'\n'"$left"; return 1; }
}
tap "make uninstall leaves no file behind" uninstall

uninstall_changed() {
	mk install DESTDIR="$dest" PREFIX=/usr || return 1
	echo 'LIMPETD_IFACES=eth9' >>"$dest/etc/default/limpet"
	mk uninstall DESTDIR="$dest" PREFIX=/usr || return 1
	[ "$(cd "$dest" && find . ! -type d)" = ./etc/default/limpet ] ||
		{ why="left: $(cd "$dest" && find . ! -type d)"; return 1; }
}
tap "make uninstall keeps a changed /etc/default/limpet, removes the rest" uninstall_changed

echo "1..$n"
[ "$failed" -eq 0 ]
