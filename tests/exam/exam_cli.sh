#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `aidc exam` end to end with the cpu plugin: the quick exam passes and writes a
# valid versioned report; report renders self-contained HTML; compare works;
# collectives run on two virtual devices; bad input gives one clear line and a
# non-zero exit; every subcommand has --help.
set -u
AIDC="${AIDC_BIN:?AIDC_BIN not set}"
SRC="${AIDC_SOURCE_DIR:?}"
BIN="${AIDC_BINARY_DIR:?}"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

if [ ! -f "$BIN/plugins/aidc_dev_cpu.so" ]; then
  echo "SKIP: the cpu plugin is not built (OpenBLAS missing; scripts/deps.sh installs it)"; exit 77
fi

for sub in "" run list devices report compare; do
  "$AIDC" exam $sub --help > "$T/help" 2>&1 || fail "aidc exam $sub --help exited non-zero"
  grep -q usage "$T/help" || fail "aidc exam $sub --help printed no usage"
done

# The quick exam (label exam): must pass, report must validate.
"$AIDC" exam run --plugin cpu --level quick --out "$T/a.json" > "$T/table" 2> "$T/progress" \
  || { cat "$T/table" "$T/progress"; fail "quick exam on cpu did not pass"; }
grep -q '\[ 1/' "$T/progress" || fail "no progress on stderr"
grep -q 'verdict: pass' "$T/table" || fail "no pass verdict in the table"
python3 "$SRC/tests/exam/validate_report.py" "$T/a.json" || fail "report does not validate"

# A second run with a different seed for compare; JSON on stdout.
"$AIDC" exam run --plugin cpu --questions gemm.f32.1024,mem.copy.64m --seed 7 --json --quiet \
  > "$T/b.json" || fail "exam run --json failed"
python3 "$SRC/tests/exam/validate_report.py" "$T/b.json" || fail "--json report does not validate"
"$AIDC" exam compare "$T/a.json" "$T/b.json" > "$T/cmp" || fail "compare failed"
grep -q 'geometric mean' "$T/cmp" || fail "compare printed no geometric mean"
"$AIDC" exam compare --json "$T/a.json" "$T/b.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["common"]==2, d' \
  || fail "compare --json"

"$AIDC" exam report "$T/a.json" --out "$T/a.html" || fail "report failed"
grep -q '<svg' "$T/a.html" || fail "HTML has no inline SVG chart"
if grep -Eiq '<script|src="http|href="http|@import' "$T/a.html"; then fail "HTML is not self-contained"; fi

# Collectives on two virtual devices.
"$AIDC" exam run --plugin cpu --plugin-config devices=2 --questions coll.peer.64m,coll.allreduce.16m --quiet --out "$T/c.json" \
  > /dev/null || fail "collectives on cpu devices=2"
python3 -c 'import json,sys; q=json.load(open(sys.argv[1]))["questions"]; assert all(x["status"]=="pass" for x in q) and len(q)==2, q' "$T/c.json" \
  || fail "collective questions did not pass"

"$AIDC" exam devices --plugin cpu --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["devices"])>=1' \
  || fail "devices --json"
"$AIDC" exam list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)>=30' || fail "list --json"

# The plugin ABI conformance suite, shipped in aidc (what vendors run on their plugin).
"$AIDC" exam conformance --plugin cpu > "$T/conf" 2>&1 || { cat "$T/conf"; fail "conformance of cpu"; }
grep -q "^PASS: 0 failure(s)" "$T/conf" || fail "conformance: no PASS line"
grep -q "attention bf16 seq 5 causal: ok" "$T/conf" || fail "conformance: no 16-bit causal attention"
"$AIDC" exam conformance --plugin cpu --plugin-config devices=2 > "$T/conf" 2>&1 \
  || { cat "$T/conf"; fail "conformance of cpu devices=2"; }
"$AIDC" exam conformance --plugin /nonexistent/x.so > "$T/conf" 2>&1 && fail "conformance of a missing plugin passed"
grep -q "not found" "$T/conf" || fail "conformance of a missing plugin: no reason"

# A plugin built against the version-1 ABI header is still loaded and examined.
"$AIDC" exam run --plugin "$BIN/tests/dev/aidc_test_v1.so" --questions gemm.f32.bert-base-ffn,mem.copy.64m \
  --quiet --out "$T/v1.json" > /dev/null || fail "a version-1 plugin must pass its exam"
python3 -c 'import json,sys; q=json.load(open(sys.argv[1]))["questions"]; assert [x["status"] for x in q]==["pass","unsupported"], q' \
  "$T/v1.json" || fail "version-1 plugin: unexpected results"

# Bad input: one clear line on stderr, non-zero exit.
one_line_fail() { # expect-pattern command...
  local pat="$1"; shift
  "$@" > "$T/out" 2> "$T/err" && fail "'$*' succeeded"
  [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; fail "'$*' printed more than one line"; }
  grep -q "$pat" "$T/err" || { cat "$T/err"; fail "'$*' did not mention '$pat'"; }
}
one_line_fail "not found" "$AIDC" exam run --plugin /nonexistent/x.so
one_line_fail "no aidc_dev_nosuch.so" "$AIDC" exam run --plugin nosuch
one_line_fail "ABI version 99" "$AIDC" exam run --plugin "$BIN/tests/dev/aidc_test_badabi.so"
one_line_fail "no question matches" "$AIDC" exam run --plugin cpu --questions nothing.like.this
printf '{"schema": "aidc-exam-report", "schema_version": 1, "questions": [' > "$T/bad.json"
one_line_fail "invalid JSON" "$AIDC" exam report "$T/bad.json"
sed 's/"schema_version": 1/"schema_version": 2/' "$T/a.json" > "$T/v2.json"
one_line_fail "schema version 2" "$AIDC" exam compare "$T/a.json" "$T/v2.json"
one_line_fail "not an exam report" "$AIDC" exam report "$SRC/tests/exam/not_a_report.json"
"$AIDC" exam run > /dev/null 2>&1; [ $? -eq 2 ] || fail "run without --plugin must exit 2"

# ---- QA regressions ----
# --out into a missing directory used to fail only after the whole exam.
one_line_fail "cannot write" "$AIDC" exam run --plugin cpu --questions gemm.f32.1024 --quiet --out "$T/no/x.json"
one_line_fail "cannot write" "$AIDC" exam report "$T/a.json" --out "$T/no/x.html"
# A directory used to give "read error" (report) or "not found" (nothing else).
one_line_fail "is a directory" "$AIDC" exam report "$T"
# A failed report leaves an existing --out untouched, and no temporary behind.
echo keep > "$T/keep.html"
one_line_fail "invalid JSON" "$AIDC" exam report "$T/bad.json" --out "$T/keep.html"
[ "$(cat "$T/keep.html")" = keep ] || fail "a failed report overwrote --out"
ls "$T" | grep -q '\.tmp-' && fail "temporary file left behind: $(ls "$T")"
# A question id twice in one report used to be accepted.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["questions"].append(d["questions"][0]); json.dump(d,open(sys.argv[2],"w"))' "$T/a.json" "$T/dup.json"
one_line_fail "appears twice" "$AIDC" exam compare "$T/a.json" "$T/dup.json"
# Reports with no question in common used to "compare" with a mean of 0.000, exit 0.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["questions"]=[q for q in d["questions"] if q["id"]=="gemm.f32.1024"]; json.dump(d,open(sys.argv[2],"w"))' "$T/b.json" "$T/only_gemm.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["questions"]=[q for q in d["questions"] if q["id"]=="mem.copy.64m"]; json.dump(d,open(sys.argv[2],"w"))' "$T/b.json" "$T/only_mem.json"
one_line_fail "no question in common" "$AIDC" exam compare "$T/only_gemm.json" "$T/only_mem.json"
# A partial overlap says how many questions were left out.
"$AIDC" exam compare "$T/only_gemm.json" "$T/b.json" | grep -q "not compared: 0 question(s) only in A, 1 only in B" \
  || fail "compare does not report questions only in one report"
"$AIDC" exam compare --json "$T/only_gemm.json" "$T/b.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["only_b"]==1 and d["common"]==1, d' \
  || fail "compare --json only_a/only_b"
echo "PASS"
