#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Heterogeneity-aware placement in the live controller (issue 12 item 3,
# docs/placement.md "Heterogeneity-aware placement"): a center with
# `hetero = fastest`, agent node-0 with one mock "slowgpu" and agent nfast
# with one mock "fastgpu". Jobs named "train" report 100 steps/s on slowgpu
# and 300 on fastgpu (aidc progress, AIDC_PROGRESS_FILE); one run on each
# model (pinned with --gpu-model) fills the class's row of the speed table
# (aidc speeds: 0.5 and 1.5 of the 1.0 prior); a new "train" job without a
# model constraint then starts on fastgpu, where the unaware choice (the
# lowest model id, slowgpu; shown by a job of an unknown class) would not put
# it. A bad progress value is refused (aidc progress) or ignored with a note
# on the job's stderr (the file written directly); a CPU-only job observes
# nothing; a rate override (root only) becomes the model's fair-share charge;
# kill -9 of the controller and a restart keep the table, the charges and the
# choice.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"

CFG=$(mktemp /tmp/aidc-hetero-cfg-XXXXXX)
echo "hetero = fastest" >"$CFG"
CPUS=2 center_up 1 --devices 1 --model slowgpu --controller-config "$CFG"
trap 'center_down; rm -f "$CFG"' EXIT # the restart reads it again
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-root-jobs)
mkdir -p "$DIR/agent-fast"
setsid "$AIDC" agent --controller "127.0.0.1:$(cat "$DIR/controller/port")" --name nfast \
	--state-dir "$DIR/agent-fast" --secret-file "$DIR/controller/secret" \
	--devices mock:1:fastgpu --cpus 2 "${root[@]}" >"$DIR/agent-fast.log" 2>&1 </dev/null &
echo $! >"$DIR/pids/agent-fast.pid"
disown $!
two_up() { [ "$("$AIDC" nodes --json 2>/dev/null | grep -o '"state":"up"' | grep -c .)" = 2 ]; }
wait_for 60 two_up || fail "two nodes up"

# The job: its throughput depends on the model it got.
JOB='case "$AIDC_NODE" in nfast) r=300 ;; *) r=100 ;; esac; '"$AIDC"' progress $r'
node_of() { "$AIDC" job "$1" --json | "$PY" -c 'import json,sys
print(",".join(t["node"] for t in json.load(sys.stdin).get("tasks", [])))'; }
run() { # run NAME ARGS... -> the job id once it completed
	local id
	id=$(submit -J "$@") || return 1
	[ "$(wait_state "$id" "$END" 60)" = completed ] || fail "job $id ($*) completed"
	echo "$id"
}
speeds() { "$AIDC" speeds --json | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
rows = ["%s/%s:%d:%.3f:%s" % (c["class"], m["model"], m["runs"], m["mean_rate"], m["speed"])
        for c in d["classes"] for m in c["models"]]
print(d["hetero"], " ".join(sorted(rows)))'; }

check_eq "an empty table" "$(speeds)" "fastest "
# The unaware choice for a class without a row: the lowest model id (slowgpu).
u=$(run other --gpus-per-task 1 -- true)
check_eq "a job of no class starts on slowgpu (the unaware choice)" "$(node_of "$u")" node-0
run train --gpus-per-task 1 --gpu-model slowgpu -- sh -c "$JOB" >/dev/null
run train --gpus-per-task 1 --gpu-model fastgpu -- sh -c "$JOB" >/dev/null
want="fastest train/fastgpu:1:300.000:1.5 train/slowgpu:1:100.000:0.5"
check_eq "two runs fill the class's row" "$(speeds)" "$want"
t=$(run train --gpus-per-task 1 -- sh -c "$JOB")
check_eq "a new train job starts on the faster model" "$(node_of "$t")" nfast
check_eq "and is observed there" "$(speeds)" \
	"fastest train/fastgpu:2:300.000:1.5 train/slowgpu:1:100.000:0.5"

# Bad input: refused by aidc progress; written directly, ignored with a note.
"$AIDC" progress -1 >/dev/null 2>&1
check_eq "aidc progress -1 refused (usage)" "$?" 2
"$AIDC" progress 1e12 >/dev/null 2>&1
check_eq "aidc progress 1e12 refused (usage)" "$?" 2
b=$(run bad --gpus-per-task 1 -- sh -c 'echo fast > "$AIDC_PROGRESS_FILE"')
"$AIDC" logs "$b" --stderr >"$DIR/bad.err" 2>&1
grep -q "progress file: 'fast' is not a throughput" "$DIR/bad.err" ||
	fail "job $b's stderr says its progress was ignored: $(cat "$DIR/bad.err")"
run cpu -- sh -c "$AIDC progress 5" >/dev/null
check_eq "bad values and CPU-only jobs observe nothing" "$(speeds)" \
	"fastest train/fastgpu:2:300.000:1.5 train/slowgpu:1:100.000:0.5"

# Fair share in normalized units: a model's rate becomes its charge.
charge() { "$AIDC" speeds --json | "$PY" -c 'import json,sys
print(" ".join(sorted("%s:%.3f" % (m["model"], m["fair_share_charge"]) for m in json.load(sys.stdin)["models"])))'; }
check_eq "every model charged 1 without rates" "$(charge)" "fastgpu:1.000 slowgpu:1.000"
if [ "$(id -u)" -eq 0 ]; then
	"$AIDC" rates set fastgpu 2.5 --reason "hetero test" >/dev/null || fail "rates set"
	check_eq "a rate becomes the model's fair-share charge" "$(charge)" \
		"fastgpu:2.500 slowgpu:1.000"
else
	echo "note: not root: the rate override (admins) is not checked"
fi

ctl_restart && ok "controller restarted" || fail "controller restarted"
wait_for 60 two_up || fail "two nodes up after the restart"
hidden() { as_user speeds --json | "$PY" -c 'import json,sys
d = json.load(sys.stdin); print(len(d["classes"]), d["classes_hidden"] > 0)'; }
if other_user "speed-table visibility"; then
	check_eq "another user sees no class of root's job names" "$(hidden)" "0 True"
fi
check_eq "the table survives a restart" "$(speeds)" \
	"fastest train/fastgpu:2:300.000:1.5 train/slowgpu:1:100.000:0.5"
[ "$(id -u)" -eq 0 ] && check_eq "and the charges" "$(charge)" "fastgpu:2.500 slowgpu:1.000"
t=$(run train --gpus-per-task 1 -- sh -c "$JOB")
check_eq "after the restart a train job still starts on the faster model" "$(node_of "$t")" nfast
# nfast stops as aidc down stops node-0 (its cgroups go with it)
pid=$(cat "$DIR/pids/agent-fast.pid")
kill -TERM "$pid" && wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" || fail "agent nfast stopped"
finish
