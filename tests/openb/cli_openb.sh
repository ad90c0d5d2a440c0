#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `aidc sim openb` end to end on a tiny fixture cluster: table, --json summary
# (per policy, allocation at 100% and 130% arrived), --csv curves, determinism,
# and usage errors. Needs only the aidc binary ($AIDC_BIN).
set -u
BIN=${AIDC_BIN:?AIDC_BIN not set}
FX=tests/openb/fixtures
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy all --seeds 2 \
	--quiet >"$TMP/table.txt" || fail "table run"
for p in fgd bestfit gpu-packing gpu-clustering dotprod random aidc-frag; do
	grep -q "^$p " "$TMP/table.txt" || fail "no row for $p in: $(cat "$TMP/table.txt")"
done

"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy fgd,aidc --seeds 3 \
	--json --csv "$TMP/curves.csv" --quiet >"$TMP/a.json" || fail "json run"
"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy fgd,aidc --seeds 3 \
	--json --quiet >"$TMP/b.json" || fail "second json run"
cmp -s "$TMP/a.json" "$TMP/b.json" || fail "same seeds gave different JSON"
for k in '"policy": "fgd"' '"policy": "aidc-frag"' alloc_pct_at_100 alloc_pct_at_130 frag_pct_at_100; do
	grep -q "$k" "$TMP/a.json" || fail "JSON lacks $k"
done
# The FGD paper's spellings are aliases of sched's names; output uses sched's names.
"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy gpupacking,gpu-clustering \
	--seeds 1 --json --quiet >"$TMP/c.json" || fail "alias run"
grep -q '"policy": "gpu-packing"' "$TMP/c.json" || fail "alias not reported by its name"
"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy gpupacking,gpu-packing \
	--quiet 2>"$TMP/err" && fail "a name and its alias accepted together"
head -1 "$TMP/curves.csv" | grep -q '^policy,arrived_pct,alloc_pct' || fail "CSV header"
n=$(wc -l <"$TMP/curves.csv")
[ "$n" -eq 263 ] || fail "CSV has $n lines, want 1 + 2 x 131"

"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy nosuch \
	2>"$TMP/err" && fail "unknown policy accepted"
grep -q "unknown policy" "$TMP/err" || fail "usage message: $(cat "$TMP/err")"
"$BIN" sim openb --node-list $FX/missing.csv --pod-list $FX/pods.csv --quiet 2>"$TMP/err" &&
	fail "missing node list accepted"
grep -q "missing.csv" "$TMP/err" || fail "error does not name the file: $(cat "$TMP/err")"

# ---- QA regressions ----
# A policy list names the bad item, and a policy given twice is refused.
"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy fgd,nosuch \
	--quiet 2>"$TMP/err" && fail "unknown policy in a list accepted"
grep -q "unknown policy 'nosuch'" "$TMP/err" || fail "message does not name the item: $(cat "$TMP/err")"
"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --policy fgd,fgd \
	--quiet 2>"$TMP/err"
[ $? -eq 2 ] || fail "a policy listed twice did not exit 2"
grep -q "listed twice" "$TMP/err" || fail "duplicate policy message: $(cat "$TMP/err")"
# A directory used to read as "empty file (no header row)".
"$BIN" sim openb --node-list "$TMP" --pod-list $FX/pods.csv --quiet 2>"$TMP/err" &&
	fail "a directory as node list accepted"
grep -q "is a directory" "$TMP/err" || fail "directory message: $(cat "$TMP/err")"
# --csv into a missing directory fails before the runs; a failed run leaves
# an existing --csv untouched and no temporary file behind.
"$BIN" sim openb --node-list $FX/nodes.csv --pod-list $FX/pods.csv --csv "$TMP/no/c.csv" \
	--quiet 2>"$TMP/err" && fail "--csv into a missing directory accepted"
[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "not one line: $(cat "$TMP/err")"
echo keep >"$TMP/keep.csv"
"$BIN" sim openb --node-list $FX/missing.csv --pod-list $FX/pods.csv --csv "$TMP/keep.csv" \
	--quiet 2>/dev/null && fail "missing node list accepted"
[ "$(cat "$TMP/keep.csv")" = keep ] || fail "a failed run overwrote --csv"
ls "$TMP" | grep -q '\.tmp-' && fail "temporary file left behind: $(ls "$TMP")"
python3 -m json.tool "$TMP/a.json" >/dev/null || fail "--json is not valid JSON"
echo "cli_openb: ok"
