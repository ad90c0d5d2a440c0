#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Running as a service (issue 14 item 4):
#  - `aidc up --dir` with a bad path fails at once with the reason;
#  - `aidc up` on a running center restarts nothing; after the controller and
#    an agent are killed with SIGKILL it restarts exactly those, the
#    controller on the port it had, with its jobs;
#  - a submission's request id makes a retry idempotent: the same
#    --request-id gives the same job, before and after a controller restart;
#  - the controller is killed -9 (and brought back by `aidc up`) while
#    parallel clients submit: every submission succeeds (the clients wait for
#    the restart, AIDC_RETRY_S) and no job is doubled;
#  - AIDC_RETRY_S bounds the wait and a bad value is refused.
# Waits poll with generous deadlines; nothing here asserts a timing.
. "$(dirname "$0")/agent_lib.sh"
CLIENTS=${RESTART_CLIENTS:-4}
PER_CLIENT=${RESTART_PER_CLIENT:-15}
CYCLES=${RESTART_CYCLES:-5}

# ---- bad --dir ----
tmp=$(mktemp -d /tmp/aidc-upbad-XXXXXX)
touch "$tmp/file"
out=$("$AIDC" up --dir "$tmp/no/such/dir" 2>&1)
rc=$?
check_eq "up --dir with a missing parent exits 2" "$rc" 2
[[ "$out" == *"cannot create it: No such file or directory"* ]] && ok "says why: $out" ||
	fail "bad --dir message: $out"
out=$("$AIDC" up --dir "$tmp/file" 2>&1)
check_eq "up --dir on a file exits 2" "$?" 2
[[ "$out" == *"not a directory"* ]] && ok "says why: $out" || fail "file --dir message: $out"
[ -e "$tmp/no" ] && fail "a failed up left $tmp/no" || ok "a failed up creates nothing"
rm -rf "$tmp"

center_up 2
ctl_pid() { cat "$DIR/pids/controller.pid"; }
port=$(cat "$DIR/controller/port")
out=$("$AIDC" up --dir "$DIR" 2>&1)
check_eq "up on a running center exits 0" "$?" 0
[[ "$out" == *"nothing to restart"* ]] && ok "nothing restarted" || fail "up on a running center: $out"
out=$("$AIDC" up --dir "$DIR" --agents 5 2>&1)
check_eq "up with new options on a recorded center exits 2" "$?" 2
[[ "$out" == *"aidc down"* ]] && ok "says to run aidc down first" || fail "options refused: $out"

# ---- request ids ----
id1=$(submit --request-id ops-r1 -J rid -- true)
id2=$(submit --request-id ops-r1 -J rid -- true)
check_eq "same request id, same job" "$id2" "$id1"
out=$("$AIDC" submit --request-id 'bad id!' -- true 2>&1)
check_eq "a malformed request id exits 2" "$?" 2
body='{"command":["true"],"name":"rid-http","request_id":"ops-r2"}'
h1=$(curl -s -o "$DIR/r1.json" -w '%{http_code}' --unix-socket "$AIDC_SOCKET" -X POST \
	-H 'Content-Type: application/json' -d "$body" http://x/v1/jobs)
h2=$(curl -s -o "$DIR/r2.json" -w '%{http_code}' --unix-socket "$AIDC_SOCKET" -X POST \
	-H 'Content-Type: application/json' -d "$body" http://x/v1/jobs)
check_eq "first POST with a request id" "$h1" 201
check_eq "repeated POST answers 200" "$h2" 200
j1=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$DIR/r1.json")
j2=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$DIR/r2.json")
check_eq "repeated POST names the first job" "$j2" "$j1"

# ---- kill -9 controller and an agent; aidc up brings back exactly those ----
old=$(ctl_pid)
apid=$(cat "$DIR/pids/node-1.pid")
kill -9 "$old" "$apid"
while kill -0 "$old" 2>/dev/null || kill -0 "$apid" 2>/dev/null; do sleep 0.05; done
out=$("$AIDC" up --dir "$DIR" 2>&1)
check_eq "up after kill -9 exits 0" "$?" 0
echo "$out"
[[ "$out" == *"restarted controller"*"port $port"*"node-1"* ]] && ok "restarted the controller on port $port and node-1" ||
	fail "restart message: $out"
[[ "$out" == *"node-0"* ]] && fail "restarted node-0, which was alive" || ok "node-0 left alone"
check_eq "same port after restart" "$(cat "$DIR/controller/port")" "$port"
check_eq "the job is still there" "$(job_field "$id1" name)" rid
id3=$(submit --request-id ops-r1 -J rid -- true)
check_eq "request id remembered across a restart" "$id3" "$id1"

# ---- kill -9 while clients submit ----
client() { # client K: PER_CLIENT jobs named cK-I; failures to $DIR/fail.K
	local k=$1 i
	for i in $(seq "$PER_CLIENT"); do
		if ! "$AIDC" submit -J "c$k-$i" -- true >>"$DIR/client.$k.out" 2>&1; then
			echo "c$k-$i" >>"$DIR/fail.$k"
		fi
	done
}
BG=()
for k in $(seq "$CLIENTS"); do
	client "$k" &
	BG+=($!)
done
for cycle in $(seq "$CYCLES"); do
	sleep "0.$((RANDOM % 5 + 2))"
	pid=$(ctl_pid)
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
	sleep 0.3
	"$AIDC" up --dir "$DIR" >"$DIR/up.$cycle.out" 2>&1 || fail "aidc up #$cycle: $(cat "$DIR/up.$cycle.out")"
done
for p in "${BG[@]}"; do wait "$p"; done
nfail=$(cat "$DIR"/fail.* 2>/dev/null | wc -l)
check_eq "submissions that failed across $CYCLES kill -9 cycles" "$nfail" 0
[ "$nfail" = 0 ] || cat "$DIR"/client.*.out | grep -v '^submitted' | head -5
retried=$(cat "$DIR"/client.*.out | grep -c "retrying for up to")
dropped=$(cat "$DIR"/client.*.out | grep -c "connection dropped")
echo "clients waited for a restarting controller $retried times ($dropped after a dropped connection: resent with the same request id)"
names=$("$AIDC" jobs --json 2>/dev/null | "$PY" -c '
import json, sys
for j in json.load(sys.stdin)["jobs"]:
    if j["name"].startswith("c"): print(j["name"])' | sort)
check_eq "jobs made by the clients" "$(echo "$names" | grep -c .)" $((CLIENTS * PER_CLIENT))
dups=$(echo "$names" | uniq -d | head -3 | tr '\n' ' ')
check_eq "doubled jobs" "$dups" ""
check_eq "same port after the storm" "$(cat "$DIR/controller/port")" "$port"

# ---- bounded wait ----
pid=$(ctl_pid)
kill -9 "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
out=$(AIDC_RETRY_S=1 "$AIDC" jobs 2>&1)
check_eq "AIDC_RETRY_S=1 gives up" "$?" 1
[[ "$out" == *"retrying for up to 1 s"* ]] && ok "says how long it waits" || fail "retry message: $out"
out=$(AIDC_RETRY_S=abc "$AIDC" jobs 2>&1)
check_eq "a bad AIDC_RETRY_S exits 2" "$?" 2
[[ "$out" == *AIDC_RETRY_S* ]] && ok "names AIDC_RETRY_S" || fail "bad AIDC_RETRY_S: $out"
"$AIDC" up --dir "$DIR" >/dev/null 2>&1 || fail "final aidc up"
finish
