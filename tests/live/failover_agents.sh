#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A leader cut off from its agents but not from the database (issue 15 item
# 4, docs/ha.md "A leader cut off from the agents"), on a throwaway
# PostgreSQL server (tests/store/pg_server.sh; SKIPs without its packages).
# The agents reach controller A only through a TCP relay (python3), B
# directly; killing the relay cuts A off from every agent, and A keeps its
# database session:
#  - with no standby, A keeps leading and says that no standby waits;
#  - with B waiting as a standby, A steps down (its log says so, it exits,
#    the lease is released), B leads, the agents register with B and a new
#    job runs there.
# No timing is asserted: every wait polls with a generous deadline.
# Exit 0 pass, 1 fail, 77 skip (with the reason printed).
if [ -z "${AIDC_TEST_PG_URI:-}" ]; then
	exec "$(dirname "$0")/../store/pg_server.sh" run /bin/bash "$0" "$@"
fi
MARKER_TEST=failover-agents
. "$(dirname "$0")/marker_lib.sh"
LEASE_MS=2000
NODE_TIMEOUT=120
. "$(dirname "$0")/failover_lib.sh"
read -r PA PB PX < <(free_ports 3)
# The relay 127.0.0.1:PX -> 127.0.0.1:PA; killed, every connection through it ends.
start_relay() {
	setsid "$PY" - "$PX" "$PA" >>"$D/relay.log" 2>&1 </dev/null <<'EOF' &
import asyncio, sys
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def serve(r, w):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", int(sys.argv[2]))
    except OSError:
        w.close()
        return
    await asyncio.gather(pipe(r, uw), pipe(ur, w))
async def main():
    srv = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), reuse_address=True)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
EOF
	echo $! >"$D/pids/relay.pid"
	disown $!
}
stop_relay() {
	kill -9 "$(cat "$D/pids/relay.pid")" 2>/dev/null
	rm -f "$D/pids/relay.pid"
}
healthy() { curl -s -m 2 --unix-socket "$D/c$1.sock" http://x/v1/health 2>/dev/null | grep -q '"ok":true'; }
nodes_up() { AIDC_SOCKET=$D/c$1.sock "$AIDC" nodes --json 2>/dev/null | grep -o '"state":"up"' | grep -c .; }
# wait_for N CMD...: runs CMD every 0.1 s until it succeeds, N times at most.
wait_for() {
	local n=$1 i
	shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
# run_job X: a job submitted to controller X completes; prints its state.
run_job() {
	local id st i
	id=$(AIDC_SOCKET=$D/c$1.sock "$AIDC" submit -J probe -- sh -c "$JOB" 2>/dev/null |
		awk '/^submitted job /{print $3}')
	[ -n "$id" ] || { echo "not submitted"; return; }
	for i in $(seq 1200); do
		st=$(AIDC_SOCKET=$D/c$1.sock "$AIDC" job "$id" --json 2>/dev/null |
			grep -o '"state":"[a-z_]*"' | head -1 | cut -d'"' -f4)
		[ "$st" = completed ] && break
		sleep 0.1
	done
	echo "${st:-unknown}"
}
stop_all() {
	for f in "$D"/pids/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	cleanup
}
trap stop_all EXIT

start_ctl A
wait_for 300 healthy A || { check 1 "controller A leads" "no health reply"; exit 1; }
cp "$D/cA/secret" "$D/secret"
start_relay
for n in 1 2; do
	mkdir -p "$D/a$n"
	setsid "$AIDC" agent --controller "127.0.0.1:$PX,127.0.0.1:$PB" --name "n$n" \
		--state-dir "$D/a$n" --secret-file "$D/secret" --devices mock:2:mock-a1:mock \
		--cpus 16 "${ROOT[@]}" >>"$D/agent$n.log" 2>&1 </dev/null &
	echo $! >"$D/pids/agent$n.pid"
	disown $!
done
two_up() { [ "$(nodes_up "$1")" = 2 ]; }
wait_for 600 two_up A
check $? "both agents register with A through the relay" "$(nodes_up A) up"
st=$(run_job A)
check $([ "$st" = completed ] && echo 0 || echo 1) "a job runs on A" "$st"

# ---- no standby: A keeps leading ----
stop_relay
said_none() { grep -q "no standby waits" "$D/controllerA.log"; }
wait_for 600 said_none
check $? "cut off with no standby, A says no standby waits" "$(tail -3 "$D/controllerA.log")"
healthy A
check $? "and keeps leading" "no health reply from A"
start_relay
wait_for 600 two_up A
check $? "the agents come back to A through the relay" "$(nodes_up A) up"

# ---- B waits as a standby: A steps down ----
start_ctl B
standby() { grep -q "standby:" "$D/controllerB.log"; }
wait_for 300 standby
check $? "B waits as a standby" "$(tail -3 "$D/controllerB.log")"
stop_relay
apid=$(cat "$D/pids/controllerA.pid")
a_gone() { ! kill -0 "$apid" 2>/dev/null; }
wait_for 900 a_gone
check $? "cut off with a standby, A exits" "pid $apid still runs"
grep -q "stepping down" "$D/controllerA.log"
check $? "A says it steps down" "$(tail -3 "$D/controllerA.log")"
grep -q "handed over" "$D/controllerA.log"
check $? "A released the lease" "$(tail -3 "$D/controllerA.log")"
wait_for 600 healthy B
check $? "B leads" "no health reply from B"
wait_for 900 two_up B
check $? "the agents register with B" "$(nodes_up B) up"
st=$(run_job B)
check $([ "$st" = completed ] && echo 0 || echo 1) "a new job runs on B" "$st"
exit "$fail"
