#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Node topology through a real controller (docs/live.md, docs/api.md).

Starts a center with `aidc up` (one mock agent), then speaks the agent
protocol itself over TCP with the cluster secret, as an agent built with
hwloc would: a registration with a topology is served by GET /v1/nodes/{name}
and summarised in the list and by `aidc nodes`; malformed and oversized
topologies get a 4xx JSON error and change nothing (no node created, the
registered topology kept); a registration without topology (an older agent)
is accepted; the topology survives a controller kill -9 and restart (it is
part of the stored registration document). Exit 77 (printed reason) = SKIP.
"""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_test  # noqa: E402  (Center, check, skip: shared helpers)
from live_test import check  # noqa: E402

# Absolute: the helpers run commands from the center's directory.
AIDC = live_test.AIDC = os.path.abspath(live_test.AIDC)

TOPO = {
    "v": 1, "cores": 8, "pus": 16,
    "packages": [{"index": 0, "cores": 4, "pus": 8}, {"index": 1, "cores": 4, "pus": 8}],
    "numa": [{"index": i, "os_index": i, "package": i, "mem_mib": 2048, "cores": 4, "pus": 8}
             for i in range(2)],
    "accelerators": [{"bus_id": "0000:%02x:00.0" % b, "vendor_id": 0x10de, "device_id": 0x2330,
                      "class_id": 0x0302, "numa": i, "package": i}
                     for i, b in enumerate((0x17, 0xca))],
}


def reg(name, topology=None):
    d = {"protocol": 5, "agent_id": "0123456789abcdef0123456789abcdef", "epoch": 1,
         "name": name, "addr": "127.0.0.1", "cpus": 8, "mem_mib": 4096, "devices": []}
    if topology is not None:
        d["topology"] = topology
    return json.dumps(d).encode()


class Agent:
    """The agent side of the protocol: TCP to the controller with the secret."""

    def __init__(self, c):
        self.dir = os.path.join(c.dir, "controller")

    def post(self, path, body):
        port = int(open(os.path.join(self.dir, "port")).read().strip())
        secret = open(os.path.join(self.dir, "secret")).read().strip()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", path, body=body, headers={"X-AIDC-Secret": secret,
                                                       "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, data


def node(c, name):
    st, data = c.http("GET", "/v1/nodes/" + name)
    return st, json.loads(data) if data else None


def check_refused(c, a, what, body, status, code, name):
    st, data = a.post("/v1/agents/register", body)
    err = json.loads(data).get("error", {}) if data.startswith(b"{") else {}
    check(st == status and err.get("code") == code,
          "%s: %d %s" % (what, status, code), st, data[:300])
    print("     " + err.get("message", ""))
    st2, n = node(c, name)
    return st2, n


def test_served(c, a):
    st, data = a.post("/v1/agents/register", reg("topo1", TOPO))
    check(st == 200, "registration with topology accepted", st, data)
    st, n = node(c, "topo1")
    check(st == 200 and n.get("topology") == TOPO, "GET /v1/nodes/topo1 serves the topology",
          st, n)
    s = (n or {}).get("topology_summary") or {}
    check(s.get("text") == "2s/2n/8c" and s.get("pus") == 16 and s.get("accelerators") == 2,
          "node summary 2s/2n/8c, 16 PUs, 2 accelerators", s)
    lst = c.nodes()
    check(lst["topo1"].get("topology_summary", {}).get("text") == "2s/2n/8c"
          and "topology" not in lst["topo1"], "the list has the summary only", lst["topo1"])
    # The real agent: with hwloc (once do_register sends it) its own machine's
    # topology, else null; either way the list and the detail agree.
    own = lst["node-0"].get("topology_summary", 1)
    st, n0 = node(c, "node-0")
    if own is None:
        print("     note: node-0 registered without topology (agent built without hwloc, or not sending it)")
        check(n0.get("topology") is None, "node-0: no topology, no summary", n0)
    else:
        t0 = n0.get("topology") or {}
        check(isinstance(own, dict) and own.get("cores") == t0.get("cores") and
              own.get("packages") == len(t0.get("packages", [])) and
              own.get("pus") == t0.get("pus") and t0.get("pus", 0) >= 1,
              "node-0's own topology: summary matches the document", own, t0)
    r = c.cli("nodes", check_rc=0)
    row = [ln for ln in r.stdout.splitlines() if ln.startswith("topo1 ")]
    check("TOPO" in r.stdout.splitlines()[0] and row and row[0].endswith("2s/2n/8c"),
          "aidc nodes shows the TOPO column", r.stdout)
    row0 = [ln for ln in r.stdout.splitlines() if ln.startswith("node-0 ")]
    want0 = " " + own["text"] if isinstance(own, dict) else " -"
    check(row0 and row0[0].endswith(want0), "aidc nodes shows node-0's TOPO (%s)" % want0,
          r.stdout)
    r = c.cli("nodes", "topo1", check_rc=0)
    check("2 packages, 2 NUMA nodes, 8 cores, 16 PUs, 2 accelerators" in r.stdout
          and "accelerator 0000:ca:00.0: vendor 0x10de device 0x2330 class 0x0302, numa 1"
          in r.stdout, "aidc nodes topo1 shows the topology", r.stdout)
    r = c.cli("nodes", "topo1", "--json", check_rc=0)
    check(json.loads(r.stdout).get("topology") == TOPO, "aidc nodes topo1 --json", r.stdout)
    r = c.cli("nodes", "nosuch")
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "nosuch" in r.stderr,
          "aidc nodes NOSUCH: one error line, exit 1", r.returncode, r.stderr)
    st, data = c.http("GET", "/v1/openapi.json")
    comp = json.loads(data)["components"]["schemas"]
    check("Topology" in comp and "topology" in comp["AgentRegister"]["properties"],
          "OpenAPI has the Topology schema", list(comp))


def test_refused(c, a):
    bad_ref = dict(TOPO, accelerators=[dict(TOPO["accelerators"][0], numa=7)])
    many = dict(TOPO, packages=[{"index": i, "cores": 0, "pus": 0} for i in range(65)])
    cases = [
        ("unknown NUMA node", reg("topo1", bad_ref), 400, "E_INVAL"),
        ("unknown version", reg("topo1", dict(TOPO, v=2)), 400, "E_VERSION"),
        ("not an object", reg("topo1", "2s/2n/8c"), 400, "E_INVAL"),
        ("unknown field", reg("topo1", dict(TOPO, sockets=2)), 400, "E_INVAL"),
        ("65 packages", reg("topo1", many), 413, "E_LIMIT"),
    ]
    for what, body, status, code in cases:
        st, n = check_refused(c, a, what, body, status, code, "topo1")
        check(st == 200 and n.get("topology") == TOPO, "%s: topology kept" % what, n)
        st, n = check_refused(c, a, what + " (new node)", body.replace(b"topo1", b"topo2"),
                              status, code, "topo2")
        check(st == 404, "%s: no node created" % what, st, n)


def restart_controller(c):
    live_test.kill9_restart_controller(c)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if c.http("GET", "/v1/health")[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def main():
    if not os.path.exists(AIDC):
        live_test.skip("aidc binary not found at " + AIDC)
    c = live_test.Center(agents=1)
    a = Agent(c)
    test_served(c, a)
    test_refused(c, a)
    check(restart_controller(c), "controller restarted after kill -9")
    st, n = node(c, "topo1")
    check(st == 200 and n.get("topology") == TOPO, "topology kept across a controller restart",
          st, n)
    # An older agent (or one built without hwloc) re-registers without topology.
    st, data = a.post("/v1/agents/register", reg("topo1"))
    check(st == 200, "registration without topology accepted", st, data)
    st, n = node(c, "topo1")
    check(n.get("topology") is None and n.get("topology_summary") is None,
          "no topology after a registration without one", n)
    print("%d failures" % len(live_test.FAILS))
    return 1 if live_test.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
