#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""GET /v1/queue (docs/api.md "Queue"; issue 14, the dashboard's paged queue)
on a live center: counts by state and pending reason, pages by offset and by
the after cursor that together visit every live job once in id order, the
filters, a 400 naming the parameter for every bad value, and visibility: a
user's counts, totals and pages hold only their own jobs, whatever they ask
for (user=, offset=, after= another user's job). Needs root (a second local
user with useradd, jobs submitted as that user with setpriv): SKIPs otherwise.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import live_test  # noqa: E402
from live_test import Center, check, skip  # noqa: E402

USER = "aidc_web"  # the dashboard test's user


def ensure_user():
    if os.geteuid() != 0:
        skip("needs root to create a second local user (useradd) and submit as it")
    if not shutil.which("useradd") or not shutil.which("setpriv"):
        skip("useradd or setpriv missing")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        r = subprocess.run(["useradd", "-M", "-s", "/bin/sh", USER], capture_output=True,
                           text=True)
        if r.returncode != 0:
            skip("useradd failed: " + r.stderr.strip())


class Api:
    def __init__(self, port, token):
        self.base, self.token = "http://127.0.0.1:%d" % port, token

    def get(self, path):
        req = urllib.request.Request(self.base + path,
                                     headers={"Authorization": "Bearer " + self.token})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


def walk(api, query, limit, cursor):
    """Every job of the queue query, page by page (offset or after): ids."""
    ids, extra, pages = [], "", 0
    while pages < 100:
        st, page = api.get("/v1/queue?limit=%d%s%s" % (limit, query, extra))
        if st != 200:
            return None
        ids += [j["id"] for j in page["jobs"]]
        pages += 1
        if not page["more"]:
            return ids
        extra = "&after=%d" % page["next_after"] if cursor else "&offset=%d" % len(ids)
    return None


def check_bad_values(api):
    bad = [("limit=1001", "limit"), ("limit=-1", "limit"), ("limit=x", "limit"),
           ("offset=-3", "offset"), ("offset=1&after=2", "offset and after"),
           ("after=0", "after"), ("after=abc", "after"), ("state=completed", "state"),
           ("state=pending,nope", "state"), ("state=", "state"), ("user=", "user"),
           ("account=", "account"), ("partition=", "partition"), ("reason=" + "r" * 80, "reason"),
           ("limit=5&stat=pending", "unknown parameter 'stat'")]
    for q, word in bad:
        st, body = api.get("/v1/queue?" + q)
        msg = body.get("error", {}).get("message", "")
        check(st == 400 and body["error"]["code"] == "E_INVAL" and word in msg,
              "GET /v1/queue?%s: 400 naming %s" % (q[:40], word), st, body)


def check_admin(c, api, root_ids, user_ids, held, holder):
    st, s = api.get("/v1/queue?limit=0")
    pend = sorted(root_ids + user_ids + [held])
    check(st == 200 and s["counts"] == {"pending": len(pend), "running": 1, "stopping": 0} and
          s["jobs"] == [] and s["total"] == len(pend) + 1,
          "admin: counts by state of every live job, no rows with limit=0", st, s)
    reasons = {r["reason"]: r["jobs"] for r in s["pending_reasons"]}
    check(reasons.get("held") == 1 and sum(reasons.values()) == len(pend),
          "admin: pending jobs by reason class (one held)", reasons)
    st, all_pend = c.http("GET", "/v1/jobs?state=pending")
    listed = sorted(j["id"] for j in json.loads(all_pend)["jobs"])
    for cursor in (False, True):
        ids = walk(api, "&state=pending", 3, cursor)
        check(ids == pend == listed, "admin: pages of 3 by %s visit every pending job once, in "
              "id order (as GET /v1/jobs lists them)" % ("after" if cursor else "offset"),
              ids, pend, listed)
    st, p = api.get("/v1/queue?state=pending&limit=3&offset=3")
    check(st == 200 and p["offset"] == 3 and p["total"] == len(pend) and p["limit"] == 3 and
          [j["id"] for j in p["jobs"]] == pend[3:6] and p["more"] and p["next_after"] == pend[5],
          "admin: a page says its offset, the total and the next cursor", p)
    st, p = api.get("/v1/queue?state=pending&limit=2&after=%d" % pend[4])
    check(st == 200 and p["offset"] == 5 and [j["id"] for j in p["jobs"]] == pend[5:7],
          "admin: after=ID starts past that job; offset is its position", p)
    st, p = api.get("/v1/queue?state=pending&offset=1000")
    check(st == 200 and p["jobs"] == [] and not p["more"] and p["total"] == len(pend),
          "admin: an offset past the end is an empty page with the total", p)
    st, p = api.get("/v1/queue?user=%s" % USER)
    check(st == 200 and sorted(j["id"] for j in p["jobs"]) == sorted(user_ids),
          "admin: user= filters", p)
    st, p = api.get("/v1/queue?reason=held")
    check(st == 200 and [j["id"] for j in p["jobs"]] == [held] and
          p["jobs"][0]["pending_reason"] == "held", "admin: reason= filters by class", p)
    st, p = api.get("/v1/queue?state=running")
    check(st == 200 and [j["id"] for j in p["jobs"]] == [holder] and
          p["jobs"][0]["nodes"], "admin: state=running, with the nodes", p)
    st, p = api.get("/v1/queue?account=nosuch&partition=default")
    check(st == 200 and p["total"] == 0 and p["counts"]["pending"] == len(pend),
          "admin: filters narrow total and rows, never the counts", p)


def check_user(api, root_ids, user_ids, held):
    mine = sorted(user_ids)
    st, s = api.get("/v1/queue?limit=0")
    check(st == 200 and s["counts"] == {"pending": len(mine), "running": 0, "stopping": 0} and
          s["total"] == len(mine), "user: counts are of their own jobs only", s)
    check(sum(r["jobs"] for r in s["pending_reasons"]) == len(mine) and
          all(r["reason"] != "held" for r in s["pending_reasons"]),
          "user: pending reasons of their own jobs only (root's held job not counted)", s)
    for cursor in (False, True):
        ids = walk(api, "", 1, cursor)
        check(ids == mine, "user: paging one by one (%s) visits only their own jobs" % (
            "after" if cursor else "offset"), ids, mine)
    for q in ("user=root", "after=%d" % (min(root_ids) - 1), "offset=0&limit=1000",
              "reason=held", "state=running"):
        st, p = api.get("/v1/queue?" + q)
        seen = [j["id"] for j in p.get("jobs", [])]
        check(st == 200 and set(seen) <= set(mine) and p["total"] <= len(mine),
              "user: ?%s shows none of root's jobs" % q, st, p)
    st, p = api.get("/v1/queue?user=root")
    check(p["total"] == 0 and p["jobs"] == [], "user: user=root is empty", p)
    st, p = api.get("/v1/queue?state=pending&limit=1&offset=%d" % len(mine))
    check(p["jobs"] == [] and not p["more"], "user: no page past their own jobs", p)
    check(held not in [j["id"] for j in p["jobs"]], "user: root's held job stays hidden")


def main():
    if not os.path.exists(live_test.AIDC):
        skip("aidc binary not found at " + live_test.AIDC)
    ensure_user()
    c = Center(agents=1)
    port = int(open(os.path.join(c.dir, "controller", "port")).read())
    holder = c.submit("-J", "holder", "-t", "5", "--gpus-per-task", "2", "--", "sleep", "300")
    c.wait_state(holder, ("running",))
    root_ids = [c.submit("-J", "r%d" % i, "--gpus-per-task", "2", "--", "true")
                for i in range(7)]
    user_ids = [c.submit("-J", "u%d" % i, "--gpus-per-task", "2", "--", "true", user=USER)
                for i in range(3)]
    held = c.submit("-H", "-J", "held", "--gpus-per-task", "2", "--", "true")
    tok = json.loads(c.cli("token", "create", "--json", check_rc=0).stdout)["token"]
    utok = json.loads(c.cli("token", "create", "--json", user=USER, check_rc=0).stdout)["token"]
    admin, user = Api(port, tok), Api(port, utok)
    check_admin(c, admin, root_ids, user_ids, held, holder)
    check_bad_values(admin)
    check_user(user, root_ids, user_ids, held)
    st, data = c.http("GET", "/v1/queue?limit=0")
    check(st == 200 and json.loads(data)["counts"]["running"] == 1,
          "the Unix socket serves it too", st, data[:200])
    print("%d failures" % len(live_test.FAILS))
    return 1 if live_test.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
