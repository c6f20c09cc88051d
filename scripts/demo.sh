#!/usr/bin/env bash
# make demo: limpet on the veth rig, end to end. Brings up a rig (3 backends answering with
# their name, weights 1:2:3, 96 client addresses), starts limpetd with examples/demo.json,
# sends real HTTP/UDP clients through the VIPs (and HTTP clients with cookie jars through the
# L7 proxy) and prints who went where; then changes
# weights and disables a server through the API (limpetctl: staged, then refresh), restarts
# limpetd with kill -9 (the new one adopts the running dataplane) and prints who moved.
# The rig is deleted at the end.
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

ctl() { "$root/build/limpetctl" "$@" 2>&1 | sed 's/^/   /'; }

say "limpetd on the LB (examples/demo.json: 5 farms over b1 b2 b3, weights 1:2:3)"
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

say "4b. cookie stickiness (http frontend 198.18.100.3:80, limpetd's L7 proxy): 12 clients x 5 requests, each with its cookie jar"
printf '   %-16s %-6s %-28s %s\n' client server "first response's Set-Cookie" "later Set-Cookies"
for i in $(seq 1 12); do
	src=$(client_base4 "$i")
	in_client curl -s -D "$work/h$i" --interface "$src" -c "$work/jar$i" -b "$work/jar$i" \
		$(printf 'http://198.18.100.3/ %.0s' 1 2 3 4 5) >"$work/r$i"
	printf '   %-16s %-6s %-28s %s\n' "$src" "$(sort -u "$work/r$i" | paste -sd,)" \
		"$(grep -i -m1 '^set-cookie' "$work/h$i" | cut -d';' -f1 | cut -c13-)" \
		"$(($(grep -ci '^set-cookie' "$work/h$i") - 1))"
done

say "5. weights 1:2:3 -> 3:2:1 through the API: staged first, nothing moves until refresh"
echo "   \$ limpetctl server set tcp 1 1 weight=3; limpetctl server set tcp 1 3 weight=1"
ctl server set tcp 1 1 weight=3 >/dev/null
ctl server set tcp 1 3 weight=1 >/dev/null
echo "   \$ limpetctl pending"
ctl pending
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/s1"
echo "   before refresh, known clients that moved: $(moved "$work/a0" "$work/s1" | wc -l) of 64"
echo "   \$ limpetctl refresh   (the hosted product would rebalance; limpet keeps known clients)"
ctl refresh
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a1"
echo "   known clients that moved: $(moved "$work/a0" "$work/a1" | wc -l) of 64"
clients http 198.18.100.1 "$(client_base4 65)" 32 1 >"$work/n1"
printf '   32 new clients follow the new weights:'
awk '{ n[$2]++ } END { for (s in n) printf " %s=%d", s, n[s]; print "" }' "$work/n1"

say "6. b2 disabled (limpetctl server set tcp 1 2 status=inactive; refresh): only its clients move"
ctl server set tcp 1 2 status=inactive >/dev/null
ctl refresh | head -1
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a2"
moved "$work/a1" "$work/a2"
echo "   moved: $(moved "$work/a1" "$work/a2" | wc -l) of 64 (b2 had $(awk '$2 == "b2"' "$work/a1" | wc -l))"

say "7. b2 back (status=active; refresh): nobody is taken from the others"
ctl server set tcp 1 2 status=active >/dev/null
ctl refresh | head -1
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a3"
echo "   known clients that moved: $(moved "$work/a2" "$work/a3" | wc -l) of 64"

say "8. kill -9 limpetd, start it again without --config: it restores the applied config and adopts the running dataplane"
kill -9 "$LIMPETD_PID"
wait "$LIMPETD_PID" 2>/dev/null || true
LIMPETD_PID=
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a4"
echo "   with no limpetd running, known clients that moved: $(moved "$work/a3" "$work/a4" | wc -l) of 64"
limpetd_start "" || { cat "$LIMPETD_LOG"; exit 1; }
grep -E "restoring|adopted" "$LIMPETD_LOG" | sed 's/^/   /'
clients http 198.18.100.1 "$(client_base4 1)" 64 1 >"$work/a5"
echo "   after the restart, known clients that moved: $(moved "$work/a3" "$work/a5" | wc -l) of 64"

say "limpetctl stats (also: /metrics, bpftool map dump pinned /sys/fs/bpf/limpet/demo/verdicts)"
ctl stats

say "stopping limpetd"
limpetd_stop
tail -3 "$LIMPETD_LOG" | sed 's/^/   /'
