#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/dashboard: how long the dashboard's pages take to load with a long
queue, measured in the browser (issue 14 target: under 300 ms with 10,000
jobs in the queue). Starts a local center on loopback (one agent, 2 mock
devices; tests/live/live_test.py's Center, stopped by `aidc down` and PIDs),
measures the queue, overview and nodes pages with an empty queue (the
baseline), submits N pending jobs (default 10,000: 2 devices each behind a
running job that holds both) over the Unix socket, and measures again. Each
page is loaded 5 times in Debian's chromium driven by playwright-core
(tests/browser/node_modules, installed by scripts/deps.sh); printed: the
median of the page's own render time (fetches + DOM, data-render-ms) and of
the wall time from navigation to rendered, with ratios to the baseline.
Never a test. SKIPs (exit 0, printed) without chromium, node or
playwright-core.
Usage: bench/dashboard/dashboard_bench.py [--jobs N]  (AIDC_BIN: the aidc binary)
"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "live"))
os.environ.setdefault("AIDC_BINARY_DIR", os.path.join(ROOT, "build"))
import live_test  # noqa: E402
from live_test import Center  # noqa: E402

CHROMIUM = os.environ.get("AIDC_CHROMIUM", "/usr/bin/chromium")
BROWSER = os.path.join(ROOT, "tests", "browser")

MEASURE = r"""
import {chromium} from "playwright-core";
const [url, token, pages] = [process.env.AIDC_URL, process.env.TOKEN, JSON.parse(process.env.PAGES)];
const b = await chromium.launch({executablePath: process.env.AIDC_CHROMIUM, args: ["--no-sandbox"]});
const ctx = await b.newContext();
const p = await ctx.newPage();
await p.goto(url + "/ui");
await p.waitForSelector("#login");
await p.fill("#token", token);
await p.click("#login-submit");
await p.waitForSelector("#who-user");
const out = {};
for (const view of pages) {
  const render = [], wall = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await p.goto(url + "/ui#/" + view);
    await p.waitForFunction((v) => document.body.dataset.view === v, view, {timeout: 120000});
    wall.push(Date.now() - t0);
    render.push(Number(await p.evaluate(() => document.body.dataset.renderMs)));
    await p.goto("about:blank");
  }
  const med = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  out[view] = {render_ms: med(render), wall_ms: med(wall)};
}
console.log(JSON.stringify(out));
await b.close();
"""


def measure(node, port, token):
    fd, path = tempfile.mkstemp(suffix=".mjs", dir=BROWSER)
    with os.fdopen(fd, "w") as f:
        f.write(MEASURE)
    try:
        env = dict(os.environ, AIDC_URL="http://127.0.0.1:%d" % port, TOKEN=token,
                   AIDC_CHROMIUM=CHROMIUM, PAGES=json.dumps(["queue", "overview", "nodes"]))
        r = subprocess.run([node, path], env=env, cwd=BROWSER, capture_output=True, text=True,
                           timeout=600)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        raise SystemExit("browser run failed: " + r.stdout + r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    n = 10000
    args = sys.argv[1:]
    if args[:1] == ["--jobs"] and len(args) == 2 and args[1].isdigit() and 0 < int(args[1]) <= 10000:
        n = int(args[1])
    elif args:
        print(__doc__)
        return 2
    node = shutil.which("node")
    if not os.access(CHROMIUM, os.X_OK) or not node or not os.path.exists(
            os.path.join(BROWSER, "node_modules", "playwright-core", "package.json")):
        print("dashboard_bench: SKIP (needs %s, node and tests/browser/node_modules/"
              "playwright-core: scripts/deps.sh)" % CHROMIUM)
        return 0
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("store_sync_full = false\n")
    conf.close()
    c = Center(agents=1, extra=("--controller-config", conf.name))
    port = int(open(os.path.join(c.dir, "controller", "port")).read())
    token = json.loads(c.cli("token", "create", "--json", check_rc=0).stdout)["token"]
    c.submit("-J", "holder", "-t", "60", "--gpus-per-task", "2", "--", "sleep", "3600")
    base = measure(node, port, token)
    body = json.dumps({"name": "queued", "command": ["true"], "gpus_per_task": 2,
                       "time_limit_s": 600})

    def one(_):
        st, data = c.http("POST", "/v1/jobs", body, {"Content-Type": "application/json"})
        return st

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(one, range(n)))
    bad = [s for s in codes if s not in (200, 201)]
    if bad:
        raise SystemExit("%d submissions failed (first status %d)" % (len(bad), bad[0]))
    full = measure(node, port, token)
    os.unlink(conf.name)
    print("dashboard_bench: median of 5 loads in chromium, baseline = 0 pending jobs")
    for view in ("queue", "overview", "nodes"):
        b, f = base[view], full[view]
        print("  %-8s %5d pending: render %6.1f ms (baseline %5.1f, x%.1f), wall %5d ms "
              "(baseline %4d, x%.1f); target < 300 ms: %s" % (
                  view, n, f["render_ms"], b["render_ms"], f["render_ms"] / max(b["render_ms"], 0.1),
                  f["wall_ms"], b["wall_ms"], f["wall_ms"] / max(b["wall_ms"], 1),
                  "MET" if f["wall_ms"] < 300 else "NOT MET"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
