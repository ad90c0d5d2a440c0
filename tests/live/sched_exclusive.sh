#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --exclusive end to end (issue 13, docs/slurm.md): 2 agents of 2 CPUs each.
# A job A holds one CPU of node X; an exclusive job B (aidc submit
# --exclusive, one CPU) starts on the other node Y; a 1-CPU job C goes to X
# although Y has a free CPU; an exclusive sbatch job E finds no empty node
# and waits with reason resources, still so after a controller kill -9 (B
# restored running, exclusive); once A ends, E runs on X. Jobs end when
# their go-files appear (no timing). Bad values are refused, creating nothing.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=2 center_up 2
gate() { echo "touch $DIR/m.\$AIDC_JOB_ID.\$AIDC_NODE; while [ ! -e $DIR/go.$1 ]; do sleep 0.1; done"; }
sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
json_nodes() {
	"$AIDC" job "$1" --json | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(sorted({t["node"] for t in d.get("tasks", []) if t.get("node")})))'
}
njobs() { "$AIDC" jobs --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); print(len(d.get("jobs", d)))'; }

a=$(submit -o /dev/null -- sh -c "$(gate a)")
check_eq "job A $a runs" "$(wait_state "$a" running 60)" running
x=$(json_nodes "$a")
b=$(submit --exclusive -o /dev/null -- sh -c "$(gate b)")
check_eq "exclusive job B $b runs" "$(wait_state "$b" running 60)" running
y=$(json_nodes "$b")
[ -n "$x" ] && [ -n "$y" ] && [ "$x" != "$y" ] && ok "B on $y, not on A's node $x" ||
	fail "A on '$x', B on '$y'"
check_eq "B's spec says exclusive" "$(job_field "$b" exclusive)" True
c=$(submit -o /dev/null -- sh -c "$(gate c)")
check_eq "job C $c runs" "$(wait_state "$c" running 60)" running
check_eq "C shares A's node, not exclusive B's" "$(json_nodes "$c")" "$x"
touch "$DIR/go.c"
check_eq "job C completes" "$(wait_state "$c" 'completed|failed' 60)" completed

e=$(sb --parsable --exclusive -o /dev/null --wrap "$(gate e)")
wait_for 20 sh -c "[ \"\$(\"$AIDC\" job $e --json | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin).get(\"pending_reason\",\"\"))')\" = resources ]" &&
	ok "exclusive sbatch job E $e waits: resources" ||
	fail "E: state $(job_field "$e" state) reason $(job_field "$e" pending_reason)"
"$AIDC" squeue -h -o '%i %t %r' | grep -q "^$e PD Resources" && ok "squeue shows Resources" ||
	fail "squeue: $("$AIDC" squeue -h -o '%i %t %r' | tr '\n' ' ')"

ctl_restart || fail "the controller came back"
check_eq "after a kill -9, B still runs" "$(job_field "$b" state)" running
check_eq "after a kill -9, E is still exclusive" "$(job_field "$e" exclusive)" True
wait_for 20 sh -c "[ \"\$(\"$AIDC\" job $e --json | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin).get(\"pending_reason\",\"\"))')\" = resources ]" &&
	ok "after a kill -9, E still waits: resources" ||
	fail "E after restart: state $(job_field "$e" state) reason $(job_field "$e" pending_reason)"

touch "$DIR/go.a"
check_eq "job A completes" "$(wait_state "$a" 'completed|failed' 60)" completed
check_eq "E runs once A's node is empty" "$(wait_state "$e" running 60)" running
check_eq "E on A's node" "$(json_nodes "$e")" "$x"
touch "$DIR/go.b" "$DIR/go.e"
check_eq "job B completes" "$(wait_state "$b" 'completed|failed' 60)" completed
check_eq "job E completes" "$(wait_state "$e" 'completed|failed' 60)" completed

before=$(njobs)
for bad in "--exclusive=user|sharing nodes among one user's jobs" "--exclusive=foo|not a value of --exclusive"; do
	v=${bad%%|*} want=${bad#*|}
	out=$(sb "$v" --wrap true 2>&1) && fail "$v accepted: $out" ||
		{ [[ "$out" == *"$want"* ]] && ok "$v refused: $out" || fail "$v: $out (want '$want')"; }
done
printf '#!/bin/sh\n#SBATCH --exclusive=mcs\ntrue\n' >"$DIR/bad.sh"
out=$(sb bad.sh 2>&1) && fail "#SBATCH --exclusive=mcs accepted" || ok "#SBATCH --exclusive=mcs: $out"
check_eq "refusals created no job" "$(njobs)" "$before"
finish
