#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An srun step's output on another node while the controller stays down
# longer than AIDC_RETRY_S (docs/slurm.md "srun"): the node's runner cannot
# store it as the step's output, so it goes on in that node's own job output
# after one marker line; nothing is dropped (before, the rest of the stream
# was lost without a word). Two nodes; the controller is killed (kill -9)
# while the step runs and restarted on its port once the marker is written.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=2 center_up 2

cat > "$DIR/pf.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2
export AIDC_RETRY_S=1
srun -N 2 -l sh -c 'echo before; : > "$DIR/started.\$SLURM_NODEID"
	while [ ! -e "$DIR/down" ]; do sleep 0.1; done; echo after
	while [ ! -e "$DIR/up" ]; do sleep 0.1; done; echo last'
echo "srun rc=\$?"
SCRIPT
id=$( (cd "$DIR" && "$AIDC" sbatch --parsable pf.sh) )
wait_for 60 test -e "$DIR/started.1" || fail "the step did not start on node 1"
wait_for 30 sh -c "\"$AIDC\" logs --task 0 $id | grep -q '1: before'" ||
	fail "node 1's first line was not stored"
ctl_kill
: >"$DIR/down"
# The runner on node 1 gives up on the controller (1 s) and writes the marker
# into its node's job output, which its agent keeps until the controller is back.
marked() { grep -rqs --include='*' "did not store this node's stdout" "$DIR"/agent*; }
wait_for 60 marked || fail "no marker in node 1's output while the controller was down"
ctl_start || fail "the controller did not come back"
: >"$DIR/up"
check_eq "job $id completed" "$(wait_state "$id" "$END" 90)" completed
out0=$("$AIDC" logs --task 0 "$id")
out1=$("$AIDC" logs --task 1 "$id")
[[ "$out0" == *"srun rc=0"* ]] && ok "srun exits 0" || fail "srun: $out0"
[[ "$out0" == *"0: after"*"0: last"* ]] && ok "node 0's lines are in srun's output" ||
	fail "task 0's output: $out0"
[[ "$out1" == *"[srun: step 0: the controller did not store this node's stdout of the step; the rest of it follows in the job's own output]"*"1: after"*"1: last"* ]] &&
	ok "node 1's later lines follow the marker in its own output" || fail "task 1's output: $out1"
finish
