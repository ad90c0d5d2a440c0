// SPDX-License-Identifier: Apache-2.0
// The dashboard in Debian's chromium, driven by playwright-core (started by
// dashboard_test.py, which sets up the center and passes AIDC_URL, ROOT_TOKEN,
// USER_TOKEN, USER_NAME, JOBS and ARTIFACTS). Every page is checked against
// the API read with the same token; each prints "ok"/"FAIL" lines and the
// process exits 1 on any failure. Render times (data-render-ms, measured by
// the page) are printed for information only, never asserted.
import {chromium} from "playwright-core";

const URL = process.env.AIDC_URL;
const JOBS = JSON.parse(process.env.JOBS);
const ART = process.env.ARTIFACTS;
let fails = 0;

function check(cond, what, ...detail) {
  if (cond) console.log("ok   " + what);
  else {
    fails++;
    console.log("FAIL " + what + detail.map((d) => "\n     " + JSON.stringify(d)).join(""));
  }
}

async function apiGet(path, token) {
  const r = await fetch(URL + path, {headers: {Authorization: "Bearer " + token}});
  return {status: r.status, body: r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text()};
}

async function shot(page, name) {
  await page.screenshot({path: `${ART}/${name}.png`, fullPage: true});
}

// Waits until the page has rendered `view` (body[data-view]) after a navigation.
async function gotoView(page, hash, view) {
  await page.evaluate(() => { delete document.body.dataset.view; });
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((v) => document.body.dataset.view === v, view, {timeout: 20000});
}

// Rows of table #id as {key: data-attr, cells: [text...], eta: estimate attr}.
async function rows(page, id, attr) {
  return page.$$eval(`#${id} tbody tr`, (trs, a) => trs.map((tr) => ({
    key: tr.getAttribute(a), cells: [...tr.children].map((td) => td.textContent),
    eta: tr.querySelector("td.eta")?.getAttribute("data-start-estimate") ?? "",
  })), attr);
}

// The pager above table `which` ("pending"/"running"): its data and links.
async function pagerOf(page, which) {
  return page.$eval(`#${which}-pager`, (p) => ({
    total: Number(p.dataset.total), offset: Number(p.dataset.offset), page: Number(p.dataset.page),
    text: p.querySelector(".range").textContent,
    links: [...p.querySelectorAll("a.page")].map((a) => a.className.replace("page ", "")),
  }));
}

// Follows the pending table's "next" link to its last page: every row seen,
// and each page's pager.
async function walkPending(page) {
  let all = [];
  const pagers = [];
  for (let i = 0; i < 100; i++) {
    all = all.concat(await rows(page, "pending-jobs", "data-job-id"));
    pagers.push(await pagerOf(page, "pending"));
    const next = await page.$("#pending-pager a.next");
    if (!next) break;
    await page.evaluate(() => { delete document.body.dataset.view; });
    await next.click();
    await page.waitForFunction(() => document.body.dataset.view === "queue", null, {timeout: 20000});
  }
  return {all, pagers};
}

async function signIn(page, token, label) {
  await page.goto(URL + "/ui");
  await page.waitForSelector("#login", {timeout: 20000});
  check(true, `${label}: the sign-in form shows without a cookie`);
  await page.fill("#token", "aidc_1_" + "0".repeat(64));
  await page.click("#login-submit");
  await page.waitForFunction(() => /refused/.test(document.querySelector("#login-error")?.textContent || ""),
    null, {timeout: 20000}).catch(() => {});
  const err = await page.textContent("#login-error");
  check(/refused/.test(err), `${label}: a wrong token is refused with a message`, err);
  await page.fill("#token", token);
  await page.click("#login-submit");
  await page.waitForSelector("#who-user", {timeout: 20000});
  await page.waitForFunction(() => document.body.dataset.view === "overview", null, {timeout: 20000});
}

async function checkQueue(page, token, label) {
  // The controller refreshes estimates on its own schedule: one may land between
  // the page's fetch and the test's. A snapshot whose estimates differ is taken
  // again (at most 3 times); a page that really disagrees fails below.
  let wall, api, apiRun, pend, run, walk;
  for (let tries = 0; tries < 3; tries++) {
    const t0 = Date.now();
    await gotoView(page, "#/queue", "queue");
    wall = Date.now() - t0;
    run = await rows(page, "running-jobs", "data-job-id");
    walk = await walkPending(page);
    pend = walk.all;
    api = (await apiGet("/v1/jobs?state=pending", token)).body.jobs;
    apiRun = (await apiGet("/v1/jobs?state=running", token)).body.jobs;
    if (api.every((j) => pend.find((r) => Number(r.key) === j.id)?.eta === String(j.start_estimate_s ?? ""))) break;
  }
  check(JSON.stringify(pend.map((r) => Number(r.key))) === JSON.stringify(api.map((j) => j.id)),
    `${label}: the pending table's pages, in order, are the API's pending jobs`, pend.map((r) => r.key), api.map((j) => j.id));
  check(JSON.stringify(run.map((r) => Number(r.key))) === JSON.stringify(apiRun.map((j) => j.id)),
    `${label}: running rows are the API's running jobs`, run.map((r) => r.key), apiRun.map((j) => j.id));
  const pages = Math.max(1, Math.ceil(api.length / 50));
  check(walk.pagers.length === pages && walk.pagers.every((p, i) => p.total === api.length &&
    p.page === i && p.offset === i * 50 && p.text.includes(` of ${api.length.toLocaleString("en")}, page ${i + 1} of ${pages}`)),
  `${label}: ${pages} table page(s) of 50, each saying its rows and the total`, walk.pagers);
  const first = walk.pagers[0], last = walk.pagers[walk.pagers.length - 1];
  check(!first.links.includes("prev") && !first.links.includes("first") && !last.links.includes("next") &&
    !last.links.includes("last") && (pages === 1 || (first.links.includes("next") && last.links.includes("prev"))),
  `${label}: the pager offers only the pages that exist`, first, last);
  for (const j of api) {
    const r = pend.find((x) => Number(x.key) === j.id);
    if (!r) continue;
    check(r.cells[1] === j.name && r.cells[2] === j.user && r.cells[6] === (j.pending_reason || "-"),
      `${label}: job ${j.id} shows name, user and reason as the API has them`, r.cells, [j.name, j.user, j.pending_reason]);
    check(r.eta === String(j.start_estimate_s ?? ""),
      `${label}: job ${j.id}'s estimated start is the API's`, r.eta, j.start_estimate_s);
  }
  await gotoView(page, "#/queue", "queue");
  const ms = await page.evaluate(() => document.body.dataset.renderMs);
  console.log(`info ${label}: queue page rendered in ${ms} ms (page) / ${wall} ms (wall), ${pend.length} pending`);
  return {api, pend};
}

// A user at a URL that names another user, a page past their own jobs or a
// reason: the page shows nothing that is not theirs.
async function checkUserPaging(page, token, user) {
  const mine = (await apiGet("/v1/jobs?state=pending", token)).body.jobs.map((j) => j.id);
  for (const hash of ["#/queue?pp=1", "#/queue?user=root", "#/queue?pp=3&rp=2", "#/queue?reason=resources&pp=0"]) {
    await gotoView(page, hash, "queue");
    const pr = await rows(page, "pending-jobs", "data-job-id");
    const rr = await rows(page, "running-jobs", "data-job-id");
    const p = await pagerOf(page, "pending");
    check([...pr, ...rr].every((r) => mine.includes(Number(r.key)) && r.cells[2] === user) && p.total <= mine.length,
      `user: ${hash} shows only their own jobs (total ${p.total})`, pr.map((r) => r.key), rr.map((r) => r.key), p);
    if (hash === "#/queue?pp=1") {
      check(pr.length === 0 && p.text.startsWith("rows 0–0 of " + mine.length), "user: a page past their jobs is empty", p);
      await shot(page, "queue-user-page2");
    }
    if (hash === "#/queue?user=root")
      check(pr.length === 0 && p.total === 0, "user: user=root in the URL shows no job", p);
  }
  check(await page.$("#filter-user") === null, "user: no user filter for a non-admin");
}

// The exams page against GET /v1/rates (every user reads the same rates).
async function checkExams(page, token, label) {
  await gotoView(page, "#/exams", "exams");
  const api = (await apiGet("/v1/rates", token)).body;
  const r = await rows(page, "exam-reports", "data-model");
  check(JSON.stringify(r.map((x) => x.key)) === JSON.stringify(api.rates.map((x) => x.model)),
    `${label}: exam reports, one row per model of GET /v1/rates`, r.map((x) => x.key), api.rates.map((x) => x.model));
  for (const a of api.rates) {
    const x = r.find((y) => y.key === a.model);
    check(x && x.cells[9] === String(a.rate) && x.cells[11] === a.source && x.cells[12] === (a.reason || "-") &&
      x.cells[7] === (a.report.score === undefined ? "-" : String(a.report.score)),
    `${label}: ${a.model}: rate, source, reason and score as the API has them`, x && x.cells, a);
  }
  const h100 = r.find((y) => y.key === "H100");
  check(h100 && h100.cells[12] === "dashboard test <b>x</b>" && await page.$("#main b") === null,
    `${label}: the override's reason (with markup) shows as text`, h100 && h100.cells);
  if (process.env.EXAMINED) {
    const e = r.find((y) => y.key === process.env.EXAMINED);
    check(e && e.cells[11] === "exam" && Number(e.cells[1]) > 0 && e.cells[4] === "cpu",
      `${label}: the published exam of this center's model shows its plugin, nodes and source`, e && e.cells);
  } else {
    const missing = await rows(page, "models-without-exam", "data-model");
    check(missing.length === 1, `${label}: the center's model without a report is listed at the default rate`, missing);
  }
}

// The usage page against GET /v1/usage?by=...: the same rows, totals; for a
// user, only their own records.
async function checkUsage(page, token, label, user) {
  for (const by of ["account", "user"]) {
    await gotoView(page, `#/usage?by=${by}&period=all`, "usage");
    const api = (await apiGet("/v1/usage?by=" + by, token)).body;
    const r = await rows(page, "usage", "data-key");
    const key = (x) => (x.account || "") + "/" + (x.user || "") + "/" + x.model;
    check(JSON.stringify(r.map((x) => x.key)) === JSON.stringify(api.rows.map(key)) && api.rows.length > 0,
      `${label}: usage by ${by}: the API's rows`, r.map((x) => x.key), api.rows.map(key));
    const hcol = by === "user" ? 3 : 2;
    check(api.rows.every((a, i) => r[i] && r[i].cells[hcol] === Number(a.device_hours).toFixed(4) &&
      Number(r[i].cells[hcol + 1]) === a.records), `${label}: usage by ${by}: device hours and records`, r, api.rows);
    const tot = await page.$$eval("#usage-totals dd", (d) => Object.fromEntries(d.map((x) => [x.dataset.key, x.textContent])));
    check(Number(tot["device-seconds"]) === api.device_seconds_total, `${label}: usage by ${by}: the total`, tot, api.device_seconds_total);
    if (by === "user") {
      const users = new Set(r.map((x) => x.cells[1]));
      check(user ? users.size === 1 && users.has(user) : users.has("root") && users.size >= 2,
        `${label}: usage by user shows ${user ? "only their own records" : "every user's"}`, [...users]);
      await shot(page, user ? "usage-user" : "usage");
    }
  }
}

// ---- services (docs/services.md) -------------------------------------------

const SERVICE = process.env.SERVICE; // root's service; "" without haproxy
const USER_SERVICE = "dash-user";

async function apiPost(path, token, body) {
  const r = await fetch(URL + path, {method: "POST", body: JSON.stringify(body),
    headers: {Authorization: "Bearer " + token, "Content-Type": "application/json"}});
  return {status: r.status, body: await r.json().catch(() => null)};
}

// Navigates by clicking `selector` and waits for `view` to be drawn.
async function clickView(page, selector, view) {
  await page.evaluate(() => { delete document.body.dataset.view; });
  await page.click(selector);
  await page.waitForFunction((v) => document.body.dataset.view === v, view, {timeout: 20000});
}

async function fields(page, id) {
  return Object.fromEntries(await page.$$eval(`#${id} dd`, (d) => d.map((x) => [x.dataset.key, x.textContent])));
}

function serviceRowIs(r, s) {
  return r && r.cells[0] === s.name && r.cells[1] === s.user && r.cells[2] === s.state &&
    r.cells[3] === `${s.ready}/${s.replicas}` && Number(r.cells[4]) === s.total &&
    r.cells[5] === (s.address || "none: " + (s.address_why || "no router")) &&
    r.cells[6] === Number(s.rps).toFixed(2) && r.cells[7] === (s.avg_response_ms >= 0 ? String(s.avg_response_ms) : "-") &&
    Number(r.cells[8]) === s.requests && r.cells[10] === (s.message || "-");
}

// The services page against GET /v1/services read with the same token: the
// same services in the same order, each with its owner, state, ready/wanted,
// address, requests/s, response time and message. Counters move with the
// router's traffic and the probes: a snapshot that differs is taken again (at
// most 3 times); a page that really disagrees fails below.
async function checkServiceList(page, token, label) {
  let api, r;
  for (let tries = 0; tries < 3; tries++) {
    await gotoView(page, "#/services", "services");
    r = await rows(page, "services", "data-service");
    api = (await apiGet("/v1/services", token)).body;
    if (r.length === api.services.length && api.services.every((s, i) => serviceRowIs(r[i], s))) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  check(JSON.stringify(r.map((x) => x.key)) === JSON.stringify(api.services.map((s) => s.name)),
    `${label}: the services page lists GET /v1/services' services`, r.map((x) => x.key), api.services.map((s) => s.name));
  for (const s of api.services)
    check(serviceRowIs(r.find((x) => x.key === s.name), s),
      `${label}: service ${s.name}: owner, state, ready/wanted, address, requests/s, response time, message as the API has them`,
      r.find((x) => x.key === s.name)?.cells, s);
  const missing = await page.$("#router-missing") !== null;
  check(missing === (!api.router && api.services.length > 0),
    `${label}: the page says when services have no router (router ${api.router})`, api.router_why);
  return {api, rows: r};
}

// Root's service in detail: its replicas (job links, states, nodes), its
// spec with markup in an env value shown as text, and a replica's job page.
async function checkServiceDetail(page, token) {
  await clickView(page, `#services tr[data-service="${SERVICE}"] td.name a`, "services");
  const s = (await apiGet("/v1/services/" + SERVICE, token)).body;
  check((await page.textContent("#service-name")) === SERVICE, "admin: the service's page opens from its row");
  const f = await fields(page, "service-fields");
  check(f.owner === s.user && f["ready/wanted"] === `${s.ready}/${s.replicas}` && f.address === s.address &&
    Number(f.generation) === s.generation, "admin: the service's fields are the API's", f);
  const reps = await rows(page, "service-replicas", "data-job-id");
  check(JSON.stringify(reps.map((x) => Number(x.key))) === JSON.stringify(s.replica_list.map((x) => x.job)) &&
    s.replica_list.length === 2, "admin: one row per replica, by job id", reps.map((x) => x.key), s.replica_list);
  for (const x of s.replica_list) {
    const r = reps.find((y) => Number(y.key) === x.job);
    check(r && r.cells[2] === x.state && r.cells[4] === (x.node || "-") && Number(r.cells[5]) === x.port,
      `admin: replica job ${x.job}: state, node and port as the API has them`, r && r.cells, x);
  }
  const hrefs = await page.$$eval("#service-replicas td:first-child a", (a) => a.map((x) => x.getAttribute("href")));
  check(JSON.stringify(hrefs) === JSON.stringify(s.replica_list.map((x) => "#/jobs/" + x.job)),
    "admin: replica job ids link to the job pages", hrefs);
  const spec = await fields(page, "service-spec");
  check(spec.command === s.spec.command.join(" ") && spec.name === SERVICE && spec.replicas === "2" &&
    spec.env === process.env.SERVICE_NOTE && /period_s=1/.test(spec.probe || ""),
  "admin: the spec shows command, env, replicas and probe", spec);
  check(await page.$("#main img") === null && await page.evaluate(() => window.__xss) === undefined,
    "admin: markup in the spec's env stays text");
  await shot(page, "service");
  await clickView(page, "#service-replicas td:first-child a", "jobs");
  const jid = String(s.replica_list[0].job);
  check((await page.textContent("#job-id")) === jid && (await page.textContent("#job-name")) === "svc-" + SERVICE,
    "admin: a replica's link opens its job page", jid);
}

// States the page is given by a controller whose router does not run (with
// a service listed) and by a failing API: each says so in words, and the
// strings stay text. Routes GET /v1/services in this page only.
async function checkServiceErrors(page) {
  const why = "no router: /nonexistent/haproxy: not an executable file <b>x</b>";
  const fake = {name: "fake", user: "<i>someone</i>", uid: 1, state: "starting", address: "", address_why: why,
    replicas: 1, ready: 0, total: 1, generation: 1, restarts: 0, requests: 0, responses_5xx: 0, rps: 0,
    avg_response_ms: 0, message: '<img src=x onerror="window.__xss=4">', created_s: 1, updated_s: 1};
  await page.route("**/v1/services", (route) => route.fulfill({status: 200, contentType: "application/json",
    body: JSON.stringify({router: false, router_why: why, services: [fake]})}));
  await gotoView(page, "#/services", "services");
  const t = await page.textContent("#router-missing");
  const r = await rows(page, "services", "data-service");
  check(t && t.includes(why) && serviceRowIs(r[0], fake),
    "admin: without a router the page says why, and the address cell says none with the reason", t, r);
  check(await page.$("#main img, #main b, #main i") === null && await page.evaluate(() => window.__xss) === undefined,
    "admin: markup in a service's owner, message and the router's reason stays text");
  await shot(page, "services-no-router");
  await page.route("**/v1/services/fake", (route) => route.fulfill({status: 200, contentType: "application/json",
    body: JSON.stringify(Object.assign({}, fake, {replica_list: [], spec: {name: "fake", replicas: 0, command: ["<b>x</b>"]},
      prev_spec: {name: "fake", replicas: 1, command: ["<b>y</b>"]}}))}));
  await clickView(page, '#services tr[data-service="fake"] td.name a', "services");
  const prev = await page.textContent("#service-prev-spec");
  check(await page.$("#no-replicas") !== null && (await fields(page, "service-spec")).command === "<b>x</b>" &&
    JSON.parse(prev).command[0] === "<b>y</b>" && await page.$("#main b") === null,
  "admin: a service without replicas says so; its spec and the previous one show as text", prev);
  await page.unroute("**/v1/services/fake");
  await page.unroute("**/v1/services");
  await page.route("**/v1/services", (route) => route.fulfill({status: 503, contentType: "application/json",
    body: JSON.stringify({error: {code: "unavailable", message: "controller busy <b>x</b>"}})}));
  await gotoView(page, "#/services", "services");
  const e = await page.textContent("#services-error");
  check(/^Services cannot be read: .*controller busy <b>x<\/b>$/.test(e || "") && await page.$("#main b") === null,
    "admin: an API error shows its message, as text", e);
  await shot(page, "services-error");
  await page.unroute("**/v1/services");
}

async function checkServicesAdmin(page, token) {
  if (!SERVICE) console.log("SKIP services with replicas: no haproxy (dashboard_test.py printed why)");
  const l = await checkServiceList(page, token, "admin");
  if (SERVICE) {
    const r = l.rows.find((x) => x.key === SERVICE);
    check(r && r.cells[1] === "root" && r.cells[3] === "2/2" && /^[0-9.]+:[0-9]+$/.test(r.cells[5]),
      "admin: root's service is listed with 2/2 ready and its address", r && r.cells);
    await shot(page, "services");
    await checkServiceDetail(page, token);
  }
  await checkServiceErrors(page);
}

// A user with no service sees the empty state (not root's), and root's
// service's URL answers as missing; then creates one of their own (one
// replica that never answers its probe: it stays starting; made after the
// user's queue checks) and sees it, alone. Without haproxy that controller
// has no router: the page says so.
async function checkServicesUser(page, token, user) {
  await gotoView(page, "#/services", "services");
  const api = (await apiGet("/v1/services", token)).body;
  check(api.services.length === 0 && await page.$("#no-services") !== null && await page.$("#services") === null,
    "user: with no service of their own the page says so (root's are not shown)", api);
  await shot(page, "services-user-empty");
  if (SERVICE) {
    await gotoView(page, "#/services/" + SERVICE, "services");
    const err = await page.textContent("#view-error");
    check(/no service/.test(err || ""), "user: root's service's page answers as missing", err);
  }
  const cr = await apiPost("/v1/services", token, {name: USER_SERVICE, replicas: 1, command: ["/bin/sleep", "1000"]});
  check(cr.status === 201, "user: creates a service of their own (API)", cr);
  const l = await checkServiceList(page, token, "user");
  check(l.rows.length === 1 && l.rows[0].key === USER_SERVICE && l.rows[0].cells[1] === user,
    "user: sees their own service only", l.rows.map((x) => x.key));
  if (!SERVICE)
    check(!l.api.router && (await page.textContent("#router-missing") || "").includes(l.api.router_why),
      "user: a controller without HAProxy: the page says the router does not run, and why", l.api);
  await clickView(page, `#services tr[data-service="${USER_SERVICE}"] td.name a`, "services");
  const s = (await apiGet("/v1/services/" + USER_SERVICE, token)).body;
  const reps = await rows(page, "service-replicas", "data-job-id");
  check((await page.textContent("#service-name")) === USER_SERVICE &&
    JSON.stringify(reps.map((x) => Number(x.key))) === JSON.stringify(s.replica_list.map((x) => x.job)),
  "user: their service's page shows its replica", reps, s.replica_list);
  await shot(page, "service-user");
}

// Admins see every user's services on the page.
async function checkServicesAllUsers(browser) {
  const ctx = await browser.newContext({viewport: {width: 1280, height: 900}});
  const page = await ctx.newPage();
  await signIn(page, process.env.ROOT_TOKEN, "admin again");
  const l = await checkServiceList(page, process.env.ROOT_TOKEN, "admin again");
  const keys = l.rows.map((x) => x.key);
  check(keys.includes(USER_SERVICE) && l.rows.find((x) => x.key === USER_SERVICE).cells[1] === process.env.USER_NAME &&
    (!SERVICE || keys.includes(SERVICE)), "admin: sees every user's services", keys);
  await shot(page, "services-all");
  await ctx.close();
}

async function main() {
  const browser = await chromium.launch({executablePath: process.env.AIDC_CHROMIUM, headless: true,
    args: ["--no-sandbox"]});
  try {
    // ---- admin (root) -------------------------------------------------------
    const ctx = await browser.newContext({viewport: {width: 1280, height: 900}});
    const page = await ctx.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // The browser logs each 401 (the sign-in check) as a console error: only
    // script errors count.
    page.on("console", (m) => {
      if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) pageErrors.push(m.text());
    });
    await signIn(page, process.env.ROOT_TOKEN, "admin");
    check((await page.textContent("#who-user")) === "root", "admin: signed in as root");
    check((await page.evaluate(() => document.cookie)) === "", "admin: the cookie is HttpOnly (document.cookie is empty)");
    const cookies = await ctx.cookies();
    const c = cookies.find((x) => x.name === "aidc_token");
    check(c && c.httpOnly && c.sameSite === "Strict", "admin: aidc_token cookie is HttpOnly, SameSite=Strict", c && {httpOnly: c.httpOnly, sameSite: c.sameSite});
    check(!page.url().includes(process.env.ROOT_TOKEN.slice(5, 20)), "admin: no token in the URL", page.url());

    // Overview vs GET /v1/nodes.
    const nodes = (await apiGet("/v1/nodes", process.env.ROOT_TOKEN)).body.nodes;
    const up = nodes.filter((n) => n.state === "up");
    const dev = await rows(page, "devices-by-model", "data-model");
    const total = up.reduce((a, n) => a + n.devices, 0), free = up.reduce((a, n) => a + n.devices_free, 0);
    check(dev.length === 1 && Number(dev[0].cells[2]) === total && Number(dev[0].cells[4]) === free &&
      Number(dev[0].cells[3]) === total - free, "admin: devices by model match the API (total, allocated, free)",
      dev, {total, free});
    const bystate = await rows(page, "nodes-by-state", "data-state");
    check(bystate.length === 1 && bystate[0].key === "up" && Number(bystate[0].cells[1]) === nodes.length,
      "admin: nodes by state match the API", bystate);
    check(await page.$("#util-chart polyline") !== null, "admin: the allocation chart is drawn");
    const apiPend = (await apiGet("/v1/jobs?state=pending", process.env.ROOT_TOKEN)).body.jobs.length;
    const js = await rows(page, "jobs-by-state", "data-state");
    check(Number(js.find((r) => r.key === "pending")?.cells[1]) === apiPend, "admin: the overview's pending count is the API's", js, apiPend);
    const byReason = await rows(page, "pending-by-reason", "data-reason");
    check(byReason.reduce((a, r) => a + Number(r.cells[1]), 0) === apiPend, "admin: pending jobs by reason add up", byReason);
    await shot(page, "overview");

    // Queue: every pending and running job, estimates, no markup from names.
    const q = await checkQueue(page, process.env.ROOT_TOKEN, "admin");
    const waiter = q.api.find((j) => j.id === JOBS.waiter);
    check(waiter && waiter.start_estimate_s > 0, "admin: the waiting job has an estimate in the API", waiter);
    const evilName = await page.textContent(`#pending-jobs tr[data-job-id="${JOBS.evil}"] td.name`);
    check(evilName === '<img src=x onerror="window.__xss=1">&amp;"\'', "admin: a name with markup shows as text", evilName);
    check(await page.$("#main img") === null && await page.evaluate(() => window.__xss) === undefined,
      "admin: no element or script came from job names");
    check(q.pend.some((r) => Number(r.key) === JOBS.mine), "admin sees the other user's job");
    await shot(page, "queue");
    await page.click("#pending-pager a.next");
    await page.waitForFunction(() => document.body.dataset.view === "queue" && location.hash.includes("pp=1"),
      null, {timeout: 20000});
    await page.waitForFunction(() => document.querySelector("#pending-pager")?.dataset.page === "1", null, {timeout: 20000});
    await shot(page, "queue-page2");
    // Filters: the form puts them in the URL; the controller applies them.
    await gotoView(page, "#/queue", "queue");
    await page.fill("#filter-user", process.env.USER_NAME);
    await page.evaluate(() => { delete document.body.dataset.view; });
    await page.click("#filter-apply");
    await page.waitForFunction(() => document.body.dataset.view === "queue", null, {timeout: 20000});
    const fr = await rows(page, "pending-jobs", "data-job-id");
    check(fr.length === 1 && Number(fr[0].key) === JOBS.mine && (await page.textContent("#pending-total")) === "1" &&
      (await page.evaluate(() => location.hash)).includes("user=" + process.env.USER_NAME),
    "admin: the user filter shows that user's job only, and is in the URL", fr.map((r) => r.key));
    const reasons = await page.$$eval("#filter-reason option", (o) => o.map((x) => x.value));
    check(reasons.includes("resources"), "admin: the reason filter offers the reasons of the queue", reasons);
    await shot(page, "queue-filtered");
    const bad = await (async () => { await gotoView(page, "#/queue?reason=" + "x".repeat(80), "queue"); return page.textContent("#view-error"); })();
    check(/reason: 1 to 63 bytes/.test(bad || ""), "admin: a bad filter shows the controller's message", bad);

    // Job detail with its log, followed.
    await gotoView(page, "#/jobs/" + JOBS.talker, "jobs");
    const job = (await apiGet("/v1/jobs/" + JOBS.talker, process.env.ROOT_TOKEN)).body;
    check((await page.textContent("#job-name")) === job.name, "admin: job page shows its name");
    const f = Object.fromEntries(await page.$$eval("#job-fields dd", (d) => d.map((x) => [x.dataset.key, x.textContent])));
    check(f.user === job.user && f.state === job.state && Number(f.tasks) === job.ntasks &&
      Number(f["GPUs per task"]) === job.gpus_per_task && f.nodes === job.nodes.join(","),
    "admin: job fields match the API", f);
    const tasks = await rows(page, "job-tasks", "data-task");
    check(tasks.length === job.tasks.length && tasks[0].cells[1] === job.tasks[0].node,
      "admin: job tasks match the API", tasks);
    await page.waitForFunction(() => document.querySelector("#job-log")?.textContent.includes("hello-from-dashboard"),
      null, {timeout: 20000});
    check(true, "admin: the job's output shows (followed)");
    await page.selectOption("#log-stream", "err");
    await page.waitForFunction(() => document.querySelector("#job-log")?.textContent.includes("to-stderr"),
      null, {timeout: 20000});
    check(true, "admin: stderr shows when chosen");
    await shot(page, "job");
    await gotoView(page, "#/jobs/" + JOBS.evil, "jobs");
    check((await page.textContent("#job-name")) === '<img src=x onerror="window.__xss=1">&amp;"\'' &&
      await page.evaluate(() => window.__xss) === undefined, "admin: markup in a name stays text on the job page");

    // Nodes.
    await gotoView(page, "#/nodes", "nodes");
    const nr = await rows(page, "nodes", "data-node");
    check(JSON.stringify(nr.map((r) => r.key)) === JSON.stringify(nodes.map((n) => n.name)), "admin: node rows match the API", nr.map((r) => r.key));
    const nodesNow = (await apiGet("/v1/nodes", process.env.ROOT_TOKEN)).body.nodes;
    for (const n of nodesNow) {
      const r = nr.find((x) => x.key === n.name);
      check(r && r.cells[5] === `${n.devices_free}/${n.devices}` && r.cells[1] === (n.drained ? "drained" : n.state),
        `admin: node ${n.name} state and free/total devices match`, r && r.cells);
    }
    await shot(page, "nodes");
    await gotoView(page, "#/nodes/" + nodes[0].name, "nodes");
    check((await page.textContent("#node-name")) === nodes[0].name, "admin: node page");
    await shot(page, "node");
    await gotoView(page, "#/accounts", "accounts");
    await shot(page, "accounts");
    await checkExams(page, process.env.ROOT_TOKEN, "admin");
    await shot(page, "exams");
    await checkUsage(page, process.env.ROOT_TOKEN, "admin", null);
    await checkServicesAdmin(page, process.env.ROOT_TOKEN);
    check(pageErrors.length === 0, "admin: no script errors on any page", pageErrors);

    // Sign out: the cookie is gone and the API answers 401 to the page.
    await page.click("#logout");
    await page.waitForSelector("#login", {timeout: 20000});
    const st = await page.evaluate(async () => (await fetch("/v1/whoami")).status);
    check(st === 401, "admin: after sign-out the page's API calls are refused", st);
    await ctx.close();

    // ---- an ordinary user ---------------------------------------------------
    const uctx = await browser.newContext({viewport: {width: 1280, height: 900}});
    const up2 = await uctx.newPage();
    await signIn(up2, process.env.USER_TOKEN, "user");
    check((await up2.textContent("#who-user")) === process.env.USER_NAME, "user: signed in as " + process.env.USER_NAME);
    const uq = await checkQueue(up2, process.env.USER_TOKEN, "user");
    check(uq.pend.length === 1 && Number(uq.pend[0].key) === JOBS.mine, "user: sees only their own job", uq.pend.map((r) => r.key));
    check(await up2.evaluate(() => window.__xss) === undefined && await up2.$("#main script") === null,
      "user: a <script> name does not run");
    await shot(up2, "queue-user");
    await checkUserPaging(up2, process.env.USER_TOKEN, process.env.USER_NAME);
    await gotoView(up2, "#/overview", "overview");
    const ujs = await rows(up2, "jobs-by-state", "data-state");
    check(ujs.find((r) => r.key === "pending")?.cells[1] === "1" && ujs.find((r) => r.key === "running")?.cells[1] === "0",
      "user: the overview counts only their own jobs", ujs);
    await checkExams(up2, process.env.USER_TOKEN, "user");
    await checkUsage(up2, process.env.USER_TOKEN, "user", process.env.USER_NAME);
    await gotoView(up2, "#/jobs/" + JOBS.talker, "jobs");
    const err = await up2.textContent("#view-error");
    check(/no job/.test(err), "user: another user's job is not shown", err);
    await shot(up2, "job-other-user");
    await checkServicesUser(up2, process.env.USER_TOKEN, process.env.USER_NAME);
    await uctx.close();
    await checkServicesAllUsers(browser);

    // A request with a cookie but no session cannot change anything (POST
    // ignores the cookie), and the static files carry a CSP.
    const r = await fetch(URL + "/v1/jobs/" + JOBS.talker + "/cancel", {method: "POST",
      headers: {Cookie: "aidc_token=" + process.env.ROOT_TOKEN}});
    check(r.status === 401, "a cookie does not authenticate a POST (cross-site requests change nothing)", r.status);
    const ui = await fetch(URL + "/ui/app.js");
    check((ui.headers.get("content-security-policy") || "").includes("script-src 'self'"), "static files carry a CSP");
  } finally {
    await browser.close();
  }
  console.log(`${fails} browser check failures`);
  process.exit(fails ? 1 : 0);
}

main().catch((e) => {
  console.log("FAIL " + (e.stack || e));
  process.exit(1);
});
