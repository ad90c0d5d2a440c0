#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# squeue and scancel under aidc (issue 13 item 7): squeue's default columns,
# -o fields, filters (-t -u -j -p -n -w), Slurm reason names, --start with
# the scheduler's estimate, --json and -l on a local
# center; scancel by id, by -n and by -u/-t; scancel's per-id errors and the
# refusals of both (unknown fields, --signal, no job given).
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
center_up 1 --devices 2
SQ="$(dirname "$AIDC")/slurm-bin/squeue"
SC="$(dirname "$AIDC")/slurm-bin/scancel"
[ -x "$SQ" ] && [ -x "$SC" ] || fail "no slurm-bin/squeue or scancel link beside $AIDC"
ME=$(id -un)

sb() { (cd "$DIR" && "$AIDC" sbatch --parsable "$@"); }
printf '#!/bin/sh\nsleep 300\n' > "$DIR/long.sh"
a=$(sb -J runner -t 10 -c 2 long.sh)
check_eq "job $a runs" "$(wait_state "$a" running 60)" running
b=$(sb -J waiter -H long.sh)
c=$(sb -J other -H long.sh)
node=$(job_field "$a" nodes | tr -d "[]' ")

# Default columns, as squeue prints them.
hdr='             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)'
check_eq "squeue's default header" "$("$SQ" | head -1)" "$hdr"
row=$(printf '%18s %9s %8s %8s %2s' "$a" default runner "$ME" R)
got=$("$SQ" | grep "^ *$a ")
[[ "$got" == "$row "*" 1 $node" ]] && ok "running row: $got" || fail "running row: '$got', want '$row ... 1 $node'"
row=$(printf '%18s %9s %8s %8s %2s %10s %6s %s' "$b" default waiter "$ME" PD 0:00 1 "(JobHeldUser)")
check_eq "pending row (aidc's reason 'held' under Slurm's name)" "$("$SQ" | grep "^ *$b ")" "$row"
check_eq "pending jobs first (squeue's order: partition, state, priority)" \
	"$("$SQ" -h -o %i | tr '\n' ' ')" "$b $c $a "

# -o fields.
check_eq "-o %i|%j|%u|%t|%T|%l|%D|%C|%P|%N|%q|%a|%b" \
	"$("$SQ" -h -j "$a" -o '%i|%j|%u|%t|%T|%l|%D|%C|%P|%N|%q|%a|%b')" \
	"$a|runner|$ME|R|RUNNING|10:00|1|2|default|$node|(null)|(null)|N/A"
check_eq "-o widths: %.6i right, %-8j left, %3u cut" "$("$SQ" -h -j "$a" -o '[%.6i][%-8j][%3u]')" \
	"[$(printf '%6s' "$a")][runner  ][${ME:0:3}]"
check_eq "-o %r of a held job" "$("$SQ" -h -j "$b" -o '%r %S %M')" "JobHeldUser N/A 0:00"
[[ "$("$SQ" -h -j "$a" -o %V)" =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]{8}$ ]] &&
	ok "%V is an ISO time" || fail "%V: $("$SQ" -h -j "$a" -o %V)"

# Filters.
check_eq "-t PD" "$("$SQ" -h -t PD -o %i | tr '\n' ' ')" "$b $c "
check_eq "-t running,pd (any case)" "$("$SQ" -h -t running,pd -o %i | sort -n | tr '\n' ' ')" "$a $b $c "
check_eq "-tR (joined)" "$("$SQ" -h -tR -o %i)" "$a"
check_eq "-u $ME" "$("$SQ" -h -u "$ME" -o %i | sort -n | tr '\n' ' ')" "$a $b $c "
check_eq "-u nosuchuser" "$("$SQ" -h -u nosuchuser)" ""
check_eq "--me" "$("$SQ" -h --me -o %i | sort -n | tr '\n' ' ')" "$a $b $c "
check_eq "-j B,A" "$("$SQ" -h -j "$b,$a" -o %i | tr '\n' ' ')" "$b $a "
check_eq "-p default" "$("$SQ" -h -p default -o %i | wc -l)" 3
check_eq "-p nosuch" "$("$SQ" -h -p nosuch)" ""
check_eq "-n other,runner" "$("$SQ" -h -n other,runner -o %i | sort -n | tr '\n' ' ')" "$a $c "
check_eq "-w $node" "$("$SQ" -h -w "$node" -o %i)" "$a"
check_eq "-l header (TIME_LIMI: cut to 9, as squeue)" "$("$SQ" -l | head -1 | tr -s ' ')" " JOBID PARTITION NAME USER STATE TIME TIME_LIMI NODES NODELIST(REASON)"
check_eq "--start: pending jobs, START_TIME N/A without an estimate" \
	"$("$SQ" --start -h -o '%i %S' | tr '\n' ' ')" "$b N/A $c N/A "
check_eq "--json" "$("$AIDC" squeue --json -t R | "$PY" -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin)["jobs"]])')" "[$a]"

# A job waiting for the CPUs job A holds: Slurm's (Resources), and --start
# shows the scheduler's estimate (A's start plus its 10-minute limit).
d=$(sb -J queued -c 1 long.sh)
wait_for 30 sh -c "[ \"\$('$SQ' -h -j $d -o %S)\" != N/A ]" || fail "job $d got no start estimate"
check_eq "(Resources) of a job waiting for CPUs" "$("$SQ" -h -j "$d" -o %R)" "(Resources)"
est=$(job_field "$d" start_estimate_s)
check_eq "--start: START_TIME is the estimate" "$("$SQ" --start -h -o '%i %S' | head -1)" \
	"$d $(date -d "@$est" +%Y-%m-%dT%H:%M:%S)"

# squeue's refusals.
out=$("$SQ" -o '%i %Z' 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"unknown field(s) %Z"* ]] && ok "refused: $out" || fail "%Z: rc $rc: $out"
out=$("$SQ" -t PD,BOGUS 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"unknown state 'BOGUS'"* ]] && ok "refused: $out" || fail "-t BOGUS: rc $rc: $out"
out=$("$SQ" -S i 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"--sort is not supported"* ]] && ok "refused: $out" || fail "-S: rc $rc: $out"
out=$("$SQ" -j 99999 2>&1); rc=$?
[ $rc -eq 1 ] && [[ "$out" == *"Invalid job id specified"* ]] && ok "squeue -j 99999: $out" || fail "-j 99999: rc $rc: $out"

# scancel: refusals change nothing.
out=$("$SC" --signal=USR1 "$a" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"--signal is not supported"* ]] && ok "refused: $out" || fail "--signal: rc $rc: $out"
out=$("$SC" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"No job identification provided"* ]] && ok "refused: $out" || fail "no ids: rc $rc: $out"
out=$("$SC" "$a" 12x 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"Invalid job id 12x"* ]] && ok "refused: $out" || fail "12x: rc $rc: $out"
check_eq "job $a still runs after the refusals" "$(job_field "$a" state)" running

# scancel by -n, by -u/-t, by id.
"$SC" -n other || fail "scancel -n other"
check_eq "scancel -n other: job $c" "$(wait_state "$c" "$END" 30)" cancelled
check_eq "scancel -n other left job $b" "$(job_field "$b" state)" pending
"$SC" -u "$ME" -t PENDING || fail "scancel -u $ME -t PENDING"
check_eq "scancel -u -t PENDING: job $b" "$(wait_state "$b" "$END" 30)" cancelled
check_eq "scancel -u -t PENDING: job $d" "$(wait_state "$d" "$END" 30)" cancelled
check_eq "scancel -u -t PENDING left the running job $a" "$(job_field "$a" state)" running
"$SC" "$a" || fail "scancel $a"
check_eq "scancel $a" "$(wait_state "$a" "$END" 60)" cancelled
out=$("$SC" 99999 2>&1); rc=$?
[ $rc -eq 1 ] && [[ "$out" == "scancel: error: Kill job error on job id 99999: Invalid job id specified"* ]] &&
	ok "$out" || fail "scancel 99999: rc $rc: $out"
out=$("$SC" "$a" 2>&1); rc=$?
[ $rc -eq 1 ] && [[ "$out" == *"job id $a: Job/step already completing or completed"* ]] &&
	ok "$out" || fail "scancel ended $a: rc $rc: $out"
out=$("$SC" -Q "$a" 2>&1); rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] && ok "scancel -Q of an ended job is quiet" || fail "-Q: rc $rc: $out"
check_eq "squeue -t CA" "$("$SQ" -h -t CA -o %i | sort -n | tr '\n' ' ')" "$a $b $c $d "
check_eq "squeue (default states) is empty" "$("$SQ" -h)" ""
finish
