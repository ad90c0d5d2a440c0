#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The checks that need a real NVIDIA GPU, run as one short script on a
# machine that has one (CI has none; the test suite never depends on this).
#
#   scripts/gpu_check.sh [BUNDLE] [OUTDIR]
#
# BUNDLE is a directory holding bin/aidc, lib/aidc/plugins/*.so and, in
# deps/, the shared libraries aidc links against (scripts/gpu_bundle.sh makes
# it from a build); where the GPU machine lacks one of them the copy in deps/
# is used. Without BUNDLE the script uses build/ as it is. It checks, writing
# each step's output to OUTDIR (default $OUT or a temporary directory):
#   1. the cuda device plugin lists the GPU and passes the quick and full
#      exam (aidc exam run --plugin cuda);
#   2. the agent's nvml provider registers the GPU (model, memory, vendor)
#      in a local center (aidc up --agent-devices nvml), with the node's hwloc
#      topology listing the GPU's PCI device;
#   3. a job asking for one GPU gets CUDA_VISIBLE_DEVICES and runs a PyTorch
#      matrix product on it; examples/ddp_train.py --cuda trains with NCCL;
#   4. a job asking for more GPUs than the node has stays pending with a
#      reason instead of starting;
#   5. side by side: the exam's GEMM, convolution and attention questions
#      timed again through PyTorch on the same shapes
#      (scripts/exam_vs_torch.py), printing exam/PyTorch per question and
#      the path each exam question took (cudnn, cublaslt, builtin (why)).
# Exit status: the number of failed checks (0 = all passed).
set -u
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
BUNDLE=${1:-}
OUTDIR=${2:-${OUT:-$(mktemp -d)}}
mkdir -p "$OUTDIR"
FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
step() { echo "== $* ($(date +%T))"; }

if [ -n "$BUNDLE" ]; then
	AIDC=$(realpath "$BUNDLE/bin/aidc")
	# Point the loader only at the bundled copies of libraries missing here.
	LIBS=/tmp/aidc-gpu-libs
	rm -rf "$LIBS" && mkdir -p "$LIBS"
	AIDC_LD=$LIBS
	for _ in 1 2 3 4; do
		missing=$( (LD_LIBRARY_PATH=$AIDC_LD ldd "$AIDC"
			for p in "$BUNDLE"/lib/aidc/plugins/*.so; do LD_LIBRARY_PATH=$AIDC_LD ldd "$p"; done) |
			awk '/not found/{print $1}' | sort -u)
		[ -z "$missing" ] && break
		for m in $missing; do
			[ -e "$BUNDLE/deps/$m" ] && ln -sf "$(realpath "$BUNDLE/deps/$m")" "$LIBS/$m"
		done
	done
else
	AIDC=$(realpath build/src/cli/aidc)
fi
# The CUDA runtime the cuda plugin links against, for aidc alone: jobs run
# with `env -u LD_LIBRARY_PATH` so PyTorch keeps its own CUDA libraries.
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
	[ -d "$d" ] && AIDC_LD=${AIDC_LD:+$AIDC_LD:}$d
done
AIDC_LD=${AIDC_LD:-}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
aidc() { LD_LIBRARY_PATH=$AIDC_LD "$AIDC" "$@"; }
PY=$(command -v python3)
JOBPY=(/usr/bin/env -u LD_LIBRARY_PATH "$PY")

step "machine"
nvidia-smi -L 2>&1 | tee "$OUTDIR/nvidia-smi.txt"
LD_LIBRARY_PATH=$AIDC_LD ldd "$AIDC" | grep -i 'not found' && fail "aidc has unresolved libraries"
aidc --version 2>&1 | head -1

step "exam: devices through the cuda plugin"
if aidc exam devices --plugin cuda >"$OUTDIR/exam_devices.txt" 2>&1; then
	ok "cuda plugin lists: $(grep -m1 -i 'nvidia\|h100\|h200' "$OUTDIR/exam_devices.txt")"
else
	fail "aidc exam devices --plugin cuda"
fi
cat "$OUTDIR/exam_devices.txt"

for level in quick full; do
	step "exam: $level level on GPU 0"
	if timeout 180 env LD_LIBRARY_PATH="$AIDC_LD" "$AIDC" exam run --plugin cuda --level $level --quiet \
		--out "$OUTDIR/exam_cuda_$level.json" >"$OUTDIR/exam_cuda_$level.txt" 2>&1; then
		ok "exam $level passed"
	else
		fail "exam $level (exit $?)"
	fi
	tail -n 40 "$OUTDIR/exam_cuda_$level.txt"
done

step "side by side: the exam's questions against PyTorch on the same shapes"
REPORT=$OUTDIR/exam_cuda_full.json
[ -s "$REPORT" ] || REPORT=$OUTDIR/exam_cuda_quick.json
if [ ! -s "$REPORT" ]; then
	fail "side by side: no exam report to compare"
elif ! "${JOBPY[@]}" -c 'import torch' >/dev/null 2>&1; then
	fail "side by side: $PY has no PyTorch"
elif timeout 300 "${JOBPY[@]}" "$SCRIPTS/exam_vs_torch.py" "$REPORT" \
	>"$OUTDIR/exam_vs_torch.txt" 2>&1; then
	ok "side by side: exam/PyTorch per question, with each question's path"
else
	fail "side by side (exit $?)"
fi
cat "$OUTDIR/exam_vs_torch.txt" 2>/dev/null

step "live center with the nvml provider"
C=$(mktemp -d /tmp/aidc-gpu-XXXXXX)
chmod 755 "$C"
export AIDC_SOCKET=$C/aidc.sock
trap 'aidc down --dir "$C" >/dev/null 2>&1' EXIT
if aidc up --dir "$C" --agents 1 --agent-devices nvml --allow-root-jobs --cpus 8 \
	--mem-mib 32768 >"$OUTDIR/up.txt" 2>&1; then
	ok "center up with nvml devices"
else
	fail "aidc up --agent-devices nvml"
	cat "$OUTDIR/up.txt" "$C"/*.log
fi
aidc nodes | tee "$OUTDIR/nodes.txt"
aidc nodes --json >"$OUTDIR/nodes.json" 2>&1
NGPU=$(nvidia-smi -L | grep -c '^GPU')
grep -q -i 'nvidia' "$OUTDIR/nodes.json" && ok "node registered NVIDIA devices" ||
	fail "no NVIDIA device in aidc nodes --json"
aidc nodes node-0 --json >"$OUTDIR/node0.json" 2>&1
"$PY" - "$OUTDIR/node0.json" <<'PYEOF' && ok "topology lists the GPU's PCI device" || fail "topology"
import json, sys
n = json.load(open(sys.argv[1]))
n = n.get("node", n)
t = n.get("topology") or {}
acc = t.get("accelerators", [])
print("topology:", n.get("topology_summary"), "accelerators:", acc)
sys.exit(0 if any("10de" in json.dumps(a).lower() or a.get("vendor_id") == 0x10de for a in acc) else 1)
PYEOF

# wait ID -> final state
wait_done() {
	local st=
	for _ in $(seq 1 900); do
		st=$(aidc job "$1" --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null)
		case "$st" in completed | failed | cancelled | timeout) break ;; esac
		sleep 0.2
	done
	echo "$st"
}
logs() { aidc logs "$1" 2>&1; echo "-- stderr:"; aidc logs "$1" --stderr 2>&1; }
submit() { aidc submit "$@" | awk '/^submitted job /{print $3}'; }

step "job on one GPU: CUDA_VISIBLE_DEVICES and a matrix product"
J=$(submit -J gemm --gpus 1 -- "${JOBPY[@]}" -c '
import os, time, torch
print("CUDA_DEVICE_ORDER=" + os.environ.get("CUDA_DEVICE_ORDER", "unset"))
print("CUDA_VISIBLE_DEVICES=" + os.environ.get("CUDA_VISIBLE_DEVICES", "unset"),
      "AIDC_VISIBLE_DEVICES=" + os.environ.get("AIDC_VISIBLE_DEVICES", "unset"))
print("torch sees", torch.cuda.device_count(), "GPU(s):", torch.cuda.get_device_name(0))
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
for _ in range(3): a @ a
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(10): a @ a
torch.cuda.synchronize(); dt = (time.perf_counter() - t) / 10
print("bf16 8192^3 matmul: %.0f TFLOP/s" % (2 * 8192**3 / dt / 1e12))
assert torch.cuda.device_count() == 1')
st=$(wait_done "$J")
logs "$J" >"$OUTDIR/job_gemm.txt"
cat "$OUTDIR/job_gemm.txt"
[ "$st" = completed ] && grep -q 'CUDA_VISIBLE_DEVICES=[0-9]' "$OUTDIR/job_gemm.txt" &&
	ok "GPU job completed with CUDA_VISIBLE_DEVICES set" || fail "GPU job: state $st"

step "DDP training step with NCCL on the GPU"
J=$(submit -J ddp-nccl -n 1 --gpus-per-task 1 -- "${JOBPY[@]}" examples/ddp_train.py --cuda --steps 5)
st=$(wait_done "$J")
logs "$J" >"$OUTDIR/job_ddp.txt"
cat "$OUTDIR/job_ddp.txt"
[ "$st" = completed ] && grep -q 'DDP OK' "$OUTDIR/job_ddp.txt" && ok "DDP on NCCL" ||
	fail "DDP --cuda: state $st"

step "more GPUs than the node has: pending with a reason"
J=$(submit -J too-big --gpus $((NGPU + 1)) -- true)
sleep 1
aidc jobs >"$OUTDIR/jobs.txt" 2>&1
cat "$OUTDIR/jobs.txt"
st=$(aidc job "$J" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])')
[ "$st" = pending ] && ok "oversized job pending" || fail "oversized job state $st"
aidc cancel "$J" >/dev/null 2>&1
cp "$C"/*.log "$OUTDIR/" 2>/dev/null
echo "== $FAILS failed check(s)"
exit "$FAILS"
