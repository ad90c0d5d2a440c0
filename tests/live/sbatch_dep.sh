#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Job dependencies on a local center with mock devices (issue 13 item 4):
# after, afterok, afternotok, afterany and singleton on aidc sbatch
# -d/--dependency, joined by ',' and by '?'; a waiting job is pending with
# reason "dependency" and never starts; once its list holds it runs, or stays
# pending with reason DependencyNeverSatisfied when it cannot (cancelled with
# --kill-on-invalid-dep=yes); bad lists and unknown jobs are refused at submit
# and create no job.
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

# '?': one item is enough; never only when no item can hold.
q=$(sb -d "afterok:$f?afterany:$a")
check_eq "afterok:$f?afterany:$a runs" "$(wait_state "$q" "$END" 60)" completed
q2=$(sb -d "afterok:$f?afterok:$f")
wait_for 20 sh -c "[ \"\$(\"$AIDC\" job $q2 --json | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin).get(\"pending_reason\"))')\" = DependencyNeverSatisfied ]" &&
	ok "afterok:$f?afterok:$f: DependencyNeverSatisfied" || fail "'?' never: $(reason "$q2")"
"$AIDC" cancel "$q2" >/dev/null
k=$(sb --kill-on-invalid-dep=yes -d "afterok:$f")
check_eq "--kill-on-invalid-dep=yes afterok:$f is cancelled" "$(wait_state "$k" cancelled 30)" cancelled
[[ "$(job_field "$k" reason)" == *DependencyNeverSatisfied* ]] &&
	ok "its reason names DependencyNeverSatisfied" || fail "reason: $(job_field "$k" reason)"
[ -e "$DIR/ran.$k" ] && fail "job $k ran" || ok "job $k never ran"

# after: once the job has started (a held one has not).
h=$(submit -H -- sh -c "until [ -e $DIR/go2 ]; do sleep 0.1; done")
af=$(sb -d "after:$h")
late=$(sb -d "after:$h+30")
sleep 1
check_eq "after:$h (held) waits" "$(reason "$af")" dependency
"$AIDC" release "$h" >/dev/null
check_eq "job $h runs once released" "$(wait_state "$h" running 60)" running
check_eq "after:$h runs while $h runs" "$(wait_state "$af" "$END" 60)" completed
check_eq "job $h is still running" "$(job_field "$h" state)" running
check_eq "after:$h+30 still waits" "$(reason "$late")" dependency
"$AIDC" cancel "$late" >/dev/null
touch "$DIR/go2"
check_eq "job $h completes" "$(wait_state "$h" "$END" 60)" completed

# singleton: one live job per user and name at a time, in submit order.
printf '#!/bin/sh\necho $SLURM_JOB_ID >> %s/order\nsleep 1\necho $SLURM_JOB_ID >> %s/order\n' "$DIR" "$DIR" > "$DIR/s.sh"
s0=$(submit -J single -- sh -c "until [ -e $DIR/go3 ]; do sleep 0.1; done")
check_eq "job $s0 (single) running" "$(wait_state "$s0" running 60)" running
s1=$( (cd "$DIR" && "$AIDC" sbatch --parsable -J single -d singleton "$DIR/s.sh") )
s2=$( (cd "$DIR" && "$AIDC" sbatch --parsable -J single -d singleton "$DIR/s.sh") )
other=$(sb -J other -d singleton)
check_eq "singleton named other runs" "$(wait_state "$other" "$END" 60)" completed
check_eq "singleton $s1 waits for $s0" "$(reason "$s1")" dependency
check_eq "singleton $s2 waits too" "$(reason "$s2")" dependency
touch "$DIR/go3"
check_eq "singleton $s2 completes" "$(wait_state "$s2" "$END" 90)" completed
check_eq "singleton $s1 completed" "$(job_field "$s1" state)" completed
check_eq "one at a time, in order" "$(tr '\n' ' ' < "$DIR/order")" "$s1 $s1 $s2 $s2 "

before=$("$AIDC" jobs --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("jobs", d)))')
for bad in "afterok:999999|no job 999999" "bogus:1|not a dependency type" "afterok:|needs :JOBID" \
	"aftercorr:999999|no job 999999" "afterok:1,afterany:2?after:3|cannot be mixed" \
	"after:1+x|not a number of minutes" "singleton:1|takes no job id" "afterok:x|not a job id"; do
	d=${bad%%|*} want=${bad#*|}
	out=$(sb -d "$d" 2>&1) && fail "-d $d accepted: $out" ||
		{ [[ "$out" == *"$want"* ]] && ok "-d $d refused: $out" || fail "-d $d: $out (want '$want')"; }
done
out=$(cd "$DIR" && "$AIDC" submit -d afterok:999999 -- true 2>&1) && fail "submit -d accepted: $out" ||
	{ [[ "$out" == *"no job 999999"* ]] && ok "submit -d refused: $out" || fail "submit -d: $out"; }
after=$("$AIDC" jobs --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("jobs", d)))')
check_eq "refused submissions created no job" "$after" "$before"
finish
