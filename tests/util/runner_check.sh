#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The C test runner (tests/test.h) isolates cases: runs runner_demo (argument:
# its path) and checks that a failure, a crash and a hang are each reported by
# name, that the cases after them still run, that one case runs alone by name,
# that --list lists them, and the exit statuses (1 on failure, 77 all skipped).
set -u
demo=${1:?usage: runner_check.sh PATH-OF-runner_demo}
fail=0
bad() { echo "FAIL: $*"; fail=1; }

out=$("$demo" 2>&1); rc=$?
[ $rc -eq 1 ] || bad "exit status $rc with failing cases, want 1"
for want in '\[  OK  \] passes' '\[ FAIL \] fails: exit status 1' \
	'\[ FAIL \] crashes: crashed: signal 6' '\[ FAIL \] hangs: timed out after 1 s' \
	'\[ SKIP \] skips' '\[  OK  \] after_crash' '1 \+ 1 == 3 failed: 2 vs 3' \
	'6 cases: 2 passed, 3 failed, 1 skipped'; do
	echo "$out" | grep -qE "$want" || bad "output lacks /$want/"
done

out=$("$demo" after_crash 2>&1); rc=$?
[ $rc -eq 0 ] || bad "one passing case by name: exit $rc"
echo "$out" | grep -q '1 cases: 1 passed' || bad "one case by name ran more: $out"
"$demo" skips >/dev/null 2>&1; rc=$?
[ $rc -eq 77 ] || bad "only skipped cases: exit $rc, want 77"
"$demo" no_such_case >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || bad "unknown case: exit $rc, want 2"
[ "$("$demo" --list | wc -l)" -eq 6 ] || bad "--list"
"$demo" --no-fork passes >/dev/null 2>&1 || bad "--no-fork passes"

[ $fail -eq 0 ] && echo "runner_check: ok"
exit $fail
