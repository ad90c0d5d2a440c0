#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `aidc sbatch` without a controller (--test-only submits nothing): the never-
# silent rule (issue 13 item 1). Unknown and refused options, bad directives,
# bad patterns and SBATCH_* variables exit 2 naming the problem; no-effect
# options warn once; script arguments become script_args, not a command;
# per-node meanings of --gres/--mem; --chdir, --export, --nice, --wrap,
# stdin; docs/slurm.md lists every option of `aidc sbatch --help` with its status.
set -u
src=${AIDC_SOURCE_DIR:?}
aidc=${AIDC_BIN:?}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
unset $(env | sed -n 's/^\(SBATCH_[A-Za-z0-9_]*\)=.*/\1/p') 2>/dev/null

script() { printf '#!/bin/sh\n%s\necho "$1"\n' "$1" > job.sh; }

# ok DESC ARGS...: exits 0 with --test-only; the JSON is in $out, stderr in $err
ok() {
  local d=$1; shift
  out=$("$aidc" sbatch --test-only "$@" 2>err.txt); rc=$?; err=$(cat err.txt)
  [ $rc = 0 ] || bad "$d: exit $rc ($err)"
}
# refused DESC TEXT ARGS...: exits 2 and stderr contains TEXT
refused() {
  local d=$1 want=$2; shift 2
  "$aidc" sbatch --test-only "$@" >out.txt 2>err.txt; rc=$?; err=$(cat err.txt)
  [ $rc = 2 ] || bad "$d: exit $rc, want 2 ($err)"
  grep -qF -- "$want" err.txt || bad "$d: stderr '$err' lacks '$want'"
  [ ! -s out.txt ] || bad "$d: printed a job: $(cat out.txt)"
}
has() { case $out in *"$2"*) ;; *) bad "$1: '$2' not in $out" ;; esac; }

script '#SBATCH -J t'
ok "script arguments" job.sh 5 'a b'
has "script arguments" '"script_args":["5","a b"]'
has "script arguments" '"name":"t"'
has "default output" '"stdout_path":"slurm-%j.out"'
case $out in *'"command"'*) bad "script args sent as a command" ;; esac

script '#SBATCH --ntasks-per-node=24 --gres=gpu:A100:4 --mem=64G -t 1-0'
ok "per-node gres/mem" job.sh
for k in '"cpus_per_task":24' '"gpus_per_task":4' '"mem_mib":65536' '"time_limit_s":86400' \
  '"gpu_model":"A100"' '"nodes":1' '"ntasks":1'; do has "per-node gres/mem" "$k"; done
ok "command line wins" --gres=gpu:2 -t 30 job.sh
has "command line wins" '"gpus_per_task":2'
has "command line wins" '"time_limit_s":1800'

script '#SBATCH -H'
ok "hold directive" job.sh
has "hold directive" '"hold":true'
script '#SBATCH -J t'
ok "hold option" --hold job.sh
has "hold option" '"hold":true'

script '#SBATCH --mail-type=END --mail-user=a@b.c'
ok "mail warns" job.sh
[ "$(grep -c 'warning: --mail' <<< "$err")" = 2 ] || bad "mail: want 2 warnings, got: $err"
ok "quiet" -Q job.sh
[ -z "$err" ] || grep -q -- '--test-only' <<< "$err" && ! grep -q warning <<< "$err" ||
  bad "--quiet still warns: $err"

script '#SBATCH -o out/%x-%j.%N.log -e err-%j-%n.txt -J job'
ok "patterns" job.sh
has "patterns" '"stdout_path":"out/job-%j.%N.log"'
has "patterns" '"stderr_path":"err-%j-0.txt"'

mkdir -p sub
script '#SBATCH -D sub'
ok "chdir" job.sh
has "chdir" "\"cwd\":\"$tmp/sub\""
ok "nice" --nice=7 job.sh
has "nice" '"priority":-7'
ok "requeue" --no-requeue job.sh
has "requeue" '"on_node_failure":"fail"'
ok "parsable" --parsable job.sh
ok "wrap" --wrap 'hostname -s'
has "wrap" '"script":"#!/bin/sh\nhostname -s\n"'
has "wrap" '"name":"wrap"'
out=$(printf '#!/bin/sh\n#SBATCH -t 5\ntrue\n' | "$aidc" sbatch --test-only 2>/dev/null) ||
  bad "stdin script refused"
has "stdin" '"name":"sbatch"'
has "stdin" '"time_limit_s":300'

# refusals: each names the option and why, prints no job
script '#SBATCH --bogus-flag'
refused "unknown directive" "script line 2: --bogus-flag: unknown option" job.sh
script '#SBATCH -t 5'
refused "unknown command-line option" "--bogus-flag: unknown option" --bogus-flag job.sh
ok "array" --array=0-9 job.sh
has "array" '"array":"0-9"'
has "array" '"stdout_path":"slurm-%A_%a.out"'
ok "array short, list, throttle, %A_%a" -a 1,3,5-9:2%4 -o 'x_%A_%a.out' job.sh
has "array short, list, throttle, %A_%a" '"array":"1,3,5-9:2%4"'
has "array short, list, throttle, %A_%a" '"stdout_path":"x_%A_%a.out"'
refused "array backwards" "--array=9-1: '9-1': the range ends before it starts" --array=9-1 job.sh
refused "array too large" "-a=0-100000: more than 100000 elements" -a 0-100000 job.sh
refused "array bad throttle" "%LIMIT must be 1..100000" --array=0-9%0 job.sh
refused "dependency aftercorr" "aftercorr needs :JOBID" --dependency=aftercorr job.sh
refused "dependency mixed" "cannot be mixed" -d "afterok:1,afterany:2?after:3" job.sh
refused "kill-on-invalid-dep value" "not yes or no" --kill-on-invalid-dep=maybe job.sh
refused "dependency bad id" "'x' is not a job id" -d afterok:x job.sh
script '#SBATCH -d afterok:3:4,afterany:5'
ok "dependency directive" job.sh
has "dependency directive" '"dependency":"afterok:3:4,afterany:5"'
ok "dependency any, singleton" -d "after:3+2?singleton" --kill-on-invalid-dep=yes job.sh
has "dependency any, singleton" '"dependency":"after:3+2?singleton"'
has "dependency any, singleton" '"kill_on_invalid_dep":true'
ok "exclusive" --exclusive job.sh
has "exclusive" '"exclusive":true'
refused "exclusive=user" "--exclusive=user: sharing nodes" --exclusive=user job.sh
refused "exclusive bad value" "--exclusive=bob: not a value" --exclusive=bob job.sh
refused "constraint without GPUs" "--constraint=a100: features select a device model" -C a100 job.sh
refused "constraint expression" "AND (&)" -C 'a100&ib' job.sh
ok "constraint" -C H100 --gres=gpu:2 job.sh
has "constraint" '"gpu_model":"H100"'
ok "nodelist, exclude" -w gpu07 -x 'n[1-3]' job.sh
has "nodelist, exclude" '"nodelist":"gpu07"'
has "nodelist, exclude" '"exclude":"n[1-3]"'
ok "nodelist of two" -w 'n[1-2]' job.sh
has "nodelist of two" '"nodes":2,"ntasks":2'
refused "-N above the nodelist" "Slurm would add other nodes" -N 3 -w 'n[1-2]' job.sh
refused "nodelist bad" "-w=n[2-1]" -w 'n[2-1]' job.sh
printf 'n1\n n1, \n' > hosts
printf 'n5,n6\nn7\n' > bad_nodes
script '#SBATCH -x ./bad_nodes'
ok "node files" -w ./hosts job.sh
has "node files" '"nodelist":"n1,n1"'
has "node files" '"exclude":"n5,n6,n7"'
ok "nodefile" -F hosts job.sh
has "nodefile" '"nodelist":"n1,n1"'
refused "missing node file" "cannot read the node file" -w ./nope job.sh
: > empty
refused "empty node file" "the node file is empty" -F empty job.sh
script '#SBATCH -J t'
ok "two nodes" -N 2 --gres=gpu:2 -c 3 job.sh
has "two nodes" '"nodes":2,"ntasks":2,"cpus_per_task":3,"gpus_per_task":2'
ok "tasks past a node" -n 8 --ntasks-per-node=4 job.sh
has "tasks past a node" '"nodes":2,"ntasks":2,"cpus_per_task":4'
ok "a node range gets its minimum" -N 2-4 job.sh
has "a node range gets its minimum" '"nodes":2'
refused "fewer tasks than nodes" "--ntasks=2 is fewer than the 3 nodes" -N 3 -n 2 job.sh
refused "GPUs uneven over nodes" "not a whole number per node" -N 2 --gpus=3 job.sh
refused "two GPU options" "give one of --gres=gpu" --gres=gpu:1 --gpus=1 job.sh
ok "mem=0" --mem=0 job.sh
has "mem=0" '"mem_whole":true'
has "mem=0" '"exclusive":true'
case $out in *'"mem_mib"'*) bad "mem=0 sent a mem_mib" ;; esac
refused "mem twice" "mutually exclusive" --mem=1G --mem-per-cpu=1G job.sh
refused "bad time" "bad time limit" -t soon job.sh
refused "array pattern without an array" "%A: only in a job array" -o 'x_%A_%a.out' job.sh
refused "step pattern" "%J: names an srun step" -o '%J.out' job.sh
refused "padded pattern" "zero-padded" -o '%5j.out' job.sh
refused "unknown pattern" "unknown pattern %q" -e '%q.err' job.sh
refused "open-mode append" "only truncate" --open-mode=append job.sh
refused "wrap and script" "--wrap and a script" --wrap true job.sh
refused "value on a flag" "takes no value" --parsable=1 job.sh
refused "missing value" "--time needs a value" --time
printf 'echo no shebang\n' > plain.sh
refused "no shebang" "must start with #!" plain.sh
printf '#!/bin/sh\r\n#SBATCH -t 5\r\n' > dos.sh
refused "DOS line breaks" "DOS line breaks" dos.sh
SBATCH_PARTITION=gpu refused "SBATCH_ variable" "SBATCH_PARTITION is set" job.sh
script '#SBATCH --gres=fpga:1'
refused "other gres" "only gpu" job.sh
# --gres=mps:N: N percent of one device, a share (gpu_milli N x 10)
script '#SBATCH --gres=mps:50'
ok "mps share" job.sh
has "mps share" '"gpus_per_task":1,"gpu_milli":500'
ok "command line gpu wins over mps" --gres=gpu:2 job.sh
has "command line gpu wins over mps" '"gpus_per_task":2'
case $out in *gpu_milli*) bad "gpu_milli kept after --gres=gpu:2: $out" ;; esac
ok "mps with a type" --gres=mps:A100:25 job.sh
has "mps with a type" '"gpu_milli":250,"gpu_model":"A100"'
refused "mps:0" "--gres=mps:0: N of mps:N is a percent of one device, 1..100" --gres=mps:0 job.sh
refused "mps:101" "--gres=mps:101" --gres=mps:101 job.sh
refused "mps:x" "1..100" --gres=mps:x job.sh
refused "mps without a count" "give a count" --gres=mps job.sh
refused "mps and gpu" "--gres=mps:50 with --gres=gpu" --gres=gpu:1,mps:50 job.sh
refused "mps and gpus-per-task" "with --gpus-per-task" --gpus-per-task=1 job.sh
refused "mps on two nodes" "on 2 nodes: a share is of one device" -N 2 job.sh
refused "mps and mem-per-gpu" "--mem-per-gpu: no whole GPU" --mem-per-gpu=1G job.sh
refused "mps and fpga" "'fpga:1': only gpu" --gres=mps:5,fpga:1 job.sh
out=$("$aidc" sbatch --version) || bad "--version"
"$aidc" sbatch --help >/dev/null || bad "--help"

# docs/slurm.md: its sbatch table is exactly the rows made here from
# `aidc sbatch --help` ("--opt V  -X: [refused: |accepted, no effect: ]why"):
# | `--opt` (`-X`) | applied/refused/warning | why |
help=$("$aidc" sbatch --help)
rows=$(sed -n 's/^  \(--[a-z-]*\)\(, -\([a-zA-Z]\)\)\{0,1\}\( V\)\{0,1\} *\(.*\)/\1|\3|\5/p' <<< "$help" |
  while IFS='|' read -r opt sh rest; do
    case $opt in --socket|--controller) continue ;; esac
    case $rest in -?": "*) sh=${rest:1:1}; rest=${rest#-?: } ;; esac
    st=applied
    case $rest in
      "refused: "*) st=refused; rest=${rest#refused: } ;;
      "accepted, no effect: "*) st=warning; rest=${rest#accepted, no effect: } ;;
    esac
    # shellcheck disable=SC2016 # markdown's backquotes, not a command
    printf '| `%s`%s | %s | %s |\n' "$opt" "${sh:+ (\`-$sh\`)}" "$st" "$rest"
  done)
n=$(grep -c . <<< "$rows")
[ "$n" -gt 100 ] || bad "only $n options in aidc sbatch --help"
# Only the sbatch table's rows (squeue, scancel and sinfo have tables of their own).
doc=$(sed -n '/^## Every sbatch option/,/^## [^E]/p' "$src/docs/slurm.md" | grep '^| `--')
[ "$doc" = "$rows" ] || bad "docs/slurm.md's sbatch table differs from aidc sbatch --help; its rows should be:
$rows
(diff, < docs, > help:)
$(diff <(echo "$doc") <(echo "$rows"))"
echo "checked $n sbatch options"
[ $fail = 0 ] && echo "sbatch_test: ok"
exit $fail
