#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Multi-host deployment on real separate network stacks (issue 18), by
# docs/deploy.md: four network namespaces on a bridge, a head node, two
# compute nodes and a login node. The center is built by the page's runbook
# blocks themselves (tests/live/runbook.py extracts them; at most 15 commands
# up to the first remote job): TLS from a CA they make, the secret and the CA
# copied by scp, the agents, a token for a remote user. Hosts are entered with
# `nsenter --net` (so the agents keep this host's mount namespace and its
# cgroup mounts) and `unshare --uts` (each has its own host name).
#
# Checks: the runbook's first job runs a task on each node; node addresses
# chosen from the route to the controller; a remote user's single job (no
# credential in its environment); its 2-node batch job's srun on both nodes
# through the job's credential, which submits nothing, cannot sign in to the
# dashboard and is refused once the job ended; salloc + srun --pty and srun
# outside an allocation from the login host; a 2-node gang whose MASTER_ADDR is rank 0's
# node address; a 2-node PyTorch DDP step (gloo, CPU; skipped with the reason
# without torch); agent kill -9 and restart with the runbook's command (its
# job adopted and completed once); controller kill -9 and restart (a remote
# command waits for it); the node block on a clone with a live node's host
# name refused; a wrong CA, a missing CA file and an expired token refused
# with matching messages, and the controller logging the peer of the failed
# handshake; timestamped log lines. Only the runbook's daemon flags are used.
#
# SKIPs (exit 77) without root, ip netns, a bridge, nsenter, unshare or openssl.
# Everything it made (processes, namespaces, bridge, files) goes in a trap.
set -u
. "$(dirname "$0")/agent_lib.sh"
SRC=${AIDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in ip nsenter unshare openssl; do command -v $t >/dev/null || skip "no $t"; done
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

# A live process: not gone, not a zombie (--background daemons are children of
# whatever reaps orphans here, maybe nothing).
live() { [ -r "/proc/$1/stat" ] && ! awk '{ sub(/.*\) /, ""); exit ($1 == "Z" || $1 == "X") ? 0 : 1 }' "/proc/$1/stat"; }
cleanup() {
	# The daemons run in the background (--background): their pid files say where.
	local f p i
	for f in "$DIR"/*/run/*.pid; do
		[ -f "$f" ] && p=$(cat "$f") && [ -n "$p" ] && PIDS+=("$p")
	done
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 100); do
		local alive=0
		for p in "${PIDS[@]}"; do live "$p" && alive=1; done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for f in "$DIR"/*/var/log; do bash "$SRC/tests/live/cgroup_clean.sh" "$f"; done
	for ns in head a1 a2 login sw; do ip netns del "$TAG-$ns" 2>/dev/null; done
	if [ "$FAILS" -ne 0 ]; then
		for f in "$DIR"/*/var/log/*.log "$DIR"/*/runbook.out; do
			echo "---- $f"
			tail -c 4000 "$f"
		done
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

# ---- the runbook: docs/deploy.md's marked blocks, run on the "hosts" -----------------
# Each host is a network namespace (nsenter --net: the mount namespace and its
# cgroup mounts stay) plus a UTS namespace with its own host name. The hosts
# share one file system, so each one's /etc/aidc, /var/lib/aidc, /var/log and
# /run are directories under DIR/HOST, and scp copies between them (runbook.py
# and the page's "How this page is tested" list every substitution).
DOC=$SRC/docs/deploy.md
RB=$SRC/tests/live/runbook.py
N=$("$PY" "$RB" "$DOC" count) || { fail "docs/deploy.md's runbook parses"; exit 1; }
[ "$N" -le 15 ] && ok "docs/deploy.md: $N commands up to the first remote job (at most 15)" ||
	fail "docs/deploy.md: $N commands up to the first remote job, more than 15"
mkdir -p "$DIR/bin" "$DIR/pki"
for h in head a1 a2 login; do
	mkdir -p "$DIR/$h/etc" "$DIR/$h/var/lib" "$DIR/$h/var/log" "$DIR/$h/run" "$DIR/$h/home"
	echo "${IP[$h]} $h" >>"$DIR/bin/hosts"
done
ln -s "$AIDC" "$DIR/bin/aidc"
cat >"$DIR/bin/scp" <<'EOS'
#!/bin/bash
# scp between the test's hosts: [USER@]IP:PATH is PATH on the host with that
# address (its mapped directories); cp -p keeps the mode as scp does.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
args=()
for a in "$@"; do
	case "$a" in -*) continue ;; esac
	if [[ "$a" =~ ^([^@/:]+@)?([0-9.]+):(.*)$ ]]; then
		h=$(awk -v ip="${BASH_REMATCH[2]}" '$1 == ip {print $2}' "$ROOT/bin/hosts")
		[ -n "$h" ] || { echo "scp: no host ${BASH_REMATCH[2]}" >&2; exit 1; }
		p=${BASH_REMATCH[3]}
		case "$p" in /*) a=$ROOT/$h$p ;; *) a=$ROOT/$h/home/$p ;; esac
	fi
	args+=("$a")
done
exec cp -p "${args[@]}"
EOS
chmod 755 "$DIR/bin/scp"
rb() { "$PY" "$RB" "$DOC" "$1" "$2" "$3" "$DIR" "$HEAD_IP" nobody "${@:4}"; }
# host_run HOST SCRIPT [STDIN [HOSTNAME]]: bash -e SCRIPT as root on HOST, in its home.
host_run() {
	local h=$1 script=$2 in=${3:-/dev/null} name=${4:-mh-$1}
	local envs=(HOME="$DIR/$h/home" PATH="$DIR/bin:$PATH")
	[ "$h" = head ] && envs+=(AIDC_SOCKET="$DIR/head/var/lib/aidc/aidc.sock")
	(cd "$DIR/$h/home" && in_ns "$h" unshare --uts -- env -u AIDC_SOCKET -u AIDC_CONTROLLER \
		-u AIDC_TOKEN -u AIDC_CACERT "${envs[@]}" \
		bash -c 'hostname "$1" && exec bash -e "$2"' _ "$name" "$script" <"$in")
}
rb block head head >"$DIR/head/runbook.sh"
rb line head head 'aidc controller' >"$DIR/head/controller.sh"
for h in a1 a2; do
	rb block node "$h" >"$DIR/$h/runbook.sh"
	rb line node "$h" 'aidc agent' >"$DIR/$h/agent.sh"
done
rb block node login >"$DIR/login/node.sh"
rb block login login >"$DIR/login/runbook.sh"

# Step 1: the head node (certificates, config, controller, alice's token).
host_run head "$DIR/head/runbook.sh" >"$DIR/head/runbook.out" 2>&1 ||
	{ fail "the head block of docs/deploy.md: $(tail -5 "$DIR/head/runbook.out")"; exit 1; }
TOKEN=$(grep -o 'aidc_[0-9]*_[0-9a-f]*' "$DIR/head/runbook.out" | head -1)
[ -n "$TOKEN" ] && ok "head block: controller up on https://$HEAD_IP:6820, a token for nobody" ||
	{ fail "head block printed a token: $(cat "$DIR/head/runbook.out")"; exit 1; }
echo "$TOKEN" >"$DIR/token"
export AIDC_SOCKET=$DIR/head/var/lib/aidc/aidc.sock
CTL_LOG=$DIR/head/var/log/aidc-controller.log
# Step 2: each compute node (the secret and the CA by scp, the agent).
for h in a1 a2; do
	host_run "$h" "$DIR/$h/runbook.sh" >"$DIR/$h/runbook.out" 2>&1 ||
		fail "the node block on $h: $(tail -5 "$DIR/$h/runbook.out")"
done
node_field() { # NAME FIELD
	"$AIDC" nodes --json 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin); n=[x for x in d.get("nodes",d if isinstance(d,list) else []) if x["name"]==sys.argv[1]]
print(n[0].get(sys.argv[2],"") if n else "")' "$1" "$2"
}
up_nodes() { [ "$(node_field mh-a1 state)" = up ] && [ "$(node_field mh-a2 state)" = up ]; }
wait_for 30 up_nodes && ok "two agents registered under their host names" || fail "two agents registered"
check_eq "mh-a1's address is its route to the controller" "$(node_field mh-a1 addr)" "${IP[a1]}"
check_eq "mh-a2's address is its route to the controller" "$(node_field mh-a2 addr)" "${IP[a2]}"
# Step 3: the login host; the token is what the user pastes.
host_run login "$DIR/login/runbook.sh" "$DIR/token" >"$DIR/login/runbook.out" 2>&1 ||
	fail "the login block: $(tail -5 "$DIR/login/runbook.out")"
FIRST=$(awk '/^submitted job /{print $3}' "$DIR/login/runbook.out")
[ -n "$FIRST" ] && ok "login block: first remote job $FIRST submitted" ||
	fail "login block submitted a job: $(cat "$DIR/login/runbook.out")"

# ---- the checks, on the center the runbook built ---------------------------------------
# The remote user: the login host's files, and AIDC_TOKEN in the environment
# too (which the page allows), to check that no job receives it.
remote() { # aidc as the remote user, from the login node
	(cd "$DIR/login/home" && in_ns login env -u AIDC_SOCKET HOME="$DIR/login/home" \
		AIDC_CONTROLLER="https://$HEAD_IP:6820" AIDC_CACERT="$DIR/login/home/.aidc/ca.pem" \
		AIDC_TOKEN="$TOKEN" "$AIDC" "$@")
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

# 0. the runbook's first job: one task on each node, named by its host name
check_eq "the runbook's first job completes" "$(rwait_state "$FIRST" "$END" 60)" completed
hosts=$(for t in 0 1; do remote logs "$FIRST" --task $t 2>&1; done | sort | tr '\n' ' ')
check_eq "its tasks ran on both nodes" "$hosts" "mh-a1 mh-a2 "

# 1. a single job of the remote user, submitted with credentials in its environment
id=$(AIDC_SECRET_X=s AIDC_MUNGE_CRED=m rsubmit -J single -- \
	sh -c 'echo hello from $(id -un) on $AIDC_NODE; env | grep -c -E "^AIDC_(TOKEN|SECRET|MUNGE_CRED)" || true')
check_eq "remote single job completes" "$(rwait_state "$id" "$END" 60)" completed
out=$(remote logs "$id" 2>&1)
case "$out" in *"hello from nobody on mh-a"*) ok "it ran as the token's user: $(echo "$out" | head -1)" ;;
*) fail "it ran as the token's user: got '$out'" ;; esac
check_eq "the job's environment has no AIDC_TOKEN, AIDC_SECRET*, AIDC_MUNGE_CRED" "$(echo "$out" | tail -1)" 0

# 1b. a batch script of the remote user (aidc sbatch): it runs as nobody on a
# node, exec'd from the agent's state directory (the runbook makes
# /var/lib/aidc 0711 on nodes; with 0700 it failed with "Permission denied")
OUTD=$DIR/login/home/out
mkdir -p -m 1777 "$OUTD"
printf '#!/bin/sh\n#SBATCH -J batch1\necho "batch as $(id -un) on $(hostname) of $SLURM_JOB_NODELIST"\n' \
	>"$DIR/login/home/b1.sh"
id=$(remote sbatch --parsable -o "$OUTD/%j.out" b1.sh 2>&1)
check_eq "remote batch script completes" "$(rwait_state "$id" "$END" 60)" completed
case "$(cat "$OUTD/$id.out" 2>&1)" in "batch as nobody on mh-a"*) ok "it ran as nobody: $(cat "$OUTD/$id.out")" ;;
*) fail "the batch script ran as nobody: got '$(cat "$OUTD/$id.out" 2>&1)'" ;; esac
# 1c. srun across the nodes inside the remote user's 2-node batch job: the
# job has no credential of its user, yet its srun and step holders reach the
# controller over TCP with the job's own credential (AIDC_JOB_CRED)
# (scoped to the job: sbatch from inside it is refused), which ends with it
printf '#!/bin/sh\nsrun -l hostname\necho "$AIDC_JOB_CRED" >%s/cred.$SLURM_JOB_ID\nsbatch --wrap true 2>%s/sb.$SLURM_JOB_ID || true\n' \
	"$OUTD" "$OUTD" >"$DIR/login/home/b2.sh"
# ... and it cannot sign in to the dashboard (POST /ui/login) while it is valid
printf 'curl -s -m 10 --cacert "$AIDC_JOB_CACERT" -d "{\\"token\\":\\"$AIDC_JOB_CRED\\"}" "$AIDC_JOB_CONTROLLER/ui/login" >%s/login.$SLURM_JOB_ID\n' \
	"$OUTD" >>"$DIR/login/home/b2.sh"
id=$(remote sbatch --parsable -N 2 -o "$OUTD/%j.out" b2.sh 2>&1)
check_eq "remote 2-node batch job with srun completes" "$(rwait_state "$id" "$END" 60)" completed
check_eq "srun ran a task on each node" "$(sort "$OUTD/$id.out" 2>&1 | tr '\n' ' ')" "0: mh-a1 1: mh-a2 "
grep -q "reaches only its own job's steps" "$OUTD/sb.$id" 2>/dev/null &&
	ok "the job's credential submits nothing: $(cat "$OUTD/sb.$id")" ||
	fail "the job's credential submits nothing: got '$(cat "$OUTD/sb.$id" 2>&1)'"
grep -q "a job's credential cannot sign in" "$OUTD/login.$id" 2>/dev/null &&
	ok "the job's credential cannot sign in to the dashboard: $(cat "$OUTD/login.$id")" ||
	fail "the job's credential signs in: got '$(cat "$OUTD/login.$id" 2>&1)'"
out=$(in_ns login curl -s -m 10 --cacert "$DIR/login/home/.aidc/ca.pem" \
	-H "Authorization: Bearer $(cat "$OUTD/cred.$id" 2>/dev/null)" "https://$HEAD_IP:6820/v1/jobs/$id/steps")
case "$out" in *"attempt 0: that attempt does not run"*) ok "an ended job's credential is refused" ;;
*) fail "an ended job's credential is refused: got '$out'" ;; esac
# 1d. salloc from the login host and srun --pty there: the node's step holder
# (with the job's credential) connects back to srun across the network
out=$(printf 'echo "pty on $(hostname)"; tty; exit 3\n' | remote salloc -N 1 srun --pty /bin/sh 2>&1)
rc=$?
check_eq "salloc + srun --pty from the login host exits with the shell's status" "$rc" 3
case "$out" in *"pty on mh-a"*/dev/pts/*) ok "its shell ran on a node on a terminal" ;;
*) fail "its shell ran on a node on a terminal: got '$out'" ;; esac
# 1e. srun from the login host outside any allocation makes one across the nodes
out=$(remote srun -N 2 -l hostname 2>/dev/null)
check_eq "srun -N 2 from the login host: exit 0" "$?" 0
check_eq "one task on each node" "$(sort <<<"$out" | tr '\n' ' ')" "0: mh-a1 1: mh-a2 "
for h in a1 a2; do
	grep -q "cannot reach their scripts" "$DIR/$h/var/log/aidc-agent.log" &&
		fail "agent $h warns of its state directory: $(grep 'cannot reach' "$DIR/$h/var/log/aidc-agent.log")" ||
		ok "agent $h does not warn of its state directory"
done

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
	kill -9 "$(cat "$DIR/$ns/run/aidc-agent.pid")"
	sleep 1
	# The runbook's agent command again (--background: back once registered).
	host_run "$ns" "$DIR/$ns/agent.sh" >>"$DIR/$ns/runbook.out" 2>&1 &&
		ok "the runbook's agent command restarts it" || fail "the agent on $ns restarts"
	check_eq "job on a killed and restarted agent completes" "$(rwait_state "$id" "$END" 60)" completed
	check_eq "it ran once" "$(remote logs "$id" 2>&1 | grep -c survived)" 1
	grep -q "adopted job $id" "$DIR/$ns/var/log/aidc-agent.log" && ok "the restarted agent adopted it" ||
		fail "the restarted agent adopted job $id"
else
	fail "could not tell where job $id runs (got '$node')"
fi

# 5. a duplicate node name is refused while its agent lives: the node block
# run on a clone of mh-a2 (the login host under mh-a2's host name)
out=$(host_run login "$DIR/login/node.sh" /dev/null mh-a2 2>&1)
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "a second agent named mh-a2 fails to start ($rc)" || fail "a second agent named mh-a2 fails to start: rc $rc"
case "$out" in *"in use by another live agent"*) ok "duplicate name refused: ${out##*refused: }" ;;
*) fail "duplicate name refused with a clear error: got '$out'" ;; esac
check_eq "mh-a2 keeps its address" "$(node_field mh-a2 addr)" "${IP[a2]}"

# 6. controller kill -9 and restart: a remote command waits for it; a job survives
id=$(rsubmit -J across -- sh -c 'sleep 3; echo across')
[ "$(rwait_state "$id" running 30)" = running ] || fail "job $id runs"
kill -9 "$(cat "$DIR/head/run/aidc-controller.pid")"
sleep 0.5
(sleep 3; host_run head "$DIR/head/controller.sh" >>"$DIR/head/runbook.out" 2>&1) &
PIDS+=($!)
out=$(remote jobs 2>&1)
rc=$?
check_eq "remote 'aidc jobs' during the restart succeeds" "$rc" 0
case "$out" in *"retrying"*) ok "it said it was waiting for the controller" ;;
*) fail "it said it was waiting: got '$out'" ;; esac
check_eq "the job completes across the controller restart" "$(rwait_state "$id" "$END" 60)" completed
wait_for 30 up_nodes && ok "both nodes up again" || fail "both nodes up again"

# 7. refusals with matching messages
(cd "$DIR/pki" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
	-keyout wrong.key -out wrong.pem 2>/dev/null) || fail "openssl made another CA"
out=$(cd /tmp && in_ns login env -u AIDC_SOCKET AIDC_CONTROLLER="https://$HEAD_IP:6820" \
	AIDC_TOKEN="$TOKEN" "$AIDC" jobs --cacert "$DIR/pki/wrong.pem" 2>&1)
case "$out" in *"TLS"*"--cacert"*) ok "wrong CA: ${out:0:160}..." ;; *) fail "wrong CA names TLS and --cacert: got '$out'" ;; esac
wait_for 10 grep -q "TLS connection from ${IP[login]} closed before any request" "$CTL_LOG" &&
	ok "the controller logged the peer of the failed handshake" ||
	fail "the controller logged the peer ${IP[login]} of the failed handshake"
out=$(cd /tmp && in_ns login env AIDC_CONTROLLER="https://$HEAD_IP:6820" AIDC_TOKEN="$TOKEN" \
	"$AIDC" jobs --cacert "$DIR/pki/missing.pem" 2>&1)
case "$out" in *"$DIR/pki/missing.pem"*) ok "missing CA file named: $out" ;; *) fail "missing CA file named: got '$out'" ;; esac
SHORT=$("$AIDC" token create --user nobody --name short --expires 1s 2>/dev/null |
	grep -o 'aidc_[0-9]*_[0-9a-f]*' | head -1)
sleep 2
out=$(cd /tmp && in_ns login env AIDC_CONTROLLER="https://$HEAD_IP:6820" \
	AIDC_CACERT="$DIR/login/home/.aidc/ca.pem" AIDC_TOKEN="$SHORT" "$AIDC" jobs 2>&1)
case "$out" in *"expired"*) ok "expired token: $out" ;; *) fail "expired token refused as expired: got '$out'" ;; esac

# 8. agents: a loopback --addr for a remote controller is refused; a wrong CA
# is said at once (--background) and logged once while the agent keeps trying
out=$(cd /tmp && in_ns login "$AIDC" agent --controller "https://$HEAD_IP:6820" --addr 127.0.0.1 \
	--cacert "$DIR/login/home/.aidc/ca.pem" --secret-file "$DIR/login/etc/aidc/secret" \
	--state-dir "$DIR/login/var/lib/aidc/lo" --name mh-lo 2>&1)
rc=$?
case "$rc:$out" in 1:*loopback*) ok "a loopback --addr is refused: ${out##*$'\n'}" ;;
*) fail "a loopback --addr is refused: rc $rc, '$out'" ;; esac
out=$(cd /tmp && in_ns login "$AIDC" agent --controller "https://$HEAD_IP:6820" --name mh-ca \
	--cacert "$DIR/pki/wrong.pem" --secret-file "$DIR/login/etc/aidc/secret" \
	--state-dir "$DIR/login/var/lib/aidc/ca" --background --log-file "$DIR/login/var/log/ca.log" \
	--pid-file "$DIR/login/run/ca.pid" 2>&1)
rc=$?
case "$rc:$out" in 0:*"not registered yet"*certificate*) ok "agent with a wrong CA: ${out:0:150}..." ;;
*) fail "agent with a wrong CA says why at once: rc $rc, '$out'" ;; esac
sleep 3 # about ten more tries (every 300 ms); the controller's own log of them is rate-limited too
live "$(cat "$DIR/login/run/ca.pid")" && ok "it keeps trying" || fail "the agent with a wrong CA keeps trying"
check_eq "it logged the failure once" "$(grep -c 'registration failed' "$DIR/login/var/log/ca.log")" 1
kill -TERM "$(cat "$DIR/login/run/ca.pid")" 2>/dev/null

# 9. daemons' files: a second controller on a live pid file is refused; log
# lines carry timestamps
out=$(host_run head "$DIR/head/controller.sh" 2>&1)
rc=$?
case "$rc:$out" in 1:*"still running"*) ok "a second controller on the pid file: $out" ;;
*) fail "a second controller on a live pid file is refused: rc $rc, '$out'" ;; esac
for f in "$CTL_LOG" "$DIR/a1/var/log/aidc-agent.log"; do
	grep -qvE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z aidc\[[0-9]+\]: ' "$f" &&
		fail "every line of $f is timestamped: $(grep -vE '^20[0-9]{2}-' "$f" | head -2)" ||
		ok "every line of ${f#"$DIR"/} is timestamped"
done
finish
