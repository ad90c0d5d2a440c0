#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Device shares in the live center (docs/live.md "Device shares"): 1 agent
# with 1 mock device. Two --gpu-milli 500 jobs run on device 0 at once (each
# wrote its start marker before either wrote its end marker: each ends only
# when the test creates its go file); a third waits (reason resources). A
# kill -9 of the controller keeps the shares: both are restored exactly and
# the third still waits after a later pass has started another job; when one
# share job ends, the third starts. Bad values are refused by name. An
# `aidc sbatch --gres=mps:50` job gets half of the device beside a share job.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=4 center_up 1 --devices 1
# start marker: the task's device and share; it ends once go.ID exists.
body='echo "$AIDC_VISIBLE_DEVICES $AIDC_DEVICE_SHARE" > '"$DIR"'/start.$AIDC_JOB_ID
while [ ! -e '"$DIR"'/go.$AIDC_JOB_ID ]; do sleep 0.1; done
touch '"$DIR"'/end.$AIDC_JOB_ID'
started() { test -s "$DIR/start.$1"; }
task_milli() {
	"$AIDC" job "$1" --json | "$PY" -c 'import json,sys
print(",".join(str(t.get("device_milli", 1000)) for t in json.load(sys.stdin).get("tasks", [])))'
}
node_field() {
	"$AIDC" nodes --json | "$PY" -c 'import json,sys
d = json.load(sys.stdin); n = d["nodes"] if isinstance(d, dict) else d
print(n[0].get(sys.argv[1], ""))' "$1"
}

a=$(submit -J a --gpu-milli 500 -- sh -c "$body")
b=$(submit -J b --gpu-milli 500 -- sh -c "$body")
check_eq "job $a running" "$(wait_state "$a" running 60)" running
check_eq "job $b running" "$(wait_state "$b" running 60)" running
wait_for 30 started "$a" || fail "job $a wrote its start marker"
wait_for 30 started "$b" || fail "job $b wrote its start marker"
ends=$(ls "$DIR"/end.* 2>/dev/null | wc -l)
check_eq "both started before either ended" "$ends" 0
check_eq "job $a: device 0, AIDC_DEVICE_SHARE" "$(cat "$DIR/start.$a")" "0 0.500"
check_eq "job $b: device 0, AIDC_DEVICE_SHARE" "$(cat "$DIR/start.$b")" "0 0.500"
check_eq "job $a gpu_milli" "$(job_field "$a" gpu_milli)" 500
check_eq "job $a task's device_milli" "$(task_milli "$a")" 500
check_eq "node: no whole device free" "$(node_field devices_free)" 0
check_eq "squeue %b shows the share" "$("$AIDC" squeue -h -j "$a" -o %b 2>&1)" "gres/gpu:0.5"
case "$("$AIDC" sacct -n -P -X -j "$a" -o AllocTRES 2>&1)" in
*gres/gpu=0.5,*) ok "sacct AllocTRES shows the share" ;;
*) fail "sacct AllocTRES shows the share: $("$AIDC" sacct -n -P -X -j "$a" -o AllocTRES 2>&1)" ;;
esac
check_eq "node: no share free" "$(node_field device_milli_free)" 0

c=$(submit -J c --gpu-milli 500 -- sh -c "$body")
reason_is() { [ "$(job_field "$1" pending_reason)" = "$2" ]; }
wait_for 30 reason_is "$c" resources
check_eq "job $c waits for a share" "$(job_field "$c" pending_reason)" resources

ctl_restart && ok "controller restarted" || fail "controller restarted"
check_eq "job $a still running after the restart" "$(wait_state "$a" running 60)" running
check_eq "job $b still running after the restart" "$(wait_state "$b" running 60)" running
grep -q "cannot have its exact devices back\|does not fit its nodes" "$DIR/controller.log" &&
	fail "shares restored exactly: $(grep -E 'exact devices|does not fit' "$DIR/controller.log")"
check_eq "job $a task's device_milli after the restart" "$(task_milli "$a")" 500
# A CPU-only job starts in a pass after the restore; job c still waits then.
e=$(submit -J e -- true)
check_eq "job $e (no device) ran after the restart" "$(wait_state "$e" "$END" 60)" completed
check_eq "job $c still waits after the restart" "$(job_field "$c" state)" pending
check_eq "job $c's reason after the restart" "$(job_field "$c" pending_reason)" resources

touch "$DIR/go.$a"
check_eq "job $a completed" "$(wait_state "$a" "$END" 60)" completed
check_eq "job $c runs once $a's share is free" "$(wait_state "$c" running 60)" running
wait_for 30 started "$c" || fail "job $c wrote its start marker"
test -e "$DIR/end.$b" && fail "job $b ended before $c started" || ok "job $b runs beside $c"

# Bad values: refused with the field named, nothing submitted.
out=$(cd "$DIR" && "$AIDC" submit --gpu-milli 500 --gpus-per-task 2 -- true 2>&1) &&
	fail "gpu_milli with 2 devices accepted: $out"
case "$out" in *gpu_milli*) ok "gpu_milli with 2 devices refused: $out" ;;
*) fail "refusal names gpu_milli: $out" ;; esac
out=$(cd "$DIR" && "$AIDC" submit --gpu-milli 1001 -- true 2>&1) &&
	fail "--gpu-milli 1001 accepted: $out"
case "$out" in *gpu-milli*) ok "--gpu-milli 1001 refused" ;; *) fail "refusal names it: $out" ;; esac
code=$(curl -s -o "$DIR/bad.json" -w '%{http_code}' --unix-socket "$AIDC_SOCKET" \
	-H 'Content-Type: application/json' -d '{"command":["true"],"gpu_milli":500}' http://x/v1/jobs)
check_eq "gpu_milli without gpus_per_task: 400" "$code" 400
grep -q gpu_milli "$DIR/bad.json" && ok "the reply names gpu_milli" ||
	fail "the reply names gpu_milli: $(cat "$DIR/bad.json")"
out=$(cd "$DIR" && "$AIDC" serve --name bad --gpus 2 --gpu-milli 500 -- true 2>&1) &&
	fail "a service with gpu_milli on 2 devices accepted: $out"
case "$out" in *gpu_milli*) ok "service gpu_milli with 2 devices refused" ;;
*) fail "service refusal names gpu_milli: $out" ;; esac

touch "$DIR/go.$b" "$DIR/go.$c"
check_eq "job $b completed" "$(wait_state "$b" "$END" 60)" completed
check_eq "job $c completed" "$(wait_state "$c" "$END" 60)" completed

# aidc sbatch --gres=mps:50 (Slurm's MPS, 100 per GPU): half of one device,
# beside a --gpu-milli 500 job on the same device at once.
d=$(cd "$DIR" && "$AIDC" sbatch --parsable -J d --gres=mps:50 --wrap "$body")
f=$(submit -J f --gpu-milli 500 -- sh -c "$body")
check_eq "sbatch mps job $d running" "$(wait_state "$d" running 60)" running
check_eq "job $f running beside it" "$(wait_state "$f" running 60)" running
wait_for 30 started "$d" || fail "job $d wrote its start marker"
wait_for 30 started "$f" || fail "job $f wrote its start marker"
test -e "$DIR/end.$d" -o -e "$DIR/end.$f" && fail "jobs $d and $f overlapped" ||
	ok "jobs $d and $f ran at once on one device"
check_eq "job $d: device 0, AIDC_DEVICE_SHARE" "$(cat "$DIR/start.$d")" "0 0.500"
check_eq "job $d gpu_milli" "$(job_field "$d" gpu_milli)" 500
check_eq "job $d task's device_milli" "$(task_milli "$d")" 500
out=$(cd "$DIR" && "$AIDC" sbatch --gres=mps:150 --wrap true 2>&1) &&
	fail "--gres=mps:150 accepted: $out"
case "$out" in *"--gres=mps:150"*) ok "--gres=mps:150 refused by name" ;;
*) fail "refusal names --gres=mps:150: $out" ;; esac
touch "$DIR/go.$d" "$DIR/go.$f"
check_eq "job $d completed" "$(wait_state "$d" "$END" 60)" completed
check_eq "job $f completed" "$(wait_state "$f" "$END" 60)" completed
finish
