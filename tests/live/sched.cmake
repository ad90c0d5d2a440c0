# SPDX-License-Identifier: Apache-2.0
# Tests of the sched work, included from tests/live/CMakeLists.txt.
# Node constraints (-N, --ntasks-per-node) on 2 agents: tests/live/sched_nodes.sh.
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_sched_nodes COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/sched_nodes.sh
    TIMEOUT 180 LABELS live integration)
endif()
# Exact restore of a running job's devices after a controller kill -9
# (tests/live/sched_restore.sh) and preemption of a --preemptible job for a
# higher-priority one, requeued and run again (tests/live/sched_preempt.sh).
if(TARGET aidc_ctld AND TARGET aidc_agent)
  foreach(t sched_restore sched_preempt)
    aidc_add_script_test(NAME live_${t} COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/${t}.sh
      TIMEOUT 180 LABELS live integration)
  endforeach()
endif()
