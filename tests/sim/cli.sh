#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `aidc sim` from the command line: malformed rows are reported with
# file:line, --skip-bad-rows counts them, usage errors exit 2, the built-in
# demo runs, and --generate writes a trace that reads back.
set -eu
AIDC=${AIDC_BIN:?AIDC_BIN is set by ctest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$tmp/bad.csv" <<'CSV'
timestamp,duration,num_gpus,gpu_time,cluster
2017-10-01 00:00:00,60,1,60,a
2017-10-01 00:00:05,sixty,1,60,a
2017-10-01 00:00:09,60,1,60,a
CSV
set +e
"$AIDC" sim --trace "$tmp/bad.csv" --format philly --nodes 1 > /dev/null 2> "$tmp/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "malformed row: exit $rc, want 1"
grep -q "bad.csv:3: duration 'sixty'" "$tmp/err" || fail "no file:line in: $(cat "$tmp/err")"

"$AIDC" sim --trace "$tmp/bad.csv" --nodes 1 --skip-bad-rows --json > "$tmp/out.json" 2> "$tmp/err"
grep -q '"bad_rows_skipped": 1' "$tmp/out.json" || fail "skip count missing"
grep -q '"finished": 2' "$tmp/out.json" || fail "two good rows should finish"
grep -q "skipped 1 bad rows" "$tmp/err" || fail "no skip notice on stderr"

set +e
"$AIDC" sim --policy nosuch > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown policy: exit $rc, want 2"
"$AIDC" sim --nodes 2 --vc-file x.csv > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--nodes with --vc-file: exit $rc, want 2"
"$AIDC" sim --compat helios --nodes 2 > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--compat helios without --vc-file: exit $rc, want 2"
set -e

"$AIDC" sim > "$tmp/demo.txt"
grep -q "^FIFO " "$tmp/demo.txt" || fail "demo has no FIFO row"
grep -q "^Tiresias+bf " "$tmp/demo.txt" || fail "demo has no Tiresias+bf row"

"$AIDC" sim --generate 200 --profile venus --out "$tmp/g.trace"
head -1 "$tmp/g.trace" | grep -q "^# aidc-trace 1$" || fail "no version line"
"$AIDC" sim --trace "$tmp/g.trace" --policy qssf --backfill --cluster \
	tests/sim/scenarios/two4.cluster --json > "$tmp/g.json"
grep -q '"trace_jobs": 200' "$tmp/g.json" || fail "generated trace did not read back"
"$AIDC" sim --help | grep -q -- "--vc-scale" || fail "help lacks --vc-scale"
echo "cli: ok"
