#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replays of the real traces in ../shared/traces (or $AIDC_TRACES_DIR):
# all of philly-pollux on a single 352 x 8 pool (every job must finish), and
# --compat helios on philly_vc.csv (the Helios window: 68,503 jobs). SKIPs with
# a printed reason when the traces are absent.
set -eu
AIDC=${AIDC_BIN:?AIDC_BIN is set by ctest}
T=${AIDC_TRACES_DIR:-../shared/traces}
P=$T/philly-pollux/philly.csv
V=$T/philly-meta/philly_vc.csv
if [ ! -r "$P" ] || [ ! -r "$V" ]; then
	echo "SKIP: $P or $V not found (set AIDC_TRACES_DIR)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$AIDC" sim --trace "$P" --format philly --policy fifo --nodes 352 --gpus-per-node 8 \
	--json --jobs-csv "$tmp/jobs.csv" > "$tmp/p.json"
grep -q '"trace_jobs": 82247' "$tmp/p.json" || fail "philly: not 82247 jobs"
grep -q '"finished": 82247' "$tmp/p.json" || fail "philly: not every job finished"
[ "$(wc -l < "$tmp/jobs.csv")" -eq 82248 ] || fail "philly: per-job CSV rows"
# No job starts before its submit time.
awk -F, 'NR > 1 && $7 < $6 { bad++ } END { exit bad > 0 }' "$tmp/jobs.csv" ||
	fail "philly: a job started before it was submitted"

"$AIDC" sim --trace "$P" --policy tiresias --compat helios --vc-file "$V" --vc-scale 0.5 \
	--json > "$tmp/h.json"
grep -q '"jobs": 68503' "$tmp/h.json" || fail "helios window: not 68503 jobs"
grep -q '"finished": 68503' "$tmp/h.json" || fail "helios: not every job finished"
grep -q '"placement": "helios"' "$tmp/h.json" || fail "helios placement not used"
echo "traces: ok"
