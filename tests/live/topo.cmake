# SPDX-License-Identifier: Apache-2.0
# Tests of the topo work, included from tests/live/CMakeLists.txt.
# The topology member of a registration: the decoder's table (valid, absent,
# malformed, at and past each AIDC_MAX_TOPO_* limit), its writer and OpenAPI.
if(TARGET aidc_api)
  aidc_add_test(NAME test_api_topo SOURCES test_api_topo.c LIBS aidc_api TIMEOUT 60
    LABELS unit live)
endif()
# The agent's hwloc reader on this machine (SKIPs when built without hwloc).
if(TARGET aidc_agent)
  aidc_add_test(NAME test_topo SOURCES test_topo.c LIBS aidc_agent TIMEOUT 60
    LABELS unit live)
endif()
# A real controller: registration with topology over the agent protocol, the
# node views and `aidc nodes`, refusals that change nothing, a kill -9 restart.
if(TARGET aidc_ctld AND TARGET aidc_agent)
  aidc_add_script_test(NAME live_topo
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/topo_live.py
    TIMEOUT 180 LABELS live integration)
endif()
