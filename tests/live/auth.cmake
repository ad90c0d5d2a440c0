# SPDX-License-Identifier: Apache-2.0
# Tests of the auth work, included from tests/live/CMakeLists.txt.

# TLS controller + agent over https, per-user tokens end to end, refusals of
# plain http beyond loopback (tests/live/auth_test.py; SKIPs without root,
# useradd/setpriv or openssl/certtool).
# live_auth_munge: a private munged and MUNGE credentials (SKIPs without
# munged or libmunge). live_auth_groups: admin_group and tokens (makes and
# removes its own users and groups; SKIPs without root or groupadd).
aidc_live_test(NAME live_auth SCRIPT auth_test.py ARGS tokens TIMEOUT 180)
aidc_live_test(NAME live_auth_munge SCRIPT auth_test.py ARGS munge TIMEOUT 180)
# 301 groupadd and as many groupdel: about 0.5 s each on a 2-core machine at
# load 20 (each rewrites /etc/group and /etc/gshadow under shadow's lock), so
# 180 s ran out in cleanup once every check had passed (CI at 6250dd8).
aidc_live_test(NAME live_auth_groups SCRIPT auth_test.py ARGS groups TIMEOUT 600)
