#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/live_throughput: trivial-job throughput and latency of a local AIDC
center against Slurm on the same machine, in the same run (issue 4).

Workload, identical for both systems:
  latency     on an idle center, LAT_JOBS jobs one after another; each job
              writes the time it started into a marker file; submit-to-start is
              that time minus the moment the client began its submission.
  throughput  JOBS trivial jobs (`true`) submitted by CLIENTS parallel clients;
              submissions/s = JOBS / time to submit them all; end-to-end
              jobs/s = JOBS / (last completion - first submission).
AIDC is measured twice: with clients that speak HTTP over the Unix socket
with keep-alive (how a workflow engine submits) and with `aidc submit`
processes (like `sbatch`, one process per job). Slurm: `sbatch --wrap`.

Slurm runs as documented in ../shared/peers/slurm (README.md, relative to
the repository root; $AIDC_SLURM_PEER overrides): Debian's
munged, slurmctld and slurmd started by hand in a temporary directory with
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0 and 64 CPUs
declared through SlurmdParameters=config_overrides, stopped by PID.

    live_throughput.py [--jobs N] [--clients N] [--no-slurm] [--history N]
                       [--pg | --pg-uri URI] [--sbatch-only [--hold]] [--rounds N]

--history N additionally runs N more trivial jobs through the AIDC center and
reports the controller's RSS with N finished jobs in its history.
--pg additionally measures AIDC with its store on PostgreSQL (issue 15 item
3: end-to-end jobs/s at least half of SQLite's), on a throwaway server that
tests/store/pg_server.sh starts from Debian's packages with its default,
durable settings (fsync, synchronous_commit on; SQLite runs with
synchronous=FULL), and prints the PostgreSQL/SQLite ratios of the same run.
--rounds N measures N such pairs, alternating which backend goes first
(the load of a shared machine drifts), and reports each ratio and their
median. --pg-uri URI uses an existing database instead (its tables are created or
migrated; the bench adds jobs to it).
--sbatch-only measures only the issue 13 target: 8 (--clients) loops of
`aidc sbatch -Q -o /dev/null --wrap true` processes against the same loops of
Slurm's sbatch, --rounds pairs alternating which system goes first, each
ratio and their median (each system starts fresh every round).
--hold (with --sbatch-only) also measures the submission path alone: after
the default measurement, the same loops submit held jobs (`sbatch -H` on
both sides: nothing runs, so the CPU the center spends running jobs is not
taken from the clients), which are then cancelled; both ratios are printed.
The load average is printed before and after: the machine may be shared.
This is a benchmark: it prints numbers and ratios and never fails on them.
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
AIDC = os.environ.get("AIDC_BIN") or os.path.join(ROOT, "build", "src/cli/aidc")
PEERS = os.environ.get("AIDC_SLURM_PEER") or os.path.join(os.path.dirname(ROOT), "shared", "peers", "slurm")
STARTED = []  # (name, pid) of every daemon this script started
CHILDREN = []  # Popen objects among them, reaped on cleanup


def log(*a):
    print(*a, flush=True)


def cleanup():
    for name, pid in reversed(STARTED):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + 5
    for name, pid in STARTED:
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    STARTED.clear()
    for p in CHILDREN:
        p.wait()
    CHILDREN.clear()


def rss_kib(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def pct(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def wait_file(path, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                s = f.read().strip()
            if s:
                return s
        except OSError:
            pass
        time.sleep(0.0005)
    return None


# ---- AIDC ------------------------------------------------------------------------


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        self.sock = s


class Aidc:
    runs = 0

    def __init__(self, agents, db=None):
        """db: the controller's store (a postgresql:// URI), None = SQLite, the default."""
        self.name = "AIDC/PostgreSQL" if db else "AIDC"
        Aidc.runs += 1
        self.tag = "a%d-" % Aidc.runs  # latency markers of this run only
        self.dir = tempfile.mkdtemp(prefix="aidc-bench-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "aidc.sock")
        self.env = dict(os.environ, AIDC_SOCKET=self.sock)
        args = [AIDC, "up", "--dir", self.dir, "--agents", str(agents), "--devices", "2",
                "--cpus", "64", "--mem-mib", "262144"]
        if os.geteuid() == 0:
            args.append("--allow-root-jobs")
        if db:
            cfg = os.path.join(self.dir, "controller.conf")
            with open(cfg, "w") as f:
                f.write("db = %s\n" % db)
            os.chmod(cfg, 0o600)
            args += ["--controller-config", cfg]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit("aidc up failed: %s %s" % (r.stdout, r.stderr))
        pdir = os.path.join(self.dir, "pids")
        for f in sorted(os.listdir(pdir)):
            STARTED.append((f, int(open(os.path.join(pdir, f)).read())))
        self.ctld_pid = int(open(os.path.join(pdir, "controller.pid")).read())
        self.wait_nodes(agents)

    def http(self, conn, method, path, body=None):
        hdrs = {"Content-Type": "application/json"} if body else {}
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # An idle keep-alive connection closed by the server: reconnect once.
            conn.close()
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
        return r.status, r.read()

    def wait_nodes(self, n):
        import json
        c = UnixHTTP(self.sock)
        deadline = time.time() + 30
        while time.time() < deadline:
            st, data = self.http(c, "GET", "/v1/nodes")
            if st == 200 and sum(x["state"] == "up" for x in json.loads(data)["nodes"]) >= n:
                return
            time.sleep(0.1)
        raise SystemExit("AIDC: agents did not come up")

    def finished(self, conn):
        st, data = self.http(conn, "GET", "/metrics")
        for line in data.decode().splitlines():
            if line.startswith("aidc_jobs_finished_total "):
                return int(line.split()[1])
        return 0

    def submit_body(self, argv):
        import json
        return json.dumps({"command": argv, "cwd": "/tmp"})

    def latency(self, n, mdir):
        c = UnixHTTP(self.sock)
        out = []
        for i in range(n):
            marker = os.path.join(mdir, "%s%d" % (self.tag, i))
            body = self.submit_body(["/bin/sh", "-c", "date +%s.%N > " + marker])
            base = self.finished(c)
            t0 = time.time()
            st, data = self.http(c, "POST", "/v1/jobs", body)
            if st != 201:
                raise SystemExit("AIDC submit: %d %s" % (st, data))
            s = wait_file(marker, 30)
            if s is None:
                raise SystemExit("AIDC: latency job %d never started" % i)
            out.append(float(s) - t0)
            deadline = time.time() + 30  # idle again before the next one
            while self.finished(c) <= base and time.time() < deadline:
                time.sleep(0.002)
        return out

    def throughput_api(self, jobs, clients):
        c = UnixHTTP(self.sock)
        base = self.finished(c)
        body = self.submit_body(["true"])
        errors = []

        def worker(k):
            conn = UnixHTTP(self.sock)
            for _ in range(k):
                st, data = self.http(conn, "POST", "/v1/jobs", body)
                if st != 201:
                    errors.append((st, data))
            conn.close()

        per = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
        th = [threading.Thread(target=worker, args=(k,)) for k in per]
        t0 = time.time()
        for t in th:
            t.start()
        for t in th:
            t.join()
        t_sub = time.time() - t0
        if errors:
            raise SystemExit("AIDC: %d submissions failed: %s" % (len(errors), errors[0]))
        done = self.wait_done(c, base + jobs, 600)
        return jobs / t_sub, jobs / (done - t0)

    CLI_SUBMIT = {"submit": '"$0" submit -- true',
                  "sbatch": '"$0" sbatch -Q -o /dev/null --wrap true',
                  "sbatch_hold": '"$0" sbatch -Q -H -o /dev/null --wrap true'}

    def throughput_cli(self, jobs, clients, how="submit"):
        """how: "submit" (aidc submit, a task per job), "sbatch" (aidc
        sbatch --wrap, the command line of Slurm's run) or "sbatch_hold"
        (the same, held: submissions/s only; the jobs are cancelled, and
        the end-to-end rate is None)."""
        c = UnixHTTP(self.sock)
        base = self.finished(c)
        per = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
        t0 = time.time()
        procs = [subprocess.Popen(["/bin/sh", "-c", 'i=0; while [ $i -lt %d ]; do '
                                   '%s >/dev/null || exit 1; i=$((i+1)); done'
                                   % (k, self.CLI_SUBMIT[how]), AIDC], env=self.env)
                 for k in per]
        bad = sum(p.wait() != 0 for p in procs)
        t_sub = time.time() - t0
        if bad:
            raise SystemExit("AIDC: %d CLI clients failed" % bad)
        if how == "sbatch_hold":
            r = subprocess.run([AIDC, "scancel", "--me"], env=self.env, capture_output=True,
                               text=True, timeout=120)
            if r.returncode != 0:
                raise SystemExit("AIDC: scancel of the held jobs failed: " + r.stderr)
            return jobs / t_sub, None
        done = self.wait_done(c, base + jobs, 600)
        return jobs / t_sub, jobs / (done - t0)

    def wait_done(self, c, want, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.finished(c) >= want:
                return time.time()
            time.sleep(0.01)
        raise SystemExit("AIDC: jobs did not finish in %d s" % timeout)

    def rss(self):
        return rss_kib(self.ctld_pid)

    def stop(self):
        subprocess.run([AIDC, "down", "--dir", self.dir], capture_output=True, timeout=60)
        cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- Slurm -------------------------------------------------------------------------


class Slurm:
    name = "Slurm"

    def __init__(self):
        for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue"):
            if not shutil.which(b):
                raise RuntimeError("%s not installed (scripts/deps.sh --bench)" % b)
        self.dir = tempfile.mkdtemp(prefix="aidc-slurm-")
        os.chmod(self.dir, 0o755)
        w = self.dir
        for d in ("munge", "state", "spool", "log", "dev", "out"):
            os.makedirs(os.path.join(w, d))
        os.chmod(os.path.join(w, "munge"), 0o700)
        for i in range(8):
            subprocess.run(["mknod", os.path.join(w, "dev", "fakegpu%d" % i), "c", "1", "3"],
                           check=True)
        host = socket.gethostname().split(".")[0]
        for f in ("slurm.conf", "gres.conf"):
            text = open(os.path.join(PEERS, f)).read().replace("$WORKDIR", w)
            text = text.replace("NodeName=vm ", "NodeName=%s " % host)
            text = text.replace("Nodes=vm ", "Nodes=%s " % host)
            with open(os.path.join(w, f), "w") as out:
                out.write(text)
        self.conf = os.path.join(w, "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        key = os.path.join(w, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        args = open(os.path.join(PEERS, "munged.args")).read().split()[1:]
        self.spawn("munged", ["munged", "-F", "-f", "--key-file=" + key,
                              "--socket=" + os.path.join(w, "munge", "munge.sock"),
                              "--pid-file=" + os.path.join(w, "munge", "munged.pid"),
                              "--log-file=" + os.path.join(w, "log", "munged.log"),
                              "--seed-file=" + os.path.join(w, "munge", "seed")] + args)
        self.wait_path(os.path.join(w, "munge", "munge.sock"))
        self.spawn("slurmctld", ["slurmctld", "-D", "-f", self.conf])
        time.sleep(0.5)
        self.spawn("slurmd", ["slurmd", "-D", "-f", self.conf])
        deadline = time.time() + 60
        while time.time() < deadline:
            r = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True,
                               env=self.env)
            if r.returncode == 0 and r.stdout.strip() in ("idle", "mix", "alloc"):
                return
            time.sleep(0.2)
        raise RuntimeError("Slurm node never became idle: " + r.stdout + r.stderr)

    def spawn(self, name, argv):
        p = subprocess.Popen(argv, env=self.env if hasattr(self, "env") else None,
                             stdout=open(os.path.join(self.dir, "log", name + ".out"), "w"),
                             stderr=subprocess.STDOUT)
        STARTED.append((name, p.pid))
        CHILDREN.append(p)

    def wait_path(self, p):
        deadline = time.time() + 10
        while not os.path.exists(p) and time.time() < deadline:
            time.sleep(0.05)

    def sbatch(self, cmd):
        r = subprocess.run(["sbatch", "--parsable", "-o", "/dev/null", "--wrap", cmd],
                           capture_output=True, text=True, env=self.env)
        if r.returncode != 0:
            raise SystemExit("sbatch: " + r.stderr)
        return r.stdout.strip()

    def queued(self):
        r = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True,
                           env=self.env)
        return len(r.stdout.split()) if r.returncode == 0 else -1

    def latency(self, n, mdir):
        out = []
        for i in range(n):
            marker = os.path.join(mdir, "s%d" % i)
            t0 = time.time()
            self.sbatch("date +%s.%N > " + marker)
            s = wait_file(marker, 60)
            if s is None:
                raise SystemExit("Slurm: latency job %d never started" % i)
            out.append(float(s) - t0)
            deadline = time.time() + 30
            while self.queued() > 0 and time.time() < deadline:
                time.sleep(0.01)
        return out

    def throughput_cli(self, jobs, clients, hold=False):
        """hold: held jobs (sbatch -H), cancelled after; the end-to-end rate is None."""
        per = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
        t0 = time.time()
        procs = [subprocess.Popen(["/bin/sh", "-c", 'i=0; while [ $i -lt %d ]; do '
                                   'sbatch -Q %s-o /dev/null --wrap true >/dev/null || exit 1; '
                                   'i=$((i+1)); done' % (k, "-H " if hold else "")],
                                  env=self.env) for k in per]
        bad = sum(p.wait() != 0 for p in procs)
        t_sub = time.time() - t0
        if bad:
            raise SystemExit("Slurm: %d sbatch clients failed" % bad)
        if hold:
            r = subprocess.run(["scancel", "-u", str(os.geteuid()), "-t", "PENDING"],
                               env=self.env, capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise SystemExit("Slurm: scancel of the held jobs failed: " + r.stderr)
            return jobs / t_sub, None
        deadline = time.time() + 900
        while time.time() < deadline:
            left = self.queue_reasons()
            stuck = [j for j, why in left if "launch failed" in why]
            if len(stuck) == len(left):
                break
            time.sleep(0.05)
        t_end = time.time()
        if stuck:
            # Slurm held them after a failed launch (a loaded machine): they
            # never run by themselves; cancelled, and counted as not done.
            log("  Slurm: %d jobs pending with reason 'launch failed requeued held',"
                " cancelled (end-to-end rate over the %d that ran)" % (len(stuck), jobs - len(stuck)))
            subprocess.run(["scancel"] + stuck, env=self.env, capture_output=True, timeout=120)
        return jobs / t_sub, (jobs - len(stuck)) / (t_end - t0)

    def queue_reasons(self):
        """(job id, pending reason) of every job in the queue."""
        r = subprocess.run(["squeue", "-h", "-o", "%i %r"], capture_output=True, text=True,
                           env=self.env)
        if r.returncode != 0:
            return [("?", "")]
        return [tuple((line + " ").split(" ", 1)) for line in r.stdout.splitlines()]

    def rss(self):
        for name, pid in STARTED:
            if name == "slurmctld":
                return rss_kib(pid)
        return -1

    def stop(self):
        cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- PostgreSQL ------------------------------------------------------------------------


PG_SERVER = os.path.join(ROOT, "tests", "store", "pg_server.sh")


def pg_start():
    """A throwaway server (tests/store/pg_server.sh): (uri, dir), or raises RuntimeError."""
    d = tempfile.mkdtemp(prefix="aidc-bench-pg-")
    os.rmdir(d)  # pg_server.sh makes it, owned by the server's user
    r = subprocess.run([PG_SERVER, "start", d], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        subprocess.run([PG_SERVER, "stop", d], capture_output=True, timeout=60)
        raise RuntimeError((r.stdout + r.stderr).strip())
    return r.stdout.strip().splitlines()[-1], d


def pg_stop(d):
    subprocess.run([PG_SERVER, "stop", d], capture_output=True, timeout=60)


def measure_aidc(args, mdir, db):
    log("%s: controller + %d agents with mock devices%s"
        % ("AIDC/PostgreSQL" if db else "AIDC (%s)" % AIDC, args.agents,
           ", db = %s" % db if db else ""))
    a = Aidc(args.agents, db=db)
    try:
        return measure(a, args, mdir, True)
    finally:
        a.stop()


def measure_pg(args, mdir, res):
    """Round 0: PostgreSQL after the SQLite run of main; each further round
    runs both again, PostgreSQL first in odd rounds (load drifts on a shared
    machine), each PostgreSQL run on a fresh server (or --pg-uri)."""
    res["rounds"] = []
    for k in range(args.rounds):
        srv = None
        uri = args.pg_uri
        if not uri:
            try:
                uri, srv = pg_start()
            except RuntimeError as e:
                log("  AIDC/PostgreSQL: not measured: %s" % e)
                return
        try:
            log("-- round %d of %d" % (k + 1, args.rounds))
            if k == 0:
                q = res["AIDC"]
                p = measure_aidc(args, mdir, uri)
            elif k % 2:
                p = measure_aidc(args, mdir, uri)
                q = measure_aidc(args, mdir, None)
            else:
                q = measure_aidc(args, mdir, None)
                p = measure_aidc(args, mdir, uri)
        finally:
            if srv:
                pg_stop(srv)
        res["rounds"].append((q, p))
        log("  load average: %.2f %.2f %.2f" % os.getloadavg())


def report_pg(res):
    log("Ratios PostgreSQL/SQLite store (same machine, same run; target e2e >= 0.5):")
    e2e = []
    for k, (q, p) in enumerate(res["rounds"]):
        r = (p["e2e_api"] / q["e2e_api"], p["e2e_cli"] / q["e2e_cli"])
        e2e.append(r[0])
        log("  round %d: jobs/s e2e API %.0f/%.0f = %.2f, CLI %.0f/%.0f = %.2f;"
            " submissions/s API %.2f, CLI %.2f; submit-to-start p50 %.1f/%.1f ms"
            % (k + 1, p["e2e_api"], q["e2e_api"], r[0], p["e2e_cli"], q["e2e_cli"], r[1],
               p["sub_api"] / q["sub_api"], p["sub_cli"] / q["sub_cli"],
               p["p50_ms"], q["p50_ms"]))
    log("  jobs/s e2e (API clients), median over %d round(s): %.2f"
        % (len(e2e), statistics.median(e2e)))


# ---- main ------------------------------------------------------------------------------


def measure(sysobj, args, mdir, api):
    r = {}
    lat = sysobj.latency(args.lat_jobs, mdir)
    r["p50_ms"], r["p99_ms"] = pct(lat, 50) * 1000, pct(lat, 99) * 1000
    log("  %s submit-to-start (idle, %d jobs): p50 %.1f ms, p99 %.1f ms"
        % (sysobj.name, len(lat), r["p50_ms"], r["p99_ms"]))
    if api:
        r["sub_api"], r["e2e_api"] = sysobj.throughput_api(args.jobs, args.clients)
        log("  %s %d jobs, %d keep-alive API clients: %.0f submissions/s, %.0f jobs/s end to end"
            % (sysobj.name, args.jobs, args.clients, r["sub_api"], r["e2e_api"]))
    r["sub_cli"], r["e2e_cli"] = sysobj.throughput_cli(args.jobs, args.clients)
    log("  %s %d jobs, %d CLI clients: %.0f submissions/s, %.0f jobs/s end to end"
        % (sysobj.name, args.jobs, args.clients, r["sub_cli"], r["e2e_cli"]))
    if api:
        r["sub_sbatch"], r["e2e_sbatch"] = sysobj.throughput_cli(args.jobs, args.clients,
                                                                 "sbatch")
        log("  %s %d jobs, %d aidc sbatch --wrap clients: %.0f submissions/s,"
            " %.0f jobs/s end to end"
            % (sysobj.name, args.jobs, args.clients, r["sub_sbatch"], r["e2e_sbatch"]))
    r["rss_mib"] = sysobj.rss() / 1024.0
    log("  %s controller RSS: %.1f MiB" % (sysobj.name, r["rss_mib"]))
    return r


def sbatch_only(args):
    """--sbatch-only: the issue 13 target alone (8 aidc sbatch process loops
    against 8 Slurm sbatch loops), --rounds pairs alternating which system
    goes first, each ratio and their median. --hold: each system then
    measures held submissions too (same loops with -H), a second ratio."""
    kinds = ["run", "hold"] if args.hold else ["run"]
    ratios = {k: [] for k in kinds}
    for r in range(args.rounds):
        got = {}
        for which in (("AIDC", "Slurm") if r % 2 == 0 else ("Slurm", "AIDC")):
            if which == "AIDC":
                sysobj = Aidc(args.agents)
            else:
                try:
                    sysobj = Slurm()
                except RuntimeError as e:
                    log("  Slurm: not measured: %s" % e)
                    return
            try:
                for k in kinds:
                    if which == "AIDC":
                        how = "sbatch" if k == "run" else "sbatch_hold"
                        got[which, k] = sysobj.throughput_cli(args.jobs, args.clients, how)
                    else:
                        got[which, k] = sysobj.throughput_cli(args.jobs, args.clients,
                                                              hold=k == "hold")
                    sub, e2e = got[which, k]
                    log("  round %d: %s %d %sjobs, %d sbatch process clients: %.1f"
                        " submissions/s%s (load %.1f)"
                        % (r + 1, which, args.jobs, "held " if k == "hold" else "",
                           args.clients, sub,
                           ", %.1f jobs/s end to end" % e2e if e2e is not None else "",
                           os.getloadavg()[0]))
            finally:
                sysobj.stop()
        for k in kinds:
            ratios[k].append(got["AIDC", k][0] / got["Slurm", k][0])
            log("  round %d: aidc sbatch%s / Slurm sbatch%s submissions/s %.2fx"
                % (r + 1, " -H" if k == "hold" else "", " -H" if k == "hold" else "",
                   ratios[k][-1]))
    for k in kinds:
        log("aidc sbatch%s / Slurm sbatch%s submissions/s: %s, median %.2fx%s"
            % (" -H" if k == "hold" else "", " -H" if k == "hold" else "",
               " ".join("%.2fx" % x for x in ratios[k]), statistics.median(ratios[k]),
               " (issue 13 target: >= 2x)" if k == "run" else " (held: the submission path"
               " alone)"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--lat-jobs", type=int, default=50)
    ap.add_argument("--history", type=int, default=0)
    ap.add_argument("--no-slurm", action="store_true")
    ap.add_argument("--no-aidc", action="store_true")
    ap.add_argument("--pg", action="store_true",
                    help="also measure AIDC on a throwaway PostgreSQL server")
    ap.add_argument("--pg-uri", help="also measure AIDC on this PostgreSQL database")
    ap.add_argument("--rounds", type=int, default=1,
                    help="--pg: SQLite/PostgreSQL pairs to measure (order alternates);"
                    " --sbatch-only: AIDC/Slurm pairs")
    ap.add_argument("--sbatch-only", action="store_true",
                    help="only aidc sbatch against Slurm's sbatch processes, --rounds pairs")
    ap.add_argument("--hold", action="store_true",
                    help="--sbatch-only: also measure held submissions (sbatch -H, then"
                    " cancelled) on both sides, a second ratio")
    args = ap.parse_args()
    if args.hold and not args.sbatch_only:
        ap.error("--hold is an option of --sbatch-only")
    log("load average before: %.2f %.2f %.2f (%d CPUs)" % (os.getloadavg() + (os.cpu_count(),)))
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: sys.exit(1))
    if args.sbatch_only:
        try:
            sbatch_only(args)
        finally:
            cleanup()
        log("load average after: %.2f %.2f %.2f" % os.getloadavg())
        return
    mdir = tempfile.mkdtemp(prefix="aidc-bench-m-")
    os.chmod(mdir, 0o777)
    res = {}
    try:
        if not args.no_aidc:
            log("AIDC (%s): controller + %d agents with mock devices" % (AIDC, args.agents))
            a = Aidc(args.agents)
            try:
                res["AIDC"] = measure(a, args, mdir, True)
                if args.history:
                    t0 = time.time()
                    a.throughput_api(args.history, args.clients)
                    log("  AIDC controller RSS with %d more finished jobs: %.1f MiB (%.0f s)"
                        % (args.history, a.rss() / 1024.0, time.time() - t0))
            finally:
                a.stop()
            if args.pg or args.pg_uri:
                measure_pg(args, mdir, res)
        if not args.no_slurm:
            log("Slurm (%s): munged + slurmctld + slurmd, one node" % PEERS)
            try:
                s = Slurm()
            except RuntimeError as e:
                log("  Slurm: not measured: %s" % e)
                s = None
            if s:
                try:
                    res["Slurm"] = measure(s, args, mdir, False)
                finally:
                    s.stop()
    finally:
        cleanup()
        shutil.rmtree(mdir, ignore_errors=True)
    log("load average after: %.2f %.2f %.2f" % os.getloadavg())
    if res.get("rounds"):
        report_pg(res)
    if "AIDC" in res and "Slurm" in res:
        a, s = res["AIDC"], res["Slurm"]
        log("Ratios AIDC/Slurm (same machine, same run):")
        log("  submissions/s   CLI %.1fx   API %.1fx" % (a["sub_cli"] / s["sub_cli"],
                                                      a["sub_api"] / s["sub_cli"]))
        log("  sbatch processes: aidc sbatch / Slurm sbatch submissions/s %.2fx,"
            " jobs/s e2e %.2fx (issue 13 target: submissions >= 2x)"
            % (a["sub_sbatch"] / s["sub_cli"], a["e2e_sbatch"] / s["e2e_cli"]))
        log("  jobs/s e2e      CLI %.1fx   API %.1fx" % (a["e2e_cli"] / s["e2e_cli"],
                                                      a["e2e_api"] / s["e2e_cli"]))
        log("  submit-to-start p50 %.1fx faster, p99 %.1fx faster"
            % (s["p50_ms"] / a["p50_ms"], s["p99_ms"] / a["p99_ms"]))
        log("  controller RSS  %.2fx" % (a["rss_mib"] / s["rss_mib"]))


if __name__ == "__main__":
    main()
