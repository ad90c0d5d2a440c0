#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Job dependencies on a local center with mock devices (issue 13 item 4):
# afterok, afternotok and afterany on aidc sbatch -d/--dependency; a waiting
# job is pending with reason "dependency" and never starts; once its jobs end
# it runs, or stays pending with reason DependencyNeverSatisfied when it
# cannot; bad lists and unknown jobs are refused at submit and create no job.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 1 --devices 2

sb() { (cd "$DIR" && "$AIDC" sbatch --parsable "$@" "$DIR/t.sh"); }
reason() { job_field "$1" pending_reason; }
printf '#!/bin/sh\ntouch %s/ran.$SLURM_JOB_ID\n' "$DIR" > "$DIR/t.sh"

a=$(submit -J gate -- sh -c "until [ -e $DIR/go ]; do sleep 0.1; done")
check_eq "job $a running" "$(wait_state "$a" running 60)" running
ok_=$(sb -d "afterok:$a")
notok=$(sb --dependency="afternotok:$a")
any=$(sb -d "afterany:$a")
check_eq "afterok:$a waits: reason" "$(reason "$ok_")" dependency
check_eq "afternotok:$a waits: reason" "$(reason "$notok")" dependency
check_eq "afterany:$a waits: reason" "$(reason "$any")" dependency
p=$(submit -- true)
check_eq "an ordinary job $p completes meanwhile" "$(wait_state "$p" "$END" 60)" completed
check_eq "afterok job $ok_ still pending" "$(job_field "$ok_" state)" pending
[ -e "$DIR/ran.$ok_" ] && fail "job $ok_ ran before its dependency" || ok "job $ok_ did not run early"
touch "$DIR/go"
check_eq "job $a completes" "$(wait_state "$a" "$END" 60)" completed
check_eq "afterok:$a (completed) runs" "$(wait_state "$ok_" "$END" 60)" completed
check_eq "afterany:$a runs" "$(wait_state "$any" "$END" 60)" completed
wait_for 20 sh -c "[ \"\$(\"$AIDC\" job $notok --json | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin).get(\"pending_reason\"))')\" = DependencyNeverSatisfied ]" &&
	ok "afternotok:$a (completed): DependencyNeverSatisfied" || fail "afternotok: $(reason "$notok")"
check_eq "job $notok stays pending" "$(job_field "$notok" state)" pending
"$AIDC" jobs | grep -E "^$notok .*DependencyNeverSatisfied" >/dev/null &&
	ok "aidc jobs shows the reason" || fail "aidc jobs: $("$AIDC" jobs)"
"$AIDC" cancel "$notok" >/dev/null

f=$(submit -- false)
check_eq "job $f fails" "$(wait_state "$f" "$END" 60)" failed
nf=$(sb -d "afternotok:$f")
check_eq "afternotok:$f (failed) runs" "$(wait_state "$nf" "$END" 60)" completed
two=$(sb -d "afterok:$a:$f")
wait_for 20 sh -c "[ \"\$(\"$AIDC\" job $two --json | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin).get(\"pending_reason\"))')\" = DependencyNeverSatisfied ]" &&
	ok "afterok:$a:$f (one failed): DependencyNeverSatisfied" || fail "afterok two: $(reason "$two")"
list=$(sb -d "afterok:$a,afterany:$f")
check_eq "afterok:$a,afterany:$f runs" "$(wait_state "$list" "$END" 60)" completed
"$AIDC" cancel "$two" >/dev/null

before=$("$AIDC" jobs --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("jobs", d)))')
for bad in "afterok:999999|no job 999999" "bogus:1|not a dependency type" "afterok:|needs :JOBID" \
	"singleton|not implemented" "afterok:1?afterany:2|not implemented" "afterok:x|not a job id"; do
	d=${bad%%|*} want=${bad#*|}
	out=$(sb -d "$d" 2>&1) && fail "-d $d accepted: $out" ||
		{ [[ "$out" == *"$want"* ]] && ok "-d $d refused: $out" || fail "-d $d: $out (want '$want')"; }
done
out=$(cd "$DIR" && "$AIDC" submit -d afterok:999999 -- true 2>&1) && fail "submit -d accepted: $out" ||
	{ [[ "$out" == *"no job 999999"* ]] && ok "submit -d refused: $out" || fail "submit -d: $out"; }
after=$("$AIDC" jobs --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("jobs", d)))')
check_eq "refused submissions created no job" "$after" "$before"
finish
