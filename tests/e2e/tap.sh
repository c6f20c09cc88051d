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
