# SPDX-License-Identifier: Apache-2.0
# Shared start of the marker-file tests (clients.sh, storm.sh); sourced, not
# run. Sets AIDC (the binary), D (a temporary directory), M (the marker
# directory: every job appends one line to $M/<job id>), BG (background PIDs
# that cleanup kills), fail; defines check, wait_jobs_ended and center_start;
# on any exit touches $D/stop, kills BG, stops the center, SIGKILLs what is
# left and removes D (printing the daemon logs first when a check failed).
# Exit 77 after "SKIP: reason" means SKIP.
set -u
AIDC=${AIDC_BIN:-${AIDC_BINARY_DIR:-build}/src/cli/aidc}
[ -x "$AIDC" ] || { echo "SKIP: no aidc binary at $AIDC"; exit 77; }

D=$(mktemp -d "/tmp/aidc-${MARKER_TEST:-marker}-XXXXXX")
chmod 755 "$D"
M=$D/markers
mkdir -m 777 "$M"
BG=()
fail=0
# shellcheck disable=SC2016 # expanded by the job's shell, not here
JOB='echo "$AIDC_ATTEMPT" >> '"$M"'/"$AIDC_JOB_ID"'

cleanup() {
	touch "$D/stop"
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	"$AIDC" down --dir "$D" >/dev/null 2>&1
	for f in "$D"/pids/*.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	bash "$(dirname "${BASH_SOURCE[0]}")/cgroup_clean.sh" "$D" # what killed agents left
	if [ "$fail" != 0 ]; then
		for f in "$D"/*.log; do echo "---- $f"; tail -n 40 "$f"; done
	fi
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() { # check RESULT(0=ok) WHAT DETAIL
	if [ "$1" = 0 ]; then echo "ok   $2"; else echo "FAIL $2: $3"; fail=1; fi
}

# wait_jobs_ended: polls aidc jobs (1,200 times at most) until no job is
# pending, running or stopping; prints how many still are.
wait_jobs_ended() {
	local live=1 j i
	for i in $(seq 1200); do
		j=$("$AIDC" jobs --json 2>/dev/null) || { sleep 0.1; continue; }
		live=$(echo "$j" | grep -o '"state":"\(pending\|running\|stopping\)"' | grep -c .)
		[ "$live" = 0 ] && break
		sleep 0.1
	done
	echo "$live"
}

# start_submitters N SUBMIT...: N background clients, each running
# `SUBMIT -J storm -- sh -c "$JOB"` until $D/stop exists; the ids acknowledged
# ("submitted job N") go to $D/acked.K, one per line; their PIDs to BG.
start_submitters() {
	local n=$1 k out
	shift
	for k in $(seq "$n"); do
		(while [ ! -e "$D/stop" ]; do
			out=$("$@" -J storm -- sh -c "$JOB" 2>/dev/null) &&
				echo "${out#submitted job }" >>"$D/acked.$k"
		done) &
		BG+=($!)
	done
}

# check_acked: the ids start_submitters collected, sorted, in $acked: at least
# 20 of them, none twice (checked); prints the count after $CYCLES kill cycles.
check_acked() {
	local nacked dups
	acked=$(cat "$D"/acked.* 2>/dev/null | sort -n)
	nacked=$(echo "$acked" | grep -c .)
	echo "$CYCLES kill -9 cycles, $nacked acknowledged submissions"
	check $([ "$nacked" -ge 20 ] && echo 0 || echo 1) "the storm submitted jobs" "$nacked acknowledged"
	dups=$(echo "$acked" | uniq -d | head -3)
	check $([ -z "$dups" ] && echo 0 || echo 1) "no job id acknowledged twice" "$dups"
}

# center_start [aidc up flags...]: 2 agents with 2 mock devices each in D.
center_start() {
	local root=()
	[ "$(id -u)" = 0 ] && root=(--allow-root-jobs)
	if ! "$AIDC" up --dir "$D" --agents 2 --devices 2 "${root[@]}" "$@" >"$D/up.out" 2>&1; then
		cat "$D/up.out"
		fail=1
		exit 1
	fi
	export AIDC_SOCKET=$D/aidc.sock
}
