# SPDX-License-Identifier: Apache-2.0
# Hardening against the center's own users (issue 9, docs/security.md),
# included from tests/live/CMakeLists.txt. tests/live/harden_test.py: each
# scenario starts its own controller and agents, makes and removes its own
# throwaway users (SKIPs the parts that need root) and small filesystems.
foreach(scenario store slow limits nodes specs tables output inodes retention files errors)
  aidc_live_test(NAME live_harden_${scenario} SCRIPT harden_test.py ARGS ${scenario}
    TIMEOUT 240)
endforeach()
