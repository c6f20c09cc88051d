#!/usr/bin/env bash
# Run every test suite and end with one line `N passed, N failed`.
# Each suite prints TAP (`ok N - name` / `not ok N - name`); a suite that dies without
# reporting a failure counts as one failed test, so a crash is never a pass.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0

# suite NAME CMD...: run CMD, echo its output, add its ok/not ok lines to the totals
suite() {
	local name=$1 out rc p f
	shift
	echo "== $name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
}

rig() { ./scripts/rig.sh run "$@"; }

suite "maglev (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_maglev
suite "config (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_config
suite "config edit and diff (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_edit
suite "probe protocols (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_probe
suite "metrics (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_metrics
suite "health prober (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_health
suite "L7 policy: snapshot, pick, cookies, counters (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_l7_policy
suite "L7 engine: HTTP parsing and head rewriting (unit)" env CMOCKA_MESSAGE_OUTPUT=TAP build/test_l7_http
suite "man pages (render, cross-check)" tests/unit/check_man.sh
suite "fuzz (libFuzzer, 30 s)" tests/fuzz/run.sh 30
suite "apply (unit, balancer loaded in the rig LB)" rig --backends 9 --static-neigh -- \
	scripts/rig.sh exec lb env CMOCKA_MESSAGE_OUTPUT=TAP build/test_apply
suite "xdp (BPF_PROG_TEST_RUN)" rig --backends 3 --lb-ports 2 --static-neigh -- \
	scripts/rig.sh exec lb build/test_xdp
suite "live-frame rig (veth pair, smoke)" rig --topology pair -- build/bench_rig --smoke
suite "sticky table at scale (BPF_PROG_TEST_RUN)" rig --backends 3 --static-neigh -- \
	scripts/rig.sh exec lb build/test_sticky

suite "limpet-backend and namesrv (rig)" tests/e2e/test_backend.sh
suite "limpetd end to end (rig)" tests/e2e/test_limpetd.sh
suite "hitless restart (rig)" tests/e2e/test_restart.sh
suite "REST API end to end (rig)" tests/e2e/test_api.sh
suite "limpetctl (e2e)" tests/e2e/test_ctl.sh
suite "health probes end to end (rig)" tests/e2e/test_health.sh
suite "L7 proxy end to end: cookies, balancing, smuggling, limits (rig)" tests/e2e/test_l7.sh
suite "cluster: ECMP, BGP (BIRD), drain (rig)" tests/e2e/test_cluster.sh
suite "Debian package (e2e)" tests/e2e/test_deb.sh
suite "install and systemd (e2e)" tests/e2e/test_install.sh

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
