#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `aidc up --demo` (the README's main command runs it): the demo workload is
# submitted, every job completes, the #SBATCH script's -o files exist, and the
# user is told where to look.
. "$(dirname "$0")/agent_lib.sh"
DIR=$(mktemp -d /tmp/aidc-demo-XXXXXX)
chmod 755 "$DIR"
trap center_down EXIT
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-root-jobs)
"$AIDC" up --dir "$DIR" --demo "${root[@]}" >"$DIR/up.out" 2>&1 || fail "aidc up --demo exited $?"
cat "$DIR/up.out"
grep -q "All demo jobs finished" "$DIR/up.out" && ok "demo finished" || fail "demo did not finish"
export AIDC_SOCKET=$DIR/aidc.sock
check_eq "completed demo jobs" "$("$AIDC" jobs | grep -c completed)" 5
check_eq "#SBATCH -o files" "$(ls "$DIR"/demo/demo-3-*.out 2>/dev/null | wc -l)" 2
grep -q "devices" "$DIR"/demo/demo-3-0.out && ok "-o file has the task's output" || fail "-o file content"
grep -q "aidc down" "$DIR/up.out" && ok "says how to stop" || fail "no 'aidc down' hint"
exit $((FAILS > 0))
