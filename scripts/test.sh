#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs AIDC's whole test suite on this machine: installs the Debian packages it
# needs (idempotent), configures and builds, then runs ctest.
#   scripts/test.sh              Release build in build/
#   scripts/test.sh --sanitize   Debug build with AddressSanitizer + UBSan in build-asan/
# Extra arguments after the mode go to ctest (e.g. -R sim -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=build
cfg=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  builddir=build-asan
  cfg=(-DCMAKE_BUILD_TYPE=Debug -DAIDC_SANITIZE=address,undefined -DAIDC_BENCH=OFF)
fi

scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$builddir" "${cfg[@]}" >/dev/null
cmake --build "$builddir" -j"$jobs"
rc=0
ctest --test-dir "$builddir" --output-on-failure --timeout 600 -j"$jobs" "$@" || rc=$?
scripts/skip_report.sh "$builddir" || true
exit "$rc"
