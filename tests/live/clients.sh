#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Parallel clients (issue 4): CLIENTS_N (8) `aidc submit` loops submit
# CLIENTS_JOBS (1,000) jobs in all to a local center (controller + 2 agents
# with mock devices). Every job appends one line to its marker file. Checks:
# every submission is acknowledged with a distinct id, every id runs exactly
# once and completes, and the controller's listing holds exactly these jobs.
# Waits poll with generous deadlines; nothing here asserts a timing.
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
MARKER_TEST=clients
. "$(dirname "$0")/marker_lib.sh"
N=${CLIENTS_N:-8}
JOBS=${CLIENTS_JOBS:-1000}
center_start --cpus 32

client() { # client K COUNT: acknowledged ids to $D/ids.K; failures to $D/err.K
	for _ in $(seq "$2"); do
		if out=$("$AIDC" submit -J "client$1" -- sh -c "$JOB" 2>>"$D/err.$1"); then
			echo "${out#submitted job }" >>"$D/ids.$1"
		fi
	done
}
for k in $(seq "$N"); do
	client "$k" $((JOBS / N + (k <= JOBS % N ? 1 : 0))) &
	BG+=($!)
done
for p in "${BG[@]}"; do wait "$p"; done
BG=()

ids=$(cat "$D"/ids.* 2>/dev/null | sort -n)
nids=$(echo "$ids" | grep -c .)
nuniq=$(echo "$ids" | uniq | grep -c .)
check $([ "$nids" = "$JOBS" ] && echo 0 || echo 1) "all $JOBS submissions acknowledged" \
	"$nids acknowledged; $(cat "$D"/err.* 2>/dev/null | head -3)"
check $([ "$nuniq" = "$nids" ] && echo 0 || echo 1) "every acknowledged id is distinct" \
	"$nuniq distinct of $nids"

live=$(wait_jobs_ended)
check "$live" "every job ended" "$live still live"

listed=$("$AIDC" jobs --json | grep -o '"id":[0-9]*,[^}]*"state":"[a-z_]*"' |
	sed 's/"id":\([0-9]*\),.*"state":"\([a-z_]*\)"/\1 \2/' | sort -n)
check $([ "$(echo "$listed" | awk '{print $1}')" = "$ids" ] && echo 0 || echo 1) \
	"the controller lists exactly the acknowledged jobs" \
	"$(echo "$listed" | grep -c .) listed, $nids acknowledged"
notdone=$(echo "$listed" | awk '$2 != "completed"' | grep -c .)
check "$notdone" "every job completed" "$(echo "$listed" | awk '$2 != "completed"' | head -3)"
bad=0 first=""
for id in $ids; do
	n=$(grep -c . "$M/$id" 2>/dev/null || echo 0)
	if [ "$n" != 1 ]; then bad=$((bad + 1)); first=${first:-"job $id ran $n times"}; fi
done
check "$bad" "every job ran exactly once" "$bad jobs; $first"
exit "$fail"
