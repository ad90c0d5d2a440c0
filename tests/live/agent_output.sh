#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# -o/-e output files (issue 4): a task's stdout/stderr land in the requested
# paths while it runs (a line printed before a sleep is in the -o file during
# the sleep) and completely once the job has ended, with %j %t %u %N %% expanded, relative paths taken
# from the job's working directory, stderr merged into the -o file when there
# is no -e (Slurm's rule), and the files written AS THE USER: as root this test
# submits as a second local user and checks the file's owner and that a
# directory the user cannot write stays untouched (that part SKIPs politely
# when not root).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

center_up 1
mkdir "$DIR/out"
a=$(submit -J sep -o "$DIR/out/%j.%t.%u.out" -e "$DIR/out/%j-%N.err" -- sh -c 'echo hello; echo oops >&2')
b=$(submit -J merged -o "merged-%j.log" -- sh -c 'echo to-out; echo to-err >&2')
check_eq "job with -o/-e completes" "$(wait_state "$a" 'completed|failed|cancelled' 60)" completed
check_eq "job with -o only completes" "$(wait_state "$b" 'completed|failed|cancelled' 60)" completed
me=$(id -un)
check_eq "-o file (%j %t %u)" "$(cat "$DIR/out/$a.0.$me.out" 2>&1)" "hello"
check_eq "-e file (%j %N)" "$(cat "$DIR/out/$a-node-0.err" 2>&1)" "oops"
check_eq "relative -o with stderr merged" "$(cat "$DIR/merged-$b.log" 2>&1 | tr '\n' ' ')" "to-out to-err "
check_eq "aidc logs still has the output" "$("$AIDC" logs "$a" 2>&1)" "hello"
# /dev/null takes no writer (agent_output.c): the other stream still lands.
n1=$(submit -J nullout -o /dev/null -e "$DIR/out/%j.err" -- sh -c 'echo gone; echo kept1 >&2')
n2=$(submit -J nullerr -o "$DIR/out/%j.out" -e /dev/null -- sh -c 'echo kept2; echo gone >&2')
n3=$(submit -J nullboth -o /dev/null -- sh -c 'echo gone; echo gone >&2')
for j in "$n1" "$n2" "$n3"; do
	check_eq "job $j with a /dev/null path completes" "$(wait_state "$j" 'completed|failed|cancelled' 60)" completed
done
check_eq "-o /dev/null: the -e file has stderr" "$(cat "$DIR/out/$n1.err" 2>&1)" "kept1"
check_eq "-e /dev/null: the -o file has stdout only" "$(cat "$DIR/out/$n2.out" 2>&1)" "kept2"
check_eq "-o /dev/null: the log keeps the output" "$("$AIDC" logs "$n3" 2>&1 | head -1)" "gone"

# Streaming: the task prints a line, then waits (sleeping) until the test has
# seen that line in the -o file (no timing assumption), then prints another.
s=$(submit -J stream -o "$DIR/out/stream.%j" -- sh -c "echo first; while [ ! -e $DIR/out/go ]; do sleep 0.2; done; echo second >&2")
check_eq "streaming job runs" "$(wait_state "$s" 'running|completed|failed' 60)" running
has_first() { [ "$(cat "$DIR/out/stream.$s" 2>/dev/null)" = first ]; }
if wait_for 30 has_first; then ok "-o holds the first line while the task runs"; else
	fail "-o holds the first line while the task runs: state $(job_field "$s" state), file '$(cat "$DIR/out/stream.$s" 2>&1)'"
fi
check_eq "the task was still running then" "$(job_field "$s" state)" running
touch "$DIR/out/go"
check_eq "streaming job completes" "$(wait_state "$s" 'completed|failed|cancelled' 60)" completed
check_eq "-o holds both lines at the end (stderr merged)" \
	"$(tr '\n' ' ' <"$DIR/out/stream.$s" 2>&1)" "first second "

user=$OTHER_USER
if other_user write-as-user; then
	mkdir -m 1777 "$DIR/pub"
	mkdir -m 0755 "$DIR/priv"
	c=$(as_user submit -o "$DIR/pub/%u.out" -- id -un | awk '{print $3}')
	d=$(as_user submit -o "$DIR/priv/%u.out" -- echo secret | awk '{print $3}')
	check_eq "user job completes" "$(wait_state "$c" 'completed|failed|cancelled' 60)" completed
	check_eq "user job 2 completes" "$(wait_state "$d" 'completed|failed|cancelled' 60)" completed
	check_eq "-o file written by the user" "$(stat -c %U "$DIR/pub/$user.out" 2>&1)" "$user"
	check_eq "-o content" "$(cat "$DIR/pub/$user.out" 2>&1)" "$user"
	if [ -e "$DIR/priv/$user.out" ]; then fail "a root-only directory got the user's file"; else
		ok "a root-only directory stays untouched"; fi
	# Streaming as the user: the file exists, is the user's and has the first
	# line while the task still runs.
	f=$(as_user submit -o "$DIR/pub/stream-%j.out" -- sh -c "echo one; while [ ! -e $DIR/pub/go ]; do sleep 0.2; done; echo two" | awk '{print $3}')
	check_eq "user streaming job runs" "$(wait_state "$f" 'running|completed|failed' 60)" running
	u_first() { [ "$(cat "$DIR/pub/stream-$f.out" 2>/dev/null)" = one ]; }
	if wait_for 30 u_first; then ok "the user's -o file has the first line while the task runs"; else
		fail "the user's -o file has the first line while the task runs: '$(cat "$DIR/pub/stream-$f.out" 2>&1)'"
	fi
	check_eq "the user's task was still running then" "$(job_field "$f" state)" running
	check_eq "streamed -o file owned by the user (while running)" "$(stat -c %U "$DIR/pub/stream-$f.out" 2>&1)" "$user"
	touch "$DIR/pub/go"
	check_eq "user streaming job completes" "$(wait_state "$f" 'completed|failed|cancelled' 60)" completed
	check_eq "user -o file has both lines" "$(tr '\n' ' ' <"$DIR/pub/stream-$f.out" 2>&1)" "one two "
	e=$(as_user logs "$d" --stderr 2>&1)
	case "$e" in *"could not write the -o file as the user"*) ok "the refusal is in the task's stderr" ;;
	*) fail "the refusal is in the task's stderr: got '$e'" ;; esac
fi
finish
