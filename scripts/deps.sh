#!/usr/bin/env bash
# Install the Debian packages limpet needs to build, test, benchmark and demo.
# Idempotent: only packages that are missing are installed.
set -euo pipefail

pkgs=(
	make gcc clang llvm libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev
	libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libhttp-parser-dev libcmocka-dev
	# sd_notify: readiness for the systemd unit (Type=notify)
	libsystemd-dev
	libclang-rt-14-dev iproute2 ethtool curl jq procps python3-prometheus-client strace
	# the man pages: rendered and checked by tests/unit/check_man.sh
	man-db groff-base
	# make deb: dpkg-shlibdeps, dpkg-gencontrol (dpkg-deb itself is in dpkg)
	dpkg-dev
	# a real server for the health probes' end-to-end test (pgsql probe)
	postgresql
	# the L7 proxy: HMAC-SHA256 cookies (libcrypto); its benchmark against HAProxy with wrk
	libssl-dev haproxy wrk
	# several limpet nodes behind ECMP: BGP by BIRD (make demo-cluster, tests)
	bird2
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
