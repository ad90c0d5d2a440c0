#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --begin on a local center (issue 13): a job (and an array, and aidc submit
# -b) waits pending with reason BeginTime while its node is free, then runs
# no earlier than its begin time; a begin time an hour ahead survives a
# controller kill -9; a past time runs at once; --test-only shows the
# resolved time; Slurm's forms not supported here are refused by name and
# bad ones get clear errors, creating nothing.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 1

sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
reason() { job_field "$1" pending_reason; }
njobs() { "$AIDC" jobs --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); print(len(d.get("jobs", d)))'; }

t0=$(date +%s)
a=$(sb --parsable --begin=now+10 -o /dev/null --wrap 'date +%s >began')
check_eq "--begin=now+10: reason BeginTime" "$(reason "$a")" BeginTime
bs=$(job_field "$a" begin_s)
[ "$bs" -ge $((t0 + 10)) ] && [ "$bs" -le $(($(date +%s) + 10)) ] && ok "begin_s $bs is now+10" ||
	fail "begin_s '$bs' (t0 $t0)"
"$AIDC" squeue -h -o '%i %t %r' | grep -q "^$a PD BeginTime" && ok "squeue shows BeginTime" ||
	fail "squeue: $("$AIDC" squeue -h -o '%i %t %r' | tr '\n' ' ')"
p=$(submit -o /dev/null -- true)
check_eq "an ordinary job $p runs meanwhile" "$(wait_state "$p" "$END" 60)" completed
check_eq "job $a still waits" "$(job_field "$a" state)" pending
check_eq "job $a runs after its begin time" "$(wait_state "$a" "$END" 60)" completed
began=$(cat "$DIR/began" 2>/dev/null || echo 0)
[ "$began" -ge "$bs" ] && ok "it started at $began >= $bs" || fail "started at $began, begin $bs"

# An array and aidc submit -b wait too; a dependency waits behind BeginTime.
b=$(sb --parsable --begin=now+8 --array=0-2 -o /dev/null --wrap true)
c=$(submit -b now+8 -o /dev/null -- true)
d=$(sb --parsable --begin=now+8 -d "afterok:$p" -o /dev/null --wrap true)
check_eq "array $b: BeginTime" "$(reason "$b")" BeginTime
check_eq "aidc submit -b: BeginTime" "$(reason "$c")" BeginTime
check_eq "with a dependency: BeginTime first" "$(reason "$d")" BeginTime
check_eq "array $b completes" "$(wait_state "$b" "$END" 60)" completed
check_eq "job $c completes" "$(wait_state "$c" "$END" 60)" completed
check_eq "job $d completes" "$(wait_state "$d" "$END" 60)" completed

# An hour ahead: still waiting after a controller kill -9.
h=$(sb --parsable --begin=now+1hour -o /dev/null --wrap true)
ctl_restart || fail "the controller came back"
check_eq "after a kill -9, job $h still waits for its begin time" "$(reason "$h")" BeginTime
"$AIDC" hold "$h" >/dev/null && "$AIDC" release "$h" >/dev/null || fail "hold/release $h"
check_eq "released, it still waits for its begin time" "$(reason "$h")" BeginTime
"$AIDC" scancel "$h" || fail "scancel $h"

past=$(sb --parsable --begin=2020-01-01T00:00 -o /dev/null --wrap true)
check_eq "a past begin time runs at once" "$(wait_state "$past" "$END" 60)" completed
out=$(sb --test-only --begin=2030-01-02T03:04:05 --wrap true 2>&1)
[[ "$out" == *'"begin_s":'* ]] && ok "--test-only shows begin_s" || fail "--test-only: $out"

before=$(njobs)
for bad in "12/24|MM/DD[/YY]" "1224|MMDD[YY]" "4pm|AM/PM" "teatime|'teatime' is not supported" \
	"soon|'soon' is not a time" "2026-02-30|is not a date" "now+1fortnight|not a unit" "|empty"; do
	v=${bad%%|*} want=${bad#*|}
	out=$(sb --begin="$v" --wrap true 2>&1) && fail "--begin=$v accepted: $out" ||
		{ [[ "$out" == *"$want"* ]] && ok "--begin=$v refused: $out" || fail "--begin=$v: $out (want '$want')"; }
done
printf '#!/bin/sh\n#SBATCH --begin=12.24\ntrue\n' >"$DIR/bad.sh"
out=$(sb bad.sh 2>&1) && fail "#SBATCH --begin=12.24 accepted" || ok "#SBATCH --begin=12.24: $out"
out=$(cd "$DIR" && "$AIDC" submit -b 12/24 -- true 2>&1) && fail "submit -b 12/24 accepted" ||
	{ [[ "$out" == *"MM/DD"* ]] && ok "submit -b 12/24: $out" || fail "submit -b 12/24: $out"; }
check_eq "refusals created no job" "$(njobs)" "$before"
finish
