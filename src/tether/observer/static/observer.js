// The tether observer's page: a websocket of snapshots, rendered without a framework.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
};

let snap = null;                 // the last snapshot
const events = [];               // every event seen, oldest first
let lastSeq = 0;
let sortKey = "reductions", sortAsc = false;
let currentPid = null, pageTimer = null;
const charts = {};

// -- formatting -------------------------------------------------------------------------
const fmtBytes = (n) => n == null ? "–" : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB`
  : n < 1073741824 ? `${(n / 1048576).toFixed(1)} MB` : `${(n / 1073741824).toFixed(2)} GB`;
const fmtNum = (n, d = 0) => n == null ? "–" : Number(n).toLocaleString(undefined, { maximumFractionDigits: d });
const fmtSecs = (s) => s == null ? "–" : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
const fmtUptime = (s) => { if (s == null) return "–"; s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60; return h ? `${h}h ${m}m` : `${m}m ${s % 60}s`; };
const fmtTime = (t) => new Date(t * 1000).toLocaleTimeString();
const pidPath = (pid) => encodeURIComponent(pid);

async function api(path, body) {
  const opts = { headers: { "X-Tether-Token": token } };
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  if (!r.ok) throw new Error(`${r.status}: ${await r.text()}`);
  return r.json();
}

// -- the websocket ---------------------------------------------------------------------------
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(token)}`);
  ws.onopen = () => { $("#conn-state").textContent = "live"; $("#conn-state").className = "good"; };
  ws.onclose = () => {
    $("#conn-state").textContent = "offline"; $("#conn-state").className = "bad";
    setTimeout(connect, 2000);
  };
  ws.onmessage = (e) => {
    const s = JSON.parse(e.data);
    snap = s;
    for (const ev of s.events) if (ev.seq > lastSeq) { events.push(ev); lastSeq = ev.seq; }
    if (events.length > 5000) events.splice(0, events.length - 5000);
    render();
  };
}

// -- routing --------------------------------------------------------------------------------
function route() {
  const h = location.hash || "#/overview";
  const [, tab, arg] = h.split("/");
  const id = tab === "process" ? "process-page" : (tab || "overview");
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === id);
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.tab === tab);
  clearInterval(pageTimer);
  currentPid = null;
  if (tab === "process" && arg) {
    currentPid = decodeURIComponent(arg);
    loadProcess();
    pageTimer = setInterval(loadProcess, 2000);
  }
  render();
}

function render() {
  if (!snap) return;
  $("#node-name").textContent = snap.node;
  $("#node-system").textContent = (snap.overview && snap.overview.system) || "";
  const active = document.querySelector(".tab.active");
  if (!active) return;
  if (active.id === "overview") renderOverview();
  else if (active.id === "processes") renderProcesses();
  else if (active.id === "tree") renderTree();
  else if (active.id === "log") renderLog();
  else if (active.id === "process-page") renderActions();
}

// -- overview ---------------------------------------------------------------------------------
function renderOverview() {
  const o = snap.overview; if (!o) return;
  const r = o.rates || {};
  $("#ov-processes").textContent = fmtNum(o.processes);
  $("#ov-run-queue").textContent = fmtNum(o.run_queue);
  $("#ov-memory").textContent = fmtBytes(o.memory && o.memory.total);
  $("#ov-messages").textContent = o.messages == null ? "n/a" : fmtNum(r.messages_rate, 1);
  $("#ov-spawns").textContent = o.spawns == null ? "n/a" : fmtNum(r.spawns_rate, 1);
  $("#ov-utilisation").textContent = r.utilisation == null ? "–" : `${(r.utilisation * 100).toFixed(1)} %`;
  const ls = o.longest_step;
  $("#ov-longest").textContent = o.longest_step_ever == null ? "n/a" : ls ? `${fmtSecs(ls.seconds)} ${ls.pid}` : "< 50 ms";
  $("#ov-uptime").textContent = fmtUptime(o.uptime);
  renderCharts();
  const tbody = $("#connections tbody");
  tbody.replaceChildren(...(o.connections || []).map((c) => {
    const rate = (o.connection_rates || {})[c.node] || {};
    return el("tr", {}, el("td", {}, c.node), el("td", {}, c.up ? (c.hidden ? "up (hidden)" : "up") : "connecting"),
      el("td", { class: "num" }, rate.sent_rate == null ? "–" : fmtBytes(Math.round(rate.sent_rate))),
      el("td", { class: "num" }, rate.received_rate == null ? "–" : fmtBytes(Math.round(rate.received_rate))),
      el("td", { class: "num" }, fmtBytes(c.sent)), el("td", { class: "num" }, fmtBytes(c.received)),
      el("td", { class: "num" }, c.buffer == null ? "–" : fmtBytes(c.buffer)));
  }));
  if (!(o.connections || []).length) tbody.replaceChildren(el("tr", {}, el("td", { colspan: 7 }, "no connections")));
}

const CHARTS = [
  ["processes", "Processes", (v) => fmtNum(v)],
  ["memory", "Memory", fmtBytes],
  ["messages_rate", "Messages /s", (v) => fmtNum(v, 1)],
  ["utilisation", "Scheduler use", (v) => v == null ? "–" : `${(v * 100).toFixed(1)} %`],
  ["run_queue", "Run queue", (v) => fmtNum(v)],
  ["longest_step", "Longest step (s)", (v) => fmtSecs(v)],
];

function renderCharts() {
  const h = snap.history || [];
  const xs = h.map((p) => p.time);
  for (const [key, title, fmt] of CHARTS) {
    const ys = h.map((p) => p[key] == null ? null : p[key]);
    const data = [xs, ys];
    if (!charts[key]) {
      const box = el("div", { class: "chart", id: `chart-${key}` });
      $("#charts").append(box);
      charts[key] = new uPlot({
        title, width: 440, height: 160,
        scales: { x: { time: true } },
        axes: [{}, { values: (u, vals) => vals.map(fmt), size: 70 }],
        series: [{}, { label: title, stroke: "#5b3cc4", fill: "rgba(91,60,196,.1)", value: (u, v) => fmt(v), spanGaps: true }],
      }, data, box);
    } else {
      charts[key].setData(data);
    }
  }
}

// -- processes --------------------------------------------------------------------------------
function renderProcesses() {
  const p = snap.processes || { rows: [], total: 0 };
  const q = $("#proc-filter").value.trim().toLowerCase();
  let rows = p.rows;
  if (q) rows = rows.filter((r) => [r.pid, r.name, r.initial_call, r.current, r.status].some((v) => v && String(v).toLowerCase().includes(q)));
  rows = rows.slice().sort((a, b) => {
    let x = a[sortKey], y = b[sortKey];
    if (sortKey === "pid") { x = pidNum(x); y = pidNum(y); }
    if (x == null) x = -Infinity; if (y == null) y = -Infinity;
    const c = typeof x === "string" || typeof y === "string" ? String(x).localeCompare(String(y)) : x - y;
    return sortAsc ? c : -c;
  });
  for (const th of document.querySelectorAll("#proc-table th")) {
    th.classList.toggle("sorted", th.dataset.sort === sortKey);
    th.classList.toggle("asc", th.dataset.sort === sortKey && sortAsc);
  }
  $("#proc-count").textContent = `${rows.length} shown of ${p.total} processes`;
  $("#proc-table tbody").replaceChildren(...rows.slice(0, 1000).map((r) => el("tr",
    { "data-pid": r.pid, onclick: () => { location.hash = `#/process/${pidPath(r.pid)}`; } },
    el("td", {}, r.pid), el("td", {}, r.name || ""), el("td", {}, r.initial_call), el("td", {}, r.current),
    el("td", {}, r.status), el("td", { class: "num" }, fmtNum(r.message_queue_len)), el("td", { class: "num" }, fmtBytes(r.memory)),
    el("td", { class: "num" }, fmtNum(r.reductions)), el("td", { class: "num" }, r.received == null ? "n/a" : fmtNum(r.received)),
    el("td", { class: "num" }, r.links), el("td", { class: "num" }, r.monitors))));
}
const pidNum = (pid) => { const m = /<(\d+)\.(\d+)\.(\d+)>/.exec(pid || ""); return m ? (+m[1]) * 1e12 + (+m[3]) * 1e9 + (+m[2]) : 0; };

// -- process page -------------------------------------------------------------------------------
async function loadProcess() {
  const pid = currentPid; if (!pid) return;
  $("#pp-pid").textContent = pid;
  let page;
  try { page = await api(`/api/process/${pidPath(pid)}`); }
  catch (e) { if (pid === currentPid) { $("#pp-dead").hidden = false; } return; }
  if (pid !== currentPid) return;
  $("#pp-dead").hidden = true;
  $("#pp-name").textContent = page.info.registered_name && page.info.registered_name !== "nil" ? page.info.registered_name : "";
  $("#pp-info tbody").replaceChildren(...Object.entries(page.info).map(([k, v]) => el("tr", { "data-item": k }, el("td", {}, k), el("td", {}, v))));
  $("#pp-state").textContent = page.state == null ? (page.kind === "process" ? "(not a server: no state to show)" : "(no answer)") : page.state;
  $("#pp-message-count").textContent = `(${page.message_count} queued${page.message_count > page.messages.length ? `, first ${page.messages.length} shown` : ""})`;
  $("#pp-messages").replaceChildren(...page.messages.map((m) => el("li", {}, m)));
  $("#pp-stack").replaceChildren(...page.stack.map((f) => el("li", {}, f)));
  $("#pp-dictionary tbody").replaceChildren(...page.dictionary.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))));
  renderActions();
  try { drawGraph(await api(`/api/graph/${pidPath(pid)}`)); } catch (e) { /* died meanwhile */ }
}

function renderActions() {
  const allowed = !!(snap && snap.actions);
  $("#pp-actions").hidden = !allowed;
  $("#pp-read-only").hidden = allowed;
}

async function act(what) {
  const pid = currentPid; if (!pid) return;
  const field = what === "exit" ? $("#pp-reason") : $("#pp-message");
  const text = field.value.trim();
  if (!text) { $("#pp-action-result").textContent = `give a ${what === "exit" ? "reason" : "message"}`; return; }
  const question = what === "exit" ? `Exit process ${pid} with reason ${text}?` : `Send ${text} to ${pid}?`;
  if (!confirm(question)) return;
  try {
    await api(`/api/process/${pidPath(pid)}/${what}`, what === "exit" ? { reason: text } : { message: text });
    $("#pp-action-result").textContent = what === "exit" ? `exit signal sent to ${pid}` : `sent to ${pid}`;
  } catch (e) { $("#pp-action-result").textContent = String(e.message); }
  loadProcess();
}

function drawGraph(g) {
  const svg = $("#pp-graph"); const W = 520, H = 360, cx = W / 2, cy = H / 2, R = 130;
  const ns = "http://www.w3.org/2000/svg";
  const mk = (tag, attrs) => { const e = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; };
  svg.replaceChildren();
  const defs = mk("defs", {}); const marker = mk("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 22, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(mk("path", { d: "M0,0 L10,5 L0,10 z", fill: "#2e86c1" })); defs.append(marker); svg.append(defs);
  const others = g.nodes.filter((n) => n.pid !== g.center);
  const pos = { [g.center]: [cx, cy] };
  others.forEach((n, i) => { const a = (2 * Math.PI * i) / Math.max(1, others.length) - Math.PI / 2; pos[n.pid] = [cx + R * Math.cos(a), cy + R * Math.sin(a)]; });
  for (const e of g.edges) {
    const [x1, y1] = pos[e.from] || [cx, cy], [x2, y2] = pos[e.to] || [cx, cy];
    const line = mk("line", { x1, y1, x2, y2, class: e.kind });
    if (e.kind === "monitor") line.setAttribute("marker-end", "url(#arrow)");
    svg.append(line);
  }
  for (const n of g.nodes) {
    const [x, y] = pos[n.pid]; const gEl = mk("g", { class: `node${n.pid === g.center ? " center" : ""}`, "data-pid": n.pid, transform: `translate(${x},${y})`, cursor: "pointer" });
    gEl.append(mk("circle", { r: 9 }));
    const t1 = mk("text", { y: 22, "text-anchor": "middle" }); t1.textContent = n.pid;
    const t2 = mk("text", { y: 35, "text-anchor": "middle", fill: "#6b7480" }); t2.textContent = (n.label || "").slice(0, 40);
    gEl.append(t1, t2);
    gEl.addEventListener("click", () => { location.hash = `#/process/${pidPath(n.pid)}`; });
    svg.append(gEl);
  }
}

// -- tree ------------------------------------------------------------------------------------------
function renderTree() {
  const roots = snap.tree || [];
  const root = $("#tree-root");
  if (!roots.length) { root.replaceChildren(el("p", {}, "No supervisors are running.")); return; }
  root.replaceChildren(el("ul", { class: "tree" }, ...roots.map(treeNode)));
}

function treeNode(n) {
  const row = el("span", { class: "row" }, el("span", { class: `kind ${n.type}` }, n.type));
  row.append(el("span", { class: "id" }, n.type === "application" ? n.id : n.name || n.id));
  if (n.pid) row.append(el("span", { class: "pid", onclick: () => { location.hash = `#/process/${pidPath(n.pid)}`; } }, n.pid));
  else row.append(el("span", { class: "flags" }, n.status));
  if (n.type === "supervisor" && n.strategy) {
    row.append(el("span", { class: "flags" }, `${n.strategy} · max ${n.intensity} in ${n.period} s · restarts ${n.restarts ?? 0}`));
  }
  if (n.type === "worker" && n.pid && snap.actions) {
    row.append(el("button", { class: "kill danger", title: "Process.exit(pid, :kill)", onclick: async (ev) => {
      ev.stopPropagation();
      if (!confirm(`Kill ${n.pid} (child ${n.id})?`)) return;
      try { await api(`/api/process/${pidPath(n.pid)}/exit`, { reason: "kill" }); } catch (e) { alert(e.message); }
    } }, "kill"));
  }
  const li = el("li", { class: `tree-node ${n.type}${n.restarted ? " restarted" : ""}`, "data-pid": n.pid || "", "data-id": n.id }, row);
  if (n.children && n.children.length) li.append(el("ul", {}, ...n.children.map(treeNode)));
  return li;
}

// -- log ------------------------------------------------------------------------------------------
function renderLog() {
  const q = $("#log-filter").value.trim().toLowerCase();
  const errorsOnly = $("#log-errors").checked;
  let shown = events;
  if (errorsOnly) shown = shown.filter((e) => e.level === "error");
  if (q) shown = shown.filter((e) => e.text.toLowerCase().includes(q) || (e.pid || "").toLowerCase().includes(q));
  $("#log-count").textContent = `${shown.length} of ${events.length} entries`;
  $("#log-list").replaceChildren(...shown.slice(-500).reverse().map((e) =>
    el("li", { class: `${e.level} ${e.kind}`, "data-seq": e.seq }, el("span", { class: "when" }, fmtTime(e.time)), e.text)));
}

// -- wiring ------------------------------------------------------------------------------------------
for (const th of document.querySelectorAll("#proc-table th[data-sort]")) {
  th.addEventListener("click", () => {
    if (sortKey === th.dataset.sort) sortAsc = !sortAsc; else { sortKey = th.dataset.sort; sortAsc = sortKey === "pid" || sortKey === "name"; }
    renderProcesses();
  });
}
$("#proc-filter").addEventListener("input", renderProcesses);
$("#log-filter").addEventListener("input", renderLog);
$("#log-errors").addEventListener("change", renderLog);
$("#pp-exit").addEventListener("click", () => act("exit"));
$("#pp-send").addEventListener("click", () => act("send"));
window.addEventListener("hashchange", route);
route();
connect();
