#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job on a fresh machine: installs dependencies, builds AIDC (Release,
# in build/) if needed, then starts a local center (`aidc up --demo`: a
# controller and 2 agents with mock accelerators in ~/.aidc, or $AIDC_DIR),
# runs a small representative workload through it and says where to look.
# A center already running there is stopped first. Extra arguments go to
# `aidc up` (try --help); `build/src/cli/aidc down` stops the center.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh >&2
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target aidc >&2
dir=${AIDC_DIR:-$HOME/.aidc}
build/src/cli/aidc down --dir "$dir" >/dev/null 2>&1 || true
args=(--dir "$dir" --demo)
[ "$(id -u)" -eq 0 ] && args+=(--allow-root-jobs) # root's own jobs are refused by default
exec build/src/cli/aidc up "${args[@]}" "$@"
