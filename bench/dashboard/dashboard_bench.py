#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/dashboard: how long the dashboard's pages take to load with a long
queue, measured in the browser (issue 14 target: under 300 ms with 10,000
jobs in the queue). Starts a local center on loopback (one agent, 2 mock
devices; tests/live/live_test.py's Center, stopped by `aidc down` and PIDs),
measures each page with an empty queue (the baseline), submits N pending
jobs (default 10,000: 2 devices each behind a running job that holds both)
over the Unix socket, and measures again. Each page is loaded --repeat times
(default 7) in Debian's chromium driven by playwright-core
(tests/browser/node_modules, installed by scripts/deps.sh); printed, medians:
  render  the page's own time for the view (its API fetches + DOM), data-render-ms;
  load    navigation start to the view drawn, by the page's clock (data-load-ms;
          -1 for a dashboard that does not record it);
  wall    playwright's goto to the view drawn (adds the browser's own process
          and navigation overhead), the number the target is judged on.
The load average is printed before and after (the machine may be shared).
To compare two builds, run it once with each (AIDC_BINARY_DIR or AIDC_BIN;
the dashboard's files are found beside that binary).
Never a test. SKIPs (exit 0, printed) without chromium, node or
playwright-core.
Usage: bench/dashboard/dashboard_bench.py [--jobs N] [--repeat R] [--pages P,P...]
  pages are dashboard hashes without '#/', e.g. queue,overview,nodes,'queue?pp=100'
"""
import argparse
import concurrent.futures
import json
import os
import re
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
const REPEAT = Number(process.env.REPEAT);
const b = await chromium.launch({executablePath: process.env.AIDC_CHROMIUM, args: ["--no-sandbox"]});
const ctx = await b.newContext();
const p = await ctx.newPage();
await p.goto(url + "/ui");
await p.waitForSelector("#login");
await p.fill("#token", token);
await p.click("#login-submit");
await p.waitForSelector("#who-user");
const out = {};
for (const hash of pages) {
  const view = hash.split("?")[0];
  const render = [], wall = [], load = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = Date.now();
    await p.goto(url + "/ui#/" + hash);
    await p.waitForFunction((v) => document.body.dataset.view === v, view, {timeout: 120000});
    wall.push(Date.now() - t0);
    const d = await p.evaluate(() => [document.body.dataset.renderMs, document.body.dataset.loadMs,
      document.getElementById("view-error")?.textContent]);
    if (d[2]) throw new Error(hash + ": the page shows an error: " + d[2]);
    render.push(Number(d[0]));
    load.push(d[1] === undefined ? -1 : Number(d[1]));
    await p.goto("about:blank");
  }
  const med = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  out[hash] = {render_ms: med(render), load_ms: med(load), wall_ms: med(wall)};
}
console.log(JSON.stringify(out));
await b.close();
"""


def measure(node, port, token, pages, repeat):
    fd, path = tempfile.mkstemp(suffix=".mjs", dir=BROWSER)
    with os.fdopen(fd, "w") as f:
        f.write(MEASURE)
    try:
        env = dict(os.environ, AIDC_URL="http://127.0.0.1:%d" % port, TOKEN=token,
                   AIDC_CHROMIUM=CHROMIUM, PAGES=json.dumps(pages), REPEAT=str(repeat))
        r = subprocess.run([node, path], env=env, cwd=BROWSER, capture_output=True, text=True,
                           timeout=600)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        raise SystemExit("browser run failed: " + r.stdout + r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=10000, help="pending jobs (1..10000)")
    ap.add_argument("--repeat", type=int, default=7, help="loads of each page (1..50)")
    ap.add_argument("--pages", default="queue,overview,nodes,usage,exams,services",
                    help="comma-separated dashboard hashes without '#/'")
    a = ap.parse_args()
    if not 0 < a.jobs <= 10000:
        ap.error("--jobs: 1..10000")
    if not 0 < a.repeat <= 50:
        ap.error("--repeat: 1..50")
    a.pages = [x for x in a.pages.split(",") if x]
    if not a.pages or any(not re.fullmatch(r"[a-z]+(\?[A-Za-z0-9=&_.-]*)?", x) for x in a.pages):
        ap.error("--pages: hashes like queue,overview,'queue?pp=100'")
    return a


def loadavg():
    return "%.2f %.2f %.2f" % os.getloadavg()


def fill(c, n):
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


def main():
    a = parse_args()
    n = a.jobs
    node = shutil.which("node")
    if not os.access(CHROMIUM, os.X_OK) or not node or not os.path.exists(
            os.path.join(BROWSER, "node_modules", "playwright-core", "package.json")):
        print("dashboard_bench: SKIP (needs %s, node and tests/browser/node_modules/"
              "playwright-core: scripts/deps.sh)" % CHROMIUM)
        return 0
    print("dashboard_bench: %s, load average %s" % (os.path.realpath(live_test.AIDC), loadavg()))
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("store_sync_full = false\n")
    conf.close()
    c = Center(agents=1, extra=("--controller-config", conf.name))
    port = int(open(os.path.join(c.dir, "controller", "port")).read())
    token = json.loads(c.cli("token", "create", "--json", check_rc=0).stdout)["token"]
    c.submit("-J", "holder", "-t", "60", "--gpus-per-task", "2", "--", "sleep", "3600")
    base = measure(node, port, token, a.pages, a.repeat)
    fill(c, n)
    full = measure(node, port, token, a.pages, a.repeat)
    os.unlink(conf.name)
    print("median of %d loads in chromium, baseline = 0 pending jobs; load average now %s" % (
        a.repeat, loadavg()))
    for view in a.pages:
        b, f = base[view], full[view]
        print("  %-14s %5d pending: render %6.1f ms (baseline %5.1f), load %6.1f ms (baseline "
              "%5.1f), wall %5d ms (baseline %4d); target < 300 ms: %s" % (
                  view, n, f["render_ms"], b["render_ms"], f["load_ms"], b["load_ms"],
                  f["wall_ms"], b["wall_ms"], "MET" if f["wall_ms"] < 300 else "NOT MET"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
