#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/array: job arrays against single jobs on one local AIDC center, in
the same run (issue 13 item 3's targets).

  submit   `aidc sbatch -H --array=0-(N-1)` (one request) against N single
           `aidc sbatch -H --wrap true` submissions from CLIENTS parallel
           processes (held, so nothing runs while they are timed); target:
           a 10,000-element array in under 1 s.
  start    RUN trivial elements of one array against RUN single jobs, each
           set queued at once behind a held gate job (afterok); the gate is
           released and the time to the last completion is measured (the
           controller's aidc_jobs_finished_total): elements' end-to-end rate
           against single jobs'.

    bench_array.py [--elements N] [--clients N] [--run N] [--agents N]

The center: `aidc up` with AGENTS mock agents of 64 CPUs each in a temporary
directory, stopped (`aidc down`, then SIGKILL by PID) at exit. The load
average is printed: the machine may be shared. A benchmark: it prints
numbers and ratios and never fails on them.
"""
import argparse
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
AIDC = os.environ.get("AIDC_BIN") or os.path.join(ROOT, "build", "src/cli/aidc")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        self.sock = s


class Center:
    def __init__(self, agents):
        self.dir = tempfile.mkdtemp(prefix="aidc-bench-array-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "aidc.sock")
        self.env = dict(os.environ, AIDC_SOCKET=self.sock)
        args = [AIDC, "up", "--dir", self.dir, "--agents", str(agents), "--devices", "0",
                "--cpus", "64", "--mem-mib", "262144"]
        if os.geteuid() == 0:
            args.append("--allow-root-jobs")
        atexit.register(self.stop)
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit("aidc up failed: %s %s" % (r.stdout, r.stderr))
        self.conn = UnixHTTP(self.sock)
        deadline = time.time() + 30
        while time.time() < deadline:
            st, data = self.http("GET", "/v1/nodes")
            if st == 200 and sum(x["state"] == "up" for x in json.loads(data)["nodes"]) >= agents:
                return
            time.sleep(0.1)
        raise SystemExit("agents did not come up")

    def http(self, method, path):
        try:
            self.conn.request(method, path)
            r = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn.request(method, path)
            r = self.conn.getresponse()
        return r.status, r.read()

    def sbatch(self, *args):
        r = subprocess.run([AIDC, "sbatch", "--parsable", "-o", "/dev/null", *args],
                           cwd=self.dir, env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("sbatch %s: %s" % (" ".join(args), r.stderr))
        return int(r.stdout.strip())

    def call(self, *args):
        subprocess.run([AIDC, *args], env=self.env, capture_output=True, check=True)

    def finished(self):
        st, data = self.http("GET", "/metrics")
        for line in data.decode().splitlines():
            if line.startswith("aidc_jobs_finished_total "):
                return int(float(line.split()[1]))
        return 0

    def cancel_all(self):
        subprocess.run([AIDC, "scancel", "-u", str(os.geteuid())], env=self.env,
                       capture_output=True)

    def stop(self):
        if not self.dir:
            return
        try:
            subprocess.run([AIDC, "down", "--dir", self.dir], capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass  # the daemons are killed by PID below
        pdir = os.path.join(self.dir, "pids")
        for f in os.listdir(pdir) if os.path.isdir(pdir) else []:
            try:
                os.kill(int(open(os.path.join(pdir, f)).read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


def bench_submit(c, n, clients):
    t0 = time.monotonic()
    a = c.sbatch("-H", "--array=0-%d" % (n - 1), "--wrap", "true")
    t_arr = time.monotonic() - t0
    c.cancel_all()  # the singles count against max_pending_jobs_per_user
    t0 = time.monotonic()
    with ThreadPoolExecutor(clients) as ex:
        list(ex.map(lambda _: c.sbatch("-H", "--wrap", "true"), range(n)))
    t_single = time.monotonic() - t0
    print("submit: %d-element array in one request: %.3f s (target < 1 s)" % (n, t_arr))
    print("submit: %d single sbatch, %d clients: %.2f s (%.0f jobs/s)" %
          (n, clients, t_single, n / t_single))
    print("submit: array / singles time ratio %.4f (%.0fx faster)" %
          (t_arr / t_single, t_single / t_arr))
    c.cancel_all()
    return a


def run_set(c, n, array):
    gate = c.sbatch("-H", "--wrap", "true")
    dep = "--dependency=afterok:%d" % gate
    base = c.finished()
    if array:
        c.sbatch(dep, "--array=0-%d" % (n - 1), "--wrap", "true")
    else:
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda _: c.sbatch(dep, "--wrap", "true"), range(n)))
    t0 = time.monotonic()
    c.call("release", str(gate))
    want = base + 1 + n  # the gate, then the set
    deadline = t0 + 600
    while c.finished() < want and time.monotonic() < deadline:
        time.sleep(0.02)
    dt = time.monotonic() - t0
    done = c.finished() - base - 1
    return dt, done


def bench_start(c, n):
    ts, ds = run_set(c, n, False)
    ta, da = run_set(c, n, True)
    print("start: %d single jobs end to end after release: %.2f s (%.0f jobs/s, %d done)" %
          (n, ts, ds / ts, ds))
    print("start: %d array elements end to end after release: %.2f s (%.0f jobs/s, %d done)" %
          (n, ta, da / ta, da))
    print("start: elements / single jobs rate ratio %.2f" % ((da / ta) / (ds / ts)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--elements", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--run", type=int, default=2000)
    ap.add_argument("--agents", type=int, default=4)
    a = ap.parse_args()
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    c = Center(a.agents)
    bench_submit(c, a.elements, a.clients)
    bench_start(c, a.run)
    c.stop()
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
