# SPDX-License-Identifier: Apache-2.0
# Running the center day to day (issue 14), included from tests/live/CMakeLists.txt.
if(TARGET aidc_ctld AND TARGET aidc_agent)
  # aidc up restarts what died (same port, same state); clients retry a
  # restarting controller; request ids keep submissions exactly-once
  # under controller kill -9 (up_restart.sh).
  aidc_add_script_test(NAME live_up_restart COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/up_restart.sh
    TIMEOUT 300 LABELS live integration)
endif()
if(TARGET aidc_ctld AND TARGET aidc_agent)
  # --health-check: a failing program drains the node with its output,
  # aidc resume, a passing run resumes it, a hang is killed (health_check.sh).
  aidc_add_script_test(NAME live_health_check COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/health_check.sh
    TIMEOUT 180 LABELS live integration)
endif()
if(TARGET aidc_ctld AND TARGET aidc_agent AND TARGET aidc_fake_nvml)
  # NVML checks with the fake libnvidia-ml: ECC, retired pages, temperature, XID (nvml_health.sh).
  aidc_add_script_test(NAME live_nvml_health COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/nvml_health.sh
    TIMEOUT 180 LABELS live integration)
endif()
if(TARGET aidc_ctld AND TARGET aidc_agent)
  # Start estimate with a known answer (eta.sh).
  aidc_add_script_test(NAME live_eta COMMAND /bin/bash ${CMAKE_CURRENT_SOURCE_DIR}/eta.sh
    TIMEOUT 180 LABELS live integration)
endif()
if(TARGET aidc_ctld AND TARGET aidc_agent)
  # The web dashboard in Debian's chromium driven by playwright-core (both
  # installed by scripts/deps.sh; SKIPs without them): sign-in cookie, every
  # page checked against the API, markup in job names stays text, a user sees
  # only their own jobs; screenshots in <build>/test-artifacts/dashboard.
  aidc_add_script_test(NAME live_dashboard
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/browser/dashboard_test.py
    TIMEOUT 300 LABELS live integration browser)
endif()
