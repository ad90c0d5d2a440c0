#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Active/standby controllers over one PostgreSQL database (issue 15 items 4
# and 5, docs/ha.md), on a throwaway server from Debian's packages
# (tests/store/pg_server.sh; SKIPs without them):
#  - two controllers A and B on the database; two agents and the clients know
#    both (--controller A,B; AIDC_CONTROLLER=A,B with a token);
#  - FAILOVER_CYCLES (20) times, during a submission storm from parallel
#    clients: kill -9 of whichever leads, then its restart (as the standby);
#    each cycle measures the takeover: from the kill to the standby answering,
#    and to a new job (submitted through both addresses) running;
#  - afterwards every acknowledged submission ran exactly once and completed,
#    and no job at all ran twice (marker files, as storm.sh);
#  - a leader paused (SIGSTOP) past its lease: the standby takes over and runs
#    a job; resumed, the old leader stores nothing (a submission sent to it is
#    not acknowledged and never appears) and exits, saying it no longer leads.
# Takeover times are printed (the closing note reports them); nothing here
# asserts a timing: waits poll with generous deadlines.
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
if [ -z "${AIDC_TEST_PG_URI:-}" ]; then
	exec "$(dirname "$0")/../store/pg_server.sh" run /bin/bash "$0" "$@"
fi
MARKER_TEST=failover
. "$(dirname "$0")/marker_lib.sh"
CYCLES=${FAILOVER_CYCLES:-20}
CLIENTS=${FAILOVER_CLIENTS:-3}
LEASE_MS=${FAILOVER_LEASE_MS:-2000}
NODE_TIMEOUT=60
. "$(dirname "$0")/failover_lib.sh"
read -r PA PB < <(free_ports 2)
healthy() { curl -s -m 2 --unix-socket "$D/c$1.sock" http://x/v1/health 2>/dev/null | grep -q '"ok":true'; }
# leader: prints A or B, whichever answers (only the leader listens), waiting
# up to about 30 s; "" if none.
leader() {
	local i
	for i in $(seq 600); do
		healthy A && { echo A; return; }
		healthy B && { echo B; return; }
		sleep 0.05
	done
}
job_state() { "$AIDC" job "$1" --json 2>/dev/null | grep -o '"state":"[a-z_]*"' | head -1 | cut -d'"' -f4; }
now() { date +%s.%N; }
# Every daemon of this test dies first (aidc down does not know this layout).
stop_all() {
	touch "$D/stop"
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	for f in "$D"/pids/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	cleanup
}
trap stop_all EXIT
since() { "$PY" -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

start_ctl A
for _ in $(seq 300); do healthy A && break; sleep 0.1; done
healthy A || { check 1 "controller A leads" "no health reply"; exit 1; }
cp "$D/cA/secret" "$D/secret"
start_ctl B
for n in 1 2; do
	mkdir -p "$D/a$n"
	setsid "$AIDC" agent --controller "127.0.0.1:$PA,127.0.0.1:$PB" --name "n$n" \
		--state-dir "$D/a$n" --secret-file "$D/secret" --devices mock:2:mock-a1:mock \
		--cpus 16 "${ROOT[@]}" >>"$D/agent$n.log" 2>&1 </dev/null &
	echo $! >"$D/pids/agent$n.pid"
	disown $!
done
export AIDC_SOCKET=$D/cA.sock
TOKEN=$("$AIDC" token create --name failover 2>/dev/null | tail -1)
[[ "$TOKEN" == aidc_* ]] || { check 1 "token for the clients" "got '$TOKEN'"; exit 1; }
BOTH="http://127.0.0.1:$PA,http://127.0.0.1:$PB"
# Clients over TCP, knowing both controllers; they wait out a takeover.
client() { AIDC_CONTROLLER=$BOTH AIDC_TOKEN=$TOKEN AIDC_RETRY_S=60 "$AIDC" "$@"; }
for _ in $(seq 300); do [ "$(client nodes --json 2>/dev/null | grep -o '"state":"up"' | grep -c .)" = 2 ] && break; sleep 0.1; done

start_submitters "$CLIENTS" client submit

# probe_start T0: submits a job through both addresses and prints the
# seconds from T0 until it runs (or has run), or "never".
probe_start() {
	local t0=$1 id st
	id=$(client submit -J probe -- sh -c "$JOB" 2>/dev/null | awk '/^submitted job /{print $3}')
	[ -n "$id" ] || { echo never; return; }
	echo "$id" >>"$D/acked.probe"
	for _ in $(seq 600); do
		st=$(client job "$id" --json 2>/dev/null | grep -o '"state":"[a-z_]*"' | head -1)
		case "$st" in *running* | *completed*) since "$t0"; return ;; esac
		sleep 0.05
	done
	echo never
}

# revive: what a supervisor (systemd's Restart=on-failure, docs/ha.md) does: a
# controller that exited on its own (a leader that could not renew its lease
# in time on a loaded machine steps down and exits) is started again, as a
# standby; without it the next takeover would find no standby.
revive() {
	local x
	for x in A B; do
		kill -0 "$(cat "$D/pids/controller$x.pid")" 2>/dev/null && continue
		echo "$(date +%T) controller $x had exited on its own ($(grep -E 'error' "$D/controller$x.log" | tail -1 | cut -c1-160)); started again"
		start_ctl "$x"
	done
}

: >"$D/takeover"
for cycle in $(seq "$CYCLES"); do
	sleep "0.$((RANDOM % 6 + 2))"
	revive
	L=$(leader)
	[ -n "$L" ] || { check 1 "a controller leads before kill #$cycle" "none answers"; exit 1; }
	pid=$(cat "$D/pids/controller$L.pid")
	t0=$(now)
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
	start_ctl "$L" # back, as a standby (either may win the lease)
	N=$(leader)
	[ -n "$N" ] || { check 1 "a standby takes over after kill -9 #$cycle" "none answers"; exit 1; }
	t_up=$(since "$t0")
	t_job=$(probe_start "$t0")
	echo "cycle $cycle: $L killed; $N leads after ${t_up} s, runs a new job after ${t_job} s"
	echo "$t_up $t_job" >>"$D/takeover"
done
touch "$D/stop"
echo "$(date +%T) the storm is over; waiting for the clients"
for p in "${BG[@]}"; do wait "$p"; done
BG=()
"$PY" - "$D/takeover" <<'EOF'
import sys, statistics
up, job = [], []
for line in open(sys.argv[1]):
    a, b = line.split()
    up.append(float(a))
    job.append(float(b) if b != "never" else float("inf"))
for name, v in (("answers", up), ("runs a new job", job)):
    v.sort()
    print("takeover, %s: median %.2f s, max %.2f s over %d kills" % (name, statistics.median(v), v[-1], len(v)))
EOF
never=$(grep -c never "$D/takeover")
check "$never" "after every kill a new job runs" "$never probes never ran"

check_acked
# Through both addresses: a leader may change again (one that cannot renew
# its lease in time on a loaded machine steps down, and the other takes over).
echo "$(date +%T) waiting for every job to end"
live=$(AIDC_CONTROLLER=$BOTH AIDC_TOKEN=$TOKEN AIDC_RETRY_S=60 wait_jobs_ended)
check "$live" "every job ended" "$live still live"
# One pass over the markers and the job list (a loop of greps per id is slow).
echo "$acked" >"$D/acked.all"
client jobs --json >"$D/jobs.json"
while read -r name count detail; do
	check "$count" "${name//_/ }" "$count; $detail"
done < <("$PY" - "$D/acked.all" "$D/jobs.json" "$M" <<'EOF'
import json, os, sys
acked = [int(x) for x in open(sys.argv[1]).read().split()]
doc = json.load(open(sys.argv[2]))
jobs = doc["jobs"] if isinstance(doc, dict) else doc
state = {int(j["id"]): j.get("state") for j in jobs}
runs = {}
for f in os.listdir(sys.argv[3]):
    runs[int(f)] = sum(1 for line in open(os.path.join(sys.argv[3], f)) if line.strip())
def row(name, bad):
    print(name.replace(" ", "_"), len(bad), ("e.g._job_%d" % bad[0]) if bad else "-")
row("zero acknowledged jobs lost", [i for i in acked if runs.get(i, 0) == 0])
row("zero acknowledged jobs run twice", [i for i in acked if runs.get(i, 0) > 1])
row("every acknowledged job completed", [i for i in acked if state.get(i) != "completed"])
row("no job at all ran twice", [i for i, n in runs.items() if n > 1])
EOF
)

# ---- the term: one more per leader (the first, one per takeover, and one per
# step-down of a leader that could not renew in time on a loaded machine) ----
L=$(leader)
term=$(curl -s -m 5 --unix-socket "$D/c$L.sock" http://x/v1/health | grep -o '"leader_term":[0-9]*' | cut -d: -f2)
mterm=$(curl -s -m 5 --unix-socket "$D/c$L.sock" http://x/metrics | awk '$1 == "aidc_leader_term" {print $2}')
check $([ "${term:-0}" -ge "$((CYCLES + 1))" ] && echo 0 || echo 1) \
	"the leader's term ($term) is at least $((CYCLES + 1)) after $CYCLES takeovers" \
	"health says ${term:-none}"
check $([ "$mterm" = "$term" ] && echo 0 || echo 1) "/metrics says the same term" "${mterm:-none}"

# ---- a leader paused past its lease ----
revive
L=$(leader)
[ "$L" = A ] && S=B || S=A
lpid=$(cat "$D/pids/controller$L.pid")
# A job that runs across the pause: its end is the new leader's to record.
AIDC_SOCKET=$D/c$L.sock "$AIDC" submit -J across -- sh -c "sleep 3; $JOB" >"$D/across" 2>&1
across=$(awk '/^submitted job /{print $3}' "$D/across")
t0=$(now)
kill -STOP "$lpid"
for _ in $(seq 600); do healthy "$S" && break; sleep 0.05; done
healthy "$S" && ok_up=0 || ok_up=1
check "$ok_up" "standby $S takes over from the paused leader $L" "after $(since "$t0") s"
echo "paused leader: $S answers after $(since "$t0") s"
id=$(AIDC_SOCKET=$D/c$S.sock "$AIDC" submit -J during -- sh -c "$JOB" | awk '/^submitted job /{print $3}')
export AIDC_SOCKET=$D/c$S.sock
st=
for _ in $(seq 600); do
	st=$("$AIDC" job "$id" --json 2>/dev/null | grep -o '"state":"[a-z_]*"' | head -1)
	[[ "$st" == *completed* ]] && break
	sleep 0.05
done
check $([[ "$st" == *completed* ]] && echo 0 || echo 1) "the new leader runs a job" "job $id: $st"
echo "paused leader: a new job completed $(since "$t0") s after the pause"
kill -CONT "$lpid"
# At once, a submission to the old leader itself: it must not be acknowledged.
late=$(AIDC_SOCKET=$D/c$L.sock AIDC_RETRY_S=0 "$AIDC" submit -J late -- true 2>&1)
check $([[ "$late" == submitted* ]] && echo 1 || echo 0) "the resumed old leader acknowledges nothing" "$late"
for _ in $(seq 200); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$lpid" 2>/dev/null && gone=1 || gone=0
check "$gone" "the resumed old leader exits" "pid $lpid still runs"
grep -q "no longer" "$D/controller$L.log" && said=0 || said=1
check "$said" "it says it no longer leads" "$(tail -3 "$D/controller$L.log")"
# The new leader's own word that pg_terminate_backend ended the old session
# (the old one's error then reads "terminating connection due to
# administrator command", or only "server closed the connection
# unexpectedly" when libpq met the closed socket first: not checked).
grep -q "previous leader's database session (pid [0-9]*) was ended" "$D/controller$S.log" && ended=0 || ended=1
check "$ended" "the new leader had ended the old leader's database session" \
	"$(grep "previous leader's database session" "$D/controller$S.log" | tail -2)"
nlate=$("$AIDC" jobs --json | grep -c '"name":"late"')
check "$nlate" "no job 'late' exists" "found $nlate"
st=$(wait_jobs_ended)
check "$st" "every job ended after the pause" "$st still live"
n=$(grep -c . "$M/$across" 2>/dev/null || echo 0)
check $([ "$n" = 1 ] && echo 0 || echo 1) "the job across the pause ran once" "job $across ran $n times"
check $([ "$(job_state "$across")" = completed ] && echo 0 || echo 1) \
	"and completed (recorded by the new leader)" "$(job_state "$across")"
exit "$fail"
