#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The 2-node gang running a real PyTorch DDP training step on CPU (gloo), through
# `aidc up` + `aidc submit` (issue 4): proves the env wiring (RANK, WORLD_SIZE,
# LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Each agent offers 2 CPUs and each task
# asks for 2, so the two ranks land on different nodes. SKIPs when
# /usr/bin/python3 cannot import torch (scripts/deps.sh installs python3-torch).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
"$PY" -c 'import torch.distributed as d; assert d.is_available()' 2>/dev/null ||
	skip "$PY cannot import torch with torch.distributed (install python3-torch: scripts/deps.sh)"
SRC=${AIDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# MASTER_PORT is the controller's base + job id: two centers on one host (two
# runs of this test) would meet on the same port and join each other's
# rendezvous. One DDP test per host at a time.
exec 9>/tmp/aidc-live-ddp.lock
flock -w 45 9 || skip "another DDP test held /tmp/aidc-live-ddp.lock for 45 s"
center_up 2 9>&- # the daemons and tasks must not hold the lock
# Both agents share loopback here: keep gloo on lo whatever the host name resolves to.
id=$(GLOO_SOCKET_IFNAME=lo submit -J ddp -n 2 -c 2 --mem 2G -t 150s -- \
	"$PY" "$SRC/examples/ddp_train.py" --steps 3)
[ -n "$id" ] || { fail "submit"; exit 1; }
check_eq "DDP job completes" "$(wait_state "$id" 'failed|completed|timeout|cancelled|node_fail' 90)" completed
out0=$("$AIDC" logs "$id" --task 0 2>&1)
out1=$("$AIDC" logs "$id" --task 1 2>&1)
case "$out0" in *"DDP OK"*) ok "rank 0: DDP OK" ;; *) fail "rank 0: DDP OK: got '$out0' / stderr: $("$AIDC" logs "$id" --task 0 --stderr 2>&1 | tail -20)" ;; esac
case "$out0" in *"step 2 loss"*) ok "rank 0 printed the losses" ;; *) fail "rank 0 printed the losses: got '$out0'" ;; esac
case "$out1" in *"rank 1/2 on node-"*"params_match=True"*) ok "rank 1 params match" ;; *) fail "rank 1 params match: got '$out1'" ;; esac
n0=$(echo "$out0" | sed -n 's/.* on \(node-[0-9]*\) .*/\1/p')
n1=$(echo "$out1" | sed -n 's/.* on \(node-[0-9]*\) .*/\1/p')
if [ -n "$n0" ] && [ -n "$n1" ] && [ "$n0" != "$n1" ]; then ok "ranks on two nodes ($n0, $n1)"; else
	fail "ranks on two nodes: got '$n0' and '$n1'"; fi
finish
