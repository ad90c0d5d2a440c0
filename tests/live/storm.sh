#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Controller crash storm (issue 4): a local center (controller + 2 agents with
# mock devices) takes a stream of submissions from parallel clients while the
# controller is killed with SIGKILL and restarted STORM_CYCLES times (20).
# Every job appends one line to its marker file ($M/<job id>). Afterwards:
#   - every submission the controller acknowledged ("submitted job N") ran
#     exactly once (its marker has exactly one line) and completed;
#   - no job of any kind ran twice (no marker has two lines): a submission
#     whose reply was lost in a crash may run (it was committed) but only once.
# Waits poll with generous deadlines; nothing here asserts a timing.
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
MARKER_TEST=storm
. "$(dirname "$0")/marker_lib.sh"
CYCLES=${STORM_CYCLES:-20}
CLIENTS=${STORM_CLIENTS:-3}
center_start --cpus 16 --node-timeout 60

start_submitters "$CLIENTS" "$AIDC" submit

ctl_healthy() {
	curl -s -m 2 --unix-socket "$AIDC_SOCKET" http://x/v1/health 2>/dev/null | grep -q '"ok":true'
}

port=$(cat "$D/controller/port")
for cycle in $(seq "$CYCLES"); do
	# Let some submissions, starts and completions happen, then crash.
	sleep "0.$((RANDOM % 6 + 2))"
	pid=$(cat "$D/pids/controller.pid")
	mapfile -d '' cmd <"/proc/$pid/cmdline"
	for i in "${!cmd[@]}"; do # the restarted controller must keep its port
		[ "${cmd[$i]}" = --port ] && cmd[$((i + 1))]=$port
	done
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
	setsid "${cmd[@]}" >>"$D/controller.log" 2>&1 </dev/null &
	echo $! >"$D/pids/controller.pid"
	disown $! # its kill -9 in the next cycle is expected: no job-control notice
	for _ in $(seq 300); do ctl_healthy && break; sleep 0.1; done
	ctl_healthy || { check 1 "controller restarts after kill -9 #$cycle" "no health reply"; exit 1; }
done
touch "$D/stop"
for p in "${BG[@]}"; do wait "$p"; done
BG=()

check_acked

# Wait for every job to end (the controller lists all jobs for root/admins,
# and the caller's own otherwise, which is the submitter here).
live=$(wait_jobs_ended)
check "$live" "every job ended" "$live still live"

states=$("$AIDC" jobs --json | grep -o '"id":[0-9]*,[^}]*"state":"[a-z_]*"' |
	sed 's/"id":\([0-9]*\),.*"state":"\([a-z_]*\)"/\1 \2/')
lost=0 twice=0 notdone=0 first=""
for id in $acked; do
	n=$(grep -c . "$M/$id" 2>/dev/null || echo 0)
	if [ "$n" = 0 ]; then lost=$((lost + 1)); first=${first:-"job $id never ran"}; fi
	if [ "$n" -gt 1 ]; then twice=$((twice + 1)); first=${first:-"job $id ran $n times"}; fi
	st=$(echo "$states" | awk -v id="$id" '$1 == id {print $2}')
	if [ "$st" != completed ]; then
		notdone=$((notdone + 1))
		first=${first:-"job $id ended $st"}
	fi
done
check "$lost" "zero acknowledged jobs lost" "$lost lost; $first"
check "$twice" "zero acknowledged jobs run twice" "$twice twice; $first"
check "$notdone" "every acknowledged job completed" "$notdone not completed; $first"
extra=0
for f in "$M"/*; do
	[ -e "$f" ] || continue
	[ "$(grep -c . "$f")" -gt 1 ] && extra=$((extra + 1))
done
check "$extra" "no job at all ran twice" "$extra markers with several lines"
exit "$fail"
