#!/usr/bin/env bash
# limpet veth test rig (DESIGN.md section 6).
#
#   rig.sh up   [--prefix P] [--backends K] [--clients N] [--lb-ports 1|2] [--static-neigh]
#               [--serve] [--backend-mode dsr|ipip] [--vips N] [--topology bridge|pair|cluster]
#   rig.sh down [--prefix P]
#   rig.sh exec NODE CMD...        NODE: client | lb | bK | sw | gen  (run CMD in that namespace)
#   rig.sh env  [--prefix P]       print the rig's facts as shell variables
#   rig.sh run  [up options] -- CMD...
#                                  up, run CMD with the rig's variables exported, down (always)
#
# Topology, all on one bridge so that DSR works (addresses only from 198.18.0.0/15 and
# 2001:2::/48; nothing routes anywhere else):
#   P-sw   bridge br0
#   P-c    client  c0  198.18.0.2/16 2001:2::2/64, N extra sources 198.18.64.0+i, 2001:2::40:i
#   P-lb   LB      lb0 198.18.0.1/16 2001:2::1/64 (forwarding on); with --lb-ports 2 also lb1
#                  198.18.0.3/16, and backend 3 is routed through lb1 (a second egress port);
#                  198.18.3.0/24 and 2001:2:0:300::/64 are routed via backend 1 (an off-link
#                  server network, for the FIB tests: dsr cannot reach it)
#   P-bK   backend eth0 198.18.1.(10+K)/16 2001:2::1:(10+K)/64, MAC 02:00:00:00:01:K;
#          routes to the extra client sources via the client's main address
#   VIPs   198.18.100.0/24 and 2001:2:0:100::/64, routed by the client to the LB
# --serve: every backend runs build/namesrv --name bK --port 80 --udp-port 80 (HTTP and UDP
#   answering "bK"), started once the backends exist, pid in /run/limpet-rig/P.pids, log in
#   /run/limpet-rig/P-bK.namesrv.log; `down` stops it.
# --backend-mode dsr|ipip: every backend runs `user/backend/limpet-backend setup --mode M --iface eth0`
#   with the first N VIPs of each family (--vips N, default 4): 198.18.100.1..N and
#   2001:2:0:100::1..N (the same digits in both families, as for the backends' addresses).
# Every veth has TX checksum offload off: with it on, native XDP sees partial checksums and
# receivers drop the forwarded packets ("incorrect cksum").
# The bridge ports facing the LB run build/bpf/pass.bpf.o (XDP_PASS): a veth drops the frames
# its peer sends with XDP_TX or XDP_REDIRECT unless it runs an XDP program itself.
# --topology pair: no bridge, no backends, nothing attached; the balancer's own rate
#   (tests/bench/bench_rig.c). One veth pair:
#   P-g    generator g0 198.18.0.2/16 2001:2::2/64, MAC 02:00:00:00:00:02
#   P-lb   LB        lb0 198.18.0.1/16 2001:2::1/64, MAC 02:00:00:00:00:01 (forwarding on); the
#          --backends addresses are permanent neighbours on lb0 with the backends' MACs, so
#          what the balancer forwards to them leaves lb0 and reaches g0. A veth drops what its
#          peer transmits in XDP unless it runs XDP itself: the user attaches on both ends.
# --topology cluster: a router, two LB nodes announcing the VIPs over BGP (BIRD), ECMP;
#   see scripts/rig-cluster.sh.
# The namespace prefix is per run (default lp<pid>); `run` deletes the rig on every exit path.
set -euo pipefail

die() { echo "rig: $*" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

prefix=${RIG_PREFIX:-}
backends=3
clients=0
lb_ports=1
static_neigh=0
serve=0
backend_mode=
vips=4
topology=bridge

parse_up_opts() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--prefix) prefix=$2; shift 2 ;;
		--backends) backends=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--lb-ports) lb_ports=$2; shift 2 ;;
		--static-neigh) static_neigh=1; shift ;;
		--serve) serve=1; shift ;;
		--backend-mode) backend_mode=$2; shift 2 ;;
		--vips) vips=$2; shift 2 ;;
		--topology) topology=$2; shift 2 ;;
		--) shift; cmd=("$@"); return ;;
		*) die "unknown option $1" ;;
		esac
	done
}

ns() { echo "$prefix-$1"; }
# nsenter, not `ip netns exec`, for what keeps running or touches BPF: the host's /sys (bpffs)
nsx() { local n=$1; shift; nsenter --net="/run/netns/$(ns "$n")" "$@"; }
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
mac_of_backend() { printf '02:00:00:00:01:%02x' "$1"; }

# veth NODE IF MAC: a veth whose end IF (with MAC) is in node's namespace and whose other
# end is a port of the bridge
veth() {
	local node=$1 ifname=$2 mac=$3 port="p-$1-$2"
	ip link add "$ifname" netns "$(ns "$node")" address "$mac" type veth \
		peer name "$port" netns "$(ns sw)"
	in_ns sw ip link set "$port" master br0 up
	in_ns sw ethtool -K "$port" tx off >/dev/null
	in_ns "$node" ethtool -K "$ifname" tx off >/dev/null
	in_ns "$node" ip link set "$ifname" up
}

# lb_port_pass IF: XDP_PASS on the bridge side of the LB's IF, so that frames the balancer
# transmits from IF (native XDP_TX / redirect) are taken in
lb_port_pass() {
	in_ns sw ip link set "p-lb-$1" xdpdrv obj "$root/build/bpf/pass.bpf.o" sec xdp
}

node() {
	ip netns add "$(ns "$1")"
	in_ns "$1" ip link set lo up
	in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# up_pair: --topology pair (see the top)
up_pair() {
	local k
	ip netns list | grep -q "^$prefix-" && die "a rig named $prefix exists"
	node g
	node lb
	ip link add g0 netns "$(ns g)" address 02:00:00:00:00:02 type veth \
		peer name lb0 netns "$(ns lb)" address 02:00:00:00:00:01
	in_ns g ethtool -K g0 tx off >/dev/null
	in_ns lb ethtool -K lb0 tx off >/dev/null
	in_ns g ip link set g0 up
	in_ns lb ip link set lb0 up
	in_ns g ip addr add 198.18.0.2/16 dev g0
	in_ns g ip addr add 2001:2::2/64 dev g0 nodad
	in_ns lb ip addr add 198.18.0.1/16 dev lb0
	in_ns lb ip addr add 2001:2::1/64 dev lb0 nodad
	in_ns lb sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for ((k = 1; k <= backends; k++)); do
		in_ns lb ip neigh replace "198.18.1.$((10 + k))" dev lb0 \
			lladdr "$(mac_of_backend "$k")" nud permanent
		in_ns lb ip neigh replace "2001:2::1:$((10 + k))" dev lb0 \
			lladdr "$(mac_of_backend "$k")" nud permanent
	done
	mkdir -p /run/limpet-rig
	print_env >"/run/limpet-rig/$prefix.env"
}

do_up() {
	[ -n "$prefix" ] || prefix="lp$$"
	case "$topology" in
	bridge) ;;
	pair) up_pair; return ;;
	cluster) . "$root/scripts/rig-cluster.sh"; up_cluster; return ;;
	*) die "--topology must be bridge, pair or cluster" ;;
	esac
	[ "$backends" -ge 1 ] && [ "$backends" -le 200 ] || die "--backends must be 1..200"
	[ "$clients" -ge 0 ] && [ "$clients" -le 16000 ] || die "--clients must be 0..16000"
	case "$backend_mode" in "" | dsr | ipip) ;; *) die "--backend-mode must be dsr or ipip" ;; esac
	[[ $vips =~ ^[0-9]+$ ]] && [ "$vips" -ge 1 ] && [ "$vips" -le 254 ] || die "--vips must be 1..254"
	[ -f "$root/build/bpf/pass.bpf.o" ] || die "needs $root/build/bpf/pass.bpf.o (make)"
	if [ "$serve" -eq 1 ] && [ ! -x "$root/build/namesrv" ]; then
		die "--serve needs $root/build/namesrv (make build/namesrv)"
	fi
	ip netns list | grep -q "^$prefix-" && die "a rig named $prefix exists"

	node sw
	in_ns sw ip link add br0 type bridge
	in_ns sw ip link set br0 up

	node c
	veth c c0 02:00:00:00:00:02
	in_ns c ip addr add 198.18.0.2/16 dev c0
	in_ns c ip addr add 2001:2::2/64 dev c0 nodad
	in_ns c ip route add 198.18.100.0/24 via 198.18.0.1
	in_ns c ip -6 route add 2001:2:0:100::/64 via 2001:2::1
	if [ "$clients" -gt 0 ]; then
		for ((i = 1; i <= clients; i++)); do
			printf 'addr add 198.18.%d.%d/16 dev c0\n' $((64 + i / 256)) $((i % 256))
			printf 'addr add 2001:2::40:%x/64 dev c0 nodad\n' "$i"
		done | in_ns c ip -batch -
	fi

	node lb
	veth lb lb0 02:00:00:00:00:01
	lb_port_pass lb0
	in_ns lb ip addr add 198.18.0.1/16 dev lb0
	in_ns lb ip addr add 2001:2::1/64 dev lb0 nodad
	in_ns lb sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	in_ns lb ip route add 198.18.3.0/24 via 198.18.1.11
	in_ns lb ip -6 route add 2001:2:0:300::/64 via 2001:2::1:11
	if [ "$lb_ports" -eq 2 ]; then
		veth lb lb1 02:00:00:00:00:03
		lb_port_pass lb1
		in_ns lb ip addr add 198.18.0.3/16 dev lb1
		in_ns lb ip addr add 2001:2::3/64 dev lb1 nodad
		in_ns lb ip route add 198.18.1.13/32 dev lb1
		in_ns lb ip -6 route add 2001:2::1:13/128 dev lb1
	fi

	for ((k = 1; k <= backends; k++)); do
		node "b$k"
		veth "b$k" eth0 "$(mac_of_backend "$k")"
		in_ns "b$k" ip addr add "198.18.1.$((10 + k))/16" dev eth0
		in_ns "b$k" ip addr add "2001:2::1:$((10 + k))/64" dev eth0 nodad
		# answers to the many client sources go through the client's main address: one
		# neighbour entry per backend instead of one per source (the kernel's neighbour
		# table is shared by all namespaces and overflows at 1024 entries by default)
		in_ns "b$k" ip route add 198.18.64.0/18 via 198.18.0.2
		in_ns "b$k" ip -6 route add 2001:2::40:0/112 via 2001:2::2
		if [ "$static_neigh" -eq 1 ]; then
			local dev=lb0
			[ "$lb_ports" -eq 2 ] && [ "$k" -eq 3 ] && dev=lb1
			in_ns lb ip neigh replace "198.18.1.$((10 + k))" dev $dev \
				lladdr "$(mac_of_backend "$k")" nud permanent
			in_ns lb ip neigh replace "2001:2::1:$((10 + k))" dev $dev \
				lladdr "$(mac_of_backend "$k")" nud permanent
		fi
	done
	backends_up
	print_env >"/run/limpet-rig/$prefix.env"
}

vip_list() {
	local i out=
	for ((i = 1; i <= vips; i++)); do out+="${out:+,}198.18.100.$i"; done
	for ((i = 1; i <= vips; i++)); do out+=",2001:2:0:100::$i"; done
	echo "$out"
}

# backends_up: every backend set up (--backend-mode) and serving (--serve), as asked
backends_up() {
	local k
	mkdir -p /run/limpet-rig
	if [ -n "$backend_mode" ]; then
		for ((k = 1; k <= backends; k++)); do setup_backend "$k"; done
	fi
	if [ "$serve" -eq 1 ]; then
		for ((k = 1; k <= backends; k++)); do serve_backend "$k"; done
	fi
}

# setup_backend K: VIPs on lo, sysctls and (ipip) the decap program, by limpet-backend itself
setup_backend() {
	local out
	out=$(nsx "b$1" "$root/user/backend/limpet-backend" setup --vip "$(vip_list)" \
		--mode "$backend_mode" --iface eth0 2>&1) ||
		die "limpet-backend setup in b$1 failed:"$'\n'"$out"
}

# serve_backend K: namesrv in bK, detached from our stdout (callers read `up`'s output to
# its end), recorded for `down`; returns once it listens
serve_backend() {
	local k=$1 pid i log="/run/limpet-rig/$prefix-b$1.namesrv.log"
	# nsenter itself (not a function: a subshell) so that $! is namesrv: nsenter execs it
	nsenter --net="/run/netns/$(ns "b$k")" "$root/build/namesrv" --name "b$k" --port 80 \
		--udp-port 80 </dev/null >"$log" 2>&1 &
	pid=$!
	disown "$pid"
	echo "b$k $pid" >>"/run/limpet-rig/$prefix.pids"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || die "namesrv in b$k exited: $(cat "$log")"
		[ -n "$(nsx "b$k" ss -Hltn 'sport = :80')" ] && return 0
		sleep 0.1
	done
	die "namesrv in b$k does not listen on port 80 after 5 s"
}

print_env() {
	echo "RIG_PREFIX=$prefix"
	echo "RIG_BACKENDS=$backends"
	echo "RIG_CLIENTS=$clients"
	echo "RIG_LB_PORTS=$lb_ports"
	echo "RIG_NS_LB=$(ns lb)"
	echo "RIG_NS_CLIENT=$(ns c)"
	echo "RIG_SERVE=$serve"
	echo "RIG_BACKEND_MODE=$backend_mode"
	echo "RIG_VIPS=$(vip_list)"
	echo "RIG_TOPOLOGY=$topology"
	echo "RIG_NS_GEN=$(ns g)"
}

do_down() {
	[ -n "$prefix" ] || die "down: which rig? (--prefix or RIG_PREFIX)"
	local n p i ino alive procs=() env="/run/limpet-rig/$prefix.env"
	# ipip backends: detach the decap through libxdp, which may hold state in the host's bpffs
	if grep -qx 'RIG_BACKEND_MODE=ipip' "$env" 2>/dev/null && command -v xdp-loader >/dev/null; then
		for n in $(ip netns list | awk '{print $1}' | grep "^$prefix-b[0-9]" || true); do
			nsenter --net="/run/netns/$n" xdp-loader unload eth0 --all >/dev/null 2>&1 || true
		done
	fi
	for n in $(ip netns list | awk '{print $1}' | grep "^$prefix-" || true); do
		# what runs there: namesrv (also listed in $prefix.pids) and anything tests started
		ino=$(stat -L -c %i "/run/netns/$n" 2>/dev/null || true)
		for p in $(ip netns pids "$n" 2>/dev/null || true); do
			kill "$p" 2>/dev/null && procs+=("$p:$ino")
		done
		ip netns del "$n"
	done
	# a namespace lives on (veths, ports) until its last process exits: wait, then insist on
	# the processes still in it (same namespace inode: not a recycled pid)
	in_its_ns() { [ "$(stat -L -c %i "/proc/${1%%:*}/ns/net" 2>/dev/null)" = "${1#*:}" ]; }
	for ((i = 0; i < 30; i++)); do
		alive=0
		for p in "${procs[@]}"; do in_its_ns "$p" && alive=1 || true; done
		[ "$alive" -eq 0 ] && break
		sleep 0.1
	done
	for p in "${procs[@]}"; do in_its_ns "$p" && kill -9 "${p%%:*}" 2>/dev/null || true; done
	rm -f "$env" "/run/limpet-rig/$prefix.pids" "/run/limpet-rig/$prefix"-b*.namesrv.log
	rm -rf "/run/limpet-rig/$prefix.bird"
}

do_exec() {
	[ -n "$prefix" ] || die "exec: which rig? (RIG_PREFIX)"
	local n=$1
	shift
	case "$n" in client) n=c ;; gen) n=g ;; esac
	[ -e "/run/netns/$prefix-$n" ] || die "no node $n in rig $prefix"
	# nsenter, not `ip netns exec`: keep the host's /sys so bpffs pins stay shared
	exec nsenter --net="/run/netns/$prefix-$n" "$@"
}

do_run() {
	[ ${#cmd[@]} -gt 0 ] || die "run: no command after --"
	[ -n "$prefix" ] || prefix="lp$$"
	trap 'do_down' EXIT INT TERM
	do_up
	set -a
	# shellcheck disable=SC1090
	. "/run/limpet-rig/$prefix.env"
	set +a
	"${cmd[@]}"
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ $# -ge 1 ] || die "usage: rig.sh up|down|exec|env|run ..."
verb=$1
shift
cmd=()
case "$verb" in
up) parse_up_opts "$@"; do_up; print_env ;;
down) parse_up_opts "$@"; do_down ;;
exec) [ $# -ge 2 ] || die "usage: rig.sh exec NODE CMD..."; do_exec "$@" ;;
env) parse_up_opts "$@"; cat "/run/limpet-rig/$prefix.env" ;;
run) parse_up_opts "$@"; do_run ;;
-h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0" ;;
*) die "unknown verb $verb" ;;
esac
