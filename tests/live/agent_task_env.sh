#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# aidc-task (the agent's task starter, task_main.c) runs as root until the
# task drops to its user, so it must not take the job's environment (the
# user's: LD_PRELOAD, LD_LIBRARY_PATH, GLIBC_TUNABLES, ASAN_OPTIONS...) as
# its own: the agent passes it in a memfd and aidc-task execs root-free with
# an empty environment (docs/security.md "On the nodes"). Another user's job
# with LD_PRELOAD of a library that logs its effective uid: the library is
# loaded by the task's program as that user, never by a root process (where
# aidc-task is linked dynamically, as in sanitizer builds, it was loaded by
# aidc-task as root); the program still gets the job's environment.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
other_user "task environment" || skip "needs root and a second user"
command -v cc >/dev/null || skip "no C compiler for the preloaded library"
center_up 1
cat >"$DIR/pre.c" <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void pre(void)
{
	const char *p = getenv("PRE_LOG");
	FILE *f = p ? fopen(p, "a") : NULL;
	if (f) {
		fprintf(f, "%u %s\n", (unsigned)geteuid(), program_invocation_short_name);
		fclose(f);
	}
}
C
cc -shared -fPIC -o "$DIR/pre.so" "$DIR/pre.c" || skip "cannot build a shared library"
chmod 755 "$DIR/pre.so"
: >"$DIR/pre.log"
chmod 666 "$DIR/pre.log"
ouid=$(id -u "$OTHER_USER")
mkdir -m 1777 "$DIR/o"
# The script's parent is the task's shim (aidc-task, root): its environment
# is read while the script sleeps.
printf '#!/bin/sh\necho "env: $MARK"\necho $PPID >%s/o/shim\nsleep 3\n' "$DIR" >"$DIR/job.sh"
chmod 755 "$DIR/job.sh"
id=$(as_user sbatch --parsable -o "$DIR/o/job.out" \
	--export "ALL,MARK=here,PRE_LOG=$DIR/pre.log,LD_PRELOAD=$DIR/pre.so,ASAN_OPTIONS=verify_asan_link_order=0" \
	"$DIR/job.sh")
wait_for 30 test -s "$DIR/o/shim" || fail "job $id did not start"
shim=$(cat "$DIR/o/shim")
check_eq "the shim runs as root" "$(stat -c %u "/proc/$shim")" 0
check_eq "the shim's environment holds nothing of the job's" \
	"$(tr '\0' '\n' <"/proc/$shim/environ" | grep -c -E '^(MARK|LD_PRELOAD)=')" 0
check_eq "job $id completes" "$(wait_state "$id" completed 60)" completed
check_eq "the program got the job's environment" "$(cat "$DIR/o/job.out" 2>&1)" "env: here"
grep -q "^$ouid " "$DIR/pre.log" && ok "the job's LD_PRELOAD reached its program as uid $ouid" ||
	fail "the preloaded library was not loaded by the job: $(cat "$DIR/pre.log")"
root=$(grep -v "^$ouid " "$DIR/pre.log")
check_eq "no process of another uid (root) loaded the job's LD_PRELOAD" "$root" ""
finish
