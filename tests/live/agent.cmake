# SPDX-License-Identifier: Apache-2.0
# Tests of the agent work, included from tests/live/CMakeLists.txt.
if(TARGET aidc_ctld AND TARGET aidc_agent)
  # Agent kill -9 at each launch step (AIDC_AGENT_FAULT), then a restart:
  # every job completes exactly once (agent_crash.sh).
  aidc_add_script_test(NAME live_agent_crash COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_crash.sh
    TIMEOUT 300 LABELS live integration)
endif()
if(TARGET aidc_ctld AND TARGET aidc_agent AND TARGET aidc_fake_nvml)
  # CUDA_DEVICE_ORDER=PCI_BUS_ID for GPUs of the nvml provider, with the fake
  # libnvidia-ml (agent_nvml_env.sh).
  aidc_add_script_test(NAME live_agent_nvml_env
    COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_nvml_env.sh TIMEOUT 180 LABELS live integration)
endif()
if(TARGET aidc_ctld AND TARGET aidc_agent)
  # Disk GC of <state_dir>/tasks after 50 jobs (agent_gc.sh).
  aidc_add_script_test(NAME live_agent_gc COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_gc.sh
    TIMEOUT 240 LABELS live integration)
endif()

# A dead agent's parked work poll does not take its successor's orders.
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_agent_repoll COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_repoll.sh
    TIMEOUT 120 LABELS live integration)
endif()

# Multi-host deployment by docs/deploy.md's runbook on network namespaces joined
# by a bridge, with TLS, a remote user's token, DDP across nodes, agent and
# controller kill -9 (multihost.sh; SKIPs without root, ip netns, nsenter,
# unshare or openssl).
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_multihost COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/multihost.sh
    TIMEOUT 420 LABELS live integration)
endif()

# The controller's side of agent protocol 2 (issue 18): duplicate names, stale
# runs (epoch), old attempts' logs and reports, reasons at start, a gang waiting
# for a down node (proto_live.py plays two agents over TCP).
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_proto COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/proto_live.py
    TIMEOUT 180 LABELS live integration)
endif()

# A wall-clock step of +1 h and -1 h leaves every node up and jobs running
# (wallclock.sh; the step injected with AIDC_TEST_WALL_STEP, util/clock.h).
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_wallclock COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/wallclock.sh
    TIMEOUT 240 LABELS live integration)
endif()

# A full agent state directory drains the node with the reason (agent_diskfull.sh;
# a 16 MiB tmpfs, SKIPs without root or mount).
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_agent_diskfull COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_diskfull.sh
    TIMEOUT 180 LABELS live integration)
endif()
if(TARGET aidc_ctld AND TARGET aidc_agent AND TARGET aidc_test_cheat AND TARGET aidc_test_badabi)
  # Device plugins in the agent: a crash or ABI mismatch is logged once and the
  # node registers without them; plugin config, uuid and visibility variable.
  aidc_add_script_test(NAME live_agent_plugin
    COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_plugin.sh
            $<TARGET_FILE:aidc_test_cheat> $<TARGET_FILE:aidc_test_badabi>
    TIMEOUT 240 LABELS live integration)
endif()

# aidc sbatch on a local center with mock devices (sbatch.sh, issue 13): script
# arguments, one run per job, -o %x / slurm-%j.out, --chdir, --export, per-node
# GPUs, case-insensitive GPU types, refusals that create no job.
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_sbatch COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/sbatch.sh
    TIMEOUT 180 LABELS live integration)
  # Holds (sbatch_hold.sh): -H, aidc hold/release, other users, a restart.
  aidc_add_script_test(NAME live_sbatch_hold
    COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/sbatch_hold.sh
    TIMEOUT 180 LABELS live integration)
  # scontrol in batch jobs (sbatch_scontrol.sh): PATH, show hostnames/job, hold/release.
  aidc_add_script_test(NAME live_sbatch_scontrol
    COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/sbatch_scontrol.sh
    TIMEOUT 180 LABELS live integration)
  # Dependencies (sbatch_dep.sh): afterok, afternotok, afterany, refusals.
  aidc_add_script_test(NAME live_sbatch_dep
    COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/sbatch_dep.sh
    TIMEOUT 180 LABELS live integration)
endif()
