#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# salloc (issue 13 item 7; docs/slurm.md "salloc"), two mock nodes: `salloc
# -N2 -c1 CMD` waits for the allocation, runs CMD here with the job's
# SLURM_* (id, nodes as a hostlist, tasks) and aidc's srun first on PATH;
# srun in it runs steps on both nodes (each task on its own node, exit codes
# propagated, the steps in sacct); salloc exits with CMD's status and ends
# the allocation with it (completed, or failed with the code: not cancelled);
# an srun killed with SIGKILL loses its step when its lease runs out (its
# tasks on the holders' nodes are ended), and one whose tasks had all ended
# ends as they did (FAILED 3:0; in a batch job too, srun having reported node
# 0's tasks); sbatch's options salloc does not have are refused by
# name with nothing allocated; the time limit's end is said; a signal while
# it waits revokes the request.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
conf=$(mktemp /tmp/aidc-salloc-conf-XXXXXX)
echo "step_lease_s = 4" >"$conf" # a killed srun's step is cancelled 4 s later
CPUS=2 center_up 2 --controller-config "$conf"
rm -f "$conf"

cat > "$DIR/cmd.sh" <<'SCRIPT'
#!/bin/sh
echo "id=$SLURM_JOB_ID nodes=$SLURM_JOB_NODELIST n=$SLURM_JOB_NUM_NODES tasks=$SLURM_NTASKS"
command -v srun
srun sh -c 'echo "task $SLURM_PROCID on $SLURMD_NODENAME of $SLURM_STEP_NODELIST"' | sort
srun -N1 -n1 sh -c 'exit 3'; echo "srun=$?"
exit 5
SCRIPT
chmod +x "$DIR/cmd.sh"
out=$(cd "$DIR" && "$AIDC" salloc -N2 -c1 ./cmd.sh 2>"$DIR/err"); rc=$?
check_eq "salloc exits with the command's status" "$rc" 5
id=$(sed -n 's/^id=\([0-9]*\) .*/\1/p' <<<"$out")
[ -n "$id" ] || fail "no SLURM_JOB_ID in: $out"
list=$(sed -n 's/.* nodes=\([^ ]*\) .*/\1/p' <<<"$out")
[[ "$list" == "node-[0-1]" || "$list" == "node-[1,0]" ]] && ok "SLURM_JOB_NODELIST $list" ||
	fail "nodelist: $list"
check_eq "the allocation's variables" "$(sed -n 1p <<<"$out")" \
	"id=$id nodes=$list n=2 tasks=2"
[[ "$(sed -n 2p <<<"$out")" == */slurm-bin/srun ]] && ok "aidc's srun first on PATH" ||
	fail "srun: $(sed -n 2p <<<"$out")"
first=$("$AIDC" scontrol show hostnames "$list" | head -1)
second=$("$AIDC" scontrol show hostnames "$list" | tail -1)
check_eq "a step on both nodes, one task each (task 0 on the first)" "$(sed -n 3,4p <<<"$out")" \
	"task 0 on $first of $list
task 1 on $second of $list"
check_eq "srun's exit code from a remote task" "$(sed -n 5p <<<"$out")" "srun=3"
grep -q "Granted job allocation $id" "$DIR/err" && ok "salloc: Granted job allocation $id" ||
	fail "err: $(cat "$DIR/err")"
grep -q "Relinquishing job allocation $id" "$DIR/err" && ok "released at the end" ||
	fail "err: $(cat "$DIR/err")"
# As Slurm's: the allocation ends with the command's status, not cancelled.
check_eq "the job ends with the command: failed (exit 5)" "$(wait_state "$id" failed 30)" failed
check_eq "sacct: the allocation FAILED 5:0" "$("$AIDC" sacct -n -P -X -j "$id" -o State,ExitCode)" \
	"FAILED|5:0"
out=$(cd "$DIR" && "$AIDC" salloc -N2 sh -c 'echo "ok=$SLURM_JOB_ID"' 2>/dev/null); rc=$?
check_eq "salloc of a command that exits 0" "$rc" 0
ok0=${out#ok=}
check_eq "its job completed" "$(wait_state "$ok0" completed 30)" completed
check_eq "sacct: COMPLETED 0:0" "$("$AIDC" sacct -n -P -X -j "$ok0" -o State,ExitCode)" \
	"COMPLETED|0:0"
check_eq "sacct: the steps" "$("$AIDC" sacct -n -P -j "$id.0,$id.1" -o JobID,State,ExitCode,NNodes)" \
	"$id.0|COMPLETED|0:0|2
$id.1|FAILED|3:0|1"

# A node whose tasks cannot start (its -o file cannot be opened there) fails
# the step: srun says why and exits 1, the step FAILED (it exited 0 before).
out=$(cd "$DIR" && "$AIDC" salloc -N1 srun -o "$DIR/none/x-%t" true 2>&1); rc=$?
check_eq "srun -o into a missing directory on the node: exit 1" "$rc" 1
[[ "$out" == *"$DIR/none/x-0: No such file or directory"* &&
	"$out" == *"node 0 of the step: its tasks could not all start"* ]] &&
	ok "the node's error and the step's reach srun" || fail "out: $out"

# Refusals change nothing.
before=$("$AIDC" jobs --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')
out=$(cd "$DIR" && "$AIDC" salloc --array=1-3 true 2>&1); rc=$?
check_eq "--array refused (exit 2)" "$rc" 2
[[ "$out" == *"--array: sbatch's, not an salloc option"* ]] && ok "named: $out" || fail "out: $out"
out=$(cd "$DIR" && "$AIDC" salloc -o x true 2>&1) && fail "-o accepted" || ok "-o refused: $out"
out=$(cd "$DIR" && "$AIDC" salloc --bogus true 2>&1) && fail "--bogus accepted" || ok "--bogus refused: $out"
# Messages of the shared sbatch parser name the command the user ran.
[[ "$out" == "aidc salloc: --bogus: unknown option (salloc's options"* ]] &&
	ok "salloc's unknown option names salloc" || fail "--bogus: $out"
out=$(cd "$DIR" && "$AIDC" salloc -N abc true 2>&1) && fail "-N abc accepted" ||
	{ [[ "$out" == "aidc salloc: -N: "* ]] && ok "-N abc: $out" || fail "-N abc: $out"; }
out=$(cd "$DIR" && "$AIDC" salloc -t 1 --nodes 2>&1) && fail "--nodes accepted" ||
	{ [[ "$out" == "aidc salloc: --nodes needs a value" ]] && ok "$out" || fail "--nodes: $out"; }
out=$(cd "$DIR" && SALLOC_PARTITION=x "$AIDC" salloc true 2>&1) && fail "SALLOC_* accepted" ||
	{ [[ "$out" == "aidc salloc: SALLOC_PARTITION is set: salloc's input"* ]] && ok "SALLOC_*" ||
		fail "SALLOC_*: $out"; }
[[ "$out" != *sbatch* ]] && ok "no 'sbatch' in salloc's message" || fail "says sbatch: $out"
out=$(cd "$DIR" && "$AIDC" salloc --mail-type=ALL --controller "$DIR/none.sock" true 2>&1) &&
	fail "no controller accepted"
[[ "$out" == *"aidc salloc: warning: --mail-type"* && "$out" == *"aidc salloc: cannot reach"* &&
	"$out" != *sbatch:* ]] && ok "warnings and connection errors name salloc" || fail "out: $out"
check_eq "nothing was allocated" \
	"$("$AIDC" jobs --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')" "$before"

out=$(cd "$DIR" && "$AIDC" salloc -D /tmp true 2>&1) && fail "-D accepted" || ok "-D refused: $out"

# The allocation's time limit: salloc says it was revoked; the command goes on.
(cd "$DIR" && "$AIDC" salloc -t 0:03 sh -c 'sleep 8; echo after' >"$DIR/out4" 2>"$DIR/err4")
grep -q "has been revoked (timeout" "$DIR/err4" && ok "the time limit revokes the allocation" ||
	fail "err4: $(cat "$DIR/err4")"
check_eq "the command runs on" "$(cat "$DIR/out4")" after

# A request that cannot be granted: a signal revokes it.
(cd "$DIR" && exec "$AIDC" salloc -N3 true 2>"$DIR/err3") &
pid=$!
wait_for 30 grep -q "queued and waiting" "$DIR/err3" || fail "no 'queued and waiting': $(cat "$DIR/err3")"
kill -INT "$pid"
wait "$pid"; rc=$?
check_eq "salloc interrupted while waiting: 128+SIGINT" "$rc" 130
grep -q "has been revoked" "$DIR/err3" && ok "the request is revoked" || fail "err3: $(cat "$DIR/err3")"
rid=$(sed -n 's/^salloc: Pending job allocation \([0-9]*\)/\1/p' "$DIR/err3")
check_eq "its job is cancelled" "$(wait_state "$rid" cancelled 30)" cancelled
# A step's remote output is streamed while it runs (not only at its end),
# each line once, the exit code still the step's.
cat > "$DIR/stream.sh" <<SCRIPT
#!/bin/sh
srun -N2 sh -c 'echo "early \$SLURM_PROCID"; sleep 8; echo "late \$SLURM_PROCID"; exit 4' \
	>"$DIR/streamout"
echo "srun=\$?" >"$DIR/streamrc"
SCRIPT
chmod +x "$DIR/stream.sh"
(cd "$DIR" && "$AIDC" salloc -N2 ./stream.sh 2>"$DIR/streamerr") &
spid=$!
early() { [ "$(grep -c '^early' "$DIR/streamout" 2>/dev/null)" = 2 ]; }
wait_for 7 early && ok "both tasks' first lines appear while the step runs" ||
	fail "streamed: '$(cat "$DIR/streamout" 2>/dev/null)'"
[ ! -s "$DIR/streamrc" ] && ok "(the step still runs)" || fail "the step ended early"
wait "$spid"
check_eq "each line once, after the step" "$(sort "$DIR/streamout" | tr '\n' ' ')" \
	"early 0 early 1 late 0 late 1 "
check_eq "srun's exit code from the remote tasks" "$(cat "$DIR/streamrc")" "srun=4"

# srun blocked writing to a full pipe (its reader asleep) for longer than the
# lease keeps its step: the lease is renewed while srun lives.
cat > "$DIR/slow.sh" <<SCRIPT
#!/bin/sh
srun -N2 sh -c 'head -c 200000 /dev/zero | tr "\\\\0" x' | (sleep 9; wc -c) >"$DIR/slowcount"
SCRIPT
chmod +x "$DIR/slow.sh"
(cd "$DIR" && "$AIDC" salloc -N2 ./slow.sh 2>"$DIR/slowerr"); rc=$?
check_eq "a blocked srun's output all arrives" "$(tr -d ' ' <"$DIR/slowcount")" 400000
check_eq "salloc exits 0" "$rc" 0
sid=$("$AIDC" sacct -n -P -o JobID,State | grep '\.0|' | tail -1)
check_eq "its step COMPLETED, not cancelled by the lease" "${sid#*|}" COMPLETED

# srun killed with SIGKILL under salloc: its tasks run on the holders' nodes;
# when srun's lease runs out the controller cancels the step (SIGTERM through
# the holders), the tasks end, and the step ends CANCELLED; salloc goes on.
cat > "$DIR/lost.sh" <<SCRIPT
#!/bin/sh
srun -N2 -J lost sh -c 'echo \$\$ > "$DIR/lostpid.\$SLURM_PROCID"; exec sleep 300' &
echo \$! > "$DIR/lostsrun"
wait
echo "after=\$SLURM_JOB_ID"
SCRIPT
chmod +x "$DIR/lost.sh"
(cd "$DIR" && "$AIDC" salloc -N2 ./lost.sh >"$DIR/lostout" 2>"$DIR/losterr") &
spid=$!
two_tasks() { test -s "$DIR/lostpid.0" && test -s "$DIR/lostpid.1"; }
wait_for 60 two_tasks || fail "the step's two tasks did not start: $(cat "$DIR/losterr")"
kill -9 "$(cat "$DIR/lostsrun")"
lid=$("$AIDC" squeue -s -h -o %i)
[[ "$lid" == *.0 ]] && ok "squeue -s: step $lid runs after its srun was killed" || fail "squeue -s: $lid"
no_steps() { [ -z "$("$AIDC" squeue -s -h)" ]; }
wait_for 30 no_steps && ok "the lost step ended (lease)" || fail "squeue -s: $("$AIDC" squeue -s -h)"
check_eq "sacct: the lost step CANCELLED" "$("$AIDC" sacct -n -P -j "$lid" -o State,ExitCode)" \
	"CANCELLED|0:15"
tasks_gone() {
	! kill -0 "$(cat "$DIR/lostpid.0")" 2>/dev/null && ! kill -0 "$(cat "$DIR/lostpid.1")" 2>/dev/null
}
wait_for 10 tasks_gone && ok "both remote tasks ended" || fail "a task outlived its step"
wait "$spid"
check_eq "salloc's command went on and exited 0" "$(cat "$DIR/lostout")" "after=${lid%.0}"
check_eq "the allocation completed" "$(wait_state "${lid%.0}" completed 30)" completed

# A lost step whose tasks all ended before its lease ran out ends as they
# did (as Slurm's steps end from their nodes' reports), not CANCELLED: under
# salloc (every node a holder's) and in a batch job (node 0's tasks srun's
# own: srun reports them when they end before the other nodes').
cat > "$DIR/done.sh" <<SCRIPT
#!/bin/sh
srun -v -N2 -J done sh -c 'if [ \$SLURM_PROCID = 1 ]; then while [ ! -e "$DIR/go\$GO" ]; do sleep 0.1; done; exit 3; fi' \
	2>"$DIR/done\$GO.err" &
echo \$! > "$DIR/donesrun\$GO"
wait
while [ ! -e "$DIR/end\$GO" ]; do sleep 0.1; done
SCRIPT
chmod +x "$DIR/done.sh"
(cd "$DIR" && GO=1 "$AIDC" salloc -N2 ./done.sh >/dev/null 2>&1) &
spid=$!
wait_for 60 grep -q "step .* task(s) on" "$DIR/done1.err" || fail "step done did not start: $(cat "$DIR/done1.err")"
did=$("$AIDC" squeue -s -h -o %i)
kill -9 "$(cat "$DIR/donesrun1")"
touch "$DIR/go1"
wait_for 30 no_steps && ok "the lost step $did ended" || fail "squeue -s: $("$AIDC" squeue -s -h)"
check_eq "salloc: the lost step whose tasks had ended: FAILED 3:0, as they did" \
	"$("$AIDC" sacct -n -P -j "$did" -o State,ExitCode)" "FAILED|3:0"
touch "$DIR/end1"
wait "$spid"
cat > "$DIR/done2.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2 --ntasks-per-node=1
export GO=2
. $DIR/done.sh
SCRIPT
bid=$(cd "$DIR" && "$AIDC" sbatch --parsable done2.sh)
wait_for 60 grep -q "ended, reported" "$DIR/done2.err" ||
	fail "srun -v did not report node 0's tasks: $(cat "$DIR/done2.err")"
kill -9 "$(cat "$DIR/donesrun2")"
touch "$DIR/go2"
wait_for 30 no_steps && ok "the lost batch step ended" || fail "squeue -s: $("$AIDC" squeue -s -h)"
check_eq "batch: the lost step whose tasks had ended (node 0's reported by srun): FAILED 3:0" \
	"$("$AIDC" sacct -n -P -j "$bid.0" -o State,ExitCode)" "FAILED|3:0"
touch "$DIR/end2"
check_eq "batch job $bid completes" "$(wait_state "$bid" "$END" 60)" completed
finish
