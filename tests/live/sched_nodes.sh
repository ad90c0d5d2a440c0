#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Node constraints end to end (docs/placement.md): 2 agents of 2 CPUs each.
# `aidc submit -N 2 -n 2` runs one task on each node; `-N 1 -n 2` runs both on
# one node; `-n 2 --ntasks-per-node 1` again one per node; each task writes a
# marker naming its node (AIDC_NODE), checked against the job's task list.
# A gang that can never fit (-N 3 on 2 nodes) waits with reason never_fits,
# and a bad combination is refused with one error line.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=2 center_up 2
mark='touch '"$DIR"'/m.$AIDC_JOB_ID.$AIDC_TASK_INDEX.$AIDC_NODE'

# nodes_of ID -> the distinct node names of the job's markers, sorted, space separated
nodes_of() { ls "$DIR" | awk -F. -v j="$1" '$1 == "m" && $2 == j {print $4}' | sort -u | xargs; }
count_of() { ls "$DIR" | awk -F. -v j="$1" '$1 == "m" && $2 == j' | wc -l; }
json_nodes() {
	"$AIDC" job "$1" --json | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(sorted({t["node"] for t in d.get("tasks", [])})))'
}

run_case() { # WANT_NODES ARGS...
	local want=$1 id
	shift
	id=$(submit "$@" -- sh -c "$mark") || { fail "submit $*"; return; }
	check_eq "job $id ($*) done" "$(wait_state "$id" 'completed|failed|cancelled' 60)" completed
	check_eq "job $id ($*) ran 2 tasks" "$(count_of "$id")" 2
	local got
	got=$(nodes_of "$id")
	check_eq "job $id ($*) distinct nodes" "$(echo "$got" | wc -w)" "$want"
	check_eq "job $id ($*) tasks where the controller placed them" "$(json_nodes "$id")" "$got"
}

run_case 2 -N 2 -n 2
run_case 1 -N 1 -n 2
run_case 2 -n 2 --ntasks-per-node 1
run_case 2 -N 2

id=$(submit -N 3 -- true)
wait_for 20 sh -c "[ \"\$(\"$AIDC\" job $id --json | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin).get(\"pending_reason\",\"\"))')\" = never_fits ]" &&
	ok "-N 3 on 2 nodes waits: never_fits" || fail "-N 3 on 2 nodes: state $(job_field "$id" state) reason $(job_field "$id" pending_reason)"
"$AIDC" cancel "$id" >/dev/null 2>&1

out=$(cd "$DIR" && "$AIDC" submit -N 2 -n 5 --ntasks-per-node 2 -- true 2>&1) && fail "-N 2 -n 5 --ntasks-per-node 2 accepted: $out" ||
	check_eq "-N 2 -n 5 --ntasks-per-node 2 refused in one line" "$(echo "$out" | wc -l)" 1
echo "$out"
finish
