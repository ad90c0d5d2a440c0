#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when a tracked file names an absolute path of one machine (a home,
# /work, /root, /mnt or /scratch folder, or a CMake build directory): peers and
# traces are found relative to the repository root (../shared/...) or through
# an environment variable, and fuzz seeds and goldens carry no build paths.
# Paths that are part of an API (e.g. /v1/nodes/{node}/work) are not absolute
# file names and do not match: a match needs the path to start a word.
set -u
src=${AIDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src" || exit 1
re='(^|[[:space:]"'"'"'(=:`,])/(work|home|Users|root|mnt|scratch)/[A-Za-z0-9_.-]'
self=tests/cli/no_machine_paths.sh
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  hits=$(git grep -nIE "$re" -- . ":!$self")
else
  echo "note: not a git checkout, scanning every file outside build*/"
  hits=$(grep -rnIE "$re" --exclude-dir='build*' --exclude-dir=.git . | grep -v "^./$self:")
fi
if [ -n "$hits" ]; then
  echo "FAIL: absolute machine paths (use ../shared relative to the repository root or an env var):"
  echo "$hits"
  exit 1
fi
echo "ok: no absolute machine paths"
