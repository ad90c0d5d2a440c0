#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sinfo under aidc (issue 13 item 7): sinfo's default columns, nodes with
# equal fields grouped as a compressed hostlist, Slurm's node states (idle,
# alloc, drain), -N, -o fields, filters (-p -t -n), --json, and refusals, on a
# local center of two mock nodes.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
center_up 2 --devices 2
SI="$(dirname "$AIDC")/slurm-bin/sinfo"
[ -x "$SI" ] || fail "no slurm-bin/sinfo link beside $AIDC"
wait_for 30 sh -c "[ \"\$('$AIDC' nodes --json | grep -o '\"state\":\"up\"' | wc -l)\" = 2 ]" ||
	fail "two nodes up"

check_eq "sinfo's default header" "$("$SI" | head -1)" \
	"PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST"
check_eq "two idle nodes on one line" "$("$SI" -h)" \
	"$(printf '%-9s %5s %10s %6s %6s %s' default up infinite 2 idle 'node-[0-1]')"

# A job on every device of one node: that node is alloc, the other idle.
printf '#!/bin/sh\nsleep 300\n' > "$DIR/long.sh"
j=$(cd "$DIR" && "$AIDC" sbatch --parsable --gpus=2 long.sh)
check_eq "job $j runs" "$(wait_state "$j" running 60)" running
busy=$(job_field "$j" nodes | tr -d "[]' ")
[ "$busy" = node-0 ] && idle=node-1 || idle=node-0
check_eq "alloc and idle lines" "$("$SI" -h -o '%D %t %N' | sort | tr '\n' ' ')" "1 alloc $busy 1 idle $idle "
"$AIDC" drain "$idle" >/dev/null || fail "aidc drain $idle"
check_eq "-t drain" "$("$SI" -h -t drain -o '%N %t %T')" "$idle drain DRAINED"
check_eq "-t ALLOC,idle (any case)" "$("$SI" -h -t ALLOC,idle -o '%N %t')" "$busy alloc"
check_eq "-N, -o %N|%c|%m|%G|%P|%a|%l" "$("$SI" -N -h -o '%N|%c|%m|%G|%P|%a|%l' | head -1)" \
	"node-0|2|16384|gpu:mock-a1:2|default|up|infinite"
check_eq "-N lines" "$("$SI" -N -h | wc -l)" 2
check_eq "-N header" "$("$SI" -N | head -1)" "NODELIST    NODES PARTITION  STATE"
check_eq "-n $busy" "$("$SI" -h -n "$busy" -o %N)" "$busy"
check_eq "-p nosuch" "$("$SI" -h -p nosuch)" ""
check_eq "-p default" "$("$SI" -h -p default -o %D | awk "{s+=\$1} END {print s}")" 2
check_eq "--json" "$("$AIDC" sinfo --json -t alloc | "$PY" -c 'import json,sys; print([n["name"] for n in json.load(sys.stdin)["nodes"]])')" "['$busy']"
check_eq "-d (no dead nodes)" "$("$SI" -h -d)" ""
out=$("$SI" -l 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"--long is not supported"* ]] && ok "refused: $out" || fail "-l: rc $rc: $out"
out=$("$SI" -t busy 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"unknown state 'busy'"* ]] && ok "refused: $out" || fail "-t busy: rc $rc: $out"
out=$("$SI" -o '%P %Z' 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"unknown field(s) %Z"* ]] && ok "refused: $out" || fail "%Z: rc $rc: $out"
"$AIDC" cancel "$j" >/dev/null
finish
