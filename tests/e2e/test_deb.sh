#!/usr/bin/env bash
# The Debian package end to end, TAP output: `make deb` builds build/limpet_<version>_<arch>.deb,
# `dpkg -i` installs it on this machine, the installed programs run from /usr, the unit is
# enabled and not started, the conffiles are registered, lintian (if installed) has no error or
# warning, and `dpkg -r` then `dpkg --purge` leave nothing behind under /etc, /usr, /var/lib and
# /lib/systemd (compared with a listing of the limpet paths taken before the installation).
# Runs on the machine itself as root: the package is purged on any exit, and the paths the
# package owns on purge (/etc/limpet, /etc/default/limpet, /var/lib/limpet: other limpetd runs
# may have made the last one) are moved aside first and put back at the end.
# Usage: tests/e2e/test_deb.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
work=$(mktemp -d)
. "$root/tests/e2e/tap.sh"

owned=(/etc/limpet /etc/default/limpet /var/lib/limpet)

# limpet paths in the places a package installs to
listing() {
	find /etc /usr /var/lib /lib/systemd/ -path '*limpet*' 2>/dev/null | LC_ALL=C sort -u
}

installed() { dpkg-query -W -f='${db:Status-Status}' limpet 2>/dev/null | grep -qvx 'not-installed'; }

cleanup() {
	if installed; then
		echo "# cleanup: dpkg --purge limpet"
		dpkg --purge limpet >/dev/null 2>&1 || echo "# cleanup: dpkg --purge limpet failed"
	fi
	local p
	for p in "${owned[@]}"; do
		if [ -e "$work/saved$p" ] && [ ! -e "$p" ]; then
			mkdir -p "$(dirname "$p")"
			mv "$work/saved$p" "$p"
		fi
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root (dpkg -i)"
	trap - EXIT
	rm -rf "$work"
	exit 0
fi

# a limpet package installed by someone else is not this test's to remove
if installed; then
	trap - EXIT
	rm -rf "$work"
	echo "not ok 1 - no limpet package installed before the test"
	echo "# dpkg shows limpet as $(dpkg-query -W -f='${db:Status-Status}' limpet); purge it first"
	exit 1
fi

version=$(sed -n 's/^#define[[:space:]]*LIMPET_VERSION[[:space:]]*"\(.*\)"/\1/p' user/daemon/version.h)
deb=build/limpet_${version}_$(dpkg --print-architecture).deb

build_deb() {
	rm -f "$deb"
	make --no-print-directory deb >"$work/make.log" 2>&1 && [ -f "$deb" ] && return 0
	why="make deb failed:"$'\n'"$(tail -n 30 "$work/make.log")"
	return 1
}
tap "make deb builds $deb" build_deb
[ -f "$deb" ] || { echo "1..$n"; exit 1; }

depends_ok() {
	local dep want missing=
	dep=$(dpkg-deb -f "$deb" Depends)
	for want in libbpf1 libxdp1 libjansson4 libmicrohttpd12 libcurl4 libhttp-parser2.9 \
		iproute2 xdp-tools; do
		echo "$dep" | grep -qE "(^|, )$want( |,|$)" || missing+=" $want"
	done
	[ -z "$missing" ] && return 0
	why="Depends: $dep"$'\n'"lacks:$missing"
	return 1
}
tap "Depends names the shared libraries and iproute2, xdp-tools" depends_ok

fields_ok() {
	local s p
	s=$(dpkg-deb -f "$deb" Section)
	p=$(dpkg-deb -f "$deb" Priority)
	[ "$s" = net ] && [ "$p" = optional ] && [ -n "$(dpkg-deb -f "$deb" Description)" ] &&
		return 0
	why="Section '$s', Priority '$p'"
	return 1
}
tap "Section net, Priority optional, a Description" fields_ok

lintian_ok() {
	if ! command -v lintian >/dev/null; then
		return 0
	fi
	local out
	out=$(lintian "$deb" 2>&1)
	echo "$out" | grep -qE '^[EW]: ' || return 0
	why=$out
	return 1
}
if command -v lintian >/dev/null; then
	tap "lintian: no error, no warning" lintian_ok
else
	n=$((n + 1))
	echo "ok $n - lintian: no error, no warning # SKIP lintian not installed"
fi

# move aside what the purge would remove, then take the listing to compare with
for p in "${owned[@]}"; do
	if [ -e "$p" ]; then
		mkdir -p "$work/saved$(dirname "$p")"
		mv "$p" "$work/saved$p"
	fi
done
listing >"$work/before"

install_ok() {
	dpkg -i "$deb" >"$work/dpkg.log" 2>&1 && return 0
	why=$(cat "$work/dpkg.log")
	return 1
}
tap "dpkg -i installs it" install_ok
if ! installed; then
	echo "1..$n"
	exit 1
fi

# run ARGS...: stdout and stderr in $out, exit status in $rc
run() {
	out=$("$@" 2>&1)
	rc=$?
}

check_ok() {
	run /usr/sbin/limpetd --check --config /etc/limpet/limpet.json
	[ "$rc" -eq 0 ] && return 0
	why="exit $rc: $out"
	return 1
}
tap "installed limpetd --check validates /etc/limpet/limpet.json" check_ok

version_ok() {
	run /usr/sbin/limpetd --version
	[ "$rc" -eq 0 ] && [ "$out" = "limpetd $version" ] && return 0
	why="exit $rc: $out (want: limpetd $version)"
	return 1
}
tap "/usr/sbin/limpetd --version says $version" version_ok

help_ok() {
	run "$@" --help
	[ "$rc" -eq 0 ] && echo "$out" | grep -q '^usage' && return 0
	why="exit $rc: $(echo "$out" | head -5)"
	return 1
}
tap "/usr/bin/limpetctl --help" help_ok /usr/bin/limpetctl
tap "/usr/sbin/limpet-backend --help" help_ok /usr/sbin/limpet-backend

files_ok() {
	local f missing=
	for f in /lib/systemd/system/limpetd.service /etc/default/limpet /etc/limpet/limpet.json \
		/usr/lib/limpet/decap.bpf.o /usr/share/doc/limpet/copyright \
		/usr/share/doc/limpet/changelog.gz; do
		[ -f "$f" ] || missing+=" $f"
	done
	[ -z "$missing" ] && return 0
	why="missing:$missing"
	return 1
}
tap "unit, /etc/default/limpet, config, decap object, copyright installed" files_ok

conffiles_ok() {
	local c
	c=$(dpkg-query -W -f='${Conffiles}' limpet)
	echo "$c" | grep -q '^ /etc/limpet/limpet.json ' && echo "$c" | grep -q '^ /etc/default/limpet ' &&
		return 0
	why="conffiles: $c"
	return 1
}
tap "/etc/limpet/limpet.json and /etc/default/limpet are conffiles" conffiles_ok

enabled_ok() {
	local l=/etc/systemd/system/multi-user.target.wants/limpetd.service t
	t=$(readlink "$l")
	[ "$t" = /lib/systemd/system/limpetd.service ] || {
		why="$l -> '$t'"
		return 1
	}
	# deb-systemd-helper's record (what purge removes), and systemd's own view
	local dsh=/var/lib/systemd/deb-systemd-helper-enabled
	if ! grep -qx "$l" "$dsh/limpetd.service.dsh-also" 2>/dev/null ||
		[ ! -e "$dsh/multi-user.target.wants/limpetd.service" ]; then
		why="deb-systemd-helper has no record of $l in $dsh"
		return 1
	fi
	t=$(systemctl is-enabled limpetd.service 2>&1)
	[ "$t" = enabled ] && return 0
	why="systemctl is-enabled limpetd.service: $t"
	return 1
}
tap "limpetd.service enabled (multi-user.target.wants, deb-systemd-helper)" enabled_ok

# no process runs the installed limpetd, and systemd (if it runs) has not started the unit
not_started() {
	local e pids=
	for e in /proc/[0-9]*/exe; do
		[ "$(readlink "$e" 2>/dev/null)" = /usr/sbin/limpetd ] && pids+=" ${e//[^0-9]/}"
	done
	if [ -n "$pids" ]; then
		why="/usr/sbin/limpetd runs:$pids"
		return 1
	fi
	if [ -d /run/systemd/system ] && systemctl --quiet is-active limpetd.service; then
		why="systemctl: limpetd.service is active"
		return 1
	fi
	return 0
}
tap "limpetd.service not started" not_started

remove_ok() {
	dpkg -r limpet >"$work/dpkg.log" 2>&1 || {
		why=$(cat "$work/dpkg.log")
		return 1
	}
	local left=
	[ -e /usr/sbin/limpetd ] && left+=" /usr/sbin/limpetd"
	[ -e /lib/systemd/system/limpetd.service ] && left+=" limpetd.service"
	[ -e /etc/limpet/limpet.json ] || left+=" (conffile /etc/limpet/limpet.json gone)"
	[ -z "$left" ] && return 0
	why="after dpkg -r:$left"
	return 1
}
tap "dpkg -r limpet removes the programs and the unit, keeps the conffiles" remove_ok

purge_ok() {
	dpkg --purge limpet >"$work/dpkg.log" 2>&1 || {
		why=$(cat "$work/dpkg.log")
		return 1
	}
	listing >"$work/after"
	diff "$work/before" "$work/after" >"$work/diff" && return 0
	why="left behind (< before, > after):"$'\n'"$(cat "$work/diff")"
	return 1
}
tap "dpkg --purge limpet leaves nothing behind" purge_ok

status_ok() {
	installed || return 0
	why="dpkg still shows limpet as $(dpkg-query -W -f='${db:Status-Status}' limpet)"
	return 1
}
tap "dpkg knows no limpet any more" status_ok

echo "1..$n"
[ "$failed" -eq 0 ]
