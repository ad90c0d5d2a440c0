#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A deliberately wrong plugin (plugins/example built with EXAMPLE_WRONG: its
# GEMM drops a term) must fail the exam visibly: exit 1, status "wrong",
# verdict "fail", and questions it cannot do marked "unsupported", not failed.
set -u
AIDC="${AIDC_BIN:?}"; SRC="${AIDC_SOURCE_DIR:?}"; PLUGIN="${1:?plugin path}"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$AIDC" exam run --plugin "$PLUGIN" --questions gemm.f32.bert-base-ffn,gemm.f16.1024,mem.copy.64m \
  --out "$T/w.json" > "$T/table" 2> "$T/progress"
rc=$?
cat "$T/table" "$T/progress"
[ $rc -eq 1 ] || fail "a wrong plugin must make 'exam run' exit 1, got $rc"
grep -q "WRONG ANSWER" "$T/progress" || fail "no visible WRONG ANSWER in the progress"
grep -q "FAILED" "$T/table" || fail "no FAILED line in the table"
python3 "$SRC/tests/exam/validate_report.py" "$T/w.json" || fail "report does not validate"
python3 - "$T/w.json" <<'PY' || fail "report contents"
import json, sys
r = json.load(open(sys.argv[1]))
st = {q["id"]: q for q in r["questions"]}
assert r["summary"]["verdict"] == "fail", r["summary"]
g = st["gemm.f32.bert-base-ffn"]
assert g["status"] == "wrong" and g["score"] == 0 and g["check"]["max_err"] > 1, g
assert st["gemm.f16.1024"]["status"] == "unsupported", st["gemm.f16.1024"]
assert st["mem.copy.64m"]["status"] == "unsupported", st["mem.copy.64m"]
PY
echo "PASS"
