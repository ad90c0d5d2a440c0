#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An srun step's output on another node cut by the controller (here
# max_job_output_mib = 1; the same for the free-space floor and the stream
# cap, output.c): the runner is told all is stored so that it moves on, and
# the controller's reply also says where its copy really ends ("stored",
# steps.c), which the runner reports to srun. So srun copies node 1's output
# up to the truncation marker and ends at once (before, the runner reported
# every byte it had pushed, and srun waited 30 s per node and stream for
# bytes that never came, then warned that they "were not copied").
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
CPUS=2 center_up 2
ctl_restart --max-job-output-mib 1 || fail "the controller did not restart with the quota"

cat >"$DIR/cut.sh" <<SCRIPT
#!/bin/sh
#SBATCH -N 2
t0=\$(date +%s)
srun -N 2 sh -c 'head -c 3000000 /dev/zero | tr "\\\\0" x; echo; echo tail-line' \
	>"$DIR/step.out" 2>"$DIR/step.err"
echo "srun rc=\$? in \$((\$(date +%s) - t0)) s" >"$DIR/rc"
SCRIPT
id=$( (cd "$DIR" && "$AIDC" sbatch --parsable cut.sh) )
check_eq "job $id completed" "$(wait_state "$id" "$END" 120)" completed
out0=$(cat "$DIR/rc")
secs=$(sed -n 's/.*srun rc=0 in \([0-9]*\) s.*/\1/p' <<<"$out0")
[ -n "$secs" ] && [ "$secs" -lt 15 ] && ok "srun ends in $secs s" ||
	fail "srun: $out0 (wanted rc=0 in under 15 s)"
grep -q "output truncated" "$DIR/step.out" && ok "srun copied node 1's output up to the marker" ||
	fail "no marker in srun's copy: $(tail -c 300 "$DIR/step.out")"
grep -q "were not copied" "$DIR/step.err" && fail "srun: $(cat "$DIR/step.err")" ||
	ok "srun did not wait for bytes that never came"
finish
