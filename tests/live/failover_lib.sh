# SPDX-License-Identifier: Apache-2.0
# Shared start of the two-controller tests (failover.sh, failover_agents.sh);
# sourced after marker_lib.sh, not run. Needs /usr/bin/python3 (SKIP without)
# and AIDC_TEST_PG_URI (the callers start PostgreSQL for it). Sets PY, ROOT
# (--allow-root-jobs when root); defines free_ports (loopback ports picked
# below the kernel's ephemeral range, so that no other process's outgoing
# connection takes one before a controller binds it) and start_ctl. The caller
# sets PA PB (the controllers' ports), LEASE_MS and NODE_TIMEOUT before
# start_ctl.
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: no /usr/bin/python3 to pick free ports"; exit 77; }
mkdir -p "$D/pids"
ROOT=()
[ "$(id -u)" = 0 ] && ROOT=(--allow-root-jobs)

# free_ports N: N distinct free loopback ports (checked by binding them).
free_ports() {
	"$PY" - "$1" <<'PYEOF'
import random, socket, sys
n = int(sys.argv[1])
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except (OSError, ValueError):
    lo, hi = 32768, 60999
span = (10000, lo) if lo > 12000 else (hi + 1, 65536)
got, socks = [], []
for _ in range(1000):
    if len(got) == n:
        break
    p = random.randrange(*span)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    socks.append(s)
    got.append(p)
for s in socks:
    s.close()
if len(got) < n:
    sys.exit("no %d free ports" % n)
print(*got)
PYEOF
}
# start_ctl A|B: the controller on its port, state dir and socket, in the
# background, leading with the lease LEASE_MS.
start_ctl() {
	local n=$1 port
	[ "$n" = A ] && port=$PA || port=$PB
	mkdir -p -m 700 "$D/c$n"
	[ -f "$D/secret" ] && cp "$D/secret" "$D/c$n/secret"
	setsid "$AIDC" controller --state-dir "$D/c$n" --socket "$D/c$n.sock" --port "$port" \
		--db "$AIDC_TEST_PG_URI" --leader-lease-ms "$LEASE_MS" --node-timeout "$NODE_TIMEOUT" \
		"${ROOT[@]}" >>"$D/controller$n.log" 2>&1 </dev/null &
	echo $! >"$D/pids/controller$n.pid"
	disown $!
}
