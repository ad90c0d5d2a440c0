#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every cheat and fault of tests/exam/cheat_plugin.c must be caught with a
# clear message and fail its question; the exam goes on after a crash or a
# hang; the report on disk is valid JSON; no temporary file is left behind.
# The same plugin without a cheat must pass. Also: an ABI mismatch is refused.
set -u
AIDC="${AIDC_BIN:?}"; SRC="${AIDC_SOURCE_DIR:?}"; CHEAT="${1:?cheat plugin}"; BADABI="${2:?}"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# exam CHEAT WANT_STATUS PATTERN QUESTIONS [extra args]
exam() {
  local cheat="$1" want="$2" pat="$3" qs="$4"; shift 4
  rm -rf "$T/run"; mkdir "$T/run"
  AIDC_TEST_CHEAT="$cheat" "$AIDC" exam run --plugin "$CHEAT" --questions "$qs" \
    --out "$T/run/r.json" "$@" > "$T/run/table" 2> "$T/run/progress"
  local rc=$?
  echo "== $cheat (exit $rc)"; cat "$T/run/progress"
  python3 "$SRC/tests/exam/validate_report.py" "$T/run/r.json" || fail "$cheat: report does not validate"
  [ "$(ls "$T/run" | sort | tr '\n' ' ')" = "progress r.json table " ] \
    || fail "$cheat: stray files: $(ls "$T/run")"
  if [ "$want" = pass ]; then
    [ $rc -eq 0 ] || fail "$cheat: an honest plugin must pass, exit $rc"
    return
  fi
  [ $rc -eq 1 ] || fail "$cheat: exit $rc, expected 1"
  grep -q -- "$pat" "$T/run/progress" || fail "$cheat: no '$pat' in the progress"
  python3 - "$T/run/r.json" "$want" <<'PY' || fail "$cheat: report contents"
import json, sys
r = json.load(open(sys.argv[1]))
q = r["questions"][0]
assert r["summary"]["verdict"] == "fail", r["summary"]
assert q["status"] == sys.argv[2] and q["score"] == 0, q
PY
}

exam honest pass "" gemm.f32.bert-base-ffn,gemm.bf16.1024
# The plugin's last_path reaches each question's "path", made printable.
python3 -c 'import json,sys; q=json.load(open(sys.argv[1]))["questions"]
assert [x.get("path") for x in q] == ["three loops?(cheat plugin)"] * 2, q' \
  "$T/run/r.json" || fail "honest: the report's path is not the plugin's last_path"
exam skip-repeats wrong "after the timed calls: output" gemm.f32.bert-base-ffn
exam fake-sync wrong "synchronize returned before the work was done" gemm.f32.bert-base-ffn
exam truncate wrong "bf16 outputs are truncated, not rounded to nearest even" gemm.bf16.1024
exam corner wrong "output\[393215\]" gemm.f32.bert-base-ffn
exam segfault error "crashed (signal 11.*during its gemm call" gemm.f32.bert-base-ffn,mem.copy.64m
python3 -c 'import json,sys; q=json.load(open(sys.argv[1]))["questions"]; assert len(q)==2 and q[1]["status"]=="unsupported", q' \
  "$T/run/r.json" || fail "segfault: the exam must go on after a crash"
# 8 s: an honest gemm call under ASan on a loaded machine can take 2 s or more
exam hang error "synchronize call did not return within 8 s" gemm.f32.bert-base-ffn,mem.copy.64m --call-timeout 8
exam slow error "the question took longer than 5 s" gemm.f32.bert-base-ffn --question-timeout 5

# A plugin of another ABI version: refused at once with the reason, no report.
"$AIDC" exam run --plugin "$BADABI" --out "$T/bad.json" 2> "$T/badabi"
rc=$?; cat "$T/badabi"
[ $rc -ne 0 ] || fail "an ABI mismatch must fail"
grep -q "plugin ABI version 99" "$T/badabi" || fail "ABI mismatch: no clear reason"
[ ! -e "$T/bad.json" ] || fail "ABI mismatch: a report was written"
# The conformance suite (aidc exam conformance) isolates the plugin too.
AIDC_TEST_CHEAT=segfault "$AIDC" exam conformance --plugin "$CHEAT" > "$T/conf" 2>&1
rc=$?; tail -3 "$T/conf"
[ $rc -eq 1 ] || fail "conformance of a crashing plugin: exit $rc, expected 1"
grep -q "the plugin crashed (signal 11, Segmentation fault) in its gemm call" "$T/conf" \
  || fail "conformance: no crash reason"
AIDC_TEST_CHEAT=honest "$AIDC" exam conformance --plugin "$CHEAT" > "$T/conf" 2>&1 \
  || { cat "$T/conf"; fail "conformance of the honest cheat plugin"; }
echo PASS
