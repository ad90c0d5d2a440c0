#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Disk GC of the agent's <state_dir>/tasks: 50 jobs (batch scripts and
# commands, some with -o), then, once the controller has acknowledged every
# exit and all output, none of their files is left (batch scripts and output
# files are removed, or recycled as spare.N with cgroups: at most
# AGENT_SPARE_LOGS = 512 of those); `aidc logs` still has the output (it is
# the controller's copy). A restarted agent removes task files that belong to
# no task it knows.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=4 center_up 1 ${AGENT_GC_LIMITS:+--limits "$AGENT_GC_LIMITS"}
tdir=$DIR/agent-0/tasks
printf '#!/bin/sh\necho script $AIDC_JOB_ID\n' >"$DIR/job.sh"
ids=()
for i in $(seq 1 25); do
	ids+=("$(submit -J "gc-s$i" "$DIR/job.sh")")
	ids+=("$(submit -J "gc-c$i" -o "$DIR/out.%j" -- echo "cmd $i")")
done
check_eq "50 jobs submitted" "${#ids[@]}" 50
for j in "${ids[@]}"; do
	st=$(wait_state "$j" 'completed|failed|cancelled' 120)
	[ "$st" = completed ] || fail "job $j: $st"
done
ok "all 50 jobs ended"
task_files() { find "$tdir" -maxdepth 1 -type f -regex '.*/[0-9]+\.[0-9]+\.[0-9]+\.\(out\|err\|sh\)' | wc -l; }
spares() { find "$tdir" -maxdepth 1 -type f -name 'spare.*' | wc -l; }
# Tasks are forgotten once the controller took their exits and the work polls
# begun before have been answered (a long-poll: up to its 20 s wait).
none_left() { [ "$(task_files)" -eq 0 ]; }
if wait_for 60 none_left; then ok "no files of ended tasks are left"; else
	fail "files of ended tasks left: $(task_files): $(ls "$tdir" | grep -v spare | head -5)"; fi
n=$(find "$tdir" -maxdepth 1 | wc -l)
echo "note: $tdir holds $n entries ($(spares) spare files) after 50 jobs"
[ "$(spares)" -le 512 ] && ok "spare files bounded ($(spares) <= 512)" || fail "spare files: $(spares)"
[ "$n" -le $((512 + 1)) ] && ok "directory bounded" || fail "directory holds $n entries"
check_eq "aidc logs still has the output" "$("$AIDC" logs "${ids[0]}" 2>&1)" "script ${ids[0]}"
check_eq "-o file of a command job" "$(cat "$DIR/out.${ids[1]}" 2>&1)" "cmd 1"

# Files of tasks the agent does not know (left by a run that died after
# forgetting them) go at the next start.
apid=$(cat "$DIR/pids/node-0.pid")
mapfile -d '' cmd <"/proc/$apid/cmdline"
kill -9 "$apid"
wait_for 10 sh -c "! kill -0 $apid 2>/dev/null" || fail "agent died"
touch "$tdir/9999.0.0.out" "$tdir/9999.0.0.err" "$tdir/9999.0.0.sh" "$tdir/keep.me"
setsid "${cmd[@]}" >>"$DIR/agent-0.log" 2>&1 </dev/null &
echo $! >"$DIR/pids/node-0.pid"
if wait_for 30 test ! -e "$tdir/9999.0.0.sh"; then ok "stale task files removed at start"; else
	fail "stale task files removed at start"; fi
check_eq "stale .out/.err removed" "$(ls "$tdir" | grep -c '^9999\.')" 0
[ -e "$tdir/keep.me" ] && ok "other files untouched" || fail "other files untouched"
finish
