# shellcheck shell=bash disable=SC2154  # the variables and helpers of rig.sh, which sources it
# Sourced by scripts/rig.sh: `rig.sh up --topology cluster` (DESIGN.md section 8). Two limpet
# nodes behind a router that spreads the VIPs' flows over them by ECMP, each node's BIRD
# announcing what its limpetd puts in kernel table 100, with the router's BIRD (all from
# examples/bird/, with the rig's addresses, which are the examples' own):
#   P-c    client  c0 198.19.0.2/24, N extra sources 198.19.64.0+i (/32), routes 198.18.0.0/16
#                  via the router
#   P-r    router  rc 198.19.0.1/24 (client), ra 198.19.1.1/24 (node a), rb 198.19.2.1/24
#                  (node b), lan0 198.18.0.254/16 (the backends' segment, which their answers
#                  to the clients cross); ECMP over a and b with fib_multipath_hash_policy=1
#                  (5-tuple: the connections of one client cross both nodes); BIRD AS 65000
#   P-lba  node a  up0 198.19.1.2/24 (router), lan0 198.18.0.1/16 (bridge); BIRD AS 65010
#   P-lbb  node b  up0 198.19.2.2/24, lan0 198.18.0.2/16; BIRD AS 65010
#   P-bK   backends as in the bridge topology (eth0 198.18.1.(10+K)/16, the VIPs on lo with
#          --backend-mode dsr), answering the clients through the router (198.18.0.254)
#   P-sw   bridge br0: lan0 of the router and of both nodes, eth0 of the backends
# BIRD runs in P-r, P-lba and P-lbb with its files (config, control socket NODE.ctl, pid, log)
# in /run/limpet-rig/P.bird/; `down` kills it with the namespaces. limpetd is the user's to
# start: `--iface up0,lan0 --announce-table 100 --instance a|b`. The bridge ports of the nodes'
# lan0 run pass.bpf.o (the balancer redirects from up0 to lan0).

CLUSTER_TABLE=100

# link A IFA MACA B IFB MACB: a veth between the namespaces of nodes A and B
link() {
	ip link add "$2" netns "$(ns "$1")" address "$3" type veth \
		peer name "$5" netns "$(ns "$4")" address "$6"
	in_ns "$1" ethtool -K "$2" tx off >/dev/null
	in_ns "$4" ethtool -K "$5" tx off >/dev/null
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip link set "$5" up
}

# start_bird NODE CONF: BIRD in NODE's namespace; returns once its control socket answers
start_bird() {
	local dir=/run/limpet-rig/$prefix.bird i
	sed "s|^log syslog all;|log \"$dir/$1.log\" all;|" "$2" >"$dir/$1.conf"
	nsx "$1" bird -c "$dir/$1.conf" -s "$dir/$1.ctl" -P "$dir/$1.pid" ||
		die "bird in $1 did not start (bird -p -c $dir/$1.conf)"
	for ((i = 0; i < 50; i++)); do
		birdc -s "$dir/$1.ctl" show status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "bird in $1 does not answer on $dir/$1.ctl"
}

# lb_node X N: node X (a or b) on router link N (1 or 2)
lb_node() {
	local x=$1 n=$2
	node "lb$x"
	link r "r$x" "02:00:00:00:02:0$n" "lb$x" up0 "02:00:00:00:03:0$n"
	in_ns r ip addr add "198.19.$n.1/24" dev "r$x"
	in_ns "lb$x" ip addr add "198.19.$n.2/24" dev up0
	veth "lb$x" lan0 "02:00:00:00:00:0$n"
	in_ns sw ip link set "p-lb$x-lan0" xdpdrv obj "$root/build/bpf/pass.bpf.o" sec xdp
	in_ns "lb$x" ip addr add "198.18.0.$n/16" dev lan0
	in_ns "lb$x" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
}

up_cluster() {
	local k
	command -v bird >/dev/null || die "--topology cluster needs BIRD 2 (apt-get install bird2)"
	[ "$backends" -ge 1 ] && [ "$backends" -le 200 ] || die "--backends must be 1..200"
	[ "$clients" -ge 0 ] && [ "$clients" -le 16000 ] || die "--clients must be 0..16000"
	[ "$backend_mode" = ipip ] && die "--topology cluster: dsr backends only"
	ip netns list | grep -q "^$prefix-" && die "a rig named $prefix exists"
	mkdir -p "/run/limpet-rig/$prefix.bird"

	node sw
	in_ns sw ip link add br0 type bridge
	in_ns sw ip link set br0 up

	node r
	in_ns r sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.fib_multipath_hash_policy=1
	veth r lan0 02:00:00:00:00:fe
	in_ns r ip addr add 198.18.0.254/16 dev lan0

	node c
	link c c0 02:00:00:00:04:02 r rc 02:00:00:00:04:01
	in_ns c ip addr add 198.19.0.2/24 dev c0
	in_ns r ip addr add 198.19.0.1/24 dev rc
	in_ns c ip route add 198.18.0.0/16 via 198.19.0.1
	in_ns r ip route add 198.19.64.0/18 via 198.19.0.2
	for ((k = 1; k <= clients; k++)); do
		printf 'addr add 198.19.%d.%d/32 dev c0\n' $((64 + k / 256)) $((k % 256))
	done | in_ns c ip -batch -

	lb_node a 1
	lb_node b 2

	for ((k = 1; k <= backends; k++)); do
		node "b$k"
		veth "b$k" eth0 "$(mac_of_backend "$k")"
		in_ns "b$k" ip addr add "198.18.1.$((10 + k))/16" dev eth0
		in_ns "b$k" ip route add 198.19.0.0/16 via 198.18.0.254
	done
	backends_up

	start_bird r "$root/examples/bird/router.conf"
	start_bird lba "$root/examples/bird/lb-node.conf"
	sed 's/198\.19\.1\./198.19.2./g' "$root/examples/bird/lb-node.conf" \
		>"/run/limpet-rig/$prefix.bird/lbb.in"
	start_bird lbb "/run/limpet-rig/$prefix.bird/lbb.in"
	{
		print_env
		echo "RIG_NS_ROUTER=$(ns r)"
		echo "RIG_NS_LBA=$(ns lba)"
		echo "RIG_NS_LBB=$(ns lbb)"
		echo "RIG_BIRD_DIR=/run/limpet-rig/$prefix.bird"
		echo "RIG_ANNOUNCE_TABLE=$CLUSTER_TABLE"
	} >"/run/limpet-rig/$prefix.env"
}
