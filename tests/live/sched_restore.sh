#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Exact restore after a controller restart (docs/live.md): 1 agent with 4 mock
# devices. Job A takes 1 device (index 0), job B 2 devices (1,2), A is
# cancelled; kill -9 of the controller and a restart; B is adopted on devices
# 1,2 (sched_job_restore), so a new 2-device job C gets 0,3: checked in the
# AIDC_VISIBLE_DEVICES each task wrote, and never overlapping B's.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=4 center_up 1 --devices 4
loop='echo "$AIDC_VISIBLE_DEVICES" > '"$DIR"'/vis.$AIDC_JOB_ID; while :; do sleep 0.2; done'
vis() { cat "$DIR/vis.$1" 2>/dev/null; }

a=$(submit -J a --gpus-per-task 1 -- sh -c "$loop")
check_eq "job $a running" "$(wait_state "$a" running 60)" running
wait_for 30 test -s "$DIR/vis.$a" || fail "job $a wrote its devices"
b=$(submit -J b --gpus-per-task 2 -- sh -c "$loop")
check_eq "job $b running" "$(wait_state "$b" running 60)" running
wait_for 30 test -s "$DIR/vis.$b" || fail "job $b wrote its devices"
check_eq "job $a devices" "$(vis "$a")" 0
check_eq "job $b devices" "$(vis "$b")" 1,2
"$AIDC" cancel "$a" >/dev/null
check_eq "job $a cancelled" "$(wait_state "$a" cancelled 60)" cancelled

ctl_restart && ok "controller restarted" || fail "controller restarted"
check_eq "job $b still running after the restart" "$(wait_state "$b" running 60)" running
grep -q "cannot have its exact devices back" "$DIR/controller.log" &&
	fail "job $b restored exactly: $(grep 'exact devices' "$DIR/controller.log")"

c=$(submit -J c --gpus-per-task 2 -- sh -c "$loop")
check_eq "job $c running" "$(wait_state "$c" running 60)" running
wait_for 30 test -s "$DIR/vis.$c" || fail "job $c wrote its devices"
check_eq "job $c got the free devices" "$(vis "$c")" 0,3
overlap=$(comm -12 <(tr , '\n' <"$DIR/vis.$b" | sort) <(tr , '\n' <"$DIR/vis.$c" | sort) | xargs)
check_eq "jobs $b and $c share no device" "$overlap" ""
# And the controller's own view: job C's devices as it reports them.
got=$("$AIDC" job "$c" --json | "$PY" -c 'import json,sys
print(",".join(str(d) for t in json.load(sys.stdin).get("tasks", []) for d in t["devices"]))')
check_eq "job $c devices as the controller reports them" "$got" 0,3
"$AIDC" cancel "$b" "$c" >/dev/null 2>&1 || { "$AIDC" cancel "$b"; "$AIDC" cancel "$c"; } >/dev/null 2>&1
finish
