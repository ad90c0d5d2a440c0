#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `aidc sbatch` on a local center with mock devices (issue 13 items 1, 2, 6):
# the script runs once on its node with its arguments as $1.., in the submit
# directory or --chdir, its output in slurm-%j.out or the -o pattern (%x);
# --gres=gpu:N counts per node (2 GPUs for 2 tasks, not 4) and GPU type names
# are case-insensitive; --export=VARS passes only those; --parsable prints
# the id; an unknown option or a refused one creates no job; aidc submit's -o
# patterns the agent cannot expand are refused at submit by the controller;
# the batch job's SLURM_* environment (issue 13 item 5, one node).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=4 center_up 1 --devices 2

sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
njobs() { "$AIDC" jobs --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); print(len(d.get("jobs", d)))'; }

cat > "$DIR/job.sh" <<'SCRIPT'
#!/bin/sh
#SBATCH -J argsjob
#SBATCH --ntasks=4
#SBATCH -o %x-%j.out
echo "ran n=$# 1=$1 2=$2 pwd=$(pwd)"
echo "visible=${CUDA_VISIBLE_DEVICES-unset} keep=${KEEP_ME-unset} drop=${DROP_ME-unset}"
SCRIPT
out=$(KEEP_ME=k DROP_ME=d sb job.sh 5 'a b')
id=${out##* }
check_eq "sbatch prints Slurm's line" "${out% *}" "Submitted batch job"
check_eq "the job completes" "$(wait_state "$id" "$END" 60)" completed
f="$DIR/argsjob-$id.out"
wait_for 20 test -s "$f" || fail "-o %x-%j.out written: $(ls "$DIR")"
check_eq "the script ran once (4 tasks, one batch script)" "$(grep -c '^ran' "$f")" 1
check_eq "arguments are \$1.. of the script" "$(sed -n 's/^ran \(n=.* 2=[^ ]* [^ ]*\) pwd.*/\1/p' "$f")" "n=2 1=5 2=a b"
grep -q "keep=k drop=d" "$f" && ok "--export=ALL (default) passes the environment" ||
	fail "environment: $(cat "$f")"

mkdir -p "$DIR/sub"
printf '#!/bin/sh\necho "pwd=$(pwd) keep=${KEEP_ME-unset} drop=${DROP_ME-unset}"\n' > "$DIR/env.sh"
id=$(KEEP_ME=k DROP_ME=d sb --parsable --chdir=sub --export=KEEP_ME,EXTRA=x env.sh)
[[ "$id" =~ ^[0-9]+$ ]] && ok "--parsable prints only the id" || fail "--parsable printed '$id'"
check_eq "the --chdir job completes" "$(wait_state "$id" "$END" 60)" completed
f="$DIR/sub/slurm-$id.out"
wait_for 20 test -s "$f" || fail "slurm-%j.out in the --chdir directory: $(ls "$DIR/sub")"
check_eq "--chdir and --export=VARS" "$(cat "$f")" "pwd=$DIR/sub keep=k drop=unset"

model=$("$AIDC" nodes --json | "$PY" -c 'import json,sys
d=json.load(sys.stdin); n=d.get("nodes", d)[0]; print(n.get("model",""))')
lower=$(echo "$model" | tr 'a-z' 'A-Z') # the other case: type names are case-insensitive
[ "$lower" != "$model" ] || lower=$(echo "$model" | tr 'A-Z' 'a-z')
printf '#!/bin/sh\n#SBATCH --ntasks-per-node=2 --gres=gpu:%s:2\necho "visible=$AIDC_VISIBLE_DEVICES"\n' \
	"$lower" > "$DIR/gpu.sh"
id=$(sb --parsable gpu.sh)
check_eq "--gres=gpu:$lower:2 with 2 tasks on a 2-device $model node runs" \
	"$(wait_state "$id" "$END" 60)" completed
wait_for 20 test -s "$DIR/slurm-$id.out"
check_eq "the batch script sees the node's 2 devices" "$(cat "$DIR/slurm-$id.out" 2>/dev/null)" \
	"visible=0,1"

# A Slurm batch job's environment: submit-time values from aidc sbatch,
# run-time ones (job id, node list, devices) from the agent; the submitter's
# own SLURM_* do not leak in.
cat > "$DIR/senv.sh" <<'SCRIPT'
#!/bin/sh
#SBATCH -J envjob -n 2 -c 2 --gres=gpu:2 --mem=100M
env | grep -E '^SLURM|^SLURMD_' | sort
SCRIPT
node=$("$AIDC" nodes --json | "$PY" -c 'import json,sys
d=json.load(sys.stdin); print(d.get("nodes", d)[0]["name"])')
id=$(SLURM_ARRAY_TASK_ID=7 sb --parsable senv.sh)
check_eq "the SLURM_* job completes" "$(wait_state "$id" "$END" 60)" completed
f="$DIR/slurm-$id.out"
wait_for 20 test -s "$f" || fail "slurm-$id.out written"
for kv in "SLURM_JOB_ID=$id" "SLURM_JOBID=$id" "SLURM_JOB_NAME=envjob" "SLURM_JOB_NODELIST=$node" \
	"SLURMD_NODENAME=$node" "SLURM_NNODES=1" "SLURM_JOB_NUM_NODES=1" "SLURM_NTASKS=2" \
	"SLURM_CPUS_PER_TASK=2" "SLURM_JOB_CPUS_PER_NODE=4" "SLURM_CPUS_ON_NODE=4" \
	"SLURM_GPUS_ON_NODE=2" "SLURM_MEM_PER_NODE=100" "SLURM_SUBMIT_DIR=$DIR" "SLURM_PROCID=0" \
	"SLURM_NODEID=0" "SLURM_LOCALID=0" "SLURM_JOB_GPUS=0,1" "SLURM_RESTART_COUNT=0" \
	"SLURM_JOB_USER=$(id -un)"; do
	grep -qx "$kv" "$f" && ok "batch env $kv" || fail "batch env lacks $kv: $(tr '\n' ' ' < "$f")"
done
grep -q SLURM_ARRAY_TASK_ID "$f" && fail "the submitter's SLURM_ARRAY_TASK_ID leaked in" ||
	ok "the submitter's SLURM_* stay out"

# --wait: returns when the job ends, with its exit code
(cd "$DIR" && "$AIDC" sbatch --wait --wrap 'exit 3') >/dev/null 2>&1
check_eq "--wait returns the job's exit code" "$?" 3
out=$(cd "$DIR" && "$AIDC" sbatch --wait --parsable --wrap 'echo waited') ||
	fail "--wait of a job that succeeds exits $?"
check_eq "--wait: the job is over when sbatch returns" "$(job_field "$out" state)" completed

before=$(njobs)
sb --bogus-flag job.sh >/dev/null 2>"$DIR/err" && fail "--bogus-flag accepted" ||
	ok "--bogus-flag refused: $(cat "$DIR/err")"
sb --array=9-1 job.sh >/dev/null 2>"$DIR/err" && fail "--array=9-1 accepted" ||
	ok "--array=9-1 refused: $(cat "$DIR/err")"
check_eq "refusals created no job" "$(njobs)" "$before"
(cd "$DIR" && "$AIDC" submit -o '%x.out' -- true) >/dev/null 2>"$DIR/err" &&
	fail "aidc submit -o %x accepted" || ok "aidc submit -o %x refused: $(cat "$DIR/err")"
check_eq "no job from the bad pattern" "$(njobs)" "$before"
finish
