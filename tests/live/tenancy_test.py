#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Tenancy of the live center (issue 11, docs/tenancy.md) with real processes.

    tenancy_test.py accounts  no accounts: jobs run as before, -A refused; the
                              tree (organization sci with projects phys and
                              chem, org bio), roles (admin, coordinator of sci,
                              user), bad input refused changing nothing;
                              isolation: a user of phys cannot submit to chem,
                              see or act on chem's jobs or see chem; a job
                              carries its account (JSON, aidc jobs, #SBATCH -A);
                              deleting an account with live jobs or users
                              refused; everything survives a controller restart
    tenancy_test.py qos       QoS made by admins only, allowed per account;
                              --priority only lowers for users (the reported
                              hole: --priority 1000000 refused); on order =
                              priority a QoS with preempt rights over 'low'
                              preempts a low job (requeued, attempt 1), while a
                              higher-priority QoS without the right does not;
                              max wall time applied and enforced
    tenancy_test.py limits    association limits at the boundary: a user's
                              running-job limit holds its second job with the
                              limit named as the pending reason, without
                              holding other accounts; the submit limit refuses
                              the job past it; raising a limit starts the held
                              job; an account's max_devices holds a larger job
    tenancy_test.py quota     quotas with borrowing and reclaim on 2 mock
                              devices: projects A and B of one organization are
                              guaranteed 1 each; B runs 2 jobs (one borrowing
                              A's unused device); A's job reclaims it: the
                              borrower gets SIGTERM, its grace, is requeued
                              (attempt 1, never twice at once), A's job runs
                              (the time from its submit is printed); then
                              the organization's CPU and memory quotas: below
                              its projects' quotas or negative refused, at
                              the cap a job runs, one core or GiB over waits
                              with the quota named; B borrows A's core within
                              the cap and A's job, held at the cap, reclaims it
    tenancy_test.py quota_models quotas per device model on 2 mock T4 (node-0)
                              and 2 mock A100 (node-1): bad entries (unknown
                              model, negative, absurd, not gpu:MODEL=N)
                              refused naming the field, nothing changed; the
                              model's case follows the nodes'; A and B are
                              guaranteed 1 of each model; B runs 2 A100 and
                              2 T4 jobs (one of each borrowing A's); A's A100
                              job reclaims only the A100 borrower (SIGTERM,
                              grace, requeue, never twice at once; the time
                              from the borrower's exit to A's start is
                              printed); the T4 borrower is untouched; the
                              requeued borrower waits naming the model's
                              quota; a job of A naming no model lands on the
                              model its quota admits; entries survive a
                              restart (no migration: older documents load)
    tenancy_test.py fairshare order = multifactor (fair share only, no
                              decay): B's job has used devices, A none; of
                              B's and A's jobs waiting for the node, A's
                              (queued second) starts first; aidc priority
                              shows the hand-computed factors (3 leaves under
                              cohort org: account org and user a in A have no
                              usage and tie at rank 0, user b in B is rank 2:
                              factors 3/3 and 1/3) and priorities 1000 / 333;
                              aidc share shows B's usage and b's shares 3
                              (user shares: admins only); bad shares and
                              weights refused naming them

Throwaway users are named aidcn<pid><tag>, removed at exit (atexit and
signals) and, if a run was killed before its exit handlers, at the start of
the next run (their pid is gone). Exit 77 after "SKIP: reason" means SKIP
(not root, no useradd/setpriv).
"""
import json
import os
import pwd
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_test import check, run_scenarios, skip  # noqa: E402  (shared test helpers)
import harden_test  # noqa: E402  (the Center class: controller + agents on loopback)
from harden_test import Center  # noqa: E402

ENDED = ("completed", "failed", "cancelled", "timeout", "node_fail")


def sweep_stale():
    for p in pwd.getpwall():
        m = re.match(r"aidcn(\d+)[a-z]$", p.pw_name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            subprocess.run(["userdel", p.pw_name], capture_output=True)
        except OSError:
            pass


def user(tag):
    """A throwaway local user (removed at exit by harden_test's handler)."""
    if os.geteuid() != 0:
        skip("needs root to create throwaway users (useradd)")
    if not harden_test.shutil.which("useradd") or not harden_test.shutil.which("setpriv"):
        skip("useradd or setpriv missing")
    name = "aidcn%d%s" % (os.getpid(), tag)
    r = subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], capture_output=True, text=True)
    if r.returncode != 0:
        skip("useradd failed: " + r.stderr.strip())
    harden_test.USERS.append(name)
    return name


def ok(c, what, *args, u=None):
    r = c.cli(*args, user=u)
    check(r.returncode == 0, what, args, r.stdout, r.stderr)
    return r


def refused(c, what, needle, *args, u=None):
    r = c.cli(*args, user=u)
    check(r.returncode != 0 and needle in r.stderr, what, args, r.stdout, r.stderr)
    return r


def state(c):
    """Everything the admin sees, to prove a refused change changed nothing."""
    return [c.http("GET", p)[1] for p in ("/v1/accounts", "/v1/users", "/v1/qos")]


def jobj(c, jid):
    return c.job(jid) or {}


def test_accounts():
    sweep_stale()
    a, b, k = user("a"), user("b"), user("k")
    c = Center()
    # ---- no accounts: today's behaviour ----
    j0 = c.submit("--", "true", user=a)
    check(jobj(c, j0).get("account") == "", "without accounts a job has no account", jobj(c, j0))
    refused(c, "-A refused while no accounts exist", "no accounts are configured",
            "submit", "-A", "phys", "--", "true", u=a)
    r = ok(c, "account list without accounts", "account", "list", "--json")
    check(json.loads(r.stdout)["enabled"] is False, "tenancy reported off", r.stdout)
    # ---- the tree, by root (admin) ----
    ok(c, "admin adds organization sci", "account", "add", "sci", "--coordinators", k,
       "--description", "science")
    ok(c, "admin adds project phys", "account", "add", "phys", "--parent", "sci")
    ok(c, "admin adds organization bio", "account", "add", "bio")
    ok(c, "coordinator of sci adds project chem under it", "account", "add", "chem",
       "--parent", "sci", u=k)
    refused(c, "coordinator of sci cannot add under bio", "only admins add accounts",
            "account", "add", "x", "--parent", "bio", u=k)
    refused(c, "a user cannot add accounts", "only admins", "account", "add", "evil", u=a)
    refused(c, "a project cannot hold projects", "two levels",
            "account", "add", "deep", "--parent", "phys")
    # ---- bad input changes nothing ----
    before = state(c)
    for body, needle in [
            ({"name": "n1", "max_running_jobs": -5}, "max_running_jobs"),
            ({"name": "n2", "max_devices": 10 ** 12}, "max_devices"),
            ({"name": "n3", "bogus": 1}, "unknown field"),
            ({"name": "n4", "parent": "nope"}, "unknown parent"),
            ({"name": "n5", "qos": ["nope"]}, "unknown QoS"),
            ({"name": "bad name"}, "not a valid name"),
            ({"name": "phys"}, "exists already")]:
        st, data = c.http("POST", "/v1/accounts", json.dumps(body).encode())
        check(st >= 400 and needle in data.decode(), "refused: %s" % body, st, data)
    st, data = c.http("POST", "/v1/accounts/phys", b'{"max_submit_jobs":"many"}')
    check(st == 400, "a limit that is not an integer refused", st, data)
    refused(c, "user add: unknown account", "unknown account", "user", "add", b, "--account",
            "nope")
    refused(c, "CLI refuses a negative limit", "--max-running-jobs", "account", "modify", "phys",
            "--max-running-jobs", "-7")
    check(state(c) == before, "refused changes changed nothing")
    # ---- associations: coordinator for its subtree, admin anywhere ----
    refused(c, "a user not associated is refused at submit", "not associated with any account",
            "submit", "--", "true", u=a)
    ok(c, "coordinator associates a with phys", "user", "add", a, "--account", "phys", u=k)
    refused(c, "coordinator cannot associate with bio", "do not coordinate", "user", "add", b,
            "--account", "bio", u=k)
    ok(c, "admin associates b with chem", "user", "add", b, "--account", "chem")
    # ---- jobs carry their account; isolation ----
    ja = c.submit("--", "sleep", "30", user=a)
    check(jobj(c, ja).get("account") == "phys", "a's job charged to its default account phys",
          jobj(c, ja))
    r = ok(c, "aidc jobs shows the account column", "jobs", u=a)
    check("ACCOUNT" in r.stdout and "phys" in r.stdout, "ACCOUNT column", r.stdout)
    refused(c, "a cannot submit to chem", "not associated with account 'chem'",
            "submit", "-A", "chem", "--", "true", u=a)
    refused(c, "unknown account refused", "unknown account 'nope'",
            "submit", "-A", "nope", "--", "true", u=a)
    script = os.path.join(c.dir, "b.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n#SBATCH -A chem\n#SBATCH -J bjob\nsleep 30\n")
    os.chmod(script, 0o755)
    jb = c.submit(script, user=b)
    check(jobj(c, jb).get("account") == "chem", "#SBATCH -A chem", jobj(c, jb))
    r = c.cli("job", str(jb), user=a)
    check(r.returncode != 0, "a cannot see b's chem job", r.stdout)
    r = c.cli("cancel", str(jb), user=a)
    check(r.returncode != 0 and jobj(c, jb).get("state") not in ENDED,
          "a cannot cancel b's chem job", r.stderr)
    r = ok(c, "a lists accounts", "account", "list", "--json", u=a)
    names = sorted(x["name"] for x in json.loads(r.stdout)["accounts"])
    check(names == ["phys", "sci"], "a sees its project and organization only", names)
    refused(c, "a cannot show chem", "no account", "account", "show", "chem", u=a)
    r = ok(c, "a lists users", "user", "list", "--json", u=a)
    check([x["name"] for x in json.loads(r.stdout)["users"]] == [a], "a sees only itself",
          r.stdout)
    r = ok(c, "coordinator lists users", "user", "list", "--json", u=k)
    check(sorted(x["name"] for x in json.loads(r.stdout)["users"]) == sorted([a, b]),
          "the coordinator of sci sees the users of phys and chem", r.stdout)
    refused(c, "a user cannot modify its account's limits", "only admins and the coordinators",
            "account", "modify", "phys", "--max-submit-jobs", "100", u=a)
    ok(c, "coordinator sets a limit", "account", "modify", "phys", "--max-submit-jobs", "100",
       u=k)
    # ---- deletion refused while in use ----
    refused(c, "delete of an account with live jobs refused", "not yet ended",
            "account", "delete", "phys")
    refused(c, "removing a's association with live jobs refused", "not yet ended",
            "user", "modify", a, "--remove-account", "phys")
    refused(c, "delete of an organization with projects refused", "has projects",
            "account", "delete", "sci")
    # ---- restart: everything persists ----
    before = state(c)
    c.stop_controller()
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0"), 30)
    check(state(c) == before, "accounts, users and QoS survive a restart")
    check(jobj(c, ja).get("account") == "phys", "a job's account survives a restart")
    for j in (ja, jb):
        c.http("POST", "/v1/jobs/%d/cancel" % j, b"{}")
        c.wait_state(j, ENDED, 30)
    refused(c, "delete of an account with users refused", "is associated",
            "account", "delete", "phys")
    ok(c, "a's association removed", "user", "modify", a, "--remove-account", "phys")
    ok(c, "empty project deleted", "account", "delete", "phys")
    refused(c, "a user cannot delete accounts", "", "account", "delete", "bio", u=a)


def test_qos():
    sweep_stale()
    a, b = user("a"), user("b")
    c = Center(ctl_args=["--order", "priority", "--kill-grace-s", "2"])
    # The reported hole, without any accounts: a user's --priority 1000000.
    refused(c, "a user cannot raise its priority (no accounts)", "only admins raise",
            "submit", "--priority", "1000000", "--", "true", u=a)
    jl = c.submit("--priority", "-5", "--", "true", user=a)
    check(jobj(c, jl).get("priority") == -5, "a user lowers its priority (nice)", jobj(c, jl))
    refused(c, "QoS are added by admins only", "admin", "qos", "add", "x", u=a)
    ok(c, "qos low", "qos", "add", "low", "--priority", "0")
    ok(c, "qos mid (higher priority, no preempt rights)", "qos", "add", "mid", "--priority",
       "50")
    ok(c, "qos high preempts low", "qos", "add", "high", "--priority", "100", "--preempt", "low",
       "--max-wall", "1h")
    refused(c, "a QoS cannot preempt an unknown one", "unknown QoS", "qos", "add", "z",
            "--preempt", "nope")
    st, data = c.http("POST", "/v1/qos/low", b'{"id":5}')
    check(st == 400 and b"assigned by the controller" in data, "a QoS id cannot be set", data)
    ok(c, "org", "account", "add", "org")
    ok(c, "project p allows low, mid, high", "account", "add", "p", "--parent", "org",
       "--qos", "low,mid,high", "--default-qos", "low")
    ok(c, "project q allows low only", "account", "add", "q", "--parent", "org", "--qos", "low",
       "--default-qos", "low")
    ok(c, "a in p", "user", "add", a, "--account", "p")
    ok(c, "b in q", "user", "add", b, "--account", "q")
    refused(c, "QoS not allowed by the account", "does not allow QoS 'high'",
            "submit", "--qos", "high", "--", "true", u=b)
    refused(c, "unknown QoS", "unknown QoS 'nope'", "submit", "--qos", "nope", "--", "true", u=b)
    refused(c, "still no raising with accounts", "only admins raise",
            "submit", "--priority", "1000000", "--", "true", u=b)
    refused(c, "a time limit above the QoS max wall refused", "max_wall_s",
            "submit", "--qos", "high", "-t", "2:00:00", "--", "true", u=a)
    jh = c.submit("--qos", "high", "--", "true", user=a)
    check(jobj(c, jh).get("time_limit_s") == 3600 and jobj(c, jh).get("priority") == 100,
          "QoS high: max wall as the time limit, priority 100", jobj(c, jh))
    c.wait_state(jh, ENDED, 60)
    # Preemption rights: a preemptible low job fills the node (2 devices).
    v = c.submit("--preemptible", "--gpus-per-task", "2", "--", "sleep", "300", user=b)
    check(c.wait_state(v, ("running",), 60) is not None, "victim (QoS low) running", jobj(c, v))
    m = c.submit("--qos", "mid", "--gpus-per-task", "2", "--", "true", user=a)
    c.wait_for(lambda: jobj(c, m).get("pending_reason") not in (None, "", "none"), 15)
    check(jobj(c, m).get("state") == "pending" and jobj(c, v).get("state") == "running",
          "QoS mid (priority 50, no right over low) does not preempt", jobj(c, m), jobj(c, v))
    c.http("POST", "/v1/jobs/%d/cancel" % m, b"{}")
    h = c.submit("--qos", "high", "--gpus-per-task", "2", "--", "true", user=a)
    check(c.wait_state(h, ("completed",), 90) is not None, "QoS high preempts low and runs",
          jobj(c, h))
    jv = jobj(c, v)
    check(jv.get("attempt") == 1 and jv.get("state") in ("pending", "running"),
          "the low job was requeued, not killed", jv)
    c.http("POST", "/v1/jobs/%d/cancel" % v, b"{}")
    refused(c, "a QoS an account allows cannot be deleted", "allows QoS", "qos", "delete", "low")


def reason(c, jid):
    return jobj(c, jid).get("pending_reason", "")


def test_limits():
    sweep_stale()
    a, b = user("a"), user("b")
    c = Center()
    ok(c, "org", "account", "add", "org")
    ok(c, "project p: 1 running job per user, 3 jobs not ended", "account", "add", "p",
       "--parent", "org", "--max-running-jobs-per-user", "1", "--max-submit-jobs", "3")
    ok(c, "project q", "account", "add", "q", "--parent", "org")
    ok(c, "a in p", "user", "add", a, "--account", "p")
    ok(c, "b in q", "user", "add", b, "--account", "q")
    j1 = c.submit("--", "sleep", "60", user=a)
    j2 = c.submit("--", "sleep", "60", user=a)
    check(c.wait_state(j1, ("running",), 30) is not None, "a's first job runs", jobj(c, j1))
    c.wait_for(lambda: "limit" in reason(c, j2), 15)
    check(reason(c, j2) == "limit: max_running_jobs of user %s in p" % a,
          "a's second job is held by the per-user running limit, named", jobj(c, j2))
    r = ok(c, "aidc jobs shows the reason", "jobs", u=a)
    check("max_running_jobs" in r.stdout, "the limit in aidc jobs", r.stdout)
    jb = c.submit("--", "sleep", "60", user=b)
    check(c.wait_state(jb, ("running",), 30) is not None, "another account is not held",
          jobj(c, jb))
    j3 = c.submit("--", "true", user=a)
    refused(c, "the 4th job not ended is refused at submit", "max_submit_jobs",
            "submit", "--", "true", u=a)
    ok(c, "the limit raised", "account", "modify", "p", "--max-running-jobs-per-user", "-1",
       "--max-devices", "1")
    check(c.wait_state(j2, ("running",), 30) is not None, "raising the limit starts the held job",
          jobj(c, j2))
    c.wait_state(j3, ENDED, 30)
    j4 = c.submit("--gpus-per-task", "2", "--", "true", user=a)
    c.wait_for(lambda: "limit" in reason(c, j4), 15)
    check(reason(c, j4) == "limit: max_devices of account p",
          "a 2-device job over the account's max_devices 1 is held, named", jobj(c, j4))
    before = state(c)
    st, data = c.http("POST", "/v1/accounts/p", b'{"max_devices":-2}')
    check(st == 400 and state(c) == before, "max_devices -2 refused, nothing changed", data)
    for j in (j1, j2, j4, jb):
        c.http("POST", "/v1/jobs/%d/cancel" % j, b"{}")


def started(c, marks, jobs):
    """Waits until each job logged "start 0" (its SIGTERM trap is set)."""
    def logged(j):
        p = os.path.join(marks, "%d.log" % j)
        return os.path.exists(p) and "start 0" in open(p).read()
    c.wait_for(lambda: all(logged(j) for j in jobs), 30)


def test_quota():
    sweep_stale()
    a, b = user("a"), user("b")
    grace = 2
    c = Center(ctl_args=["--kill-grace-s", str(grace)])
    marks = os.path.join(c.dir, "m")
    os.mkdir(marks)
    os.chmod(marks, 0o777)
    ok(c, "org", "account", "add", "org")
    refused(c, "no borrow limit on an organization", "borrow and lend limits are set on projects",
            "account", "modify", "org", "--borrow-limit-cpus", "1")
    ok(c, "project A guaranteed 1 device", "account", "add", "A", "--parent", "org",
       "--quota-devices", "1")
    ok(c, "project B guaranteed 1 device", "account", "add", "B", "--parent", "org",
       "--quota-devices", "1")
    ok(c, "a in A", "user", "add", a, "--account", "A")
    ok(c, "b in B", "user", "add", b, "--account", "B")
    # B's jobs checkpoint on SIGTERM (the preemption contract) and log each start.
    # The trap is set before "start" is logged: a job whose log shows "start"
    # checkpoints on SIGTERM (started() waits for that before a lender comes).
    body = ('trap \'echo "term $AIDC_ATTEMPT" >>%s/$AIDC_JOB_ID.log; exit 143\' TERM; '
            'echo "start $AIDC_ATTEMPT" >>%s/$AIDC_JOB_ID.log; '
            'while :; do sleep 0.2; done') % (marks, marks)
    b1 = c.submit("--gpus-per-task", "1", "--", "sh", "-c", body, user=b)
    b2 = c.submit("--gpus-per-task", "1", "--", "sh", "-c", body, user=b)
    check(c.wait_state(b1, ("running",), 30) and c.wait_state(b2, ("running",), 30),
          "B runs 2 jobs on 2 devices (one borrowed from A)", jobj(c, b1), jobj(c, b2))
    borrowers = [j for j in (b1, b2) if jobj(c, j).get("borrowing")]
    check(len(borrowers) == 1, "exactly one of B's jobs is marked borrowing",
          jobj(c, b1), jobj(c, b2))
    started(c, marks, (b1, b2))
    t0 = __import__("time").time()
    ja = c.submit("--gpus-per-task", "1", "--", "true", user=a)
    got = c.wait_state(ja, ("completed",), 60)
    waited = __import__("time").time() - t0
    print("lender's job started and ended %.1f s after its submit (kill_grace_s = %d)"
          % (waited, grace))
    check(got is not None, "A's job reclaims its quota and runs", jobj(c, ja))
    if borrowers:
        v = borrowers[0]
        jv = c.wait_for(lambda: (lambda j: j if j.get("attempt") == 1 else None)(jobj(c, v)), 30)
        check(jv is not None, "the borrower was requeued (attempt 1), not failed", jobj(c, v))
        log = open(os.path.join(marks, "%d.log" % v)).read().split("\n") if os.path.exists(
            os.path.join(marks, "%d.log" % v)) else []
        check(log[:2] == ["start 0", "term 0"], "the borrower got SIGTERM (its grace) first", log)
        c.wait_for(lambda: "start 1" in open(os.path.join(marks, "%d.log" % v)).read(), 30)
        log = open(os.path.join(marks, "%d.log" % v)).read().split("\n")
        check(log.count("start 0") == 1 and log.index("term 0") < log.index("start 1"),
              "the borrower never ran twice at once, and ran again after A's job", log)
    other = b2 if borrowers and borrowers[0] == b1 else b1
    check(jobj(c, other).get("attempt") == 0 and jobj(c, other).get("state") == "running",
          "B's job within its quota was never touched", jobj(c, other))
    for j in (b1, b2):
        c.http("POST", "/v1/jobs/%d/cancel" % j, b"{}")
    org_quota(c, b)
    org_reclaim(c, a, b, marks, body)


def org_quota(c, b):
    """The organization's CPU and memory quotas cap its projects together."""
    ok(c, "B guaranteed 3 cores", "account", "modify", "B", "--quota-cpus", "3")
    refused(c, "an organization's cap under its projects' quotas refused",
            "below the sum of its projects'", "account", "modify", "org", "--quota-cpus", "2")
    ok(c, "B back to no CPU quota", "account", "modify", "B", "--quota-cpus", "-1")
    before = state(c)
    refused(c, "a negative CPU quota refused by the CLI", "quota-cpus",
            "account", "modify", "org", "--quota-cpus", "-2")
    st, data = c.http("POST", "/v1/accounts/org", b'{"quota_mem_gib":100000001}')
    check(st == 400 and "quota_mem_gib" in str(data) and state(c) == before,
          "an absurd memory quota refused naming it, nothing changed", st, data)
    ok(c, "org capped at 2 cores and 1 GiB", "account", "modify", "org", "--quota-cpus", "2",
       "--quota-mem-gib", "1")
    r = ok(c, "--json shows the caps", "account", "show", "org", "--json")
    o = json.loads(r.stdout)
    check(o.get("quota_cpus") == 2 and o.get("quota_mem_gib") == 1, "caps in the JSON", o)
    jobs = [c.submit("-c", "1", "--mem", "256M", "--", "sleep", "60", user=b) for _ in range(3)]
    check(all(c.wait_state(j, ("running",), 30) for j in jobs[:2]),
          "2 one-core jobs run: the organization exactly at its cap", [jobj(c, j) for j in jobs])
    c.wait_for(lambda: "quota" in reason(c, jobs[2]), 15)
    check(reason(c, jobs[2]) == "quota: quota_cpus of cohort org",
          "the 3rd core waits, the organization's CPU quota named", jobj(c, jobs[2]))
    for j in jobs:
        c.http("POST", "/v1/jobs/%d/cancel" % j, b"{}")
    for j in jobs:
        c.wait_state(j, ENDED, 30)
    jm = c.submit("-c", "1", "--mem", "2G", "--", "true", user=b)
    c.wait_for(lambda: "quota" in reason(c, jm), 15)
    check(reason(c, jm) == "quota: quota_mem of cohort org",
          "a 2 GiB job waits under the 1 GiB cap, the memory quota named", jobj(c, jm))
    ok(c, "the memory cap raised", "account", "modify", "org", "--quota-mem-gib", "2")
    check(c.wait_state(jm, ("completed",), 30) is not None, "exactly at the new cap it runs",
          jobj(c, jm))
    # Durable: the caps survive a restart, and A's document as the build
    # before CPU and memory quotas wrote it (no such keys) still loads.
    c.stop_controller()
    db = sqlite3.connect(c.db())
    doc = json.loads(db.execute("SELECT doc FROM tenancy WHERE kind='account' AND name='A'")
                     .fetchone()[0])
    old = {k: v for k, v in doc.items() if not re.search(r"_(cpus|mem_gib)$", k)}
    db.execute("UPDATE tenancy SET doc=? WHERE kind='account' AND name='A'", (json.dumps(old),))
    db.commit()
    db.close()
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0"), 30)
    o = json.loads(ok(c, "org after a restart", "account", "show", "org", "--json").stdout)
    check(o.get("quota_cpus") == 2 and o.get("quota_mem_gib") == 2, "caps survive a restart", o)
    a = json.loads(ok(c, "A from an older document", "account", "show", "A", "--json").stdout)
    check(a.get("quota_devices") == 1 and a.get("quota_cpus") == -1 and
          a.get("lend_limit_mem_gib") == -1, "an older document loads, no CPU/memory quota", a)


def org_reclaim(c, a, b, marks, body):
    """Within the organization's 2-core cap, B borrows A's unused core; A's
    job, within A's quota but held at the cap, reclaims it."""
    ok(c, "A and B guaranteed 1 core each (the cap's 2)", "account", "modify", "A",
       "--quota-cpus", "1")
    ok(c, "B 1 core", "account", "modify", "B", "--quota-cpus", "1")
    bj = [c.submit("-c", "1", "--mem", "256M", "--", "sh", "-c", body, user=b) for _ in range(2)]
    check(all(c.wait_state(j, ("running",), 30) for j in bj), "B runs 2 one-core jobs",
          [jobj(c, j) for j in bj])
    borrowers = [j for j in bj if jobj(c, j).get("borrowing")]
    check(len(borrowers) == 1, "one of them borrows A's core", [jobj(c, j) for j in bj])
    started(c, marks, bj)
    t0 = __import__("time").time()
    ja = c.submit("-c", "1", "--mem", "256M", "--", "true", user=a)
    got = c.wait_state(ja, ("completed",), 60)
    print("lender's job at the organization's cap started and ended %.1f s after its submit"
          % (__import__("time").time() - t0))
    check(got is not None, "A's job reclaims its core at the organization's cap", jobj(c, ja))
    if borrowers:
        v = borrowers[0]
        jv = c.wait_for(lambda: (lambda j: j if j.get("attempt") == 1 else None)(jobj(c, v)), 30)
        check(jv is not None, "the borrower was requeued (attempt 1), not failed", jobj(c, v))
        log = open(os.path.join(marks, "%d.log" % v)).read().split("\n")
        check(log[:2] == ["start 0", "term 0"], "the borrower got SIGTERM (its grace) first", log)
    for j in bj:
        c.http("POST", "/v1/jobs/%d/cancel" % j, b"{}")


def models_refused(c):
    """Bad per-model entries are refused naming the field; nothing changes."""
    before = state(c)
    refused(c, "an unknown model refused, the known ones listed",
            "unknown device model 'H100' (known: T4, A100)", "account", "add", "X", "--parent",
            "org", "--quota", "gpu:H100=1")
    refused(c, "a negative per-model quota refused", "quota_models", "account", "add", "X",
            "--parent", "org", "--quota", "gpu:T4=-1")
    refused(c, "an absurd per-model quota refused", "quota_models", "account", "add", "X",
            "--parent", "org", "--quota", "gpu:T4=100000001")
    refused(c, "an entry without gpu: refused", "not gpu:MODEL=N", "account", "add", "X",
            "--parent", "org", "--quota", "T4=1")
    refused(c, "a borrow limit of a model without a quota entry refused",
            "has no quota_models entry", "account", "add", "X", "--parent", "org", "--quota",
            "gpu:T4=1", "--borrow-limit-model", "gpu:A100=1")
    check(state(c) == before, "nothing changed by the refused entries")


def stamp_body(marks):
    """A job that logs its start (with the time) and checkpoints on SIGTERM.
    The trap is set before "start" is logged: a job whose log shows "start"
    logs its SIGTERM."""
    return ('trap \'echo "term $AIDC_ATTEMPT $(date +%%s.%%N)" >>%s/$AIDC_JOB_ID.log; '
            'exit 143\' TERM; echo "start $AIDC_ATTEMPT $(date +%%s.%%N)" >>%s/$AIDC_JOB_ID.log; '
            'while :; do sleep 0.2; done') % (marks, marks)


def log_of(marks, j):
    p = os.path.join(marks, "%d.log" % j)
    return [x.split() for x in open(p).read().split("\n") if x] if os.path.exists(p) else []


def test_quota_models():
    sweep_stale()
    a, b = user("a"), user("b")
    grace = 2
    c = Center(ctl_args=["--kill-grace-s", str(grace)])
    c.start_agent(1, ["--devices", "mock:2:A100"])
    marks = os.path.join(c.dir, "m")
    os.mkdir(marks)
    os.chmod(marks, 0o777)
    ok(c, "org", "account", "add", "org")
    models_refused(c)
    ok(c, "A guaranteed 1 A100 (any case) and 1 T4", "account", "add", "A", "--parent", "org",
       "--quota", "gpu:a100=1,gpu:T4=1")
    ok(c, "B guaranteed 1 of each", "account", "add", "B", "--parent", "org", "--quota",
       "gpu:A100=1,gpu:t4=1")
    o = json.loads(ok(c, "A --json", "account", "show", "A", "--json").stdout)
    check(o.get("quota_models") == ["gpu:A100=1", "gpu:T4=1"],
          "the entries, spelled as the nodes spell the models", o)
    r = ok(c, "A shown", "account", "show", "A")
    check("gpu:A100=1,gpu:T4=1" in r.stdout, "aidc account show lists them", r.stdout)
    r = ok(c, "accounts listed", "account", "list")
    row = [ln for ln in r.stdout.splitlines() if ln.startswith("A ")]
    check(len(row) == 1 and row[0].endswith(" - gpu:A100=1,gpu:T4=1"),
          "aidc account list shows A's quota: none of any model, then per model", r.stdout)
    ok(c, "a in A", "user", "add", a, "--account", "A")
    ok(c, "b in B", "user", "add", b, "--account", "B")
    body = stamp_body(marks)
    bj = {}
    for m in ("A100", "T4"):
        bj[m] = [c.submit("--gpus-per-task", "1", "--gpu-model", m, "--", "sh", "-c", body,
                          user=b) for _ in range(2)]
        check(all(c.wait_state(j, ("running",), 30) for j in bj[m]),
              "B runs 2 %s jobs (one on A's unused %s)" % (m, m), [jobj(c, j) for j in bj[m]])
    lenders = {m: [j for j in bj[m] if jobj(c, j).get("borrowing")] for m in bj}
    check(all(len(v) == 1 for v in lenders.values()), "one job of each model borrows", lenders)
    # Each job's trap is set before A reclaims (a CI run reclaimed before the
    # borrower's shell had logged anything: its log was empty).
    started(c, marks, bj["A100"] + bj["T4"])
    reclaim_a100(c, a, marks, bj, lenders, grace)
    for m in bj:
        for j in bj[m]:
            c.http("POST", "/v1/jobs/%d/cancel" % j, b"{}")
    for m in bj:
        for j in bj[m]:
            c.wait_state(j, ENDED, 30)
    no_model_and_restart(c, a, b)


def reclaim_a100(c, a, marks, bj, borrowers, grace):
    """A's A100 job reclaims A's A100 from B's A100 borrower only."""
    la = c.submit("--gpus-per-task", "1", "--gpu-model", "A100", "--", "sh", "-c",
                  "echo \"start 0 $(date +%%s.%%N)\" >>%s/$AIDC_JOB_ID.log; sleep 30" % marks,
                  user=a)
    check(c.wait_state(la, ("running",), 60) is not None, "A's A100 job reclaims and runs",
          jobj(c, la))
    if not borrowers["A100"]:
        return
    v = borrowers["A100"][0]
    jv = c.wait_for(lambda: (lambda j: j if j.get("attempt") == 1 else None)(jobj(c, v)), 30)
    check(jv is not None, "the A100 borrower was requeued (attempt 1), not failed", jobj(c, v))
    log = log_of(marks, v)
    check([x[:2] for x in log[:2]] == [["start", "0"], ["term", "0"]],
          "the A100 borrower got SIGTERM (its grace) first", log)
    start = log_of(marks, la)
    if len(log) >= 2 and start:
        print("lender's A100 job started %.2f s after the borrower's checkpoint exit "
              "(kill_grace_s = %d)" % (float(start[0][2]) - float(log[1][2]), grace))
    c.wait_for(lambda: "quota gpu:A100" in reason(c, v), 15)
    # Until the next pass the reason may still say the lender is reclaiming.
    check(re.fullmatch(r"quota: quota gpu:A100( \(a lender reclaims\))? of account B: 1/1 in use",
                       reason(c, v)) is not None,
          "the requeued borrower waits naming the model's quota", jobj(c, v))
    log = log_of(marks, v)
    check(sum(1 for x in log if x[0] == "start") == 1, "the borrower never ran twice", log)
    for j in bj["T4"] + [x for x in bj["A100"] if x != v]:
        check(jobj(c, j).get("attempt") == 0 and jobj(c, j).get("state") == "running",
              "B's other jobs (the T4 borrower too) were never touched", jobj(c, j))
    c.http("POST", "/v1/jobs/%d/cancel" % la, b"{}")


def no_model_and_restart(c, a, b):
    """A job naming no model lands where its quota admits; entries are durable."""
    ok(c, "A may use no T4 (quota 0, borrows none)", "account", "modify", "A", "--quota",
       "gpu:A100=1,gpu:T4=0", "--borrow-limit-model", "gpu:T4=0")
    j = c.submit("--gpus-per-task", "1", "--", "true", user=a)
    got = c.wait_state(j, ("completed",), 60)
    check(got is not None and "node-1" in json.dumps(got) and "node-0" not in json.dumps(got),
          "A's job naming no model ran on the A100 node (node-1)", got)
    c.stop_controller()
    db = sqlite3.connect(c.db())
    doc = json.loads(db.execute("SELECT doc FROM tenancy WHERE kind='account' AND name='B'")
                     .fetchone()[0])
    old = {k: v for k, v in doc.items() if not k.endswith("_models")}
    db.execute("UPDATE tenancy SET doc=? WHERE kind='account' AND name='B'", (json.dumps(old),))
    db.commit()
    db.close()
    c.start_controller()
    c.wait_for(lambda: c.node_up("node-0") and c.node_up("node-1"), 30)
    o = json.loads(ok(c, "A after a restart", "account", "show", "A", "--json").stdout)
    check(o.get("quota_models") == ["gpu:A100=1", "gpu:T4=0"] and
          o.get("borrow_limit_models") == ["gpu:T4=0"], "per-model entries survive a restart", o)
    ob = json.loads(ok(c, "B from an older document", "account", "show", "B", "--json").stdout)
    check(ob.get("quota_models") == [], "an older document loads with no per-model quota", ob)


def prio(c, jid, u=None):
    r = c.cli("priority", str(jid), "--json", user=u)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"error": r.stderr}


def test_fairshare():
    sweep_stale()
    a, b = user("a"), user("b")
    r = subprocess.run([harden_test.AIDC, "controller", "--priority-weight-age", "-1"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "priority_weight_age" in r.stderr.replace("-", "_"),
          "a negative priority weight is refused naming it", r.returncode, r.stderr)
    r = subprocess.run([harden_test.AIDC, "controller", "--partition-priority", "default=7,x"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "partition_priority: 'x' is not NAME=N" in r.stderr,
          "a malformed partition_priority is refused naming it", r.returncode, r.stderr)
    # The partition factor: the default partition's 7 over the highest factor
    # of the partitions the core has (7: 'spare' has no node) = 1, weight 100.
    c = Center(ctl_args=["--order", "multifactor", "--priority-calc-period-s", "0",
                         "--fs-half-life-s", "0", "--priority-weight-age", "0",
                         "--priority-weight-fairshare", "1000",
                         "--priority-weight-partition", "100",
                         "--partition-priority", "default=7,spare=14"])
    ok(c, "org", "account", "add", "org")
    ok(c, "project A", "account", "add", "A", "--parent", "org", "--shares", "1")
    ok(c, "project B", "account", "add", "B", "--parent", "org")
    refused(c, "shares 0 refused naming it", "shares", "account", "add", "C", "--parent", "org",
            "--shares", "0")
    before = state(c)
    st, data = c.http("POST", "/v1/accounts/A", b'{"shares":-3}')
    check(st == 400 and b"shares" in data and state(c) == before,
          "shares -3 refused, nothing changed", data)
    ok(c, "a in A", "user", "add", a, "--account", "A")
    ok(c, "b in B", "user", "add", b, "--account", "B")
    # A user's shares (the only user of B: its normalized share stays 1).
    refused(c, "user shares 0 refused naming it", "shares", "user", "modify", b, "--shares", "0")
    before = state(c)
    st, data = c.http("POST", "/v1/users/%s" % b, b'{"shares":-1}')
    check(st == 400 and b"shares" in data and state(c) == before,
          "user shares -1 refused, nothing changed", data)
    r = c.cli("user", "modify", b, "--shares", "3", user=b)
    check(r.returncode != 0 and "only admins" in r.stderr, "a user cannot set its own shares",
          r.stdout, r.stderr)
    ok(c, "b's shares 3", "user", "modify", b, "--shares", "3")
    r = ok(c, "user show --json", "user", "show", b, "--json")
    check(json.loads(r.stdout).get("shares") == 3, "b's shares in its JSON", r.stdout)
    hold = c.submit("--gpus-per-task", "2", "--", "sleep", "300", user=b)
    check(c.wait_state(hold, ("running",), 30) is not None, "B's job uses the node",
          jobj(c, hold))
    __import__("time").sleep(2)  # usage is charged by the second
    jb = c.submit("--gpus-per-task", "2", "--", "true", user=b)
    ja = c.submit("--gpus-per-task", "2", "--", "sleep", "4", user=a)
    pa, pb = prio(c, ja, u=a), prio(c, jb, u=b)
    fa, fb = pa.get("fairshare", {}), pb.get("fairshare", {})
    check(abs(fa.get("factor", -1) - 1.0) < 1e-4 and abs(fb.get("factor", -1) - 1.0 / 3) < 1e-4,
          "fair-share factors as computed by hand (1, 1/3)", pa, pb)
    check(pa.get("partition", {}).get("factor") == 1.0 and
          pa.get("partition", {}).get("weight") == 100, "partition factor 1, weight 100", pa)
    check(pa.get("priority") == 1100 and pb.get("priority") == 433 and pa.get("ordered_by_it"),
          "priorities 1000 x fair share + 100 x partition: 1100 and 433", pa, pb)
    check(pa.get("fairshare_group") == "user %s in A" % a, "a's fair-share group", pa)
    r = ok(c, "aidc priority (table)", "priority", str(ja), u=a)
    check("fairshare" in r.stdout and "partition" in r.stdout and "priority 1100" in r.stdout,
          "the table shows the factors", r.stdout)
    r = c.cli("priority", str(jb), user=a)
    check(r.returncode != 0, "a cannot see b's job's priority", r.stdout, r.stderr)
    r = ok(c, "aidc share --json", "share", "--json")
    sh = {g["name"]: g for g in json.loads(r.stdout).get("groups", [])}
    ub, ua = sh.get("user %s in B" % b, {}), sh.get("user %s in A" % a, {})
    check(ub.get("usage_dev_s", 0) > 0 and ua.get("usage_dev_s", 1) == 0,
          "B's usage charged, A's none", ub, ua, r.stdout, jobj(c, hold))
    check(ub.get("shares") == 3 and ua.get("shares") == 1 and ub.get("norm_shares") == 1,
          "the users' shares in the tree (b 3, a 1; each alone in its account)", ub, ua)
    r = ok(c, "aidc share (table, as a)", "share", u=a)
    check(("user %s in A" % a) in r.stdout and ("user %s in B" % b) not in r.stdout,
          "a sees its own groups, not b's", r.stdout)
    c.http("POST", "/v1/jobs/%d/cancel" % hold, b"{}")  # the node frees: who goes first?
    got = c.wait_state(ja, ("running", "completed"), 30)
    check(got is not None and jobj(c, jb).get("state") == "pending",
          "A's job (queued second, fair share 2/3) starts before B's (1/3)", jobj(c, ja),
          jobj(c, jb))
    r = c.cli("priority", str(ja), user=a)
    check(r.returncode != 0 and "not pending" in r.stderr, "priority of a running job refused",
          r.stdout, r.stderr)
    check(c.wait_state(jb, ("completed",), 60) is not None, "B's job runs after", jobj(c, jb))
    account_shares(c, b)


def account_shares(c, b):
    """Shares per (user, account), Slurm's fair share per association."""
    ok(c, "b in A too", "user", "modify", b, "--add-account", "A")
    before = state(c)
    for bad, word in (("C=2", "not one of its accounts"), ("A=0", "NAME=N"),
                      ("A=x", "NAME=N"), ("A=1,A=2", "twice"), ("A", "NAME=N")):
        r = c.cli("user", "modify", b, "--account-shares", bad)
        check(r.returncode != 0 and "account_shares" in r.stderr and word in r.stderr,
              "account shares %s refused naming it" % bad, r.stderr)
    r = c.cli("user", "modify", b, "--account-shares", "A=5", user=b)
    check(r.returncode != 0 and "only admins" in r.stderr,
          "a user cannot set its own account shares", r.stderr)
    check(state(c) == before, "the refusals changed nothing")
    ok(c, "b's shares in A: 5", "user", "modify", b, "--account-shares", "A=5")
    sh = {g["name"]: g for g in json.loads(ok(c, "share --json", "share", "--json").stdout)
          .get("groups", [])}
    check(sh.get("user %s in A" % b, {}).get("shares") == 5 and
          sh.get("user %s in B" % b, {}).get("shares") == 3,
          "b has 5 shares in A, its default 3 in B", sh.get("user %s in A" % b),
          sh.get("user %s in B" % b))
    ok(c, "b leaves A", "user", "modify", b, "--remove-account", "A")
    u = json.loads(ok(c, "user show --json", "user", "show", b, "--json").stdout)
    check(u.get("account_shares") == [], "leaving A drops b's shares in it", u)


def main():
    scenarios = {"accounts": test_accounts, "qos": test_qos, "limits": test_limits,
                 "quota": test_quota, "quota_models": test_quota_models,
                 "fairshare": test_fairshare}
    return run_scenarios(__doc__, scenarios, aidc=harden_test.AIDC)


if __name__ == "__main__":
    sys.exit(main())
