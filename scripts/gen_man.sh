#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates docs/man/*.1 and contrib/bash-completion/aidc from the aidc
# binary's flag tables (aidc help --man / --completion). Run after changing a
# flag; tests/cli/docs_check.sh fails while the checked-in copies differ.
#   scripts/gen_man.sh [path/to/aidc]   (default build/src/cli/aidc)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
aidc=${1:-$root/build/src/cli/aidc}
rm -f "$root"/docs/man/*.1
mkdir -p "$root/docs/man"
"$aidc" help --man > "$root/docs/man/aidc.1"
"$aidc" help --man-list | while read -r page args; do
  # shellcheck disable=SC2086 # args is "CMD" or "CMD SUB"
  "$aidc" help --man $args > "$root/docs/man/$page.1"
done
"$aidc" help --completion > "$root/contrib/bash-completion/aidc"
echo "wrote docs/man ($(ls "$root"/docs/man/*.1 | wc -l) pages) and contrib/bash-completion/aidc"
