#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Preemption in live mode (docs/live.md, "Preemption and the checkpoint
# contract"): 1 agent with 2 mock devices, the controller on order = priority
# with kill_grace_s = 2. A preemptible job V fills the center; a job H of
# higher priority arrives: V gets SIGTERM (its trap writes a "checkpoint"),
# is requeued (pending, attempt 1, not failed), H runs, then V runs again and
# sees AIDC_ATTEMPT=1. Marker files prove that no two attempts of V ever ran
# at once and that H never ran beside V; nothing is lost. A job submitted
# without --preemptible is never stopped for a higher-priority one.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CPUS=4 center_up 1 --devices 2
M=$DIR/m
mkdir -m 777 "$M"
# The controller again, on the priority order (aidc up has no flag for it).
printf 'order = priority\nkill_grace_s = 2\n' >"$DIR/ctl.conf"
ctl_restart --config "$DIR/ctl.conf" && ok "controller on order = priority" ||
	{ fail "controller restart"; exit 1; }
agent_up() { "$AIDC" nodes --json 2>/dev/null | grep -q '"state":"up"'; }
wait_for 30 agent_up || fail "agent registered again"

# V: the first attempt runs until stopped; a later one finishes after 1 s.
cat >"$DIR/v.sh" <<VEOF
#!/bin/sh
#AIDC --preemptible --gpus-per-task 2
[ -e $M/v.running ] && echo "attempt \$AIDC_ATTEMPT started beside another" >>$M/overlap
[ -e $M/h.running ] && echo "V attempt \$AIDC_ATTEMPT started beside H" >>$M/overlap
touch $M/v.running
echo "start \$AIDC_ATTEMPT" >>$M/v.log
trap 'echo "checkpoint \$AIDC_ATTEMPT" >>$M/v.log; rm -f $M/v.running; exit 143' TERM
if [ "\$AIDC_ATTEMPT" = 0 ]; then
	while :; do sleep 0.2; done
fi
sleep 1
rm -f $M/v.running
echo "done \$AIDC_ATTEMPT" >>$M/v.log
VEOF
chmod 755 "$DIR/v.sh"
h_job='[ -e '"$M"'/v.running ] && echo "H started beside V" >>'"$M"'/overlap; touch '"$M"'/h.running; echo ran >>'"$M"'/h.log; sleep 1; rm -f '"$M"'/h.running'

v=$(submit -J victim "$DIR/v.sh") # preemptible by its #AIDC directive
check_eq "job $v preemptible (#AIDC --preemptible)" "$(job_field "$v" preemptible)" True
check_eq "job $v running" "$(wait_state "$v" running 60)" running
wait_for 30 grep -q "start 0" "$M/v.log" || fail "job $v attempt 0 started"
h=$(submit -J high --priority 10 --gpus-per-task 2 -- sh -c "$h_job")
check_eq "job $h (priority 10) completed" "$(wait_state "$h" 'completed|failed|cancelled' 90)" completed
check_eq "job $v completed after its requeue" "$(wait_state "$v" 'completed|failed|cancelled' 90)" completed
check_eq "job $v attempts" "$(job_field "$v" attempt)" 1
check_eq "job $v history" "$(xargs <"$M/v.log")" "start 0 checkpoint 0 start 1 done 1"
check_eq "job $h ran once" "$(wc -l <"$M/h.log")" 1
check_eq "no overlapping attempts" "$(cat "$M/overlap" 2>/dev/null)" ""
grep -q "job $v (attempt 0) preempted by job $h" "$DIR/controller.log" &&
	ok "controller logged the preemption" || fail "controller logged the preemption"

# Not preemptible: the high-priority job waits for it.
n=$(submit -J plain --gpus-per-task 2 -- sh -c 'sleep 3')
check_eq "job $n running" "$(wait_state "$n" running 60)" running
check_eq "job $n not preemptible" "$(job_field "$n" preemptible)" False
h2=$(submit -J high2 --priority 10 --gpus-per-task 2 -- true)
check_eq "job $h2 completed" "$(wait_state "$h2" 'completed|failed|cancelled' 90)" completed
check_eq "job $n (not preemptible) completed in one attempt" "$(job_field "$n" state)/$(job_field "$n" attempt)" completed/0
p=$(submit --preemptible --priority 1 -- true)
check_eq "job $p preemptible (--preemptible)" "$(job_field "$p" preemptible)" True
check_eq "job $p completed" "$(wait_state "$p" 'completed|failed|cancelled' 60)" completed
finish
