# TAP for the end-to-end tests (sourced): `tap NAME CMD...` runs the check CMD and prints
# `ok N - NAME`, or `not ok N - NAME` followed by $why (set by the check) as `# ` lines.
# n and failed count the checks; a test continuing a count sets them before sourcing this.
n=${n:-0}
failed=${failed:-0}
why=

tap() {
	local name=$1
	shift
	why=
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
		[ -n "$why" ] && echo "$why" | sed '/^$/d; s/^/# /'
	fi
}

# bail NAME: the run cannot go on (a fixture or limpetd does not start): `not ok 1 - NAME`, what
# comes on stdin as `# ` lines, the plan 1..1, exit 1
bail() {
	echo "not ok 1 - $1"
	sed 's/^/# /'
	echo "1..1"
	exit 1
}

# stops_clean [LOG...]: a check: limpetd_stop (scripts/lib.sh) ends with status 0 and no LOG
# (default $LIMPETD_LOG) holds an ASan, LSan or UBSan report
stops_clean() {
	local rc=0 logs=("${@:-$LIMPETD_LOG}")
	limpetd_stop || rc=$?
	if [ "$rc" -ne 0 ]; then
		why="limpetd exited with status $rc (ASan report?):"$'\n'
		why+=$(grep -A20 'ERROR: \|runtime error' "$LIMPETD_LOG" | head -40)
		return 1
	fi
	cat "${logs[@]}" 2>/dev/null |
		grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' || return 0
	why="sanitizer report in the log:"$'\n'
	why+=$(cat "${logs[@]}" 2>/dev/null | grep -A20 'ERROR: \|runtime error' | head -40)
	return 1
}
