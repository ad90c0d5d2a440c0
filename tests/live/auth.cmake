# SPDX-License-Identifier: Apache-2.0
# Tests of the auth work, included from tests/live/CMakeLists.txt.

# TLS controller + agent over https, per-user tokens end to end, refusals of
# plain http beyond loopback (tests/live/auth_test.py; SKIPs without root,
# useradd/setpriv or openssl/certtool).
# live_auth_munge: a private munged and MUNGE credentials (SKIPs without
# munged or libmunge). live_auth_groups: admin_group and tokens (makes and
# removes its own users and groups; SKIPs without root or groupadd).
aidc_live_test(NAME live_auth SCRIPT auth_test.py ARGS tokens TIMEOUT 180)
foreach(scenario munge groups)
  aidc_live_test(NAME live_auth_${scenario} SCRIPT auth_test.py ARGS ${scenario} TIMEOUT 180)
endforeach()
