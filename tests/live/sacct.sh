#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sacct under aidc (issue 13 item 7): jobs run to completed, failed (exit 3)
# and cancelled, then sacct's default columns and header line, -j, -s, -S/-E,
# -o fields with widths, -P/-p, -n, -X (the jobs without their JOB.batch
# lines), -j JOB.batch, -b,
# --json, and its refusals (an option with no meaning here, an unknown field,
# a bad time) on a local center.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
center_up 1 --devices 2
SA="$(dirname "$AIDC")/slurm-bin/sacct"
[ -x "$SA" ] || fail "no slurm-bin/sacct link beside $AIDC"
ME=$(id -un)

sb() { (cd "$DIR" && "$AIDC" sbatch --parsable "$@"); }
printf '#!/bin/sh\ntrue\n' > "$DIR/ok.sh"
printf '#!/bin/sh\nexit 3\n' > "$DIR/bad.sh"
printf '#!/bin/sh\nsleep 300\n' > "$DIR/long.sh"
a=$(sb -J good -c 2 --mem=1G -t 5 ok.sh)
b=$(sb -J bad bad.sh)
c=$(sb -J long-running-name long.sh)
check_eq "job $a" "$(wait_state "$a" "$END" 60)" completed
check_eq "job $b" "$(wait_state "$b" "$END" 60)" failed
check_eq "job $c runs" "$(wait_state "$c" running 60)" running
"$AIDC" scancel "$c" || fail "scancel $c"
check_eq "job $c" "$(wait_state "$c" "$END" 60)" cancelled

# Default columns and widths, as sacct prints them (each cell and a space).
hdr='JobID           JobName  Partition    Account  AllocCPUS      State ExitCode '
dash='------------ ---------- ---------- ---------- ---------- ---------- -------- '
check_eq "sacct's default header" "$("$SA" | sed -n 1p)" "$hdr"
check_eq "sacct's dashes" "$("$SA" | sed -n 2p)" "$dash"
row() { printf '%-12s %10s %10s %10s %10s %10s %8s ' "$@"; }
check_eq "completed row" "$("$SA" | grep "^$a ")" "$(row "$a" good default '' 2 COMPLETED 0:0)"
check_eq "failed row (exit 3)" "$("$SA" | grep "^$b ")" "$(row "$b" bad default '' 1 FAILED 3:0)"
got=$("$SA" | grep "^$c ")
want=$(printf '%-12s %10s %10s %10s %10s %10s' "$c" long-runn+ default '' 1 CANCELLED)
[[ "$got" =~ ^"$want"\ +[0-9]+:[0-9]+\ $ ]] &&
	ok "cancelled row, long name cut with '+': $got" || fail "cancelled row: '$got'"
check_eq "jobs in id order" "$("$SA" -n -X | awk '{print $1}' | tr '\n' ' ')" "$a $b $c "

# -j, -s.
check_eq "-j C,A" "$("$SA" -X -n -j "$c,$a" -o JobID | tr -d ' ' | tr '\n' ' ')" "$a $c "
check_eq "-j 99999 (no such job): nothing" "$("$SA" -X -n -j 99999)" ""
check_eq "-s F" "$("$SA" -X -n -s F -o JobID | tr -d ' ')" "$b"
check_eq "-s cd,CA (names or codes, any case)" \
	"$("$SA" -X -n -s cd,CANCELLED -o JobID | tr -d ' ' | tr '\n' ' ')" "$a $c "
check_eq "-s R: none running" "$("$SA" -X -n -s R)" ""

# -S/-E windows.
check_eq "-S now+1hours: nothing ran after" "$("$SA" -X -n -S now+1hours)" ""
check_eq "-E 2000-01-01: nothing submitted before" "$("$SA" -X -n -S 1999-01-01 -E 2000-01-01)" ""
check_eq "-S now-1days" "$("$SA" -X -n -S now-1days -o JobID | wc -l)" 3
check_eq "-S $(date +%F)" "$("$SA" -X -n -S "$(date +%F)" -o JobID | wc -l)" 3

# -o fields and widths, -P, -p, --delimiter.
check_eq "-o JobName%5,State%-4,ExitCode" "$("$SA" -X -n -j "$b" -o JobName%5,State%-4,ExitCode)" \
	"  bad FAI+      3:0 "
check_eq "-o header with widths" "$("$SA" -X -j "$b" -o JobName%5,State%-4 | head -2)" \
	"$(printf '%5s %-4s \n----- ---- ' JobNam State | sed 's/JobNam/JobNa/; s/State/Stat/')"
check_eq "-P" "$("$SA" -X -P -j "$a" -o JobID,JobName,State,ExitCode,AllocCPUS,NNodes,User,ReqMem,AllocTRES)" \
	"JobID|JobName|State|ExitCode|AllocCPUS|NNodes|User|ReqMem|AllocTRES
$a|good|COMPLETED|0:0|2|1|$ME|1G|cpu=2,mem=1G,node=1"
check_eq "-p (trailing |), -n" "$("$SA" -X -p -n -j "$b" -o JobID,State)" "$b|FAILED|"
check_eq "--delimiter" "$("$SA" -X -P -n --delimiter=, -j "$b" -o JobID,State)" "$b,FAILED"
check_eq "-b" "$("$SA" -X -b -P -n -j "$b")" "$b|FAILED|3:0"
node=$(job_field "$a" nodes | tr -d "[]' ")
check_eq "NodeList, Timelimit" "$("$SA" -X -P -n -j "$a" -o NodeList,Timelimit)" "$node|00:05:00"
t=$("$SA" -X -P -n -j "$a" -o Submit,Start,End,Elapsed)
[[ "$t" =~ ^20[0-9-]{8}T[0-9:]{8}\|20[0-9-]{8}T[0-9:]{8}\|20[0-9-]{8}T[0-9:]{8}\|[0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] &&
	ok "Submit|Start|End|Elapsed: $t" || fail "times: '$t'"
check_eq "without -X: each job's batch step" "$("$SA" -P -n -j "$a,$b" -o JobID,JobName,State,ExitCode)" \
	"$a|good|COMPLETED|0:0
$a.batch|batch|COMPLETED|0:0
$b|bad|FAILED|3:0
$b.batch|batch|FAILED|3:0"
check_eq "-X: the jobs alone" "$("$SA" -X -n -o JobID | tr -d ' ' | tr '\n' ' ')" "$a $b $c "
check_eq "-j A.batch: that line" "$("$SA" -P -n -j "$a.batch" -o JobID,State)" "$a.batch|COMPLETED"
check_eq "-u $ME" "$("$SA" -X -n -u "$ME" | wc -l)" 3
check_eq "-u nosuchuser" "$("$SA" -n -u nosuchuser)" ""
check_eq "--json" "$("$AIDC" sacct --json -s F | "$PY" -c 'import json,sys; print([(j["id"], j["exit_code"]) for j in json.load(sys.stdin)["jobs"]])')" "[($b, 3)]"

# Refusals.
refused() { # WHAT WANT-IN-STDERR ARGS...
	local what=$1 want=$2 out rc
	shift 2
	out=$("$SA" "$@" 2>&1); rc=$?
	[ $rc -eq 2 ] && [[ "$out" == *"$want"* ]] && ok "refused $what: $out" || fail "$what: rc $rc: $out"
}
refused -l "--long is not supported here" -l
refused --units "--units is not supported here" --units=G
refused -D "--duplicates is not supported here" -D
refused "unknown fields" "unknown field(s) Bogus, Nope" -o JobID,Bogus,State,Nope
refused "a bad time" "time 'yesterday' is not one sacct takes" -S yesterday
refused "a bad state" "unknown state 'BOGUS'" -s CD,BOGUS
refused "a bad step id" "'$a.x' is not ID, ID.STEP or ID.batch" -j "$a.x"
finish
