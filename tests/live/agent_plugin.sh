#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent and device plugins (issue 19 item 2): plugins are loaded in a
# child process, so a plugin that crashes while it is loaded, or speaks
# another ABI version, is logged ONCE with the reason and the node registers
# without its devices (the agent lives on, no retry loop). A plugin given a
# configuration (plugin:PATH:key=value,...) registers its device with its
# uuid, shown by `aidc nodes NODE`, and its own visibility variable (ABI v2
# visible_env) reaches the tasks given its devices.
# Usage: agent_plugin.sh CHEAT_PLUGIN BADABI_PLUGIN
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CHEAT=$(realpath "${1:?cheat plugin}"); BADABI=$(realpath "${2:?badabi plugin}")

node_field() { "$AIDC" nodes --json 2>/dev/null | "$PY" -c 'import json,sys
n=[x for x in json.load(sys.stdin)["nodes"] if x["name"]=="node-0"]
print(n[0][sys.argv[1]] if n else "")' "$1"; }
node_up() { [ "$(node_field state)" = up ]; }

# plugin_fails SPEC PATTERN: the node registers with 0 devices, one log line.
plugin_fails() {
	center_up 1 --agent-devices "$1"
	wait_for 30 node_up || fail "$1: node-0 never came up"
	check_eq "$1: node registers without devices" "$(node_field devices)" 0
	sleep 1 # a retry loop would log again meanwhile
	local n
	n=$(grep -c "unusable, registering without them" "$DIR/agent-0.log")
	check_eq "$1: the reason is logged once" "$n" 1
	grep "unusable" "$DIR/agent-0.log"
	grep -q -- "$2" "$DIR/agent-0.log" && ok "$1: the log says '$2'" || fail "$1: no '$2' in the agent log"
	check_eq "$1: the agent lives on" "$(node_field state)" up
	center_down
}

plugin_fails "plugin:$CHEAT:cheat=crash-discover" "crashed (signal 11, Segmentation fault) in its device_info call"
plugin_fails "plugin:$BADABI" "plugin ABI version 99, this aidc speaks versions 1 to 2"
AIDC_PLUGIN_DISCOVER_TIMEOUT_S=3 plugin_fails "plugin:$CHEAT:cheat=hang-discover" \
	"did not finish within 3 s in its device_count call"

# An honest plugin with a configuration: uuid, model and memory in `aidc nodes`,
# and its visibility variable in the task's environment.
center_up 1 --agent-devices "plugin:$CHEAT:cheat=honest,visible=CHEAT_VISIBLE_DEVICES,uuid=cheat-uuid-7"
wait_for 30 node_up || fail "honest: node-0 never came up"
check_eq "honest: one device" "$(node_field devices)" 1
check_eq "honest: its model" "$(node_field model)" cheat-1
"$AIDC" nodes node-0 | tee "$DIR/node.txt"
grep -q "device 0: AIDC tests cheat-1, 1024 MiB, uuid cheat-uuid-7" "$DIR/node.txt" \
	&& ok "aidc nodes NODE shows model, memory and uuid" || fail "aidc nodes NODE: no device line"
j=$(submit --gpus 1 -- env)
check_eq "a job on the plugin's device completes" "$(wait_state "$j" 'completed|failed|cancelled' 60)" completed
check_eq "it gets the plugin's visibility variable" \
	"$("$AIDC" logs "$j" 2>/dev/null | grep '^CHEAT_VISIBLE_DEVICES=')" "CHEAT_VISIBLE_DEVICES=0"
finish
