#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Multi-node batch jobs (issue 13 items 5 and 8, docs/slurm.md "Multi-node
# batch jobs"): 3 agents of 4 CPUs and 2 mock devices each. `aidc sbatch -N 2`
# runs the script once, on the first node, with the batch job's SLURM_*
# (compressed node list, node and task counts, Slurm's tasks-per-node form);
# the second node is held for the job's lifetime and freed when the script
# ends.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=4 center_up 3 --devices 2
wait_for 30 sh -c "[ \$(\"$AIDC\" sinfo -N -h -o '%N' | wc -l) -ge 3 ]" || fail "3 nodes registered"
sb() { (cd "$DIR" && "$AIDC" sbatch --parsable "$@"); }
nodes_of() {
	"$AIDC" job "$1" --json | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(t["node"] for t in d.get("tasks", []) if t.get("node")))'
}

# 1. The batch environment of a 2-node job, 2 tasks per node.
cat > "$DIR/env.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2 --ntasks-per-node=2 --gres=gpu:2
cd "$DIR"
env | grep -E '^SLURM_(JOB_NODELIST|NODELIST|JOB_NUM_NODES|NNODES|NTASKS|TASKS_PER_NODE|NTASKS_PER_NODE|GPUS_ON_NODE|JOB_CPUS_PER_NODE|NODEID|PROCID)=' | sort > env.out
echo "\$SLURMD_NODENAME" > env.host
scontrol show hostnames "\$SLURM_JOB_NODELIST" > env.hosts
while [ ! -e go.env ]; do sleep 0.1; done
SCRIPT
a=$(sb env.sh)
check_eq "2-node job $a runs" "$(wait_state "$a" running 60)" running
wait_for 30 test -s "$DIR/env.hosts" || fail "the script did not run"
mapfile -t H < "$DIR/env.hosts"
check_eq "two distinct hosts" "${#H[@]} $([ "${H[0]}" != "${H[1]:-}" ] && echo distinct)" "2 distinct"
check_eq "the script runs on the first node" "$(cat "$DIR/env.host")" "${H[0]}"
check_eq "the job's tasks are on those nodes" "$(nodes_of "$a")" "${H[0]} ${H[1]}"
list=$("$AIDC" scontrol show hostlist "${H[0]},${H[1]}")
check_eq "batch env" "$(cat "$DIR/env.out")" "SLURM_GPUS_ON_NODE=2
SLURM_JOB_CPUS_PER_NODE=2(x2)
SLURM_JOB_NODELIST=$list
SLURM_JOB_NUM_NODES=2
SLURM_NNODES=2
SLURM_NODEID=0
SLURM_NODELIST=$list
SLURM_NTASKS=4
SLURM_NTASKS_PER_NODE=2
SLURM_PROCID=0
SLURM_TASKS_PER_NODE=2(x2)"
# The second node's devices are the job's while it runs: a job asking for
# both devices of that node waits.
w=$(sb -o /dev/null -w "${H[1]}" --gres=gpu:2 --wrap true)
wait_for 20 sh -c "\"$AIDC\" job $w --json | grep -q '\"pending_reason\": *\"\(resources\|reserved\)\"'" &&
	ok "job $w waits for ${H[1]}'s devices" || fail "job $w: $("$AIDC" job "$w" --json | head -c 300)"
touch "$DIR/go.env"
check_eq "job $a completes when its script ends" "$(wait_state "$a" "$END" 60)" completed
check_eq "job $w then runs on ${H[1]}" "$(wait_state "$w" "$END" 60)" completed

# 2. -w names two nodes: the job has both; cancel ends every node's part.
cat > "$DIR/two.sh" <<SCRIPT
#!/bin/sh
echo "\$SLURM_JOB_NUM_NODES \$SLURM_JOB_NODELIST" > "$DIR/two.out"
exec sleep 300
SCRIPT
b=$(sb -o /dev/null -w "${H[1]},${H[0]}" two.sh)
check_eq "-w two nodes: job $b runs" "$(wait_state "$b" running 60)" running
wait_for 30 test -s "$DIR/two.out" || fail "job $b's script did not run"
check_eq "-w two nodes: 2 nodes" "$(cut -d' ' -f1 "$DIR/two.out")" 2
pids=$("$AIDC" job "$b" --json | "$PY" -c 'import json,sys
print(" ".join(str(t["pid"]) for t in json.load(sys.stdin)["tasks"] if t.get("pid")))')
check_eq "a process on each node" "$(wc -w <<< "$pids")" 2
"$AIDC" cancel "$b" >/dev/null
check_eq "job $b cancelled" "$(wait_state "$b" cancelled 60)" cancelled
gone() { for p in $pids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for 30 gone && ok "cancel ended the script and the holder" || fail "a process survived: $pids"

finish
