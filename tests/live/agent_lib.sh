# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the agent's shell tests (tests/live/agent_*.sh, cgroup*.sh,
# ddp.sh); sourced, not run. Each test starts its own center with `aidc up` in
# a temporary directory and stops everything it started on any exit (trap):
# `aidc down`, then SIGKILL of any daemon PID left in DIR/pids, then the
# center's cgroups (cgroup_clean.sh), then the directory. Waits poll with
# generous deadlines; no fixed sleep is an assertion. Also used by the sched_*,
# sbatch*, eta and other single-center shell tests.
# Exit 77 after a printed "SKIP: reason" means SKIP.

AIDC=${AIDC_BIN:-${AIDC_BINARY_DIR:-build}/src/cli/aidc}
[ -e "$AIDC" ] && AIDC=$(realpath "$AIDC")
PY=/usr/bin/python3
FAILS=0
# The states of an ended job (for wait_state).
END='completed|failed|cancelled|timeout|node_fail'
DIR=

skip() { echo "SKIP: $*"; exit 77; }
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
# check WHAT GOT WANT: prints both operands on failure.
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi; }

center_down() {
	[ -n "$DIR" ] && [ -d "$DIR" ] || return 0
	"$AIDC" down --dir "$DIR" >/dev/null 2>&1 || true
	for f in "$DIR"/pids/*.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	for p in ${EXTRA_PIDS:-}; do kill -9 "$p" 2>/dev/null; done
	# Killed agents leave their cgroups behind: remove this center's.
	bash "$(dirname "${BASH_SOURCE[0]}")/cgroup_clean.sh" "$DIR"
	if [ "$FAILS" -ne 0 ]; then
		for f in "$DIR"/*.log; do echo "---- $f"; tail -c 3000 "$f"; done
	fi
	rm -rf "$DIR"
	DIR=
}

# center_up AGENTS [extra aidc up flags...]
center_up() {
	local n=$1
	shift
	DIR=$(mktemp -d /tmp/aidc-agent-XXXXXX)
	chmod 755 "$DIR"
	export AIDC_SOCKET=$DIR/aidc.sock
	trap center_down EXIT
	trap 'exit 1' INT TERM
	local root=()
	[ "$(id -u)" -eq 0 ] && root=(--allow-root-jobs)
	if ! "$AIDC" up --dir "$DIR" --agents "$n" --devices 0 --cpus "${CPUS:-2}" --node-timeout 10 \
		"${root[@]}" "$@" >"$DIR/up.out" 2>&1; then
		cat "$DIR/up.out"
		FAILS=1
		exit 1
	fi
}

# submit ARGS... -> prints the job id
submit() {
	local out
	out=$(cd "$DIR" && "$AIDC" submit "$@") || { echo "submit $* failed: $out" >&2; return 1; }
	echo "$out" | awk '/^submitted job /{print $3}'
}

# job_field ID FIELD -> the field of the job's JSON ("" if absent)
job_field() {
	"$AIDC" job "$1" --json 2>/dev/null |
		"$PY" -c 'import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1], ""))
except Exception: print("")' "$2"
}

# wait_state ID 'state1|state2' [TIMEOUT_S] -> prints the last state seen
wait_state() {
	local id=$1 want=$2 deadline=$((SECONDS + ${3:-60})) st=
	while [ $SECONDS -lt $deadline ]; do
		st=$(job_field "$id" state)
		if [[ "$st" =~ ^($want)$ ]]; then break; fi
		sleep 0.1
	done
	echo "$st"
}

# wait_for TIMEOUT_S COMMAND... : polls until COMMAND succeeds
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# wait_field ID FIELD [TIMEOUT_S] -> prints the job's FIELD once it is set ("" if never)
wait_field() {
	local deadline=$((SECONDS + ${3:-60})) v=
	while [ $SECONDS -lt $deadline ]; do
		v=$(job_field "$1" "$2")
		[ -n "$v" ] && break
		sleep 0.1
	done
	echo "$v"
}

# ctl_healthy: this center's controller answers its health check.
ctl_healthy() { curl -s -m 2 --unix-socket "$AIDC_SOCKET" http://x/v1/health 2>/dev/null | grep -q '"ok":true'; }

# ctl_kill: kill -9 of this center's controller; its command line (with its
# port) kept in CTL_CMD for ctl_start.
ctl_kill() {
	local port pid i
	port=$(cat "$DIR/controller/port")
	pid=$(cat "$DIR/pids/controller.pid")
	mapfile -d '' CTL_CMD <"/proc/$pid/cmdline"
	for i in "${!CTL_CMD[@]}"; do # the restarted controller keeps its port
		[ "${CTL_CMD[$i]}" = --port ] && CTL_CMD[$((i + 1))]=$port
	done
	kill -9 "$pid"
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || fail "controller $pid stopped by kill -9"
}
# ctl_start [extra flags...]: starts the controller ctl_kill stopped, as it was.
ctl_start() {
	setsid "${CTL_CMD[@]}" "$@" >>"$DIR/controller.log" 2>&1 </dev/null &
	echo $! >"$DIR/pids/controller.pid"
	wait_for 30 ctl_healthy
}
# ctl_restart [controller flags...]: kill -9 of this center's controller, then
# the same command line again (same port) plus the flags; fails unless the new
# one answers its health check within 30 s.
ctl_restart() {
	ctl_kill
	ctl_start "$@"
}

# The second local user of the cross-user checks, and aidc run as that user from DIR.
OTHER_USER=aidc_t2
as_user() { (cd "$DIR" && setpriv --reuid "$OTHER_USER" --regid "$OTHER_USER" --init-groups "$AIDC" "$@"); }

# other_user WHAT: succeeds when OTHER_USER exists or could be made (root
# only); otherwise prints a note that the WHAT checks are skipped.
other_user() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "note: not root: the $1 checks need a second user (skipped)"
	elif ! id "$OTHER_USER" >/dev/null 2>&1 && ! useradd -M -s /bin/sh "$OTHER_USER" 2>/dev/null; then
		echo "note: cannot create user $OTHER_USER: the $1 checks are skipped"
	else
		return 0
	fi
	return 1
}

# The cgroup directory of agent N of this center ("" without cgroups), from its log.
agent_cgroup_dir() {
	grep -o 'limits: cgroup[0-9]* in /[^; ]*' "$DIR/agent-$1.log" 2>/dev/null | head -1 |
		sed 's/^limits: cgroup[0-9]* in //'
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
}
