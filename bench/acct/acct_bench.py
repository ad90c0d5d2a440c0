#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/acct: `aidc acct` over N job accounting records (default 1,000,000)
with a time-window filter (issue 12 target: under 200 ms).

A controller's database (schema 6, made by starting `aidc controller` once) is
filled with N records spread evenly over one year (end times; users,
accounts, device models and device-seconds varied), then the controller is
started on it and each query is timed end to end as a user sees it: the
`aidc acct ... --json` process (start, HTTP over the Unix socket, the query,
JSON out and parsed), median of REPS runs, output to /dev/null.

Queries: a 1-hour and a 1-day window (about N/8760 and N/365 records), a day
for one user, and `aidc usage` over a day. Baselines in the same run: the
same binary answering `aidc acct --jobs ID` (one record: the fixed cost of a
process and a request), and the 1-day window again after the controller was
restarted on the same database without the job_acct indexes (a full scan:
what the indexes buy). This is a benchmark: it prints numbers and ratios and
never fails on them.

    acct_bench.py [--records N] [--reps R]      (AIDC_BIN overrides the binary)
"""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
AIDC = os.environ.get("AIDC_BIN") or os.path.join(ROOT, "build", "src/cli/aidc")
YEAR_S = 365 * 86400
T0 = 1767225600  # 2026-01-01T00:00:00Z


class Controller:
    def __init__(self, d):
        self.dir = d
        self.state = os.path.join(d, "ctl")
        self.sock = os.path.join(d, "aidc.sock")
        self.p = None

    def start(self):
        pf = os.path.join(self.dir, "port")
        if os.path.exists(pf):
            os.unlink(pf)
        args = [AIDC, "controller", "--state-dir", self.state, "--socket", self.sock,
                "--port", "0", "--port-file", pf]
        log = open(os.path.join(self.dir, "controller.log"), "a")
        self.p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while not os.path.exists(pf):
            if self.p.poll() is not None or time.time() > deadline:
                sys.exit("the controller did not start: see " + log.name)
            time.sleep(0.05)

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.terminate()
            self.p.wait(timeout=60)
        self.p = None


def fill(db_path, n):
    """N records, end times spread over a year from T0, in id order."""
    rnd = random.Random(12)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous=OFF")
    users = ["user%03d" % i for i in range(200)]
    accounts = ["proj%02d" % i for i in range(40)]
    models = ["H100", "A100", "T4", "MI300X"]
    rows = []
    sql = ("INSERT INTO job_acct (job_id, attempt, uid, user, account, qos, name, state,"
           " exit_code, term_signal, submit_s, start_s, end_s, ntasks, ndev, nodes, devices,"
           " dev_s, dev_s_total, cpu_usec, mem_peak_bytes, tasks)"
           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    for i in range(n):
        end = T0 + i * YEAR_S // n
        run = rnd.randint(10, 36000)
        ndev = rnd.choice((1, 2, 4, 8))
        model = models[i % 4]
        u = rnd.randrange(200)
        ds = ndev * run
        tasks = ('[{"index":0,"node":"node-%d","state":"exited","exit_code":0,"signal":0,'
                 '"start_s":%d,"end_s":%d,"devices":%d,"model":"%s","device_seconds":%d}]'
                 % (i % 512, end - run, end, ndev, model, ds))
        rows.append((i + 1, 0, 10000 + u, users[u], accounts[u % 40], "", "job%d" % i,
                     3 if i % 10 else 4, 0 if i % 10 else 1, 0, end - run - 60, end - run, end,
                     1, ndev, "node-%d" % (i % 512), '{"%s":%d}' % (model, ndev),
                     '{"%s":%d}' % (model, ds), ds, -1, -1, tasks))
        if len(rows) == 50000:
            db.executemany(sql, rows)
            rows = []
    if rows:
        db.executemany(sql, rows)
    db.commit()
    db.close()


def timed(c, args, reps):
    ms = []
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        r = subprocess.run([AIDC] + args + ["--socket", c.sock], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        ms.append((time.perf_counter() - t) * 1000)
        if r.returncode != 0:
            sys.exit("aidc %s failed: %s" % (" ".join(args), r.stderr))
        out = r.stdout
    return statistics.median(ms), out


def http_ms(c, path, reps):
    """The request alone (no process start): GET over the Unix socket."""
    ms = []
    for _ in range(reps):
        t = time.perf_counter()
        h = http.client.HTTPConnection("localhost", timeout=60)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(c.sock)
        h.sock = s
        h.request("GET", path)
        r = h.getresponse()
        r.read()
        h.close()
        ms.append((time.perf_counter() - t) * 1000)
    return statistics.median(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    if not os.path.exists(AIDC):
        sys.exit("aidc binary not found at " + AIDC)
    d = tempfile.mkdtemp(prefix="aidc-bench-acct-")
    c = Controller(d)
    try:
        c.start()  # makes the database at the current schema
        c.stop()
        db = os.path.join(c.state, "aidc.db")
        t = time.time()
        fill(db, a.records)
        print("filled %d records in %.1f s (%.0f MB)" % (a.records, time.time() - t,
                                                         os.path.getsize(db) / 1e6))
        c.start()
        mid = T0 + YEAR_S // 2
        hour = ["--since", str(mid), "--until", str(mid + 3600)]
        day = ["--since", str(mid), "--until", str(mid + 86400)]
        base, _ = timed(c, ["acct", "--json", "--jobs", str(a.records // 2)], a.reps)
        res = {}
        ms, out = timed(c, ["acct", "--csv"] + day, 1)
        if out.count("\n") != 1 + sum(1 for _ in range(1)) * 0 + len(
                json.loads(timed(c, ["acct", "--json"] + day, 1)[1])["records"]):
            sys.exit("--csv and --json disagree on the record count")
        for name, args in [("1-hour window", ["acct", "--json"] + hour),
                           ("1-day window", ["acct", "--json"] + day),
                           ("1-day window, table", ["acct"] + day),
                           ("1-day window, one user", ["acct", "--json", "--user", "user007"] + day),
                           ("7-day window (2 pages)", ["acct", "--json", "--since", str(mid),
                                                       "--until", str(mid + 7 * 86400)]),
                           ("usage, 1 day by user", ["usage", "--json", "--by", "user"] + day)]:
            ms, out = timed(c, args, a.reps)
            n = json.loads(out)["records"] if "--json" in args and args[0] == "acct" else None
            if n is not None:
                ids = [x["record"] for x in n]
                if len(set(ids)) != len(ids) or ids != sorted(ids):
                    sys.exit("%s: records repeated or out of order across pages" % name)
                n = len(n)
            res[name] = ms
            print("%-28s %8.1f ms%s  (%.2fx the 1-record query)" % (
                name, ms, "  %6d records" % n if n is not None else "", ms / base))
        print("%-28s %8.1f ms  (baseline: process + request + 1 record)" % (
            "--jobs ID (1 record)", base))
        h1 = http_ms(c, "/v1/acct?jobs=%d" % (a.records // 2), a.reps)
        hd = http_ms(c, "/v1/acct?since=%d&until=%d" % (mid, mid + 86400), a.reps)
        print("%-28s %8.1f ms  (GET /v1/acct alone; 1 record: %.1f ms)" % (
            "1-day window, HTTP only", hd, h1))
        hu = http_ms(c, "/v1/usage?by=user&since=%d&until=%d" % (mid, mid + 86400), a.reps)
        print("%-28s %8.1f ms  (GET /v1/usage alone)" % ("usage 1 day, HTTP only", hu))
        c.stop()
        raw = sqlite3.connect(db)
        for ix in ("job_acct_end", "job_acct_uid_end", "job_acct_account_end"):
            raw.execute("DROP INDEX " + ix)
        raw.commit()
        raw.close()
        c.start()
        scan, _ = timed(c, ["acct", "--json"] + day, max(3, a.reps // 2))
        print("%-28s %8.1f ms  (without the indexes: the indexed query is %.1fx faster)" % (
            "1-day window, full scan", scan, scan / res["1-day window"]))
        target = res["1-day window"]
        print("target: aidc acct with a 1-day window over %d records: %.1f ms (%s 200 ms)" % (
            a.records, target, "under" if target < 200 else "NOT under"))
    finally:
        c.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
