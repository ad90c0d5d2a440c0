#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Determinism (STYLE.md 6, 17): the same inputs and seed give byte-identical
# outputs. Runs the simulator twice on a generated workload and on a scenario
# trace, under a preemptive policy and under backfill, and diffs everything.
set -eu
AIDC=${AIDC_BIN:?AIDC_BIN is set by ctest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$AIDC" sim --generate 1500 --seed 7 --nodes 8 --out "$tmp/gen.trace"
for pol in "tiresias" "qssf --backfill" "srtf"; do
	for k in 1 2; do
		# shellcheck disable=SC2086
		"$AIDC" sim --trace "$tmp/gen.trace" --policy $pol --nodes 8 --json \
			--jobs-csv "$tmp/jobs$k.csv" > "$tmp/sum$k.json"
		# shellcheck disable=SC2086
		"$AIDC" sim --trace "$tmp/gen.trace" --policy $pol --nodes 8 > "$tmp/text$k.txt"
	done
	for f in jobs sum text; do
		ext=csv; [ $f = sum ] && ext=json; [ $f = text ] && ext=txt
		if ! cmp -s "$tmp/${f}1.$ext" "$tmp/${f}2.$ext"; then
			echo "FAIL: policy '$pol': two runs gave different $f output"
			diff "$tmp/${f}1.$ext" "$tmp/${f}2.$ext" | head -20
			exit 1
		fi
	done
done
# The generator itself is deterministic too.
"$AIDC" sim --generate 1500 --seed 7 --nodes 8 --out "$tmp/gen2.trace"
cmp "$tmp/gen.trace" "$tmp/gen2.trace"
echo "determinism: ok"
