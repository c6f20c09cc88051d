#!/usr/bin/env bash
# make demo: limpet on the veth rig, end to end. Brings up a rig (3 backends answering with
# their name, weights 1:2:3, 96 client addresses), starts limpetd with examples/demo.json,
# sends real HTTP/UDP clients through the VIPs and prints who went where; then changes a
# weight and disables a server (SIGHUP) and prints who moved. The rig is deleted at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${RIG_PREFIX:-}" ]; then
	exec "$root/scripts/rig.sh" run --backends 3 --clients 96 --serve --backend-mode ipip \
		-- "$0" "$@"
fi
. "$root/scripts/lib.sh"
work=$(mktemp -d)
trap 'limpetd_stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cfg=$work/demo.json
cp "$root/examples/demo.json" "$cfg"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# table FILE: "client server requests all-same" for each source line of rigclient, in two
# columns, then the clients per server
table() {
	awk '{ same = "yes"; for (i = 3; i <= NF; i++) if ($i != $2) same = "NO"
	       printf "%-16s %-3s %d %s\n", $1, $2, NF - 1, same }' "$1" >"$work/rows"
	local half=$(( ($(wc -l <"$work/rows") + 1) / 2 ))
	printf '   %-16s %-6s %-4s %-4s     %-16s %-6s %-4s %-4s\n' client server reqs same \
		client server reqs same
	paste -d'|' <(head -n "$half" "$work/rows") <(tail -n +"$((half + 1))" "$work/rows") |
		awk -F'|' '{ split($1, a, " "); split($2, b, " ");
			printf "   %-16s %-6s %-4s %-4s     %-16s %-6s %-4s %-4s\n",
				a[1], a[2], a[3], a[4], b[1], b[2], b[3], b[4] }'
	printf '   clients per server:'
	awk '{ n[$2]++ } END { for (s in n) printf " %s=%d", s, n[s]; print "" }' "$1" |
		tr ' ' '\n' | sort | tr '\n' ' '
	echo
}

# moved OLD NEW: the sources whose server changed
moved() { join <(sort "$1") <(sort "$2") | awk '$2 != $3 { print "   " $1 ": " $2 " -> " $3 }'; }

farm1_server() {	# farm1_server ADDR WEIGHT STATUS: edit one server of farm 1 (web)
	sed -i -E "s/(\"address\": \"$1\", \"port\": 80, \"weight\": )[0-9]+, \"status\": \"[a-z]+\"/\1$2, \"status\": \"$3\"/" "$cfg"
}

say "limpetd on the LB (examples/demo.json: 3 farms over b1 b2 b3, weights 1:2:3)"
limpetd_start "$cfg" || { cat "$LIMPETD_LOG"; exit 1; }
sed 's/^/   /' "$LIMPETD_LOG"

say "1. source-IP stickiness: 64 clients x 5 TCP connections to 198.18.100.1:80 (dsr)"
clients http 198.18.100.1 "$(client_base4 1)" 64 5 >"$work/a0"
table "$work/a0"

say "2. per-connection balancing (stickiness null): 8 clients x 5 connections to 198.18.100.2:80 (ipip)"
clients http 198.18.100.2 "$(client_base4 1)" 8 5 | sed 's/^/   /'

say "3. IPv6: 8 clients x 5 connections to [2001:2:0:100::1]:80 (dsr)"
clients http 2001:2:0:100::1 "$(client_base6 1)" 8 5 | sed 's/^/   /'

say "4. UDP: 8 clients x 5 datagrams to 198.18.100.1:80 (dsr)"
clients udp 198.18.100.1 "$(client_base4 1)" 8 5 | sed 's/^/   /'

say "5. weights 1:2:3 -> 3:2:1 (SIGHUP): the hosted product would rebalance; limpet keeps known clients"
farm1_server 198.18.1.11 3 active
farm1_server 198.18.1.13 1 active
limpetd_hup && tail -1 "$LIMPETD_LOG" | sed 's/^/   /'
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a1"
echo "   known clients that moved: $(moved "$work/a0" "$work/a1" | wc -l) of 64"
clients http 198.18.100.1 "$(client_base4 65)" 32 1 >"$work/n1"
printf '   32 new clients follow the new weights:'
awk '{ n[$2]++ } END { for (s in n) printf " %s=%d", s, n[s]; print "" }' "$work/n1"

say "6. b2 disabled (status inactive, SIGHUP): only its clients move"
farm1_server 198.18.1.12 2 inactive
limpetd_hup && tail -1 "$LIMPETD_LOG" | sed 's/^/   /'
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a2"
moved "$work/a1" "$work/a2"
echo "   moved: $(moved "$work/a1" "$work/a2" | wc -l) of 64 (b2 had $(awk '$2 == "b2"' "$work/a1" | wc -l))"

say "7. b2 back (SIGHUP): nobody is taken from the others"
farm1_server 198.18.1.12 2 active
limpetd_hup && tail -1 "$LIMPETD_LOG" | sed 's/^/   /'
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a3"
echo "   known clients that moved: $(moved "$work/a2" "$work/a3" | wc -l) of 64"

say "counters (bpftool map dump pinned /sys/fs/bpf/limpet/demo/verdicts, summed over CPUs)"
verdicts demo | awk '$2 { printf "   %-18s %d\n", $1, $2 }'

say "stopping limpetd"
limpetd_stop
tail -3 "$LIMPETD_LOG" | sed 's/^/   /'
