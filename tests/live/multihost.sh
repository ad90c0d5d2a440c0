#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Multi-host deployment on real separate network stacks (issue 18), following
# docs/deploy.md: four network namespaces on a bridge, a head node (the
# controller on the bridge address with TLS from a CA this test makes), two
# compute nodes (agents) and a login node (a remote user with a token).
# Namespaces are entered with `nsenter --net` only, so the agents keep this
# host's mount namespace and its cgroup mounts.
#
# Checks: node addresses chosen from the route to the controller; a remote
# user's single job (no credential in its environment); a 2-node gang whose
# MASTER_ADDR is rank 0's node address; a 2-node PyTorch DDP step (gloo, CPU;
# skipped with the reason without torch); agent kill -9 and restart (its job
# adopted and completed once); controller kill -9 and restart (a remote
# command waits for it); a duplicate node name refused; a wrong CA, a missing
# CA file and an expired token refused with matching messages, and the
# controller logging the peer of the failed handshake.
#
# SKIPs (exit 77) without root, ip netns, a bridge, nsenter or openssl.
# Everything it made (processes, namespaces, bridge, files) goes in a trap.
set -u
. "$(dirname "$0")/agent_lib.sh"
SRC=${AIDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in ip nsenter openssl; do command -v $t >/dev/null || skip "no $t"; done
id nobody >/dev/null 2>&1 || skip "no user 'nobody' for the remote user's jobs"

TAG=mh$$
TAG=${TAG:0:9}
BR=${TAG}b
NET=10.$((200 + $$ % 50)).$(($$ % 250)).0
PFXN=${NET%.0}
HEAD_IP=$PFXN.1
declare -A IP=([head]=$PFXN.1 [a1]=$PFXN.2 [a2]=$PFXN.3 [login]=$PFXN.4)
DIR=$(mktemp -d /tmp/aidc-multihost-XXXXXX)
chmod 755 "$DIR"
PIDS=()

cleanup() {
	for f in "$DIR"/*/agent.pid "$DIR"/*/agent2.pid "$DIR"/head/controller.pid; do
		[ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	local i
	for i in $(seq 50); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for ns in head a1 a2 login sw; do ip netns del "$TAG-$ns" 2>/dev/null; done
	if [ "$FAILS" -ne 0 ]; then
		for f in "$DIR"/*/*.log; do echo "---- $f"; tail -c 4000 "$f"; done
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- the network: a bridge, four namespaces, one veth each -----------------------
# The bridge lives in a namespace of its own (a switch): the host's firewall
# and bridge netfilter settings do not apply there, and the host is untouched.
SW=$TAG-sw
ip netns add "$SW" 2>/dev/null || skip "ip netns add failed (no network namespaces here)"
ip -n "$SW" link add "$BR" type bridge 2>/dev/null || skip "cannot create a bridge (ip link add type bridge)"
ip -n "$SW" link set "$BR" up
for ns in head a1 a2 login; do
	ip netns add "$TAG-$ns" 2>/dev/null || skip "ip netns add failed (no network namespaces here)"
	ip link add "$TAG$ns" type veth peer name "${TAG}p$ns" || skip "cannot create veth pairs"
	ip link set "${TAG}p$ns" netns "$SW"
	ip -n "$SW" link set "${TAG}p$ns" master "$BR" up
	ip link set "$TAG$ns" netns "$TAG-$ns"
	ip -n "$TAG-$ns" link set "$TAG$ns" name mh0
	ip -n "$TAG-$ns" addr add "${IP[$ns]}/24" dev mh0
	ip -n "$TAG-$ns" link set mh0 up
	ip -n "$TAG-$ns" link set lo up
done
in_ns() { local ns=$1; shift; nsenter --net="/var/run/netns/$TAG-$ns" -- "$@"; }

# ---- certificates (docs/deploy.md step 1) --------------------------------------------
mkdir -p "$DIR/pki" "$DIR/head" "$DIR/a1" "$DIR/a2" "$DIR/login"
chmod 700 "$DIR/head" # the controller refuses a state directory others can read
(
	cd "$DIR/pki" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=aidc test CA" \
		-keyout ca.key -out ca.pem 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$HEAD_IP" -keyout head.key \
		-out head.csr 2>/dev/null &&
	printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$HEAD_IP" >head.ext &&
	openssl x509 -req -in head.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile head.ext -out head.pem 2>/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
		-keyout wrong.key -out wrong.pem 2>/dev/null
) || skip "openssl could not make the test CA"
chmod 600 "$DIR/pki/head.key"

# ---- the controller on the head node (step 2) --------------------------------------
start_controller() {
	in_ns head "$AIDC" controller --listen "$HEAD_IP" --port 6820 \
		--tls-cert "$DIR/pki/head.pem" --tls-key "$DIR/pki/head.key" \
		--state-dir "$DIR/head" --allow-root-jobs --node-timeout 6 \
		--log-file "$DIR/head/controller.log" --pid-file "$DIR/head/controller.pid" &
	PIDS+=($!)
	wait_for 30 test -S "$DIR/head/aidc.sock" -a -f "$DIR/head/controller.pid"
}
export AIDC_SOCKET=$DIR/head/aidc.sock
start_controller || { fail "the controller starts"; exit 1; }
wait_for 20 "$AIDC" nodes >/dev/null 2>&1 || { fail "the controller answers"; exit 1; }
ok "controller up on https://$HEAD_IP:6820"

# ---- agents (step 3): the secret and the CA copied to each node ----------------------
start_agent() { # NS NAME [PIDFILE]
	local ns=$1 name=$2 pf=${3:-agent.pid}
	install -m 600 "$DIR/head/secret" "$DIR/$ns/secret"
	in_ns "$ns" "$AIDC" agent --controller "https://$HEAD_IP:6820" --cacert "$DIR/pki/ca.pem" \
		--name "$name" --state-dir "$DIR/$ns/state" --secret-file "$DIR/$ns/secret" \
		--cpus 2 --mem-mib 2048 --allow-root-jobs \
		--log-file "$DIR/$ns/${pf%.pid}.log" --pid-file "$DIR/$ns/$pf" &
	PIDS+=($!)
}
node_field() { # NAME FIELD
	"$AIDC" nodes --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); n=[x for x in d.get("nodes",d if isinstance(d,list) else []) if x["name"]==sys.argv[1]]
print(n[0].get(sys.argv[2],"") if n else "")' "$1" "$2"
}
up_nodes() { [ "$(node_field mh-a1 state)" = up ] && [ "$(node_field mh-a2 state)" = up ]; }
start_agent a1 mh-a1
start_agent a2 mh-a2
wait_for 30 up_nodes && ok "two agents registered" || fail "two agents registered"
check_eq "mh-a1's address is its route to the controller" "$(node_field mh-a1 addr)" "${IP[a1]}"
check_eq "mh-a2's address is its route to the controller" "$(node_field mh-a2 addr)" "${IP[a2]}"

# ---- the remote user (step 4): a token made on the head node, used from login -------
TOKEN=$("$AIDC" token create --user nobody --name login --expires 1d 2>/dev/null |
	grep -o 'aidc_[0-9]*_[0-9a-f]*' | head -1)
[ -n "$TOKEN" ] || fail "token for nobody"
remote() { # aidc as the remote user, from the login node
	(cd /tmp && in_ns login env -u AIDC_SOCKET AIDC_CONTROLLER="https://$HEAD_IP:6820" \
		AIDC_CACERT="$DIR/pki/ca.pem" AIDC_TOKEN="$TOKEN" "$AIDC" "$@")
}
rjob_field() {
	remote job "$1" --json 2>/dev/null | "$PY" -c 'import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1], ""))
except Exception: print("")' "$2"
}
rwait_state() {
	local id=$1 want=$2 deadline=$((SECONDS + ${3:-60})) st=
	while [ $SECONDS -lt $deadline ]; do
		st=$(rjob_field "$id" state)
		[[ "$st" =~ ^($want)$ ]] && break
		sleep 0.3
	done
	echo "$st"
}
rsubmit() { remote submit "$@" 2>&1 | awk '/^submitted job /{print $3}'; }
END='completed|failed|cancelled|timeout|node_fail'

# 1. a single job of the remote user
id=$(rsubmit -J single -- sh -c 'echo hello from $(id -un) on $AIDC_NODE; env | grep -c "^AIDC_TOKEN=" || true')
check_eq "remote single job completes" "$(rwait_state "$id" "$END" 60)" completed
out=$(remote logs "$id" 2>&1)
case "$out" in *"hello from nobody on mh-a"*) ok "it ran as the token's user: $(echo "$out" | head -1)" ;;
*) fail "it ran as the token's user: got '$out'" ;; esac
check_eq "the job's environment has no AIDC_TOKEN" "$(echo "$out" | tail -1)" 0

# 2. a 2-node gang: MASTER_ADDR is rank 0's node address
id=$(rsubmit -J gang -N 2 -n 2 -c 2 -- sh -c 'echo "MA=$MASTER_ADDR NODE=$AIDC_NODE RANK=$RANK"')
check_eq "gang completes" "$(rwait_state "$id" "$END" 60)" completed
o0=$(remote logs "$id" --task 0 2>&1)
o1=$(remote logs "$id" --task 1 2>&1)
n0=$(echo "$o0" | sed -n 's/.*NODE=\([^ ]*\).*/\1/p')
want=$([ "$n0" = mh-a1 ] && echo "${IP[a1]}" || echo "${IP[a2]}")
check_eq "rank 0 sees MASTER_ADDR = its node's address" "$(echo "$o0" | sed -n 's/^MA=\([^ ]*\).*/\1/p')" "$want"
check_eq "rank 1 sees the same MASTER_ADDR" "$(echo "$o1" | sed -n 's/^MA=\([^ ]*\).*/\1/p')" "$want"

# 3. a 2-node PyTorch DDP step (gloo on CPU) across the namespaces
if "$PY" -c 'import torch.distributed as d; assert d.is_available()' 2>/dev/null; then
	# Every node's interface to the others is mh0 here; gloo otherwise picks
	# the one its host name resolves to (shared by all namespaces).
	id=$(GLOO_SOCKET_IFNAME=mh0 rsubmit -J ddp -N 2 -n 2 -c 2 --mem 1G -t 150s -- \
		"$PY" "$SRC/examples/ddp_train.py" --steps 3)
	check_eq "DDP across two nodes completes" "$(rwait_state "$id" "$END" 120)" completed
	out=$(remote logs "$id" --task 0 2>&1)
	case "$out" in *"DDP OK"*) ok "rank 0: DDP OK" ;;
	*) fail "rank 0: DDP OK: got '$out' / $(remote logs "$id" --task 0 --stderr 2>&1 | tail -5)" ;; esac
else
	echo "SKIP step: DDP ($PY cannot import torch.distributed; install python3-torch)"
fi

# 4. agent kill -9 and restart: its running job is adopted and completes once
id=$(rsubmit -J survive -- sh -c 'sleep 4; echo survived')
[ "$(rwait_state "$id" running 30)" = running ] || fail "job $id runs"
node=$(rjob_field "$id" nodes | tr -d "[]' \"" | cut -d, -f1)
[ -n "$node" ] || node=$(remote job "$id" 2>/dev/null | grep -o 'mh-a[12]' | head -1)
ns=${node#mh-}
if [ "$ns" = a1 ] || [ "$ns" = a2 ]; then
	kill -9 "$(cat "$DIR/$ns/agent.pid")"
	sleep 1
	rm -f "$DIR/$ns/agent.pid"
	start_agent "$ns" "$node"
	check_eq "job on a killed and restarted agent completes" "$(rwait_state "$id" "$END" 60)" completed
	check_eq "it ran once" "$(remote logs "$id" 2>&1 | grep -c survived)" 1
	grep -q "adopted job $id" "$DIR/$ns/agent.log" && ok "the restarted agent adopted it" ||
		fail "the restarted agent adopted job $id"
else
	fail "could not tell where job $id runs (got '$node')"
fi

# 5. a duplicate node name is refused while its agent lives
install -m 600 "$DIR/head/secret" "$DIR/login/secret"
out=$(timeout 30 nsenter --net="/var/run/netns/$TAG-login" -- "$AIDC" agent \
	--controller "https://$HEAD_IP:6820" --cacert "$DIR/pki/ca.pem" --name mh-a2 \
	--state-dir "$DIR/login/state" --secret-file "$DIR/login/secret" --limits none 2>&1)
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "a second agent named mh-a2 exits ($rc)" || fail "a second agent named mh-a2 exits: rc $rc"
case "$out" in *"in use by another live agent"*) ok "duplicate name refused: ${out##*refused: }" ;;
*) fail "duplicate name refused with a clear error: got '$out'" ;; esac
check_eq "mh-a2 keeps its address" "$(node_field mh-a2 addr)" "${IP[a2]}"

# 6. controller kill -9 and restart: a remote command waits for it; a job survives
id=$(rsubmit -J across -- sh -c 'sleep 3; echo across')
[ "$(rwait_state "$id" running 30)" = running ] || fail "job $id runs"
kill -9 "$(cat "$DIR/head/controller.pid")"
sleep 0.5
rm -f "$DIR/head/controller.pid"
(sleep 3; start_controller) &
PIDS+=($!)
out=$(remote jobs 2>&1)
rc=$?
check_eq "remote 'aidc jobs' during the restart succeeds" "$rc" 0
case "$out" in *"retrying"*) ok "it said it was waiting for the controller" ;;
*) fail "it said it was waiting: got '$out'" ;; esac
check_eq "the job completes across the controller restart" "$(rwait_state "$id" "$END" 60)" completed
wait_for 30 up_nodes && ok "both nodes up again" || fail "both nodes up again"

# 7. refusals with matching messages
out=$(cd /tmp && in_ns login env -u AIDC_SOCKET AIDC_CONTROLLER="https://$HEAD_IP:6820" \
	AIDC_TOKEN="$TOKEN" "$AIDC" jobs --cacert "$DIR/pki/wrong.pem" 2>&1)
case "$out" in *"TLS"*"--cacert"*) ok "wrong CA: ${out:0:160}..." ;; *) fail "wrong CA names TLS and --cacert: got '$out'" ;; esac
wait_for 10 grep -q "TLS connection from ${IP[login]} closed before any request" "$DIR/head/controller.log" &&
	ok "the controller logged the peer of the failed handshake" ||
	fail "the controller logged the peer ${IP[login]} of the failed handshake"
out=$(cd /tmp && in_ns login env AIDC_CONTROLLER="https://$HEAD_IP:6820" AIDC_TOKEN="$TOKEN" \
	"$AIDC" jobs --cacert "$DIR/pki/missing.pem" 2>&1)
case "$out" in *"$DIR/pki/missing.pem"*) ok "missing CA file named: $out" ;; *) fail "missing CA file named: got '$out'" ;; esac
SHORT=$("$AIDC" token create --user nobody --name short --expires 1s 2>/dev/null |
	grep -o 'aidc_[0-9]*_[0-9a-f]*' | head -1)
sleep 2
out=$(cd /tmp && in_ns login env AIDC_CONTROLLER="https://$HEAD_IP:6820" AIDC_CACERT="$DIR/pki/ca.pem" \
	AIDC_TOKEN="$SHORT" "$AIDC" jobs 2>&1)
case "$out" in *"expired"*) ok "expired token: $out" ;; *) fail "expired token refused as expired: got '$out'" ;; esac

# the log lines carry timestamps
grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z aidc\[[0-9]+\]: ' "$DIR/head/controller.log" &&
	ok "log lines are timestamped" || fail "log lines are timestamped"
finish
