#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One element of a job array by ID_INDEX (issue 13): `aidc job A_T`,
# `scontrol show job A_T` and GET /v1/jobs/A_T name the running element, the
# array itself while T is still one of its pending indices (as Slurm's
# scontrol), and an ended element read back from the store. `aidc hold A_T`
# of a pending index splits it off as a job of its own (as Slurm) that never
# starts while held; the rest of the array runs past it (a held element does
# not count against %LIMIT); it stays held across a controller kill -9;
# released, it runs once. Released while the array is at its %LIMIT it waits
# with reason JobArrayTaskLimit. `aidc release A` releases the array and its
# held elements; A_T of a held array releases that index alone. Bad
# references get clear errors and change nothing.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 1

sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
markers() { (cd "$1" && for f in *; do [ -f "$f" ] && echo "$f:$(wc -l <"$f")"; done | sort -n); }

# --- A_T of a running element, a pending index, an ended element -------------
mkdir -p "$DIR/m1"
printf '#!/bin/sh\necho x >>"m1/$SLURM_ARRAY_TASK_ID"\nsleep 4\n' >"$DIR/a1.sh"
A=$(sb --parsable --array=0-5%1 -o /dev/null a1.sh)
wait_for 30 test -e "$DIR/m1/0" || fail "element ${A}_0 started"
e0=$(job_field "${A}_0" id)
[[ "$e0" =~ ^[0-9]+$ ]] && [ "$e0" != "$A" ] && ok "aidc job ${A}_0 is element job $e0" ||
	fail "aidc job ${A}_0: id '$e0'"
check_eq "its array and index" "$(job_field "${A}_0" array_job_id):$(job_field "${A}_0" array_task_id)" "$A:0"
check_eq "a pending index shows its array (as Slurm)" "$(job_field "${A}_5" id)" "$A"
out=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$AIDC_SOCKET" "http://x/v1/jobs/${A}_4")
check_eq "GET /v1/jobs/${A}_4" "$out" 200
"$AIDC" scontrol show job "${A}_0" | grep -q "\"array_task_id\":0" && ok "scontrol show job ${A}_0" ||
	fail "scontrol show job ${A}_0: $("$AIDC" scontrol show job "${A}_0" 2>&1)"

# --- hold one pending index: split off, held; the rest runs past it ------------
out=$("$AIDC" hold "${A}_3" 2>&1) || fail "aidc hold ${A}_3: $out"
h=$(job_field "${A}_3" id)
[[ "$h" =~ ^[0-9]+$ ]] && [ "$h" != "$A" ] && ok "hold ${A}_3 split it off as job $h: $out" ||
	fail "aidc job ${A}_3 after the hold: id '$h'"
check_eq "${A}_3 is held" "$(job_field "${A}_3" pending_reason)" held
"$AIDC" squeue -h -o '%i %t' | grep -q "^${A}_3 PD" && ok "squeue shows ${A}_3 pending" ||
	fail "squeue: $("$AIDC" squeue -h -o '%i %t' | tr '\n' ' ')"
check_eq "squeue -j ${A}_3" "$("$AIDC" squeue -h -j "${A}_3" -o '%i %t %r')" "${A}_3 PD JobHeldUser"
[[ "$("$AIDC" squeue -h -j "${A}_5" -o '%i')" == "${A}_["*"]" ]] &&
	ok "squeue -j ${A}_5 (pending) shows the array: $("$AIDC" squeue -h -j "${A}_5" -o '%i')" ||
	fail "squeue -j ${A}_5: $("$AIDC" squeue -h -j "${A}_5" -o '%i' 2>&1)"
out=$("$AIDC" squeue -j "${A}_x" 2>&1) && fail "squeue -j ${A}_x accepted" ||
	{ [[ "$out" == *"is not a job id"* ]] && ok "squeue -j ${A}_x: $out" || fail "squeue -j ${A}_x: $out"; }
wait_for 60 sh -c "[ \$(ls \"$DIR/m1\" | wc -l) -ge 5 ]" &&
	ok "the other 5 indices ran past the held one (%1 does not count it)" ||
	fail "ran: $(markers "$DIR/m1" | tr '\n' ' ')"
[ -e "$DIR/m1/3" ] && fail "held ${A}_3 ran" || ok "held ${A}_3 never ran"
check_eq "the array waits for its held element" "$(job_field "$A" state)" pending
ctl_restart || fail "the controller came back"
check_eq "after a kill -9, ${A}_3 is still held" "$(job_field "${A}_3" pending_reason)" held
check_eq "and is still job $h" "$(job_field "${A}_3" id)" "$h"
out=$("$AIDC" release "${A}_3" 2>&1) || fail "aidc release ${A}_3: $out"
check_eq "released, the array completes" "$(wait_state "$A" "$END" 60)" completed
check_eq "every index ran once" "$(markers "$DIR/m1" | tr '\n' ' ')" "0:1 1:1 2:1 3:1 4:1 5:1 "
check_eq "an ended element from the store" "$(job_field "${A}_0" id):$(job_field "${A}_0" state)" "$e0:completed"
check_eq "the released one" "$(job_field "${A}_3" id):$(job_field "${A}_3" state)" "$h:completed"

# --- released at the array's %LIMIT: JobArrayTaskLimit ------------------------
mkdir -p "$DIR/m2"
printf '#!/bin/sh\necho x >>"m2/$SLURM_ARRAY_TASK_ID"\nsleep 30\n' >"$DIR/a2.sh"
B=$(sb --parsable --array=0-3%1 -o /dev/null a2.sh)
wait_for 30 test -e "$DIR/m2/0" || fail "element ${B}_0 started"
"$AIDC" hold "${B}_2" >/dev/null || fail "aidc hold ${B}_2"
"$AIDC" release "${B}_2" >/dev/null || fail "aidc release ${B}_2"
check_eq "released at %1 with ${B}_0 running" "$(job_field "${B}_2" pending_reason)" JobArrayTaskLimit
"$AIDC" scancel "$B" || fail "scancel $B"
check_eq "scancel of the array" "$(wait_state "$B" "$END" 30)" cancelled
check_eq "cancels the split-off element too" "$(wait_state "${B}_2" "$END" 30)" cancelled
[ -e "$DIR/m2/2" ] && fail "${B}_2 ran" || ok "${B}_2 never ran"

# --- a held array: release A releases held elements; A_T one index -------------
mkdir -p "$DIR/m3"
printf '#!/bin/sh\necho x >>"m3/$SLURM_ARRAY_TASK_ID"\n' >"$DIR/a3.sh"
C=$(sb --parsable -H --array=0-3 -o /dev/null a3.sh)
"$AIDC" release "${C}_2" >/dev/null || fail "aidc release ${C}_2 of a held array"
check_eq "release ${C}_2 runs that index alone" "$(wait_state "${C}_2" "$END" 60)" completed
check_eq "the array stays held" "$(job_field "$C" pending_reason)" held
"$AIDC" hold "${C}_1" >/dev/null || fail "aidc hold ${C}_1 of a held array"
check_eq "${C}_1 is a held job of its own" "$(job_field "${C}_1" pending_reason)" held
"$AIDC" release "$C" >/dev/null || fail "aidc release $C"
check_eq "release $C releases it and ${C}_1" "$(wait_state "$C" "$END" 60)" completed
check_eq "each index ran once" "$(markers "$DIR/m3" | tr '\n' ' ')" "0:1 1:1 2:1 3:1 "

# --- bad references: clear errors, nothing changed ----------------------------
D=$(sb --parsable --array=0-1 -H -o /dev/null a3.sh)
for bad in "${D}_x" "_1" "${D}_" "${D}_-1" "${D}_4000001"; do
	out=$("$AIDC" hold "$bad" 2>&1) && fail "hold $bad accepted" ||
		{ [[ "$out" == *"is not a job id"* ]] && ok "hold $bad: $out" || fail "hold $bad: $out"; }
done
out=$("$AIDC" hold "${D}_7" 2>&1) && fail "hold ${D}_7 accepted" ||
	{ [[ "$out" == *"no pending or running job ${D}_7"* ]] && ok "not an index: $out" || fail "hold ${D}_7: $out"; }
out=$("$AIDC" job "${D}_7" 2>&1) && fail "aidc job ${D}_7 answered" ||
	{ [[ "$out" == *"no job ${D}_7"* ]] && ok "aidc job ${D}_7: $out" || fail "aidc job ${D}_7: $out"; }
out=$("$AIDC" release "${A}_1" 2>&1) && fail "release of ended ${A}_1 accepted" || ok "ended element: $out"
"$AIDC" release "$D" >/dev/null || fail "release $D"
out=$("$AIDC" release "$D" 2>&1) && fail "release of a released array accepted" ||
	{ [[ "$out" == *"not held"* ]] && ok "release twice: $out" || fail "release twice: $out"; }
check_eq "$D completes" "$(wait_state "$D" "$END" 60)" completed
finish
