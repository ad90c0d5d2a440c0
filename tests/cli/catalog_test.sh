#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `aidc catalog` without a controller (issue 16 item 3, docs/catalog.md): every
# recipe of catalog/ validates (format version 1, defaults within bounds and
# choices, entry script present); broken recipes are refused naming the
# problem; --set errors (unknown key, bad int, out of range, bad choice, bad
# bool, twice) exit 2 naming the key and print no request; run --dry-run
# --json resolves every parameter into the job or service request; show
# prints the recipe and says why the speed is missing when no controller answers.
set -u
src=${AIDC_SOURCE_DIR:?}
aidc=${AIDC_BIN:?}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export AIDC_CATALOG=$src/catalog AIDC_SOCKET=$tmp/no-controller.sock
unset AIDC_CONTROLLER

# refused DESC CODE TEXT ARGS...: exits CODE, stderr contains TEXT, stdout empty
refused() {
  local d=$1 code=$2 want=$3; shift 3
  "$aidc" catalog "$@" >out.txt 2>err.txt; rc=$?
  [ $rc = "$code" ] || bad "$d: exit $rc, want $code ($(cat err.txt))"
  grep -qF -- "$want" err.txt || bad "$d: stderr '$(cat err.txt)' lacks '$want'"
  [ ! -s out.txt ] || bad "$d: printed something: $(head -c 300 out.txt)"
}

# Every recipe validates, and list names each one.
"$aidc" catalog check >check.txt 2>&1 || bad "catalog check: $(cat check.txt)"
n=$(ls "$src"/catalog/*.json | wc -l)
[ "$(grep -c '^ok ' check.txt)" = "$n" ] || bad "check passed $(grep -c '^ok ' check.txt) of $n: $(cat check.txt)"
"$aidc" catalog list --json >list.json || bad "catalog list --json"
/usr/bin/python3 - "$src" list.json <<'PY' || bad "list --json"
import json, os, sys
src, doc = sys.argv[1], json.load(open(sys.argv[2]))
names = sorted(f[:-5] for f in os.listdir(os.path.join(src, "catalog")) if f.endswith(".json"))
got = [r["name"] for r in doc["recipes"]]
assert got == names, (got, names)
for r in doc["recipes"]:
    assert os.path.isfile(os.path.join(src, "catalog", r["entry"])), r["entry"]
PY
# Found beside the binary (the build tree links catalog/) without AIDC_CATALOG.
(unset AIDC_CATALOG; "$aidc" catalog list >/dev/null 2>err.txt) || bad "list without AIDC_CATALOG: $(cat err.txt)"
# Installed: share/aidc/catalog beside bin/aidc (cmake --install of this build).
if [ -n "${AIDC_BINARY_DIR:-}" ] && command -v cmake >/dev/null; then
  if cmake --install "$AIDC_BINARY_DIR" --prefix "$tmp/inst" >install.txt 2>&1; then
    (unset AIDC_CATALOG; "$tmp/inst/bin/aidc" catalog check >icheck.txt 2>&1) ||
      bad "installed catalog check: $(cat icheck.txt)"
    grep -qF "$tmp/inst/share/aidc/catalog: all recipes valid" icheck.txt ||
      bad "installed aidc did not use share/aidc/catalog: $(tail -1 icheck.txt)"
  else
    bad "cmake --install: $(tail -5 install.txt)"
  fi
else
  echo "note: no AIDC_BINARY_DIR or cmake: the installed layout is not checked"
fi
AIDC_CATALOG=$tmp/none refused "missing AIDC_CATALOG dir" 1 "AIDC_CATALOG=$tmp/none: not a directory" list

# Broken recipes: each refused with the reason, and the other recipes still listed.
mkdir -p broken/recipes
cp "$src"/catalog/recipes/*.py broken/recipes/
good=$src/catalog/resnet-train.json
gname=$(basename "$good" .json)
mutate() { # NAME PYTHON-EXPR-ON-r
  /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['name']=sys.argv[2]; $2
json.dump(r, open('broken/'+sys.argv[2]+'.json','w'))" "$good" "$1" || bad "mutate $1"
}
mutate unknown-field "r['colour']='red'"
mutate v2 "r['v']=2"
mutate bad-default "p=[p for p in r['parameters'] if 'min' in p][0]; p['default']=p['min']-1"
mutate bad-choice "p=[p for p in r['parameters'] if 'choices' in p][0]; p['default']='nope'"
mutate no-entry "r['entry']='recipes/missing.py'"
mutate escape "r['entry']='recipes/../../etc/passwd.py'"
mutate param-field "r['parameters'][0]['colour']=1"
mutate dup-param "r['parameters'].append(dict(r['parameters'][0]))"
mutate train-service "r['service']={'port_env':'PORT','probe':{'path':'/healthz'}}"
mutate bad-type "r['parameters'][0]['type']='complex'"
cp "$good" broken/
printf '{"v":1,' > broken/truncated.json
AIDC_CATALOG=$tmp/broken "$aidc" catalog check >bcheck.txt 2>&1 && bad "check passed broken recipes"
for want in "unknown-field.json: unknown field 'colour'" "v2.json: not a recipe of format version 1" \
  "bad-default.json: parameter" "below the minimum" "bad-choice.json: parameter" "not one of" \
  "no-entry.json: entry:" "escape.json: entry: a script recipes/NAME.py" \
  "param-field.json: parameters[0]: unknown field 'colour'" "declared twice" \
  "train-service.json: service: only for kind \"service\"" "bad-type.json: parameter" \
  "truncated.json: line" "ok   $gname.json"; do
  grep -qF -- "$want" bcheck.txt || bad "broken check lacks '$want': $(cat bcheck.txt)"
done
AIDC_CATALOG=$tmp/broken "$aidc" catalog list >blist.txt 2>berr.txt && bad "list of broken recipes exits 0"
grep -q "^$gname " blist.txt || bad "list dropped the good recipe: $(cat blist.txt)"
grep -qF "unknown-field.json: unknown field 'colour'" berr.txt || bad "list: $(cat berr.txt)"

# --set validation on the image-classification recipe: exit 2, the key named, nothing sent.
r=resnet-train
refused "unknown key" 2 "--set stepz=3: recipe $r has no parameter 'stepz' (parameters: arch," run $r --set stepz=3 --dry-run
refused "bad int" 2 "--set steps=abc: 'abc' is not an integer (parameter steps, int)" run $r --set steps=abc --dry-run
refused "out of range" 2 "--set steps=0: 0 is below the minimum 1" run $r --set steps=0 --dry-run
refused "above max" 2 "--set lr=11: 11 is above the maximum 10" run $r --set lr=11 --dry-run
refused "bad float" 2 "--set lr=fast: 'fast' is not a number" run $r --set lr=fast --dry-run
refused "bad choice" 2 "--set arch=vgg16: not one of: resnet18, resnet34" run $r --set arch=vgg16 --dry-run
refused "bad bool" 2 "--set amp=maybe: 'maybe' is not a bool (true or false) (parameter amp, bool)" run $r --set amp=maybe --dry-run
refused "no =" 2 "--set steps: give KEY=VALUE" run $r --set steps --dry-run
refused "twice" 2 "'steps' is set twice" run $r --set steps=2 --set steps=3 --dry-run
refused "replicas on training" 2 "--replicas is for service recipes" run $r --replicas 2 --dry-run
refused "bad mem" 2 "--mem lots" run $r --mem lots --dry-run
refused "bad time" 2 "--time soon: not a time limit" run $r -t soon --dry-run
refused "no recipe" 1 "no recipe 'nope'" run nope --dry-run
refused "path as name" 1 "'../etc' is not a recipe name" run ../etc --dry-run
refused "no name" 2 "give the recipe's name" run --dry-run
refused "not sent without controller" 1 "aidc catalog run:" run $r --set steps=1

# Dry runs: every recipe resolves into its request; --set values and flags applied.
for f in "$src"/catalog/*.json; do
  name=$(basename "$f" .json)
  "$aidc" catalog run "$name" --dry-run --json >dry.json 2>err.txt || { bad "dry-run $name: $(cat err.txt)"; continue; }
  /usr/bin/python3 - "$f" dry.json "$tmp" <<'PY' || bad "dry-run $name: $(head -c 600 dry.json)"
import json, os, sys
r, b, cwd = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
cmd = b["command"]
assert cmd[0] == "/usr/bin/python3" and os.path.isfile(cmd[1]), cmd[:2]
assert cmd[1].endswith("/" + r["entry"]), cmd[1]
def text(v):
    return ("true" if v else "false") if isinstance(v, bool) else str(v)
args = dict(zip(cmd[2::2], cmd[3::2]))
assert len(cmd) == 2 + 2 * len(r["parameters"]), cmd
for p in r["parameters"]:
    got = args["--" + p["name"]]
    if p["type"] == "float":
        assert float(got) == float(p["default"]), (p, got)
    else:
        assert got == text(p["default"]), (p, got)
assert b["cwd"] == os.path.realpath(cwd), b["cwd"]
res = r["resources"]
assert b["cpus_per_task"] == res["cpus_per_task"] and b["mem_mib"] == res["mem_mib"], b
assert any(e.startswith("PATH=") for e in b["env"]), "environment not passed"
assert not any(e.startswith("AIDC_TOKEN=") for e in b["env"]), "token leaked"
if r["kind"] == "service":
    assert b["v"] == 1 and b["name"] == r["name"], b
    assert b["replicas"] == r["service"].get("replicas", 1), b
    assert b["probe"]["path"] == r["service"]["probe"]["path"], b
    assert set(b["probe"]) == {"path", "period_s", "timeout_s", "failure_threshold"}, b
    assert b["gpus_per_task"] == res.get("gpus_per_task", 0), b
else:
    assert b["name"] == "catalog-" + r["name"], b
    assert b["ntasks"] == res.get("ntasks", 1) and "request_id" not in b, b
PY
done
AIDC_TOKEN=secret "$aidc" catalog run $r --dry-run --json -N2 -n 4 -c1 --mem 1G --gpus-per-task 1 \
  --gpu-model T4 -p gpu -A proj -q high -t 30 --name mine --set steps=7 --set lr=0.5 --set data=/d --set amp=yes \
  --no-env >dry.json 2>err.txt || bad "dry-run with flags: $(cat err.txt)"
/usr/bin/python3 - dry.json <<'PY' || bad "dry-run with flags: $(cat dry.json)"
import json, sys
b = json.load(open(sys.argv[1]))
want = {"nodes": 2, "ntasks": 4, "cpus_per_task": 1, "mem_mib": 1024, "gpus_per_task": 1,
        "gpu_model": "T4", "partition": "gpu", "account": "proj", "qos": "high",
        "time_limit_s": 1800, "name": "mine"}
for k, v in want.items():
    assert b.get(k) == v, (k, b.get(k))
assert "env" not in b, "--no-env sent the environment"
a = dict(zip(b["command"][2::2], b["command"][3::2]))
assert a["--steps"] == "7" and a["--lr"] == "0.5" and a["--data"] == "/d", a
assert a["--amp"] == "true", a
PY
PORT=8080 "$aidc" catalog run transformer-lm-serve --dry-run --json --gpu-model T4 >dry.json 2>err.txt ||
  bad "service dry-run: $(cat err.txt)"
grep -q '"PORT=' dry.json && bad "the caller's PORT went into the service's env"
grep -qF "your PORT is not passed to the service" err.txt || bad "PORT dropped silently: $(cat err.txt)"
grep -qF "note: transformer-lm-serve is not validated on T4 (validated on: cpu)" err.txt ||
  bad "no note on an unvalidated model: $(cat err.txt)"
refused "nodes on a service" 2 "-N/--nodes, -n/--ntasks and -t/--time are for training recipes" \
  run transformer-lm-serve -N 2 --dry-run
"$aidc" catalog run transformer-lm-serve --dry-run --json --replicas 3 --name lm -c 1 --mem 512M \
  --gpus-per-task 1 -A proj --no-env >dry.json 2>err.txt || bad "service flags: $(cat err.txt)"
/usr/bin/python3 - dry.json <<'PY' || bad "service flags: $(cat dry.json)"
import json, sys
b = json.load(open(sys.argv[1]))
want = {"v": 1, "name": "lm", "replicas": 3, "cpus_per_task": 1, "mem_mib": 512,
        "gpus_per_task": 1, "account": "proj", "env": []}
for k, v in want.items():
    assert b.get(k) == v, (k, b.get(k))
assert set(b) == {"v", "name", "replicas", "command", "env", "cwd", "cpus_per_task", "mem_mib",
                  "gpus_per_task", "account", "probe"}, sorted(b)
PY
"$aidc" catalog run $r --dry-run --set steps=3 >dry.txt 2>err.txt || bad "dry-run text: $(cat err.txt)"
head -1 dry.txt | grep -qx "POST /v1/jobs" || bad "dry-run text: $(head -3 dry.txt)"

# show: the recipe even without a controller, and why the speed is missing.
"$aidc" catalog show $r >show.txt 2>err.txt || bad "show without a controller exits $?"
for want in "name:          $r" "kind:          training" "steps            int" \
  "expected speed: not available: the controller at $AIDC_SOCKET did not answer"; do
  grep -qF -- "$want" show.txt || bad "show lacks '$want': $(cat show.txt)"
done
[ -s err.txt ] || bad "show: no reason on stderr"
"$aidc" catalog show $r --json >show.json 2>/dev/null || bad "show --json"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["recipe"]["name"]==sys.argv[2] and "speed_error" in d and "speed" not in d, d' show.json $r ||
  bad "show --json: $(head -c 400 show.json)"
refused "show unknown" 1 "no recipe 'nope'" show nope

for sub in list show run check; do
  "$aidc" catalog $sub --help >/dev/null || bad "catalog $sub --help"
done
"$aidc" catalog bogus >/dev/null 2>&1; [ $? = 2 ] || bad "unknown catalog subcommand must exit 2"
grep -q 'aidc catalog run' "$src/docs/catalog.md" || bad "docs/catalog.md does not describe run"

if [ $fail -ne 0 ]; then exit 1; fi
echo "catalog: $n recipes valid; refusals, dry runs and show checked"
