# SPDX-License-Identifier: Apache-2.0
# Running the center day to day (issue 14), included from tests/live/CMakeLists.txt.

# aidc up restarts what died (same port, same state); clients retry a
# restarting controller; request ids keep submissions exactly-once
# under controller kill -9 (up_restart.sh).
aidc_live_test(NAME live_up_restart SCRIPT up_restart.sh TIMEOUT 300)
# --health-check: a failing program drains the node with its output,
# aidc resume, a passing run resumes it, a hang is killed (health_check.sh).
aidc_live_test(NAME live_health_check SCRIPT health_check.sh TIMEOUT 180)
# NVML checks with the fake libnvidia-ml: ECC, retired pages, temperature, XID (nvml_health.sh).
aidc_live_test(NAME live_nvml_health SCRIPT nvml_health.sh TIMEOUT 180 NEEDS aidc_fake_nvml)
# Start estimate with a known answer (eta.sh).
aidc_live_test(NAME live_eta SCRIPT eta.sh TIMEOUT 180)
# GET /v1/queue, the dashboard's paged queue: counts, pages by offset and
# cursor, filters, 400 for bad values, a user sees only their own (queue_api.py).
aidc_live_test(NAME live_queue_api SCRIPT queue_api.py TIMEOUT 180)
# The web dashboard in Debian's chromium driven by playwright-core (both
# installed by scripts/deps.sh; SKIPs without them): sign-in cookie, every
# page checked against the API, markup in job names stays text, a user sees
# only their own jobs; screenshots in <build>/test-artifacts/dashboard.
aidc_live_test(NAME live_dashboard SCRIPT ${PROJECT_SOURCE_DIR}/tests/browser/dashboard_test.py
  TIMEOUT 300 LABELS browser)
# The controller on a throwaway PostgreSQL (db = postgresql://...): a job end
# to end, kept across a controller restart; no password in logs (store_pg.sh;
# SKIPs without Debian's postgresql packages).
aidc_live_test(NAME live_store_pg SCRIPT store_pg.sh TIMEOUT 240 LABELS postgresql)

# Inference services (issue 16, docs/services.md): replicas behind HAProxy,
# restart, rolling update under load with zero failed requests, rollback,
# scale, autoscale, isolation, kill -9, delete (services_test.py; SKIPs
# without haproxy).
aidc_live_test(NAME live_services SCRIPT services_test.py TIMEOUT 400)

# The services demo (issue 16 item 4, docs/services.md "Demo"): train a tiny
# classifier from the catalogue, serve it with 2 replicas behind HAProxy,
# predictions, a rolling update under a request loop with 0 failed requests,
# a killed replica comes back (scripts/demo_services.sh, about 45 s on 2 cores;
# SKIPs without haproxy or torch/torchvision).
aidc_live_test(NAME live_demo_services SCRIPT ${PROJECT_SOURCE_DIR}/scripts/demo_services.sh
  TIMEOUT 300)
# Active/standby controllers over PostgreSQL (issue 15 items 4-5, docs/ha.md):
# 20 kill -9 takeovers during a submission storm (zero lost, zero run twice,
# takeover times printed) and a leader paused past its lease that stores
# nothing once resumed (failover.sh; SKIPs without PostgreSQL's packages).
aidc_live_test(NAME live_failover SCRIPT failover.sh TIMEOUT 420 LABELS postgresql)
# A leader cut off from the agents but not from the database steps down
# while a standby waits, and leads on when none does (failover_agents.sh).
aidc_live_test(NAME live_failover_agents SCRIPT failover_agents.sh TIMEOUT 300 LABELS postgresql)
