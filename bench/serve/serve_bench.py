#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/serve: an image-classification service behind HAProxy on a local
center against the same model served directly (issue 16's target).

The service is the catalogue's image-classifier-serve (a random-init resnet18
at 32x32 px, 1 torch thread, 1 CPU a replica), started with `aidc catalog
run` on a local center (`aidc up`, the router's and the replicas' ports
found free on loopback). Load: Debian's wrk, POST /predict with one
3x32x32 float32 image, --connections connections on one thread for
--duration seconds. Measured, in this order:
  1 replica    direct (the replica's own port, from `aidc service show
               --json`) and through the router (the service's address);
  2 replicas   (aidc service scale) directly (one wrk a replica, the
               connections split: summed requests/s, mean p50, largest p99)
               and through the router;
  rollout      `aidc service update --env BENCH_GEN=2` of 2 replicas under
               wrk with a pause of --rollout-delay-ms per request and
               connection: requests, and failed ones (socket errors and
               non-2xx), until the rollout is done.
Each row: requests/s, p50 and p99 latency (wrk's), and the p50 ratio against
the direct run of the same replica count: the router's overhead (target:
under 1.10). --rounds (3) such pairs per replica count, alternating which
goes first; the last line gives the median ratios. The load average is printed before and after: the machine may
be shared. A benchmark: it prints numbers and never fails on them (exit 1
only when the center or the service does not come up).

    serve_bench.py [--duration S] [--connections N] [--rounds N] [--rollout-delay-ms MS]
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AIDC = os.path.abspath(os.environ.get("AIDC_BIN", os.path.join(ROOT, "build/src/cli/aidc")))
HAPROXY = "/usr/sbin/haproxy"
PY = "/usr/bin/python3"
NAME = "bench-classifier"

LUA = r'''
local f = io.open("%(body)s", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.headers["X-Shape"] = "1,3,32,32"
%(delay)s
done = function(s, lat, req)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%.1f %%.1f\n", s.requests,
    s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout,
    s.duration, lat:percentile(50), lat:percentile(99)))
end
'''


def free_base(n):
    for _ in range(100):
        base, socks = random.randrange(30000, 60000 - n), []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    sys.exit("no free port range")


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


class Center:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="aidc-bench-serve-")
        os.chmod(self.dir, 0o755)
        base = free_base(2)
        rbase = free_base(100)
        while rbase < base + 2 and base < rbase + 100:
            rbase = free_base(100)
        conf = os.path.join(self.dir, "controller.conf")
        with open(conf, "w") as f:
            f.write("service_port_base = %d\nservice_slots = 2\nreplica_port_min = %d\n"
                    "replica_port_max = %d\n" % (base, rbase, rbase + 99))
        self.env = dict(os.environ, AIDC_SOCKET=os.path.join(self.dir, "aidc.sock"),
                        AIDC_CATALOG=os.path.join(ROOT, "catalog"))
        args = [AIDC, "up", "--dir", self.dir, "--agents", "1", "--devices", "0", "--cpus", "8",
                "--controller-config", conf]
        if os.geteuid() == 0:
            args.append("--allow-root-jobs")
        r = subprocess.run(args, capture_output=True, text=True, env=self.env)
        if r.returncode:
            self.down()
            sys.exit("aidc up failed: " + r.stdout + r.stderr)

    def cli(self, *args):
        return subprocess.run([AIDC] + list(args), capture_output=True, text=True, env=self.env)

    def svc(self):
        r = self.cli("service", "show", NAME, "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait(self, n, gen, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.svc()
            if s and s["ready"] == n and s["total"] == n and \
                    all(r["gen"] == gen for r in s["replica_list"]):
                return s
            time.sleep(0.5)
        sys.exit("the service did not get %d ready replicas of generation %d: %s"
                 % (n, gen, self.cli("service", "show", NAME).stdout))

    def down(self):
        subprocess.run([AIDC, "down", "--dir", self.dir], capture_output=True, env=self.env)
        pids = os.path.join(self.dir, "pids")
        for f in os.listdir(pids) if os.path.isdir(pids) else []:
            try:
                os.kill(int(open(os.path.join(pids, f)).read()), signal.SIGKILL)
            except (ValueError, OSError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def wrk_start(c, addr, conns, duration, delay_ms=0):
    lua = os.path.join(c.dir, "bench-%d.lua" % delay_ms)
    with open(lua, "w") as f:
        f.write(LUA % {"body": os.path.join(c.dir, "image.bin"),
                       "delay": "function delay() return %d end" % delay_ms if delay_ms else ""})
    return subprocess.Popen(["wrk", "-t1", "-c%d" % conns, "-d%ds" % duration, "--timeout", "10s",
                             "-s", lua, "http://%s/predict" % addr],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(p):
    out = p.communicate()[0]
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if not m:
        sys.exit("wrk: " + out)
    v = m.group(1).split()
    n, dur = int(v[0]), int(v[6]) / 1e6
    return {"requests": n, "failed": sum(int(x) for x in v[1:6]), "rps": n / dur,
            "p50_ms": float(v[7]) / 1e3, "p99_ms": float(v[8]) / 1e3}


def measure(c, addrs, a):
    """wrk on each address at once, the connections split among them: summed
    requests/s, the mean of the p50s and the largest p99."""
    if isinstance(addrs, str):
        addrs = [addrs]
    ps = [wrk_start(c, x, max(1, a.connections // len(addrs)), a.duration) for x in addrs]
    rs = [wrk_result(p) for p in ps]
    return {"requests": sum(r["requests"] for r in rs), "failed": sum(r["failed"] for r in rs),
            "rps": sum(r["rps"] for r in rs), "p50_ms": sum(r["p50_ms"] for r in rs) / len(rs),
            "p99_ms": max(r["p99_ms"] for r in rs)}


def compare(c, what, direct, addr, a):
    """--rounds pairs of direct and routed runs, alternating which goes first
    (a shared machine's load drifts); the median of the pairs' p50 ratios."""
    ratios = []
    for i in range(a.rounds):
        first, second = (direct, addr) if i % 2 == 0 else (addr, direct)
        r = {first is direct: measure(c, first, a)}
        r[second is direct] = measure(c, second, a)
        tag = " #%d" % (i + 1) if a.rounds > 1 else ""
        row("%s, direct%s%s" % (what, " (each)" if isinstance(direct, list) else "", tag), r[True])
        row("%s, via HAProxy%s" % (what, tag), r[False], r[True])
        ratios.append(r[False]["p50_ms"] / r[True]["p50_ms"])
    return sorted(ratios)[len(ratios) // 2]


def row(what, r, base=None):
    ratio = "%.3f" % (r["p50_ms"] / base["p50_ms"]) if base else "-"
    print("%-30s %9.1f %8.2f %8.2f %8d %6d %8s" % (what, r["rps"], r["p50_ms"], r["p99_ms"],
                                                   r["requests"], r["failed"], ratio), flush=True)


def rollout(c, addr, a):
    p = wrk_start(c, addr, a.connections, 300, a.rollout_delay_ms)
    time.sleep(2)
    t0 = time.time()
    r = c.cli("service", "update", NAME, "--env", "BENCH_GEN=2")
    if r.returncode:
        p.send_signal(signal.SIGINT)
        sys.exit("update: " + r.stderr)
    c.wait(2, 2)
    dt = time.time() - t0
    time.sleep(2)
    p.send_signal(signal.SIGINT)
    return wrk_result(p), dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds per measurement (10)")
    ap.add_argument("--connections", type=int, default=2, help="wrk connections (2)")
    ap.add_argument("--rollout-delay-ms", type=int, default=20,
                    help="pause per request and connection during the rollout (20)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="direct/routed pairs per replica count, alternating the order (3)")
    a = ap.parse_args()
    if not (1 <= a.duration <= 600 and 1 <= a.connections <= 256 and 1 <= a.rounds <= 100):
        sys.exit("--duration 1..600, --connections 1..256, --rounds 1..100")
    for what, ok in (("aidc at " + AIDC, os.access(AIDC, os.X_OK)),
                     ("haproxy", os.access(HAPROXY, os.X_OK)), ("wrk", shutil.which("wrk")),
                     ("torch", subprocess.run([PY, "-c", "import torch, torchvision"]).returncode == 0)):
        if not ok:
            print("SKIP: %s is missing (scripts/deps.sh)" % what)
            return 77
    print("load average before: %s" % " ".join(loadavg()), flush=True)
    c = Center()
    try:
        with open(os.path.join(c.dir, "image.bin"), "wb") as f:
            f.write(subprocess.run([PY, "-c", "import sys, torch; torch.manual_seed(1); "
                                    "sys.stdout.buffer.write(torch.randn(1,3,32,32).numpy().tobytes())"],
                                   capture_output=True).stdout)
        r = c.cli("catalog", "run", "image-classifier-serve", "--name", NAME, "--replicas", "1",
                  "-c", "1", "--mem", "1G", "--set", "image_size=32", "--set", "threads=1",
                  "--set", "device=cpu")
        if r.returncode:
            sys.exit("catalog run: " + r.stderr)
        s = c.wait(1, 1)
        addr = s["address"]
        direct = "127.0.0.1:%d" % s["replica_list"][0]["port"]
        print("service %s at %s (router), replica at %s; wrk -t1 -c%d -d%ds, POST /predict 3x32x32"
              % (NAME, addr, direct, a.connections, a.duration))
        print("%-30s %9s %8s %8s %8s %6s %8s" % ("", "req/s", "p50 ms", "p99 ms", "requests",
                                                 "failed", "p50/dir"))
        m1 = compare(c, "1 replica", direct, addr, a)
        c.cli("service", "scale", NAME, "2")
        s = c.wait(2, 1)
        m2 = compare(c, "2 replicas", ["127.0.0.1:%d" % x["port"] for x in s["replica_list"]],
                     addr, a)
        ro, dt = rollout(c, addr, a)
        row("rolling update (%.0f s), HAProxy" % dt, ro)
        print("median p50 ratio, HAProxy over direct: 1 replica %.3f, 2 replicas %.3f "
              "(target < 1.10); rolling update: %d requests, %d failed (target 0)"
              % (m1, m2, ro["requests"], ro["failed"]))
    finally:
        print("load average after: %s" % " ".join(loadavg()), flush=True)
        c.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
