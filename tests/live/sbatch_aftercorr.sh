#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --dependency=aftercorr:ID on a local center (issue 13 item 4, Slurm's
# meaning): element i of the dependent array starts only after element i of
# array ID completed, whatever order ID's elements end in (each element
# checks its counterpart's marker when it starts); where ID's element failed,
# that element alone stays pending with DependencyNeverSatisfied (split off as
# a job of its own; the others run), across a controller kill -9, or is
# cancelled with --kill-on-invalid-dep=yes; an index ID does not have waits
# for ID whole; a job that is not an array waits for ID whole (as afterok).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 2

sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
reason() { job_field "$1" pending_reason; }
markers() { (cd "$1" && for f in *; do [ -f "$f" ] && echo "$f:$(cat "$f" | tr '\n' ' ' | sed 's/ $//')"; done | sort -n); }

mkdir -p "$DIR/a" "$DIR/b" "$DIR/c"
# A: index i sleeps (4-i)*0.5 s, so they end in reverse order; index 2 fails.
cat >"$DIR/a.sh" <<'SCRIPT'
#!/bin/sh
i=$SLURM_ARRAY_TASK_ID
sleep $(( (4 - i) / 2 )).$(( (4 - i) % 2 * 5 ))
[ "$i" = 2 ] && exit 1
touch "a/$i"
SCRIPT
# B, C: each element records whether its counterpart had completed.
cat >"$DIR/b.sh" <<'SCRIPT'
#!/bin/sh
d=$1
i=$SLURM_ARRAY_TASK_ID
if [ -e "a/$i" ]; then echo after >>"$d/$i"; else echo early >>"$d/$i"; fi
SCRIPT
A=$(sb --parsable --array=0-3 -o /dev/null a.sh)
B=$(sb --parsable --array=0-4 -d "aftercorr:$A" -o /dev/null b.sh b)
C=$(sb --parsable --array=0-3 -d "aftercorr:$A" --kill-on-invalid-dep=yes -o /dev/null b.sh c)
D=$(sb --parsable -d "aftercorr:$A" -o /dev/null --wrap true)
[[ "$A$B$C$D" =~ ^[0-9]+$ ]] && ok "aftercorr:$A accepted for $B, $C, $D" || fail "ids: $A $B $C $D"
check_eq "$B waits" "$(reason "$B")" dependency
check_eq "the array completes with a failed element" "$(wait_state "$A" "$END" 60)" failed
wait_for 60 sh -c "[ \$(ls \"$DIR/b\" | wc -l) -ge 3 ]" || fail "B's elements 0 1 3 ran"
check_eq "B's elements ran once each, after their counterparts" "$(markers "$DIR/b" | tr '\n' ' ')" \
	"0:after 1:after 3:after "
check_eq "${B}_2 (its counterpart failed): DependencyNeverSatisfied" "$(wait_field "${B}_2" pending_reason 30)" \
	DependencyNeverSatisfied
[ "$(job_field "${B}_2" id)" != "$B" ] && ok "${B}_2 is a job of its own" || fail "${B}_2 is still in $B"
check_eq "${B}_4 (no ${A}_4: $A counts whole, failed)" "$(wait_field "${B}_4" pending_reason 30)" \
	DependencyNeverSatisfied
check_eq "a non-array job waits for $A whole" "$(reason "$D")" DependencyNeverSatisfied
check_eq "--kill-on-invalid-dep: $C ends" "$(wait_state "$C" "$END" 60)" failed
check_eq "its counterpart-failed index was cancelled, the rest ran" "$(markers "$DIR/c" | tr '\n' ' ')" \
	"0:after 1:after 3:after "
check_eq "$C's reason" "$(job_field "$C" reason)" "1 of 4 elements did not complete"
ctl_restart || fail "the controller came back"
sleep 1
check_eq "after a kill -9: ${B}_2 still never" "$(reason "${B}_2")" DependencyNeverSatisfied
check_eq "B still pending, nothing more ran" "$(job_field "$B" state):$(ls "$DIR/b" | wc -l)" pending:3
"$AIDC" scancel "$B" "$D" || fail "scancel $B $D"
check_eq "$B cancelled" "$(wait_state "$B" "$END" 30)" cancelled
check_eq "and its waiting elements" "$(wait_state "${B}_4" "$END" 30)" cancelled

# aftercorr on a plain job that completed: an array's elements run.
P=$(submit -o /dev/null -- true)
check_eq "job $P completes" "$(wait_state "$P" "$END" 60)" completed
E=$(sb --parsable --array=0-2 -d "aftercorr:$P" -o /dev/null --wrap true)
check_eq "aftercorr:$P (not an array) counts whole" "$(wait_state "$E" "$END" 60)" completed
for bad in "aftercorr|needs :JOBID" "aftercorr:999999|no job 999999" "aftercor:1|not a dependency type"; do
	d=${bad%%|*} want=${bad#*|}
	out=$(sb -d "$d" --array=0-1 --wrap true 2>&1) && fail "-d $d accepted: $out" ||
		{ [[ "$out" == *"$want"* ]] && ok "-d $d refused: $out" || fail "-d $d: $out (want '$want')"; }
done
finish
