#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Agent restart (issue 4): kill -9 of an agent with tasks running, then a new
# agent on the same state dir. A task still running is adopted (same pid, the
# job stays running, a later cancel still stops it); a task that died while
# the agent was down is reported lost (the job does not hang); and, where the
# agent uses cgroups, a task missing from the agent's state file is killed as
# an orphan instead of running untracked.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=4 center_up 1
loop='echo $$ > '"$DIR"'/pid.$AIDC_JOB_ID; while :; do sleep 0.2; done'
j1=$(submit -J adopt -- sh -c "$loop")
j2=$(submit -J dies -- sh -c "$loop")
j3=$(submit -J orphan -- sh -c "$loop")
for j in $j1 $j2 $j3; do
	check_eq "job $j running" "$(wait_state "$j" running 60)" running
	wait_for 30 test -s "$DIR/pid.$j" || fail "job $j wrote its pid"
done
p1=$(cat "$DIR/pid.$j1") p2=$(cat "$DIR/pid.$j2") p3=$(cat "$DIR/pid.$j3")
EXTRA_PIDS="$p1 $p2 $p3" # killed on exit whatever happens
cgroups=0
grep -q "limits: cgroup" "$DIR/agent-0.log" && cgroups=1

apid=$(cat "$DIR/pids/node-0.pid")
[ -n "$apid" ] && [ -r "/proc/$apid/cmdline" ] || { fail "agent pid"; exit 1; }
mapfile -d '' cmd <"/proc/$apid/cmdline"
kill -9 "$apid"
wait_for 10 sh -c "! kill -0 $apid 2>/dev/null" || fail "agent died"
kill -9 "$p2" # dies while its agent is down
# Forget job 3 in the state file: with cgroups the new agent must kill it.
"$PY" - "$DIR/agent-0/tasks.json" "$j3" <<'PYEOF'
import json, sys
p, j = sys.argv[1], int(sys.argv[2])
d = json.load(open(p))
d["tasks"] = [t for t in d["tasks"] if t["job"] != j]
json.dump(d, open(p, "w"))
PYEOF
setsid "${cmd[@]}" >>"$DIR/agent-0.log" 2>&1 </dev/null &
echo $! >"$DIR/pids/node-0.pid"

wait_for 30 grep -q "adopted job $j1 " "$DIR/agent-0.log" && ok "job $j1 adopted" ||
	fail "job $j1 adopted"
# A lost task ends its attempt: the job is requeued (the default policy) or failed.
moved_on() { local st; st=$(job_field "$1" state); [ "$st" = failed ] || [ "$st" = node_fail ] || [ "$(job_field "$1" attempt)" != 0 ]; }
if wait_for 60 moved_on "$j2"; then ok "job $j2 (died unobserved) ended its attempt: $(job_field "$j2" state), attempt $(job_field "$j2" attempt)"; else
	fail "job $j2 (died unobserved) ended its attempt: state $(job_field "$j2" state) attempt $(job_field "$j2" attempt)"; fi
sleep_until_heartbeats() { [ "$(job_field "$j1" state)" = running ] && kill -0 "$p1" 2>/dev/null; }
# Several heartbeats later the adopted job is still running, same process.
for _ in 1 2 3; do
	wait_for 2 false
	sleep_until_heartbeats || break
done
if sleep_until_heartbeats; then ok "job $j1 still running in pid $p1"; else
	fail "job $j1 still running in pid $p1: state $(job_field "$j1" state)"; fi
if [ "$cgroups" -eq 1 ]; then
	if wait_for 30 sh -c "! kill -0 $p3 2>/dev/null"; then ok "orphan of job $j3 killed"; else
		fail "orphan of job $j3 killed (pid $p3 alive)"; fi
	if wait_for 60 moved_on "$j3"; then ok "job $j3 ended its attempt"; else
		fail "job $j3 ended its attempt: state $(job_field "$j3" state)"; fi
else
	echo "note: no cgroups here, the orphan check is skipped"
fi
"$AIDC" cancel "$j1" >/dev/null
check_eq "adopted job cancels" "$(wait_state "$j1" 'cancelled|failed|completed' 60)" cancelled
if wait_for 30 sh -c "! kill -0 $p1 2>/dev/null"; then ok "adopted task stopped"; else
	fail "adopted task stopped (pid $p1 alive)"; fi
finish
