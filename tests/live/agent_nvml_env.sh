#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CUDA_DEVICE_ORDER=PCI_BUS_ID for tasks given GPUs by the "nvml" provider,
# without a GPU: `aidc up --agent-devices nvml` with $AIDC_NVML_LIBRARY set to
# the fake libnvidia-ml (tests/dev/fake_nvml.c, 2 GPUs). A --gpus 1 job gets
# CUDA_DEVICE_ORDER=PCI_BUS_ID (CUDA then numbers GPUs like NVML); a job that
# sets its own CUDA_DEVICE_ORDER keeps it; a job without GPUs gets none.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
lib=${AIDC_BINARY_DIR:-build}/tests/dev/libaidc_fake_nvml.so
[ -f "$lib" ] || skip "no fake NVML library at $lib"
export AIDC_NVML_LIBRARY=$(realpath "$lib") FAKE_NVML_COUNT=2

center_up 1 --agent-devices nvml
env_of() { "$AIDC" logs "$1" 2>/dev/null | grep "^$2=" || true; }
a=$(submit --gpus 1 -o "$DIR/a.out" -- env)
b=$(cd "$DIR" && CUDA_DEVICE_ORDER=FASTEST_FIRST "$AIDC" submit --gpus 1 -- env | awk '/^submitted job /{print $3}')
c=$(submit -- env)
for j in $a $b $c; do
	check_eq "job $j completes" "$(wait_state "$j" 'completed|failed|cancelled' 60)" completed
done
check_eq "a --gpus 1 job gets CUDA_DEVICE_ORDER" "$(env_of "$a" CUDA_DEVICE_ORDER)" "CUDA_DEVICE_ORDER=PCI_BUS_ID"
check_eq "... and one GPU in CUDA_VISIBLE_DEVICES" "$(env_of "$a" CUDA_VISIBLE_DEVICES | tr -cd ',' | wc -c)" 0
check_eq "... in its -o file too" "$(grep '^CUDA_DEVICE_ORDER=' "$DIR/a.out" 2>&1)" "CUDA_DEVICE_ORDER=PCI_BUS_ID"
check_eq "the job's own CUDA_DEVICE_ORDER wins" "$(env_of "$b" CUDA_DEVICE_ORDER)" "CUDA_DEVICE_ORDER=FASTEST_FIRST"
check_eq "a job without GPUs gets none" "$(env_of "$c" CUDA_DEVICE_ORDER)" ""
finish
