#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `aidc sim` from the command line: malformed rows are reported with
# file:line, --skip-bad-rows counts them, usage errors exit 2, the built-in
# demo runs, and --generate writes a trace that reads back.
set -eu
AIDC=${AIDC_BIN:?AIDC_BIN is set by ctest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$tmp/bad.csv" <<'CSV'
timestamp,duration,num_gpus,gpu_time,cluster
2017-10-01 00:00:00,60,1,60,a
2017-10-01 00:00:05,sixty,1,60,a
2017-10-01 00:00:09,60,1,60,a
CSV
set +e
"$AIDC" sim --trace "$tmp/bad.csv" --format philly --nodes 1 > /dev/null 2> "$tmp/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "malformed row: exit $rc, want 1"
grep -q "bad.csv:3: duration 'sixty'" "$tmp/err" || fail "no file:line in: $(cat "$tmp/err")"

"$AIDC" sim --trace "$tmp/bad.csv" --nodes 1 --skip-bad-rows --json > "$tmp/out.json" 2> "$tmp/err"
grep -q '"bad_rows_skipped": 1' "$tmp/out.json" || fail "skip count missing"
grep -q '"finished": 2' "$tmp/out.json" || fail "two good rows should finish"
grep -q "skipped 1 bad rows" "$tmp/err" || fail "no skip notice on stderr"

set +e
"$AIDC" sim --policy nosuch > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown policy: exit $rc, want 2"
"$AIDC" sim --nodes 2 --vc-file x.csv > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--nodes with --vc-file: exit $rc, want 2"
"$AIDC" sim --compat helios --nodes 2 > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--compat helios without --vc-file: exit $rc, want 2"
"$AIDC" sim --nodes 2 --hetero gavel > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--hetero without --speeds: exit $rc, want 2"
"$AIDC" sim --nodes 2 --speeds /nonexistent/speeds.csv > /dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "--speeds of a missing file: exit $rc, want 1"
set -e

"$AIDC" sim > "$tmp/demo.txt"
grep -q "^FIFO " "$tmp/demo.txt" || fail "demo has no FIFO row"
grep -q "^Tiresias+bf " "$tmp/demo.txt" || fail "demo has no Tiresias+bf row"

"$AIDC" sim --generate 200 --profile venus --out "$tmp/g.trace"
head -1 "$tmp/g.trace" | grep -q "^# aidc-trace 1$" || fail "no version line"
"$AIDC" sim --trace "$tmp/g.trace" --policy qssf --backfill --cluster \
	tests/sim/scenarios/two4.cluster --json > "$tmp/g.json"
grep -q '"trace_jobs": 200' "$tmp/g.json" || fail "generated trace did not read back"
"$AIDC" sim --help | grep -q -- "--vc-scale" || fail "help lacks --vc-scale"

# ---- QA regressions: bad input gives ONE line, the right exit, no output file ----
# expect CODE PATTERN command...: exit CODE, exactly one stderr line containing PATTERN.
expect() {
	want=$1 pat=$2
	shift 2
	set +e
	"$@" > "$tmp/qa.out" 2> "$tmp/qa.err"
	rc=$?
	set -e
	[ $rc -eq "$want" ] || fail "'$*': exit $rc, want $want ($(cat "$tmp/qa.err"))"
	[ "$(wc -l < "$tmp/qa.err")" -eq 1 ] || fail "'$*': stderr is not one line: $(cat "$tmp/qa.err")"
	grep -q -- "$pat" "$tmp/qa.err" || fail "'$*': stderr '$(cat "$tmp/qa.err")' lacks '$pat'"
}
S=tests/sim/scenarios
# A directory used to read as "empty file" (trace) or "read error" (cluster).
expect 1 "$tmp: is a directory" "$AIDC" sim --trace "$tmp" --nodes 1
expect 1 "$tmp: is a directory" "$AIDC" sim --trace $S/single.trace --cluster "$tmp"
expect 1 "$tmp: is a directory" "$AIDC" sim --trace $S/single.trace --vc-file "$tmp"
# --from after --to used to replay nothing and exit 0.
expect 2 "is later than --to" "$AIDC" sim --trace $S/single.trace --nodes 1 --from 100 --to 50
# A repeated job id used to be accepted.
printf '# aidc-trace 1\nid,submit,duration\n7,0,5\n8,1,5\n7,2,5\n' > "$tmp/dup.trace"
expect 1 "dup.trace:5: id 7 appears twice (first on line 3)" "$AIDC" sim --trace "$tmp/dup.trace" --nodes 1
# A key given twice in one [nodes] section used to be "last one wins".
printf 'aidc-cluster 1\n[nodes]\ncount = 1\ncount = 2\n' > "$tmp/twice.cluster"
expect 1 "twice.cluster:4: key 'count' given twice" "$AIDC" sim --trace $S/single.trace --cluster "$tmp/twice.cluster"
# A VC file whose VCs all have 0 nodes used to make an empty cluster (exit 0).
printf 'vc,node num\na,0\n' > "$tmp/zero.vc"
expect 1 "no VC has any node" "$AIDC" sim --trace $S/single.trace --vc-file "$tmp/zero.vc"
# VCs of the trace missing from the VC file: every job left out used to exit 0
# with an empty report; now that fails, and a partial miss is a stderr note.
cat > "$tmp/vcs.csv" <<'CSV'
timestamp,duration,num_gpus,gpu_time,cluster
2017-10-01 00:00:00,60,1,60,x
2017-10-01 00:00:05,60,1,60,y
2017-10-01 00:00:09,60,1,60,z
CSV
printf 'vc,node num\na,1\nb,1\n' > "$tmp/ab.vc"
expect 1 "no job replayed" "$AIDC" sim --trace "$tmp/vcs.csv" --vc-file "$tmp/ab.vc" --policy fifo
printf 'vc,node num\nx,1\nb,1\n' > "$tmp/xb.vc"
expect 0 "note: 2 jobs of 2 VCs" "$AIDC" sim --trace "$tmp/vcs.csv" --vc-file "$tmp/xb.vc" --policy fifo --json
/usr/bin/python3 -m json.tool "$tmp/qa.out" > /dev/null || fail "--json output is not valid JSON"
# Quota files (docs/tenancy.md): bad rows refused naming file, line and column;
# multifactor settings refused under another policy; a run reports each
# account's guarantee satisfaction.
printf 'account,quota_devices,shares\nx,1,2\nx,1,1\n' > "$tmp/dupq.csv"
expect 1 "dupq.csv:3: account 'x' appears twice" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/dupq.csv"
printf 'account,quota_devices,shares\nx,1,0\n' > "$tmp/badq.csv"
expect 1 "badq.csv:2: shares '0' is not an integer in 1.." "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/badq.csv"
printf 'account,shares\nx,1\n' > "$tmp/noq.csv"
expect 1 "quota_devices" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/noq.csv"
expect 2 "--priority-weight-age applies to --policy multifactor only" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --priority-weight-age 5
# --charge (fair share in normalized units): malformed lists, a model given
# twice, another policy and a model not in the cluster are refused by name.
# the Gittins distribution oracle (diagnostic): gittins (or all) only
expect 2 "--gittins-prior applies to --policy gittins only" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --gittins-prior trace
"$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy gittins --gittins-prior others > "$tmp/gp.out" 2>&1 || fail "--gittins-prior others run failed: $(cat "$tmp/gp.out")"
expect 2 "--gittins-prior-window needs --gittins-prior" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy gittins --gittins-prior-window 60
# with a moving window (jobs added and dropped): the same run twice, the same report
for k in 1 2; do
	"$AIDC" sim --trace "$tmp/g.trace" --cluster tests/sim/scenarios/two4.cluster --policy gittins --gittins-prior others --gittins-prior-window 3600 --json > "$tmp/gw$k.out" 2>&1 || fail "--gittins-prior-window run failed: $(cat "$tmp/gw$k.out")"
done
cmp -s "$tmp/gw1.out" "$tmp/gw2.out" || fail "--gittins-prior-window: two runs differ"
expect 2 "--charge applies to --policy multifactor only" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --charge gpu=2
expect 2 "--charge: 'gpu' is not MODEL=RATE" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy multifactor --charge gpu
expect 2 "--charge: 'gpu=0' is not MODEL=RATE" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy multifactor --charge gpu=0
expect 2 "--charge: '=2' is not MODEL=RATE" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy multifactor --charge =2
expect 2 "--charge: model 'gpu' given twice" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy multifactor --charge gpu=2,gpu=3
expect 2 "--charge: empty item after ','" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy multifactor --charge gpu=2,
expect 1 "no device model 'H100' in the cluster" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy multifactor --charge H100=2
printf 'account,quota_devices,borrow_limit,lend_limit,shares\nx,4,-1,-1,3\ny,4,,,1\n' > "$tmp/q.csv"
printf 'account,quota_devices,shares\nvc0,4,3\nvc1,4,1\nvc2,4,1\nvc3,4,1\n' > "$tmp/gq.csv"
"$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy multifactor --quota-file "$tmp/q.csv" --fs-half-life 3600 > "$tmp/q.out" 2>&1 || fail "quota run failed: $(cat "$tmp/q.out")"
grep -q "Multifactor .*x 100.00% y 100.00%" "$tmp/q.out" || fail "no guarantee line: $(cat "$tmp/q.out")"
# Multifactor with fair share is deterministic: two runs, byte-identical JSON.
"$AIDC" sim --generate 300 --nodes 2 --out "$tmp/g.trace"
awk -F, 'BEGIN{OFS=","} NR<=2{print;next} {$10="vc" (NR%4); print}' "$tmp/g.trace" > "$tmp/gv.trace"
for k in 1 2; do
  "$AIDC" sim --trace "$tmp/gv.trace" --nodes 2 --policy multifactor --backfill --quota-file "$tmp/gq.csv" --priority-calc-period 0 --json > "$tmp/mf$k.json" 2>/dev/null || fail "multifactor run $k failed"
done
grep -q '"preemptions"' "$tmp/mf1.json" || fail "multifactor run has no summary"
cmp -s "$tmp/mf1.json" "$tmp/mf2.json" || fail "multifactor runs differ"
# CPU and memory quota columns: quotas no job reaches change nothing; a bad
# value is refused naming file, line and column.
printf 'account,quota_devices,shares,quota_cpus,lend_limit_cpus,quota_mem_gib\nvc0,4,3,100000,-1,100000\nvc1,4,1,100000,5,\nvc2,4,1,,,100000\nvc3,4,1,-1,-1,-1\n' > "$tmp/gqr.csv"
"$AIDC" sim --trace "$tmp/gv.trace" --nodes 2 --policy multifactor --backfill --quota-file "$tmp/gqr.csv" --priority-calc-period 0 --json > "$tmp/mf3.json" 2>/dev/null || fail "multifactor run with CPU quotas failed"
cmp -s "$tmp/mf1.json" "$tmp/mf3.json" || fail "CPU and memory quotas no job reaches changed the run"
# Organizations (a parent column): an organization's quota caps its projects'
# jobs together (vc0 + vc1 under o, cap 3 devices: at most 3 at any time,
# 32 without the parent column); bad parents are refused naming the line.
printf 'account,quota_devices,parent\no,3,\nvc0,4,o\nvc1,4,o\nvc2,4,\nvc3,4,\n' > "$tmp/oq.csv"
sed 's/,o$/,/' "$tmp/oq.csv" > "$tmp/nq.csv"
peak_o() {
  /usr/bin/python3 -c 'import csv,sys
ev = []
for r in csv.DictReader(open(sys.argv[1])):
    if r["vc"] in ("vc0", "vc1") and r["start"]:
        d = int(r["tasks"]) * float(r["devices"])
        ev += [(int(r["start"]), 1, d), (int(r["end"]), 0, -d)]
cur = peak = 0
for _, _, d in sorted(ev):
    cur += d
    peak = max(peak, cur)
print(int(peak))' "$1"
}
for f in oq nq; do
  "$AIDC" sim --trace "$tmp/gv.trace" --nodes 2 --policy fifo --backfill --quota-file "$tmp/$f.csv" --jobs-csv "$tmp/$f.jobs.csv" > /dev/null 2>&1 || fail "run with $f.csv failed"
done
po=$(peak_o "$tmp/oq.jobs.csv"); pn=$(peak_o "$tmp/nq.jobs.csv")
[ "$po" -le 3 ] || fail "organization cap 3: its projects held $po devices at once"
[ "$pn" -gt 3 ] || fail "without the parent column the projects held only $pn devices (the cap check cannot fail)"
printf 'account,quota_devices,parent\nvc0,4,zz\n' > "$tmp/op1.csv"
expect 1 "op1.csv:2: parent 'zz' is not an account of the file" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/op1.csv"
printf 'account,quota_devices,borrow_limit,parent\no,3,2,\nvc0,4,,o\n' > "$tmp/op2.csv"
expect 1 "op2.csv:2: organization 'o' has a borrow or lend limit" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/op2.csv"
printf 'account,quota_devices,parent\nt,9,\no,3,t\nvc0,4,o\n' > "$tmp/op3.csv"
expect 1 "op3.csv:3: 'o' is an organization (a parent) and has a parent itself" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/op3.csv"
printf 'account,quota_devices,parent\nvc0,4,vc0\n' > "$tmp/op4.csv"
expect 1 "op4.csv:2: parent 'vc0' must name another account" "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/op4.csv"
printf 'account,quota_devices,quota_cpus\nx,1,-2\n' > "$tmp/badc.csv"
expect 1 "badc.csv:2: quota_cpus '-2' is not an integer in -1.." "$AIDC" sim --trace "$tmp/vcs.csv" --nodes 1 --policy fifo --quota-file "$tmp/badc.csv"
# Quotas per device model (quota_gpu:MODEL columns) on a mixed cluster (4 x
# V100 and 4 x T4 per node, 2 nodes each): vc0 may hold 2 V100 (borrows none),
# so its V100 jobs never hold more than 2 at once (5 without the entry);
# model names any case; unknown models and orphan limit columns refused.
printf 'aidc-cluster 1\n[nodes]\nname = v\ncount = 2\ndevices = 4\nmodel = V100\n[nodes]\nname = t\ncount = 2\ndevices = 4\nmodel = T4\n' > "$tmp/two.cluster"
"$AIDC" sim --generate 400 --nodes 4 --gpus-per-node 4 --load 1.5 --seed 1 --out "$tmp/m.trace"
awk -F, 'BEGIN{OFS=","} NR<=2{print;next} {$4=1; if ($7>4) $7=4; $10="vc" (NR%2); if (NR%3==0) {$9="V100"; if ($7>2) $7=2}; print}' "$tmp/m.trace" > "$tmp/mm.trace"
printf 'account,quota_devices,quota_gpu:V100,borrow_limit_gpu:V100,quota_gpu:t4\nvc0,-1,2,0,8\nvc1,-1,6,,8\n' > "$tmp/mq.csv"
sed 's/,2,0,8$/,,,8/' "$tmp/mq.csv" > "$tmp/mn.csv"
peak_v100() {
  /usr/bin/python3 -c 'import csv,sys
model = {r[0]: r[8] for r in csv.reader(open(sys.argv[2])) if len(r) > 9 and r[0].isdigit()}
ev = []
for r in csv.DictReader(open(sys.argv[1])):
    if r["vc"] == "vc0" and r["start"] and model.get(r["id"]) == "V100":
        d = int(r["tasks"]) * float(r["devices"])
        ev += [(int(r["start"]), 1, d), (int(r["end"]), 0, -d)]
cur = peak = 0
for _, _, d in sorted(ev):
    cur += d
    peak = max(peak, cur)
print(int(peak))' "$1" "$tmp/mm.trace"
}
for f in mq mn; do
  "$AIDC" sim --trace "$tmp/mm.trace" --cluster "$tmp/two.cluster" --policy fifo --backfill --quota-file "$tmp/$f.csv" --jobs-csv "$tmp/$f.jobs.csv" > /dev/null 2>&1 || fail "run with $f.csv failed"
done
pm=$(peak_v100 "$tmp/mq.jobs.csv"); pn=$(peak_v100 "$tmp/mn.jobs.csv")
[ "$pm" -le 2 ] || fail "vc0's V100 quota 2: its V100 jobs held $pm at once"
[ "$pn" -gt 2 ] || fail "without the V100 entry vc0 held only $pn V100 (the check cannot fail)"
printf 'account,quota_devices,quota_gpu:H100\nvc0,-1,2\n' > "$tmp/mq1.csv"
expect 1 "quota_gpu:H100: the cluster has no such model (its models: V100, T4)" "$AIDC" sim --trace "$tmp/mm.trace" --cluster "$tmp/two.cluster" --policy fifo --quota-file "$tmp/mq1.csv"
printf 'account,quota_devices,lend_limit_gpu:T4\nvc0,-1,2\n' > "$tmp/mq2.csv"
expect 1 "column 'lend_limit_gpu:T4' without 'quota_gpu:T4'" "$AIDC" sim --trace "$tmp/mm.trace" --cluster "$tmp/two.cluster" --policy fifo --quota-file "$tmp/mq2.csv"
printf 'account,quota_devices,quota_gpu:T4\nvc0,-1,-3\n' > "$tmp/mq3.csv"
expect 1 "mq3.csv:2: quota_gpu:T4 '-3' is not an integer in 0.." "$AIDC" sim --trace "$tmp/mm.trace" --cluster "$tmp/two.cluster" --policy fifo --quota-file "$tmp/mq3.csv"
# --out / --jobs-csv into a missing directory: fail at once, nothing written;
# an existing file is left untouched when the run fails.
expect 1 "nodir/g.trace: cannot write" "$AIDC" sim --generate 10 --out "$tmp/nodir/g.trace"
expect 1 "nodir/j.csv: cannot write" "$AIDC" sim --trace $S/single.trace --nodes 1 --policy fifo --jobs-csv "$tmp/nodir/j.csv"
echo keep > "$tmp/keep.csv"
expect 1 "no job replayed" "$AIDC" sim --trace "$tmp/vcs.csv" --vc-file "$tmp/ab.vc" --policy fifo --jobs-csv "$tmp/keep.csv"
[ "$(cat "$tmp/keep.csv")" = keep ] || fail "a failed run overwrote --jobs-csv"
"$AIDC" sim --trace $S/single.trace --nodes 1 --policy fifo --jobs-csv "$tmp/keep.csv" > /dev/null
head -1 "$tmp/keep.csv" | grep -q '^id,' || fail "--jobs-csv not written on success"
ls "$tmp" | grep -q '\.tmp-' && fail "a temporary output file was left behind: $(ls "$tmp")"
# The demo says what it simulated and where to go next.
grep -q "built-in demo" "$tmp/demo.txt" || fail "demo has no header"
grep -q "16 nodes x 8 GPUs = 128 devices" "$tmp/demo.txt" || fail "demo header lacks the cluster"
grep -q "4000 synthetic jobs" "$tmp/demo.txt" || fail "demo header lacks the workload"
tail -2 "$tmp/demo.txt" | grep -q "aidc sim --help" || fail "demo lacks the closing hint"
"$AIDC" sim --json | /usr/bin/python3 -m json.tool > /dev/null || fail "demo --json is not JSON"
echo "cli: ok"
