#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The web dashboard in a real browser (issue 14 items 1 and 7): starts a local
center on loopback (tests/live/live_test.py's Center: `aidc up`, stopped by
`aidc down` and then by the PIDs it recorded), makes jobs that run, wait with
a start estimate and carry HTML in their names, more than a table page of
pending jobs, a short job of each user (usage records), a rate override and,
when the cpu plugin is built, a published exam (the exams page), and, when HAProxy is
installed, an inference service of root's with two ready replicas behind the router (the
services page; without HAProxy that part SKIPs, saying so), creates API tokens for root
(admin) and for a throwaway user, then runs dashboard_test.mjs: Debian's
chromium driven by playwright-core (installed by scripts/deps.sh into
tests/browser/node_modules; nothing is downloaded here) signs in, walks every
page and checks what it shows against the API. Screenshots of each page go to
$AIDC_ARTIFACTS (default: $AIDC_BINARY_DIR/test-artifacts/dashboard).

Exit 77 with the reason printed means SKIP: no chromium, no node, no
playwright-core, or not root (the second user needs useradd).
"""
import atexit
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "live"))
import live_test  # noqa: E402
from live_test import Center, check, skip  # noqa: E402
import services_test  # noqa: E402  (its replica script and port picking)

CHROMIUM = os.environ.get("AIDC_CHROMIUM", "/usr/bin/chromium")
HAPROXY = os.environ.get("AIDC_HAPROXY", "/usr/sbin/haproxy")
USER = "aidc_web"
SERVICE = "dash-web"
# In the service's env: markup that must stay text on the service page.
SERVICE_NOTE = 'NOTE=<img src=x onerror="window.__xss=3">'


def prerequisites():
    if not os.path.exists(live_test.AIDC):
        skip("aidc binary not found at " + live_test.AIDC)
    if not os.access(CHROMIUM, os.X_OK):
        skip("no chromium at %s (scripts/deps.sh installs Debian's chromium; or set "
             "AIDC_CHROMIUM)" % CHROMIUM)
    node = shutil.which("node")
    if not node:
        skip("node not found (scripts/deps.sh installs nodejs)")
    pw = os.path.join(HERE, "node_modules", "playwright-core", "package.json")
    if not os.path.exists(pw):
        skip("playwright-core missing in tests/browser/node_modules (run scripts/deps.sh: "
             "npm ci there)")
    if os.geteuid() != 0:
        skip("needs root to create a second local user (useradd) for the isolation checks")
    if not shutil.which("useradd") or not shutil.which("setpriv"):
        skip("useradd or setpriv missing")
    return node


def ensure_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        r = subprocess.run(["useradd", "-M", "-s", "/bin/sh", USER], capture_output=True,
                           text=True)
        if r.returncode != 0:
            skip("useradd failed: " + r.stderr.strip())
        return pwd.getpwnam(USER)


def token(c, user=None):
    r = c.cli("token", "create", "--name", "dashboard-test", "--json", user=user, check_rc=0)
    return json.loads(r.stdout)["token"]


def usage_jobs(c):
    """One short job with a device for root and one for the second user, run
    to the end before anything else takes the devices: accounting records for
    the usage page."""
    ids = [c.submit("-J", "quick", "--gpus-per-task", "1", "--", "sleep", "1"),
           c.submit("-J", "quick", "--gpus-per-task", "1", "--", "sleep", "1", user=USER)]
    for i in ids:
        s = c.wait_state(i, live_test.ENDED)
        check(s and s["state"] == "completed", "usage job %d completed" % i, s)


def exam_reports(c):
    """A rate override for a model this center lacks (always), and the cpu
    plugin's exam published as the mock devices' model when the plugin is
    built: rows for the exams page. Returns the model examined, or ""."""
    body = json.dumps({"model": "H100", "rate_ppm": 2500000, "reason": "dashboard test <b>x</b>"})
    st, data = c.http("POST", "/v1/rates", body, {"Content-Type": "application/json"})
    check(st == 200, "rate override for H100", st, data[:200])
    plugin = os.path.normpath(os.path.join(os.path.dirname(live_test.AIDC), "..", "..",
                                           "plugins", "aidc_dev_cpu.so"))
    if not os.path.exists(plugin):
        print("note: no cpu plugin (%s): the exams page shows the override only" % plugin)
        return ""
    raw, good = os.path.join(c.dir, "exam.json"), os.path.join(c.dir, "exam-model.json")
    r = c.cli("exam", "run", "--plugin", "cpu", "--level", "quick", "--questions",
              "gemm.f32.1024", "--out", raw, "--quiet")
    if r.returncode != 0 or json.load(open(raw))["summary"]["verdict"] != "pass":
        check(False, "the cpu plugin passes gemm.f32.1024 (the report to publish)", r.stdout,
              r.stderr)
        return ""
    model = next(iter(c.nodes().values()))["model"]
    rep = json.load(open(raw))
    rep["device"]["model"] = model
    with open(good, "w") as f:
        json.dump(rep, f)
    c.cli("exam", "publish", good, check_rc=0)
    return model


def router_config():
    """The controller's config for the services' router on free loopback ports
    (as tests/live/services_test.py). Without HAProxy at HAPROXY, the router
    cannot start: a controller without a router, for the services page."""
    base = services_test.free_base(4)
    rbase = services_test.free_base(50)
    while abs(rbase - base) < 100:
        rbase = services_test.free_base(50)
    fd, conf = tempfile.mkstemp(prefix="aidc-dash-", suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write("haproxy_bin = %s\nservice_port_base = %d\nservice_slots = 4\n"
                "replica_port_min = %d\nreplica_port_max = %d\n"
                % (HAPROXY, base, rbase, rbase + 49))
    return conf


def service(c):
    """Root's service: two replicas of services_test's replica script, ready
    behind the router, and a few requests through its address."""
    script = os.path.join(c.dir, "replica.py")
    with open(script, "w") as f:
        f.write(services_test.REPLICA)
    os.chmod(script, 0o644)
    body = json.dumps({"name": SERVICE, "replicas": 2, "command": ["/usr/bin/python3", script],
                       "cwd": "/tmp", "env": [SERVICE_NOTE],
                       "probe": {"period_s": 1, "timeout_s": 1, "failure_threshold": 3}})
    st, data = c.http("POST", "/v1/services", body, {"Content-Type": "application/json"})
    check(st == 201, "service %s created" % SERVICE, st, data[:300])

    def ready():
        st, data = c.http("GET", "/v1/services/" + SERVICE)
        s = json.loads(data) if st == 200 else None
        return s if s and s["ready"] == 2 and s["total"] == 2 and s["address"] else None
    s = live_test.poll(ready, 90)
    check(s is not None, "service %s: 2 replicas ready behind the router" % SERVICE)
    for _ in range(5):
        try:
            services_test.get_url(s["address"])
        except (OSError, TypeError):
            pass


def main():
    node = prerequisites()
    ensure_user()
    have_haproxy = os.access(HAPROXY, os.X_OK)
    if not have_haproxy:
        print("SKIP services with replicas: no haproxy at %s (Debian package haproxy; "
              "scripts/deps.sh): the services page is checked empty, on a controller "
              "without a router, and with an API error" % HAPROXY)
    conf = router_config()
    atexit.register(os.unlink, conf)
    c = Center(agents=2, extra=("--controller-config", conf))
    port = int(open(os.path.join(c.dir, "controller", "port")).read())
    # Root's jobs: one that prints and keeps running, one that holds node-1's
    # two devices for at most 2 minutes, one that then waits for both with an
    # estimated start, and one whose name is markup.
    usage_jobs(c)
    examined = exam_reports(c)
    # The service's replicas take a CPU each, before the queue fills.
    if have_haproxy:
        service(c)
    talker = c.submit("-J", "talker", "--", "sh", "-c",
                      "echo hello-from-dashboard; echo to-stderr >&2; sleep 120")
    holder = c.submit("-J", "holder", "-t", "2", "--gpus-per-task", "2", "--",
                      "sleep", "300")
    c.wait_state(talker, ("running",))
    c.wait_state(holder, ("running",))
    holder2 = c.submit("-J", "holder2", "-t", "3", "--gpus-per-task", "2", "--", "sleep", "300")
    c.wait_state(holder2, ("running",))
    waiter = c.submit("-J", "waiter", "--gpus-per-task", "2", "--", "true")
    evil = c.submit("-J", '<img src=x onerror="window.__xss=1">&amp;"\'', "--gpus-per-task", "2",
                    "--", "true")
    mine = c.submit("-J", "<script>window.__xss=2</script>", "--gpus-per-task", "2", "--",
                    "true", user=USER)
    # Enough more of root's pending jobs for the queue to fill more than one
    # table page (the page shows 50 rows), so paging is checked.
    body = json.dumps({"name": "filler", "command": ["true"], "gpus_per_task": 2})
    for _ in range(55):
        st, data = c.http("POST", "/v1/jobs", body, {"Content-Type": "application/json"})
        check(st == 201, "filler job submitted", st, data[:200])
    root_tok = token(c)
    user_tok = token(c, user=USER)
    art = os.environ.get("AIDC_ARTIFACTS") or os.path.join(
        os.environ.get("AIDC_BINARY_DIR", "build"), "test-artifacts", "dashboard")
    os.makedirs(art, exist_ok=True)
    env = dict(os.environ, AIDC_URL="http://127.0.0.1:%d" % port, AIDC_CHROMIUM=CHROMIUM,
               ROOT_TOKEN=root_tok, USER_TOKEN=user_tok, USER_NAME=USER,
               ARTIFACTS=os.path.abspath(art), EXAMINED=examined,
               SERVICE=SERVICE if have_haproxy else "", SERVICE_NOTE=SERVICE_NOTE,
               JOBS=json.dumps({"talker": talker, "holder": holder, "waiter": waiter,
                                "evil": evil, "mine": mine}))
    r = subprocess.run([node, os.path.join(HERE, "dashboard_test.mjs")], env=env, cwd=HERE,
                       timeout=240)
    check(r.returncode == 0, "browser checks pass (dashboard_test.mjs exit %d)" % r.returncode)
    print("screenshots in " + os.path.abspath(art))
    print("%d failures" % len(live_test.FAILS))
    return 1 if live_test.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
