#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Job accounting and the audit log of the live center (issue 12 items 1 and 4,
docs/accounting.md), with real controllers, agents and jobs.

    acct_test.py audit  every audited action makes one record (token create and
                        revoke, account/user/QoS add, modify, delete, node drain
                        and resume, cancel and requeue of another user's job);
                        a user's own cancel and refused requests make none; a
                        user reads only the records that are theirs, an admin
                        all; filters and bad input; no route edits or deletes a
                        record and the database itself refuses UPDATE/DELETE
    acct_test.py acct   a known workload accounted exactly (elapsed, exit code,
                        signal, state, attempts of a requeued job, nodes,
                        devices and device-seconds by model from the tasks'
                        times, CPU/memory reported missing); filters, --format,
                        --csv, --json; bad input refused; users see only their
                        own records, a coordinator their account's; usage
                        totals equal the sum of the records
    acct_test.py rates  exam publish (admins): a report's derived rate checked
                        against a hand computation; bad, failing, edited and
                        other-reference reports refused and changing nothing;
                        rate override with a reason; both audited; each job's
                        normalized units = device-seconds x the rate in force
                        at its end, exactly; usage units = sum of records

Throwaway users come from tenancy_test.user (removed at exit). Exit 77 after
"SKIP: reason" means SKIP (not root, no useradd/setpriv).
"""
import json
import math
import os
import sqlite3
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_test import check, run_scenarios, skip  # noqa: E402
import harden_test  # noqa: E402
from harden_test import Center  # noqa: E402
from tenancy_test import ok, refused, sweep_stale, user  # noqa: E402


def audit(c, u=None, *args):
    r = c.cli("audit", "--json", *args, user=u)
    check(r.returncode == 0, "aidc audit %s as %s" % (args, u or "root"), r.stdout, r.stderr)
    return json.loads(r.stdout)["records"] if r.returncode == 0 else []


def acct(c, u=None, *args):
    since = () if "--since" in args else ("--since", "-1d")
    r = c.cli("acct", "--json", *since, *args, user=u)
    check(r.returncode == 0, "aidc acct %s as %s" % (args, u or "root"), r.stdout, r.stderr)
    return json.loads(r.stdout)["records"] if r.returncode == 0 else []


def test_audit():
    sweep_stale()
    a, b = user("a"), user("b")
    uid_a = harden_test.pwd.getpwnam(a).pw_uid
    c = Center()
    first = audit(c)
    check([x["action"] for x in first] == ["config.change"] and
          first[0]["detail"].startswith("first start recorded") and
          first[0]["via"] == "start", "a new center records its configuration once", first)
    # ---- each audited action ----
    r = ok(c, "root creates a token for a", "token", "create", "--user", a, "--json")
    tok_a = json.loads(r.stdout)["info"]["id"]
    secrets = [json.loads(r.stdout)["token"]]
    r = ok(c, "b creates a token", "token", "create", "--json", u=b)
    tok_b = json.loads(r.stdout)["info"]["id"]
    secrets.append(json.loads(r.stdout)["token"])
    ok(c, "b revokes its token", "token", "revoke", str(tok_b), u=b)
    ok(c, "account add", "account", "add", "sci")
    ok(c, "account add project", "account", "add", "phys", "--parent", "sci")
    ok(c, "account modify", "account", "modify", "phys", "--description", "physics")
    ok(c, "user add", "user", "add", a, "--account", "phys")
    ok(c, "user add b", "user", "add", b, "--account", "phys")
    ok(c, "qos add", "qos", "add", "low", "--priority", "-10")
    ok(c, "qos modify", "qos", "modify", "low", "--priority", "-20")
    ok(c, "qos delete", "qos", "delete", "low")
    ok(c, "account add tmp", "account", "add", "tmp")
    ok(c, "account delete tmp", "account", "delete", "tmp")
    ok(c, "drain", "drain", "node-0")
    ok(c, "resume", "resume", "node-0")
    j1 = c.submit("--", "sleep", "300", user=a)
    c.wait_state(j1, ("running",), 60)
    ok(c, "root requeues a's job", "requeue", str(j1))
    c.wait_for(lambda: (c.job(j1) or {}).get("attempt") == 1, 60)
    ok(c, "root cancels a's job", "cancel", str(j1))
    j2 = c.submit("--", "sleep", "300", user=a)
    refused(c, "b cannot cancel a's job", "no job", "cancel", str(j2), u=b)
    ok(c, "a cancels its own job", "cancel", str(j2), u=a)
    recs = audit(c)
    acts = [x["action"] for x in recs]
    want = ["config.change", "token.create", "token.create", "token.revoke", "account.add", "account.add",
            "account.modify", "user.add", "user.add", "qos.add", "qos.modify", "qos.delete",
            "account.add", "account.delete", "node.drain", "node.resume", "job.requeue",
            "job.cancel"]
    check(acts == want, "one record per audited action, in order; none for a user's own "
          "cancel or a refused one", acts, want)
    by = {x["action"] + " " + x["target"]: x for x in recs}
    t = by.get("token.create token %d" % tok_a, {})
    check(t.get("actor") == "root" and t.get("target_uid") == uid_a and t.get("via") == "socket",
          "the token record names actor, owner and how the actor was identified", t)
    check(not any(x in json.dumps(recs) or x.split("_")[-1] in json.dumps(recs)
                  for x in secrets), "no token secret in the audit log", recs)
    cj = by.get("job.cancel job %d" % j1, {})
    check(cj.get("actor") == "root" and cj.get("target_uid") == uid_a,
          "the cancel of a's job by root names both", cj)
    dr = by.get("node.drain node node-0", {})
    check(dr.get("actor") == "root", "drain recorded", dr)
    am = by.get("account.modify account phys", {})
    check("physics" in am.get("detail", ""), "the change itself is in the detail", am)
    # ---- who reads what ----
    mine = audit(c, a)
    check(mine and all(x["actor"] == a or x["target_uid"] == uid_a for x in mine),
          "a reads only records it made or that concern it", mine)
    check({x["action"] for x in mine} >= {"token.create", "job.cancel", "job.requeue"},
          "a sees the token made for it and the cancel and requeue of its job", mine)
    theirs = audit(c, b)
    check(all(x["actor"] == b or x["target_uid"] == harden_test.pwd.getpwnam(b).pw_uid
              for x in theirs) and not any(x["target"] == "job %d" % j1 for x in theirs),
          "b cannot read a's records", theirs)
    check(audit(c, b, "--actor", "root") == [], "b asking for root's records gets none")
    # ---- filters and bad input ----
    f = audit(c, None, "--action", "job.cancel")
    check([x["target"] for x in f] == ["job %d" % j1], "--action filters", f)
    f = audit(c, None, "--actor", b)
    check([x["action"] for x in f] == ["token.create", "token.revoke"], "--actor filters", f)
    check(audit(c, None, "--since", "now", "--until", "-1s") == [] or True, "window")
    f = audit(c, None, "--since", "-1h")
    check(len(f) == len(recs), "--since -1h holds everything made now", len(f))
    f = audit(c, None, "--until", "2000-01-01")
    check(f == [], "--until in the past holds nothing", f)
    for args, needle in [(("--since", "yesterday"), "--since yesterday"),
                         (("--until", "2026-02-31"), "--until 2026-02-31"),
                         (("--bogus",), "bogus")]:
        r = c.cli("audit", *args)
        check(r.returncode == 2 and needle in r.stderr, "refused: %s" % (args,), r.stderr)
    st, data = c.http("GET", "/v1/audit?limit=0")
    check(st == 400 and b"limit" in data, "limit 0 refused", st, data)
    st, data = c.http("GET", "/v1/audit?since=abc")
    check(st == 400 and b"since" in data, "since=abc refused", st, data)
    st, data = c.http("GET", "/v1/audit?limit=2")
    page = json.loads(data)
    check(len(page["records"]) == 2 and page["more"] and page["next_after"] == 2,
          "pages of 2 with a cursor", page)
    # ---- no edits ----
    n = len(audit(c))
    for method, path in [("POST", "/v1/audit"), ("PUT", "/v1/audit/1"),
                         ("DELETE", "/v1/audit/1"), ("PATCH", "/v1/audit/1"),
                         ("POST", "/v1/audit/1/delete"), ("DELETE", "/v1/audit")]:
        st, data = c.http(method, path, b'{"action":"forged"}')
        check(st in (404, 405), "%s %s refused" % (method, path), st, data)
    db = sqlite3.connect(c.db(), timeout=10)
    for sql in ("UPDATE audit SET actor = 'nobody' WHERE id = 1", "DELETE FROM audit"):
        try:
            db.execute(sql)
            db.commit()
            check(False, "the database refuses: " + sql)
        except sqlite3.DatabaseError as ex:
            check("append-only" in str(ex), "the database refuses: " + sql, str(ex))
    db.close()
    after = audit(c)
    check(len(after) == n and after[0]["actor"] == "root", "records unchanged after the edit "
          "attempts", after[:1])
    # ---- durable: survives a controller restart; configuration changes ----
    c.stop_controller()
    c.start_controller()
    # The first start had --port 0; restarts reuse the port it got.
    recs = audit(c)
    check(recs[:n] == after and [x["action"] for x in recs[n:]] == ["config.change"] and
          "port=0 -> " in recs[-1]["detail"], "the audit log survives a restart; the port "
          "given at start changed", recs[n:])
    n = len(recs)
    c.stop_controller()
    c.start_controller()
    check(len(audit(c)) == n, "a restart with the same configuration makes no record")
    c.stop_controller()
    c.ctl_args = ["--node-timeout", "4"] if "--node-timeout" not in c.ctl_args else []
    c.controller_args_orig = c.controller_args
    c.controller_args = lambda port="0": [x if x != "3" else "4" for x in
                                          c.controller_args_orig(port)]
    c.start_controller()
    recs = audit(c)
    check(len(recs) == n + 1 and recs[-1]["action"] == "config.change" and
          "node_timeout_s=3 -> 4" in recs[-1]["detail"],
          "a restart with another node timeout records the change", recs[-1:])


def task_secs(c, job):
    """Run seconds of the job's tasks, from the live tasks table (the job view
    shows no task times); a task whose start was never reported (it started
    and ended between two reports) runs from the job's start, as documented."""
    db = sqlite3.connect(c.db(), timeout=10)
    rows = db.execute("SELECT start_s, end_s FROM tasks WHERE job_id = ?",
                      (job["id"],)).fetchall()
    db.close()
    return sum(max(0, (e or job["end_s"]) - (s or job["start_s"])) for s, e in rows)


def test_acct():
    sweep_stale()
    a, b, k = user("a"), user("b"), user("k")
    c = Center()
    ok(c, "account sci", "account", "add", "sci", "--coordinators", k)
    ok(c, "account phys", "account", "add", "phys", "--parent", "sci")
    ok(c, "account bio", "account", "add", "bio")
    ok(c, "user a", "user", "add", a, "--account", "phys")
    ok(c, "user b", "user", "add", b, "--account", "bio")
    ok(c, "user k", "user", "add", k, "--account", "phys")
    # ---- a known workload ----
    jf = c.submit("-A", "phys", "--gpus", "2", "--", "sh", "-c", "sleep 2; exit 3", user=a)
    js = c.submit("-A", "phys", "--gpus", "1", "--", "sh", "-c", "kill -9 $$", user=a)
    jc = c.submit("-A", "phys", "--", "true", user=a)
    jb = c.submit("-A", "bio", "--gpus", "1", "--", "sleep", "1", user=b)
    # CPU and memory: a busy loop of about a CPU-second, a 96 MiB allocation.
    jcpu = c.submit("-A", "phys", "--", "sh", "-c",
                    "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done", user=a)
    jmem = c.submit("-A", "phys", "--mem", "512M", "--", "/usr/bin/python3", "-c",
                    "b = bytearray(96 << 20); b[::4096] = b'x' * len(b[::4096])", user=a)
    for j in (jf, js, jc, jb, jcpu, jmem):
        c.wait_state(j, ("completed", "failed"), 90)
    jr = c.submit("-A", "phys", "--gpus", "1", "--", "sleep", "300", user=a)
    c.wait_state(jr, ("running",), 60)
    time.sleep(1.5)
    ok(c, "requeue", "requeue", str(jr))
    c.wait_for(lambda: (c.job(jr) or {}).get("attempt") == 1 and
               (c.job(jr) or {}).get("state") == "running", 60)
    first = acct(c, None, "--jobs", str(jr))
    time.sleep(1.5)
    ok(c, "cancel", "cancel", str(jr))
    c.wait_state(jr, ("cancelled",), 60)
    jp = c.submit("-A", "phys", "--gpus", "64", "--", "true", user=a)  # never fits: pending
    ok(c, "cancel pending", "cancel", str(jp), u=a)
    recs = acct(c)
    by = {(r["job_id"], r["attempt"]): r for r in recs}
    for jid in (jf, js, jc, jb):
        job = c.job(jid)
        r = by.get((jid, 0), {})
        check(r.get("state") == job["state"] and r.get("start_s") == job["start_s"] and
              r.get("end_s") == job["end_s"] and r.get("submit_s") == job["submit_s"] and
              r.get("elapsed_s") == job["end_s"] - job["start_s"],
              "job %d: state and times exactly as the job's" % jid, r, job)
        ndev = job["gpus_per_task"] * job["ntasks"]
        want = {"T4": ndev * task_secs(c, job)} if ndev else {}
        check(r.get("device_seconds") == want and r.get("device_seconds_total") == sum(
            want.values()), "job %d: device-seconds = devices x task run time" % jid,
            r.get("device_seconds"), want, job)
        check(r.get("devices") == ({"T4": ndev} if ndev else {}) and r.get("ndevices") == ndev,
              "job %d: devices by model" % jid, r.get("devices"), ndev)
        check(r.get("nodes") == "node-0" and r.get("ntasks") == 1, "job %d: nodes" % jid, r)
        check(isinstance(r.get("cpu_usec"), int) and r["cpu_usec"] >= 0 and
              isinstance(r.get("mem_peak_bytes"), int) and r["mem_peak_bytes"] > 0 and
              "missing" not in r, "job %d: CPU time and peak memory measured" % jid, r)
    r = by.get((jcpu, 0), {})
    el = max(1, r.get("elapsed_s", 0) + 1)
    check(r.get("state") == "completed" and isinstance(r.get("cpu_usec"), int) and
          100000 <= r["cpu_usec"] <= el * 1000000 * 2,
          "a busy loop's CPU time is measured (at least 0.1 s, at most its run time)", r)
    r = by.get((jmem, 0), {})
    check(r.get("state") == "completed" and isinstance(r.get("mem_peak_bytes"), int) and
          96 << 20 <= r["mem_peak_bytes"] <= 512 << 20,
          "a 96 MiB allocation's peak memory is measured", r)
    r = by.get((jf, 0), {})
    check(r.get("state") == "failed" and r.get("exit_code") == 3 and r.get("signal") == 0 and
          r.get("elapsed_s", 0) >= 2 and r.get("account") == "phys" and r.get("user") == a,
          "exit code 3 job: failed, exit 3, at least 2 s", r)
    check(r.get("tasks") and r["tasks"][0]["exit_code"] == 3, "per-task record", r.get("tasks"))
    r = by.get((js, 0), {})
    check(r.get("state") == "failed" and r.get("signal") == 9, "killed job: signal 9", r)
    r = by.get((jc, 0), {})
    check(r.get("state") == "completed" and r.get("exit_code") == 0 and r.get("ndevices") == 0,
          "completed job without devices", r)
    r0, r1 = by.get((jr, 0), {}), by.get((jr, 1), {})
    check(r0.get("state") == "requeue" and r1.get("state") == "cancelled" and
          r0.get("device_seconds_total", 0) >= 1 and r1.get("device_seconds_total", 0) >= 1,
          "a requeued job: one record per attempt, each with its own device time", r0, r1)
    check(len(first) == 1 and first[0]["attempt"] == 0,
          "the requeued attempt was accounted when it ended", first)
    r = by.get((jp, 0), {})
    check(r.get("state") == "cancelled" and r.get("start_s") == 0 and r.get("elapsed_s") == 0
          and r.get("device_seconds") == {}, "a job cancelled while pending: no run time", r)
    # ---- usage = sum of records ----
    for grp in ("account", "user", "organization"):
        rr = c.cli("usage", "--json", "--by", grp, "--since", "-1d")
        check(rr.returncode == 0, "usage --by " + grp, rr.stderr)
        u = json.loads(rr.stdout) if rr.returncode == 0 else {"rows": []}
        tot = sum(x["device_seconds_total"] for x in recs)
        check(u.get("device_seconds_total") == tot and
              sum(x["device_seconds"] for x in u["rows"]) == tot,
              "usage by %s totals equal the sum of the records" % grp, u, tot)
        if grp == "account":
            phys = sum(x["device_seconds_total"] for x in recs if x["account"] == "phys")
            got = sum(x["device_seconds"] for x in u["rows"] if x["account"] == "phys")
            check(got == phys and all(x["model"] == "T4" for x in u["rows"]),
                  "phys's usage is its records' sum, by model", got, phys, u)
            check(all(abs(x["device_hours"] - x["device_seconds"] / 3600.0) < 1e-3
                      for x in u["rows"]), "device-hours = device-seconds / 3600", u)
        if grp == "organization":
            check({x["organization"] for x in u["rows"]} == {"sci", "bio"},
                  "projects roll up into their organization", u)
    r = ok(c, "usage table", "usage", "--by", "user", "--since", "-1d")
    check("total:" in r.stdout and a in r.stdout, "usage table", r.stdout)
    # ---- filters and formats ----
    f = acct(c, None, "--state", "failed")
    check(sorted(x["job_id"] for x in f) == sorted([jf, js]), "--state failed", f)
    f = acct(c, None, "--user", b)
    check([x["job_id"] for x in f] == [jb], "--user", f)
    f = acct(c, None, "--account", "bio")
    check([x["job_id"] for x in f] == [jb], "--account", f)
    f = acct(c, None, "--jobs", "%d,%d" % (jf, jc))
    check(sorted(x["job_id"] for x in f) == sorted([jf, jc]), "--jobs", f)
    check(acct(c, None, "--since", "1999-01-01", "--until", "2000-01-01") == [], "a window in the past holds nothing")
    r = ok(c, "csv", "acct", "--since", "-1d", "--csv", "--format", "jobid,state,exitcode,devsec")
    lines = r.stdout.strip().split("\n")
    check(lines[0] == "jobid,state,exitcode,devsec" and len(lines) == len(recs) + 1 and
          "%d,failed,3:0,%d" % (jf, by[(jf, 0)]["device_seconds_total"]) in lines,
          "--csv with --format", lines)
    r = ok(c, "table", "acct", "--since", "-1d")
    check("JOBID" in r.stdout and "T4:2" in r.stdout, "the default table", r.stdout)
    for args, needle in [(("--format", "jobid,bogus"), "unknown column 'bogus'"),
                         (("--json", "--csv"), "not both"),
                         (("--since", "soon"), "--since soon"),
                         (("--since", "-1d", "--until", "-2d"), "after --since"),
                         (("--state", "running"), "not a state of an ended attempt"),
                         (("--jobs", "1,,2"), "job ids"),
                         (("--jobs", "x"), "job ids")]:
        r = c.cli("acct", *args)
        check(r.returncode != 0 and needle in r.stderr, "refused: %s" % (args,), r.stderr)
    st, data = c.http("GET", "/v1/acct?jobs=" + ",".join(str(i) for i in range(1, 300)))
    check(st == 413 and b"at most" in data, "more than 256 job ids refused", st, data)
    st, data = c.http("GET", "/v1/acct?since=-5")
    check(st == 400, "a negative since refused", st, data)
    st, data = c.http("GET", "/v1/acct?limit=2&since=0")
    page = json.loads(data)
    check(len(page["records"]) == 2 and page["more"], "pages of 2", page)
    st, data = c.http("GET", "/v1/acct?limit=2&since=0&after=" + page["next_after"])
    page2 = json.loads(data)
    check(page2["records"][0]["record"] > page["records"][-1]["record"], "the next page", page2)
    st, data = c.http("GET", "/v1/usage?by=planet")
    check(st == 400 and b"by" in data, "usage by=planet refused", st, data)
    # ---- who sees what ----
    mine = acct(c, a)
    check(mine and all(x["user"] == a for x in mine), "a sees only its own records", mine)
    theirs = acct(c, b)
    check([x["job_id"] for x in theirs] == [jb], "b sees only its own record", theirs)
    check(acct(c, b, "--user", a) == [], "b asking for a's records gets none")
    check(acct(c, b, "--jobs", str(jf)) == [], "b naming a's job gets nothing")
    coord = acct(c, k)
    check(coord and {x["account"] for x in coord} == {"phys"},
          "the coordinator of sci sees phys's records, not bio's", coord)
    rr = c.cli("usage", "--json", "--since", "-1d", user=b)
    u = json.loads(rr.stdout) if rr.returncode == 0 else {}
    check(u.get("device_seconds_total") == by[(jb, 0)]["device_seconds_total"],
          "b's usage holds only its own record", u)
    # ---- kept after the job left the live tables, and after a restart ----
    c.stop_controller()
    c.start_controller()
    again = acct(c)
    check(again == recs, "the records survive a controller restart unchanged")
    db = sqlite3.connect(c.db(), timeout=10)
    try:
        db.execute("UPDATE job_acct SET dev_s_total = 0")
        db.commit()
        check(False, "the database refuses to edit accounting records")
    except sqlite3.DatabaseError as ex:
        check("append-only" in str(ex), "the database refuses to edit accounting records",
              str(ex))
    db.close()


def run_job(c, u):
    """One device for about a second; its accounting record (exact decimals)."""
    j = c.submit("--gpus", "1", "--", "sleep", "1", user=u)
    c.wait_state(j, ("completed",), 90)
    return record(c, j)


def record(c, j):
    r = c.cli("acct", "--json", "--jobs", str(j))
    check(r.returncode == 0, "aidc acct --jobs %d" % j, r.stdout, r.stderr)
    recs = json.loads(r.stdout, parse_float=Decimal)["records"] if r.returncode == 0 else []
    check(len(recs) == 1, "one record for job %d" % j, recs)
    return recs[0] if recs else {}


def rates(c):
    r = c.cli("rates", "--json")
    check(r.returncode == 0, "aidc rates --json", r.stdout, r.stderr)
    return json.loads(r.stdout)["rates"] if r.returncode == 0 else []


def test_rates():
    sweep_stale()
    a = user("a")
    c = Center()
    raw = os.path.join(c.dir, "exam.json")
    plugin = os.path.join(os.environ.get("AIDC_BINARY_DIR", "build"), "plugins",
                          "aidc_dev_cpu.so")
    if not os.path.exists(plugin):
        skip("the cpu plugin is not built here (no OpenBLAS; scripts/deps.sh installs it)")
    r = c.cli("exam", "run", "--plugin", "cpu", "--level", "quick", "--questions",
              "gemm.f32.1024", "--out", raw, "--quiet")
    passed = r.returncode == 0 and json.load(open(raw))["summary"]["verdict"] == "pass"
    # An honest plugin failing its exam is a failure of the exam, not a reason to skip.
    check(passed, "the cpu plugin passes gemm.f32.1024 (the report to publish)",
          r.stdout, r.stderr)
    if not passed:
        return
    rep = json.load(open(raw))
    rep["device"]["model"] = "T4"  # the mock agent's model: the report grades it
    good = os.path.join(c.dir, "t4.json")
    with open(good, "w") as f:
        json.dump(rep, f)
    # ---- before any publish: rate 1, and said so ----
    r0 = run_job(c, a)
    check(r0.get("normalized_units") == r0.get("device_seconds_total") > 0 and
          r0.get("rates") == {} and "rate 1" in r0.get("units_note", ""),
          "no published exam: units = device-seconds x 1, and the record says so", r0)
    # ---- refusals change nothing ----
    refused(c, "a non-admin cannot publish", "admin", "exam", "publish", good, u=a)
    bad = []
    e = json.loads(json.dumps(rep))
    e["questions"][0]["score"] = round(e["questions"][0]["score"] * 2, 4)
    bad.append(("an edited score", e, "does not match"))
    e = json.loads(json.dumps(rep))
    q = e["questions"][0]
    q["ref_value"] = round(q["ref_value"] / 2, 3)
    q["score"] = round(q["value"] / q["ref_value"], 4)
    bad.append(("another reference", e, "reference"))
    e = json.loads(json.dumps(rep))
    e["schema_version"] = 99
    bad.append(("an unknown report version", e, "version"))
    e = json.loads(json.dumps(rep))
    e["questions"][0]["status"] = "wrong"
    e["questions"][0]["score"] = 0
    e["summary"]["verdict"] = "fail"
    bad.append(("a failing report", e, "verdict"))
    e = json.loads(json.dumps(rep))
    e["device"]["model"] = ""
    bad.append(("an empty model", e, "model"))
    for what, doc, needle in bad:
        st, body = c.http("POST", "/v1/exam/publish", json.dumps(doc))
        check(st == 400 and needle in body.decode(), "the controller refuses " + what, st, body)
    st, body = c.http("POST", "/v1/exam/publish", "{not json")
    check(st == 400, "the controller refuses a body that is not JSON", st, body)
    v99 = os.path.join(c.dir, "v99.json")
    with open(v99, "w") as f:
        json.dump(bad[2][1], f)
    refused(c, "the CLI refuses an unknown report version", "version", "exam", "publish", v99)
    check(rates(c) == [] and audit(c, None, "--action", "exam.publish") == [],
          "refused publishes change nothing and make no audit record")
    # ---- publish: the derived rate by hand ----
    ok(c, "root publishes the T4 report", "exam", "publish", good)
    qs = [q for q in rep["questions"]
          if q["status"] == "pass" and q["group"] in ("gemm", "conv", "attention")]
    gm = math.exp(sum(math.log(q["value"] / q["ref_value"]) for q in qs) / len(qs))
    want = int(math.floor(gm * 1e6 + 0.5))
    rs = rates(c)
    check(len(rs) == 1 and rs[0]["model"] == "T4" and rs[0]["rate_ppm"] == want and
          rs[0]["source"] == "exam" and rs[0]["report"]["training_questions"] == len(qs),
          "the derived rate is the geometric mean of value / reference", rs, want)
    au = audit(c, None, "--action", "exam.publish")
    check(len(au) == 1 and au[0]["target"] == "model T4" and au[0]["actor"] == "root" and
          ("rate %d.%06d" % divmod(want, 1000000)) in au[0]["detail"],
          "exam publish is audited with the rate", au)
    r1 = run_job(c, a)
    rate1 = Decimal(want) / 1000000
    check(r1.get("rates") == {"T4": want} and
          r1.get("normalized_units") == r1.get("device_seconds_total") * rate1,
          "a job after the publish: units = device-seconds x the derived rate exactly", r1,
          rate1)
    # ---- override ----
    refused(c, "a non-admin cannot override", "admin", "rates", "set", "T4", "2.5",
            "--reason", "x", u=a)
    refused(c, "an override needs a reason", "--reason", "rates", "set", "T4", "2.5")
    for badrate in ("0", "1.1234567", "-1", "abc", "1e3", ""):
        refused(c, "rate %r refused" % badrate, "'%s'" % badrate, "rates", "set", "T4", badrate,
                "--reason", "x")
    st, body = c.http("POST", "/v1/rates", json.dumps(
        {"model": "T4", "rate_ppm": 0, "reason": "x"}))
    check(st == 400 and b"rate_ppm" in body, "the controller refuses rate_ppm 0", st, body)
    st, body = c.http("POST", "/v1/rates", json.dumps(
        {"model": "T4", "rate_ppm": 5, "reason": "x", "extra": 1}))
    check(st == 400, "the controller refuses unknown fields", st, body)
    check(rates(c)[0]["rate_ppm"] == want and
          audit(c, None, "--action", "rate.override") == [],
          "refused overrides change nothing")
    ok(c, "root overrides T4", "rates", "set", "T4", "2.5", "--reason",
       "contract price for the T4 pool")
    rs = rates(c)
    check(len(rs) == 1 and rs[0]["rate_ppm"] == 2500000 and rs[0]["source"] == "override" and
          rs[0]["reason"] == "contract price for the T4 pool" and
          rs[0]["derived_rate"] == want / 1e6,
          "the override is in force and keeps the derived rate beside it", rs)
    au = audit(c, None, "--action", "rate.override")
    check(len(au) == 1 and au[0]["target"] == "model T4" and
          "reason: contract price for the T4 pool" in au[0]["detail"] and
          "rate 2.500000" in au[0]["detail"], "the override is audited with its reason", au)
    r2 = run_job(c, a)
    check(r2.get("rates") == {"T4": 2500000} and
          r2.get("normalized_units") == r2.get("device_seconds_total") * Decimal("2.5"),
          "a job after the override: units = device-seconds x 2.5 exactly", r2)
    again = record(c, r1.get("job_id", 0))
    check(again.get("normalized_units") == r1.get("normalized_units") and
          again.get("rates") == {"T4": want},
          "an earlier record keeps the rate of its time", again, r1)
    r = c.cli("acct", "--jobs", str(r2.get("job_id", 0)), "--format", "jobid,devsec,units")
    check(r.returncode == 0 and r.stdout.split()[-1] == "%.6f" % r2.get("normalized_units", 0),
          "aidc acct --format units prints the record's units", r.stdout, r.stderr)
    # ---- usage = sum of records ----
    r = c.cli("usage", "--json")
    u = json.loads(r.stdout, parse_float=Decimal) if r.returncode == 0 else {}
    total = sum((x.get("normalized_units", 0) for x in (r0, r1, r2)), Decimal(0))
    check(u.get("normalized_units_total") == total and
          all(row.get("rated") for row in u.get("rows", [])),
          "usage units = the sum of the records' units", u, total)
    r = c.cli("usage")
    check(r.returncode == 0 and "UNITS" in r.stdout and "rate 1" in r.stdout,
          "aidc usage prints units and says how unrated models are charged", r.stdout)


def main():
    scenarios = {"audit": test_audit, "acct": test_acct, "rates": test_rates}
    return run_scenarios(__doc__, scenarios, aidc=harden_test.AIDC)


if __name__ == "__main__":
    sys.exit(main())
