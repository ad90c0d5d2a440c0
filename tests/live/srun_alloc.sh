#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# srun outside any allocation (issue 13 items 5 and 7; docs/slurm.md "srun
# outside an allocation"), two mock nodes: as Slurm's srun on a login host,
# it makes the allocation and runs its command as a step of it, on the
# allocation's nodes; the job is named after the command; srun exits with
# the step's status and the allocation ends with it (completed, or failed
# with the code); the allocation's options (-w, --gres, -t) apply to the
# job, the step's (-l, -o) to the step; bad options are refused with
# nothing allocated; a SLURM_JOB_ID of another system is refused.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=2 center_up 2
njobs() { "$AIDC" jobs --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))'; }
out() { (cd "$DIR" && env -u SLURM_JOB_ID -u AIDC_JOB_ID -u AIDC_SALLOC "$AIDC" srun "$@"); }

o=$(out -N2 -l sh -c 'echo "$SLURM_JOB_NAME $SLURM_STEP_ID $SLURMD_NODENAME"' 2>"$DIR/err1"); rc=$?
check_eq "srun -N2 -l outside an allocation exits 0" "$rc" 0
id=$(sed -n 's/^srun: Granted job allocation \([0-9]*\)$/\1/p' "$DIR/err1")
[ -n "$id" ] && ok "srun: Granted job allocation $id" || fail "err1: $(cat "$DIR/err1")"
check_eq "two labelled tasks of step 0, named after the command" \
	"$(sed 's/ node-[01]$//' <<<"$o" | sort | tr '\n' ' ')" "0: sh 0 1: sh 0 "
check_eq "one on each node" "$(awk '{print $4}' <<<"$o" | sort | tr '\n' ' ')" "node-0 node-1 "
grep -q "salloc" "$DIR/err1" && fail "a message says salloc: $(cat "$DIR/err1")" ||
	ok "every message says srun"
check_eq "the allocation completed" "$(wait_state "$id" completed 30)" completed
check_eq "sacct: the job and its step" \
	"$("$AIDC" sacct -n -P -j "$id" -o JobID,JobName,State,ExitCode,NNodes | grep -v batch)" \
	"$id|sh|COMPLETED|0:0|2
$id.0|sh|COMPLETED|0:0|2"

o=$(out -N1 -J mine -t 5 sh -c 'echo "$SLURM_JOB_NAME $SLURM_JOB_NUM_NODES"; exit 3' 2>"$DIR/err2"); rc=$?
check_eq "srun exits with the task's code" "$rc" 3
check_eq "-J names the job; -N1" "$o" "mine 1"
id2=$(sed -n 's/^srun: Granted job allocation \([0-9]*\)$/\1/p' "$DIR/err2")
check_eq "the allocation failed with it" "$(wait_state "$id2" failed 30)" failed
check_eq "sacct: FAILED 3:0, time limit 5 minutes" \
	"$("$AIDC" sacct -n -P -X -j "$id2" -o JobName,State,ExitCode,Timelimit)" "mine|FAILED|3:0|00:05:00"

# The allocation's options apply to the job: -w picks the node.
o=$(out -w node-1 -o "$DIR/w-%j-%t.out" sh -c 'echo $SLURMD_NODENAME' 2>"$DIR/err3"); rc=$?
check_eq "-w node-1 -o PATTERN: exit 0" "$rc" 0
id3=$(sed -n 's/^srun: Granted job allocation \([0-9]*\)$/\1/p' "$DIR/err3")
check_eq "the step ran on node-1 into its -o file" "$(cat "$DIR/w-$id3-0.out" 2>&1)" node-1
check_eq "squeue/sacct: the job's node" "$("$AIDC" sacct -n -P -X -j "$id3" -o NodeList)" node-1

# The interactive habit: srun --pty bash from the login host.
o=$(printf 'tty; echo "hi-$((1+2)) $SLURM_JOB_NAME"; exit 3\n' |
	out --pty bash --norc --noprofile 2>"$DIR/err4"); rc=$?
check_eq "srun --pty bash outside an allocation: the shell's status" "$rc" 3
[[ "$o" == *"/dev/pts/"* && "$o" == *"hi-3 bash"* ]] && ok "a remote shell on a terminal" ||
	fail "pty: $o ($(cat "$DIR/err4"))"

# Refusals change nothing.
before=$(njobs)
o=$(out --bogus true 2>&1); rc=$?
check_eq "--bogus refused (exit 2)" "$rc" 2
[[ "$o" == *"--bogus"* ]] && ok "named: $o" || fail "--bogus: $o"
o=$(out --multi-prog true 2>&1) && fail "--multi-prog accepted" ||
	{ [[ "$o" == *"--multi-prog is not supported here"*"nothing was allocated"* ]] &&
		ok "--multi-prog: $o" || fail "--multi-prog: $o"; }
o=$(out --pty -l bash 2>&1) && fail "--pty -l accepted" ||
	{ [[ "$o" == *"--pty with --label"* ]] && ok "--pty -l: $o" || fail "--pty -l: $o"; }
o=$(out -p nosuch true 2>&1) && fail "-p nosuch accepted" || ok "-p nosuch refused: $o"
o=$(out --gres=gpu:bogus:x true 2>&1) && fail "a bad --gres accepted" || ok "--gres refused: $o"
check_eq "nothing was allocated" "$(njobs)" "$before"

o=$(cd "$DIR" && SLURM_JOB_ID=999 env -u AIDC_JOB_ID -u AIDC_SALLOC "$AIDC" srun true 2>&1); rc=$?
check_eq "a foreign SLURM_JOB_ID: exit 1" "$rc" 1
[[ "$o" == *"SLURM_JOB_ID=999 is not an aidc batch job"* ]] && ok "says why: $o" || fail "foreign: $o"
check_eq "and allocates nothing" "$(njobs)" "$before"
finish
