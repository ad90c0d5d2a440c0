# SPDX-License-Identifier: Apache-2.0
# Tests of the sched work, included from tests/live/CMakeLists.txt.
# Node constraints (-N, --ntasks-per-node) on 2 agents: tests/live/sched_nodes.sh.
aidc_live_test(NAME live_sched_nodes SCRIPT sched_nodes.sh TIMEOUT 180)
# --exclusive (whole nodes) on 2 agents, across a controller kill -9: sched_exclusive.sh.
aidc_live_test(NAME live_sched_exclusive SCRIPT sched_exclusive.sh TIMEOUT 180)
# Exact restore of a running job's devices after a controller kill -9
# (tests/live/sched_restore.sh) and preemption of a --preemptible job for a
# higher-priority one, requeued and run again (tests/live/sched_preempt.sh).
foreach(t sched_restore sched_preempt)
  aidc_live_test(NAME live_${t} SCRIPT ${t}.sh TIMEOUT 180)
endforeach()
# Device shares (--gpu-milli): two half-device jobs at once on one device, a
# third waits, shares kept across a controller kill -9 (tests/live/sched_share.sh).
aidc_live_test(NAME live_sched_share SCRIPT sched_share.sh TIMEOUT 180)
# Heterogeneity-aware placement in the live controller: progress reports fill
# the speed table, hetero = fastest places by it, across a restart (hetero.sh).
aidc_live_test(NAME live_hetero SCRIPT hetero.sh TIMEOUT 180)
