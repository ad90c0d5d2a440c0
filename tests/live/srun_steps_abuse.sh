#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The steps API (POST /v1/jobs/{id}/steps, steps.c) against a job's own
# user sending what srun never would (docs/security.md): step ids are
# 0..AIDC_MAX_JOB_STEP_COUNT-1, so a job stores a bounded number of step rows
# and step output files (a huge id, and the next id after the last one, are
# refused; before, any int64 was stored, and "the next id" after INT64_MAX
# overflowed); malformed bodies, wrong types and unknown ops are refused and
# change nothing; an ended step's id cannot be started again (before, its
# record was silently replaced: sacct lost the step); another user can
# neither store nor read the job's step output (404).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=6 center_up 1
LIMIT=40000 # AIDC_MAX_JOB_STEP_COUNT

printf '#!/bin/sh\nexec sleep 300\n' >"$DIR/hold.sh"
id=$( (cd "$DIR" && "$AIDC" sbatch --parsable hold.sh) )
check_eq "job $id running" "$(wait_state "$id" running 60)" running

# post QUERY BODY -> "STATUS BODY"
post() {
	curl -s -m 10 -w ' %{http_code}' --unix-socket "$AIDC_SOCKET" -X POST \
		--data-binary "$2" "http://x/v1/jobs/$id/steps$1"
}
start() { post "" "{\"op\":\"start\",\"step\":$1,\"nodes\":[],\"ntasks\":1,\"nnodes\":1}"; }
end() { post "" "{\"op\":\"end\",\"step\":$1,\"exit_code\":$2,\"signal\":0}"; }
status() { echo "${1##* }"; }

# Step ids past the limit are refused; the last one is taken; the next
# controller-numbered id (-1, salloc's srun) is then refused, not wrapped.
for sid in 9223372036854775807 "$LIMIT"; do
	out=$(start "$sid")
	[[ "$(status "$out")" == 413 && "$out" == *AIDC_MAX_JOB_STEP_COUNT* ]] &&
		ok "start of step $sid refused: $out" || fail "start of step $sid: $out"
done
check_eq "start of step $((LIMIT - 1))" "$(status "$(start $((LIMIT - 1)))")" 200
check_eq "end of step $((LIMIT - 1))" "$(status "$(end $((LIMIT - 1)) 0)")" 200
out=$(start -1)
[[ "$(status "$out")" == 413 && "$out" == *AIDC_MAX_JOB_STEP_COUNT* ]] &&
	ok "the next step id after the last: refused: $out" || fail "start -1 after the last id: $out"
check_eq "sacct: one step stored" "$("$AIDC" sacct -n -P -j "$id" -o JobID | grep -c '\.[0-9]')" 1

# Malformed bodies, wrong types and unknown ops: 400, nothing changes.
for body in '{' '[1]' '"x"' '{"op":"start"}' '{"op":"start","step":"1"}' \
	'{"op":"start","step":1.5}' '{"op":"start","step":-2}' '{"op":7,"step":1}' \
	'{"op":"start","step":1,"step":2,"nodes":[]}' \
	'{"op":"start","step":1,"nodes":[0]}' '{"op":"start","step":1,"nodes":"x"}' \
	'{"op":"start","step":1,"nodes":[],"ntasks":0}'; do
	out=$(post "" "$body")
	check_eq "body $body refused" "$(status "$out")" 400
done
check_eq "sacct: still one step" "$("$AIDC" sacct -n -P -j "$id" -o JobID | grep -c '\.[0-9]')" 1

# An ended step's id is not started again: its record stays.
check_eq "start of step 5" "$(status "$(start 5)")" 200
check_eq "start of step 5 again while it runs" "$(status "$(start 5)")" 409
check_eq "an unknown op on step 5" "$(status "$(post "" '{"op":"frob","step":5}')")" 400
# Wrong types are refused, never read as 0 (a report of node 0, exit code 0)
# or cut to an int (2^32+9 was SIGKILL).
for body in '{"op":"report","step":5,"node":"x","report":{}}' \
	'{"op":"end","step":5,"exit_code":"3","signal":0}' '{"op":"end","step":5,"signal":0}' \
	'{"op":"signal","step":5,"signal":4294967305}' '{"op":"signal","step":5,"signal":"9"}' \
	'{"op":"start","step":7,"nodes":[],"ntasks":"2","nnodes":1}'; do
	check_eq "body $body refused" "$(status "$(post "" "$body")")" 400
done
check_eq "end of step 5 (exit 3)" "$(status "$(end 5 3)")" 200
out=$(start 5)
[[ "$(status "$out")" == 409 && "$out" == *"already ended"* ]] &&
	ok "start of the ended step 5 refused: $out" || fail "start of the ended step 5: $out"
check_eq "a report for the ended step 5: 409" \
	"$(status "$(post "" '{"op":"report","step":5,"node":0,"report":{}}')")" 409
check_eq "end of the ended step 5 again: 409" "$(status "$(end 5 0)")" 409
check_eq "sacct: step 5 kept FAILED 3:0" "$("$AIDC" sacct -n -P -j "$id.5" -o State,ExitCode)" \
	"FAILED|3:0"

# Empty output pushes (op output with no body; srun's pusher never sends
# one) make no file: before, each made an empty file (or, at an offset, a
# sparse one) per step, node and stream that no quota or floor counted, so
# a job's user could use up the state filesystem's inodes.
xstart() { post "" "{\"op\":\"start\",\"step\":$1,\"nodes\":[0],\"external\":true,\"doc\":{},\"ntasks\":1,\"nnodes\":1}"; }
opath() { echo "?op=output&step=$1&node=0&stream=$2&offset=$3"; }
stepfiles() { find "$DIR/controller/logs" -name "*.s$1.*" 2>/dev/null | wc -l; }
check_eq "start of step 8 on node 0 (external)" "$(status "$(xstart 8)")" 200
check_eq "an empty push" "$(post "$(opath 8 out 0)" "")" '{"size":0} 200'
check_eq "an empty push at offset 10^9" "$(post "$(opath 8 err 1000000000)" "")" '{"size":0} 200'
check_eq "... made no file" "$(stepfiles 8)" 0
check_eq "a push of 3 bytes" "$(post "$(opath 8 out 0)" "abc")" '{"size":3} 200'
check_eq "an empty push after it: the size" "$(post "$(opath 8 out 7)" "")" '{"size":3} 200'
check_eq "... one file" "$(stepfiles 8)" 1
check_eq "end of step 8" "$(status "$(end 8 0)")" 200

# One user's jobs hold at most AIDC_MAX_USER_LIVE_STEPS (256) live steps
# together: 64 (AIDC_MAX_JOB_STEPS) in each of 4 jobs, then a 5th job's
# first step is refused naming the limit. Before, one user's 16 jobs could
# hold all AIDC_MAX_LIVE_STEPS (1,024) slots and refuse every other user's
# srun (the holders' polls keep the steps' leases).
more=()
for k in 1 2 3 4; do more+=("$( (cd "$DIR" && "$AIDC" sbatch --parsable hold.sh) )"); done
for j in "${more[@]}"; do wait_state "$j" running 60 >/dev/null; done
jstart() {
	curl -s -m 10 -w ' %{http_code}' --unix-socket "$AIDC_SOCKET" -X POST --data-binary \
		"{\"op\":\"start\",\"step\":$2,\"nodes\":[],\"ntasks\":1,\"nnodes\":1}" \
		"http://x/v1/jobs/$1/steps"
}
n=0
for j in "$id" "${more[@]:0:3}"; do
	for s in $(seq 100 163); do
		[ "$(status "$(jstart "$j" "$s")")" = 200 ] && n=$((n + 1))
	done
done
check_eq "256 live steps in 4 jobs of one user" "$n" 256
out=$(jstart "${more[3]}" 100)
[[ "$(status "$out")" == 413 && "$out" == *"of one user's jobs"* ]] &&
	ok "a 257th live step of the user refused: $out" || fail "a 257th live step: $out"
"$AIDC" scancel "${more[@]}"

# Another user: the job's steps, step output and step logs answer 404.
if other_user "cross-user step"; then
	ucurl() { setpriv --reuid "$OTHER_USER" --regid "$OTHER_USER" --init-groups curl "$@"; }
	check_eq "start 6 as another user" "$(status "$(ucurl -s -m 10 -w ' %{http_code}' \
		--unix-socket "$AIDC_SOCKET" -X POST --data-binary \
		'{"op":"start","step":6,"nodes":[],"ntasks":1,"nnodes":1}' \
		"http://x/v1/jobs/$id/steps")")" 404
	check_eq "step output as another user" "$(status "$(ucurl -s -m 10 -w ' %{http_code}' \
		--unix-socket "$AIDC_SOCKET" -X POST --data-binary 'x' \
		"http://x/v1/jobs/$id/steps?op=output&step=5&node=0&stream=out&offset=0")")" 404
	check_eq "step log as another user" "$(status "$(ucurl -s -m 10 -w ' %{http_code}' \
		--unix-socket "$AIDC_SOCKET" "http://x/v1/jobs/$id/logs?step=5&task=0")")" 404
fi
"$AIDC" scancel "$id"
check_eq "job $id cancelled" "$(wait_state "$id" cancelled 60)" cancelled

# srun in another session of the job (setsid): its step counter starts at 0
# again; the id taken is refused and the controller numbers the step.
cat >"$DIR/sess.sh" <<SCRIPT
#!/bin/sh
cd "$DIR"
srun -J first true
setsid -w srun -J second sh -c 'echo \$SLURM_STEP_ID' >sess.out 2>sess.err
echo "rc=\$?" >>sess.out
SCRIPT
sid=$( (cd "$DIR" && "$AIDC" sbatch --parsable sess.sh) )
check_eq "job $sid completes" "$(wait_state "$sid" completed 60)" completed
check_eq "the second session's srun: step 1, exit 0" "$(tr '\n' ' ' <"$DIR/sess.out")" "1 rc=0 "
check_eq "its srun said nothing" "$(cat "$DIR/sess.err")" ""
check_eq "sacct: both steps" "$("$AIDC" sacct -n -P -j "$sid" -o JobID,JobName | grep '\.[0-9]' |
	tr '\n' ' ')" "$sid.0|first $sid.1|second "
finish
