#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Job holds on a local center with mock devices (issue 13 item 2: -H with
# aidc hold / aidc release): `aidc sbatch -H` and `aidc submit -H` queue a job
# held (pending, reason "held") that the scheduler never starts while the node
# is free, even across a kill -9 and restart of the controller; `aidc release`
# starts it; `aidc hold` holds a queued job and release queues it again;
# another user can neither hold nor release (404, as other cross-user
# actions); bad ids, ended jobs and jobs that are not held get clear errors
# and change nothing.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 1 --devices 2

sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
reason() { job_field "$1" pending_reason; }
# A job that runs to completion: proof that passes ran while the held job waited.
probe() {
	local p
	p=$(submit -J probe -- true)
	check_eq "$1: an ordinary job $p completes meanwhile" "$(wait_state "$p" "$END" 60)" completed
}

printf '#!/bin/sh\ntouch %s/ran.$SLURM_JOB_ID\n' "$DIR" > "$DIR/h.sh"
a=$(sb --parsable -H h.sh)
[[ "$a" =~ ^[0-9]+$ ]] || fail "sbatch -H --parsable printed '$a'"
check_eq "sbatch -H: job $a pending" "$(job_field "$a" state)" pending
check_eq "sbatch -H: reason held" "$(reason "$a")" held
probe "held job $a"
check_eq "held job $a still pending on a free node" "$(job_field "$a" state)" pending
[ -e "$DIR/ran.$a" ] && fail "held job $a ran" || ok "held job $a never ran"
"$AIDC" jobs | grep -E "^$a .*held" >/dev/null && ok "aidc jobs shows 'held'" ||
	fail "aidc jobs: $("$AIDC" jobs)"

b=$(submit -H -J hb -- true)
check_eq "submit -H: job $b reason held" "$(reason "$b")" held

# Another user: 404 for hold and release, nothing changes.
user=$OTHER_USER
if other_user other-user; then
	out=$(as_user release "$a" 2>&1) && fail "another user released job $a: $out" ||
		{ [[ "$out" == *"no job $a"* ]] && ok "another user's release: $out" || fail "release as $user: $out"; }
	out=$(as_user hold "$b" 2>&1) && fail "another user held job $b: $out" ||
		{ [[ "$out" == *"no job $b"* ]] && ok "another user's hold: $out" || fail "hold as $user: $out"; }
	check_eq "job $a still held" "$(reason "$a")" held
fi

# Bad input: clear errors, nothing changed.
out=$("$AIDC" hold 2>&1) && fail "hold without ids succeeded" || ok "hold without ids: $out"
out=$("$AIDC" release "$a" x1 2>&1) && fail "release with a bad id succeeded" ||
	{ [[ "$out" == *"'x1' is not a job id"* ]] && ok "bad id: $out" || fail "bad id: $out"; }
check_eq "a bad id in the list changes nothing (job $a held)" "$(reason "$a")" held
out=$("$AIDC" hold 999999 2>&1) && fail "hold of an unknown job succeeded" ||
	{ [[ "$out" == *"no job 999999"* ]] && ok "unknown job: $out" || fail "unknown job: $out"; }
p=$(submit -- true)
wait_state "$p" "$END" 60 >/dev/null
out=$("$AIDC" hold "$p" 2>&1) && fail "hold of ended job $p succeeded" ||
	{ [[ "$out" == *"only pending jobs can be held"* ]] && ok "ended job: $out" || fail "ended job: $out"; }
out=$("$AIDC" release "$p" 2>&1) && fail "release of ended job $p succeeded" ||
	{ [[ "$out" == *"is not held"* ]] && ok "release of a job not held: $out" || fail "not held: $out"; }

# Holding a queued job: one that waits (3 devices on a 2-device node).
q=$(submit -J big --gpus-per-task 3 -- true)
"$AIDC" hold "$q" >/dev/null && ok "aidc hold of queued job $q" || fail "aidc hold $q"
check_eq "queued job $q now held" "$(reason "$q")" held
out=$("$AIDC" hold "$q" 2>&1) && ok "holding a held job again: $out" || fail "hold again: $out"
"$AIDC" release "$q" >/dev/null && ok "aidc release $q" || fail "aidc release $q"
wait_for 20 sh -c "[ \"\$(\"$AIDC\" job $q --json | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin)[\"pending_reason\"])')\" != held ]" &&
	ok "released job $q waits for the scheduler again: $(reason "$q")" || fail "job $q after release: $(reason "$q")"
"$AIDC" cancel "$q" >/dev/null

# A controller restart keeps the hold.
ctl_restart && ok "controller restarted" || fail "controller restarted"
check_eq "job $a held after the restart" "$(reason "$a")" held
probe "after the restart"
check_eq "job $a still pending" "$(job_field "$a" state)" pending
[ -e "$DIR/ran.$a" ] && fail "held job $a ran after the restart" || ok "held job $a did not run"

# Release: it starts.
out=$("$AIDC" release "$a" 2>&1) && ok "aidc release $a: $out" || fail "release $a: $out"
check_eq "released job $a completes" "$(wait_state "$a" "$END" 60)" completed
wait_for 20 test -e "$DIR/ran.$a" && ok "job $a ran once released" || fail "job $a did not run"
"$AIDC" cancel "$b" >/dev/null
check_eq "held job $b cancels" "$(wait_state "$b" "$END" 30)" cancelled
finish
