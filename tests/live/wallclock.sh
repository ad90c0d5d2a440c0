#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A wall-clock step does not disturb the center (issue 15 item 2): the
# controller and agents time heartbeats, node timeouts, long-polls and their
# waits on CLOCK_MONOTONIC; only what users see and what is stored follows the
# wall clock. The step is injected with AIDC_TEST_WALL_STEP=AFTER_S:DELTA_S
# (util/clock.h), which the daemons inherit from `aidc up`: a time namespace
# cannot step CLOCK_REALTIME (it offsets only the monotonic and boot clocks),
# and stepping the host's clock would disturb everything else on it.
#
# For a step of +1 h and one of -1 h: a center with two agents and a node
# timeout of 10 s; after the step (seen in a new job's submit time), wait past
# the node timeout: both nodes stay up, no node was ever marked down, and a job
# submitted after the step runs and completes. A step back of 1 h would park
# the controller's loop for an hour if its wait were on the wall clock.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

node_states() {
	"$AIDC" nodes --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); print(" ".join(sorted(n["state"] for n in d.get("nodes", d))))'
}

one_step() { # DELTA_S
	local delta=$1 after=4
	export AIDC_TEST_WALL_STEP=$after:$delta
	center_up 2
	unset AIDC_TEST_WALL_STEP
	local t0=$SECONDS
	grep -q "AIDC_TEST_WALL_STEP=$after:$delta: the wall clock steps" "$DIR/controller.log" &&
		ok "[$delta s] the controller says the test step is set" ||
		fail "[$delta s] the controller logs the test step"
	both_up() { [ "$(node_states)" = "up up" ]; }
	wait_for 20 both_up || fail "[$delta s] both nodes up: $(node_states)"
	local before
	before=$(submit -J before -- sleep 1)
	# Past the step in every daemon (each counts from its own start).
	sleep $((after + 2))
	local id sub real
	id=$(submit -J after -- sh -c 'echo ran')
	sub=$(job_field "$id" submit_s)
	real=$(date +%s)
	local off=$((sub - real))
	[ "${off#-}" -ge $((${delta#-} - 60)) ] && [ $((off * delta)) -gt 0 ] &&
		ok "[$delta s] the controller's wall clock stepped (submit time off by $off s)" ||
		fail "[$delta s] the step is in effect: submit_s $sub, real $real"
	check_eq "[$delta s] the job submitted after the step completes" "$(wait_state "$id" "$END" 60)" completed
	check_eq "[$delta s] the job submitted before completes" "$(wait_state "$before" "$END" 60)" completed
	# Wait past the node timeout (10 s) counted from the step.
	while [ $((SECONDS - t0)) -lt $((after + 14)) ]; do sleep 1; done
	check_eq "[$delta s] both nodes still up past the node timeout" "$(node_states)" "up up"
	if grep -q "is down" "$DIR/controller.log"; then
		fail "[$delta s] no node was marked down: $(grep 'is down' "$DIR/controller.log" | head -2)"
	else
		ok "[$delta s] no node was marked down"
	fi
	local id2
	id2=$(submit -J late -- true)
	check_eq "[$delta s] a job after the node timeout completes" "$(wait_state "$id2" "$END" 60)" completed
	center_down
}

one_step 3600
one_step -3600
finish
