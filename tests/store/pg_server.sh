#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL server for the tests and benchmarks of the
# PostgreSQL store (issue 15 item 3), from Debian's packages: initdb and
# pg_ctl in a temporary directory, listening on a Unix socket in that
# directory only (listen_addresses = ''), trust authentication for role
# "aidc", stopped by its PID. PostgreSQL refuses to run as root: as root it
# runs as the unprivileged user $AIDC_PG_USER (default nobody), which owns
# the directory.
#
#   pg_server.sh run CMD [ARG...]   start a server, run CMD with
#                                   AIDC_TEST_PG_URI (database "postgres",
#                                   role "aidc") and AIDC_PG_BIN (psql is
#                                   there) exported, stop the server, exit
#                                   with CMD's status
#   pg_server.sh start DIR [-c name=value ...]
#                                   start one in the new directory DIR and
#                                   print its URI; extra postgres settings
#   pg_server.sh stop DIR           stop the server of DIR by its PID
#
# Exit 77 with "SKIP: reason" when the binaries are missing ($AIDC_PG_BIN,
# else the newest /usr/lib/postgresql/*/bin) or no unprivileged user can run
# them. Every wait is bounded.
set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

find_bin() {
	if [ -n "${AIDC_PG_BIN:-}" ]; then
		echo "$AIDC_PG_BIN"
		return
	fi
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return
		fi
	done
}

# as_owner CMD...: runs CMD as the server's user (ourselves unless root).
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$PGUSER_OS" --regid="$(id -g "$PGUSER_OS")" --clear-groups -- "$@"
	else
		"$@"
	fi
}

prepare() {
	BIN=$(find_bin)
	[ -n "$BIN" ] || skip "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin; install postgresql, scripts/deps.sh)"
	for b in initdb pg_ctl postgres; do
		[ -x "$BIN/$b" ] || skip "$BIN/$b is missing"
	done
	PGUSER_OS=${AIDC_PG_USER:-nobody}
	if [ "$(id -u)" -eq 0 ]; then
		id "$PGUSER_OS" >/dev/null 2>&1 ||
			skip "running as root and there is no user '$PGUSER_OS' to run PostgreSQL as (AIDC_PG_USER)"
		command -v setpriv >/dev/null || skip "running as root without setpriv to drop privileges for PostgreSQL"
	fi
}

# start DIR [settings...]: prints the URI on success.
start() {
	local dir=$1
	shift
	mkdir -p "$dir" || exit 1
	chmod 0700 "$dir"
	[ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS:$(id -g "$PGUSER_OS")" "$dir"
	if ! as_owner "$BIN/initdb" -D "$dir/data" -U aidc --auth=trust --encoding=UTF8 \
		--locale=C -N >"$dir/initdb.log" 2>&1; then
		if grep -q "cannot be run as root\|Permission denied" "$dir/initdb.log"; then
			cat "$dir/initdb.log" >&2
			skip "initdb cannot run as an unprivileged user here"
		fi
		cat "$dir/initdb.log" >&2
		echo "pg_server: initdb failed" >&2
		exit 1
	fi
	local opts="-c listen_addresses='' -k $dir"
	local s
	for s in "$@"; do
		opts="$opts $s"
	done
	if ! as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" \
		start >"$dir/pg_ctl.log" 2>&1; then
		cat "$dir/pg_ctl.log" "$dir/server.log" >&2
		echo "pg_server: the server did not start" >&2
		exit 1
	fi
	echo "postgresql://aidc@/postgres?host=$dir"
}

# stop DIR: SIGINT (fast shutdown) to the postmaster's PID, then SIGKILL after 30 s.
stop() {
	local dir=$1 pid i
	pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -rf "$dir"
}

cmd=${1:-}
shift || true
case "$cmd" in
run)
	[ $# -ge 1 ] || { echo "usage: pg_server.sh run CMD [ARG...]" >&2; exit 2; }
	prepare
	dir=$(mktemp -d /tmp/aidc-pg-XXXXXX) || exit 1
	trap 'stop "$dir"' EXIT
	trap 'exit 1' INT TERM
	uri=$(start "$dir" -c fsync=off)
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "$uri"
		exit $rc
	fi
	AIDC_TEST_PG_URI=$uri AIDC_PG_BIN=$BIN "$@"
	exit $?
	;;
start)
	[ $# -ge 1 ] || { echo "usage: pg_server.sh start DIR [-c name=value ...]" >&2; exit 2; }
	prepare
	[ -e "$1" ] && { echo "pg_server: $1 exists" >&2; exit 2; }
	start "$@"
	;;
stop)
	[ $# -eq 1 ] || { echo "usage: pg_server.sh stop DIR" >&2; exit 2; }
	stop "$1"
	;;
*)
	echo "usage: pg_server.sh run CMD [ARG...] | start DIR [-c name=value ...] | stop DIR" >&2
	exit 2
	;;
esac
