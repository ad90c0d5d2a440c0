#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Authentication of the live center with real processes (docs/security.md).

Starts a controller with TLS on 127.0.0.1 (a self-signed certificate made
here with openssl or certtool) and an agent that registers over https with
the CA file, then checks per-user tokens end to end:

  - a second local user's token (created over the Unix socket) submits a job
    from a root process: the job runs as the token's uid;
  - wrong, malformed, revoked and expired tokens get 401 and change nothing;
  - one user's token cannot see, cancel or read the logs of another's job;
  - a token cannot create tokens; a user cannot create one for another user;
  - clients refuse to send the secret or a token over plain http to a
    non-loopback host; the controller refuses a non-loopback listener without
    TLS and a TLS key readable by others.

`auth_test.py munge` instead starts a private munged (its own key and
socket) and a controller with --munge: a second user's MUNGE credential
submits a job that runs as that user, a replayed or forged credential gets
401, a MUNGE identity cannot create tokens or reach another user's job.

`auth_test.py groups` runs a controller with admin_group = a group made
here (aidct_<pid>a, with a user aidct_<pid>u): only root creates tokens for
another user; a token made with the admin group as effective gid loses the
admin role (and its jobs the gid) once the user leaves the group; a user in
301 groups is still found in admin_group; a deleted user's token gets 401.
The groups and the user are removed on exit.

Accounts: every user and group made here is named after this process
(aidct_<pid>...) and removed at exit, after the center is stopped; accounts of
earlier runs that were killed before their exit handlers ran (their pid is
gone) are removed at start (not aidc_t2, the shell tests' second user).

Everything started is stopped on exit (atexit + signals). Exit 77 after a
printed "SKIP: reason" means SKIP (not root, no useradd/setpriv, no
openssl/certtool; for munge: no munged or an aidc built without libmunge).
"""
import atexit
import grp
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_test import FAILS, check, poll, run_scenarios, skip  # noqa: E402  (shared helpers)

AIDC = os.environ.get("AIDC_BIN") or os.path.join(
    os.environ.get("AIDC_BINARY_DIR", "build"), "src/cli/aidc")
AIDC = os.path.realpath(AIDC)
PROCS = []
DIR = None
USER = "aidct_%dt" % os.getpid()  # the second user, made by setup()
GROUPS_MADE = []
USERS_MADE = []


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
    for p in PROCS:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    if DIR and os.path.isdir(DIR):
        if FAILS:
            for f in sorted(os.listdir(DIR)):
                if f.endswith(".log"):
                    print("---- " + f)
                    print(open(os.path.join(DIR, f), errors="replace").read()[-3000:])
        shutil.rmtree(DIR, ignore_errors=True)
    remove_accounts()


def remove_accounts():
    """Users first (a group that is a user's primary group cannot go before it)."""
    for u in USERS_MADE:
        subprocess.run(["userdel", u], capture_output=True)
    for g in reversed(GROUPS_MADE):
        subprocess.run(["groupdel", g], capture_output=True)
    del USERS_MADE[:], GROUPS_MADE[:]


def sweep_stale_accounts():
    """Removes the accounts of earlier runs whose process is gone (killed by a
    timeout: atexit never ran). Not aidc_t2: the shell tests' second user
    (agent_lib.sh OTHER_USER), which a test running beside this one may be
    using (removing it made live_sbatch_multi's setpriv fail)."""
    def stale(name):
        m = re.match(r"aidct_(\d+)", name)
        if not m:
            return False
        try:
            os.kill(int(m.group(1)), 0)
            return False
        except ProcessLookupError:
            return True
        except OSError:
            return False
    for u in sorted({p.pw_name for p in pwd.getpwall() if stale(p.pw_name)}):
        subprocess.run(["userdel", u], capture_output=True)
    for g in sorted({g.gr_name for g in grp.getgrall() if stale(g.gr_name)}):
        subprocess.run(["groupdel", g], capture_output=True)


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    if shutil.which("openssl"):
        cmd = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
               "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
               "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        r = subprocess.run(cmd, capture_output=True, text=True)
    elif shutil.which("certtool"):
        tmpl = os.path.join(d, "cert.cfg")
        with open(tmpl, "w") as f:
            f.write('cn = "127.0.0.1"\nip_address = "127.0.0.1"\ndns_name = "localhost"\n'
                    "expiration_days = 2\ntls_www_server\nca\nsigning_key\n")
        r = subprocess.run(["certtool", "--generate-privkey", "--outfile", key],
                           capture_output=True, text=True)
        if r.returncode == 0:
            r = subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                                "--template", tmpl, "--outfile", cert],
                               capture_output=True, text=True)
    else:
        skip("neither openssl nor certtool is installed (needed for a test certificate)")
    if r.returncode != 0:
        skip("could not make a test certificate: " + r.stderr.strip()[-200:])
    os.chmod(key, 0o600)
    os.chmod(cert, 0o644)
    return cert, key


def wait_for(what, fn, timeout=60):
    """fn()'s first true value within timeout seconds, else None (what names the wait)."""
    return poll(fn, timeout)


class Center:
    def __init__(self, d, cert, key, extra=()):
        self.dir, self.cert = d, cert
        self.sock = os.path.join(d, "aidc.sock")
        state = os.path.join(d, "ctl")
        port_file = os.path.join(d, "port")
        args = [AIDC, "controller", "--state-dir", state, "--socket", self.sock, "--port", "0",
                "--port-file", port_file, "--tls-cert", cert, "--tls-key", key,
                "--node-timeout", "5", "--allow-root-jobs"] + list(extra)
        self.ctl = self.spawn(args, "controller.log")
        if not wait_for("port", lambda: os.path.exists(port_file), 30):
            raise SystemExit("the controller did not start")
        self.port = int(open(port_file).read())
        self.url = "https://127.0.0.1:%d" % self.port
        self.secret = os.path.join(state, "secret")
        adir = os.path.join(d, "agent")
        self.agent = self.spawn([AIDC, "agent", "--controller", self.url, "--cacert", cert,
                                 "--secret-file", self.secret, "--name", "node-0",
                                 "--state-dir", adir, "--devices", "mock:2:T4", "--cpus", "4",
                                 "--allow-root-jobs"], "agent.log")
        self.ctx = ssl.create_default_context(cafile=cert)

    def spawn(self, args, log):
        f = open(os.path.join(self.dir, log), "w")
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, cwd=self.dir)
        PROCS.append(p)
        return p

    def local(self, method, path, body=None):
        """A request over the Unix socket as root (admin)."""
        c = http.client.HTTPConnection("localhost", timeout=30)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        c.sock = s
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def remote(self, method, path, token=None, body=None, headers=None, munge=None):
        """A request over https with a bearer token (or a MUNGE credential)."""
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if munge is not None:
            h["Authorization"] = "MUNGE " + munge
        if body is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def cli(self, *args, user=None, env=None):
        cmd = [AIDC] + list(args)
        if user:
            cmd = ["setpriv", "--reuid", user, "--regid", user, "--init-groups"] + cmd
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("AIDC_") or k in ("AIDC_BIN", "AIDC_BINARY_DIR")}
        e["AIDC_SOCKET"] = self.sock
        e.update(env or {})
        return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120,
                              cwd=self.dir)

    def remote_env(self, token):
        return {"AIDC_CONTROLLER": self.url, "AIDC_CACERT": self.cert, "AIDC_TOKEN": token}

    def job(self, jid):
        st, data = self.local("GET", "/v1/jobs/%d" % jid)
        return json.loads(data) if st == 200 else None

    def njobs(self):
        st, data = self.local("GET", "/v1/jobs")
        return len(json.loads(data)["jobs"]) if st == 200 else -1

    def ntokens(self):
        st, data = self.local("GET", "/v1/tokens")
        return len(json.loads(data)["tokens"]) if st == 200 else -1

    def wait_state(self, jid, states, timeout=60):
        return wait_for("state", lambda: (lambda j: j if j and j["state"] in states else None)(
            self.job(jid)), timeout) or self.job(jid)


ENDED = ("completed", "failed", "cancelled", "timeout", "node_fail")


def create_token(c, *args, user=None):
    r = c.cli("token", "create", *args, user=user)
    tok = r.stdout.strip()
    if r.returncode != 0 or not tok.startswith("aidc_"):
        raise SystemExit("token create %s failed: %s %s" % (args, r.stdout, r.stderr))
    return tok


def err_code(data):
    try:
        return json.loads(data)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def test_refusals(d, cert, key):
    # The controller refuses a non-loopback listener without TLS ...
    r = subprocess.run([AIDC, "controller", "--state-dir", os.path.join(d, "c2"), "--socket",
                        os.path.join(d, "c2.sock"), "--listen", "0.0.0.0", "--port", "0"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "without TLS" in r.stderr,
          "controller refuses a non-loopback listen without TLS", r.stderr)
    # ... and a TLS key others can read.
    loose = os.path.join(d, "loose.pem")
    shutil.copy(key, loose)
    os.chmod(loose, 0o644)
    r = subprocess.run([AIDC, "controller", "--state-dir", os.path.join(d, "c3"), "--socket",
                        os.path.join(d, "c3.sock"), "--port", "0", "--tls-cert", cert,
                        "--tls-key", loose], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "readable by group or others" in r.stderr,
          "controller refuses a TLS key readable by others", r.stderr)
    # ... and a FIFO as the key (it used to block the start forever).
    fifo = os.path.join(d, "fifo.pem")
    os.mkfifo(fifo, 0o600)
    try:
        r = subprocess.run([AIDC, "controller", "--state-dir", os.path.join(d, "c4"),
                            "--socket", os.path.join(d, "c4.sock"), "--port", "0",
                            "--tls-cert", cert, "--tls-key", fifo],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "not a regular file" in r.stderr,
              "controller refuses a FIFO as the TLS key", r.stderr)
    except subprocess.TimeoutExpired:
        check(False, "controller refuses a FIFO as the TLS key (it blocked)")
    # Clients never send a credential over plain http beyond loopback (no
    # connection is even tried: 192.0.2.1 is TEST-NET-1).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIDC_")}
    env["AIDC_TOKEN"] = "aidc_1_" + "0" * 64
    r = subprocess.run([AIDC, "jobs", "--controller", "http://192.0.2.1:6820"],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode == 1 and "refusing to send the token" in r.stderr,
          "CLI refuses to send a token over plain http to a remote host", r.stderr)
    secret = os.path.join(d, "secret")
    with open(secret, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n")
    os.chmod(secret, 0o600)
    r = subprocess.run([AIDC, "agent", "--controller", "http://192.0.2.1:6820", "--secret-file",
                        secret, "--state-dir", os.path.join(d, "a2"), "--devices", "none",
                        "--name", "refused", "--limits", "none"],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode == 1 and "refusing to send the cluster secret" in r.stderr,
          "agent refuses to send the secret over plain http to a remote host", r.stderr)


def setup():
    """Checks the prerequisites, makes the second user and the test directory."""
    global DIR
    if not os.path.exists(AIDC):
        skip("aidc binary not found at " + AIDC)
    if os.geteuid() != 0:
        skip("needs root to create a second local user (useradd) and run jobs as it")
    if not shutil.which("useradd") or not shutil.which("setpriv"):
        skip("useradd or setpriv missing")
    sweep_stale_accounts()
    atexit.register(cleanup)
    r = subprocess.run(["useradd", "-M", "-U", "-s", "/bin/sh", USER], capture_output=True,
                       text=True)
    if r.returncode != 0:
        skip("useradd failed: " + r.stderr.strip())
    USERS_MADE.append(USER)
    GROUPS_MADE.append(USER)  # -U: its own primary group (userdel removes it too)
    pw = pwd.getpwnam(USER)
    DIR = tempfile.mkdtemp(prefix="aidc-auth-")
    os.chmod(DIR, 0o755)
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: sys.exit(1))
    cert, key = make_cert(DIR)
    return pw, cert, key


def wait_up(c):
    up = wait_for("node", lambda: (lambda st_d: st_d[0] == 200 and any(
        n["state"] == "up" for n in json.loads(st_d[1])["nodes"]))(c.local("GET", "/v1/nodes")))
    check(up, "agent registered over https with the CA file")


def test_tokens():
    pw, cert, key = setup()
    test_refusals(DIR, cert, key)
    c = Center(DIR, cert, key)
    wait_up(c)
    st, data = c.remote("GET", "/v1/health")
    check(st == 200 and json.loads(data)["ok"], "health over https", st, data)

    # Tokens: one for the second user (made by that user over the socket), one for root.
    utok = create_token(c, "--name", "laptop", "--expires", "1d", user=USER)
    rtok = create_token(c, "--name", "root-remote")
    r = c.cli("token", "create", "--user", "root", user=USER)
    check(r.returncode == 1 and "only root" in r.stderr,
          "a user cannot create a token for another", r.stderr)
    st, data = c.remote("POST", "/v1/tokens", utok, body="{}")
    check(st == 403 and err_code(data) == "E_PERM", "a token cannot create tokens", st, data)
    r = c.cli("token", "list", "--json", user=USER)
    lst = json.loads(r.stdout)["tokens"] if r.returncode == 0 else None
    check(lst is not None and len(lst) == 1 and lst[0]["user"] == USER and
          "hash" not in r.stdout and utok.split("_")[2] not in r.stdout,
          "a user lists only their own tokens, without secrets or hashes", r.stdout, r.stderr)

    # Root's job, submitted over the socket, that the user must not reach.
    r = c.cli("submit", "-J", "roots", "--", "sleep", "60")
    root_job = int(r.stdout.split()[2]) if r.returncode == 0 else -1
    check(root_job > 0 and c.wait_state(root_job, ("running",))["state"] == "running",
          "root's job runs", r.stderr)

    # The user's token submits from a root process: the job runs as the token's uid.
    r = c.cli("submit", "--", "id", "-u", env=c.remote_env(utok))
    jid = int(r.stdout.split()[2]) if r.returncode == 0 else -1
    s = c.wait_state(jid, ENDED) if jid > 0 else None
    check(s and s["state"] == "completed" and s["user"] == USER and s["uid"] == pw.pw_uid,
          "a job submitted with a token runs as the token's user", s, r.stderr)
    r = c.cli("logs", str(jid), env=c.remote_env(utok))
    check(r.returncode == 0 and r.stdout.strip() == str(pw.pw_uid),
          "its output (read remotely with the token) is the user's uid", r.stdout, r.stderr)

    # The user's token cannot see, cancel or read root's job.
    r = c.cli("jobs", "--json", env=c.remote_env(utok))
    ids = [j["id"] for j in json.loads(r.stdout)["jobs"]] if r.returncode == 0 else None
    check(ids == [jid], "the user's token sees only the user's jobs", r.stdout, r.stderr)
    st, _ = c.remote("GET", "/v1/jobs/%d" % root_job, utok)
    check(st == 404, "the user's token cannot read another's job", st)
    r = c.cli("cancel", str(root_job), env=c.remote_env(utok))
    check(r.returncode == 1 and "no job" in r.stderr, "the user's token cannot cancel it",
          r.stderr)
    st, _ = c.remote("GET", "/v1/jobs/%d/logs" % root_job, utok)
    check(st == 404, "the user's token cannot read its logs", st)
    st, _ = c.remote("POST", "/v1/nodes/node-0/drain", utok)
    check(st == 403, "the user's token cannot drain nodes", st)
    check(c.job(root_job)["state"] == "running", "root's job unchanged")
    st, data = c.remote("GET", "/v1/jobs/%d" % root_job, rtok)
    check(st == 200 and json.loads(data)["id"] == root_job, "root's token sees root's job",
          st, data)

    # Bad tokens: 401 with a JSON error, nothing changes.
    before_jobs, before_tokens = c.njobs(), c.ntokens()
    tid, sec = utok.split("_")[1], utok.split("_")[2]
    wrong = "aidc_%s_%s" % (tid, ("0" if sec[0] != "0" else "1") + sec[1:])
    body = json.dumps({"command": ["true"], "cwd": "/"})
    for what, tok in (("wrong", wrong), ("unknown", "aidc_999999_" + sec),
                      ("malformed", "not-a-token"), ("empty", "")):
        st, data = c.remote("POST", "/v1/jobs", tok, body=body)
        check(st == 401 and err_code(data) == "E_AUTH", "a %s token gets 401" % what, st, data)
    st, data = c.remote("GET", "/v1/health", headers={"Authorization": "Basic dTpw"})
    check(st == 401, "another Authorization scheme gets 401", st, data)
    for path in ("/v1/health", "/v1/jobs"):
        st, data = c.remote("GET", path, headers={"X-AIDC-Secret": "0" * 64})
        check(st == 401 and err_code(data) == "E_AUTH",
              "a wrong cluster secret gets 401 on %s (not anonymous)" % path, st, data)
    st, data = c.remote("GET", "/v1/jobs", rtok, headers={"X-AIDC-Secret": ""})
    check(st == 401, "an empty cluster secret header gets 401 too", st, data)
    r = c.cli("jobs", env=c.remote_env("aidc_1_" + "0" * 5000))
    check(r.returncode == 1 and "AIDC_TOKEN is longer than a token" in r.stderr,
          "an over-long $AIDC_TOKEN is refused with a clear error", r.stderr)
    st, data = c.remote("GET", "/v1/jobs", munge="MUNGE:AwQFAAA:")
    check(st == 401 and "does not accept MUNGE" in data.decode(),
          "MUNGE credentials get 401 unless the controller enables them", st, data)
    # Revoked.
    vtok = create_token(c, "--name", "to-revoke", user=USER)
    vid = vtok.split("_")[1]
    r = c.cli("token", "revoke", vid, user=USER)
    check(r.returncode == 0, "the user revokes their token", r.stderr)
    st, data = c.remote("POST", "/v1/jobs", vtok, body=body)
    check(st == 401 and "revoked" in data.decode(), "a revoked token gets 401", st, data)
    r = c.cli("token", "revoke", rtok.split("_")[1], user=USER)
    check(r.returncode == 1 and "no token" in r.stderr, "a user cannot revoke another's token",
          r.stderr)
    # Expired (lifetime 1 s; the check waits until it has passed).
    etok = create_token(c, "--expires", "1s", user=USER)
    time.sleep(2.1)
    st, data = c.remote("POST", "/v1/jobs", etok, body=body)
    check(st == 401 and "expired" in data.decode(), "an expired token gets 401", st, data)
    check(c.njobs() == before_jobs, "refused tokens submitted nothing", c.njobs(), before_jobs)
    check(c.ntokens() == before_tokens + 2, "only the two new tokens were added",
          c.ntokens(), before_tokens)
    st, _ = c.remote("GET", "/v1/jobs", utok)
    check(st == 200, "the valid token still works")

    # Token file: must be the user's own, mode 0600.
    tf = os.path.join(DIR, "token")
    with open(tf, "w") as f:
        f.write(rtok + "\n")
    os.chmod(tf, 0o644)
    env = c.remote_env(rtok)
    del env["AIDC_TOKEN"]
    env["AIDC_TOKEN_FILE"] = tf
    r = c.cli("jobs", env=env)
    check(r.returncode == 1 and "mode 0600" in r.stderr, "a token file readable by others is "
          "refused", r.stderr)
    os.chmod(tf, 0o600)
    r = c.cli("jobs", env=env)
    check(r.returncode == 0 and "roots" in r.stdout, "a 0600 token file works", r.stderr)
    # https verifies the server: without the CA file the client refuses it.
    env = c.remote_env(rtok)
    del env["AIDC_CACERT"]
    r = c.cli("jobs", env=env)
    check(r.returncode == 1 and ("certificate" in r.stderr or "SSL" in r.stderr),
          "a client without the CA refuses the server's certificate", r.stderr)
    c.cli("cancel", str(root_job))


def test_munge():
    munged = shutil.which("munged") or ("/usr/sbin/munged" if os.path.exists("/usr/sbin/munged")
                                        else None)
    if not munged or not shutil.which("munge"):
        skip("munged or munge is not installed (Debian package munge)")
    pw, cert, key = setup()
    mdir = os.path.join(DIR, "munge")
    os.mkdir(mdir, 0o755)
    mkey = os.path.join(mdir, "munge.key")
    with open(mkey, "wb") as f:
        f.write(os.urandom(1024))
    os.chmod(mkey, 0o600)
    msock = os.path.join(mdir, "munge.sock")
    log = open(os.path.join(DIR, "munged.log"), "w")
    PROCS.append(subprocess.Popen(
        [munged, "-F", "-f", "--socket=" + msock, "--key-file=" + mkey,
         "--log-file=" + os.path.join(mdir, "munged.log"),
         "--pid-file=" + os.path.join(mdir, "munged.pid"),
         "--seed-file=" + os.path.join(mdir, "munged.seed")], stdout=log, stderr=log))
    if not wait_for("munged", lambda: os.path.exists(msock), 30):
        skip("the private munged did not start: " + open(log.name).read()[-300:])

    def cred(user=None, payload="aidc-v1"):
        cmd = ["munge", "-S", msock] + (["-s", payload] if payload is not None else ["-n"])
        if user:
            cmd = ["setpriv", "--reuid", user, "--regid", user, "--init-groups"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()

    c = Center(DIR, cert, key, extra=("--munge", "--munge-socket", msock))
    wait_up(c)
    st, data = c.remote("GET", "/v1/jobs", munge=cred())
    if st != 200 and b"without libmunge" in data:
        skip("this aidc was built without libmunge (install libmunge-dev)")
    check(st == 200, "root's MUNGE credential is accepted", st, data)
    r = c.cli("submit", "-J", "roots", "--", "sleep", "60")
    root_job = int(r.stdout.split()[2]) if r.returncode == 0 else -1
    check(root_job > 0, "root submits over the socket", r.stderr)

    # The second user's CLI sends a fresh credential with every call.
    env = {"AIDC_CONTROLLER": c.url, "AIDC_CACERT": cert, "AIDC_AUTH": "munge",
           "AIDC_MUNGE_SOCKET": msock}
    r = c.cli("submit", "--", "id", "-u", user=USER, env=env)
    jid = int(r.stdout.split()[2]) if r.returncode == 0 else -1
    s = c.wait_state(jid, ENDED) if jid > 0 else None
    check(s and s["state"] == "completed" and s["uid"] == pw.pw_uid and s["user"] == USER,
          "a job submitted with a MUNGE credential runs as its user", s, r.stderr)
    r = c.cli("logs", str(jid), user=USER, env=env)
    check(r.returncode == 0 and r.stdout.strip() == str(pw.pw_uid),
          "its output is the user's uid", r.stdout, r.stderr)
    r = c.cli("jobs", "--json", user=USER, env=env)
    ids = [j["id"] for j in json.loads(r.stdout)["jobs"]] if r.returncode == 0 else None
    check(ids == [jid], "the MUNGE user sees only their jobs", r.stdout, r.stderr)
    r = c.cli("cancel", str(root_job), user=USER, env=env)
    check(r.returncode == 1 and "no job" in r.stderr, "the MUNGE user cannot cancel root's job",
          r.stderr)
    st, _ = c.remote("GET", "/v1/jobs/%d/logs" % root_job, munge=cred(USER))
    check(st == 404, "the MUNGE user cannot read root's logs", st)

    before = c.njobs()
    body = json.dumps({"command": ["true"], "cwd": "/"})
    one = cred(USER)
    st, _ = c.remote("GET", "/v1/jobs", munge=one)
    check(st == 200, "a fresh credential works once", st)
    st, data = c.remote("POST", "/v1/jobs", munge=one, body=body)
    check(st == 401 and b"eplayed" in data, "a replayed credential gets 401", st, data)
    forged = one[:-8] + ("A" * 8 if not one.endswith("A" * 8) else "B" * 8)
    st, data = c.remote("POST", "/v1/jobs", munge=forged, body=body)
    check(st == 401, "a forged credential gets 401", st, data)
    st, data = c.remote("POST", "/v1/tokens", munge=cred(USER), body="{}")
    check(st == 403, "a MUNGE identity cannot create tokens", st, data)
    # Credentials made for another service (no payload, as Slurm's, or another one).
    for what, payload in (("no", None), ("another", "slurm"), ("a longer", "aidc-v1x")):
        st, data = c.remote("POST", "/v1/jobs", munge=cred(USER, payload), body=body)
        check(st == 401 and b"payload" in data,
              "a credential with %s payload gets 401" % what, st, data)
    check(c.njobs() == before, "refused credentials submitted nothing", c.njobs(), before)
    c.cli("cancel", str(root_job))


def run_ok(*cmd):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))


def test_groups():
    """admin_group and tokens: the role follows the user's groups now, not at
    the token's creation; only root mints tokens for others; users in more
    than 256 groups."""
    for tool in ("groupadd", "groupdel", "userdel", "gpasswd"):
        if not shutil.which(tool):
            skip(tool + " missing")
    pw, cert, key = setup()
    tag = "aidct_%d" % os.getpid()  # removed by cleanup() on exit, after the center
    admin, user = tag + "a", tag + "u"
    GROUPS_MADE.append(admin)
    run_ok("groupadd", admin)
    USERS_MADE.append(user)
    run_ok("useradd", "-M", "-s", "/bin/sh", "-G", admin, user)
    upw = pwd.getpwnam(user)
    conf = os.path.join(DIR, "ctl.conf")
    with open(conf, "w") as f:
        f.write("admin_group = %s\n" % admin)
    c = Center(DIR, cert, key, extra=("--config", conf))
    wait_up(c)

    def is_admin(tok):
        # An admin route on a node that does not exist: 404 for admins, 403 for users.
        st, data = c.remote("POST", "/v1/nodes/nosuch-node/drain", tok)
        return {404: True, 403: False}.get(st, (st, data))

    # Only root creates tokens for another user, admins included.
    r = c.cli("drain", "nosuch-node", user=user)
    check(r.returncode == 1 and "needs the admin role" not in r.stderr,
          "the admin_group member is admin over the socket", r.stderr)
    before = c.ntokens()
    for other in ("root", USER):
        r = c.cli("token", "create", "--user", other, user=user)
        check(r.returncode == 1 and "only root" in r.stderr,
              "an admin_group member cannot create a token for %s" % other, r.stdout, r.stderr)
    check(c.ntokens() == before, "nothing was created", c.ntokens(), before)
    rt = create_token(c, "--user", user)
    check(rt.startswith("aidc_"), "root creates a token for another user")

    # A token made with the admin group as effective gid, then the user leaves it.
    r = subprocess.run(["setpriv", "--reuid", user, "--regid", admin, "--init-groups", AIDC,
                        "token", "create", "--name", "eff-admin"], capture_output=True,
                       text=True, env=dict(os.environ, AIDC_SOCKET=c.sock), timeout=60)
    tok = r.stdout.strip()
    check(r.returncode == 0 and tok.startswith("aidc_"),
          "a token created with effective gid = admin_group", r.stderr)
    check(is_admin(tok) is True, "the token is admin while the user is in admin_group")
    run_ok("gpasswd", "-d", user, admin)
    check(is_admin(tok) is False, "after gpasswd -d the old token is no longer admin",
          is_admin(tok))
    check(is_admin(rt) is False, "nor is root's token for that user", is_admin(rt))
    # Its jobs run with the user's primary group, not the group of the creation.
    r = c.cli("submit", "--", "id", "-g", env=c.remote_env(tok))
    jid = int(r.stdout.split()[2]) if r.returncode == 0 else -1
    s = c.wait_state(jid, ENDED) if jid > 0 else None
    r = c.cli("logs", str(jid), env=c.remote_env(tok)) if s else None
    check(s and s["state"] == "completed" and r.stdout.strip() == str(upw.pw_gid),
          "a job submitted with the token runs with the user's current primary gid",
          s, r and r.stdout)

    # More than 256 groups: the admin check still finds admin_group.
    for i in range(300):
        g = "%s_%d" % (tag, i)
        GROUPS_MADE.append(g)
        run_ok("groupadd", "-U", user, g)
    run_ok("gpasswd", "-a", user, admin)
    check(is_admin(rt) is True and is_admin(tok) is True,
          "a user in 301 groups is found in admin_group", is_admin(rt), is_admin(tok))

    # A deleted user's token is refused.
    run_ok("userdel", user)
    USERS_MADE.remove(user)
    st, data = c.remote("GET", "/v1/jobs", tok)
    check(st == 401 and b"no longer exists" in data, "a deleted user's token gets 401",
          st, data)


def main():
    scenarios = {"tokens": test_tokens, "munge": test_munge, "groups": test_groups}
    return run_scenarios(__doc__, scenarios, default="tokens", aidc=AIDC)


if __name__ == "__main__":
    sys.exit(main())
