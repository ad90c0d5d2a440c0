#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `aidc catalog run` for real (issue 16 item 3): the image-classification recipe
# (resnet-train, tiny sizes) submitted from the catalogue to a local center as a
# 2-node DDP gang (gloo on CPU), runs to completion, and its model file appears;
# then `aidc catalog show` finds the run in the job history (catalog-resnet-train)
# and lists a model's rate relative to the exam's reference.
# SKIPs when /usr/bin/python3 cannot import torch and torchvision.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
"$PY" -c 'import torchvision, torch.distributed as d; assert d.is_available()' 2>/dev/null ||
	skip "$PY cannot import torch and torchvision (install python3-torch python3-torchvision: scripts/deps.sh)"
SRC=${AIDC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export AIDC_CATALOG=$SRC/catalog PYTHONDONTWRITEBYTECODE=1

# Two centers on one host would meet on the same MASTER_PORT (see ddp.sh).
exec 9>/tmp/aidc-live-ddp.lock
flock -w 45 9 || skip "another DDP test held /tmp/aidc-live-ddp.lock for 45 s"
center_up 2 9>&-
out=$(cd "$DIR" && GLOO_SOCKET_IFNAME=lo "$AIDC" catalog run resnet-train -N 2 -n 2 -c 2 --mem 2G -t 150s \
	--set steps=3 --set image_size=32 --set batch_size=4 --set workers=0 --set threads=1 \
	--set device=cpu --set log_every=1 --set out=model.pt 2>&1)
id=$(echo "$out" | awk '/^submitted job /{print $3}')
[ -n "$id" ] || { fail "catalog run: $out"; exit 1; }
case "$out" in *"(catalog-resnet-train)"*) ok "submitted as catalog-resnet-train" ;; *) fail "job name: $out" ;; esac
check_eq "catalog job completes" "$(wait_state "$id" "$END" 150)" completed
log0=$("$AIDC" logs "$id" --task 0 2>&1)
case "$log0" in *"2 rank(s)"*"saved resnet18 to model.pt"*) ok "rank 0 trained on 2 ranks and saved" ;;
*) fail "rank 0 output: $log0 / $("$AIDC" logs "$id" --task 0 --stderr 2>&1 | tail -20)" ;; esac
if [ -s "$DIR/model.pt" ]; then ok "model file $DIR/model.pt ($(stat -c %s "$DIR/model.pt") bytes)"; else
	fail "no model file $DIR/model.pt"; fi
"$PY" -c 'import sys, torch; ck = torch.load(sys.argv[1]); assert ck["format"] == "aidc-catalog-image-classifier" and ck["arch"] == "resnet18", ck.keys()' \
	"$DIR/model.pt" 2>&1 && ok "the model file loads" || fail "the model file does not load"
n0=$(job_field "$id" nodes)
# A rate for a model the recipe is not validated on: listed, relative to the
# exam's reference (no validated model has a rate).
"$AIDC" rates set T4 2.5 --reason "catalog test" >/dev/null 2>&1 || fail "rates set T4 (admin)"
show=$("$AIDC" catalog show resnet-train --json 2>&1)
rows=$(echo "$show" | "$PY" -c 'import json,sys
d = json.load(sys.stdin)["speed"]
m = {r["model"]: r for r in d["models"]}
print(d["reference"], m["cpu"]["validated"], m["cpu"]["rate"], m["T4"]["validated"], m["T4"]["rate"], m["T4"]["relative"])' 2>&1)
check_eq "show: rates and validation per model" "$rows" "None True None False 2.5 2.5"
"$AIDC" catalog show resnet-train 2>&1 | grep -q "^  T4 .* 2.50x" && ok "show: T4 2.50x in the table" ||
	fail "show table: $("$AIDC" catalog show resnet-train 2>&1 | tail -5)"
runs=$(echo "$show" | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(sum(m["runs"] for m in d["speed"]["models"]))' 2>&1)
check_eq "show counts the completed run (nodes: $n0)" "$runs" 1
echo "$show" | grep -q '"median_elapsed_s":[0-9]' && ok "show: a median elapsed time" || fail "show: no median: $show"
finish
