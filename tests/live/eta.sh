#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Start-time estimate on a constructed case with a known answer (issue 14
# item 2, first part): one node with 2 devices; job A holds both with a
# 2-minute time limit; job B needs both and waits. EASY backfill reserves
# B's start at A's start + 120 s (A ends at its limit at the latest): the
# API's start_estimate_s says exactly that, `aidc jobs` shows it in START, and
# it is gone once B runs. Waits poll with generous deadlines.
# Every pending job gets one (the forecast, estimate_interval_ms): C, also
# needing both devices behind B (time limit 5 minutes), is estimated at A's
# start + 120 + 300 s, with the core run forward from the live state.
. "$(dirname "$0")/agent_lib.sh"
# Exact answers: the forecast passes at every estimated end (estimate_step_s 0).
conf=$(mktemp /tmp/aidc-eta-conf-XXXXXX)
printf 'estimate_step_s = 0\nestimate_interval_ms = 500\n' >"$conf"
center_up 1 --devices 2 --controller-config "$conf"
rm -f "$conf"
a=$(submit -J holder -t 2 --gpus-per-task 2 -- sleep 300)
check_eq "A runs" "$(wait_state "$a" running 60)" running
b=$(submit -J waiter -t 5 --gpus-per-task 2 -- true)
c=$(submit -J third --gpus-per-task 2 -- true)
want=$(($(job_field "$a" start_s) + 120))
check_eq "B's estimated start is A's start + its time limit" \
	"$(wait_field "$b" start_estimate_s 30)" "$want"
check_eq "C (behind B) is estimated at A's start + 120 + B's limit 300" \
	"$(wait_field "$c" start_estimate_s 60)" "$((want + 300))"
row=$("$AIDC" jobs | awk -v id="$b" '$1 == id')
[[ "$row" =~ \ \+(1[0-9][0-9]s|[0-9]+s|2m)\  ]] && ok "aidc jobs START: $row" || fail "aidc jobs row: $row"
"$AIDC" jobs | head -1 | grep -q " START " && ok "aidc jobs has a START column" || fail "no START column"
check_eq "A's own row has no estimate" "$(job_field "$a" start_estimate_s)" ""
"$AIDC" cancel "$c" >/dev/null
"$AIDC" cancel "$a" >/dev/null
check_eq "B runs after A" "$(wait_state "$b" "completed|failed" 60)" completed
check_eq "no estimate once it ran" "$(job_field "$b" start_estimate_s)" ""
finish
