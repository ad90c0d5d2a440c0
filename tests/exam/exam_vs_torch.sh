#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gpu_check.sh and its side-by-side part (scripts/exam_vs_torch.py)
# cannot run here (no GPU, no PyTorch needed): the shell script must parse,
# the Python must compile, and --dry-run must turn each GEMM, conv and
# attention question of a report into the PyTorch call of the same shape,
# with the path the exam question took; a shape it cannot read fails.
set -u
SRC="${AIDC_SOURCE_DIR:?}"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bash -n "$SRC/scripts/gpu_check.sh" || fail "scripts/gpu_check.sh does not parse"
python3 -c 'import py_compile, sys
py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
  "$SRC/scripts/exam_vs_torch.py" "$T/x.pyc" || fail "exam_vs_torch.py does not compile"

python3 "$SRC/scripts/exam_vs_torch.py" --dry-run "$SRC/tests/exam/side_by_side_report.json" \
  > "$T/out" 2>&1 || { cat "$T/out"; fail "dry run exit $?"; }
cat "$T/out"
want() { grep -qF -- "$1" "$T/out" || fail "no '$1' in the dry run"; }
want "gemm.f16.4096"
want "cublaslt  | matmul [4096x4096] @ [4096x4096]"
want "cublas (cuBLASLt off: disabled by AIDC_CUBLASLT_LIB=off)  | addmm(beta=0.5)"
want "addmm(beta=0.5) [128x512]^T @ [256x128]^T"
want "cudnn  | conv2d x[1,3,224,224] w[64,3,7,7] stride 2 pad 3"
want "builtin (cuDNN fused attention not implemented)  | scaled_dot_product_attention"
want "scaled_dot_product_attention [1,16,1024,64] causal"
grep -q "mem.copy" "$T/out" && fail "a memory question was compared"
[ "$(grep -c '|' "$T/out")" = 4 ] || fail "want 4 planned questions"

# A shape the script cannot read: that question fails, the others still print.
sed 's/n=1 c=3 h=224/n=1 c=3 hh=224/' "$SRC/tests/exam/side_by_side_report.json" > "$T/bad.json"
python3 "$SRC/scripts/exam_vs_torch.py" --dry-run "$T/bad.json" > "$T/bad" 2>&1
rc=$?; cat "$T/bad"
[ $rc -eq 1 ] || fail "a bad shape: exit $rc, expected 1"
grep -q "conv.resnet50.conv1.b1 .*FAILED: ValueError: shape .*no h" "$T/bad" \
  || fail "no reason for the bad shape"
[ "$(grep -c '|' "$T/bad")" = 3 ] || fail "the other questions must still print"
echo PASS
