#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The opencl plugin passes the quick exam (PoCL on CI). Skips, with the reason,
# when the plugin is not built or when no OpenCL platform/device exists. In a
# sanitizer build it runs with LeakSanitizer off: PoCL's LLVM JIT keeps
# allocations to process exit that LSan reports as leaks (not ours; ASan and
# UBSan still check every access of the harness and the plugin).
set -u
AIDC="${AIDC_BIN:?}"; SRC="${AIDC_SOURCE_DIR:?}"; BIN="${AIDC_BINARY_DIR:?}"
if [ -n "${AIDC_SANITIZE:-}" ]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
  echo "note: sanitizer build ($AIDC_SANITIZE): LeakSanitizer off for PoCL's JIT"
fi
if [ ! -f "$BIN/plugins/aidc_dev_opencl.so" ]; then
  echo "SKIP: the opencl plugin is not built (OpenCL headers/ICD missing)"; exit 77
fi
if ! "$AIDC" exam devices --plugin opencl > /tmp/aidc_ocl_devices.$$ 2>&1; then
  echo "SKIP: no OpenCL device: $(cat /tmp/aidc_ocl_devices.$$)"; rm -f /tmp/aidc_ocl_devices.$$; exit 77
fi
rm -f /tmp/aidc_ocl_devices.$$
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
# PoCL on a loaded 2-core CI machine can take minutes for one 2048^3 GEMM question: the
# per-question timeout (tested in exam_cheats) is raised so that load does not fail it.
"$AIDC" exam run --plugin opencl --level quick --question-timeout 600 --out "$T/o.json" || { echo "FAIL: quick exam on opencl"; exit 1; }
python3 "$SRC/tests/exam/validate_report.py" "$T/o.json" || { echo "FAIL: report"; exit 1; }
echo PASS
