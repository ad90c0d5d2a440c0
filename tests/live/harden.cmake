# SPDX-License-Identifier: Apache-2.0
# Hardening against the center's own users (issue 9, docs/security.md),
# included from tests/live/CMakeLists.txt. tests/live/harden_test.py: each
# scenario starts its own controller and agents, makes and removes its own
# throwaway users (SKIPs the parts that need root) and small filesystems.
if(TARGET aidc_ctld AND TARGET aidc_agent)
  foreach(scenario store slow limits nodes specs tables output files errors)
    aidc_add_script_test(NAME live_harden_${scenario}
      COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/harden_test.py ${scenario}
      TIMEOUT 240 LABELS live integration)
  endforeach()
endif()
