#!/usr/bin/env bash
# The man pages (man/): each renders without a warning, and each is kept true to the code:
#  - limpetd.8 against `limpetd --help`, limpetctl.8 against `limpetctl --help` and every
#    command's own --help, limpet-backend.8 against `limpet-backend --help`: an option (or a
#    limpetctl command) in one and not in the other fails, naming it;
#  - limpet.json.5 against the validator: per object kind, the fields of its FIELDS section
#    against parse.c's known[] lists, both ways, and each documented field fed to
#    `limpetd --check` in a minimal document (it must not be an unknown field); its REFUSED
#    FIELDS against parse.c's refused[] lists (and the validator refuses each); its SERVER
#    STATE against limpetd's read-only server fields.
# TAP output. MAN_DIR and BUILD override where the pages and the binaries are (the test of
# this test points MAN_DIR at a doctored copy).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/tap.sh

MAN_DIR=${MAN_DIR:-man}
BUILD=${BUILD:-build}
PARSE=user/config/parse.c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for b in limpetd limpetctl limpet-backend; do
	[ -x "$BUILD/$b" ] || { echo "Bail out! $BUILD/$b missing (make $BUILD/$b)"; exit 1; }
done
command -v man >/dev/null && command -v groff >/dev/null ||
	{ echo "Bail out! man or groff missing (scripts/deps.sh)"; exit 1; }

# --- helpers ----------------------------------------------------------------------------------

# diff_sets WHAT A B NAME_A NAME_B: lines of file A not in B and of B not in A, into $why.
diff_sets() {
	local what=$1 a=$2 b=$3 na=$4 nb=$5 x
	why=
	[ -s "$a" ] || { why="no $what found in $na (the extraction broke)"; return 1; }
	[ -s "$b" ] || { why="no $what found in $nb (the extraction broke)"; return 1; }
	for x in $(comm -23 <(sort -u "$a") <(sort -u "$b")); do
		why+="$what $x is in $na but not in $nb"$'\n'
	done
	for x in $(comm -13 <(sort -u "$a") <(sort -u "$b")); do
		why+="$what $x is in $nb but not in $na"$'\n'
	done
	[ -z "$why" ]
}

# Long options (--name) of a text, one per line.
long_opts() { grep -oE -- '(^|[^[:alnum:]-])--[a-z][a-z0-9-]*' | sed 's/^[^-]*//' | sort -u; }

# The text of section .SH NAME (up to the next .SH) of a man page, roff escapes of - undone.
man_section() {
	awk -v s="$2" '/^\.SH/ { on = ($0 == ".SH " s || $0 == ".SH \"" s "\"") ; next } on' "$1" |
		sed 's/\\-/-/g'
}

# --- 1. rendering -----------------------------------------------------------------------------

render_clean() {
	local f=$1 out
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	out+=$(groff -t -man -ww -z "$f" 2>&1)
	why=$out
	[ -z "$out" ]
}
for f in limpetd.8 limpetctl.8 limpet-backend.8 limpet.json.5; do
	tap "$f renders without warnings" render_clean "$MAN_DIR/$f"
done

# --- 2. options against --help ----------------------------------------------------------------

"$BUILD/limpetd" --help | long_opts >"$tmp/limpetd.help"
man_section "$MAN_DIR/limpetd.8" OPTIONS | long_opts >"$tmp/limpetd.man"
tap "limpetd.8 OPTIONS and limpetd --help have the same options" \
	diff_sets option "$tmp/limpetd.help" "$tmp/limpetd.man" "limpetd --help" "limpetd.8 OPTIONS"
# limpetctl: global options, command names, and each command's own options.
"$BUILD/limpetctl" --help >"$tmp/ctl.help"
sed -n '/^options:/,/^commands:/p' "$tmp/ctl.help" | long_opts >"$tmp/ctl.global.help"
man_section "$MAN_DIR/limpetctl.8" OPTIONS | long_opts >"$tmp/ctl.global.man"
tap "limpetctl.8 OPTIONS and limpetctl --help have the same global options" \
	diff_sets option "$tmp/ctl.global.help" "$tmp/ctl.global.man" "limpetctl --help" \
	"limpetctl.8 OPTIONS"

# commands: "farm list", "refresh", ... (two words when the second is lowercase)
sed -n '/^commands:/,/^$/p' "$tmp/ctl.help" |
	sed -nE 's/^  ([a-z]+)( ([a-z]+))?( |$).*/\1\2/p' | tr ' ' '_' | sort -u >"$tmp/ctl.cmd.help"
# in the page: ".B refresh ..." / ".BI "farm list " ..." entries of COMMANDS
man_section "$MAN_DIR/limpetctl.8" COMMANDS |
	awk '/^\.TP/ { tp = 1; next } tp { tp = 0; if ($1 ~ /^\.B/) print }' |
	sed -E 's/^\.BI? +"?//; s/\\f[A-Z]//g' |
	sed -nE 's/^([a-z]+)( ([a-z]+))?( |"|$).*/\1\2/p' | tr ' ' '_' | sort -u >"$tmp/ctl.cmd.man"
tap "limpetctl.8 COMMANDS and limpetctl --help have the same commands" \
	diff_sets command "$tmp/ctl.cmd.help" "$tmp/ctl.cmd.man" "limpetctl --help" \
	"limpetctl.8 COMMANDS"

: >"$tmp/ctl.cmdopts.help"
while read -r c; do
	# shellcheck disable=SC2086 # two words
	"$BUILD/limpetctl" ${c//_/ } --help 2>/dev/null | sed -n '/^options:/,/^$/p' | long_opts |
		grep -vx -- '--help' >>"$tmp/ctl.cmdopts.help"
done <"$tmp/ctl.cmd.help"
man_section "$MAN_DIR/limpetctl.8" COMMANDS | long_opts | grep -vx -- '--help' \
	>"$tmp/ctl.cmdopts.man"
tap "limpetctl.8 COMMANDS and each 'limpetctl COMMAND --help' have the same command options" \
	diff_sets option "$tmp/ctl.cmdopts.help" "$tmp/ctl.cmdopts.man" \
	"the commands' --help" "limpetctl.8 COMMANDS"

for v in LIMPET_API LIMPET_TOKEN_FILE; do
	env_doc() {
		why="$1 is in limpetctl --help but not in limpetctl.8 ENVIRONMENT"
		grep -q "\$$1" "$tmp/ctl.help" && man_section "$MAN_DIR/limpetctl.8" ENVIRONMENT |
			grep -qx "\.B $1"
	}
	tap "limpetctl.8 ENVIRONMENT documents $v" env_doc "$v"
done

"$BUILD/limpet-backend" --help >"$tmp/be.help"
grep -E '^  -' "$tmp/be.help" | long_opts >"$tmp/be.opts.help"
man_section "$MAN_DIR/limpet-backend.8" OPTIONS | long_opts >"$tmp/be.opts.man"
tap "limpet-backend.8 OPTIONS and limpet-backend --help have the same options" \
	diff_sets option "$tmp/be.opts.help" "$tmp/be.opts.man" "limpet-backend --help" \
	"limpet-backend.8 OPTIONS"
sed -n '1,3p' "$tmp/be.help" | grep -oE 'check\|setup\|teardown' | tr '|' '\n' |
	sort -u >"$tmp/be.cmd.help"
man_section "$MAN_DIR/limpet-backend.8" COMMANDS | awk '/^\.TP/ { getline; print $2 }' |
	sort -u >"$tmp/be.cmd.man"
tap "limpet-backend.8 COMMANDS and limpet-backend --help have the same commands" \
	diff_sets command "$tmp/be.cmd.help" "$tmp/be.cmd.man" "limpet-backend --help" \
	"limpet-backend.8 COMMANDS"

# --- 3. config fields against the validator ---------------------------------------------------

# parse.c: "kind field" for every name of a known[] list, kind from the enclosing function.
awk '
	/^(static )?void (cfg_parse_root|parse_[a-z]+)\(/ {
		fn = $0; sub(/\(.*/, "", fn); sub(/.* /, "", fn)
		kind = fn == "cfg_parse_root" ? "service" : substr(fn, 7)
	}
	/static const char \*const known\[\] = \{/ { on = 1 }
	on {
		line = $0
		while (match(line, /"[^"]+"/)) {
			print kind, substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
		}
		if ($0 ~ /\};/) on = 0
	}' "$PARSE" | sort -u >"$tmp/fields.code"

# limpet.json.5: under .SH FIELDS, ".SS Kind ..." then ".TP" + ".B field" per field.
man_section "$MAN_DIR/limpet.json.5" FIELDS | awk '
	/^\.SS/ { kind = tolower($2); next }
	/^\.TP/ { tp = 1; next }
	tp { tp = 0; if ($1 == ".B" && kind != "") print kind, $2 }' | sort -u >"$tmp/fields.man"

fields_match() {
	local x
	why=
	[ -s "$tmp/fields.code" ] || { why="no known[] field found in $PARSE"; return 1; }
	[ -s "$tmp/fields.man" ] || { why="no field found in limpet.json.5 FIELDS"; return 1; }
	while read -r x; do
		why+="${x% *} field \"${x#* }\" is accepted by the validator ($PARSE) but not documented in limpet.json.5"$'\n'
	done < <(comm -23 "$tmp/fields.code" "$tmp/fields.man")
	while read -r x; do
		why+="${x% *} field \"${x#* }\" is documented in limpet.json.5 but the validator ($PARSE) does not accept it"$'\n'
	done < <(comm -13 "$tmp/fields.code" "$tmp/fields.man")
	[ -z "$why" ]
}
tap "limpet.json.5 FIELDS and parse.c's known[] lists name the same fields" fields_match

# The validator itself: each documented field, set to null in a minimal valid document (null
# counts as absent, so no value problem can hide the answer), must not be an unknown field.
cat >"$tmp/base.json" <<'JSON'
{"serviceName": "mancheck",
 "tcp": {"frontend": [{"frontendId": 1, "address": "198.18.100.1", "port": "80",
                       "defaultFarmId": 1}],
         "farm": [{"farmId": 1, "probe": {"type": "tcp"},
                   "server": [{"serverId": 1, "address": "198.18.1.11"}]}]}}
JSON
jpath() {
	case $1 in
	service) echo '.' ;;
	layer) echo '.tcp' ;;
	frontend) echo '.tcp.frontend[0]' ;;
	farm) echo '.tcp.farm[0]' ;;
	probe) echo '.tcp.farm[0].probe' ;;
	server) echo '.tcp.farm[0].server[0]' ;;
	*) return 1 ;;
	esac
}
# with_field KIND FIELD: --check's stderr for the base document plus FIELD: null in KIND
with_field() {
	local p
	p=$(jpath "$1") || { echo "no object kind \"$1\""; return; }
	jq "$p += {\"$2\": null}" "$tmp/base.json" >"$tmp/probe.json" || return
	"$BUILD/limpetd" --check --config "$tmp/probe.json" 2>&1 >/dev/null
}
validator_accepts() {
	local kind field out
	why=
	"$BUILD/limpetd" --check --config "$tmp/base.json" >/dev/null 2>"$tmp/err" ||
		{ why="the base document is invalid: $(cat "$tmp/err")"; return 1; }
	# the probe must be able to fail: a bogus field is reported
	out=$(with_field server mancheckBogus)
	grep -q 'unknown field "mancheckBogus"' <<<"$out" ||
		{ why="limpetd --check does not report an unknown field"; return 1; }
	while read -r kind field; do
		out=$(with_field "$kind" "$field")
		if grep -q "unknown field \"$field\"\|no object kind" <<<"$out"; then
			why+="$kind field \"$field\" (limpet.json.5) is refused by limpetd --check: $out"$'\n'
		fi
	done <"$tmp/fields.man"
	[ -z "$why" ]
}
tap "limpetd --check accepts every field limpet.json.5 documents" validator_accepts

# Refused hosted-product fields: the page's REFUSED FIELDS against parse.c's refused[] lists,
# and the validator refuses each with a value that is not "off".
grep -oE '\{ "[A-Za-z]+", WHY_' "$PARSE" | sed -E 's/\{ "([A-Za-z]+)".*/\1/' | sort -u \
	>"$tmp/refused.code"
man_section "$MAN_DIR/limpet.json.5" "REFUSED FIELDS" | awk '/^\.TP/ { getline; print $2 }' |
	sort -u >"$tmp/refused.man"
tap "limpet.json.5 REFUSED FIELDS and parse.c's refused[] lists match" \
	diff_sets "refused field" "$tmp/refused.code" "$tmp/refused.man" "$PARSE" \
	"limpet.json.5 REFUSED FIELDS"
validator_refuses() {
	local f p out
	why=
	while read -r f; do
		case $f in
		vrackNetworkId) p='.tcp.farm[0]' ;;
		ssl) p='.tcp.frontend[0]' ;;
		*) p='.tcp.farm[0].server[0]' ;;
		esac
		jq "$p += {\"$f\": true}" "$tmp/base.json" >"$tmp/refused.json"
		out=$("$BUILD/limpetd" --check --config "$tmp/refused.json" 2>&1 >/dev/null)
		grep -q "\.$f: not supported by limpet" <<<"$out" ||
			why+="refused field $f: limpetd --check said: ${out:-nothing}"$'\n'
	done <"$tmp/refused.man"
	[ -z "$why" ]
}
tap "limpetd --check refuses every field of REFUSED FIELDS" validator_refuses

# The API's read-only server state fields.
sed -n '/service_server_state_fields\[\] = {/,/};/p' user/daemon/service.c | grep -oE '"[a-zA-Z]+"' |
	tr -d '"' | sort -u >"$tmp/state.code"
man_section "$MAN_DIR/limpet.json.5" "SERVER STATE (API)" | awk '/^\.TP/ { getline; print $2 }' |
	sort -u >"$tmp/state.man"
tap "limpet.json.5 SERVER STATE and limpetd's read-only server fields match" \
	diff_sets "read-only field" "$tmp/state.code" "$tmp/state.man" "user/daemon/service.c" \
	"limpet.json.5 SERVER STATE (API)"

echo "1..$n"
[ "$failed" -eq 0 ]
