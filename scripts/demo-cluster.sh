#!/usr/bin/env bash
# make demo-cluster: two limpet nodes behind a router's ECMP (DESIGN.md section 8). Brings up
# the cluster rig (scripts/rig.sh --topology cluster: a router running BIRD, two LB nodes each
# with its limpetd and its BIRD, 3 backends, clients behind the router), starts limpetd on
# both nodes with the same config, shows the router's ECMP route, the clients' connections
# spread over both nodes with each client on one server, then drains node a: the router drops
# it, and its clients keep their servers through node b. The rig is deleted at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${RIG_PREFIX:-}" ]; then
	exec "$root/scripts/rig.sh" run --topology cluster --backends 3 --clients 32 --serve \
		--backend-mode dsr -- "$0" "$@"
fi
. "$root/scripts/lib-cluster.sh"
svc=demo-cl
work=$(mktemp -d)
trap 'node_stop a || true; node_stop b || true; rm -rf "$work" /sys/fs/bpf/limpet/$svc@a \
	/sys/fs/bpf/limpet/$svc@b /run/limpet/$svc@* "$(node_run a)".* "$(node_run b)".*' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
indent() { sed 's/^/   /'; }

# spread FILE SYNS: per client, its servers and the node each connection crossed
spread() {
	awk 'NR == FNR { node[$2] = node[$2] ($1 == "ra" ? "a" : "b"); next }
	     { same = "yes"; for (i = 3; i <= NF; i++) if ($i != $2) same = "NO"
	       printf "%-14s %-4s %-6s %s\n", $1, $2, node[$1], same }' "$2" "$1" >"$work/rows"
	printf '%-14s %-4s %-6s %-4s    %-14s %-4s %-6s %s\n' client srv nodes same client srv nodes same
	paste -d' ' <(head -n 12 "$work/rows") <(sed -n 13,24p "$work/rows") |
		awk '{ printf "%-14s %-4s %-6s %-4s    %-14s %-4s %-6s %s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
}

# clients_round N: the 24 clients x 4 TCP connections to 198.18.100.1:80 (their servers in
# $work/cN, the node each connection crossed in $work/synN), shown by spread
clients_round() {
	syn_watch "$work/syn$1"
	cl_clients http 198.18.100.1 1 24 4 >"$work/c$1"
	syn_unwatch
	spread "$work/c$1" "$work/syn$1" | indent
}

say "the same config on node a and node b (serviceName $svc, hashSeed from it); BIRD on both and on the router"
cluster_config "$work/cfg.json" "$svc"
node_start a "$work/cfg.json" || { node_log a; exit 1; }
node_start b "$work/cfg.json" || { node_log b; exit 1; }
node_log a | grep -E "attached to|announce" | indent
echo "   waiting for BGP (BIRD connects 5 s after it starts)..."
wait_bgp
wait_hops 198.18.100.1 "198.19.1.2 198.19.2.2" >/dev/null
birdc_r show protocols | indent

say "the router: one ECMP route per VIP, both nodes as next hops (ip route, router namespace)"
in_router ip route show proto bird | indent

say "24 clients x 4 TCP connections to 198.18.100.1:80; the router spreads them by 5-tuple hash"
clients_round 0
echo "   (nodes: the node each connection crossed, from the router's links; same: one server for all 4)"
echo "   connections through a: $(grep -c '^ra' "$work/syn0"), through b: $(grep -c '^rb' "$work/syn0")"

say "limpetctl drain on node a: its VIPs are withdrawn, it keeps forwarding what still comes"
t0=$(date +%s%3N)
ctl a drain | indent
echo "   the router dropped node a $(wait_hops 198.18.100.1 198.19.2.2 10000 "$t0") ms after the drain started:"
in_router ip route show proto bird | indent

say "the same 24 clients again: every connection crosses b, each client keeps its server"
clients_round 1
echo "   clients whose server changed: $(join <(sort "$work/c0") <(sort "$work/c1") | awk '$2 != $6' | wc -l) of 24"

say "limpetctl shutdown on node a (nothing reaches it any more), then node b"
ctl a shutdown | indent
node_stop a || true
ctl b shutdown | indent
node_stop b || true
echo "   router's routes for the VIPs now: '$(in_router ip route show proto bird)'"
