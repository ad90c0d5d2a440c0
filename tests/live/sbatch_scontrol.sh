#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Slurm's scontrol inside batch jobs (issue 13 items 5 and 7): a batch job
# finds scontrol first on its PATH, even with its own PATH exported, and
# `scontrol show hostnames $SLURM_JOB_NODELIST` prints its node;
# `scontrol show job`, `hold` and `release` act as aidc's commands; words it
# does not implement are refused naming them; a plain `aidc submit` job gets
# no Slurm PATH entry.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
center_up 1 --devices 2
SC="$(dirname "$AIDC")/slurm-bin/scontrol"
[ -x "$SC" ] || fail "no slurm-bin/scontrol link beside $AIDC"

sb() { (cd "$DIR" && "$AIDC" sbatch "$@"); }
cat > "$DIR/names.sh" <<'SH'
#!/bin/sh
command -v scontrol > where.$SLURM_JOB_ID
scontrol show hostnames "$SLURM_JOB_NODELIST" > names.$SLURM_JOB_ID
scontrol show hostnames 'n[1-2],x' >> names.$SLURM_JOB_ID
SH
for exp in ALL NONE; do
	j=$(sb --parsable --export=$exp names.sh)
	check_eq "sbatch --export=$exp job $j completes" "$(wait_state "$j" "$END" 60)" completed
	node=$(job_field "$j" nodes | tr -d "[]' ")
	check_eq "--export=$exp: scontrol is the slurm-bin link" \
		"$(cat "$DIR/where.$j" 2>/dev/null)" "$(cd "$(dirname "$SC")" && pwd)/scontrol"
	check_eq "--export=$exp: scontrol show hostnames \$SLURM_JOB_NODELIST, then a list" \
		"$(tr '\n' ' ' < "$DIR/names.$j" 2>/dev/null)" "$node n1 n2 x "
done

# A plain aidc submit job: no Slurm PATH entry.
p=$(submit -J plain -- sh -c 'echo "$PATH"')
check_eq "aidc submit job $p completes" "$(wait_state "$p" "$END" 60)" completed
"$AIDC" logs "$p" | grep -q slurm-bin && fail "a plain job's PATH has slurm-bin" ||
	ok "a plain job's PATH has no slurm-bin"

# Under its Slurm name, outside jobs too.
h=$(submit -H -J held -- true)
out=$("$SC" show job "$h" 2>&1) && [[ "$out" == *held* ]] && ok "scontrol show job $h" ||
	fail "scontrol show job $h: $out"
out=$("$SC" release "$h" 2>&1) && ok "scontrol release $h: $out" || fail "scontrol release: $out"
check_eq "released job $h completes" "$(wait_state "$h" "$END" 60)" completed
out=$("$SC" update JobId="$h" 2>&1) && fail "scontrol update succeeded: $out" ||
	{ [[ "$out" == *"'update' is not supported"* ]] && ok "refused: $out" || fail "update: $out"; }
out=$("$SC" show hostnames 'n[3-1]' 2>&1) && fail "a backwards range passed: $out" ||
	{ [[ "$out" == *"runs backwards"* ]] && ok "refused: $out" || fail "backwards: $out"; }
out=$(env -u SLURM_JOB_NODELIST "$SC" show hostnames 2>&1) && fail "no list passed: $out" ||
	{ [[ "$out" == *"SLURM_JOB_NODELIST is not set"* ]] && ok "refused: $out" || fail "no list: $out"; }
check_eq "scontrol show hostlist" "$("$SC" show hostlist gpu01,gpu02,gpu03,gpu05)" "gpu[01-03,05]"
finish
