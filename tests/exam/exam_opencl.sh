#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The opencl plugin passes the quick exam (PoCL on CI). Skips, with the reason,
# when the plugin is not built, when no OpenCL platform/device exists, or in a
# sanitizer build (PoCL's LLVM JIT and LeakSanitizer do not mix; docs/exam.md).
set -u
AIDC="${AIDC_BIN:?}"; SRC="${AIDC_SOURCE_DIR:?}"; BIN="${AIDC_BINARY_DIR:?}"
if [ -n "${AIDC_SANITIZE:-}" ]; then
  echo "SKIP: sanitizer build ($AIDC_SANITIZE): PoCL's JIT is not run under ASan/LSan"; exit 77
fi
if [ ! -f "$BIN/plugins/aidc_dev_opencl.so" ]; then
  echo "SKIP: the opencl plugin is not built (OpenCL headers/ICD missing)"; exit 77
fi
if ! "$AIDC" exam devices --plugin opencl > /tmp/aidc_ocl_devices.$$ 2>&1; then
  echo "SKIP: no OpenCL device: $(cat /tmp/aidc_ocl_devices.$$)"; rm -f /tmp/aidc_ocl_devices.$$; exit 77
fi
rm -f /tmp/aidc_ocl_devices.$$
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$AIDC" exam run --plugin opencl --level quick --out "$T/o.json" || { echo "FAIL: quick exam on opencl"; exit 1; }
python3 "$SRC/tests/exam/validate_report.py" "$T/o.json" || { echo "FAIL: report"; exit 1; }
echo PASS
