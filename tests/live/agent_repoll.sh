#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A dead agent's parked work poll must not swallow orders meant for its
# successor: kill -9 an idle agent (its long-poll stays parked in the
# controller), start a new agent under the same name, then submit jobs. Each
# must run on the new agent at once, not wait for the old poll to expire or
# for the next registration.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=4 center_up 1
j0=$(submit -J warm -- true)
check_eq "job $j0 before the restart" "$(wait_state "$j0" completed 60)" completed
apid=$(cat "$DIR/pids/node-0.pid")
mapfile -d '' cmd <"/proc/$apid/cmdline"
sleep 0.5 # the agent's next long-poll is parked in the controller now
kill -9 "$apid"
wait_for 10 sh -c "! kill -0 $apid 2>/dev/null" || fail "agent died"
regs=$(grep -c "registered" "$DIR/agent-0.log")
setsid "${cmd[@]}" >>"$DIR/agent-0.log" 2>&1 </dev/null &
echo $! >"$DIR/pids/node-0.pid"
wait_for 30 sh -c "[ \$(grep -c registered '$DIR/agent-0.log') -gt $regs ]" ||
	fail "new agent registered"
for k in 1 2 3; do
	j=$(submit -J "after-$k" -- true)
	# Well under the agent's long-poll wait: an order given to the dead poll
	# would only come back at the next registration.
	check_eq "job $j after the restart" "$(wait_state "$j" completed 10)" completed
done
finish
