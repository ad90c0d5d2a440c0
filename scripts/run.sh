#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job on a fresh machine: installs dependencies, builds AIDC (Release,
# in build/) if needed, then runs `aidc sim` on its built-in generated workload
# and cluster. Arguments are passed to `aidc sim` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh >&2
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target aidc >&2
exec build/src/cli/aidc sim "$@"
