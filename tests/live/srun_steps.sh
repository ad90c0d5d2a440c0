#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Job steps visible and controllable (issue 13 item 7; docs/slurm.md "Job
# steps"), one node: every srun step is registered with the controller;
# `squeue -s` lists the running ones (--steps=LIST: those named, a bad
# item refused); `scancel JOB.STEP` ends one step and
# the job goes on (a bad or ended step id is refused naming it, nothing
# changes); a controller restart (kill -9) keeps the running steps (listed,
# cancellable, srun goes on); sacct shows JOB, JOB.batch and JOB.STEP lines
# with state, exit code and elapsed time, -X only the job, -j JOB.STEP one
# line; cancelling the job ends its running step as CANCELLED; an srun
# killed with SIGKILL takes its task with it and its step ends CANCELLED
# when its lease (step_lease_s, 5 s here) runs out.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
conf=$(mktemp /tmp/aidc-steps-conf-XXXXXX)
echo "step_lease_s = 5" >"$conf" # an srun killed with SIGKILL: its step ends 5 s later
CPUS=4 center_up 1 --controller-config "$conf" # kept for ctl_restart, removed at the end

cat > "$DIR/steps.sh" <<SCRIPT
#!/bin/sh
#SBATCH -n 2 -J stepper
cd "$DIR"
srun -n 1 -J ok true
srun -n 2 sh -c 'exit 3'
srun -n 1 sh -c 'echo \$\$ > pid2; exec sleep 300' 2> e2; echo "rc2=\$?" > rc
srun -n 1 -t 5 sh -c 'echo \$\$ > pid3; exec sleep 300' 2> e3; echo "rc3=\$?" >> rc
exit 0
SCRIPT
id=$( (cd "$DIR" && "$AIDC" sbatch --parsable steps.sh) )
check_eq "job $id running" "$(wait_state "$id" running 60)" running
wait_for 60 test -s "$DIR/pid2" || fail "step 2 did not start"
sq=$("$AIDC" squeue -s -h -o '%i|%j|%u|%A|%N')
check_eq "squeue -s: the running step 2 alone" "$sq" "$id.2|sh|$(id -un)|1|$(job_field "$id" nodes | tr -d "[]' ")"
"$AIDC" squeue -s | head -1 | grep -q "STEPID *NAME *PARTITION *USER *TIME *NODELIST" &&
	ok "squeue -s: Slurm's step columns" || fail "squeue -s header: $("$AIDC" squeue -s | head -1)"
out=$("$AIDC" squeue -s -t R 2>&1) && fail "squeue -s -t accepted" ||
	ok "squeue -s -t refused: $out"
# Slurm's --steps=LIST (also -sLIST, --steps LIST): only those steps, running ones.
for form in "--steps=$id.2" "-s$id.2" "--steps $id.2" "--steps=$id.0,$id.2"; do
	# shellcheck disable=SC2086 # the form is one or two words
	check_eq "squeue $form" "$("$AIDC" squeue $form -h -o %i)" "$id.2"
done
check_eq "squeue --steps=$id.0 (ended): nothing" "$("$AIDC" squeue --steps="$id.0" -h)" ""
check_eq "squeue --steps with -j of another job: nothing" \
	"$("$AIDC" squeue --steps="$id.2" -j 99999 -h)" ""
for bad in "$id" "$id.x" "x.2" "$id.2,"; do
	out=$("$AIDC" squeue --steps="$bad" 2>&1) && fail "--steps=$bad accepted" ||
		{ [[ "$out" == "aidc squeue: --steps: "*"is not JOB.STEP"* ]] &&
			ok "--steps=$bad refused: $out" || fail "--steps=$bad: $out"; }
done

# Bad ids change nothing.
out=$("$AIDC" scancel "$id.9" 2>&1) && fail "scancel $id.9 succeeded" ||
	check_eq "scancel of a missing step" "$out" \
		"scancel: error: Kill job error on job step id $id.9: Invalid job id specified (no step $id.9)"
out=$("$AIDC" scancel "$id.1" 2>&1) && fail "scancel of an ended step succeeded" ||
	check_eq "scancel of an ended step" "$out" \
		"scancel: error: Kill job error on job step id $id.1: Job/step already completing or completed (step $id.1 has already ended (failed))"
out=$("$AIDC" scancel "$id.x" 2>&1) && fail "scancel $id.x accepted" || ok "scancel $id.x refused: $out"
out=$("$AIDC" scancel "$id.batch" 2>&1) && fail "scancel $id.batch accepted" || ok "scancel $id.batch refused: $out"
kill -0 "$(cat "$DIR/pid2")" 2>/dev/null && ok "step 2 runs on after the refusals" || fail "step 2 ended"

"$AIDC" scancel "$id.2" && ok "scancel $id.2" || fail "scancel $id.2 failed"
wait_for 30 test -s "$DIR/pid3" || fail "step 3 did not start after step 2 was cancelled"
check_eq "the cancelled step's srun: 128+SIGTERM" "$(cat "$DIR/rc" 2>&1)" "rc2=143"
grep -q "STEP $id.2 ON .* CANCELLED AT" "$DIR/e2" && ok "srun says the step was cancelled" ||
	fail "e2: $(cat "$DIR/e2")"
check_eq "the job goes on" "$(job_field "$id" state)" running

# A controller restart keeps the running step.
ctl_restart || fail "the controller did not come back"
check_eq "after a restart squeue -s lists step 3" "$("$AIDC" squeue -s -h -o '%i|%l')" "$id.3|5:00"
"$AIDC" scancel "$id.3" && ok "scancel $id.3 after the restart" || fail "scancel $id.3 failed"
check_eq "the batch job completes" "$(wait_state "$id" completed 60)" completed
check_eq "both cancelled steps' srun exit 143" "$(tr '\n' ' ' < "$DIR/rc")" "rc2=143 rc3=143 "

got=$("$AIDC" sacct -j "$id" -P -o JobID,JobName,State,ExitCode,AllocCPUS,NNodes)
check_eq "sacct: the job, its batch step and its srun steps" "$got" \
"JobID|JobName|State|ExitCode|AllocCPUS|NNodes
$id|stepper|COMPLETED|0:0|2|1
$id.batch|batch|COMPLETED|0:0|2|1
$id.0|ok|COMPLETED|0:0|1|1
$id.1|sh|FAILED|3:0|2|1
$id.2|sh|CANCELLED|0:15|1|1
$id.3|sh|CANCELLED|0:15|1|1"
check_eq "sacct -X: the job alone" "$("$AIDC" sacct -X -n -P -j "$id" -o JobID)" "$id"
check_eq "sacct -j $id.1: that step" "$("$AIDC" sacct -n -P -j "$id.1" -o JobID,State)" "$id.1|FAILED"
el=$("$AIDC" sacct -n -P -j "$id.0" -o Elapsed,Start,End)
[[ "$el" =~ ^00:00:0[0-9]\|[0-9-]+T[0-9:]+\|[0-9-]+T[0-9:]+$ ]] && ok "step elapsed, start, end: $el" ||
	fail "step times: $el"
out=$("$AIDC" sacct -j "$id.x" 2>&1) && fail "sacct -j $id.x accepted" || ok "sacct -j $id.x refused: $out"
"$AIDC" sacct --json -j "$id" | "$PY" -c 'import json,sys
j=json.load(sys.stdin)["jobs"][0]
assert [s["id"] for s in j["steps"]] == ["%d.%d" % (j["id"], k) for k in range(4)], j["steps"]' &&
	ok "sacct --json: the job's steps" || fail "sacct --json steps"

# A job cancelled under a running step: the step is CANCELLED too.
cat > "$DIR/long.sh" <<SCRIPT
#!/bin/sh
srun sh -c 'echo \$\$ > "$DIR/pidl"; exec sleep 300'
SCRIPT
long=$( (cd "$DIR" && "$AIDC" sbatch --parsable long.sh) )
wait_for 60 test -s "$DIR/pidl" || fail "the long step did not start"
"$AIDC" scancel "$long"
check_eq "job $long cancelled" "$(wait_state "$long" cancelled 60)" cancelled
check_eq "its step ends CANCELLED" "$("$AIDC" sacct -n -P -j "$long.0" -o State)" CANCELLED
check_eq "squeue -s: nothing runs" "$("$AIDC" squeue -s -h)" ""

# srun killed with SIGKILL: its task dies with it, and the controller ends
# the step when srun's lease runs out; the job goes on.
cat > "$DIR/lost.sh" <<SCRIPT
#!/bin/sh
srun -J lost sh -c 'echo \$\$ > "$DIR/pidk"; exec sleep 300' &
echo \$! > "$DIR/srunk"
wait
exec sleep 300
SCRIPT
lost=$( (cd "$DIR" && "$AIDC" sbatch --parsable lost.sh) )
wait_for 60 test -s "$DIR/pidk" || fail "the step of job $lost did not start"
check_eq "squeue -s: step $lost.0 runs" "$("$AIDC" squeue -s -h -o %i)" "$lost.0"
kill -9 "$(cat "$DIR/srunk")"
task_gone() { ! kill -0 "$(cat "$DIR/pidk")" 2>/dev/null; }
wait_for 10 task_gone && ok "the step's task died with its srun" || fail "the task outlived srun"
no_steps() { [ -z "$("$AIDC" squeue -s -h)" ]; }
wait_for 30 no_steps && ok "squeue -s: the lost step ended" ||
	fail "squeue -s after the lease: $("$AIDC" squeue -s -h)"
check_eq "sacct: the lost step CANCELLED" "$("$AIDC" sacct -n -P -j "$lost.0" -o State,ExitCode)" \
	"CANCELLED|0:15"
check_eq "job $lost goes on" "$(job_field "$lost" state)" running
"$AIDC" scancel "$lost"
check_eq "job $lost cancelled" "$(wait_state "$lost" cancelled 60)" cancelled
rm -f "$conf"
finish
