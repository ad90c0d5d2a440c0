// SPDX-License-Identifier: Apache-2.0
// The AIDC dashboard (docs/dashboard.md): read-only views over the
// controller's API, plain JavaScript, no build step, no library.
//
// Safety: every value from the API (job names, users, accounts, reasons, log
// text) reaches the page as a text node or an attribute set through the DOM,
// never through innerHTML, so it cannot become markup. The token is sent once
// to POST /ui/login, which keeps it in an HttpOnly cookie; this script never
// stores it and no URL ever carries it.
"use strict";

const REFRESH_MS = 5000;
const QUEUE_PAGE = 50; // rows per table page of the queue view (GET /v1/queue?limit=)
const CHART_POINTS = 120;

let timer = null;
let me = null; // GET /v1/whoami
let meReady = Promise.resolve(null); // settles with `me` (start)
let follow = null; // the job log being followed: {id, stop}
const samples = []; // [{t, used, total}] device allocation, sampled by this page

// ---- DOM helpers -----------------------------------------------------------

// h("td", {class: "num"}, "text", child...): strings become text nodes.
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "onclick") e.addEventListener("click", v);
    else if (k === "onchange") e.addEventListener("change", v);
    else if (k === "onsubmit") e.addEventListener("submit", v);
    else e.setAttribute(k, String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function table(id, heads, rows) {
  return h("table", {id},
    h("thead", {}, h("tr", {}, heads.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows));
}

function badge(state) {
  return h("span", {class: "badge state-" + String(state).replace(/[^a-z_]/g, "")}, state);
}

function jobLink(id) {
  return h("a", {href: "#/jobs/" + Number(id)}, String(id));
}

function fmtTime(s) {
  if (!s) return "-";
  const d = new Date(s * 1000);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function fmtDur(s) {
  if (s === undefined || s === null || s < 0) return "-";
  s = Math.round(s);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
  return Math.floor(s / 86400) + "d" + String(Math.floor(s % 86400 / 3600)).padStart(2, "0") + "h";
}

function nowS() { return Date.now() / 1000; }

function setMain(...kids) {
  const m = document.getElementById("main");
  m.replaceChildren(...kids.filter((k) => k !== null && k !== undefined));
}

function status(text) {
  document.getElementById("status").textContent = text;
}

// ---- API -------------------------------------------------------------------

class AuthError extends Error {}

// GET path as JSON (or text); 401 shows the sign-in form.
async function api(path, opts) {
  const r = await fetch(path, Object.assign({credentials: "same-origin"}, opts || {}));
  if (r.status === 401) throw new AuthError(await errorText(r));
  if (!r.ok) throw new Error(path + ": " + await errorText(r));
  return r;
}

async function errorText(r) {
  try {
    const j = await r.json();
    return (j.error && j.error.message) || ("HTTP " + r.status);
  } catch (e) {
    return "HTTP " + r.status;
  }
}

async function getJSON(path) { return (await api(path)).json(); }

// GET /v1/queue with the given parameters (docs/api.md "Queue"): one page of
// live jobs plus the counts by state and pending reason, computed by the
// controller, so no view ever fetches the whole queue.
function queueQuery(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  return getJSON("/v1/queue?" + q.toString());
}

// ---- sign-in ---------------------------------------------------------------

function showLogin(message) {
  stopTimers();
  me = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
  const input = h("input", {id: "token", type: "password", autocomplete: "off",
    placeholder: "aidc_..._...", "aria-label": "API token"});
  const err = h("p", {id: "login-error", class: message ? "error" : "note"},
    message || "Create a token with 'aidc token create' and paste it here once; it is kept in an HttpOnly cookie.");
  const form = h("form", {class: "login", id: "login", onsubmit: async (ev) => {
    ev.preventDefault();
    const r = await fetch("/ui/login", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: input.value.trim()})});
    input.value = "";
    if (!r.ok) {
      err.className = "error";
      err.textContent = "Sign-in refused: " + await errorText(r);
      return;
    }
    await start();
  }}, h("h1", {}, "Sign in"), h("label", {for: "token"}, "API token"), input, err,
  h("button", {type: "submit", id: "login-submit"}, "Sign in"));
  setMain(form);
}

async function logout() {
  await fetch("/ui/logout", {method: "POST", credentials: "same-origin"});
  showLogin("Signed out.");
}

// ---- views -----------------------------------------------------------------

function devicesByModel(nodes) {
  const m = new Map();
  for (const n of nodes) {
    const key = (n.vendor || "-") + " " + (n.model || "-");
    const v = m.get(key) || {model: key, total: 0, free: 0, nodes: 0};
    v.total += n.devices || 0;
    v.free += n.devices_free || 0;
    v.nodes++;
    m.set(key, v);
  }
  return [...m.values()].sort((a, b) => a.model < b.model ? -1 : a.model > b.model ? 1 : 0);
}

function nodeState(n) { return n.drained ? "drained" : n.state; }

function bar(used, total) {
  const frac = total ? used / total : 0;
  const b = h("span", {class: "bar"});
  b.style.width = (frac * 100).toFixed(1) + "%";
  return h("span", {}, h("span", {class: "barbox"}, b), (frac * 100).toFixed(0) + "%");
}

function chart(points) {
  const W = 480, H = 140, P = 24;
  const s = svg("svg", {class: "chart", id: "util-chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`});
  for (const y of [0, 0.5, 1]) {
    const yy = H - P - y * (H - 2 * P);
    s.append(svg("line", {x1: P, x2: W - 4, y1: yy, y2: yy}));
    const t = svg("text", {x: 2, y: yy + 3});
    t.textContent = (y * 100) + "%";
    s.append(t);
  }
  if (points.length) {
    const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
    const pts = points.map((p) => {
      const x = P + (p.t - t0) / (t1 - t0) * (W - P - 8);
      const y = H - P - (p.total ? p.used / p.total : 0) * (H - 2 * P);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    s.append(svg("polyline", {points: pts.join(" ")}));
    const lab = svg("text", {x: P, y: H - 6});
    lab.textContent = "last " + fmtDur(t1 - t0) + ", " + points.length + " samples";
    s.append(lab);
  }
  return s;
}

async function viewOverview() {
  const [nodes, sum] = await Promise.all([getJSON("/v1/nodes"), queueQuery({limit: 0})]);
  const ns = nodes.nodes;
  const byState = new Map();
  for (const n of ns) byState.set(nodeState(n), (byState.get(nodeState(n)) || 0) + 1);
  const models = devicesByModel(ns.filter((n) => n.state === "up"));
  const total = models.reduce((a, m) => a + m.total, 0), free = models.reduce((a, m) => a + m.free, 0);
  samples.push({t: nowS(), used: total - free, total});
  if (samples.length > CHART_POINTS) samples.shift();
  setMain(h("h1", {}, "Center overview"),
    h("h2", {}, "Nodes by state"),
    table("nodes-by-state", ["state", "nodes"],
      [...byState.entries()].sort().map(([s, c]) => h("tr", {"data-state": s}, h("td", {}, badge(s)), h("td", {class: "num"}, c)))),
    h("h2", {}, "Devices by model (nodes that are up)"),
    table("devices-by-model", ["model", "nodes", "devices", "allocated", "free", "allocation"],
      models.map((m) => h("tr", {"data-model": m.model}, h("td", {}, m.model), h("td", {class: "num"}, m.nodes),
        h("td", {class: "num"}, m.total), h("td", {class: "num"}, m.total - m.free),
        h("td", {class: "num"}, m.free), h("td", {}, bar(m.total - m.free, m.total))))),
    h("h2", {}, "Jobs"),
    table("jobs-by-state", ["state", "jobs"], Object.entries(sum.counts).map(([st, n]) =>
      h("tr", {"data-state": st}, h("td", {}, h("a", {href: "#/queue"}, badge(st))), h("td", {class: "num"}, n)))),
    h("h2", {}, "Pending jobs by reason"),
    table("pending-by-reason", ["reason", "jobs"], sum.pending_reasons.map((r) =>
      h("tr", {"data-reason": r.reason},
        h("td", {}, h("a", {href: "#/queue?" + new URLSearchParams({reason: r.reason})}, r.reason)),
        h("td", {class: "num"}, r.jobs)))),
    h("h2", {}, "Device allocation over time"),
    chart(samples),
    h("p", {class: "note"}, "Sampled by this page every " + REFRESH_MS / 1000 + " s while it is open."));
}

function estimateCell(j) {
  if (!j.start_estimate_s) return h("td", {class: "eta"}, "-");
  const d = j.start_estimate_s - nowS();
  return h("td", {class: "eta", "data-start-estimate": j.start_estimate_s},
    fmtTime(j.start_estimate_s) + " (" + (d > 0 ? "in " + fmtDur(d) : "now") + ")");
}

// The queue view's state lives in the URL (#/queue?reason=..&pp=2): filters
// (user, account, partition for both tables; reason for pending) and the page
// of each table (pp pending, rp running), so a refresh, a reload or a shared
// link shows the same rows. Values are checked by the controller (400 with a
// message, shown on the page).
const QUEUE_FILTERS = ["user", "account", "partition", "reason"];

function queueHash(qs, changes) {
  const q = new URLSearchParams(qs);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === "" || v === 0) q.delete(k);
    else q.set(k, String(v));
  }
  const t = q.toString();
  return "#/queue" + (t ? "?" + t : "");
}

function pageIndex(qs, key) {
  const v = qs.get(key);
  return v && /^[0-9]{1,7}$/.test(v) ? Number(v) : 0;
}

// "rows 51-100 of 10,000, page 2 of 200" and first/previous/next/last links
// for a table showing page `cur` (0-based; past the end shows no rows).
function pager(id, qs, key, page, cur) {
  const pages = Math.max(1, Math.ceil(page.total / QUEUE_PAGE));
  const link = (label, to, cls) => (to >= 0 && to < pages && to !== cur) ?
    h("a", {href: queueHash(qs, {[key]: to}), class: "page " + cls}, label) :
    h("span", {class: "page disabled " + cls}, label);
  const n = page.jobs.length;
  return h("p", {class: "pager", id, "data-total": page.total, "data-offset": page.offset, "data-page": cur},
    link("« first", 0, "first"), " ", link("‹ previous", Math.min(cur - 1, pages - 1), "prev"), " ",
    h("span", {class: "range"}, "rows " + (n ? page.offset + 1 : 0) + "–" + (n ? page.offset + n : 0) + " of " +
      page.total.toLocaleString("en") + ", page " + (cur + 1) + " of " + pages), " ",
    link("next ›", cur + 1, "next"), " ", link("last »", pages - 1, "last"));
}

function queueFilters(qs, reasons) {
  const field = (name, label) => h("label", {}, label + " ",
    h("input", {name, id: "filter-" + name, value: qs.get(name) || "", size: 12, autocomplete: "off"}));
  const reason = h("select", {name: "reason", id: "filter-reason"}, h("option", {value: ""}, "any"),
    reasons.map((r) => h("option", {value: r.reason, selected: qs.get("reason") === r.reason},
      r.reason + " (" + r.jobs + ")")),
    qs.get("reason") && !reasons.some((r) => r.reason === qs.get("reason")) ?
      h("option", {value: qs.get("reason"), selected: true}, qs.get("reason") + " (0)") : null);
  return h("form", {class: "filters", id: "queue-filters", onsubmit: (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target), ch = {pp: 0, rp: 0};
    for (const k of QUEUE_FILTERS) ch[k] = (f.get(k) || "").trim();
    location.hash = queueHash("", ch);
  }}, me && me.admin ? field("user", "user") : null, field("account", "account"),
  field("partition", "partition"), h("label", {}, "reason ", reason), " ",
  h("button", {type: "submit", id: "filter-apply"}, "Filter"), " ",
  h("a", {href: "#/queue", id: "filter-clear"}, "clear"));
}

async function viewQueue(qs) {
  const filt = {};
  for (const k of QUEUE_FILTERS) if (qs.get(k)) filt[k] = qs.get(k);
  const pp = pageIndex(qs, "pp"), rp = pageIndex(qs, "rp");
  const [pend, run] = await Promise.all([
    queueQuery(Object.assign({state: "pending", limit: QUEUE_PAGE, offset: pp * QUEUE_PAGE}, filt)),
    queueQuery(Object.assign({state: "running,stopping", limit: QUEUE_PAGE, offset: rp * QUEUE_PAGE}, filt,
      {reason: undefined})), meReady]);
  const pr = pend.jobs.map((j) => h("tr", {"data-job-id": j.id},
    h("td", {class: "num"}, jobLink(j.id)), h("td", {class: "name"}, j.name), h("td", {class: "user"}, j.user),
    h("td", {class: "account"}, j.account || "-"), h("td", {class: "num"}, j.ntasks),
    h("td", {class: "num"}, j.gpus_per_task), h("td", {class: "reason"}, j.pending_reason || "-"),
    estimateCell(j), h("td", {}, fmtDur(nowS() - j.submit_s))));
  const rr = run.jobs.map((j) => h("tr", {"data-job-id": j.id},
    h("td", {class: "num"}, jobLink(j.id)), h("td", {class: "name"}, j.name), h("td", {class: "user"}, j.user),
    h("td", {class: "account"}, j.account || "-"), h("td", {class: "num"}, j.ntasks),
    h("td", {class: "num"}, j.gpus_per_task), h("td", {class: "nodes"}, (j.nodes || []).join(",")),
    h("td", {}, fmtTime(j.start_s)), h("td", {}, fmtDur(nowS() - j.start_s))));
  const filtered = Object.keys(filt).length > 0;
  // "Pending (58)", or "Pending (3 matching the filter, 58 in all)".
  const heading = (label, id, page, all) => h("h2", {}, label + " (", h("span", {id}, page.total),
    filtered ? " matching the filter, " + all + " in all)" : ")");
  setMain(h("h1", {}, "Queue"),
    queueFilters(qs, pend.pending_reasons),
    heading("Pending", "pending-total", pend, pend.counts.pending),
    pager("pending-pager", qs, "pp", pend, pp),
    table("pending-jobs", ["id", "name", "user", "account", "tasks", "GPUs/task", "reason", "estimated start", "waiting"], pr),
    heading("Running", "running-total", run, run.counts.running + run.counts.stopping),
    pager("running-pager", qs, "rp", run, rp),
    table("running-jobs", ["id", "name", "user", "account", "tasks", "GPUs/task", "nodes", "started", "elapsed"], rr));
}

function kv(id, pairs) {
  return h("dl", {class: "kv", id}, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {"data-key": k}, v)]));
}

async function viewJob(id) {
  if (!/^[0-9]{1,19}$/.test(id)) throw new Error("not a job id: " + id);
  const j = await getJSON("/v1/jobs/" + id);
  const ended = j.end_s ? j.end_s : 0;
  const tasks = (j.tasks || []).map((t) => h("tr", {"data-task": t.index},
    h("td", {class: "num"}, t.index), h("td", {}, t.node || "-"), h("td", {}, badge(t.state)),
    h("td", {class: "num"}, t.pid || "-"), h("td", {class: "num"}, t.exit_code),
    h("td", {class: "num"}, t.signal || "-"), h("td", {}, (t.devices || []).join(","))));
  const taskSel = h("select", {id: "log-task"}, (j.tasks && j.tasks.length ? j.tasks : [{index: 0}]).map((t) =>
    h("option", {value: t.index}, "task " + t.index)));
  const streamSel = h("select", {id: "log-stream"}, h("option", {value: "out"}, "stdout"), h("option", {value: "err"}, "stderr"));
  const followBox = h("input", {type: "checkbox", id: "log-follow", checked: !ended});
  const pre = h("pre", {class: "log", id: "job-log"});
  const restart = () => startLog(j.id, taskSel.value, streamSel.value, followBox.checked, pre);
  taskSel.addEventListener("change", restart);
  streamSel.addEventListener("change", restart);
  followBox.addEventListener("change", restart);
  setMain(h("h1", {}, "Job ", h("span", {id: "job-id"}, j.id), " ", h("span", {id: "job-name"}, j.name), " ", badge(j.state)),
    kv("job-fields", [["user", j.user], ["account", j.account || "-"], ["qos", j.qos || "-"],
      ["state", j.state], ["reason", j.pending_reason || "-"],
      ["estimated start", j.start_estimate_s ? fmtTime(j.start_estimate_s) : "-"],
      ["tasks", j.ntasks], ["GPUs per task", j.gpus_per_task], ["CPUs per task", j.cpus_per_task],
      ["memory per task", j.mem_mib ? j.mem_mib + " MiB" : "-"],
      ["time limit", j.time_limit_s ? fmtDur(j.time_limit_s) : "none"],
      ["priority", j.priority], ["preemptible", j.preemptible ? "yes" : "no"],
      ["attempt", j.attempt], ["exit code", j.exit_code], ["signal", j.signal || "-"],
      ["command", j.script ? "(batch script)" : (j.command || []).join(" ")], ["cwd", j.cwd || "-"],
      ["nodes", (j.nodes || []).join(",") || "-"]]),
    h("h2", {}, "Timeline"),
    table("job-timeline", ["event", "time", "after submit"], [
      h("tr", {}, h("td", {}, "submitted"), h("td", {}, fmtTime(j.submit_s)), h("td", {}, "0s")),
      h("tr", {}, h("td", {}, "started"), h("td", {}, fmtTime(j.start_s)), h("td", {}, j.start_s ? fmtDur(j.start_s - j.submit_s) : "-")),
      h("tr", {}, h("td", {}, "ended"), h("td", {}, fmtTime(ended)), h("td", {}, ended ? fmtDur(ended - j.submit_s) : "-"))]),
    h("p", {class: "note"}, "Attempt " + j.attempt + " (a requeued job starts a new attempt)."),
    h("h2", {}, "Tasks"),
    table("job-tasks", ["task", "node", "state", "pid", "exit", "signal", "devices"], tasks),
    h("h2", {}, "Logs"),
    h("p", {}, taskSel, " ", streamSel, " ", h("label", {}, followBox, " follow")),
    pre);
  restart();
}

// Reads a task's output from offset 0; with follow, long-polls for more
// until the job is done or the view changes.
function startLog(id, task, stream, doFollow, pre) {
  if (follow) follow.stop = true;
  const me2 = {id, stop: false};
  follow = me2;
  pre.textContent = "";
  (async () => {
    let off = 0;
    for (;;) {
      if (me2.stop) return;
      let q = "/v1/jobs/" + id + "/logs?task=" + encodeURIComponent(task) + "&stream=" + encodeURIComponent(stream) + "&offset=" + off;
      if (doFollow) q += "&follow=1&wait=10";
      let r;
      try {
        r = await api(q);
      } catch (e) {
        if (!me2.stop) pre.append(document.createTextNode("\n[" + e.message + "]"));
        return;
      }
      const text = await r.text();
      if (me2.stop) return;
      pre.append(document.createTextNode(text));
      off = Number(r.headers.get("X-AIDC-Offset") || off);
      const done = r.headers.get("X-AIDC-Done") === "1";
      if (!doFollow && text.length === 0) return;
      if (done && text.length === 0) {
        pre.dataset.done = "1";
        return;
      }
    }
  })();
}

async function viewNodes() {
  const nodes = (await getJSON("/v1/nodes")).nodes;
  setMain(h("h1", {}, "Nodes"),
    table("nodes", ["name", "state", "reason", "partition", "model", "devices free/total", "CPUs", "memory", "topology", "tasks", "last heartbeat"],
      nodes.map((n) => h("tr", {"data-node": n.name},
        h("td", {}, h("a", {href: "#/nodes/" + encodeURIComponent(n.name)}, n.name)),
        h("td", {}, badge(nodeState(n))), h("td", {class: "reason"}, n.reason || "-"),
        h("td", {}, n.partition), h("td", {}, (n.vendor || "") + " " + (n.model || "")),
        h("td", {class: "num devices"}, n.devices_free + "/" + n.devices),
        h("td", {class: "num"}, n.cpus), h("td", {class: "num"}, n.mem_mib + " MiB"),
        h("td", {}, n.topology_summary ? n.topology_summary.text : "-"),
        h("td", {class: "num"}, n.tasks), h("td", {}, fmtDur((n.last_seen_ms_ago || 0) / 1000) + " ago")))));
}

async function viewNode(name) {
  const n = await getJSON("/v1/nodes/" + encodeURIComponent(name));
  const devs = (n.device_list || []).map((d, i) => h("tr", {},
    Object.keys(d).length ? Object.entries(d).map(([, v]) => h("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))) : h("td", {}, i)));
  const heads = n.device_list && n.device_list.length ? Object.keys(n.device_list[0]) : ["device"];
  setMain(h("h1", {}, "Node ", h("span", {id: "node-name"}, n.name), " ", badge(nodeState(n))),
    kv("node-fields", [["state", nodeState(n)], ["reason", n.reason || "-"], ["partition", n.partition],
      ["address", n.addr], ["model", (n.vendor || "") + " " + (n.model || "")],
      ["devices free/total", n.devices_free + "/" + n.devices], ["CPUs", n.cpus],
      ["memory", n.mem_mib + " MiB"], ["tasks", n.tasks],
      ["topology", n.topology_summary ? n.topology_summary.text : "-"]]),
    h("h2", {}, "Devices"), table("node-devices", heads, devs),
    h("h2", {}, "Topology"), h("pre", {class: "log", id: "node-topology"}, JSON.stringify(n.topology || {}, null, 1)));
}

async function viewAccounts() {
  let accts;
  try {
    accts = await getJSON("/v1/accounts");
  } catch (e) {
    if (e instanceof AuthError) throw e;
    setMain(h("h1", {}, "Accounts"), h("p", {class: "error"}, e.message));
    return;
  }
  const list = accts.accounts || [];
  const heads = list.length ? Object.keys(list[0]).filter((k) => typeof list[0][k] !== "object") : ["name"];
  setMain(h("h1", {}, "Accounts"),
    table("accounts", heads, list.map((a) => h("tr", {"data-account": a.name},
      heads.map((k) => h("td", {}, a[k] === undefined ? "-" : String(a[k])))))));
}

// Exam reports per device model: GET /v1/rates (every model with a published
// exam or a rate override; readable by every user) beside the models of this
// center's nodes, so a model without an exam shows as charged at rate 1.
async function viewExams() {
  const [rates, nodes] = await Promise.all([getJSON("/v1/rates"), getJSON("/v1/nodes")]);
  const inCenter = new Map();
  for (const n of nodes.nodes) {
    const m = inCenter.get(n.model || "-") || {nodes: 0, devices: 0};
    m.nodes++;
    m.devices += n.devices || 0;
    inCenter.set(n.model || "-", m);
  }
  const list = rates.rates || [];
  const rows = list.map((r) => {
    const rep = r.report || {}, here = inCenter.get(r.model);
    return h("tr", {"data-model": r.model},
      h("td", {class: "model"}, r.model), h("td", {class: "num"}, here ? here.nodes : 0),
      h("td", {class: "num"}, here ? here.devices : 0),
      h("td", {class: "device"}, rep.device || "-"), h("td", {class: "plugin"}, rep.plugin || "-"),
      h("td", {}, rep.level || "-"), h("td", {}, rep.created || "-"),
      h("td", {class: "num score"}, rep.score === undefined ? "-" : String(rep.score)),
      h("td", {class: "num"}, rep.training_questions === undefined ? "-" : rep.training_questions),
      h("td", {class: "num rate"}, String(r.rate)),
      h("td", {class: "num"}, r.derived_rate === null ? "-" : String(r.derived_rate)),
      h("td", {}, badge(r.source)), h("td", {class: "reason"}, r.reason || "-"),
      h("td", {}, r.actor), h("td", {}, fmtTime(r.set_s)));
  });
  const missing = [...inCenter.entries()].filter(([m]) => !list.some((r) => r.model === m));
  setMain(h("h1", {}, "Exam reports per device model"),
    h("p", {class: "note"}, "A model's rate (normalized units per device-second) comes from its published exam " +
      "report (aidc exam publish) or an admin's override with a reason (aidc rates set); usage is charged " +
      "at it (docs/accounting.md)."),
    table("exam-reports", ["model", "nodes here", "devices here", "examined device", "plugin", "level",
      "report created", "score", "training questions", "rate", "exam-derived rate", "source", "reason",
      "set by", "set at"], rows),
    list.length ? null : h("p", {class: "note", id: "no-exams"}, "No exam report has been published yet."),
    h("h2", {}, "Models of this center without a report"),
    missing.length ? table("models-without-exam", ["model", "nodes", "devices", "rate"], missing.map(([m, v]) =>
      h("tr", {"data-model": m}, h("td", {}, m), h("td", {class: "num"}, v.nodes), h("td", {class: "num"}, v.devices),
        h("td", {class: "num"}, String(rates.default_rate) + " (default)")))) :
      h("p", {class: "note", id: "every-model-examined"}, "None: every model of this center has a rate."),
    h("p", {class: "note"}, rates.note || ""));
}

// Usage per account (or user, or organization) and device model over a
// period: GET /v1/usage, which scopes it (users: their own records and the
// accounts they coordinate; admins: all). Grouping and period are in the URL.
const USAGE_PERIODS = {"1d": 86400, "7d": 7 * 86400, "30d": 30 * 86400, "all": 0};

async function viewUsage(qs) {
  const by = ["account", "user", "organization"].includes(qs.get("by")) ? qs.get("by") : "account";
  const period = Object.hasOwn(USAGE_PERIODS, qs.get("period") || "") ? qs.get("period") : "30d";
  const q = new URLSearchParams({by});
  if (USAGE_PERIODS[period]) q.set("since", String(Math.floor(nowS() - USAGE_PERIODS[period])));
  const [u] = await Promise.all([getJSON("/v1/usage?" + q.toString()), meReady]);
  const group = by === "organization" ? "organization" : "account";
  const rows = u.rows || [];
  const total = u.device_seconds_total || 0;
  const link = (k, v, label, cur) => v === cur ? h("strong", {class: "choice"}, label) :
    h("a", {href: "#/usage?" + new URLSearchParams(Object.assign({by, period}, {[k]: v})), class: "choice"}, label);
  setMain(h("h1", {}, "Usage per " + by),
    h("p", {id: "usage-controls"}, "group by: ", ["account", "user", "organization"].map((b) => [link("by", b, b, by), " "]),
      " · period: ", Object.keys(USAGE_PERIODS).map((p) => [link("period", p, p === "all" ? "all time" : "last " + p, period), " "])),
    table("usage", [group].concat(by === "user" ? ["user"] : [], ["model", "device hours", "records",
      "normalized units", "model has a rate now", "share of device time"]),
    rows.map((r) => h("tr", {"data-key": (r[group] || "") + "/" + (r.user || "") + "/" + r.model},
      h("td", {class: "group"}, r[group] || "(none)"), by === "user" ? h("td", {class: "user"}, r.user) : null,
      h("td", {class: "model"}, r.model || "-"), h("td", {class: "num hours"}, Number(r.device_hours).toFixed(4)),
      h("td", {class: "num records"}, r.records), h("td", {class: "num units"}, Number(r.normalized_units).toFixed(6)),
      h("td", {}, r.rated ? "yes" : "no (rate 1)"), h("td", {}, bar(r.device_seconds, total))))),
    rows.length ? null : h("p", {class: "note", id: "no-usage"}, "No usage recorded in this period."),
    kv("usage-totals", [["device hours", Number(u.device_hours_total || 0).toFixed(4)],
      ["device-seconds", total], ["normalized units", Number(u.normalized_units_total).toFixed(6)],
      ["since", u.since_s ? fmtTime(u.since_s) : "the first record"]]),
    h("p", {class: "note"}, (me && me.admin ? "Every account's usage (admin)." :
      "Your own usage and that of the accounts you coordinate.") + " " + (u.units_note || "")));
}

// Inference services (docs/services.md): GET /v1/services and
// GET /v1/services/NAME, which scope them (a user's own; admins all). A
// controller whose router (HAProxy) does not run still lists services; they
// have no address, and the page says why.
function serviceLink(name) {
  return h("a", {href: "#/services/" + encodeURIComponent(name)}, name);
}

// The router's mean response time over its last requests; -1: none yet.
function responseMs(s) {
  return s.avg_response_ms >= 0 ? s.avg_response_ms : "-";
}

function serviceAddress(s) {
  return s.address ? s.address : h("span", {class: "note"}, "none: " + (s.address_why || "no router"));
}

function routerNote(list) {
  if (list.router) return null;
  const why = list.router_why || "the router (HAProxy) does not run";
  if (!(list.services || []).length) return h("p", {class: "note", id: "router-note"}, "Router: " + why + ".");
  return h("p", {class: "error", id: "router-missing"},
    "Services have no address and take no requests: " + why + ".");
}

async function viewServices() {
  let list;
  try {
    [list] = await Promise.all([getJSON("/v1/services"), meReady]);
  } catch (e) {
    if (e instanceof AuthError) throw e;
    setMain(h("h1", {}, "Services"), h("p", {class: "error", id: "services-error"},
      "Services cannot be read: " + e.message));
    return;
  }
  const svcs = list.services || [];
  setMain(h("h1", {}, "Services"),
    routerNote(list),
    svcs.length ? table("services", ["name", "owner", "state", "ready/wanted", "replicas", "address",
      "requests/s", "avg response (ms)", "requests", "restarts", "message"], svcs.map((s) =>
      h("tr", {"data-service": s.name},
        h("td", {class: "name"}, serviceLink(s.name)), h("td", {class: "user"}, s.user),
        h("td", {}, badge(s.state)), h("td", {class: "num ready"}, s.ready + "/" + s.replicas),
        h("td", {class: "num"}, s.total), h("td", {class: "address"}, serviceAddress(s)),
        h("td", {class: "num rps"}, Number(s.rps).toFixed(2)),
        h("td", {class: "num ms"}, responseMs(s)), h("td", {class: "num"}, s.requests),
        h("td", {class: "num"}, s.restarts), h("td", {class: "message"}, s.message || "-")))) :
      h("p", {class: "note", id: "no-services"}, me && me.admin ? "No services in this center." :
        "You have no services. Start one with 'aidc serve' (docs/services.md)."),
    h("p", {class: "note"}, me && me.admin ? "Every user's services (admin)." : "Your own services."));
}

// A spec value as one line of text: argv and env joined, objects as k=v;
// 0 CPUs or memory is the controller's default (docs/services.md).
function specText(v, k) {
  if (v === 0 && (k === "cpus_per_task" || k === "mem_mib")) return "0 (the default)";
  if (Array.isArray(v)) return v.map(String).join(" ");
  if (v && typeof v === "object") return Object.entries(v).map(([key, x]) => key + "=" + specText(x, key)).join(", ");
  return String(v);
}

async function viewService(name) {
  const s = await getJSON("/v1/services/" + encodeURIComponent(name));
  const reps = (s.replica_list || []).map((r) => h("tr", {"data-job-id": r.job},
    h("td", {class: "num"}, jobLink(r.job)), h("td", {class: "num"}, r.gen), h("td", {}, badge(r.state)),
    h("td", {}, r.job_state), h("td", {class: "node"}, r.node ? h("a", {href: "#/nodes/" +
      encodeURIComponent(r.node)}, r.node) : "-"), h("td", {class: "num"}, r.port),
    h("td", {}, r.routed ? "yes" : "no"), h("td", {class: "num"}, r.probe_failures),
    h("td", {class: "reason"}, r.why || "-")));
  const spec = s.spec || {};
  setMain(h("h1", {}, "Service ", h("span", {id: "service-name"}, s.name), " ", badge(s.state)),
    kv("service-fields", [["owner", s.user], ["state", s.state], ["address", serviceAddress(s)],
      ["ready/wanted", s.ready + "/" + s.replicas], ["replicas", s.total], ["generation", s.generation],
      ["restarts", s.restarts], ["requests", s.requests], ["5xx responses", s.responses_5xx],
      ["requests/s", Number(s.rps).toFixed(2)], ["avg response (ms)", responseMs(s)],
      ["message", s.message || "-"], ["created", fmtTime(s.created_s)], ["updated", fmtTime(s.updated_s)]]),
    h("h2", {}, "Replicas"),
    reps.length ? table("service-replicas", ["job", "generation", "state", "job state", "node", "port",
      "routed", "probe failures", "why"], reps) :
      h("p", {class: "note", id: "no-replicas"}, "No replicas (the service is scaled to 0 or has not started any)."),
    h("h2", {}, "Spec (generation " + s.generation + ")"),
    kv("service-spec", Object.entries(spec).filter(([k]) => k !== "v").map(([k, v]) => [k, specText(v, k)])),
    s.prev_spec ? h("h2", {}, "Previous spec (kept for a rollback)") : null,
    s.prev_spec ? h("pre", {class: "log", id: "service-prev-spec"}, JSON.stringify(s.prev_spec, null, 1)) : null,
    h("p", {class: "note"}, h("a", {href: "#/services"}, "all services")));
}

// ---- router ----------------------------------------------------------------

function stopTimers() {
  if (timer) clearTimeout(timer);
  timer = null;
  if (follow) follow.stop = true;
  follow = null;
}

async function render() {
  stopTimers();
  const hash = location.hash || "#/overview";
  const [path, query] = hash.replace(/^#\/?/, "").split("?", 2);
  const parts = path.split("/").map(decodeURIComponent);
  const qs = new URLSearchParams(query || "");
  const view = parts[0] || "overview";
  for (const a of document.querySelectorAll("#nav a"))
    a.classList.toggle("active", a.dataset.view === view || (view === "jobs" && a.dataset.view === "queue"));
  const t0 = performance.now();
  try {
    if (view === "overview") await viewOverview();
    else if (view === "queue") await viewQueue(qs);
    else if (view === "jobs" && parts[1]) await viewJob(parts[1]);
    else if (view === "nodes" && parts[1]) await viewNode(parts[1]);
    else if (view === "nodes") await viewNodes();
    else if (view === "services" && parts[1]) await viewService(parts[1]);
    else if (view === "services") await viewServices();
    else if (view === "accounts") await viewAccounts();
    else if (view === "exams") await viewExams();
    else if (view === "usage") await viewUsage(qs);
    else throw new Error("no such page: " + hash);
    await meReady;
  } catch (e) {
    // Signed out or never signed in: the form (with the reason once signed in).
    if (e instanceof AuthError) return showLogin(me ? e.message : undefined);
    setMain(h("p", {class: "error", id: "view-error"}, e.message));
  }
  const ms = performance.now() - t0;
  document.body.dataset.renderMs = ms.toFixed(1);
  // The first view since the page was loaded: from navigation start (the
  // browser's own clock origin) to drawn, what a user waits for.
  if (!document.body.dataset.loadMs) document.body.dataset.loadMs = performance.now().toFixed(1);
  document.body.dataset.view = view;
  status("updated " + new Date().toLocaleTimeString() + " in " + ms.toFixed(0) + " ms");
  if ((["overview", "queue", "nodes"].includes(view) && !parts[1]) || view === "services")
    timer = setTimeout(refresh, REFRESH_MS);
}

// The periodic redraw waits while the user is typing in a form of the view
// (the queue's filters), so it never throws away what is being typed.
function refresh() {
  const a = document.activeElement;
  if (a && a.closest && a.closest("#main form")) timer = setTimeout(refresh, REFRESH_MS);
  else render();
}

// GET /v1/whoami and the first view's data are fetched at the same time (one
// round trip less before the page shows anything); a view that needs to know
// who is signed in awaits meReady. A 401 from either shows the sign-in form.
async function start() {
  meReady = getJSON("/v1/whoami").then((w) => {
    me = w;
    document.getElementById("nav").hidden = false;
    document.getElementById("logout").hidden = false;
    const who = document.getElementById("who");
    who.replaceChildren(h("span", {id: "who-user"}, me.user), me.admin ? h("span", {class: "badge"}, " admin") : "");
    return w;
  });
  meReady.catch(() => {}); // render() reports it; never an unhandled rejection
  await render();
}

window.addEventListener("hashchange", () => { if (me) render(); });
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("logout").addEventListener("click", logout);
  start();
});
