#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Concurrent srun steps on the same nodes (issue 13 item 5; docs/slurm.md
# "Steps on the other nodes"), two mock nodes: `srun A & srun B & wait`, the
# common pattern, with each step's output redirected to its own file. Each
# srun prints its own step's output and nothing of the other's: every line
# once, each task's lines in order, stdout and stderr apart. Under salloc
# -N1 (both steps on one node's holder), in a 2-node batch job (both steps
# on both nodes: node 0 forked by srun, node 1 by the holder), with -o
# patterns, and across a controller restart (kill -9) while both steps
# print: nothing lost, nothing twice. A remote task's background child that
# keeps its output open does not keep srun waiting.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 2

# The task of step TAG: prints "TAG PROCID I" for I = 1.. until the file
# DIR/stop exists (at least MIN lines), then "TAG PROCID end I"; every 7th
# line also to stderr as "err TAG PROCID I". Short naps let steps interleave.
cat >"$DIR/talk.sh" <<'SCRIPT'
#!/bin/sh
tag=$1 min=$2 i=0
while [ "$i" -lt "$min" ] || [ ! -e "$STOP" ]; do
	i=$((i + 1))
	echo "$tag $SLURM_PROCID $i"
	[ $((i % 7)) -eq 0 ] && echo "err $tag $SLURM_PROCID $i" >&2
	[ $((i % 20)) -eq 0 ] && sleep 0.05
done
echo "$tag $SLURM_PROCID end $i"
SCRIPT
chmod +x "$DIR/talk.sh"

# check_talk WHAT FILE TAG NTASKS [err]: FILE holds TAG's lines alone (or with
# err, its stderr lines alone): each task's lines 1..n in order, each once,
# then its end line (stdout).
check_talk() {
	local got
	got=$("$PY" - "$2" "$3" "$4" "${5:-}" <<'PY'
import sys
path, tag, ntasks, err = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "err"
last, ended, bad = {}, {}, []
for ln in open(path, errors="replace").read().splitlines():
    w = ln.split()
    if ln.startswith(("srun: ", "aidc srun: ")):
        continue  # srun's own messages (a controller restart: it waits)
    if err:
        if len(w) != 4 or w[0] != "err" or w[1] != tag:
            bad.append(ln); continue
        p, i = w[2], int(w[3])
        if i <= last.get(p, 0) or i % 7:
            bad.append(ln)
        last[p] = i
        continue
    if len(w) == 4 and w[0] == tag and w[2] == "end":
        ended[w[1]] = int(w[3]); continue
    if len(w) != 3 or w[0] != tag or w[1] in ended:
        bad.append(ln); continue
    p, i = w[1], int(w[2])
    if i != last.get(p, 0) + 1:
        bad.append(ln)
    last[p] = i
if not err:
    for p in map(str, range(ntasks)):
        if p not in ended or ended[p] != last.get(p):
            bad.append("task %s: last %s, end %s" % (p, last.get(p), ended.get(p)))
print("ok" if not bad and len(last) == ntasks else "%d tasks; bad: %s" % (len(last), bad[:5]))
PY
)
	check_eq "$1" "$got" ok
}

# 1. salloc -N1: both steps run on the one node's step holder.
cat >"$DIR/one.sh" <<SCRIPT
#!/bin/sh
export STOP=$DIR/stop1
srun -n1 $DIR/talk.sh A 400 >$DIR/a1.out 2>$DIR/a1.err &
srun -n1 $DIR/talk.sh B 400 >$DIR/b1.out 2>$DIR/b1.err &
touch $DIR/stop1
wait
SCRIPT
chmod +x "$DIR/one.sh"
(cd "$DIR" && "$AIDC" salloc -N1 ./one.sh 2>"$DIR/one.salloc") || fail "salloc one.sh: $(cat "$DIR/one.salloc")"
check_talk "salloc -N1, two steps at once: step A's srun prints A's lines alone" "$DIR/a1.out" A 1
check_talk "... step B's srun B's alone" "$DIR/b1.out" B 1
check_talk "... and each its own stderr" "$DIR/a1.err" A 1 err
check_talk "... (B's stderr)" "$DIR/b1.err" B 1 err

# 2. A 2-node batch job, two steps on both nodes at once; -o patterns; then
# two more across a controller restart.
cat >"$DIR/two.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2 --ntasks-per-node=1 -o $DIR/two.log
export STOP=$DIR/stop2
srun $DIR/talk.sh A 300 >$DIR/a2.out 2>$DIR/a2.err &
srun $DIR/talk.sh B 300 >$DIR/b2.out 2>$DIR/b2.err &
srun -J C -o $DIR/c2-%t.out -e $DIR/c2-%t.err $DIR/talk.sh C 100 &
touch $DIR/stop2
wait
export STOP=$DIR/stop3
srun $DIR/talk.sh D 50 >$DIR/d3.out 2>$DIR/d3.err &
srun $DIR/talk.sh E 50 >$DIR/e3.out 2>$DIR/e3.err &
wait
srun sh -c 'sleep 300 & echo "bg \$SLURM_PROCID"' >$DIR/bg.out
SCRIPT
id=$(cd "$DIR" && "$AIDC" sbatch --parsable two.sh)
check_eq "job $id: the first steps done, the restart's started" \
	"$(wait_for 120 test -s "$DIR/e3.out" && echo started)" started
for t in A B; do
	f=$(echo "$t" | tr AB ab)2
	check_talk "2 nodes, two steps at once: step $t's srun prints its own lines alone" "$DIR/$f.out" "$t" 2
	check_talk "... its own stderr alone" "$DIR/$f.err" "$t" 2 err
done
cat "$DIR"/c2-0.out "$DIR"/c2-1.out >"$DIR/c2.out" 2>/dev/null
check_talk "-o %t files of a third step at the same time: its own lines" "$DIR/c2.out" C 2
cat "$DIR"/c2-0.err "$DIR"/c2-1.err >"$DIR/c2.err" 2>/dev/null
check_talk "... -e %t files: its own stderr" "$DIR/c2.err" C 2 err
ctl_restart || fail "the controller did not come back"
touch "$DIR/stop3"
check_eq "job $id completes" "$(wait_state "$id" "$END" 120)" completed
check_talk "across a controller restart: step D's lines, each once, in order" "$DIR/d3.out" D 2
check_talk "... step E's" "$DIR/e3.out" E 2
check_talk "... D's stderr" "$DIR/d3.err" D 2 err
check_talk "... E's stderr" "$DIR/e3.err" E 2 err
check_eq "a task's background child holding its output does not hold srun" \
	"$(sort "$DIR/bg.out" | tr '\n' ' ')" "bg 0 bg 1 "
grep -q "^[A-E] " "$DIR/two.log" && fail "step output in the batch log: $(grep -m3 "^[A-E] " "$DIR/two.log")" ||
	ok "the batch log holds none of the redirected step output"
finish
