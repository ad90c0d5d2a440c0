# SPDX-License-Identifier: Apache-2.0
# Live topology tests, included from tests/live/CMakeLists.txt (unit tests:
# tests/api/test_api_topo.c, tests/agent/test_topo.c).
# A real controller: registration with topology over the agent protocol, the
# node views and `aidc nodes`, refusals that change nothing, a kill -9 restart.
aidc_live_test(NAME live_topo SCRIPT topo_live.py TIMEOUT 180)
