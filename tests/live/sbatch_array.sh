#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Job arrays of `aidc sbatch --array` on a local center (issue 13 item 3):
# every index runs once as its own job with SLURM_ARRAY_* and its own
# SLURM_JOB_ID, output in slurm-%A_%a.out; the %LIMIT throttle as the
# elements themselves see it (never more than LIMIT at once, from their own
# start and end times); squeue's compact 12_[3-9%2]; scancel of one pending
# element, one running element and the whole array; afterok on the array
# waits for all its elements; a controller kill -9 in the middle loses and
# repeats nothing; malformed specs create nothing. Each element leaves a
# marker file: what ran, how often, with which environment.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 2

sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
njobs() { "$AIDC" jobs --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); print(len(d.get("jobs", d)))'; }
# markers DIR -> "index:count" of each index that ran, sorted
markers() { (cd "$1" && for f in *; do [ -f "$f" ] && echo "$f:$(wc -l <"$f")"; done | sort -n); }

# --- every index once, its environment, %A_%a output ------------------------
mkdir -p "$DIR/m1"
cat >"$DIR/a1.sh" <<'SCRIPT'
#!/bin/sh
#SBATCH -J arr1 --array=1,3,5-9:2
echo "job=$SLURM_JOB_ID ajob=$SLURM_ARRAY_JOB_ID task=$SLURM_ARRAY_TASK_ID count=$SLURM_ARRAY_TASK_COUNT min=$SLURM_ARRAY_TASK_MIN max=$SLURM_ARRAY_TASK_MAX step=$SLURM_ARRAY_TASK_STEP" >>"m1/$SLURM_ARRAY_TASK_ID"
echo "out of $SLURM_ARRAY_TASK_ID"
SCRIPT
A=$(sb --parsable a1.sh)
[[ "$A" =~ ^[0-9]+$ ]] && ok "--array submits one job: $A" || fail "--parsable printed '$A'"
check_eq "the array ends when its elements have" "$(wait_state "$A" "$END" 60)" completed
check_eq "each index ran once" "$(markers "$DIR/m1" | tr '\n' ' ')" "1:1 3:1 5:1 7:1 9:1 "
ids=""
for t in 1 3 5 7 9; do
	line=$(cat "$DIR/m1/$t" 2>/dev/null)
	jid=$(echo "$line" | sed -n 's/^job=\([0-9]*\) .*/\1/p')
	ids="$ids $jid"
	check_eq "element $t's SLURM_ARRAY_*" "${line#job=* }" \
		"ajob=$A task=$t count=5 min=1 max=9 step=2"
	[ -n "$jid" ] && [ "$jid" != "$A" ] && ok "element $t is job $jid of its own" ||
		fail "element $t's SLURM_JOB_ID '$jid'"
	check_eq "slurm-${A}_$t.out" "$(cat "$DIR/slurm-${A}_$t.out" 2>/dev/null)" "out of $t"
	check_eq "aidc job $jid names its array" "$(job_field "$jid" array_job_id):$(job_field "$jid" array_task_id)" "$A:$t"
done
check_eq "elements' job ids are distinct" "$(echo $ids | tr ' ' '\n' | sort -u | wc -l)" 5

# --- the throttle, squeue's compact form, a pending element cancelled ---------
mkdir -p "$DIR/m2"
cat >"$DIR/a2.sh" <<'SCRIPT'
#!/bin/sh
#SBATCH -J arr2 -o /dev/null
echo "$(date +%s.%N) 1" >>m2/times
sleep 0.4
echo "$(date +%s.%N) -1" >>m2/times
echo x >>"m2/$SLURM_ARRAY_TASK_ID"
SCRIPT
B=$(sb --parsable --array=0-11%2 a2.sh)
wait_for 20 sh -c "\"$AIDC\" squeue -h -o '%i' | grep -q '^${B}_\\['" || fail "squeue never showed ${B}_[...]"
sq=$("$AIDC" squeue -h -o '%i %t' | tr '\n' ' ')
[[ "$sq" =~ ${B}_\[[0-9,:-]+%2\]\ PD ]] && ok "squeue shows the pending remainder compactly: $sq" ||
	fail "squeue: $sq"
[[ "$sq" =~ ${B}_[0-9]+\ R ]] && ok "and running elements as ${B}_N" || fail "no running element in: $sq"
"$AIDC" scancel "${B}_11" || fail "scancel ${B}_11 (pending)"
check_eq "the array ends" "$(wait_state "$B" "$END" 90)" failed
check_eq "every index but the cancelled one ran once" "$(markers "$DIR/m2" | grep -v times | tr '\n' ' ')" \
	"0:1 1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 9:1 10:1 "
most=$(sort -n "$DIR/m2/times" | awk '{n += $2; if (n > m) m = n} END {print m}')
[ "${most:-9}" -le 2 ] && ok "never more than 2 elements ran at once (%2; seen: $most)" ||
	fail "%2 throttle: $most at once"
check_eq "the array's reason names the cancelled element" "$(job_field "$B" reason)" \
	"1 of 12 elements did not complete"

# --- afterok on the array, cancel a running element and the whole array -------
mkdir -p "$DIR/m3"
printf '#!/bin/sh\nsleep 0.3\necho x >>"m3/$SLURM_ARRAY_TASK_ID"\n' >"$DIR/a3.sh"
C=$(sb --parsable --array=0-5%3 -o /dev/null a3.sh)
D=$(sb --parsable --dependency=afterok:$C -o /dev/null --wrap "ls m3 | wc -l >m3.after")
check_eq "afterok:array runs after all its elements" "$(wait_state "$D" "$END" 60)" completed
check_eq "it saw all 6 elements done" "$(cat "$DIR/m3.after" 2>/dev/null)" 6

printf '#!/bin/sh\necho x >>"m4/$SLURM_ARRAY_TASK_ID"\nsleep 30\n' >"$DIR/a4.sh"
mkdir -p "$DIR/m4"
E=$(sb --parsable --array=0-99%2 -o /dev/null a4.sh)
wait_for 20 sh -c "[ \$(ls \"$DIR/m4\" | wc -l) -ge 2 ]" || fail "two elements of $E started"
one=$("$AIDC" squeue -h -o '%i %t' | awk -v p="${E}_" 'index($1, p) == 1 && $2 == "R" {print $1; exit}')
"$AIDC" scancel "$one" || fail "scancel $one (running)"
wait_for 20 sh -c "[ \$(ls \"$DIR/m4\" | wc -l) -ge 3 ]" && ok "cancelling running $one starts the next" ||
	fail "no element started after $one was cancelled"
"$AIDC" scancel "$E" || fail "scancel $E (the whole array)"
check_eq "scancel ARRAY cancels it" "$(wait_state "$E" "$END" 30)" cancelled
wait_for 30 sh -c "! \"$AIDC\" squeue -h -o '%i' | grep -q '^${E}_'" &&
	ok "no element of $E is left" || fail "left: $("$AIDC" squeue -h -o '%i %t' | tr '\n' ' ')"
ran=$(ls "$DIR/m4" | wc -l)
[ "$ran" -le 4 ] && ok "only $ran of 100 elements ever started" || fail "$ran elements of $E started"

# --- hold and release of the whole array ---------------------------------------
mkdir -p "$DIR/m6"
printf '#!/bin/sh\necho x >>"m6/$SLURM_ARRAY_TASK_ID"\n' >"$DIR/a6.sh"
G=$(sb --parsable -H --array=0-3 -o /dev/null a6.sh)
check_eq "-H: the array waits held" "$(job_field "$G" pending_reason)" held
check_eq "aidc job shows its pending indices" "$(job_field "$G" array_pending)" 0-3
"$AIDC" release "$G" >/dev/null || fail "aidc release $G"
check_eq "released, it completes" "$(wait_state "$G" "$END" 60)" completed
check_eq "each index ran once after the release" "$(markers "$DIR/m6" | tr '\n' ' ')" "0:1 1:1 2:1 3:1 "

# --- a controller kill -9 in the middle: nothing lost, nothing repeated ------
mkdir -p "$DIR/m5"
printf '#!/bin/sh\necho x >>"m5/$SLURM_ARRAY_TASK_ID"\nsleep 0.2\n' >"$DIR/a5.sh"
F=$(sb --parsable --array=0-39%4 -o /dev/null a5.sh)
wait_for 30 sh -c "[ \$(ls \"$DIR/m5\" | wc -l) -ge 8 ]" || fail "8 elements of $F started"
ctl_restart || fail "the controller came back"
check_eq "the array completes after the restart" "$(wait_state "$F" "$END" 120)" completed
want=$(seq 0 39 | sed 's/$/:1/' | tr '\n' ' ')
check_eq "all 40 indices ran exactly once across the restart" "$(markers "$DIR/m5" | tr '\n' ' ')" "$want"

# --- aidc submit --array: each element a gang of its own ----------------------
mkdir -p "$DIR/m7"
H=$(submit -n 2 --array=4-5 -o /dev/null -- sh -c 'echo "$SLURM_ARRAY_JOB_ID" >>"m7/$SLURM_ARRAY_TASK_ID"')
check_eq "aidc submit --array completes" "$(wait_state "$H" "$END" 60)" completed
check_eq "each index ran as a 2-task gang" "$(markers "$DIR/m7" | tr '\n' ' ')" "4:2 5:2 "
check_eq "its elements know their array" "$(sort -u "$DIR/m7/4" 2>/dev/null)" "$H"

# --- malformed specs: a clear error, nothing created --------------------------
before=$(njobs)
for bad in 9-1 1-5:0 '0-9%0' 0-100000 '1,,2' x 5:2 4000001; do
	sb --array="$bad" a1.sh >/dev/null 2>"$DIR/err" && fail "--array=$bad accepted" ||
		ok "--array=$bad refused: $(cat "$DIR/err")"
done
printf '#!/bin/sh\n#SBATCH --array=3-1\ntrue\n' >"$DIR/bad.sh"
sb bad.sh >/dev/null 2>"$DIR/err" && fail "#SBATCH --array=3-1 accepted" ||
	ok "#SBATCH --array=3-1 refused: $(cat "$DIR/err")"
sb -o 'x_%a.out' --wrap true >/dev/null 2>"$DIR/err" && fail "%a without --array accepted" ||
	ok "%a without --array refused: $(cat "$DIR/err")"
check_eq "refusals created no job" "$(njobs)" "$before"
finish
