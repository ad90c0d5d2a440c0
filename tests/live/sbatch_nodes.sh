#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Choosing nodes with aidc sbatch (issue 13, docs/slurm.md "Choosing nodes"):
# 3 agents of 2 CPUs and one mock H100 each. -w runs a job on the named node,
# -x (a hostlist) keeps it off the others, a node file (-w ./file) works; a
# -w job whose node is busy waits (resources) while an identical job without
# -w starts elsewhere (the core's failed-shape memo is not poisoned); -x of
# every node is never_fits; the lists survive a controller kill -9 and the
# waiting job then runs on its node. -C names the device model (any case).
# --mem=0 gets the node's memory as its limit and the node to itself.
# Unknown names, -N above -w's node count, feature expressions and
# unknown models are refused, creating no job. aidc submit -w/-x place its
# gangs the same way (node files are sbatch's). Jobs end when their go-files
# appear (no timing).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=2 center_up 3 --devices 1 --model H100
wait_for 30 sh -c "[ \$(\"$AIDC\" sinfo -N -h -o '%N' | wc -l) -ge 3 ]" || fail "3 nodes registered"
mapfile -t N < <("$AIDC" sinfo -N -h -o '%N' | sort)
gate() { echo "touch $DIR/m.\$AIDC_JOB_ID.\$(hostname); while [ ! -e $DIR/go.$1 ]; do sleep 0.1; done"; }
sb() { (cd "$DIR" && "$AIDC" sbatch --parsable -o /dev/null "$@"); }
nodes_of() {
	"$AIDC" job "$1" --json | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(sorted({t["node"] for t in d.get("tasks", []) if t.get("node")})))'
}
reason() { job_field "$1" pending_reason; }
# wait_reason ID 'R1|R2': polls until the pending job's reason is one of them
wait_reason() {
	wait_for 20 sh -c "\"$AIDC\" job $1 --json | \"$PY\" -c 'import json,sys
sys.exit(json.load(sys.stdin).get(\"pending_reason\") not in sys.argv[1].split(\"|\"))' '$2'"
}
njobs() { "$AIDC" jobs --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); print(len(d.get("jobs", d)))'; }

# -w NODE: on that node, whichever it is.
a=$(sb -c 2 -w "${N[2]}" --wrap "$(gate a)")
check_eq "-w ${N[2]}: job $a runs" "$(wait_state "$a" running 60)" running
check_eq "job $a on ${N[2]}" "$(nodes_of "$a")" "${N[2]}"
check_eq "aidc job shows the nodelist" "$(job_field "$a" nodelist)" "${N[2]}"
# -x as a hostlist of the first two: only the third is left, and it is full.
x=$(sb -x "${N[0]},${N[1]}" --wrap "$(gate x)")
wait_reason "$x" "resources|reserved" &&
	ok "-x ${N[0]},${N[1]}: job $x waits for ${N[2]} ($(reason "$x"))" ||
	fail "job $x: state $(job_field "$x" state) reason $(reason "$x")"
check_eq "aidc job shows exclude" "$(job_field "$x" exclude)" "${N[0]},${N[1]}"
"$AIDC" scontrol show job "$x" | grep -q '"exclude"' && ok "scontrol show job shows exclude" ||
	fail "scontrol show job $x: $("$AIDC" scontrol show job "$x" | head -c 300)"

# Node 0 full (2 CPUs); a -w node-0 job waits, the same job without -w runs.
b=$(sb -c 2 -w "${N[0]}" --wrap "$(gate b)")
check_eq "job $b runs on ${N[0]}" "$(wait_state "$b" running 60)" running
p=$(sb -c 2 -w "${N[0]}" --wrap "$(gate p)")
q=$(sb -c 2 --wrap "$(gate q)")
check_eq "job $q (same shape, no -w) runs" "$(wait_state "$q" running 60)" running
check_eq "job $q on ${N[1]}" "$(nodes_of "$q")" "${N[1]}"
r=$(reason "$p")
[[ "$r" =~ ^(resources|reserved)$ ]] && ok "-w ${N[0]} job $p waits: $r" ||
	fail "-w ${N[0]} job $p: reason '$r', want resources or reserved"
# A node file.
printf '%s\n' "${N[1]}" >"$DIR/hosts"
f=$(sb -w ./hosts --wrap true)
check_eq "-w ./hosts: nodelist" "$(job_field "$f" nodelist)" "${N[1]}"
# Every node excluded: never fits.
nf=$(sb -x "${N[0]},${N[1]},${N[2]}" --wrap true)
wait_reason "$nf" never_fits &&
	ok "-x of every node: never_fits" || fail "job $nf: reason $(reason "$nf")"
"$AIDC" cancel "$nf" >/dev/null

ctl_restart || fail "the controller came back"
check_eq "after a kill -9, job $p keeps its nodelist" "$(job_field "$p" nodelist)" "${N[0]}"
check_eq "after a kill -9, job $x keeps exclude" "$(job_field "$x" exclude)" "${N[0]},${N[1]}"
touch "$DIR/go.b" "$DIR/go.q"
check_eq "job $b completes" "$(wait_state "$b" "$END" 60)" completed
check_eq "job $p runs once ${N[0]} is free" "$(wait_state "$p" running 60)" running
check_eq "job $p on ${N[0]}" "$(nodes_of "$p")" "${N[0]}"
check_eq "job $x still waits (not on ${N[1]})" "$(job_field "$x" state)" pending
touch "$DIR/go.a"
check_eq "job $x runs once ${N[2]} is free" "$(wait_state "$x" running 60)" running
check_eq "job $x on ${N[2]}" "$(nodes_of "$x")" "${N[2]}"
touch "$DIR/go.p" "$DIR/go.x"
check_eq "job $f completes" "$(wait_state "$f" "$END" 60)" completed
check_eq "job $f ran on ${N[1]}" "$(nodes_of "$f")" "${N[1]}"

# -C: the device model, any case.
c=$(sb -C h100 --gres=gpu:1 --wrap true)
check_eq "-C h100: job $c completes" "$(wait_state "$c" "$END" 60)" completed

# --mem=0: all of the node's memory, the node to itself.
mem=$("$AIDC" sinfo -N -h -n "${N[1]}" -o '%m' | tr -d ' ')
m=$(sb --mem=0 -w "${N[1]}" --wrap "$(gate m)")
check_eq "--mem=0: job $m runs" "$(wait_state "$m" running 60)" running
check_eq "job $m: mem_whole" "$(job_field "$m" mem_whole)" True
check_eq "job $m: exclusive" "$(job_field "$m" exclusive)" True
wait_for 20 sh -c "grep -qs '\"mem_mib\":$mem[,}]' $DIR/*/tasks.json" &&
	ok "the agent's limit for job $m is the node's $mem MiB" ||
	fail "no task with mem_mib $mem: $(cat "$DIR"/*/tasks.json 2>/dev/null | head -c 400)"
s=$(sb -w "${N[1]}" --wrap true)
wait_reason "$s" "resources|reserved" && ok "job $s waits while --mem=0 job $m holds ${N[1]}" ||
	fail "job $s: state $(job_field "$s" state) reason $(reason "$s")"
touch "$DIR/go.m"
check_eq "job $s runs after job $m" "$(wait_state "$s" "$END" 60)" completed

# aidc submit -w/-x (its gangs): the same lists through the API.
u=$(submit -o /dev/null -w "${N[1]}" -- true)
check_eq "aidc submit -w ${N[1]}: job $u completes" "$(wait_state "$u" "$END" 60)" completed
check_eq "job $u ran on ${N[1]}" "$(nodes_of "$u")" "${N[1]}"
v=$(submit -o /dev/null -x "${N[0]},${N[1]}" -n 2 -c 1 -- true)
check_eq "aidc submit -x ${N[0]},${N[1]}: job $v completes" "$(wait_state "$v" "$END" 60)" completed
check_eq "job $v ran on ${N[2]} only" "$(nodes_of "$v")" "${N[2]}"
out=$(cd "$DIR" && "$AIDC" submit -w ./hosts -- true 2>&1) && fail "submit -w FILE accepted: $out" ||
	{ [[ "$out" == *"node files are read by aidc sbatch only"* ]] && ok "submit -w FILE refused: $out" ||
		fail "submit -w FILE: $out"; }

before=$(njobs)
for bad in "-w nosuch|invalid node name specified: nosuch" "-x nosuch,${N[0]}|nosuch" \
	"-N 3 -w ${N[0]},${N[1]}|Slurm would add other nodes" "-C a100&ib|AND (&)" "-C a100|features select a device" \
	"-C a100 --gres=gpu:1|no node has accelerator model 'a100' (models here: H100)" \
	"-w ${N[0]} -x ${N[0]}|both in the nodelist and excluded"; do
	v=${bad%%|*} want=${bad#*|}
	# shellcheck disable=SC2086 # the options are words
	out=$(sb $v --wrap true 2>&1) && fail "$v accepted: $out" ||
		{ [[ "$out" == *"$want"* ]] && ok "$v refused: $out" || fail "$v: $out (want '$want')"; }
done
check_eq "refusals created no job" "$(njobs)" "$before"
finish
