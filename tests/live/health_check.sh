#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Node health check (issue 14 item 5): agents run --health-check PROGRAM every
# --health-interval seconds. A failing run drains the node with the program's
# output as the reason (aidc nodes shows it; a job waits instead of starting
# there); `aidc resume` returns it, but only until the next failing check
# drains it again; once the program passes the node is resumed and the job
# runs. A program that hangs past the interval is killed and drains the node
# as "did not finish"; a bad --health-check is refused at start.
# Waits poll with generous deadlines; nothing here asserts a timing.
. "$(dirname "$0")/agent_lib.sh"
out=$("$AIDC" agent --health-check relative/path --state-dir /tmp/x 2>&1)
check_eq "a relative --health-check exits 2" "$?" 2
[[ "$out" == *"absolute path"* ]] && ok "says why: $out" || fail "relative --health-check: $out"
out=$("$AIDC" agent --health-interval 5 2>&1)
check_eq "--health-interval alone exits 2" "$?" 2

HC=$(mktemp -d /tmp/aidc-hc-XXXXXX)
chmod 755 "$HC"
cat >"$HC/check" <<EOS
#!/bin/sh
# The test's health check: fails while $HC/bad exists, hangs while $HC/hang does.
[ -e "$HC/hang" ] && exec sleep 600
if [ -e "$HC/bad" ]; then
	echo "GPU 3 fell off the bus (node \$AIDC_NODE)"
	echo "ECC errors: 7" >&2
	exit 1
fi
exit 0
EOS
chmod 755 "$HC/check"
trap 'center_down; rm -rf "$HC"' EXIT
touch "$HC/bad"
center_up 1 --health-check "$HC/check" --health-interval 1

node_field() {
	"$AIDC" nodes --json 2>/dev/null | "$PY" -c 'import json,sys
n=[x for x in json.load(sys.stdin)["nodes"] if x["name"]=="node-0"]
print(n[0].get(sys.argv[1], "") if n else "")' "$1"
}
want_reason='agent: health check: GPU 3 fell off the bus (node node-0); ECC errors: 7'
wait_for 30 sh -c "[ \"\$(\"$AIDC\" nodes --json | grep -c '\"drained\":true')\" = 1 ]"
check_eq "a failing health check drains the node" "$(node_field drained)" True
check_eq "the reason is its output" "$(node_field reason)" "$want_reason"
"$AIDC" nodes node-0 | grep -q "health check: GPU 3 fell off the bus" && ok "aidc nodes node-0 shows the reason" ||
	fail "aidc nodes node-0: $("$AIDC" nodes node-0)"
# aidc resume returns the node, until the next failing check drains it again.
"$AIDC" resume node-0 >/dev/null || fail "aidc resume"
wait_for 30 sh -c "\"$AIDC\" nodes --json | grep -q '\"reason\":\"agent: health check'" &&
	ok "still failing: drained again after aidc resume" || fail "not drained again: $(node_field reason)"
id=$(submit -J waits -- true)
sleep 2
check_eq "a job waits while the node is drained" "$(job_field "$id" state)" pending

# Fixed: the next passing check resumes the node and the job runs.
rm -f "$HC/bad"
st=$(wait_state "$id" "completed|failed" 60)
check_eq "the job runs once the check passes" "$st" completed
[ "$st" = completed ] || "$AIDC" job "$id"
check_eq "the node is resumed" "$(node_field drained)" False
check_eq "no reason left" "$(node_field reason)" ""

# A check that hangs past its interval is killed and drains the node.
touch "$HC/hang"
wait_for 30 sh -c "\"$AIDC\" nodes --json | grep -q 'did not finish'" &&
	ok "a hanging check drains: $(node_field reason)" || fail "hang: $(node_field reason)"
rm -f "$HC/hang"
wait_for 30 sh -c "\"$AIDC\" nodes --json | grep -q '\"drained\":false'" &&
	ok "resumed after the hang" || fail "not resumed after the hang"
finish
