#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# NVML health checks (issue 14 item 5) without a GPU: `aidc up --agent-devices
# nvml` with the fake libnvidia-ml (tests/dev/fake_nvml.c), whose GPU 0 reads
# its health from $FAKE_NVML_HEALTH_FILE. Uncorrected ECC errors, retired
# pages pending and a temperature at the slowdown threshold each drain the
# node with the reason and clear when gone; a critical XID drains it and stays
# (until the agent restarts). The GPUs' utilization and memory in use reach
# /metrics through the heartbeats. SKIP without the fake library.
. "$(dirname "$0")/agent_lib.sh"
lib=${AIDC_BINARY_DIR:-build}/tests/dev/libaidc_fake_nvml.so
[ -f "$lib" ] || skip "no fake NVML library at $lib"
HF=$(mktemp /tmp/aidc-nvmlhealth-XXXXXX)
export AIDC_NVML_LIBRARY=$(realpath "$lib") FAKE_NVML_COUNT=2 FAKE_NVML_HEALTH_FILE=$HF
trap 'center_down; rm -f "$HF"' EXIT
center_up 1 --agent-devices nvml --health-interval 1

reason() {
	"$AIDC" nodes --json 2>/dev/null | "$PY" -c 'import json,sys
print(json.load(sys.stdin)["nodes"][0].get("reason", ""))'
}
# expect WHAT CONTENT PATTERN: writes the health file, waits for a reason matching PATTERN.
expect() {
	printf '%s\n' "$2" >"$HF"
	local deadline=$((SECONDS + 30)) r=
	while [ $SECONDS -lt $deadline ]; do
		r=$(reason)
		[[ "$r" == $3 ]] && break
		sleep 0.2
	done
	[[ "$r" == $3 ]] && ok "$1: '$r'" || fail "$1: reason '$r', want $3"
}
expect "healthy GPUs" "" ""
expect "uncorrected ECC errors drain" "ecc 7" "agent: nvml: GPU 0: 7 uncorrected ECC errors"
expect "... and clear" "" ""
expect "retired pages pending drain" "pending 1" "agent: nvml: GPU 0: retired pages pending*"
expect "temperature at the slowdown threshold drains" "temp 93" \
	"agent: nvml: GPU 0: 93 C, at or above its slowdown threshold 90 C"
expect "a cool GPU is healthy" "temp 60" ""
expect "a critical XID drains" "xid 79" "agent: nvml: GPU 0 XID 79 (reset the GPU*"
expect "... and stays after the event" "" "agent: nvml: GPU 0 XID 79*"
"$AIDC" nodes node-0 | grep -q "XID 79" && ok "aidc nodes node-0 shows it" || fail "aidc nodes node-0"

# Device use from NVML in the heartbeats: per-node, per-device metrics.
printf 'util 55\nmemused 2048\n' >"$HF"
metrics() { curl -s --unix-socket "$AIDC_SOCKET" http://x/metrics; }
want_u='aidc_node_device_utilization_ratio{node="node-0",device="0"} 0.55'
want_m='aidc_node_device_memory_used_bytes{node="node-0",device="0"} 2147483648'
wait_for 30 sh -c "curl -s --unix-socket '$AIDC_SOCKET' http://x/metrics | grep -qxF '$want_u'" &&
	ok "utilization in /metrics: $want_u" || fail "no '$want_u' in: $(metrics | grep utilization)"
metrics | grep -qxF "$want_m" && ok "memory in use in /metrics: $want_m" ||
	fail "no '$want_m' in: $(metrics | grep memory_used)"
metrics | grep -qxF 'aidc_node_device_utilization_ratio{node="node-0",device="1"} 0.00' &&
	ok "the idle GPU 1 reports 0" || fail "GPU 1: $(metrics | grep utilization)"
finish
