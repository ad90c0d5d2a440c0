# SPDX-License-Identifier: Apache-2.0
# Tests of the agent work, included from tests/live/CMakeLists.txt.

# Agent kill -9 at each launch step (AIDC_AGENT_FAULT), then a restart:
# every job completes exactly once (agent_crash.sh).
aidc_live_test(NAME live_agent_crash SCRIPT agent_crash.sh TIMEOUT 300)
# CUDA_DEVICE_ORDER=PCI_BUS_ID for GPUs of the nvml provider, with the fake
# libnvidia-ml (agent_nvml_env.sh).
aidc_live_test(NAME live_agent_nvml_env SCRIPT agent_nvml_env.sh TIMEOUT 180
  NEEDS aidc_fake_nvml)
# Disk GC of <state_dir>/tasks after 50 jobs (agent_gc.sh).
aidc_live_test(NAME live_agent_gc SCRIPT agent_gc.sh TIMEOUT 240)

# A dead agent's parked work poll does not take its successor's orders.
aidc_live_test(NAME live_agent_repoll SCRIPT agent_repoll.sh TIMEOUT 120)
# aidc-task never runs as root with the job's environment (agent_task_env.sh):
# another user's LD_PRELOAD reaches the program alone.
aidc_live_test(NAME live_agent_task_env SCRIPT agent_task_env.sh TIMEOUT 120)

# Multi-host deployment by docs/deploy.md's runbook on network namespaces joined
# by a bridge, with TLS, a remote user's token, DDP across nodes, agent and
# controller kill -9 (multihost.sh; SKIPs without root, ip netns, nsenter,
# unshare or openssl).
aidc_live_test(NAME live_multihost SCRIPT multihost.sh TIMEOUT 420)

# The controller's side of agent protocol 2 (issue 18): duplicate names, stale
# runs (epoch), old attempts' logs and reports, reasons at start, a gang waiting
# for a down node (proto_live.py plays two agents over TCP).
aidc_live_test(NAME live_proto SCRIPT proto_live.py TIMEOUT 180)

# A wall-clock step of +1 h and -1 h leaves every node up and jobs running
# (wallclock.sh; the step injected with AIDC_TEST_WALL_STEP, util/clock.h).
aidc_live_test(NAME live_wallclock SCRIPT wallclock.sh TIMEOUT 240)

# A full agent state directory drains the node with the reason (agent_diskfull.sh;
# a 16 MiB tmpfs, SKIPs without root or mount).
aidc_live_test(NAME live_agent_diskfull SCRIPT agent_diskfull.sh TIMEOUT 180)

# Device plugins in the agent: a crash or ABI mismatch is logged once and the
# node registers without them; plugin config, uuid and visibility variable.
aidc_live_test(NAME live_agent_plugin SCRIPT agent_plugin.sh
  ARGS $<TARGET_FILE:aidc_test_cheat> $<TARGET_FILE:aidc_test_badabi>
  TIMEOUT 240 NEEDS aidc_test_cheat aidc_test_badabi)

# aidc sbatch on a local center with mock devices (sbatch.sh, issue 13): script
# arguments, one run per job, -o %x / slurm-%j.out, --chdir, --export, per-node
# GPUs, case-insensitive GPU types, refusals that create no job.
aidc_live_test(NAME live_sbatch SCRIPT sbatch.sh TIMEOUT 180)
# -w/-x/-F/-C on 3 agents (sbatch_nodes.sh): node choice, the memo case, never_fits,
# kill -9 restart, refusals.
aidc_live_test(NAME live_sbatch_nodes SCRIPT sbatch_nodes.sh TIMEOUT 240)
# Job arrays (sbatch_array.sh): env, %A_%a, throttle, squeue, cancel, afterok, restart.
aidc_live_test(NAME live_sbatch_array SCRIPT sbatch_array.sh TIMEOUT 300)
# Array elements by ID_INDEX (sbatch_array_elem.sh): job/scontrol show, hold/release of one.
aidc_live_test(NAME live_sbatch_array_elem SCRIPT sbatch_array_elem.sh TIMEOUT 240)
# aftercorr (sbatch_aftercorr.sh): element i after element i, failures per index, restart.
aidc_live_test(NAME live_sbatch_aftercorr SCRIPT sbatch_aftercorr.sh TIMEOUT 240)
# --begin (sbatch_begin.sh): BeginTime, runs after it, arrays, aidc submit -b, restart, refusals.
aidc_live_test(NAME live_sbatch_begin SCRIPT sbatch_begin.sh TIMEOUT 180)
# Holds (sbatch_hold.sh): -H, aidc hold/release, other users, a restart.
aidc_live_test(NAME live_sbatch_hold SCRIPT sbatch_hold.sh TIMEOUT 180)
# scontrol in batch jobs (sbatch_scontrol.sh): PATH, show hostnames/job, hold/release.
aidc_live_test(NAME live_sbatch_scontrol SCRIPT sbatch_scontrol.sh TIMEOUT 180)
# squeue and scancel (squeue_scancel.sh): columns, -o fields, filters, cancels, refusals.
aidc_live_test(NAME live_squeue_scancel SCRIPT squeue_scancel.sh TIMEOUT 180)
# sinfo (sinfo.sh): columns, grouping, node states, -N, -o fields, filters, refusals.
aidc_live_test(NAME live_sinfo SCRIPT sinfo.sh TIMEOUT 180)
# sacct (sacct.sh): finished jobs, columns, -j -s -S -E, -o fields and widths, -P, refusals.
aidc_live_test(NAME live_sacct SCRIPT sacct.sh TIMEOUT 180)
# Dependencies (sbatch_dep.sh): after, afterok, afternotok, afterany, singleton,
# '?', --kill-on-invalid-dep, refusals.
aidc_live_test(NAME live_sbatch_dep SCRIPT sbatch_dep.sh TIMEOUT 180)
# srun inside a batch job (srun.sh): step environment, devices per task, -l, -o
# patterns, exit codes, refusals, cancel of a running step.
aidc_live_test(NAME live_srun SCRIPT srun.sh TIMEOUT 180)
# Multi-node batch jobs (sbatch_multi.sh, 3 agents): the batch environment of a
# 2-node job, the script once on the first node, the other node held; -w of two
# nodes; cancel ends every node's part; srun steps across the nodes.
aidc_live_test(NAME live_sbatch_multi SCRIPT sbatch_multi.sh TIMEOUT 300)
# Job steps (srun_steps.sh): squeue -s, scancel JOB.STEP, steps kept across a
# controller restart, sacct's JOB.batch and JOB.STEP lines.
aidc_live_test(NAME live_srun_steps SCRIPT srun_steps.sh TIMEOUT 240)
# The steps API against its job's own user (srun_steps_abuse.sh): step ids
# bounded (AIDC_MAX_JOB_STEP_COUNT), bad bodies refused, an ended step's id not
# started again, another user's requests 404.
aidc_live_test(NAME live_srun_steps_abuse SCRIPT srun_steps_abuse.sh TIMEOUT 120)
# salloc (srun_salloc.sh, 2 agents): the allocation's environment, srun steps on
# both nodes from outside the job, exit codes, release, refusals, revocation.
aidc_live_test(NAME live_srun_salloc SCRIPT srun_salloc.sh TIMEOUT 180)
# srun outside an allocation (srun_alloc.sh, 2 agents): it makes the allocation
# and runs its step in it; options split between job and step; refusals.
aidc_live_test(NAME live_srun_alloc SCRIPT srun_alloc.sh TIMEOUT 180)
# srun --pty (srun_pty.sh, 1 agent): task 0 on a pseudo terminal under salloc
# and in a batch job; window size, ^C, a node that cannot connect back, a
# wrong token, srun killed.
aidc_live_test(NAME live_srun_pty SCRIPT srun_pty.sh TIMEOUT 240)
# Concurrent srun steps (srun_concurrent.sh, 2 agents): each srun prints its own
# step's output alone, in order, once; under salloc -N1, on 2 nodes, across a restart.
aidc_live_test(NAME live_srun_concurrent SCRIPT srun_concurrent.sh TIMEOUT 240)
# An srun step's output on another node while the controller is down longer
# than AIDC_RETRY_S goes on in the node's own output after a marker
# (srun_push_fallback.sh): nothing is dropped.
aidc_live_test(NAME live_srun_push_fallback SCRIPT srun_push_fallback.sh TIMEOUT 180)
# An srun step's output on another node cut by the controller's quota: srun
# copies it up to the marker and ends at once (srun_push_cut.sh).
aidc_live_test(NAME live_srun_push_cut SCRIPT srun_push_cut.sh TIMEOUT 180)
