#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `srun` inside an `aidc sbatch` job on a local center with mock devices
# (issue 13 item 5, one node): the script finds srun first on its PATH; a
# step runs -n tasks (default: the job's) with SLURM_PROCID/_LOCALID/_NODEID,
# SLURM_STEP_ID counting steps, RANK/WORLD_SIZE of the step; --gpus-per-task
# gives each task its own devices; -l labels lines; -o patterns per task;
# srun exits with the highest task exit code; more tasks than the job's CPUs
# and options it cannot honour are refused; cancelling the job ends a running
# step's tasks; srun outside a job says why. sbatch --signal (issue 13 item 2):
# B:SIG reaches the batch script alone, SIG every other process of the job
# (srun's tasks, once each), SECONDS before the time limit.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 1 --devices 2

cat > "$DIR/steps.sh" <<SCRIPT
#!/bin/sh
#SBATCH -n 2 --gres=gpu:2
cd "$DIR"
command -v srun > where
srun sh -c 'echo "p=\$SLURM_PROCID l=\$SLURM_LOCALID n=\$SLURM_NODEID s=\$SLURM_STEP_ID nt=\$SLURM_STEP_NUM_TASKS r=\$RANK w=\$WORLD_SIZE"' | sort > s0
srun -l --gpus-per-task=1 sh -c 'echo "dev=\$AIDC_VISIBLE_DEVICES"' | sort > s1
srun -n 1 -o "o-%j.%s.%t" sh -c 'echo one'
srun -n 2 sh -c 'exit \$((3 + SLURM_PROCID))' 2> e2; echo "rc=\$?" > rc
srun -n 9 true 2> e9; echo "rc=\$?" >> rc
srun -w x true 2> ew; echo "rc=\$?" >> rc
srun -n 1 -- sh -c 'echo "args \$0 \$1"' -x --lr > s2
exit 0
SCRIPT
id=$( (cd "$DIR" && "$AIDC" sbatch --parsable steps.sh) )
check_eq "the batch job completes" "$(wait_state "$id" "$END" 60)" completed
[[ "$(cat "$DIR/where")" == */slurm-bin/srun ]] && ok "srun is first on the job's PATH" ||
	fail "srun found at: $(cat "$DIR/where")"
check_eq "step 0: two tasks with Slurm's and torch's step variables" "$(cat "$DIR/s0")" \
	"p=0 l=0 n=0 s=0 nt=2 r=0 w=2
p=1 l=1 n=0 s=0 nt=2 r=1 w=2"
devs=$(sed 's/.*dev=//' "$DIR/s1" | tr '\n' ' ')
check_eq "-l labels each line with its task" "$(cut -d' ' -f1 "$DIR/s1" | tr '\n' ' ')" "0: 1: "
[[ "$(sed -n 1p "$DIR/s1" | sed 's/.*dev=//')" != "$(sed -n 2p "$DIR/s1" | sed 's/.*dev=//')" &&
	"$devs" != *,* ]] && ok "--gpus-per-task=1: one device each, different ($devs)" ||
	fail "devices: $(cat "$DIR/s1")"
check_eq "-o o-%j.%s.%t: step 2, task 0" "$(cat "$DIR/o-$id.2.0" 2>&1)" one
check_eq "exit codes: highest task's; refusals exit 2" "$(tr '\n' ' ' < "$DIR/rc")" "rc=4 rc=2 rc=2 "
grep -q "task 1: Exited with exit code 4" "$DIR/e2" && ok "the failed tasks are named" ||
	fail "e2: $(cat "$DIR/e2")"
grep -q "Unable to create step" "$DIR/e9" && ok "9 tasks on 4 CPUs refused: $(cat "$DIR/e9")" ||
	fail "e9: $(cat "$DIR/e9")"
grep -q -- "--nodelist is not supported here" "$DIR/ew" && ok "-w refused: $(cat "$DIR/ew")" ||
	fail "ew: $(cat "$DIR/ew")"
check_eq "after --, the command's own options are its own" "$(cat "$DIR/s2")" "args -x --lr"

# A running step ends with its job.
cat > "$DIR/long.sh" <<SCRIPT
#!/bin/sh
#SBATCH -n 2
srun sh -c 'echo \$\$ > "$DIR/pid.\$SLURM_PROCID"; exec sleep 300'
SCRIPT
long=$( (cd "$DIR" && "$AIDC" sbatch --parsable long.sh) )
check_eq "job $long running" "$(wait_state "$long" running 60)" running
wait_for 30 test -s "$DIR/pid.1" || fail "the step's tasks did not start"
"$AIDC" cancel "$long" >/dev/null
check_eq "job $long cancelled" "$(wait_state "$long" cancelled 60)" cancelled
gone() { ! kill -0 "$(cat "$DIR/pid.0")" 2>/dev/null && ! kill -0 "$(cat "$DIR/pid.1")" 2>/dev/null; }
wait_for 30 gone && ok "the step's tasks ended with the job" || fail "a step task survived its job"

# --signal: B: to the batch script; without it, to the step's tasks (once).
cat > "$DIR/sigb.sh" <<SCRIPT
#!/bin/sh
#SBATCH -t 0:30 --signal=B:USR1@25
trap 'echo got >> "$DIR/sigb"; exit 0' USR1
while :; do sleep 0.2; done
SCRIPT
cat > "$DIR/sigs.sh" <<SCRIPT
#!/bin/sh
#SBATCH -n 2 -t 0:30 --signal=SIGUSR1@25
trap 'echo shell >> "$DIR/sigs.shell"' USR1
srun sh -c 'trap "echo \$SLURM_PROCID >> $DIR/sigs; exit 0" USR1; while :; do sleep 0.2; done'
echo "srun=\$?" > "$DIR/sigs.rc"
SCRIPT
b=$( (cd "$DIR" && "$AIDC" sbatch --parsable sigb.sh) )
s=$( (cd "$DIR" && "$AIDC" sbatch --parsable sigs.sh) )
check_eq "B:USR1@25 of 30 s: the script traps it and completes" "$(wait_state "$b" "$END" 60)" completed
check_eq "the batch script got it once" "$(cat "$DIR/sigb" 2>&1)" got
check_eq "SIGUSR1@25: the step's tasks trap it and the job completes" "$(wait_state "$s" "$END" 60)" completed
check_eq "each task got it once (srun did not forward it twice)" "$(sort "$DIR/sigs" | tr '\n' ' ')" "0 1 "
[ -e "$DIR/sigs.shell" ] && fail "the batch shell got it" || ok "the batch shell did not get it"
check_eq "srun exits 0" "$(cat "$DIR/sigs.rc" 2>&1)" "srun=0"
out=$( (cd "$DIR" && "$AIDC" sbatch --signal=USR1 --wrap true 2>&1) ) && fail "--signal without -t accepted: $out" ||
	{ [[ "$out" == *"needs a time limit"* ]] && ok "--signal without -t refused: $out" || fail "no -t: $out"; }

out=$(SLURM_JOB_ID=77 env -u AIDC_JOB_ID -u AIDC_SALLOC "$AIDC" srun true 2>&1); rc=$?
check_eq "srun in another system's job fails" "$rc" 1
[[ "$out" == *"SLURM_JOB_ID=77 is not an aidc batch job"* ]] && ok "and says why: $out" ||
	fail "outside: $out"
finish
