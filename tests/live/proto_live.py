#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Agent protocol 5 against a real controller (issue 18 item 2, docs/live.md).

Starts a center with `aidc up` (one real agent, drained so that jobs go
elsewhere) and plays two agents itself over TCP with the cluster secret,
heartbeating from a thread, to check the controller's side of each finding:

- a node name belongs to one live agent: another agent's registration is
  refused (E_EXISTS) and the node keeps its address; an older run (epoch) of
  the same agent is refused (E_STATE);
- requests of an older run (a heartbeat, a work poll: a killed agent's
  replayed requests) are refused and never bring a down node back up;
- after a requeue, log pushes and task reports of the old attempt are refused
  or ignored: the new attempt's log has only its own output and the job is
  not ended by the old attempt's exit;
- a requeued job's reason is cleared when it starts again;
- a 2-node gang that fits the partition but not the nodes up now waits for
  'resources', not 'never_fits', and starts when the node returns.

Exit 77 (printed reason) = SKIP.
"""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_test  # noqa: E402
from live_test import check  # noqa: E402

AIDC = live_test.AIDC = os.path.abspath(live_test.AIDC)


class FakeAgent:
    """One node's agent: its identity, its run (epoch) and the tasks it runs."""

    def __init__(self, c, name, agent_id, epoch, addr):
        self.dir = os.path.join(c.dir, "controller")
        self.name, self.agent_id, self.epoch, self.addr = name, agent_id, epoch, addr
        self.running = set()  # (job, task, attempt)
        self.beating = True
        self.lock = threading.Lock()

    def req(self, method, path, body=None, ctype="application/json"):
        port = int(open(os.path.join(self.dir, "port")).read().strip())
        secret = open(os.path.join(self.dir, "secret")).read().strip()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        conn.request(method, path, body=body,
                     headers={"X-AIDC-Secret": secret, "Content-Type": ctype})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        return r.status, doc, data

    def register(self, agent_id=None, epoch=None, addr=None):
        return self.req("POST", "/v1/agents/register", {
            "protocol": 5, "agent_id": agent_id or self.agent_id,
            "epoch": self.epoch if epoch is None else epoch, "name": self.name,
            "addr": addr or self.addr, "cpus": 4, "mem_mib": 4096, "devices": [],
            "running": [{"job": j, "task": t, "attempt": a} for j, t, a in self.running]})

    def heartbeat(self, epoch=None):
        with self.lock:
            run = [{"job": j, "task": t, "attempt": a} for j, t, a in sorted(self.running)]
        return self.req("POST", "/v1/agents/%s/heartbeat" % self.name,
                        {"epoch": self.epoch if epoch is None else epoch, "running": run})

    def work(self, epoch=None):
        return self.req("GET", "/v1/nodes/%s/work?wait=0&epoch=%d" %
                        (self.name, self.epoch if epoch is None else epoch))

    def report(self, job, task, attempt, state, **kw):
        r = dict(job=job, task=task, attempt=attempt, state=state, **kw)
        with self.lock:
            if state == "running":
                self.running.add((job, task, attempt))
            else:
                self.running.discard((job, task, attempt))
        return self.req("POST", "/v1/agents/%s/tasks/status" % self.name,
                        {"epoch": self.epoch, "reports": [r]})

    def push_log(self, job, task, attempt, text, offset=0):
        return self.req("POST", "/v1/agents/%s/tasks/%d/%d/logs?stream=out&offset=%d&attempt=%d"
                        "&epoch=%d" % (self.name, job, task, offset, attempt, self.epoch),
                        text.encode(), ctype="application/octet-stream")


def err_code(doc):
    return ((doc or {}).get("error") or {}).get("code")


def wait_for(pred, timeout=30):
    """pred()'s first true value within timeout seconds, else its value after them."""
    return live_test.poll(pred, timeout) or pred()


def launches(agents, job, attempt, n):
    """Polls the agents' work until n launches of job/attempt arrived: [(agent, task)]."""
    got = []
    deadline = time.time() + 30
    while len(got) < n and time.time() < deadline:
        for a in agents:
            st, doc, _ = a.work()
            for ln in (doc or {}).get("launch") or []:
                if ln["job"] == job and ln["attempt"] == attempt:
                    got.append((a, ln["task"]))
        time.sleep(0.1)
    return got


def kills(a, job):
    st, doc, _ = a.work()
    return [k for k in (doc or {}).get("kill") or [] if k["job"] == job]


def test_identity(c, pa):
    st, doc, _ = pa.register(agent_id="f" * 32)
    check(st == 409 and err_code(doc) == "E_EXISTS",
          "another agent registering a live node's name: 409 E_EXISTS", st, doc)
    check(c.nodes()["pa"]["addr"] == "10.9.0.1", "the node keeps its address",
          c.nodes()["pa"])
    st, doc, _ = pa.register(epoch=pa.epoch - 1)
    check(st == 409 and err_code(doc) == "E_STATE", "an older run of the agent: 409 E_STATE",
          st, doc)
    st, doc, _ = pa.heartbeat(epoch=pa.epoch - 1)
    check(st == 409 and err_code(doc) == "E_STATE", "a heartbeat of an older run refused", st,
          doc)
    st, doc, _ = pa.work(epoch=pa.epoch - 1)
    check(st == 409 and err_code(doc) == "E_STATE", "a work poll of an older run refused", st,
          doc)


def test_attempts(c, agents):
    jid = c.submit("-J", "att", "-c", "4", "--", "true")
    got = launches(agents, jid, 0, 1)
    check(len(got) == 1, "job %d attempt 0 launched" % jid, got)
    if not got:
        return
    a0, _ = got[0]
    a0.report(jid, 0, 0, "running", pid=100)
    check(c.wait_state(jid, ("running",))["state"] == "running", "attempt 0 running")
    c.cli("requeue", str(jid), check_rc=0)
    check(wait_for(lambda: kills(a0, jid), 30), "the requeue sends a kill for attempt 0")
    j = c.job(jid)
    check(j["state"] == "stopping" and j.get("reason"), "the stopping job has a reason", j)
    a0.report(jid, 0, 0, "exited", exit_code=143)
    got = launches(agents, jid, 1, 1)
    check(len(got) == 1, "attempt 1 launched", got)
    if not got:
        return
    a1, _ = got[0]
    a1.report(jid, 0, 1, "running", pid=200)
    j = wait_for(lambda: (lambda j: j if j["state"] == "running" and j["attempt"] == 1
                          else None)(c.job(jid)))
    check(j and "reason" not in j, "its reason is cleared when it starts again", j)
    # The old attempt's leftovers: output and an exit report.
    st, doc, _ = a0.push_log(jid, 0, 0, "OLD attempt 0 output\n")
    check(st == 409, "a log push of attempt 0 is refused (409)", st, doc)
    st, doc, _ = a1.push_log(jid, 0, 1, "attempt 1 output\n")
    check(st == 200, "a log push of attempt 1 is taken", st, doc)
    st, doc, _ = a0.req("POST", "/v1/agents/%s/tasks/status" % a0.name, {
        "epoch": a0.epoch, "reports": [{"job": jid, "task": 0, "attempt": 0,
                                        "state": "exited", "exit_code": 1}]})
    time.sleep(0.5)
    j = c.job(jid)
    check(j["state"] == "running" and j["attempt"] == 1,
          "an exit report of attempt 0 leaves attempt 1 running", st, doc, j)
    a1.report(jid, 0, 1, "exited", exit_code=0)
    j = c.wait_state(jid, live_test.ENDED)
    check(j and j["state"] == "completed", "attempt 1's exit completes the job", j)
    out = c.logs(jid)
    check(out == "attempt 1 output\n", "the log has attempt 1's output only", repr(out))


def test_gang_down(c, pa, pb):
    with pb.lock:
        pb.beating = False
    check(wait_for(lambda: c.nodes()["pb"]["state"] == "down", 30), "pb is down without heartbeats",
          c.nodes()["pb"])
    jid = c.submit("-J", "gang", "-N", "2", "-n", "2", "-c", "4", "--", "true")
    j = wait_for(lambda: (lambda j: j if j.get("pending_reason") == "resources" else None)(
        c.job(jid)), 15) or c.job(jid)
    check(j.get("pending_reason") == "resources",
          "a gang that fits the partition waits for 'resources', not 'never_fits'", j)
    st, doc, _ = pb.heartbeat(epoch=pb.epoch - 1)
    check(st == 409, "a stale heartbeat of pb is refused", st, doc)
    st, doc, _ = pb.work(epoch=pb.epoch - 1)
    check(st == 409, "a stale work poll of pb is refused", st, doc)
    time.sleep(1)
    check(c.nodes()["pb"]["state"] == "down", "pb stays down after stale requests",
          c.nodes()["pb"])
    pb.epoch += 1  # the agent restarts: a new run
    st, doc, _ = pb.register()
    check(st == 200, "pb's agent registers again (a new run)", st, doc)
    with pb.lock:
        pb.beating = True
    got = launches([pa, pb], jid, 0, 2)
    check(sorted(a.name for a, _ in got) == ["pa", "pb"], "the gang starts on pa and pb",
          [(a.name, t) for a, t in got])
    for a, t in got:
        a.report(jid, t, 0, "running", pid=300 + t)
    j = c.wait_state(jid, ("running",))
    check(j and j["state"] == "running" and "pending_reason" not in j and "reason" not in j,
          "the running gang has no reason", j)
    for a, t in got:
        a.report(jid, t, 0, "exited", exit_code=0)
    j = c.wait_state(jid, live_test.ENDED)
    check(j and j["state"] == "completed", "the gang completes", j)


def main():
    if not os.path.exists(AIDC):
        live_test.skip("aidc binary not found at " + AIDC)
    c = live_test.Center(agents=1)
    c.cli("drain", "node-0", check_rc=0)
    pa = FakeAgent(c, "pa", "a" * 32, 10, "10.9.0.1")
    pb = FakeAgent(c, "pb", "b" * 32, 20, "10.9.0.2")
    for a in (pa, pb):
        st, doc, raw = a.register()
        check(st == 200, "fake agent %s registers" % a.name, st, raw[:300])
    stop = threading.Event()

    def beat():
        while not stop.is_set():
            for a in (pa, pb):
                if a.beating:
                    try:
                        a.heartbeat()
                    except OSError:
                        pass
            stop.wait(0.5)

    th = threading.Thread(target=beat, daemon=True)
    th.start()
    test_identity(c, pa)
    test_attempts(c, [pa, pb])
    test_gang_down(c, pa, pb)
    stop.set()
    th.join()
    print("%d failures" % len(live_test.FAILS))
    return 1 if live_test.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
