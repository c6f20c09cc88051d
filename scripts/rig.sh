#!/usr/bin/env bash
# limpet veth test rig (DESIGN.md section 6).
#
#   rig.sh up   [--prefix P] [--backends K] [--clients N] [--lb-ports 1|2] [--static-neigh]
#   rig.sh down [--prefix P]
#   rig.sh exec NODE CMD...        NODE: client | lb | bK | sw   (run CMD in that namespace)
#   rig.sh env  [--prefix P]       print the rig's facts as shell variables
#   rig.sh run  [up options] -- CMD...
#                                  up, run CMD with the rig's variables exported, down (always)
#
# Topology, all on one bridge so that DSR works (addresses only from 198.18.0.0/15 and
# 2001:2::/48; nothing routes anywhere else):
#   P-sw   bridge br0
#   P-c    client  c0  198.18.0.2/16 2001:2::2/64, N extra sources 198.18.64.0+i, 2001:2::40:i
#   P-lb   LB      lb0 198.18.0.1/16 2001:2::1/64 (forwarding on); with --lb-ports 2 also lb1
#                  198.18.0.3/16, and backend 3 is routed through lb1 (a second egress port)
#   P-bK   backend eth0 198.18.1.(10+K)/16 2001:2::1:(10+K)/64, MAC 02:00:00:00:01:K
#   VIPs   198.18.100.0/24 and 2001:2:0:100::/64, routed by the client to the LB
# Every veth has TX checksum offload off: with it on, native XDP sees partial checksums and
# receivers drop the forwarded packets ("incorrect cksum").
# The namespace prefix is per run (default lp<pid>); `run` deletes the rig on every exit path.
set -euo pipefail

die() { echo "rig: $*" >&2; exit 2; }

prefix=${RIG_PREFIX:-}
backends=3
clients=0
lb_ports=1
static_neigh=0

parse_up_opts() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--prefix) prefix=$2; shift 2 ;;
		--backends) backends=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--lb-ports) lb_ports=$2; shift 2 ;;
		--static-neigh) static_neigh=1; shift ;;
		--) shift; cmd=("$@"); return ;;
		*) die "unknown option $1" ;;
		esac
	done
}

ns() { echo "$prefix-$1"; }
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

node() {
	ip netns add "$(ns "$1")"
	in_ns "$1" ip link set lo up
	in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

do_up() {
	[ -n "$prefix" ] || prefix="lp$$"
	[ "$backends" -ge 1 ] && [ "$backends" -le 200 ] || die "--backends must be 1..200"
	[ "$clients" -ge 0 ] && [ "$clients" -le 16000 ] || die "--clients must be 0..16000"
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
	in_ns lb ip addr add 198.18.0.1/16 dev lb0
	in_ns lb ip addr add 2001:2::1/64 dev lb0 nodad
	in_ns lb sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	if [ "$lb_ports" -eq 2 ]; then
		veth lb lb1 02:00:00:00:00:03
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
		if [ "$static_neigh" -eq 1 ]; then
			local dev=lb0
			[ "$lb_ports" -eq 2 ] && [ "$k" -eq 3 ] && dev=lb1
			in_ns lb ip neigh replace "198.18.1.$((10 + k))" dev $dev \
				lladdr "$(mac_of_backend "$k")" nud permanent
			in_ns lb ip neigh replace "2001:2::1:$((10 + k))" dev $dev \
				lladdr "$(mac_of_backend "$k")" nud permanent
		fi
	done
	mkdir -p /run/limpet-rig
	print_env >"/run/limpet-rig/$prefix.env"
}

print_env() {
	echo "RIG_PREFIX=$prefix"
	echo "RIG_BACKENDS=$backends"
	echo "RIG_CLIENTS=$clients"
	echo "RIG_LB_PORTS=$lb_ports"
	echo "RIG_NS_LB=$(ns lb)"
	echo "RIG_NS_CLIENT=$(ns c)"
}

do_down() {
	[ -n "$prefix" ] || die "down: which rig? (--prefix or RIG_PREFIX)"
	local n
	for n in $(ip netns list | awk '{print $1}' | grep "^$prefix-" || true); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$n"
	done
	rm -f "/run/limpet-rig/$prefix.env"
}

do_exec() {
	[ -n "$prefix" ] || die "exec: which rig? (RIG_PREFIX)"
	local n=$1
	shift
	case "$n" in client) n=c ;; esac
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
-h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown verb $verb" ;;
esac
