#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Inference services on a live center (docs/services.md; issue 16 items 1, 2, 5).

One local center with the router (Debian's HAProxy) on free loopback ports:
  - bad specs (probe timeout 0, timeout >= period, autoscale min > max, PORT in
    env, a bad name, a duplicate) are refused naming the field; nothing changes;
  - two replicas become ready, requests through the one address reach both, and
    HAProxy's backend holds exactly the ready replicas (its runtime API);
  - a replica killed (its job cancelled) is replaced and the service is whole
    again; a replica failing its probe is restarted;
  - a rolling update under a concurrent HTTP load: zero failed requests, both
    versions answered, every replica of the new generation at the end;
  - an update whose replicas fail their probe is rolled back;
  - scale up and down; backends follow;
  - another user can neither see nor change the service (needs root);
  - controller kill -9 and restart: the service, its replicas and routing stay;
  - autoscaling from a load step (a ready replica within probe time + 5 s) and
    back down after scale_down_delay_s;
  - delete: replicas leave the router, their jobs stop, the slot is free.
SKIPs (exit 77, with the reason) without haproxy.
"""
import http.client
import json
import os
import pwd
import random
import shutil
import signal
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import live_test  # noqa: E402
from live_test import AIDC, Center, check, poll, skip  # noqa: E402

HAPROXY = "/usr/sbin/haproxy"
OTHER = "aidc_svc"

REPLICA = r'''
import http.server, os, socketserver
port = int(os.environ["PORT"])
ver = os.environ.get("VERSION", "1")
fail_probe = os.environ.get("FAIL_PROBE")
hang = os.environ.get("HANG")
slow = int(os.environ.get("SLOW_MS", "0"))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if hang:
            import time
            time.sleep(3600)
        if slow and self.path != "/healthz":
            import time
            time.sleep(slow / 1000.0)
        if fail_probe and self.path == "/healthz":
            code, body = 500, b"sick\n"
        else:
            code, body = 200, ("v%s %d %d\n" % (ver, port, os.getpid())).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("127.0.0.1", port), H).serve_forever()
'''


def ephemeral_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def free_base(n):
    """A base port with n free consecutive loopback ports (checked by binding),
    below the kernel's ephemeral range where it can: thousands of outgoing
    connections (another test, a benchmark) leave no long free run in it."""
    lo, hi = ephemeral_range()
    span = (10000, lo - n) if lo - n > 12000 else (hi + 1, 65535 - n)
    if span[1] <= span[0]:
        span = (1024, 65535 - n)
    for _ in range(50):
        base = random.randrange(*span)
        socks, ok = [], True
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
        except OSError:
            ok = False
        for s in socks:
            s.close()
        if ok:
            return base
    raise SystemExit("no free port range")


class Svc:
    def __init__(self, c, conf):
        self.c, self.conf = c, conf

    def api(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        st, out = self.c.http(method, path, data, {"Content-Type": "application/json"})
        try:
            return st, json.loads(out)
        except ValueError:
            return st, out

    def get(self, name):
        try:
            st, s = self.api("GET", "/v1/services/" + name)
        except OSError:  # the controller is restarting
            return None
        return s if st == 200 else None

    def ready(self, name, n, gen=None, timeout=60):
        def ok():
            s = self.get(name)
            if not s or s["ready"] != n or s["total"] != n:
                return None
            if gen and any(r["gen"] != gen for r in s["replica_list"]):
                return None
            return s
        return poll(ok, timeout)

    def backends(self, slot):
        """Ports of the servers that take requests in the slot's HAProxy backend
        (runtime API `show servers state`: operational state 2 (running) and
        no maintenance (0x01, 0x02, 0x20) or drain (0x08, 0x10) bit in the admin
        state (0x04 only records that the config declared it disabled); field
        18 is the port)."""
        sock = os.path.join(self.c.dir, "controller", "router", "admin.sock")
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(sock)
        s.sendall(b"show servers state slot%d\n" % slot)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        ports = []
        for line in out.decode().splitlines():
            f = line.split()
            if len(f) > 18 and not line.startswith("#") and f[0].isdigit() and f[5] == "2" and \
                    int(f[6]) & 0x3b == 0:
                ports.append(int(f[18]))
        return sorted(ports)


def routed(svc, s):
    return sorted(r["port"] for r in s["replica_list"] if r["state"] == "ready")


def get_url(addr, path="/", timeout=5):
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


class Load:
    """Threads sending GETs to addr until stopped: counts, failures, bodies' versions."""

    def __init__(self, addr, threads=4, pause=0.0):
        self.addr, self.stop_at, self.pause = addr, None, pause
        self.ok = self.fail = 0
        self.versions, self.errors = set(), []
        self.lock = threading.Lock()
        self.running = True
        self.ts = [threading.Thread(target=self.run) for _ in range(threads)]
        for t in self.ts:
            t.start()

    def run(self):
        deadline = time.time() + 300  # bounded even if stop() is never called
        while self.running and time.time() < deadline:
            try:
                st, body = get_url(self.addr)
                with self.lock:
                    if st == 200:
                        self.ok += 1
                        self.versions.add(body.split()[0].decode())
                    else:
                        self.fail += 1
                        self.errors.append(st)
            except Exception as e:  # noqa: BLE001 - every failure counts
                with self.lock:
                    self.fail += 1
                    self.errors.append(repr(e))
            if self.pause:
                time.sleep(self.pause)

    def stop(self):
        self.running = False
        for t in self.ts:
            t.join()
        return self


def spec(name, script, **kw):
    s = {"name": name, "replicas": kw.pop("replicas", 2),
         "command": ["/usr/bin/python3", script], "cwd": "/tmp",
         "probe": {"period_s": 1, "timeout_s": 1, "failure_threshold": 3}}
    s.update(kw)
    return s


def bad_specs(svc, script):
    cases = [
        ("probe timeout 0", dict(probe={"timeout_s": 0}), "probe.timeout_s"),
        ("timeout > period", dict(probe={"period_s": 1, "timeout_s": 2}), "not be more"),
        ("autoscale min > max", dict(autoscale={"min": 3, "max": 2, "target_rps": 5}),
         "autoscale.min"),
        ("autoscale without a target", dict(autoscale={"min": 1, "max": 2}),
         "autoscale needs"),
        ("PORT in env", dict(env=["PORT=80"]), "PORT"),
        ("too many replicas", dict(replicas=100000), "replicas"),
        ("0 replicas in a spec (scale to 0 instead)", dict(replicas=0), "replicas"),
        ("unknown field", dict(bogus=1), "bogus"),
    ]
    for what, extra, word in cases:
        st, r = svc.api("POST", "/v1/services", spec("bad", script, **extra))
        check(st == 400 and word in json.dumps(r), "refused: %s (%d)" % (what, st), r)
    st, r = svc.api("POST", "/v1/services", spec("Bad_Name", script))
    check(st == 400 and "name" in json.dumps(r), "refused: a bad name", r)
    st, r = svc.api("GET", "/v1/services")
    check(st == 200 and r["services"] == [], "nothing was created by the refusals", r)


def ensure_other(what):
    """True when OTHER exists (made here as root), else prints why not."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("setpriv"):
        print("note: not root: the %s checks need a second local user" % what)
        return False
    try:
        pwd.getpwnam(OTHER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", OTHER], capture_output=True)
    return True


def other_user(svc):
    if not ensure_other("other-user"):
        return
    c = svc.c
    r = c.cli("services", "--json", user=OTHER)
    check(r.returncode == 0 and json.loads(r.stdout)["services"] == [],
          "another user sees none of root's services", r.stdout, r.stderr)
    for args in (("service", "show", "web"), ("service", "scale", "web", "5"),
                 ("service", "delete", "web")):
        r = c.cli(*args, user=OTHER)
        check(r.returncode != 0 and "no service web" in r.stderr,
              "another user: aidc %s is refused as missing" % " ".join(args), r.stderr)
    check(svc.get("web")["replicas"] == 2, "root's service is unchanged")
    # An admin acting on another user's service is audited.
    r = c.cli("serve", "--name", "theirs", "--replicas", "1", "--", "/bin/sleep", "1000",
              user=OTHER)
    check(r.returncode == 0, "the other user creates a service", r.stderr)
    # GET /metrics/services: each user's own series, admins every one.
    mine = subprocess.run(["setpriv", "--reuid", OTHER, "--regid", OTHER, "--init-groups",
                           "curl", "-s", "--unix-socket", c.sock, "http://x/metrics/services"],
                          capture_output=True, text=True, timeout=30).stdout
    st, everyone = c.http("GET", "/metrics/services")
    everyone = everyone.decode()
    check('aidc_svc_replicas_wanted{service="theirs",user="%s"} 1' % OTHER in mine and
          'service="web"' not in mine, "/metrics/services: a user sees only their services",
          mine)
    check(st == 200 and 'aidc_svc_requests_total{service="web",user="root"}' in everyone and
          'service="theirs"' in everyone, "/metrics/services: root sees every one", everyone)
    st, _ = svc.api("POST", "/v1/services/theirs/scale", {"replicas": 0})
    r = c.cli("audit", "--action", "service.scale", "--json")
    check(st == 200 and "service theirs" in r.stdout and
          '"target_uid":%d' % pwd.getpwnam(OTHER).pw_uid in r.stdout,
          "root scaling the other user's service is in the audit log", r.stdout, r.stderr)
    st, _ = svc.api("POST", "/v1/services/theirs/delete")
    check(st == 202 and poll(lambda: svc.get("theirs") is None, 30), "and deleting it works")


def start_controller(svc):
    """The center's controller again, on its port with its state: the Popen."""
    c = svc.c
    port = open(os.path.join(c.dir, "controller", "port")).read().strip()
    log = open(os.path.join(c.dir, "controller.log"), "a")
    args = [AIDC, "controller", "--state-dir", os.path.join(c.dir, "controller"),
            "--socket", c.sock, "--port", port, "--node-timeout", "3", "--config", svc.conf]
    if os.geteuid() == 0:
        args.append("--allow-root-jobs")
    p = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    with open(os.path.join(c.dir, "pids", "controller.pid"), "w") as f:
        f.write(str(p.pid))
    return p


def restart_controller(svc):
    os.kill(svc.c.pids()["controller"], signal.SIGKILL)
    time.sleep(0.2)
    return start_controller(svc)


def clean_restart(svc, p, addr, jobs_before):
    """router_keep_on_stop: a SIGTERM'd controller leaves HAProxy routing;
    requests succeed while no controller runs; the next one adopts it."""
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    check(p.returncode == 0, "the controller stops cleanly on SIGTERM", p.returncode)
    try_ok = sum(1 for _ in range(5) if get_url(addr)[0] == 200)
    check(try_ok == 5, "with no controller running the router still serves (%d/5)" % try_ok)
    start_controller(svc)
    up = poll(lambda: svc.get("web") if os.path.exists(svc.c.sock) else None, 60)
    s = svc.ready("web", 2, timeout=60)
    log = open(os.path.join(svc.c.dir, "controller.log"), errors="replace").read()
    check(up is not None and s is not None and
          sorted(r["job"] for r in s["replica_list"]) == jobs_before and
          "keeps routing after this controller" in log and log.count("haproxy: adopted pid") >= 2,
          "after a clean restart the kept router is adopted, the same replicas serve",
          jobs_before, s)


def scenario_main(svc, script):
    st, s = svc.api("POST", "/v1/services", spec("web", script))
    check(st == 201, "create web: 201", s)
    s = svc.ready("web", 2)
    check(s is not None, "web: 2 replicas ready", svc.get("web"))
    if not s:
        return
    addr, slot = s["address"], int(s["address"].rsplit(":", 1)[1]) - svc.base
    check(addr != "", "web has an address: " + addr)
    check(poll(lambda: svc.backends(slot) == routed(svc, svc.get("web")), 20),
          "router backends = ready replicas", svc.backends(slot), routed(svc, s))
    pids = {get_url(addr)[1].split()[2] for _ in range(8)}
    check(len(pids) == 2, "requests reach both replicas", pids)
    st, met = svc.c.http("GET", "/metrics")
    met = met.decode()
    check('aidc_service_replicas{state="ready"} 2' in met and "aidc_service_router_up 1" in met
          and "web" not in met, "/metrics: 2 ready replicas, router up, no service name")
    st, dup = svc.api("POST", "/v1/services", spec("web", script))
    check(st == 409, "a second 'web' is refused (%d)" % st, dup)

    victim = s["replica_list"][0]["job"]
    svc.c.cli("cancel", str(victim))
    s2 = poll(lambda: (lambda x: x if x and x["ready"] == 2 and x["total"] == 2 and victim not in
                       [r["job"] for r in x["replica_list"]] else None)(svc.get("web")), 60)
    check(s2 is not None and s2["restarts"] >= 1, "a killed replica is replaced", svc.get("web"))

    # Paced (at most ~200 requests/s): a saturated 2-core machine would make
    # the replicas' probes time out, which rightly fails the update.
    load = Load(addr, pause=0.02)
    time.sleep(1)
    st, u = svc.api("POST", "/v1/services/web", dict(spec("web", script), env=["VERSION=2"]))
    check(st == 200 and u["generation"] == 2, "update to generation 2 accepted", u)
    s = svc.ready("web", 2, gen=2, timeout=90)
    time.sleep(1)
    load.stop()
    check(s is not None, "rollout done: 2 ready replicas of generation 2", svc.get("web"))
    check(load.fail == 0 and load.ok > 50,
          "rolling update under load: %d requests, %d failed" % (load.ok, load.fail),
          load.errors[:5])
    check(load.versions == {"v1", "v2"}, "both versions answered during it", load.versions)

    st, u = svc.api("POST", "/v1/services/web",
                    dict(spec("web", script), env=["VERSION=3", "FAIL_PROBE=1"],
                         probe={"period_s": 1, "timeout_s": 1, "failure_threshold": 3,
                                "start_timeout_s": 3},
                         rollout={"max_surge": 1, "max_unavailable": 0, "max_failures": 2}))
    back = poll(lambda: (lambda x: x if x and "rolled back" in x["message"] else None)(
        svc.get("web")), 90)
    check(back is not None and back["generation"] == 2, "a failing update is rolled back",
          svc.get("web"))
    s = svc.ready("web", 2, gen=2, timeout=60)
    check(s is not None and get_url(addr)[1].startswith(b"v2"), "after rollback v2 serves")

    st, u = svc.api("POST", "/v1/services/web/scale", {"replicas": 3})
    s = svc.ready("web", 3)
    # The router takes a replica a worker round after the controller saw it ready.
    check(s is not None and poll(lambda: svc.backends(slot) == routed(svc, svc.get("web")), 20),
          "scaled to 3; backends follow", s and svc.backends(slot))
    st, u = svc.api("POST", "/v1/services/web/scale", {"replicas": 2})
    s = svc.ready("web", 2, timeout=60)
    check(s is not None and poll(lambda: svc.backends(slot) == routed(svc, svc.get("web")), 20),
          "scaled to 2; backends follow", s)
    other_user(svc)

    jobs_before = sorted(r["job"] for r in svc.get("web")["replica_list"])
    p = restart_controller(svc)
    up = poll(lambda: svc.get("web") if os.path.exists(svc.c.sock) else None, 60)
    try_ok = sum(1 for _ in range(5) if get_url(addr)[0] == 200)
    check(try_ok == 5, "requests succeed through a controller restart (%d/5)" % try_ok)
    s = svc.ready("web", 2, timeout=60)
    check(up is not None and s is not None and
          sorted(r["job"] for r in s["replica_list"]) == jobs_before,
          "after kill -9 the same replicas serve, none added", jobs_before, s)
    clean_restart(svc, p, addr, jobs_before)
    return addr, slot


def scenario_autoscale(svc, script):
    # A replica that accepts and never answers, with the longest probe timeout:
    # it must not hold up the probes of another service.
    st, h = svc.api("POST", "/v1/services",
                    spec("hang", script, replicas=1, env=["HANG=1"],
                         probe={"period_s": 60, "timeout_s": 60, "start_timeout_s": 600}))
    check(st == 201, "create hang (a replica that never answers its probe)", h)
    poll(lambda: (lambda x: x and x["replica_list"] and
                  x["replica_list"][0]["job_state"] == "running")(svc.get("hang")), 30)
    time.sleep(1)  # its first probe is in flight now
    sp = spec("auto", script, replicas=1,
              autoscale={"min": 1, "max": 3, "target_rps": 20, "scale_down_delay_s": 3})
    st, s = svc.api("POST", "/v1/services", sp)
    check(st == 201, "create auto (1..3 replicas, 20 req/s each)", s)
    t_ready = time.time()
    s = svc.ready("auto", 1, timeout=40)
    check(s is not None and time.time() - t_ready < 40,
          "auto: 1 replica ready in %.1f s beside hang's 60 s probe" % (time.time() - t_ready))
    svc.api("POST", "/v1/services/hang/delete")
    if not s:
        return
    # probe period 1 s: the bound is 1 + 5 s after the rate is seen (a 1 s reading).
    s2, dt = load_step(svc, "auto", s["address"], 4, "a load step", "after the load")
    print("measure: autoscale load step -> 2nd ready replica in %.1f s (%d req/s seen)"
          % (dt, s2["rps"] if s2 else -1))


def load_step(svc, name, addr, threads, why, after, during=None):
    """Load on addr until name has 2 ready replicas (checked; then during() runs,
    still under load), then none until it is back to 1 (checked). Returns the
    service at 2 (or None) and the seconds."""
    t0 = time.time()
    load = Load(addr, threads=threads)
    s2 = poll(lambda: (lambda x: x if x and x["ready"] >= 2 else None)(svc.get(name)), 60)
    dt = time.time() - t0
    if during:
        during()
    load.stop()
    check(s2 is not None, "%s adds a ready replica in %.1f s" % (why, dt), svc.get(name))
    down = poll(lambda: (lambda x: x if x and x["replicas"] == 1 and x["total"] == 1
                         else None)(svc.get(name)), 60)
    check(down is not None, "%s, back to 1 replica" % after, svc.get(name))
    return s2, dt


def scenario_latency(svc, script):
    # Replies take 200 ms against a 50 ms target: the response time adds a
    # replica; without requests the count goes back to the fewest.
    sp = spec("slow", script, replicas=1, env=["SLOW_MS=200"],
              autoscale={"min": 1, "max": 2, "target_latency_ms": 50,
                         "scale_down_delay_s": 3})
    st, s = svc.api("POST", "/v1/services", sp)
    check(st == 201, "create slow (1..2 replicas, 50 ms target, 200 ms replies)", s)
    s = svc.ready("slow", 1, timeout=40)
    if not s:
        return
    check(s["spec"]["autoscale"].get("target_latency_ms") == 50 and
          "target_rps" not in s["spec"]["autoscale"], "the spec keeps the latency target", s)
    def slowest_ms():
        # The slowest average response of the services with requests, as
        # GET /v1/services gives each one (root sees every service).
        st, d = svc.api("GET", "/v1/services")
        return max([x["avg_response_ms"] for x in (d or {}).get("services", [])
                    if x.get("rps", 0) > 0 and x.get("avg_response_ms", -1) >= 0] or [-1])

    def slow_in_metrics():
        # The router's average is not the replies' 200 ms alone (one ASan CI
        # run saw 73 ms while this checked >= 150 ms), so the metric is
        # compared with the services' own averages, read just before and
        # after it, while the load runs (so they have requests).
        before = slowest_ms()
        st, met = svc.c.http("GET", "/metrics")
        after = slowest_ms()
        met = met.decode() if isinstance(met, bytes) else (met or "")
        m = re.search(r'aidc_service_response_seconds\{stat="max"\} ([0-9.]+)', met)
        got = float(m.group(1)) * 1000 if m else -1
        lo, hi = min(before, after), max(before, after)
        check(st == 200 and m and lo > 0 and lo - 1 <= got <= hi + 1 and '"slow"' not in met,
              "/metrics: the slowest service's response time, no name (%s s; the API says "
              "%s..%s ms)" % (m.group(1) if m else "-", lo, hi))

    s2, dt = load_step(svc, "slow", s["address"], 2, "slow replies", "without requests",
                       slow_in_metrics)
    print("measure: latency autoscale -> 2nd ready replica in %.1f s (%s ms average seen)"
          % (dt, s2["avg_response_ms"] if s2 else "-"))
    svc.api("POST", "/v1/services/slow/delete")


def scenario_slot_share(svc):
    """service_slots_per_user = 3 of 4 slots: root's third routed service
    waits, naming the setting; another user's service gets the last slot; a
    slot freed goes to root's waiting service."""
    if not ensure_other("slot-share"):
        return
    c = svc.c
    poll(lambda: svc.get("slow") is None, 30)
    mine = [s["name"] for s in svc.api("GET", "/v1/services")[1]["services"]]
    check(mine == ["auto", "web"] or sorted(mine) == ["auto", "web"],
          "root has auto and web before the slot checks", mine)
    for name in ("r3", "r4"):
        r = c.cli("serve", "--name", name, "--replicas", "1", "--", "/bin/sleep", "1000")
        check(r.returncode == 0, "root creates " + name, r.stderr)
    r3, r4 = svc.get("r3"), svc.get("r4")
    check(r3 and r3["address"] != "", "r3 has an address (root's third slot)", r3)
    check(r4 and r4["address"] == "" and "service_slots_per_user" in r4.get("address_why", ""),
          "r4 waits, naming service_slots_per_user", r4)
    r = c.cli("serve", "--name", "theirs2", "--replicas", "1", "--", "/bin/sleep", "1000",
              user=OTHER)
    r2 = c.cli("services", "--json", user=OTHER)
    t = json.loads(r2.stdout)["services"] if r2.returncode == 0 else []
    check(r.returncode == 0 and t and t[0]["address"] != "",
          "another user's service gets the last free slot", r.stderr, r2.stdout)
    svc.api("POST", "/v1/services/r3/delete")
    check(poll(lambda: (lambda x: x and x["address"] != "")(svc.get("r4")), 30),
          "r3's slot goes to r4 once r3 is gone", svc.get("r4"))
    for name in ("r4", "theirs2"):
        svc.api("POST", "/v1/services/%s/delete" % name)
    check(poll(lambda: svc.get("r4") is None and svc.get("theirs2") is None, 30),
          "r4 and theirs2 are deleted")


def scenario_delete(svc, addr, slot):
    st, d = svc.api("POST", "/v1/services/web/delete")
    check(st == 202 and d["state"] == "deleting", "delete web: 202 deleting", d)
    jobs = [r["job"] for r in d["replica_list"]]
    gone = poll(lambda: svc.get("web") is None, 60)
    check(gone, "web is gone")
    check(all(svc.c.job(j)["state"] == "cancelled" for j in jobs),
          "its replicas' jobs were cancelled", [svc.c.job(j)["state"] for j in jobs])
    check(svc.backends(slot) == [], "its router slot is empty")


def main():
    if not os.access(HAPROXY, os.X_OK):
        skip("haproxy is not installed (Debian package haproxy; scripts/deps.sh)")
    base = free_base(4)
    rbase = free_base(200)
    while abs(rbase - base) < 300:
        rbase = free_base(200)
    d = os.path.join("/tmp", "aidc-svc-conf-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "controller.conf")
    with open(conf, "w") as f:
        f.write("service_port_base = %d\nservice_slots = 4\nreplica_port_min = %d\n"
                "replica_port_max = %d\nmax_services_per_user = 4\n"
                "service_slots_per_user = 3\nrouter_keep_on_stop = true\n"
                % (base, rbase, rbase + 199))
    c = Center(agents=2, extra=("--controller-config", conf))
    script = os.path.join(c.dir, "replica.py")
    with open(script, "w") as f:
        f.write(REPLICA)
    os.chmod(script, 0o644)
    svc = Svc(c, conf)
    svc.base = base
    bad_specs(svc, script)
    r = scenario_main(svc, script)
    scenario_autoscale(svc, script)
    scenario_latency(svc, script)
    scenario_slot_share(svc)
    if r:
        scenario_delete(svc, *r)
    shutil.rmtree(d, ignore_errors=True)
    print("%d failures" % len(live_test.FAILS))
    return 1 if live_test.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
