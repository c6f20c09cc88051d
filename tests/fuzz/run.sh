#!/usr/bin/env bash
# The bounded fuzz run of `make test`: build build/fuzz_config, run it SECONDS (default 30) on
# a fresh copy of the seed corpus, print TAP. A crash names the input libFuzzer saved and the
# first lines of the sanitizer report. `make fuzz` is the long run.
#   usage: tests/fuzz/run.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-30}
build=build
bin=$build/fuzz_config
corpus=$build/fuzz-test-corpus
artifacts=$build/fuzz-artifacts
log=$build/fuzz-test.log
name="fuzz_config"

echo "1..1"
mkdir -p "$build"
if ! make --no-print-directory "$bin" >"$log" 2>&1; then
	echo "not ok 1 - $name: build failed (clang with libclang-rt-14-dev: make deps)"
	sed -n '1,20p' "$log" | sed 's/^/# /'
	exit 1
fi

rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
cp tests/fuzz/corpus/* "$corpus/"
# the same options as `make fuzz` (FUZZ_ARGS); the outer timeout only guards a hung run
UBSAN_OPTIONS=print_stacktrace=1 timeout --kill-after=10 $((secs + 60)) \
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-dict=tests/fuzz/fuzz_config.dict -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
rc=$?

done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)
if [ "$rc" -eq 0 ] && [ -n "$done_line" ]; then
	runs=$(awk '{ print $2 }' <<<"$done_line")
	took=$(awk '{ print $5 }' <<<"$done_line")
	echo "ok 1 - $name: $runs runs in $took s, no crash"
	exit 0
fi

crash=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/^Test unit written to //')
echo "not ok 1 - $name: exit $rc, ${crash:-no crash file} (log: $log)"
# the report: from the sanitizer's or the harness's first line, else the log's end
report=$(grep -nE '^==[0-9]+==ERROR|runtime error:|invariant broken|^==[0-9]+== ERROR' "$log" |
	head -1 | cut -d: -f1)
if [ -n "$report" ]; then
	sed -n "${report},$((report + 24))p" "$log" | sed 's/^/# /'
else
	tail -n 25 "$log" | sed 's/^/# /'
fi
[ -n "$crash" ] && echo "# reproduce: $bin $crash"
exit 1
