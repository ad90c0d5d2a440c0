#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docs/exam.md's question counts ("*quick* (N questions), *standard* adds N, *full* adds N
# more, N in all") must equal the catalogue's (aidc exam list --json), so they cannot drift.
set -u
AIDC="${AIDC_BIN:?}"; SRC="${AIDC_SOURCE_DIR:?}"
T="$(mktemp)"; trap 'rm -f "$T"' EXIT
"$AIDC" exam list --json > "$T" || { echo "FAIL: aidc exam list --json"; exit 1; }
python3 - "$SRC/docs/exam.md" "$T" <<'PY'
import json, re, sys
cat = json.load(open(sys.argv[2]))
n = {l: sum(1 for q in cat if q["level"] == l) for l in ("quick", "standard", "full")}
doc = open(sys.argv[1]).read().replace("\n", " ")
m = re.search(r"\*quick\* \((\d+) questions\), \*standard\* adds (\d+), \*full\* adds (\d+) more, (\d+) in all", doc)
if not m:
    sys.exit("FAIL: docs/exam.md has no 'Levels nest: *quick* (N questions), ...' sentence")
got = tuple(int(x) for x in m.groups())
want = (n["quick"], n["standard"], n["full"], len(cat))
if got != want:
    sys.exit("FAIL: docs/exam.md says quick %d, standard +%d, full +%d, %d in all; the catalogue has %d, +%d, +%d, %d" % (got + want))
print("PASS: docs/exam.md counts match the catalogue:", want)
PY
