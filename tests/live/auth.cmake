# SPDX-License-Identifier: Apache-2.0
# Tests of the auth work, included from tests/live/CMakeLists.txt.

# TLS controller + agent over https, per-user tokens end to end, refusals of
# plain http beyond loopback (tests/live/auth_test.py; SKIPs without root,
# useradd/setpriv or openssl/certtool).
# live_auth_munge: a private munged and MUNGE credentials (SKIPs without
# munged or libmunge). live_auth_groups: admin_group and tokens (makes and
# removes its own users and groups; SKIPs without root or groupadd).
if(TARGET aidc_ctld AND TARGET aidc_agent)
  foreach(scenario tokens munge groups)
    set(_name live_auth)
    if(NOT scenario STREQUAL "tokens")
      set(_name live_auth_${scenario})
    endif()
    aidc_add_script_test(NAME ${_name}
      COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/auth_test.py ${scenario}
      TIMEOUT 180 LABELS live integration)
  endforeach()
endif()
