#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Live-center tests with real processes over loopback (docs/live.md).

Each run starts its own center with `aidc up --dir TMP` (a controller on a free
port with its own Unix socket, plus agents with mock devices), runs one
scenario, and always stops everything it started (atexit + signal handlers +
`aidc down`), even on failure. Waits poll with generous deadlines; no fixed
sleep is an assertion.

    live_test.py basic     single job, exit codes, signals, cancel, time limit,
                           logs, 2-node gang env, malformed/oversized requests
    live_test.py restart   controller kill -9 with jobs in every state (marker
                           files: zero lost, zero duplicated); agent loss -> down
    live_test.py users     a second local user cannot see, cancel or read another
                           user's job; jobs run as the caller's uid (needs root)
Exit 77 (with a printed reason) means SKIP.
"""
import atexit
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

AIDC = os.environ.get("AIDC_BIN") or os.path.join(
    os.environ.get("AIDC_BINARY_DIR", "build"), "src/cli/aidc")
HERE = os.path.dirname(os.path.abspath(__file__))
FAILS = []


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def check(cond, what, *detail):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what + "".join("\n     " + str(d) for d in detail))
        FAILS.append(what)


def poll(fn, timeout=60):
    """fn()'s first true value within timeout seconds (polled every 0.1 s), else None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return None


def unix_http(sock, method, path, body=None, headers=None, timeout=30):
    """One HTTP request to the controller's Unix socket: (status, body bytes)."""
    c = http.client.HTTPConnection("localhost", timeout=timeout)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    c.sock = s
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def dump_logs(d):
    """Prints the last 3,000 characters of every *.log in directory d."""
    for f in sorted(os.listdir(d)):
        if f.endswith(".log"):
            print("---- " + f)
            print(open(os.path.join(d, f), errors="replace").read()[-3000:])


def run_scenarios(doc, scenarios, default=None, aidc=None):
    """Runs the scenario that argv[1] names (default when there is no argument)
    and returns the exit status: 2 with doc for a wrong call, a SKIP (77)
    without the aidc binary (aidc, else AIDC), 1 if a check failed."""
    name = sys.argv[1] if len(sys.argv) == 2 else default if len(sys.argv) == 1 else None
    aidc = aidc or AIDC
    if name not in scenarios:
        print(doc)
        return 2
    if not os.path.exists(aidc):
        skip("aidc binary not found at " + aidc)
    scenarios[name]()
    print("%d failures" % len(FAILS))
    return 1 if FAILS else 0


class Center:
    def __init__(self, agents=2, extra=()):
        self.dir = tempfile.mkdtemp(prefix="aidc-live-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "aidc.sock")
        self.env = dict(os.environ, AIDC_SOCKET=self.sock)
        atexit.register(self.stop)
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, lambda *_: sys.exit(1))
        args = [AIDC, "up", "--dir", self.dir, "--agents", str(agents), "--devices", "2",
                "--cpus", "4", "--node-timeout", "3"] + list(extra)
        if os.geteuid() == 0:
            args.append("--allow-root-jobs")
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            self.dump_logs()
            raise SystemExit("aidc up failed")

    def pids(self):
        d = os.path.join(self.dir, "pids")
        out = {}
        for f in os.listdir(d) if os.path.isdir(d) else []:
            try:
                out[f[:-4]] = int(open(os.path.join(d, f)).read())
            except (OSError, ValueError):
                pass
        return out

    def stop(self):
        if not os.path.isdir(self.dir):
            return
        subprocess.run([AIDC, "down", "--dir", self.dir], capture_output=True, timeout=60)
        for pid in self.pids().values():  # anything `down` missed
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        # Killed agents leave their cgroups behind: remove this center's.
        subprocess.run(["bash", os.path.join(HERE, "cgroup_clean.sh"), self.dir], timeout=60)
        if FAILS:
            self.dump_logs()
        shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self):
        dump_logs(self.dir)

    def cli(self, *args, user=None, check_rc=None):
        cmd = [AIDC] + list(args)
        if user:
            cmd = ["setpriv", "--reuid", user, "--regid", user, "--init-groups"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=120,
                           cwd=self.dir)
        if check_rc is not None and r.returncode != check_rc:
            check(False, "aidc %s exits %d" % (" ".join(args), check_rc), r.stdout, r.stderr)
        return r

    def submit(self, *args, user=None):
        r = self.cli("submit", *args, user=user)
        if r.returncode != 0 or not r.stdout.startswith("submitted job "):
            raise SystemExit("submit %s failed: %s %s" % (args, r.stdout, r.stderr))
        return int(r.stdout.split()[2])

    def http(self, method, path, body=None, headers=None):
        return unix_http(self.sock, method, path, body, headers)

    def job(self, jid):
        try:
            st, data = self.http("GET", "/v1/jobs/%d" % jid)
        except OSError:  # the controller is restarting
            return None
        return json.loads(data) if st == 200 else None

    def wait_state(self, jid, states, timeout=60):
        deadline = time.time() + timeout
        j = None
        while time.time() < deadline:
            j = self.job(jid)
            if j and j["state"] in states:
                return j
            time.sleep(0.1)
        return j

    def nodes(self):
        st, data = self.http("GET", "/v1/nodes")
        return {n["name"]: n for n in json.loads(data)["nodes"]}

    def logs(self, jid, *extra):
        return self.cli("logs", str(jid), *extra).stdout


ENDED = ("completed", "failed", "cancelled", "timeout", "node_fail")


def kill9_restart_controller(c):
    """SIGKILLs c's controller and starts a new one on the same state, socket
    and port (agents reconnect by themselves); returns without waiting."""
    os.kill(c.pids()["controller"], signal.SIGKILL)
    time.sleep(0.2)
    port = open(os.path.join(c.dir, "controller", "port")).read().strip()
    log = open(os.path.join(c.dir, "controller.log"), "a")
    args = [AIDC, "controller", "--state-dir", os.path.join(c.dir, "controller"),
            "--socket", c.sock, "--port", port, "--node-timeout", "3"]
    if os.geteuid() == 0:
        args.append("--allow-root-jobs")
    p = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    with open(os.path.join(c.dir, "pids", "controller.pid"), "w") as f:
        f.write(str(p.pid))


def test_basic():
    c = Center(agents=2)
    j = c.submit("-J", "hello", "--", "echo", "hello world")
    s = c.wait_state(j, ENDED)
    check(s and s["state"] == "completed", "single job completes", s)
    check(c.logs(j) == "hello world\n", "logs of a finished job", repr(c.logs(j)))

    j3 = c.submit("--", "sh", "-c", "echo oops >&2; exit 3")
    j9 = c.submit("--", "sh", "-c", "kill -9 $$")
    s3, s9 = c.wait_state(j3, ENDED), c.wait_state(j9, ENDED)
    check(s3["state"] == "failed" and s3["exit_code"] == 3, "exit code 3 reported", s3)
    check(s9["state"] == "failed" and s9["signal"] == 9, "signal 9 reported", s9)
    check(c.logs(j3, "--stderr") == "oops\n", "stderr log", repr(c.logs(j3, "--stderr")))

    # Starts that fail between fork and exec (the agent learns it after the
    # fork, from the start pipe): the stage and errno reach the job's reason.
    starts = [({"command": ["true"], "cwd": "/nonexistent-aidc-dir"}, "chdir"),
              ({"command": ["/etc/passwd"], "cwd": "/"}, "exec")]
    for spec, stage in starts:
        st, data = c.http("POST", "/v1/jobs", json.dumps(spec).encode())
        check(st == 201, "submit %s" % spec, st, data[:200])
        sf = c.wait_state(json.loads(data)["id"], ENDED)
        check(sf and sf["state"] == "failed" and "could not start: " + stage in sf["reason"],
              "a start failing at %s is reported" % stage, sf)

    jt = c.submit("-t", "1s", "--", "sleep", "60")
    st = c.wait_state(jt, ENDED, timeout=30)
    check(st["state"] == "timeout" and st["signal"] == 15, "time limit: SIGTERM, timeout", st)

    # A task that ignores SIGTERM is killed after the grace period.
    jc = c.submit("--", "sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done")
    c.wait_state(jc, ("running",))
    deadline = time.time() + 20
    while time.time() < deadline and "started" not in c.logs(jc):
        time.sleep(0.1)
    r = c.cli("cancel", str(jc))
    check(r.returncode == 0, "cancel accepted", r.stderr)
    sc = c.wait_state(jc, ENDED, timeout=30)
    check(sc["state"] == "cancelled" and sc["tasks"][0]["signal"] == 9,
          "cancel: SIGTERM ignored -> SIGKILL after the grace period", sc)
    r = c.cli("cancel", str(jc))
    check(r.returncode == 1 and "already ended" in r.stderr, "cancel twice: one clear line",
          r.stderr)

    # Follow: output that appears over time, then the end of the job.
    jf = c.submit("--", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.3; done")
    out = c.logs(jf, "-f")
    check(out == "line1\nline2\nline3\n", "logs -f follows to the end", repr(out))

    # 2-node gang: one device-hungry task per node; env wiring checked by a script.
    script = os.path.join(c.dir, "gang.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n#SBATCH -N 2\n#SBATCH -n 2\n#SBATCH --gres=gpu:2\n#SBATCH -J gang\n"
                "echo RANK=$RANK WORLD_SIZE=$WORLD_SIZE LOCAL_RANK=$LOCAL_RANK "
                "LOCAL_WORLD_SIZE=$LOCAL_WORLD_SIZE MASTER_ADDR=$MASTER_ADDR "
                "MASTER_PORT=$MASTER_PORT AIDC_JOB_ID=$AIDC_JOB_ID "
                "AIDC_TASK_INDEX=$AIDC_TASK_INDEX AIDC_VISIBLE_DEVICES=$AIDC_VISIBLE_DEVICES "
                "NODE=$AIDC_NODE\n")
    os.chmod(script, 0o755)
    jg = c.submit(script)
    sg = c.wait_state(jg, ENDED)
    check(sg["state"] == "completed" and sg["name"] == "gang", "gang from #SBATCH script", sg)
    envs = []
    for t in (0, 1):
        line = c.logs(jg, "--task", str(t)).strip()
        envs.append(dict(kv.split("=", 1) for kv in line.split()))
    check(envs[0].get("RANK") == "0" and envs[1].get("RANK") == "1", "RANK per task", envs)
    check(all(e.get("WORLD_SIZE") == "2" and e.get("LOCAL_RANK") == "0" and
              e.get("LOCAL_WORLD_SIZE") == "1" for e in envs), "WORLD/LOCAL sizes", envs)
    check(envs[0].get("NODE") != envs[1].get("NODE"), "gang spans two nodes", envs)
    check(envs[0].get("MASTER_ADDR") == "127.0.0.1" and envs[0].get("MASTER_PORT") ==
          envs[1].get("MASTER_PORT") and envs[0].get("MASTER_PORT", "").isdigit(),
          "MASTER_ADDR/PORT shared", envs)
    check(all(e.get("AIDC_JOB_ID") == str(jg) and e.get("AIDC_VISIBLE_DEVICES") == "0,1"
              for e in envs), "AIDC_JOB_ID and AIDC_VISIBLE_DEVICES", envs)

    # Gang failure: one task fails, the other is terminated, the job fails.
    jgf = c.submit("-n", "2", "--gpus-per-task", "2", "--", "sh", "-c",
                   'if [ "$RANK" = 1 ]; then exit 7; fi; sleep 60')
    sgf = c.wait_state(jgf, ENDED, timeout=30)
    check(sgf["state"] == "failed" and sgf["exit_code"] == 7, "gang: one task fails -> job fails",
          sgf)
    tasks = (c.job(jgf) or {}).get("tasks", [])
    check(len(tasks) == 2 and tasks[0]["signal"] == 15, "gang: the other task got SIGTERM", tasks)

    # Malformed and oversized requests: 4xx JSON error and nothing changed.
    before = len(json.loads(c.http("GET", "/v1/jobs")[1])["jobs"])
    bad = [
        ("POST", "/v1/jobs", b"{not json", 400, "E_PARSE"),
        ("POST", "/v1/jobs", b'{"command":["true"],"uid":0}', 400, "E_INVAL"),
        ("POST", "/v1/jobs", b'{"command":"true"}', 400, "E_INVAL"),
        ("POST", "/v1/jobs", b'{"command":["true"],"ntasks":-1}', 400, "E_INVAL"),
        ("POST", "/v1/jobs", b'{"command":["true"],"cwd":"relative"}', 400, "E_INVAL"),
        ("POST", "/v1/jobs", b'{"command":["true"],"script":"x"}', 400, "E_INVAL"),
        ("POST", "/v1/jobs", b'{"command":["' + b"x" * (2 * 1024 * 1024) + b'"]}', 413,
         "E_LIMIT"),
        ("GET", "/v1/jobs/999999", None, 404, "E_NOTFOUND"),
        ("GET", "/v1/nope", None, 404, "E_NOTFOUND"),
        ("POST", "/v1/agents/register", b"{}", 403, "E_PERM"),  # a user is not an agent
    ]
    for method, path, body, want, code in bad:
        st, data = c.http(method, path, body)
        try:
            err = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            err = {}
        check(st == want and err.get("code") == code and err.get("message"),
              "%s %s -> %d %s" % (method, path, want, code), st, data[:200])
    after = len(json.loads(c.http("GET", "/v1/jobs")[1])["jobs"])
    check(before == after, "rejected requests changed nothing", before, after)

    st, data = c.http("GET", "/v1/openapi.json")
    doc = json.loads(data) if st == 200 else {}
    check("/v1/jobs/{id}/cancel" in doc.get("paths", {}), "OpenAPI served from the route table")
    st, data = c.http("GET", "/metrics")
    check(st == 200 and b'aidc_jobs{state="completed"}' in data, "Prometheus metrics")
    r = c.cli("jobs")
    check(r.returncode == 0 and "NODES/REASON" in r.stdout, "aidc jobs table", r.stdout)


def test_restart():
    c = Center(agents=2)
    marks = os.path.join(c.dir, "marks")
    os.mkdir(marks)
    os.chmod(marks, 0o777)

    def marker_job(name, secs):
        # Each run appends one line: duplicates show up as two lines.
        return c.submit("-J", name, "--", "sh", "-c",
                        "sleep %s; echo $AIDC_JOB_ID.$AIDC_ATTEMPT >> %s/%s" %
                        (secs, marks, name))

    done = marker_job("done", 0)
    c.wait_state(done, ENDED)
    running = [marker_job("run%d" % i, 3) for i in range(3)]
    # Fill the devices so pending jobs exist: each agent has 2 devices, so big2
    # waits while big0 and big1 run. They run 10 s: with 2 s, under ASan at load
    # 20 both had ended before the states below were read, and nothing was
    # pending (clean-clone CI, 2026-12-07).
    big = [c.submit("-J", "big%d" % i, "--gpus-per-task", "2", "--", "sh", "-c",
                    "sleep 10; echo x >> %s/big%d" % (marks, i)) for i in range(3)]
    cancelled = c.submit("-J", "cancelled", "--", "sleep", "60")
    c.wait_state(cancelled, ("running",))
    c.cli("cancel", str(cancelled))
    for j in running:
        c.wait_state(j, ("running",))
    states = {j: c.job(j)["state"] for j in [done] + running + big + [cancelled]}
    print("before kill -9:", states)
    check("pending" in states.values(), "a pending job exists before the crash", states)

    kill9_restart_controller(c)
    all_jobs = [done] + running + big + [cancelled]
    final = {}
    for j in all_jobs:
        s = c.wait_state(j, ENDED, timeout=60)
        final[j] = s["state"] if s else None
    print("after restart:", final)
    check(all(final[j] == "completed" for j in [done] + running + big),
          "every acknowledged job completed after kill -9", final)
    check(final[cancelled] == "cancelled", "cancelled job stayed cancelled", final)
    for name in ["done"] + ["run%d" % i for i in range(3)] + ["big%d" % i for i in range(3)]:
        path = os.path.join(marks, name)
        lines = open(path).read().split() if os.path.exists(path) else []
        check(len(lines) == 1, "job %s ran exactly once" % name, lines)

    # Agent loss: SIGKILL one agent; its node goes down after the timeout and its
    # job is requeued and finishes elsewhere.
    victim_job = c.submit("-J", "survivor", "--gpus-per-task", "2", "--", "sh", "-c",
                          "sleep 4; echo $AIDC_ATTEMPT >> %s/survivor" % marks)
    s = c.wait_state(victim_job, ("running",))
    node = s["nodes"][0]
    os.kill(c.pids()[node], signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline and c.nodes()[node]["state"] != "down":
        time.sleep(0.1)
    check(c.nodes()[node]["state"] == "down", "lost agent -> node down", c.nodes()[node])
    s = c.wait_state(victim_job, ENDED, timeout=60)
    check(s and s["state"] == "completed" and s["attempt"] == 1,
          "job of the lost node was requeued and completed", s)


def test_users():
    if os.geteuid() != 0:
        skip("needs root to create a second local user (useradd)")
    if not shutil.which("useradd") or not shutil.which("setpriv"):
        skip("useradd or setpriv missing")
    user = "aidc_t2"
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        r = subprocess.run(["useradd", "-M", "-s", "/bin/sh", user], capture_output=True,
                           text=True)
        if r.returncode != 0:
            skip("useradd failed: " + r.stderr.strip())
        pw = pwd.getpwnam(user)
    c = Center(agents=1)
    root_job = c.submit("-J", "roots", "--", "sleep", "60")
    c.wait_state(root_job, ("running",))
    r = c.cli("cancel", str(root_job), user=user)
    check(r.returncode == 1 and "no job" in r.stderr, "other user cannot cancel", r.stderr)
    r = c.cli("logs", str(root_job), user=user)
    check(r.returncode == 1, "other user cannot read logs", r.stdout, r.stderr)
    r = c.cli("jobs", "--json", user=user)
    check(r.returncode == 0 and json.loads(r.stdout)["jobs"] == [],
          "other user does not see the job", r.stdout)
    r = c.cli("drain", "node-0", user=user)
    check(r.returncode == 1 and "admin" in r.stderr, "other user cannot drain", r.stderr)
    check(c.job(root_job)["state"] == "running", "root's job unchanged")
    # A job runs as its authenticated submitter, whatever the body claims.
    r = c.cli("submit", "--", "id", "-u", user=user)
    jid = int(r.stdout.split()[2]) if r.returncode == 0 else -1
    s = c.wait_state(jid, ENDED) if jid > 0 else None
    check(s and s["state"] == "completed" and s["user"] == user, "user's job ran", s, r.stderr)
    out = c.logs(jid)
    check(out.strip() == str(pw.pw_uid), "job ran as the user's uid", out)
    c.cli("cancel", str(root_job))


def main():
    return run_scenarios(__doc__, {"basic": test_basic, "restart": test_restart,
                                   "users": test_users})


if __name__ == "__main__":
    sys.exit(main())
