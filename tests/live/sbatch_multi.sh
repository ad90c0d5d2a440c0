#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Multi-node batch jobs (issue 13 items 5 and 8, docs/slurm.md "Multi-node
# batch jobs"): 3 agents of 4 CPUs and 2 mock devices each. `aidc sbatch -N 2`
# runs the script once, on the first node, with the batch job's SLURM_*
# (compressed node list, node and task counts, Slurm's tasks-per-node form);
# the second node is held for the job's lifetime and freed when the script
# ends; -w of two nodes; cancel ends every node's part. srun steps run on both
# nodes (ids, step variables, devices per node, -o %n %t %N, -l, exit codes),
# a torchrun-style rendezvous driven by SLURM_* only, a 2-node PyTorch DDP run
# (SKIP without torch), signals forwarded to both nodes, another user's srun
# into the job refused, scancel ending a step's tasks on both nodes.
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
pids_of() {
	"$AIDC" job "$1" --json | "$PY" -c 'import json,sys
print(" ".join(str(t["pid"]) for t in json.load(sys.stdin)["tasks"] if t.get("pid")))'
}
for _ in $(seq 300); do # the agents report each task's pid once it runs
	pids=$(pids_of "$b")
	[ "$(wc -w <<< "$pids")" -eq 2 ] && break
	sleep 0.1
done
check_eq "a process on each node" "$(wc -w <<< "$pids")" 2
"$AIDC" cancel "$b" >/dev/null
check_eq "job $b cancelled" "$(wait_state "$b" cancelled 60)" cancelled
gone() { for p in $pids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for 30 gone && ok "cancel ended the script and the holder" || fail "a process survived: $pids"

# 3. srun across the nodes: PROCID/NODEID/LOCALID, the step's variables,
# each node's own devices, -o patterns with %n %t %N, -l, exit codes.
cat > "$DIR/steps.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2 --ntasks-per-node=2 --gres=gpu:2 -o $DIR/steps.out
cd "$DIR"
srun sh -c 'echo "p=\$SLURM_PROCID l=\$SLURM_LOCALID n=\$SLURM_NODEID h=\$SLURMD_NODENAME nt=\$SLURM_STEP_NUM_TASKS nn=\$SLURM_STEP_NUM_NODES tpn=\$SLURM_STEP_TASKS_PER_NODE r=\$RANK w=\$WORLD_SIZE lw=\$LOCAL_WORLD_SIZE d=\$AIDC_VISIBLE_DEVICES sl=\$SLURM_STEP_NODELIST"' > s0.raw
sort s0.raw > s0
srun --gpus-per-task=1 -o "g-%n-%t-%N" sh -c 'echo "\$AIDC_VISIBLE_DEVICES"'
srun -N 2 -n 3 sh -c 'exit \$((SLURM_PROCID == 2 ? 7 : 0))' 2> e3; echo "rc=\$?" > rc
srun -l -n 2 sh -c 'echo hello' | sort > l2
srun -N 1 -n 1 sh -c 'echo "\$SLURM_STEP_NUM_NODES \$SLURMD_NODENAME"' > n1
srun -N 3 true 2> e4; echo "rc=\$?" >> rc
SCRIPT
s=$(sb steps.sh)
check_eq "steps job $s completes" "$(wait_state "$s" "$END" 120)" completed
mapfile -t H < <(sed -n 's/^SLURM_JOB_NODELIST=//p' "$DIR/env.out" | xargs "$AIDC" scontrol show hostnames)
S=$("$AIDC" job "$s" --json | "$PY" -c 'import json,sys
print(" ".join(t["node"] for t in json.load(sys.stdin)["tasks"]))')
read -r s0 s1 <<< "$S"
sl=$("$AIDC" scontrol show hostlist "$s0,$s1")
check_eq "a step of 4 tasks on 2 nodes: ids, nodes, devices" "$(cat "$DIR/s0")" \
"p=0 l=0 n=0 h=$s0 nt=4 nn=2 tpn=2(x2) r=0 w=4 lw=2 d=0,1 sl=$sl
p=1 l=1 n=0 h=$s0 nt=4 nn=2 tpn=2(x2) r=1 w=4 lw=2 d=0,1 sl=$sl
p=2 l=0 n=1 h=$s1 nt=4 nn=2 tpn=2(x2) r=2 w=4 lw=2 d=0,1 sl=$sl
p=3 l=1 n=1 h=$s1 nt=4 nn=2 tpn=2(x2) r=3 w=4 lw=2 d=0,1 sl=$sl"
got=$(cd "$DIR" && for f in g-*; do echo "$f=$(cat "$f")"; done | tr '\n' ' ')
check_eq "--gpus-per-task=1 binds each node's own devices; -o %n-%t-%N" "$got" \
	"g-0-0-$s0=0 g-0-1-$s0=1 g-1-2-$s1=0 g-1-3-$s1=1 "
check_eq "exit code: the highest (a remote task's 7); -N 3 refused" "$(tr '\n' ' ' < "$DIR/rc")" "rc=7 rc=2 "
grep -q "$s1: task 2: Exited with exit code 7" "$DIR/e3" && ok "the remote failed task is named" ||
	fail "e3: $(cat "$DIR/e3")"
check_eq "-l labels remote lines too" "$(tr '\n' ' ' < "$DIR/l2")" "0: hello 1: hello "
check_eq "-N 1: the script's node only" "$(cat "$DIR/n1")" "1 $s0"
grep -q "more than the job's 2 node" "$DIR/e4" && ok "-N 3 refused: $(cat "$DIR/e4")" ||
	fail "e4: $(cat "$DIR/e4")"

# 4. A torchrun-style launch driven by SLURM_* only: the master is the first
# host of the node list, the world size SLURM_NTASKS, the rank SLURM_PROCID;
# rank 0 collects every rank's hello over TCP. (The agents' names do not
# resolve on loopback: the script falls back to 127.0.0.1 for the address.)
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
cat > "$DIR/rdv.py" <<'PY'
import os, socket, sys, time
rank, world = int(os.environ["SLURM_PROCID"]), int(os.environ["SLURM_NTASKS"])
addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
if rank == 0:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(world); got = ["0@" + os.environ["SLURMD_NODENAME"]]
    for _ in range(world - 1):
        c, _ = s.accept(); got.append(c.recv(256).decode()); c.close()
    print("rendezvous", world, " ".join(sorted(got)), flush=True)
else:
    for _ in range(300):
        try:
            c = socket.create_connection((addr, port)); break
        except OSError:
            time.sleep(0.1)
    c.sendall(("%d@%s" % (rank, os.environ["SLURMD_NODENAME"])).encode()); c.close()
PY
cat > "$DIR/tr.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2 --ntasks-per-node=2 -o $DIR/tr.out
master=\$(scontrol show hostnames "\$SLURM_JOB_NODELIST" | head -1)
echo "master \$master \$SLURMD_NODENAME" > $DIR/tr.master
addr=\$(getent hosts "\$master" | cut -d' ' -f1)
export MASTER_ADDR=\${addr:-127.0.0.1} MASTER_PORT=$port
srun $PY $DIR/rdv.py
SCRIPT
t=$(sb tr.sh)
check_eq "torchrun-style job $t completes" "$(wait_state "$t" "$END" 120)" completed
read -r _ m b < "$DIR/tr.master"
check_eq "the master is the first host, the script's" "$m" "$b"
T=$("$AIDC" job "$t" --json | "$PY" -c 'import json,sys
print(" ".join(t["node"] for t in json.load(sys.stdin)["tasks"]))')
read -r t0 t1 <<< "$T"
check_eq "4 ranks on 2 nodes met rank 0" "$(cat "$DIR/tr.out")" "rendezvous 4 0@$t0 1@$t0 2@$t1 3@$t1"

# 5. A 2-node PyTorch DDP run (gloo, CPU) driven by SLURM_* only.
SRC=${AIDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if "$PY" -c 'import torch.distributed as d; assert d.is_available()' 2>/dev/null; then
	port=$(free_port)
	cat > "$DIR/ddp.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2 -n 2 -c 2 -o $DIR/ddp.out -t 3
master=\$(scontrol show hostnames "\$SLURM_JOB_NODELIST" | head -1)
addr=\$(getent hosts "\$master" | cut -d' ' -f1)
export MASTER_ADDR=\${addr:-127.0.0.1} MASTER_PORT=$port GLOO_SOCKET_IFNAME=lo
srun sh -c 'RANK=\$SLURM_PROCID WORLD_SIZE=\$SLURM_NTASKS LOCAL_RANK=\$SLURM_LOCALID exec $PY $SRC/examples/ddp_train.py --steps 3'
SCRIPT
	d=$(sb ddp.sh)
	check_eq "DDP job $d completes" "$(wait_state "$d" "$END" 150)" completed
	grep -q "DDP OK" "$DIR/ddp.out" && ok "DDP OK" || fail "ddp.out: $(tail -20 "$DIR/ddp.out")"
	grep -q "rank 1/2 on .*params_match=True" "$DIR/ddp.out" && ok "rank 1 (the second node) matches" ||
		fail "ddp.out: $(tail -20 "$DIR/ddp.out")"
else
	echo "SKIP: the 2-node DDP part: $PY cannot import torch.distributed"
fi

# 6. srun forwards its signals to every node; scancel ends the step's tasks
# on both nodes.
cat > "$DIR/sig.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2 -o $DIR/sig.out
cd $DIR
srun sh -c 'echo \$\$ > pid.\$SLURM_PROCID; trap "echo \$SLURM_PROCID > usr1.\$SLURM_PROCID; exit 3" USR1; while :; do sleep 0.1; done' &
while [ ! -s pid.0 ] || [ ! -s pid.1 ]; do sleep 0.1; done
kill -USR1 \$!
wait \$!
echo "srun=\$?" > sig.rc
rm -f pid.0 pid.1
srun sh -c 'echo \$\$ > pid.\$SLURM_PROCID; exec sleep 300'
SCRIPT
g=$(sb sig.sh)
wait_for 60 test -s "$DIR/sig.rc" || fail "job $g: the signalled step did not end"
check_eq "USR1 reached the tasks on both nodes" "$(cat "$DIR"/usr1.* 2>/dev/null | tr '\n' ' ')" "0 1 "
check_eq "srun's exit code is theirs (3)" "$(cat "$DIR/sig.rc")" "srun=3"
wait_for 60 sh -c "test -s $DIR/pid.0 && test -s $DIR/pid.1" || fail "job $g: the second step did not start"
p0=$(cat "$DIR/pid.0") p1=$(cat "$DIR/pid.1")

# 7. Another user cannot start a step in (or read the steps of) this job.
if other_user "step authorization"; then
	out=$(SLURM_JOB_ID=$g AIDC_JOB_ID=$g SLURM_JOB_NUM_NODES=2 SLURM_NTASKS=2 SLURM_CPUS_ON_NODE=2 \
		SLURM_JOB_NODELIST="$("$AIDC" job "$g" --json | "$PY" -c 'import json,sys
print(",".join(t["node"] for t in json.load(sys.stdin)["tasks"]))')" SLURMD_NODENAME=x \
		TMPDIR=/tmp as_user srun -N 2 touch "/tmp/aidc-step-intruder.$$" 2>&1)
	rc=$?
	[ "$rc" -ne 0 ] && [[ "$out" == *"no job $g"* ]] && ok "$OTHER_USER's srun into job $g refused: $out" ||
		fail "$OTHER_USER's srun into job $g: rc=$rc $out"
	wait_for 5 test -e "/tmp/aidc-step-intruder.$$" && fail "an intruder's step task ran" ||
		ok "no intruder task ran"
	code=$(setpriv --reuid "$OTHER_USER" --regid "$OTHER_USER" --init-groups curl -s -o /dev/null \
		-w '%{http_code}' --unix-socket "$AIDC_SOCKET" "http://x/v1/jobs/$g/steps?node=1")
	check_eq "$OTHER_USER cannot poll job $g's steps" "$code" 404
fi

"$AIDC" cancel "$g" >/dev/null
check_eq "job $g cancelled" "$(wait_state "$g" cancelled 60)" cancelled
gone2() { ! kill -0 "$p0" 2>/dev/null && ! kill -0 "$p1" 2>/dev/null; }
wait_for 30 gone2 && ok "scancel ended the step's tasks on both nodes" ||
	fail "a step task survived: $p0 $p1"

finish
