#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A full state directory on an agent (issue 9 item 9): the agent detects it
# (statvfs under the floor, or a failed write), reports it with its
# heartbeats, and the controller drains the node with the reason instead of
# sending it jobs that fail silently; once space is back the node resumes
# and the waiting job runs there. The agent's state directory is a 16 MiB
# tmpfs (SKIP where one cannot be mounted).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
[ "$(id -u)" -eq 0 ] || skip "needs root (mounts a tmpfs)"
MNT=$(mktemp -d /tmp/aidc-diskfull-XXXXXX)
mount -t tmpfs -o size=16m,mode=755 tmpfs "$MNT" 2>/dev/null || { rmdir "$MNT"; skip "cannot mount a tmpfs"; }
center_up 1
trap 'center_down; umount -l "$MNT"; rmdir "$MNT"' EXIT
port=$(cat "$DIR/controller/port")
"$AIDC" agent --controller "127.0.0.1:$port" --secret-file "$DIR/controller/secret" \
	--name small --partition small --state-dir "$MNT/state" --cpus 1 --mem-mib 512 \
	--allow-root-jobs --log-file "$DIR/small.log" &
EXTRA_PIDS=$!

node_field() { # NAME FIELD
	"$AIDC" nodes --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); n=[x for x in d.get("nodes", []) if x["name"]==sys.argv[1]]
print(n[0].get(sys.argv[2], "") if n else "")' "$1" "$2"
}
node_is() { [ "$(node_field small "$1")" = "$2" ]; }
wait_for 30 node_is state up && ok "node small registered" || fail "node small registered"
id=$(submit -p small -- sh -c 'echo before')
check_eq "a job runs on small before" "$(wait_state "$id" 'completed|failed' 30)" completed

# Fill the state directory.
dd if=/dev/zero of="$MNT/fill" bs=1M count=64 >/dev/null 2>&1
wait_for 30 node_is drained True && ok "node small drains" || fail "node small drains"
reason=$(node_field small drain_reason)
case "$reason" in "agent: state directory $MNT/state is full"*) ok "drain reason: $reason" ;;
*) fail "drain reason names the full state directory: got '$reason'" ;; esac
grep -q "is full" "$DIR/small.log" && ok "the agent logged it" || fail "the agent logged it"
id=$(submit -p small -- sh -c 'echo after')
sleep 3
check_eq "a job for small waits instead of failing there" "$(job_field "$id" state)" pending

# Space back: the node resumes and the job runs.
rm -f "$MNT/fill"
wait_for 30 node_is drained False && ok "node small resumes" || fail "node small resumes"
check_eq "the waiting job completes" "$(wait_state "$id" 'completed|failed' 60)" completed
check_eq "its output" "$("$AIDC" logs "$id" 2>&1)" after
finish
