#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Agent crash safety: the agent _exit()s at each critical point of a launch
# (test hook AIDC_AGENT_FAULT, docs/live.md), is restarted on the same state
# dir, and the job still completes exactly once (one line in its marker file):
#   exit-after-launch   children forked, waiting at their gates, nothing saved
#   exit-after-save     tasks.json names the task, its gate never opened
#   exit-after-release  the task runs, nothing reported yet
#   exit-after-report   its "running" report was taken
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

gone() { ! kill -0 "$1" 2>/dev/null; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

# One center per point, its agent started with the hook: a center whose agent
# was killed with a work poll parked would hand that dead poll the next order
# (the controller resends it only when the agent registers again).
for point in exit-after-launch exit-after-save exit-after-release exit-after-report; do
	AIDC_AGENT_FAULT=$point CPUS=2 center_up 1
	apid=$(cat "$DIR/pids/node-0.pid")
	[ -n "$apid" ] && [ -r "/proc/$apid/cmdline" ] || { fail "$point: agent pid"; center_down; continue; }
	mapfile -d '' cmd <"/proc/$apid/cmdline"
	j=$(submit -J "crash-$point" -- sh -c "echo run >> $DIR/marker.\$AIDC_JOB_ID; sleep 1")
	[ -n "$j" ] || { fail "$point: submit"; center_down; continue; }
	if wait_for 60 gone "$apid"; then ok "$point: the agent exited at the fault point"; else
		fail "$point: the agent exited at the fault point"; fi
	grep -q "AIDC_AGENT_FAULT=$point: exiting" "$DIR/agent-0.log" ||
		fail "$point: the hook fired (agent log)"
	kill -9 "$apid" 2>/dev/null
	env -u AIDC_AGENT_FAULT setsid "${cmd[@]}" >>"$DIR/agent-0.log" 2>&1 </dev/null &
	echo $! >"$DIR/pids/node-0.pid"
	if [ "$point" = exit-after-save ]; then
		wait_for 30 grep -q "job $j task 0 never started" "$DIR/agent-0.log" ||
			fail "$point: the restarted agent saw that job $j never started"
	fi
	check_eq "$point: job $j completes" "$(wait_state "$j" 'completed|failed|cancelled|node_fail' 90)" completed
	# Give a second run (if one were coming) the time to show up.
	wait_for 2 false
	check_eq "$point: job $j ran exactly once" "$(lines "$DIR/marker.$j")" 1
	center_down
done

# Tasks that end while their agent is down: their shims keep the status, so
# the restarted agent reports the real exits (not "lost": no requeue, no
# second run).
CPUS=2 center_up 1
apid=$(cat "$DIR/pids/node-0.pid")
mapfile -d '' cmd <"/proc/$apid/cmdline"
wait_go="while [ ! -e $DIR/go ]; do sleep 0.1; done"
ok0=$(submit -J ends-ok -- sh -c "echo run >> $DIR/marker.\$AIDC_JOB_ID; $wait_go")
bad3=$(submit -J ends-3 -- sh -c "echo run >> $DIR/marker.\$AIDC_JOB_ID; $wait_go; exit 3")
for j in $ok0 $bad3; do check_eq "job $j running" "$(wait_state "$j" running 60)" running; done
wait_for 30 test -s "$DIR/marker.$bad3" || fail "job $bad3 started"
kill -9 "$apid"
wait_for 10 gone "$apid" || fail "agent died"
touch "$DIR/go"
# Both programs end while no agent runs (their shims stay, named by status).
shims=$("$PY" -c 'import json,sys; print(" ".join(str(t["pid"]) for t in json.load(open(sys.argv[1]))["tasks"]))' "$DIR/agent-0/tasks.json")
EXTRA_PIDS=$shims
check_eq "tasks.json names both" "$(echo $shims | wc -w)" 2
shims_done() { for p in $shims; do grep -q '^aidc-exit:e' "/proc/$p/comm" 2>/dev/null || return 1; done; }
wait_for 30 shims_done || fail "the shims hold the exit statuses"
setsid "${cmd[@]}" >>"$DIR/agent-0.log" 2>&1 </dev/null &
echo $! >"$DIR/pids/node-0.pid"
check_eq "job ended 0 while the agent was down completes" "$(wait_state "$ok0" 'completed|failed|cancelled|node_fail' 60)" completed
check_eq "job ended 3 while the agent was down fails" "$(wait_state "$bad3" 'completed|failed|cancelled|node_fail' 60)" failed
check_eq "... with its exit code" "$(job_field "$bad3" exit_code)" 3
wait_for 2 false
check_eq "job $ok0 ran once" "$(lines "$DIR/marker.$ok0")" 1
check_eq "job $bad3 ran once" "$(lines "$DIR/marker.$bad3")" 1
no_shims() { for p in $shims; do ! kill -0 "$p" 2>/dev/null || return 1; done; }
wait_for 10 no_shims && ok "the restarted agent collected the shims" || fail "shims left of $shims"
center_down
finish
