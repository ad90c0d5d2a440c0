#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Hardening of the live center against its own users (issue 9, docs/security.md).

Real controllers and agents on loopback, each scenario in its own temporary
directory; everything started is stopped and every throwaway user removed on
exit (atexit + signals), even on failure.

    harden_test.py store   owner-only state directory, database, WAL and logs;
                           refusal to start on looser modes; job ids never go
                           backwards (tampered counter, lost database); rows
                           never replaced; INT64_MAX counter refused; a damaged
                           database refused at start (quick_check)
    harden_test.py slow    1,000 slow connections from one user on the Unix
                           socket and 1,000 on loopback TCP: another user's
                           `aidc jobs` keeps answering (p99 printed), an agent
                           restarted meanwhile registers, /v1/health answers, no
                           node goes down; slow headers are timed out; two
                           Content-Length headers and an oversized Expect:
                           100-continue body are refused
    harden_test.py limits  per-user pending and live job caps, spec size cap,
                           per-user cap on spec bytes held in memory (the
                           controller's RSS is printed), unknown partition
    harden_test.py nodes   a job without --mem held to the node's default memory
                           per CPU (OOM named as such); the node's memory and
                           pids caps in the agent's cgroup; a fork bomb held to
                           the job's pids cap, two jobs together to the node's
    harden_test.py specs   60 pending jobs with 480 KiB scripts: the controller's
                           RSS grows by under half their bytes (printed); such a
                           job runs its whole script and environment, read from
                           the store, also after a controller restart
    harden_test.py tables  control characters in QoS and account descriptions
                           escaped in the tenancy tables (qos list, account
                           show/list), kept as they are by --json
    harden_test.py output  on a 64 MiB state filesystem (tmpfs or a loop
                           mount made here): a sparse write stores no holes,
                           per-job and per-user output quotas cut output with
                           a marker, a user writing output at full speed is cut
                           at the free-space floor while the controller stays
                           up, another user's jobs run and nothing committed is
                           lost; under half the floor submissions are refused
    harden_test.py inodes  on a state filesystem of 4,000 inodes: under the
                           inode floor (an eighth) output is cut with a marker
                           naming inodes, under half of it submissions are
                           refused, both again once files are removed
    harden_test.py files   the submitter's umask reaches the job (077: a file it
                           makes and its -o file are 0600); -o naming a FIFO is
                           refused with a message and the job stays cancellable
    harden_test.py errors  CRLF batch scripts refused with Slurm's message (CLI
                           and API); quoted #SBATCH -J "a b"; control characters
                           in another user's job name escaped in tables; a job
                           row that cannot be restored named at start; aidc up
                           says at once why its controller died; a log file on
                           a full disk is reported on the first stderr
Exit 77 (with a printed "SKIP: reason") means SKIP.
"""
import atexit
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_test import (FAILS, check, dump_logs, poll, run_scenarios,  # noqa: E402  (shared)
                       skip, unix_http)

AIDC = os.path.realpath(os.environ.get("AIDC_BIN") or os.path.join(
    os.environ.get("AIDC_BINARY_DIR", "build"), "src/cli/aidc"))
ENDED = ("completed", "failed", "cancelled", "timeout", "node_fail")
USERS = []  # throwaway users made here, removed at exit


def throwaway_user(tag):
    """A local user made for this run (removed at exit); SKIPs without root."""
    if os.geteuid() != 0:
        skip("needs root to create throwaway users (useradd)")
    if not shutil.which("useradd") or not shutil.which("setpriv"):
        skip("useradd or setpriv missing")
    name = "aidch%d%s" % (os.getpid(), tag)
    r = subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], capture_output=True, text=True)
    if r.returncode != 0:
        skip("useradd failed: " + r.stderr.strip())
    USERS.append(name)
    return name


def remove_users():
    for u in USERS:
        subprocess.run(["userdel", u], capture_output=True)


def harden_run_alive(pid):
    try:
        return b"harden_test.py" in open("/proc/%d/cmdline" % pid, "rb").read()
    except OSError:
        return False


def remove_stale():
    """Users, groups and mounts left by an earlier run that was killed
    (SIGKILL skips atexit): removed if the run that made them is gone."""
    if os.geteuid() != 0:
        return
    import re
    for db, tool in (("/etc/passwd", "userdel"), ("/etc/group", "groupdel")):
        try:
            names = [line.split(":", 1)[0] for line in open(db)]
        except OSError:
            continue
        for name in names:
            m = re.fullmatch(r"aidch(\d+)[a-z]+", name)
            if m and not harden_run_alive(int(m.group(1))):
                r = subprocess.run([tool, name], capture_output=True, text=True)
                print("removed stale %s %s%s" % (tool[:-3], name,
                                                 "" if r.returncode == 0 else
                                                 " (failed: %s)" % r.stderr.strip()))
    try:
        mounts = [line.split()[1] for line in open("/proc/mounts")]
    except OSError:
        mounts = []
    for mnt in mounts:
        m = re.fullmatch(r".*/aidc-harden-mnt-(\d+)", mnt)
        if m and not harden_run_alive(int(m.group(1))):
            subprocess.run(["umount", "-l", mnt], capture_output=True)
            print("unmounted stale " + mnt)


atexit.register(remove_users)


class Center:
    """One controller (on a Unix socket and a loopback port) and one agent."""

    def __init__(self, agents=1, ctl_args=(), agent_args=(), state=None):
        self.dir = tempfile.mkdtemp(prefix="aidc-harden-")
        os.chmod(self.dir, 0o755)
        self.state = state or os.path.join(self.dir, "ctl")
        self.sock = os.path.join(self.dir, "aidc.sock")
        self.env = dict(os.environ, AIDC_SOCKET=self.sock)
        self.procs = {}
        self.ctl_args = list(ctl_args)
        atexit.register(self.stop)
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, lambda *_: sys.exit(1))
        self.start_controller()
        for i in range(agents):
            self.start_agent(i, agent_args)

    def spawn(self, key, args):
        log = open(os.path.join(self.dir, key + ".log"), "a")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                             start_new_session=True)
        self.procs[key] = p
        return p

    def controller_args(self, port="0"):
        args = [AIDC, "controller", "--state-dir", self.state, "--socket", self.sock,
                "--port", port, "--port-file", os.path.join(self.dir, "port"),
                "--node-timeout", "3"] + self.ctl_args
        if os.geteuid() == 0:
            args.append("--allow-root-jobs")
        return args

    def start_controller(self, wait=True):
        port = getattr(self, "port", None)
        pf = os.path.join(self.dir, "port")
        if os.path.exists(pf):
            os.unlink(pf)
        p = self.spawn("controller", self.controller_args(str(port) if port else "0"))
        if not wait:
            return p
        deadline = time.time() + 30
        while time.time() < deadline and not os.path.exists(pf):
            if p.poll() is not None:
                self.dump_logs()
                raise SystemExit("the controller exited at start")
            time.sleep(0.05)
        self.port = int(open(pf).read())
        return p

    def stop_controller(self):
        p = self.procs.pop("controller", None)
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def start_agent(self, i, extra=()):
        size = [] if "--mem-mib" in extra else ["--cpus", "4", "--mem-mib", "8192"]
        args = [AIDC, "agent", "--controller", "http://127.0.0.1:%d" % self.port,
                "--secret-file", os.path.join(self.state, "secret"), "--name", "node-%d" % i,
                "--state-dir", os.path.join(self.dir, "agent%d" % i), "--devices", "mock:2:T4",
                ] + size + list(extra)
        if os.geteuid() == 0:
            args.append("--allow-root-jobs")
        self.spawn("agent%d" % i, args)
        self.wait_for(lambda: self.node_up("node-%d" % i), 30)

    def node_up(self, name):
        try:
            st, data = self.http("GET", "/v1/nodes")
        except OSError:
            return False
        return st == 200 and any(n["name"] == name and n["state"] == "up"
                                 for n in json.loads(data)["nodes"])

    def wait_for(self, fn, timeout=60):
        return poll(fn, timeout)

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = {}
        if os.path.isdir(self.dir):
            if FAILS:
                self.dump_logs()
            shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self):
        dump_logs(self.dir)

    def cli(self, *args, user=None, stdin=None, timeout=120):
        cmd = [AIDC] + list(args)
        if user:
            cmd = ["setpriv", "--reuid", user, "--regid", user, "--init-groups"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env,
                              timeout=timeout, cwd=self.dir, input=stdin)

    def submit(self, *args, user=None):
        r = self.cli("submit", *args, user=user)
        if r.returncode != 0 or not r.stdout.startswith("submitted job "):
            check(False, "submit %s" % (args,), r.stdout, r.stderr)
            return -1
        return int(r.stdout.split()[2])

    def http(self, method, path, body=None, headers=None, timeout=30):
        return unix_http(self.sock, method, path, body, headers, timeout)

    def job(self, jid):
        try:
            st, data = self.http("GET", "/v1/jobs/%d" % jid)
        except OSError:
            return None
        return json.loads(data) if st == 200 else None

    def wait_state(self, jid, states, timeout=60):
        return self.wait_for(lambda: (lambda j: j if j and j["state"] in states else None)(
            self.job(jid)), timeout)

    def logs(self, jid, user=None):
        return self.cli("logs", str(jid), user=user).stdout

    def db(self):
        return os.path.join(self.state, "aidc.db")


def mode(path):
    return os.stat(path).st_mode & 0o777


def start_refused(c, what, needle):
    """Starts the controller and expects it to exit at once naming needle."""
    log = os.path.join(c.dir, "controller.log")
    size = os.path.getsize(log) if os.path.exists(log) else 0
    p = c.start_controller(wait=False)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
        c.stop_controller()
    out = open(log, errors="replace").read()[size:]
    check(rc not in (None, 0) and needle in out, what, "rc=%s" % rc, out[-600:])


def test_store():
    c = Center()
    # Item 1: owner-only state.
    jid = c.submit("--", "sh", "-c", "echo SECRET_TOKEN=hunter2")
    c.wait_state(jid, ENDED)
    check(mode(c.state) == 0o700, "state directory is 0700", oct(mode(c.state)))
    for f in ("aidc.db", "aidc.db-wal", "secret", "job_id_hwm"):
        p = os.path.join(c.state, f)
        check(os.path.exists(p) and mode(p) & 0o077 == 0, "%s is owner-only" % f,
              oct(mode(p)) if os.path.exists(p) else "missing")
    logs = os.path.join(c.state, "logs")
    check(mode(logs) == 0o700, "logs/ is 0700", oct(mode(logs)))
    for root, dirs, files in os.walk(logs):
        for f in dirs + files:
            p = os.path.join(root, f)
            check(mode(p) & 0o077 == 0, "log path %s is owner-only" % p, oct(mode(p)))
    if os.geteuid() == 0:
        u = throwaway_user("a")
        r = subprocess.run(["setpriv", "--reuid", u, "--regid", u, "--init-groups", "cat",
                            c.db()], capture_output=True)
        check(r.returncode != 0, "another user cannot read aidc.db", r.stdout[:100])
        r = c.cli("logs", str(jid), user=u)
        check(r.returncode != 0 and "hunter2" not in r.stdout,
              "another user cannot read the job's logs through the API", r.stdout)
    c.stop_controller()
    os.chmod(c.state, 0o755)
    start_refused(c, "a 0755 state directory is refused", "accessible by its owner only")
    os.chmod(c.state, 0o700)
    os.chmod(c.db(), 0o644)
    start_refused(c, "a 0644 database is refused", "accessible by its owner only")
    os.chmod(c.db(), 0o600)
    c.start_controller()
    check(c.job(jid) is not None, "restarts on owner-only modes")

    # Item 10: a tampered, lower counter: the new job gets a fresh id and the
    # earlier row is untouched.
    a = c.submit("-J", "first", "--", "true")
    c.wait_state(a, ENDED)
    c.stop_controller()
    db = sqlite3.connect(c.db())
    db.execute("UPDATE meta SET value = '1' WHERE key = 'next_job_id'")
    db.commit()
    db.close()
    os.unlink(os.path.join(c.state, "job_id_hwm"))  # the file too: the rows still count
    c.start_controller()
    b = c.submit("-J", "second", "--", "true")
    check(b > a, "ids never go backwards after a tampered counter", a, b)
    check(c.job(a) and c.job(a)["name"] == "first", "an earlier row is not replaced", c.job(a))

    # Item 10: INT64_MAX - 1 is the last id; then submissions are refused,
    # the counter never wraps.
    c.stop_controller()
    db = sqlite3.connect(c.db())
    db.execute("UPDATE meta SET value = '9223372036854775806' WHERE key = 'next_job_id'")
    db.commit()
    db.close()
    c.start_controller()
    last = c.submit("--", "true")
    check(last == 9223372036854775806, "the id INT64_MAX - 1 is used", last)
    r = c.cli("submit", "--", "true")
    check(r.returncode != 0 and "exhausted" in r.stderr, "no id after INT64_MAX - 1: refused",
          r.stdout, r.stderr)
    c.stop_controller()
    db = sqlite3.connect(c.db())
    db.execute("UPDATE meta SET value = '9223372036854775808' WHERE key = 'next_job_id'")
    db.commit()
    db.close()
    start_refused(c, "a counter past INT64_MAX is refused at start", "next_job_id")
    db = sqlite3.connect(c.db())
    db.execute("DELETE FROM jobs WHERE id = 9223372036854775806")
    db.execute("UPDATE meta SET value = '100' WHERE key = 'next_job_id'")
    db.commit()
    db.close()
    with open(os.path.join(c.state, "job_id_hwm"), "w") as f:
        f.write("%020d\n" % 100)

    # Item 5: the database is lost; the old logs/ are not served to new jobs.
    c.start_controller()
    old = c.submit("--", "sh", "-c", "echo OLD-OUTPUT-OF-ANOTHER-USER")
    c.wait_state(old, ENDED)
    check("OLD-OUTPUT" in c.logs(old), "old job's output", c.logs(old))
    c.stop_controller()
    for f in ("aidc.db", "aidc.db-wal", "aidc.db-shm"):
        if os.path.exists(os.path.join(c.state, f)):
            os.unlink(os.path.join(c.state, f))
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0"), 30)
    new = c.submit("--", "sh", "-c", "echo new")
    check(new > old, "after losing the database, ids continue above the old ones", old, new)
    s = c.wait_state(new, ENDED)
    out = c.logs(new)
    check(s and out == "new\n", "the new job shows only its own output", repr(out))
    # The high-water mark alone (no database, no log directories) is enough.
    c.stop_controller()
    for f in ("aidc.db", "aidc.db-wal", "aidc.db-shm"):
        if os.path.exists(os.path.join(c.state, f)):
            os.unlink(os.path.join(c.state, f))
    shutil.rmtree(logs)
    c.start_controller()
    n2 = c.submit("--", "true")
    check(n2 > new, "the high-water mark file alone keeps ids increasing", new, n2)

    # Item 11: a damaged database is refused at start with a clear message.
    c.stop_controller()
    db = sqlite3.connect(c.db())
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("CREATE TABLE pad (x TEXT)")
    db.executemany("INSERT INTO pad VALUES (?)", [("x" * 200,)] * 400)
    db.commit()
    db.close()
    with open(c.db(), "r+b") as f:
        f.seek(4096 * 2)
        f.write(b"\x5a" * 4096 * 4)
    start_refused(c, "a damaged database is refused at start", "quick_check")


# Opens N connections to a Unix socket path or a TCP port and trickles one
# header byte per connection every few seconds, forever (killed by the test).
SLOW_CLIENT = r"""
import os, resource, socket, sys, time
target, n = sys.argv[1], int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
conns = []
for i in range(n):
    try:
        if target.isdigit():
            s = socket.create_connection(("127.0.0.1", int(target)), timeout=2)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(target)
        s.setblocking(False)
        s.send(b"G")
        conns.append(s)
    except OSError:
        pass
print("opened", len(conns), flush=True)
while True:
    time.sleep(2)
    for s in conns:
        try:
            s.send(b"E")
        except OSError:
            pass
"""


def raw_request(c, data, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(c.sock)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out and (b"Content-Length: " not in out or
                                       out.endswith(b"}") or out.endswith(b"\n")):
                break
    except OSError:
        pass
    s.close()
    return out


def test_slow():
    attacker, victim = throwaway_user("s"), throwaway_user("v")
    c = Center(ctl_args=["--http-header-timeout-s", "3"])
    # Item 15 first (a quiet server): HTTP edges.
    r = raw_request(c, b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                       b"Content-Length: 40\r\nContent-Type: application/json\r\n\r\n{}")
    check(r.startswith(b"HTTP/1.1 400"), "two Content-Length headers: 400", r[:200])
    r = raw_request(c, b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 8000000\r\n"
                       b"Expect: 100-continue\r\nContent-Type: application/json\r\n\r\n")
    check(r.startswith(b"HTTP/1.1 413") and b"100 Continue" not in r,
          "Expect: 100-continue with an oversized body: 413, no 100 Continue", r[:200])
    # A slow header is timed out (3 s here), not held for a minute.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(c.sock)
    s.settimeout(60)
    t0 = time.time()
    closed = False
    try:
        for _ in range(60):
            s.send(b"G")
            time.sleep(0.5)
    except OSError:
        closed = True
    if not closed:
        try:
            closed = s.recv(10) == b""
        except OSError:
            closed = True
    s.close()
    check(closed and time.time() - t0 < 30, "a connection trickling its headers is closed",
          time.time() - t0)

    procs = []
    for target in (c.sock, str(c.port)):
        p = subprocess.Popen(["setpriv", "--reuid", attacker, "--regid", attacker,
                              "--init-groups", sys.executable, "-c", SLOW_CLIENT, target,
                              "1000"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        procs.append(p)
    atexit.register(lambda: [p.kill() for p in procs if p.poll() is None])
    for p in procs:
        line = p.stdout.readline().strip()
        print("attacker: " + line)
    lat = []
    fails = []
    t_end = time.time() + 8
    while time.time() < t_end or len(lat) < 30:
        t0 = time.time()
        r = c.cli("jobs", user=victim, timeout=60)
        lat.append((time.time() - t0) * 1000)
        if r.returncode != 0:
            fails.append(r.stderr)
        if len(lat) >= 200:
            break
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("victim `aidc jobs` under 2x1000 slow connections: n=%d p50=%.0f ms p99=%.0f ms"
          % (len(lat), lat[len(lat) // 2], p99))
    check(not fails, "another user's aidc jobs answers under the attack", fails[:3])
    check(p99 < 10000, "aidc jobs p99 within a generous 10 s", p99)
    try:
        con = http.client.HTTPConnection("127.0.0.1", c.port, timeout=10)
        con.request("GET", "/v1/health")
        st = con.getresponse().status
    except OSError as e:
        st = str(e)
    check(st == 200, "/v1/health answers on TCP under the attack", st)
    # A restarting agent registers while the attack goes on.
    c.procs["agent0"].kill()
    c.procs["agent0"].wait()
    c.start_agent(0)
    check(c.node_up("node-0"), "a restarted agent registers under the attack")
    jid = c.submit("--", "echo", "ok", user=victim)
    s = c.wait_state(jid, ENDED, timeout=60)
    check(s and s["state"] == "completed", "a job runs under the attack", s)
    st, data = c.http("GET", "/v1/nodes")
    down = [n["name"] for n in json.loads(data)["nodes"] if n["state"] != "up"]
    check(not down, "no node lost", down)
    for p in procs:
        p.kill()
        p.wait()


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def write_script(c, name, pad_bytes):
    path = os.path.join(c.dir, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n")
        line = "# " + "x" * 1000 + "\n"
        for _ in range(pad_bytes // len(line)):
            f.write(line)
        f.write("sleep 60\n")
    os.chmod(path, 0o755)
    return path


def test_limits():
    a, b = throwaway_user("a"), throwaway_user("b")
    c = Center(ctl_args=["--max-pending-jobs-per-user", "5", "--max-jobs-per-user", "7",
                         "--max-spec-kib", "256", "--max-pending-spec-mib-per-user", "1"])
    # Every job needs the whole node: one runs, the others wait.
    ok, refused = 0, []
    for i in range(10):
        r = c.cli("submit", "-c", "4", "--", "sleep", "60", user=a)
        if r.returncode == 0:
            ok += 1
        else:
            refused.append(r.stderr.strip())
    check(5 <= ok <= 6 and refused and "max_pending_jobs_per_user" in refused[0],
          "pending jobs per user capped (max_pending_jobs_per_user = 5)", ok, refused[:1])
    r = c.cli("submit", "-c", "4", "--", "sleep", "60", user=b)
    check(r.returncode == 0, "another user still submits", r.stderr)
    jb1 = int(r.stdout.split()[2]) if r.returncode == 0 else 0
    r = c.cli("submit", "-p", "no-such-partition", "--", "true", user=b)
    check(r.returncode != 0 and "invalid partition" in r.stderr,
          "an unknown partition is refused at submit", r.stdout, r.stderr)
    big = write_script(c, "big.sh", 300 * 1024)
    r = c.cli("submit", big, user=b)
    check(r.returncode != 0 and "max_spec_kib" in r.stderr, "a 300 KiB script is refused "
          "(max_spec_kib = 256)", r.stdout, r.stderr)
    for j in json.loads(c.http("GET", "/v1/jobs")[1])["jobs"]:
        if j["user"] == a and j["state"] not in ENDED:
            c.http("POST", "/v1/jobs/%d/cancel" % j["id"], b"{}")
    # b's first job must hold the node before the spec test: while a's
    # cancelled job still stops it is pending, and 1 + 4 pending jobs would
    # meet max_pending_jobs_per_user before the spec bytes cap.
    c.wait_state(jb1, ["running"], timeout=30)
    # Spec bytes held in memory per user: 250 KiB scripts, 1 MiB per user.
    pid = c.procs["controller"].pid
    before = rss_kib(pid)
    mid = write_script(c, "mid.sh", 250 * 1024)
    ok, refused = 0, []
    for i in range(8):
        r = c.cli("submit", "-c", "4", mid, user=b)
        if r.returncode == 0:
            ok += 1
        else:
            refused.append(r.stderr.strip())
            break
    after = rss_kib(pid)
    print("controller RSS %d KiB -> %d KiB after %d accepted 250 KiB specs" % (before, after, ok))
    check(ok == 4 and refused and "max_pending_spec_mib_per_user" in refused[0],
          "spec bytes in memory per user capped (4 x 250 KiB fit in 1 MiB, not 5)", ok,
          refused[:1])


def test_specs():
    """Large specs stay in the store (item 4): the controller's memory does
    not grow with pending jobs' scripts and environments, and such a job
    still runs with its whole script and environment, after a restart too."""
    c = Center()
    path = os.path.join(c.dir, "big.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n")
        line = "# " + "x" * 1000 + "\n"
        for _ in range(480):  # under AIDC_MAX_SCRIPT_BYTES (512 KiB)
            f.write(line)
        f.write('echo "tail of the script, mark=$HARDEN_MARK job=$AIDC_JOB_ID"\nsleep 300\n')
    os.chmod(path, 0o755)
    spec_kib = os.path.getsize(path) // 1024
    c.env["HARDEN_MARK"] = "m4rk"
    # Every job needs the whole node: the first runs, the others wait.
    first = c.submit("-c", "4", path)
    pid = c.procs["controller"].pid
    before = rss_kib(pid)
    n = 60
    ids = [c.submit("-c", "4", path) for _ in range(n)]
    after = rss_kib(pid)
    grown = after - before
    print("controller RSS %d KiB -> %d KiB (+%d KiB) after %d pending jobs of %d KiB "
          "specs (%d KiB in all)" % (before, after, grown, n, spec_kib, n * spec_kib))
    with open(AIDC, "rb") as f:
        asan = b"__asan_init" in f.read()
    if asan:
        # ASan quarantines freed memory (hundreds of MiB), so RSS says nothing
        # about what is held; the Release pass makes this check.
        print("NOTE: RSS check not made under AddressSanitizer (freed memory is quarantined)")
    else:
        check(grown < n * spec_kib // 2, "pending jobs' large specs are not held in memory "
              "(growth under half of their bytes)", grown, n * spec_kib)
    st, data = c.http("GET", "/v1/jobs/%d" % ids[0])
    j = json.loads(data) if st == 200 else {}
    check(j.get("spec_in_store") is True and j.get("script") is True and j.get("state") ==
          "pending", "aidc job shows a pending job's spec kept in the store", st, data[:300])
    j = c.wait_state(first, ("running",), 60)
    check(j is not None, "the first large job runs", c.job(first))
    got = c.wait_for(lambda: "mark=m4rk job=%d" % first in c.logs(first), 60)
    check(got, "it ran its whole script (the last line) with its environment",
          c.logs(first)[-300:])
    # After a restart the pending ones come back from the store, and run whole.
    c.stop_controller()
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0"), 60)
    r = c.cli("cancel", str(first))
    check(r.returncode == 0, "cancel the running job", r.stdout, r.stderr)
    j = c.wait_state(ids[0], ("running",), 90)
    check(j is not None, "after a restart the next large job runs", c.job(ids[0]))
    got = c.wait_for(lambda: "mark=m4rk job=%d" % ids[0] in c.logs(ids[0]), 60)
    check(got, "... with its whole script and environment from the store",
          c.logs(ids[0])[-300:])
    for jid in ids:
        c.http("POST", "/v1/jobs/%d/cancel" % jid, b"{}")


def small_fs(mib, inodes=0):
    """A filesystem of mib MiB (and inodes inodes, when given) for a state
    directory: tmpfs, else an ext4 loop mount; unmounted at exit. SKIPs if
    neither can be made."""
    if os.geteuid() != 0:
        skip("needs root to mount a %d MiB filesystem" % mib)
    mnt = os.path.join(tempfile.gettempdir(), "aidc-harden-mnt-%d" % os.getpid())
    os.makedirs(mnt, exist_ok=True)
    img = mnt + ".img"

    def cleanup():
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        shutil.rmtree(mnt, ignore_errors=True)
        if os.path.exists(img):
            os.unlink(img)
    atexit.register(cleanup)
    opts = "size=%dm,mode=0755" % mib + (",nr_inodes=%d" % inodes if inodes else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        why = r.stderr.strip()
        with open(img, "wb") as f:
            f.truncate(mib << 20)
        r = subprocess.run(["mkfs.ext4", "-q", "-F"] + (["-N", str(inodes)] if inodes else []) +
                           [img], capture_output=True, text=True)
        if r.returncode == 0:
            r = subprocess.run(["mount", "-o", "loop", img, mnt], capture_output=True, text=True)
        if r.returncode != 0:
            skip("cannot make a %d MiB filesystem: tmpfs: %s; loop: %s" % (mib, why,
                                                                        r.stderr.strip()))
    return mnt


def stored(c, jid, name="0.0.out"):
    """(allocated bytes, size, tail) of a job's stored stream on the controller."""
    for d in os.listdir(os.path.join(c.state, "logs")):
        if d.split(".")[0] == str(jid):
            p = os.path.join(c.state, "logs", d, name)
            if os.path.exists(p):
                st = os.stat(p)
                with open(p, "rb") as f:
                    f.seek(max(0, st.st_size - 300))
                    return st.st_blocks * 512, st.st_size, f.read().decode(errors="replace")
    return 0, 0, ""


def test_output():
    a, b = throwaway_user("w"), throwaway_user("o")
    mnt = small_fs(64)
    c = Center(state=os.path.join(mnt, "ctl"),
               ctl_args=["--max-job-output-mib", "8", "--max-user-output-mib", "12"])
    acked = []
    # A sparse write: 900 MiB of hole and a few bytes; the hole is not stored.
    jid = c.submit("--", "/usr/bin/python3", "-c", "import os; os.lseek(1, 900 << 20, 0); "
                   "os.write(1, b'END-OF-SPARSE')", user=a)
    acked.append(jid)
    s = c.wait_state(jid, ENDED)
    alloc, size, tail = stored(c, jid)
    check(s and s["state"] == "completed" and size == (900 << 20) + 13 and
          tail.endswith("END-OF-SPARSE") and alloc < (1 << 20),
          "a 900 MiB sparse write is stored as a hole (bytes allocated < 1 MiB)",
          s and s["state"], size, alloc, tail[-40:])
    # A write past the per-stream cap (AIDC_MAX_LOG_BYTES, 1 GiB): nothing is
    # stored there, the stream ends with the marker, and the job still ends
    # (before, the agent's push was refused with 400 and sent again forever,
    # so the task's exit was never reported and the job ran on).
    jid = c.submit("--", "/usr/bin/python3", "-c", "import os; os.write(1, b'BEFORE\\n'); "
                   "os.lseek(1, 2 << 30, 0); os.write(1, b'PAST-THE-CAP')", user=a)
    acked.append(jid)
    s = c.wait_state(jid, ENDED, timeout=60)
    alloc, size, tail = stored(c, jid)
    check(s and s["state"] == "completed" and size < (1 << 20) and
          "AIDC_MAX_LOG_BYTES" in tail and "PAST-THE-CAP" not in tail,
          "a write past the 1 GiB stream cap is cut with a marker and the job ends",
          s and s["state"], size, tail[-120:])
    # Per-job quota: 20 MiB written, 8 MiB stored, then the marker.
    jid = c.submit("--", "sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' x", user=a)
    acked.append(jid)
    c.wait_state(jid, ENDED)
    alloc, size, tail = stored(c, jid)
    check(size <= (8 << 20) + 400 and "output truncated" in tail and
          "max_job_output_mib" in tail, "a job's output is cut at max_job_output_mib with a "
          "marker", size, tail[-200:])
    # Per-user quota over live jobs: 7 MiB + 7 MiB of one user's running jobs,
    # 12 MiB allowed.
    j1 = c.submit("--", "sh", "-c", "head -c 7000000 /dev/zero; sleep 30", user=a)
    acked.append(j1)
    c.wait_for(lambda: stored(c, j1)[1] >= 7000000, 60)
    j2 = c.submit("--", "sh", "-c", "head -c 7000000 /dev/zero; sleep 1", user=a)
    acked.append(j2)
    c.wait_state(j2, ENDED)
    alloc, size, tail = stored(c, j2)
    check(size < 7000000 and "max_user_output_mib" in tail,
          "a user's live jobs are cut at max_user_output_mib", size, tail[-200:])
    jb = c.submit("--", "sh", "-c", "head -c 3000000 /dev/zero; echo done", user=b)
    acked.append(jb)
    c.wait_state(jb, ENDED)
    alloc, size, tail = stored(c, jb)
    check(size == 3000005 and tail.endswith("done\n"), "another user's output is stored whole",
          size, tail[-100:])
    c.cli("cancel", str(j1), user=a)
    c.wait_state(j1, ENDED)

    # Full speed into the filesystem: the default quotas are larger than the
    # filesystem, so the free-space floor (an eighth: 8 MiB) cuts the output.
    c.stop_controller()
    c.ctl_args = []
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0"), 30)
    writers = [c.submit("--", "sh", "-c", "head -c 40000000 /dev/zero", user=a)
               for _ in range(3)]
    acked += writers
    others = []
    deadline = time.time() + 60
    while time.time() < deadline and not all(
            (c.job(w) or {}).get("state") in ENDED for w in writers):
        r = c.cli("submit", "--", "echo", "ok", user=b)
        check(r.returncode == 0, "another user submits while output fills the disk",
              r.stdout, r.stderr)
        if r.returncode == 0:
            others.append(int(r.stdout.split()[2]))
        time.sleep(0.5)
    acked += others
    for w in writers:
        check(c.wait_state(w, ENDED), "writer job %d ended" % w)
    check(c.procs["controller"].poll() is None, "the controller stays up")
    cut = [stored(c, w)[2] for w in writers]
    check(any("min_free_mib" in t for t in cut), "output cut at the floor, marker names "
          "min_free_mib", [t[-160:] for t in cut])
    fs = os.statvfs(mnt)
    print("state filesystem after the writers: %d MiB free of %d MiB" %
          (fs.f_bavail * fs.f_frsize >> 20, fs.f_blocks * fs.f_frsize >> 20))
    for o in others:
        s = c.wait_state(o, ENDED, timeout=60)
        check(s and s["state"] == "completed", "another user's job %d ran" % o, s)
    # A restart on the nearly full filesystem works; nothing committed is lost.
    c.stop_controller()
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0"), 30)
    missing = [j for j in acked if not c.job(j)]
    check(not missing, "every acknowledged job is still there after a restart", missing)
    jid = c.submit("--", "echo", "after", user=b)
    s = c.wait_state(jid, ENDED)
    check(s and s["state"] == "completed", "a job runs after the restart", s)
    # Something else eats the space: under half the floor submissions are refused.
    filler = os.path.join(mnt, "filler")
    free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
    with open(filler, "wb") as f:
        try:
            f.write(b"\1" * max(0, free - (2 << 20)))
        except OSError:
            pass
    r = c.cli("submit", "--", "true", user=b)
    check(r.returncode != 0 and "min_free_mib" in r.stderr, "submissions refused under the "
          "floor, naming min_free_mib", r.stdout, r.stderr)
    check(c.procs["controller"].poll() is None and c.job(jid), "the controller stays up and "
          "answers on a full filesystem")
    os.unlink(filler)
    r = c.cli("submit", "--", "true", user=b)
    check(r.returncode == 0, "submissions work again once space is freed", r.stderr)


def test_inodes():
    """The state filesystem's inodes under the floor: output cut, submissions
    refused; both work again once files are removed."""
    mnt = small_fs(64, inodes=4000)
    c = Center(state=os.path.join(mnt, "ctl"))
    jid = c.submit("--", "echo", "before")
    s = c.wait_state(jid, ENDED)
    check(s and s["state"] == "completed" and "before" in c.logs(jid),
          "a job's output is stored", s, c.logs(jid))
    fs = os.statvfs(mnt)
    floor = min(fs.f_files // 8, 65536)
    filler = os.path.join(mnt, "filler")
    os.makedirs(filler)

    def fill_to(left):  # something else uses the inodes until left remain
        n = len(os.listdir(filler))
        while os.statvfs(mnt).f_favail > left:
            open(os.path.join(filler, str(n)), "w").close()
            n += 1
    # Under the floor, over half of it: jobs run, their output is cut (before,
    # a byte-long file per inode left the byte floor far away: all stored).
    fill_to(floor * 3 // 4)
    jid = c.submit("--", "echo", "under the floor")
    s = c.wait_state(jid, ENDED)
    out = c.logs(jid)
    check(s and s["state"] == "completed" and "output truncated" in out and "inodes" in out and
          "under the floor" not in out, "under the inode floor output is cut with a marker "
          "naming inodes", s and s["state"], out[-300:])
    fill_to(floor // 4)
    r = c.cli("submit", "--", "true")
    check(r.returncode != 0 and "inodes" in r.stderr and "min_free_mib" in r.stderr,
          "under half the inode floor submissions are refused, naming inodes", r.stdout,
          r.stderr)
    check(c.procs["controller"].poll() is None, "the controller stays up")
    shutil.rmtree(filler)
    jid = c.submit("--", "echo", "after")
    s = c.wait_state(jid, ENDED)
    check(s and s["state"] == "completed" and c.logs(jid) == "after\n",
          "once files are removed jobs run and their output is stored whole", s, c.logs(jid))


def log_dirs(c, jid):
    """The job's directories under the controller's logs/."""
    d = os.path.join(c.state, "logs")
    return [n for n in os.listdir(d) if n.split(".")[0] == str(jid)] if os.path.isdir(d) else []


def test_retention():
    """output_retention_s: an ended job's output goes, a running one's stays."""
    c = Center(ctl_args=["--output-retention-s", "2"])
    done = c.submit("--", "echo", "first output")
    s = c.wait_state(done, ENDED)
    check(s and s["state"] == "completed" and "first output" in c.logs(done),
          "a job's output is readable right after it ends", s)
    live = c.submit("--", "sh", "-c", "echo still running; sleep 60")
    c.wait_for(lambda: "still running" in c.logs(live), 30)
    logs = os.path.join(c.state, "logs")
    for junk in ("999999", "notajob"):  # not a job's own directory: left alone
        os.makedirs(os.path.join(logs, junk), exist_ok=True)
        os.utime(os.path.join(logs, junk), (1, 1))
    gone = c.wait_for(lambda: not log_dirs(c, done), 20)
    check(gone, "the ended job's output is removed after output_retention_s",
          log_dirs(c, done))
    r = c.cli("logs", str(done))
    check(r.returncode != 0 and "output_retention_s" in r.stderr and "removed" in r.stderr,
          "aidc logs of an expired job says the output was removed", r.returncode, r.stderr)
    s = c.job(done)
    check(s and s["state"] == "completed", "the expired job's record stays", s)
    time.sleep(3)  # the running job's directory is older than the retention now
    check(log_dirs(c, live) and "still running" in c.logs(live),
          "a running job's output stays", log_dirs(c, live))
    check(all(os.path.isdir(os.path.join(logs, n)) for n in ("999999", "notajob")),
          "directories that are not a job's own stay", os.listdir(logs))
    # One expired directory of many files (a job's steps make up to two per
    # step id, node and attempt) is emptied over several loop iterations, so
    # the controller answers meanwhile (before, one iteration removed it all:
    # about 2.5 s without an answer for these 150,000 files on ext4). Files
    # made here keep the directory changed until the last one (its mtime), so
    # the sweep starts after them.
    many = c.submit("--", "sh", "-c", "echo many; sleep 3")
    c.wait_for(lambda: log_dirs(c, many), 30)
    d = os.path.join(logs, log_dirs(c, many)[0])
    for i in range(150000):
        os.close(os.open(os.path.join(d, "0.s%d.1.out" % i), os.O_CREAT | os.O_WRONLY, 0o600))
    c.wait_state(many, ENDED)
    worst, deadline = 0.0, time.time() + 120
    while log_dirs(c, many) and time.time() < deadline:
        t0 = time.time()
        c.http("GET", "/v1/health")
        worst = max(worst, time.time() - t0)
    print("slowest answer while the directory was emptied: %.3f s" % worst)
    check(not log_dirs(c, many) and worst < 0.5, "an expired directory of 150,000 files is "
          "removed while the controller answers within 0.5 s", log_dirs(c, many), worst)
    c.cli("cancel", str(live))
    c.wait_state(live, ENDED)
    # Default (0): kept forever, across a restart.
    c.stop_controller()
    c.ctl_args = []
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0"), 30)
    kept = c.submit("--", "echo", "kept")
    c.wait_state(kept, ENDED)
    time.sleep(4)
    check(log_dirs(c, kept) and "kept" in c.logs(kept) and log_dirs(c, live),
          "with output_retention_s = 0 (the default) output is kept", log_dirs(c, kept))
    c.stop_controller()
    c.ctl_args = ["--output-retention-s", "-5"]
    start_refused(c, "a negative output_retention_s is refused, naming it", "output")


def submit_in(c, user, cwd, umask, *args):
    """aidc submit run by user in cwd under umask; the job id or -1."""
    cmd = "umask %s && cd %s && exec %s submit %s" % (
        umask, cwd, AIDC, " ".join("'%s'" % a for a in args))
    r = subprocess.run(["setpriv", "--reuid", user, "--regid", user, "--init-groups", "sh", "-c",
                        cmd], capture_output=True, text=True, env=c.env, timeout=60)
    if r.returncode != 0 or not r.stdout.startswith("submitted job "):
        check(False, "submit %s" % (args,), r.stdout, r.stderr)
        return -1
    return int(r.stdout.split()[2])


FORKER = r"""
import os, sys, time
want, hold, mark = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
wait = sys.argv[4] if len(sys.argv) > 4 else ""
t0 = time.time()
while wait and not os.path.exists(wait) and time.time() - t0 < 60:
    time.sleep(0.1)
kids = []
for _ in range(want):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(hold)
        os._exit(0)
    kids.append(pid)
print("forked %d" % len(kids), flush=True)
open(mark + ".tmp", "w").write(str(len(kids)))
os.rename(mark + ".tmp", mark)
for k in kids:
    os.waitpid(k, 0)
"""


def cgroup_file(d, name):
    try:
        return open(os.path.join(d, name)).read().strip()
    except OSError as e:
        return "unreadable (%s)" % e.strerror


def v1_mount(controller):
    for line in open("/proc/self/mounts"):
        f = line.split()
        if f[2] == "cgroup" and controller in f[3].split(","):
            return f[1]
    return None


def test_nodes():
    """Node limits (item 8): default memory of a job without --mem, the
    node's memory and pids caps over all its jobs, a pids cap per job."""
    r = subprocess.run([AIDC, "agent", "--max-job-pids", "100", "--max-node-pids", "50"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "--max-job-pids 100 is over --max-node-pids 50" in r.stderr,
          "a job pids cap over the node's is refused", r.stderr)
    c = Center(agent_args=["--cpus", "4", "--mem-mib", "1024", "--max-job-pids", "40",
                           "--max-node-pids", "60"])
    log = open(os.path.join(c.dir, "agent0.log"), errors="replace").read()
    line = next((ln for ln in log.splitlines() if "limits: " in ln), "")
    if "limits: cgroup" not in line:
        skip("cgroups are not writable here, the agent fell back: " + line.split("limits: ")[-1])
    kind = "cgroup2" if "limits: cgroup2" in line else "cgroup1"
    mem_dir = line.split(" in ", 1)[1].split(";")[0].strip()
    pids_dir = mem_dir
    if kind == "cgroup1":
        pm = v1_mount("pids")
        pids_dir = os.path.join(pm, "aidc", os.path.basename(mem_dir)) if pm else ""
    print("agent: %s, node cgroup %s (pids: %s)" % (kind, mem_dir, pids_dir))
    mem_file = "memory.max" if kind == "cgroup2" else "memory.limit_in_bytes"
    check(cgroup_file(mem_dir, mem_file) == str(1024 << 20),
          "node memory cap = --mem-mib (1024 MiB) for all jobs together",
          cgroup_file(mem_dir, mem_file))
    if pids_dir:
        check(cgroup_file(pids_dir, "pids.max") == "60", "node pids cap = --max-node-pids 60",
              cgroup_file(pids_dir, "pids.max"))
    else:
        check("no pids cap" in log, "without a pids controller the agent says so", log[-600:])
    # No --mem: 1024 MiB / 4 CPUs = 256 MiB per CPU asked for.
    py = sys.executable
    over = c.submit("-c", "1", "--", py, "-c", "b = [b'\\x01' * (8 << 20) for _ in range(48)]")
    fits = c.submit("-c", "2", "--", py, "-c",
                    "b = [b'\\x01' * (8 << 20) for _ in range(40)]; print('allocated')")
    j = c.wait_state(over, ENDED, 120)
    check(j and j["state"] == "failed" and "out of memory" in (j.get("reason") or "")
          and "default" in j["reason"],
          "a job without --mem is held to the default (256 MiB per CPU): 384 MiB is "
          "killed, named as the node's default", j and (j["state"], j.get("reason")))
    j = c.wait_state(fits, ENDED, 120)
    check(j and j["state"] == "completed" and "allocated" in c.logs(fits),
          "-c 2 without --mem gets 512 MiB: 320 MiB fits", j and (j["state"], j.get("reason")))
    # Pids: one job is held to 40, the two jobs together to the node's 60.
    forker = os.path.join(c.dir, "forker.py")
    with open(forker, "w") as f:
        f.write(FORKER)
    first, second = os.path.join(c.dir, "first"), os.path.join(c.dir, "second")
    a = c.submit("-c", "1", "--", py, forker, "100", "15", first)
    b = c.submit("-c", "1", "--", py, forker, "100", "1", second, first)
    for jid in (a, b):
        c.wait_state(jid, ENDED, 120)
    n1 = int(open(first).read()) if os.path.exists(first) else -1
    n2 = int(open(second).read()) if os.path.exists(second) else -1
    print("pids: the first job forked %d of 100, the second %d of 100 meanwhile" % (n1, n2))
    check(0 < n1 < 40, "a job's processes are capped by --max-job-pids 40", n1)
    check(0 <= n2 and n1 + n2 < 60 and n2 < n1,
          "two jobs together are capped by --max-node-pids 60", n1, n2)


def test_files():
    u = throwaway_user("f")
    c = Center()
    home = tempfile.mkdtemp(prefix="aidc-harden-home-")
    atexit.register(shutil.rmtree, home, True)
    pw = pwd.getpwnam(u)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    # Item 7: umask 077 at submit: files the job makes are 0600, its -o file too.
    for um, want in (("077", 0o600), ("022", 0o644)):
        jid = submit_in(c, u, home, um, "-o", "out%s.txt" % um, "--", "sh", "-c",
                        "echo hi > made%s.txt" % um)
        s = c.wait_state(jid, ENDED)
        made = os.path.join(home, "made%s.txt" % um)
        out = os.path.join(home, "out%s.txt" % um)
        check(s and s["state"] == "completed" and os.path.exists(made) and mode(made) == want,
              "umask %s at submit: a file the job makes is %o" % (um, want),
              s and s["state"], oct(mode(made)) if os.path.exists(made) else "missing")
        check(os.path.exists(out) and mode(out) == want,
              "umask %s at submit: the -o file is %o" % (um, want),
              oct(mode(out)) if os.path.exists(out) else "missing")
    # Item 6: -o naming a FIFO nobody reads: refused, and the job is cancelled
    # at once (the writer used to block in open() and hold the stop forever).
    fifo = os.path.join(home, "fifo")
    os.mkfifo(fifo)
    os.chown(fifo, pw.pw_uid, pw.pw_gid)
    jid = submit_in(c, u, home, "022", "-o", "fifo", "--", "sleep", "300")
    c.wait_state(jid, ("running",), timeout=60)
    r = c.cli("cancel", str(jid), user=u)
    check(r.returncode == 0, "cancel accepted", r.stderr)
    s = c.wait_state(jid, ENDED, timeout=60)
    check(s and s["state"] == "cancelled", "a job whose -o is a FIFO is cancelled",
          s and s["state"])
    err = c.cli("logs", str(jid), "--stderr", user=u).stdout
    check("not a regular file" in err, "the job's stderr says the -o path was refused", err)
    # A regular -o file still works after that (no writer left behind).
    jid = submit_in(c, u, home, "022", "-o", "after.txt", "--", "echo", "after")
    s = c.wait_state(jid, ENDED)
    p = os.path.join(home, "after.txt")
    check(s and s["state"] == "completed" and os.path.exists(p) and
          open(p).read() == "after\n", "a regular -o file is written", s and s["state"])


def test_tables():
    """The tenancy tables (issue 11) escape free text as the job tables do."""
    c = Center()
    evil = "\x1b]0;pwned\x07evil\x1b[2J\nfake-row"
    r = c.cli("qos", "add", "evilq", "--description", evil)
    check(r.returncode == 0, "a QoS description with control characters is accepted",
          r.stdout, r.stderr)
    r = c.cli("account", "add", "evila", "--description", evil, "--qos", "evilq")
    check(r.returncode == 0, "an account description with control characters is accepted",
          r.stdout, r.stderr)
    for args in (("qos", "list"), ("account", "show", "evila"), ("account", "list")):
        r = c.cli(*args)
        check(r.returncode == 0 and "\x1b" not in r.stdout and "\x07" not in r.stdout and
              "\nfake-row" not in r.stdout and
              ("\\x1b" in r.stdout or args == ("account", "list")),
              "aidc %s escapes control characters" % " ".join(args), r.stderr,
              repr(r.stdout[-400:]))
    r = c.cli("qos", "list", "--json")
    check(r.returncode == 0 and evil in [q.get("description") for q in
                                         json.loads(r.stdout).get("qos", [])],
          "qos list --json keeps the description as it is", r.stdout[-300:])


def test_errors():
    u = throwaway_user("e")
    c = Center()
    # CRLF scripts: refused by aidc submit and by the API, with Slurm's words.
    crlf = os.path.join(c.dir, "crlf.sh")
    with open(crlf, "w", newline="") as f:
        f.write("#!/bin/sh\r\n#SBATCH -J crlf\r\necho hi\r\n")
    r = c.cli("submit", crlf, user=u)
    check(r.returncode != 0 and "DOS line breaks" in r.stderr, "aidc submit refuses a CRLF "
          "script", r.stdout, r.stderr)
    st, data = c.http("POST", "/v1/jobs", json.dumps(
        {"script": "#!/bin/sh\r\necho hi\r\n", "cwd": "/"}).encode(),
        {"Content-Type": "application/json"})
    check(st == 400 and b"DOS line breaks" in data, "the API refuses a CRLF script", st, data)
    # Quoted directive values.
    q = os.path.join(c.dir, "quoted.sh")
    with open(q, "w") as f:
        f.write('#!/bin/sh\n#SBATCH -J "a b"\necho ok\n')
    jid = c.submit(q, user=u)
    s = c.wait_state(jid, ENDED)
    check(s and s["name"] == "a b", "#SBATCH -J \"a b\" names the job 'a b'", s and s["name"])
    # A path with bytes that are not UTF-8 (%ff: the server unescapes it) is
    # echoed in the error as U+FFFD: the reply stays JSON the client reads.
    for path in ("/v1/jobs/%ff", "/v1/no%c3such", "/v1/jobs/1%ed%a0%80/cancel"):
        st, data = c.http("GET", path)
        try:
            err = json.loads(data.decode("utf-8"))["error"]
        except (ValueError, KeyError) as ex:
            err = {"message": "not JSON: %s" % ex}
        check(st == 404 and "\ufffd" in err["message"], "GET %s: a 404 in valid JSON" % path,
              st, data[:300])
    # Control characters in a job name: escaped in the tables others read.
    evil = "\x1b]0;pwned\x07evil\x1b[2J\nfake-row"
    r = c.cli("submit", "-J", evil, "--", "true", user=u)
    check(r.returncode == 0, "a job name with control characters is accepted", r.stderr)
    eid = int(r.stdout.split()[2]) if r.returncode == 0 else -1
    c.wait_state(eid, ENDED)
    r = c.cli("jobs")
    check(r.returncode == 0 and "\x1b" not in r.stdout and "\x07" not in r.stdout and
          "\\x1b" in r.stdout and "\nfake-row" not in r.stdout,
          "aidc jobs escapes control characters", repr(r.stdout[-400:]))
    r = c.cli("job", str(eid))  # JSON: escaped by the encoder
    check(r.returncode == 0 and "\x1b" not in r.stdout and "\x07" not in r.stdout,
          "aidc job prints no raw control characters", repr(r.stdout[-400:]))
    r = c.cli("jobs", "--json")
    check(json.loads(r.stdout) and evil in [j["name"] for j in json.loads(r.stdout)["jobs"]],
          "--json keeps the name as it is (JSON-escaped)")
    # Item 12: the listing is paged; nothing is dropped silently.
    ids = [c.submit("--", "true", user=u) for _ in range(5)]
    for i in ids:
        c.wait_state(i, ENDED)
    st, data = c.http("GET", "/v1/jobs?limit=2")
    page = json.loads(data)
    check(st == 200 and len(page["jobs"]) == 2 and page["more"] and
          page["next_before"] == page["jobs"][0]["id"], "GET /v1/jobs?limit=2: a page and a "
          "cursor", st, data[:300])
    seen, before = [], None
    while True:
        st, data = c.http("GET", "/v1/jobs?limit=2" + ("&before=%d" % before if before else ""))
        page = json.loads(data)
        seen = [j["id"] for j in page["jobs"]] + seen
        if not page["more"]:
            break
        before = page["next_before"]
    st, data = c.http("GET", "/v1/jobs")
    everything = [j["id"] for j in json.loads(data)["jobs"]]
    check(seen == everything and set(ids) <= set(seen), "paging with the cursor visits every "
          "job once, in order", seen, everything)
    r = c.cli("jobs", "--limit", "2")
    rows = r.stdout.strip().splitlines()[1:]
    check(r.returncode == 0 and len(rows) == 2 and "older ones exist" in r.stderr,
          "aidc jobs --limit 2 shows 2 and says more exist", r.stdout, r.stderr)
    r = c.cli("jobs")
    check(r.returncode == 0 and len(r.stdout.strip().splitlines()) - 1 == len(everything) and
          not r.stderr, "aidc jobs shows every job", r.stdout[-300:], r.stderr)
    # A controller that cannot write its log file (a full disk) says so on
    # the stderr it started with.
    mnt = small_fs(1)
    try:
        with open(os.path.join(mnt, "fill"), "wb") as f:
            while True:
                f.write(b"x" * 65536)
                f.flush()
    except OSError:
        pass
    c.stop_controller()
    c.ctl_args = ["--log-file", os.path.join(mnt, "controller.log")]
    log = os.path.join(c.dir, "controller.log")
    size = os.path.getsize(log)
    c.start_controller()
    c.stop_controller()
    c.ctl_args = []
    out = open(log, errors="replace").read()[size:]
    check("cannot write the log file" in out and "No space left" in out,
          "a log file on a full disk is reported on stderr", out[-400:])
    c.start_controller()
    # A job row that cannot be restored is named at start.
    live = c.submit("--", "sleep", "300", user=u)
    c.wait_state(live, ("running",))
    c.stop_controller()
    db = sqlite3.connect(c.db())
    db.execute("UPDATE jobs SET spec = '{\"v\": 99}' WHERE id = ?", (live,))
    db.commit()
    db.close()
    start_refused(c, "a job that cannot be restored is named", "job %d (user %s" % (live, u))
    # aidc up whose controller dies at start says so at once, with the reason.
    bad = os.path.join(c.dir, "bad.conf")
    with open(bad, "w") as f:
        f.write("no_such_key = 1\n")
    t0 = time.time()
    r = subprocess.run([AIDC, "up", "--dir", os.path.join(c.dir, "up"), "--controller-config",
                        bad, "--agents", "1"], capture_output=True, text=True, timeout=120)
    took = time.time() - t0
    print("aidc up with a dying controller answered in %.1f s" % took)
    check(r.returncode != 0 and "exited at start" in r.stderr and "no_such_key" in r.stderr,
          "aidc up says its controller died, and why", r.stderr[-600:])
    subprocess.run([AIDC, "down", "--dir", os.path.join(c.dir, "up")], capture_output=True,
                   timeout=60)


def main():
    remove_stale()
    scenarios = {"store": test_store, "slow": test_slow, "limits": test_limits,
                 "nodes": test_nodes, "specs": test_specs, "tables": test_tables,
                 "output": test_output, "inodes": test_inodes, "retention": test_retention, "files": test_files, "errors": test_errors}
    return run_scenarios(__doc__, scenarios, aidc=AIDC)


if __name__ == "__main__":
    sys.exit(main())
