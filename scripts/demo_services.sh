#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole path from a trained model to a served application on a local
# center (issue 16 item 4; docs/services.md, "Demo"): train a tiny image
# classifier from the catalogue (resnet-train), serve the model file it wrote
# with image-classifier-serve (2 replicas behind HAProxy), send predictions,
# roll out a new version under a request loop (0 failed requests wanted),
# kill a replica and watch it come back. Starts its own center
# (`aidc up --dir TMP --controller-config CONF`, router and replica ports
# found free on loopback) and stops it on any exit (aidc down, then the PIDs).
# Prints each step and its result; exit 1 when a step fails, 77 (with SKIP:)
# when haproxy or /usr/bin/python3's torch/torchvision is missing.
# Usage: scripts/demo_services.sh [--keep] (AIDC_BIN: the aidc binary,
# default build/src/cli/aidc); --keep leaves the center running at the end.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
AIDC=${AIDC_BIN:-$SRC/build/src/cli/aidc}
PY=/usr/bin/python3
HAPROXY=/usr/sbin/haproxy
KEEP=0
[ "${1:-}" = --keep ] && KEEP=1
T0=$SECONDS
DIR=
SVC=classifier

skip() { echo "SKIP: $*"; exit 77; }
step() { printf '\n== [%3ds] %s\n' $((SECONDS - T0)) "$*"; }
ok() { echo "   ok: $*"; }
die() {
	echo "   FAILED: $*"
	if [ -n "$DIR" ]; then
		for f in "$DIR"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -c 2000 "$f"; }; done
	fi
	exit 1
}

[ -x "$AIDC" ] || { echo "no aidc binary at $AIDC (build first, or set AIDC_BIN)"; exit 1; }
AIDC=$(realpath "$AIDC")
[ -x "$HAPROXY" ] || skip "haproxy is not installed (Debian package haproxy; scripts/deps.sh)"
"$PY" -c 'import torch, torchvision' 2>/dev/null ||
	skip "$PY cannot import torch and torchvision (python3-torch python3-torchvision; scripts/deps.sh)"
export AIDC_CATALOG=${AIDC_CATALOG:-$SRC/catalog} PYTHONDONTWRITEBYTECODE=1

cleanup() {
	[ -n "$DIR" ] && [ -d "$DIR" ] || return 0
	if [ "$KEEP" = 1 ]; then
		echo "the center keeps running: export AIDC_SOCKET=$DIR/aidc.sock; $AIDC down --dir $DIR"
		return 0
	fi
	[ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null
	"$AIDC" down --dir "$DIR" >/dev/null 2>&1
	for f in "$DIR"/pids/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	[ -f "$SRC/tests/live/cgroup_clean.sh" ] && bash "$SRC/tests/live/cgroup_clean.sh" "$DIR"
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# free_base N: a base port with N free consecutive loopback ports (bound to
# check), below the kernel's ephemeral range where it can: an outgoing
# connection of any other process may take a port inside that range between
# this check and HAProxy's bind (seen in CI: "cannot bind ... Address already
# in use").
free_base() {
	"$PY" - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except (OSError, ValueError):
    lo, hi = 32768, 60999
span = (10000, lo - n) if lo - n > 12000 else (hi + 1, 65535 - n)
if span[1] <= span[0]:
    span = (1024, 65535 - n)
for _ in range(100):
    base, socks = random.randrange(*span), []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", p))
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit("no free port range")
EOF
}

# svc_field EXPR: a Python expression over the service s (aidc service show --json).
svc_field() {
	"$AIDC" service show "$SVC" --json 2>/dev/null | "$PY" -c 'import json, sys
try:
    s = json.load(sys.stdin)
    print(eval(sys.argv[1]))
except Exception:
    print("")' "$1"
}

# wait_ready N GEN TIMEOUT_S: N ready replicas, all of generation GEN, none other.
wait_ready() {
	local deadline=$((SECONDS + $3)) v
	while [ $SECONDS -lt $deadline ]; do
		v=$(svc_field "s['ready'] == $1 and s['total'] == $1 and all(r['gen'] == $2 for r in s['replica_list'])")
		[ "$v" = True ] && return 0
		sleep 0.5
	done
	return 1
}

# The request client: `client predict ADDR N` sends N predictions and prints
# them; `client loop ADDR STOPFILE MAX_S` sends requests from 4 threads until
# STOPFILE exists (at most MAX_S seconds) and prints "ok N failed M"; it makes
# STOPFILE.started once its first request is answered (importing torch takes
# seconds on a loaded machine: the rollout waits for that).
client() {
	"$PY" - "$@" <<'EOF'
import http.client, json, os, sys, threading, time
import torch
mode, addr = sys.argv[1], sys.argv[2]
host, port = addr.rsplit(":", 1)
torch.manual_seed(1)
imgs = [torch.randn(1, 3, 32, 32) for _ in range(8)]

def predict(conn, i):
    conn.request("POST", "/predict", imgs[i % len(imgs)].numpy().tobytes(),
                 {"Content-Type": "application/octet-stream", "X-Shape": "1,3,32,32"})
    r = conn.getresponse()
    return r.status, r.read()

if mode == "predict":
    bad = 0
    for i in range(int(sys.argv[3])):
        c = http.client.HTTPConnection(host, int(port), timeout=10)
        st, body = predict(c, i)
        c.close()
        p = json.loads(body)["predictions"][0] if st == 200 else None
        print("   request %d: HTTP %d %s" % (i + 1, st, "label %s (p=%.2f)" % (p["label"], p["prob"])
                                            if p else body[:200]))
        bad += st != 200
    sys.exit(1 if bad else 0)

stop, deadline = sys.argv[3], time.time() + float(sys.argv[4])
n = {"ok": 0, "fail": 0}
errs, lock = [], threading.Lock()

def run(k):
    c, i = None, k
    while not os.path.exists(stop) and time.time() < deadline:
        try:
            c = c or http.client.HTTPConnection(host, int(port), timeout=10)
            st, _ = predict(c, i)
            good = st == 200
            if not good:
                errs.append("HTTP %d" % st)
        except Exception as e:  # every failure counts
            good, c = False, None
            errs.append(repr(e))
        with lock:
            n["ok" if good else "fail"] += 1
            if n["ok"] + n["fail"] == 1:
                open(stop + ".started", "w").close()
        i += 1
        time.sleep(0.05)  # paced: the replicas' probes must still be answered on 2 cores

ts = [threading.Thread(target=run, args=(k,)) for k in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("ok %d failed %d %s" % (n["ok"], n["fail"], errs[:3]))
EOF
}

main() {
	step "start a local center with the router (HAProxy) on free loopback ports"
	DIR=$(mktemp -d /tmp/aidc-demo-svc-XXXXXX)
	chmod 755 "$DIR"
	local base rbase
	base=$(free_base 2) && rbase=$(free_base 100) || die "no free ports"
	while [ "$rbase" -lt $((base + 2)) ] && [ "$base" -lt $((rbase + 100)) ]; do rbase=$(free_base 100); done
	printf 'service_port_base = %d\nservice_slots = 2\nreplica_port_min = %d\nreplica_port_max = %d\n' \
		"$base" "$rbase" $((rbase + 99)) >"$DIR/controller.conf"
	local root=()
	[ "$(id -u)" -eq 0 ] && root=(--allow-root-jobs)
	"$AIDC" up --dir "$DIR" --agents 2 --devices 0 --cpus 4 --node-timeout 10 \
		--controller-config "$DIR/controller.conf" "${root[@]}" >"$DIR/up.out" 2>&1 ||
		{ cat "$DIR/up.out"; die "aidc up"; }
	export AIDC_SOCKET=$DIR/aidc.sock
	ok "center in $DIR: 2 agents; router ports $base.., replica ports $rbase..$((rbase + 99))"

	step "train: aidc catalog run resnet-train (resnet18, 32 px, 4 classes, 6 steps)"
	local out id st
	out=$(cd "$DIR" && "$AIDC" catalog run resnet-train -c 1 --mem 2G -t 150s --set image_size=32 \
		--set num_classes=4 --set batch_size=8 --set steps=6 --set workers=0 --set threads=1 \
		--set device=cpu --set log_every=2 --set out="$DIR/model.pt" 2>&1) || die "catalog run: $out"
	echo "   $out"
	id=$(echo "$out" | awk '/^submitted job /{print $3}')
	for _ in $(seq 1 300); do
		st=$("$AIDC" job "$id" --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])')
		case "$st" in completed | failed | cancelled | timeout | node_fail) break ;; esac
		sleep 0.5
	done
	"$AIDC" logs "$id" 2>&1 | sed 's/^/   | /'
	[ "$st" = completed ] || die "training job $id ended $st: $("$AIDC" logs "$id" --stderr 2>&1 | tail -5)"
	[ -s "$DIR/model.pt" ] || die "no model file $DIR/model.pt"
	ok "job $id completed; model file $DIR/model.pt ($(stat -c %s "$DIR/model.pt") bytes)"

	step "serve: aidc catalog run image-classifier-serve --replicas 2 (weights: that file)"
	out=$("$AIDC" catalog run image-classifier-serve --name "$SVC" --replicas 2 -c 1 --mem 1G \
		--set weights="$DIR/model.pt" --set threads=1 --set device=cpu 2>&1) || die "catalog run: $out"
	echo "   $out"
	wait_ready 2 1 120 || die "2 replicas not ready: $("$AIDC" service show "$SVC" 2>&1)"
	"$AIDC" service show "$SVC" 2>&1 | sed 's/^/   | /'
	ADDR=$(svc_field "s['address']")
	[ -n "$ADDR" ] || die "service $SVC has no router address: $("$AIDC" service show "$SVC" 2>&1 | grep address)"
	ok "2 replicas ready behind HAProxy at $ADDR"

	step "predict: 4 requests to $ADDR/predict (a 3x32x32 image each)"
	client predict "$ADDR" 4 || die "predictions failed"
	ok "4 predictions"

	rollout
	kill_replica
	step "done in $((SECONDS - T0)) s: trained, served, updated with 0 failed requests, healed"
}

rollout() {
	step "roll out generation 2 (aidc service update --env MODEL_VERSION=2) under a request loop"
	local stop=$DIR/load.stop res
	client loop "$ADDR" "$stop" 150 >"$DIR/load.out" 2>&1 &
	LOAD_PID=$!
	for _ in $(seq 600); do [ -e "$stop.started" ] && break; sleep 0.1; done
	[ -e "$stop.started" ] || { touch "$stop"; die "the request loop sent nothing in 60 s"; }
	sleep 1
	"$AIDC" service update "$SVC" --env MODEL_VERSION=2 2>&1 | sed 's/^/   | /'
	wait_ready 2 2 150 || { touch "$stop"; die "rollout: $("$AIDC" service show "$SVC" 2>&1)"; }
	sleep 2
	touch "$stop"
	wait "$LOAD_PID"
	LOAD_PID=
	res=$(cat "$DIR/load.out")
	"$AIDC" service show "$SVC" 2>&1 | sed 's/^/   | /'
	echo "   request loop: $res"
	case "$res" in "ok "[1-9]*" failed 0 "*) ok "rolled out: 2 replicas of generation 2; 0 failed requests" ;;
	*) die "failed requests during the rollout: $res" ;; esac
}

kill_replica() {
	local victim restarts
	victim=$(svc_field "s['replica_list'][0]['job']")
	restarts=$(svc_field "s['restarts']")
	step "kill a replica: aidc cancel $victim (its job), and watch it come back"
	"$AIDC" cancel "$victim" 2>&1 | sed 's/^/   | /'
	local deadline=$((SECONDS + 120)) v=
	while [ $SECONDS -lt $deadline ]; do
		v=$(svc_field "s['ready'] == 2 and s['total'] == 2 and $victim not in [r['job'] for r in s['replica_list']] and s['restarts'] > $restarts")
		[ "$v" = True ] && break
		sleep 0.5
	done
	"$AIDC" service show "$SVC" 2>&1 | sed 's/^/   | /'
	[ "$v" = True ] || die "the killed replica did not come back"
	ok "replica $victim replaced: 2 ready again ($(svc_field "s['restarts']") restart(s))"
	client predict "$ADDR" 2 || die "predictions after the restart failed"
}

main
