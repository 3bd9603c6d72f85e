// flowc ui: every page is drawn here from the JSON API (docs/ui.md). Data goes into the page as
// text (textContent), never as HTML; the one HTML string inserted is the run graph's SVG, which
// the server builds with every name escaped. Cards open in iframes with sandbox="allow-scripts"
// (no allow-same-origin), so a card's scripts cannot touch this page.
"use strict";

const body = document.body;
const page = body.dataset.page;
const names = { flow: body.dataset.flow, run: body.dataset.run, step: body.dataset.step, task: body.dataset.task };
const main = document.getElementById("main");
const POLL_MS = 3000;
const TASKS_PER_PAGE = 100;
const RUNS_PER_PAGE = 50;

function q(part) { return encodeURIComponent(part); }
const runPath = () => `/flows/${q(names.flow)}/runs/${q(names.run)}`;
const taskPath = (step, task) => `${runPath()}/steps/${q(step)}/tasks/${q(task)}`;

async function api(path) {
  const response = await fetch("/api" + path, { headers: { Accept: "application/json" } });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "onclick" || key === "onchange") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function link(href, text, attributes = {}) { return el("a", { href, text, ...attributes }); }
function badge(status) { return el("span", { class: `badge ${status}`, text: status }); }
function when(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", " UTC") : "—"; }
function seconds(value) {
  if (value === null || value === undefined) return "—";
  if (value < 60) return `${value.toFixed(value < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(value / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(value % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function crumbs() {
  const nav = document.getElementById("crumbs");
  const parts = [link("/", "flows")];
  if (names.flow) parts.push(link(`/flows/${q(names.flow)}`, names.flow));
  if (names.run) parts.push(link(runPath(), names.run));
  if (names.step) parts.push(link(taskPath(names.step, names.task), `${names.step}/${names.task}`));
  parts.forEach((part, i) => { if (i) nav.append(" / "); nav.append(part); });
}

function table(headers, rows, attributes = {}) {
  return el("table", attributes,
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows));
}

function pager(total, offset, size, go) {
  const box = el("div", { class: "pager" });
  const last = Math.max(0, total - 1);
  box.append(el("button", { text: "← newer", disabled: offset <= 0, onclick: () => go(Math.max(0, offset - size)) }));
  box.append(el("span", { class: "range", text: total ? ` ${offset + 1}–${Math.min(offset + size, total)} of ${total} ` : " none " }));
  box.append(el("button", { text: "older →", disabled: offset + size > last, onclick: () => go(offset + size) }));
  return box;
}

function fail(error) { main.replaceChildren(el("p", { class: "error", text: String(error.message || error) })); }

// ---- flows ----------------------------------------------------------------------------------
async function flowsPage() {
  const data = await api("/flows");
  const rows = data.flows.map((f) => el("tr", {}, el("td", {}, link(`/flows/${q(f.name)}`, f.name, { class: "flow" })), el("td", { text: f.runs })));
  main.replaceChildren(el("h1", { text: "Flows" }), el("p", { class: "muted", text: `datastore ${data.datastore}` }),
    data.flows.length ? table(["flow", "runs"], rows, { id: "flows" }) : el("p", { text: "No runs in this datastore yet." }));
}

// ---- a flow's runs --------------------------------------------------------------------------
async function runsPage() {
  const params = new URLSearchParams(location.search);
  const filters = { status: params.get("status") || "", tag: params.get("tag") || "", engine: params.get("engine") || "" };
  const offset = Number(params.get("offset") || 0);
  const query = new URLSearchParams({ ...filters, offset, limit: RUNS_PER_PAGE });
  const data = await api(`/flows/${q(names.flow)}/runs?${query}`);
  const reload = (changes) => {
    const next = new URLSearchParams({ ...filters, offset: 0, ...changes });
    for (const [k, v] of [...next]) if (!v || v === "0") next.delete(k);
    location.search = next.toString();
  };
  const select = (name, options) => el("select", { name, onchange: (e) => reload({ [name]: e.target.value }) },
    ...["", ...options].map((o) => el("option", { value: o, text: o || `any ${name}`, selected: o === filters[name] })));
  const tagInput = el("input", { name: "tag", placeholder: "tag", value: filters.tag });
  tagInput.onchange = () => reload({ tag: tagInput.value });
  const form = el("div", { class: "filters" }, select("status", ["running", "successful", "failed", "killed", "crashed", "incomplete"]),
    select("engine", ["local", "argo", "step-functions", "airflow"]), tagInput);
  const rows = data.runs.map((r) => el("tr", { "data-run": r.id },
    el("td", {}, link(`/flows/${q(names.flow)}/runs/${q(r.id)}`, r.id, { class: "run" })),
    el("td", {}, el("span", { class: "engine", text: r.engine })), el("td", {}, badge(r.status)),
    el("td", { text: (r.tags || []).join(", ") }), el("td", { text: r.user || "—" }),
    el("td", { text: r.project_branch || "—" }), el("td", { text: when(r.start) }), el("td", { text: seconds(r.duration) })));
  main.replaceChildren(el("h1", { text: names.flow }), form,
    table(["run", "engine", "status", "tags", "user", "branch", "started", "duration"], rows, { id: "runs" }),
    pager(data.total, offset, RUNS_PER_PAGE, (o) => reload({ offset: o })));
}

// ---- a run ----------------------------------------------------------------------------------
const runState = { step: "", status: "", offset: 0, timer: null };

async function runPage() {
  const [run, timeline] = await Promise.all([api(runPath()), api(`${runPath()}/timeline`)]);
  const summary = el("dl", { class: "facts" });
  const fact = (k, v) => summary.append(el("dt", { text: k }), el("dd", {}, v));
  fact("status", badge(run.status));
  fact("engine", el("span", { class: "engine", text: run.engine }));
  fact("user", run.user || "—");
  fact("tags", (run.tags || []).join(", ") || "—");
  fact("branch", run.project_branch || "—");
  fact("started", when(run.start));
  fact("duration", seconds(run.duration));
  fact("tasks", String(run.task_count));
  if (run.reason) fact("reason", run.reason);
  if (run.origin_run_id) fact("resumes", run.origin_run_id);
  const params = Object.entries(run.parameters || {});
  const graph = el("div", { id: "graph", class: "graph-box" });
  if (run.graph_svg) graph.innerHTML = run.graph_svg; // built server-side, every name escaped
  else graph.append(el("p", { class: "muted", text: "No graph." }));
  if (run.graph_error) graph.append(el("p", { class: "muted", text: `Graph from the tasks' records: ${run.graph_error}` }));
  graph.querySelectorAll("[data-step-link]").forEach((a) => a.addEventListener("click", () => { runState.step = a.dataset.stepLink; runState.offset = 0; loadTasks(); }));
  const stepFilter = el("select", { id: "step-filter", onchange: (e) => { runState.step = e.target.value; runState.offset = 0; loadTasks(); } },
    el("option", { value: "", text: "every step" }), ...run.steps.map((s) => el("option", { value: s.name, text: s.name, selected: s.name === runState.step })));
  const statusFilter = el("select", { id: "status-filter", onchange: (e) => { runState.status = e.target.value; runState.offset = 0; loadTasks(); } },
    ...["", "successful", "running", "failed", "pending"].map((s) => el("option", { value: s, text: s || "any status", selected: s === runState.status })));
  main.replaceChildren(...[
    el("h1", {}, `${names.flow} / ${names.run} `, badge(run.status)), summary,
    params.length ? el("details", {}, el("summary", { text: "parameters" }), table(["name", "value"], params.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: JSON.stringify(v) }))))) : null,
    el("h2", { text: "Graph" }), graph,
    el("h2", { text: "Timeline" }), drawTimeline(timeline),
    el("h2", { id: "tasks", text: "Tasks" }), el("div", { class: "filters" }, stepFilter, statusFilter),
    el("div", { id: "task-list" })].filter(Boolean));
  await loadTasks();
  clearTimeout(runState.timer);
  if (run.status === "running") runState.timer = setTimeout(() => runPage().catch(fail), POLL_MS);
}

async function loadTasks() {
  const query = new URLSearchParams({ offset: runState.offset, limit: TASKS_PER_PAGE });
  if (runState.step) query.set("step", runState.step);
  if (runState.status) query.set("status", runState.status);
  const data = await api(`${runPath()}/tasks?${query}`);
  const rows = data.tasks.map((t) => el("tr", { "data-task": `${t.step}/${t.task_id}` },
    el("td", { text: t.step }), el("td", {}, link(taskPath(t.step, t.task_id), t.task_id, { class: "task" })),
    el("td", {}, badge(t.status)), el("td", { text: t.attempts }), el("td", { text: when(t.start) }),
    el("td", { text: seconds(t.duration) }), el("td", { text: t.cards ? "yes" : "" })));
  document.getElementById("task-list").replaceChildren(
    table(["step", "task", "status", "attempts", "started", "duration", "cards"], rows, { id: "task-table" }),
    pager(data.total, runState.offset, TASKS_PER_PAGE, (o) => { runState.offset = o; loadTasks(); }));
}

const COLORS = { successful: "#2e9d5b", failed: "#d64545", running: "#3b82c4", unreadable: "#999" };

function drawTimeline(data) {
  // One lane per step; a step's attempts are packed into as few rows as do not overlap (at most
  // 12 rows a step), so a 10,000-task foreach is a band, not 10,000 lines. Canvas, not DOM nodes.
  const box = el("div", { id: "timeline", class: "timeline", "data-attempts": data.attempts.length });
  if (!data.attempts.length) { box.append(el("p", { class: "muted", text: "No attempts started yet." })); return box; }
  const now = Date.now() - data.origin;
  const span = Math.max(1, ...data.attempts.map((a) => (a[4] === null ? now : a[4])));
  const lanes = new Map(data.steps.map((s) => [s, []]));
  const placed = [];
  for (const a of data.attempts) {
    const rows = lanes.get(a[0]) || (lanes.set(a[0], []), lanes.get(a[0]));
    let row = rows.findIndex((end) => end <= a[3]);
    if (row < 0) { row = rows.length < 12 ? rows.length : rows.indexOf(Math.min(...rows)); if (row === rows.length) rows.push(0); }
    rows[row] = a[4] === null ? now : a[4];
    placed.push([a, row]);
  }
  const ROW = 8, LABEL = 130, width = Math.max(600, (main.clientWidth || 900) - 20);
  let y = 0; const top = new Map();
  for (const [step, rows] of lanes) { top.set(step, y); y += Math.max(1, rows.length) * ROW + 10; }
  const canvas = el("canvas", { width, height: y + 16 });
  const ctx = canvas.getContext("2d");
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#333";
  for (const [step, y0] of top) ctx.fillText(step, 2, y0 + 9);
  const scale = (width - LABEL - 10) / span;
  const hits = [];
  for (const [a, row] of placed) {
    const x = LABEL + a[3] * scale, w = Math.max(1.5, ((a[4] === null ? now : a[4]) - a[3]) * scale);
    const y0 = top.get(a[0]) + row * ROW;
    ctx.fillStyle = COLORS[a[4] === null ? "running" : a[5]] || "#999";
    ctx.fillRect(x, y0, w, ROW - 2);
    hits.push([x, y0, w, a]);
  }
  ctx.fillStyle = "#666"; ctx.fillText(`0 s`, LABEL, y + 12); ctx.fillText(seconds(span / 1000), width - 60, y + 12);
  const tip = el("div", { class: "tip" });
  const hit = (e) => { const r = canvas.getBoundingClientRect(); const x = e.clientX - r.left, yy = e.clientY - r.top; return hits.find(([hx, hy, hw]) => x >= hx - 1 && x <= hx + hw + 1 && yy >= hy && yy <= hy + ROW); };
  canvas.onmousemove = (e) => { const h = hit(e); tip.textContent = h ? `${h[3][0]}/${h[3][1]} attempt ${h[3][2]}: ${h[3][5]}, ${seconds(((h[3][4] ?? now) - h[3][3]) / 1000)}` : ""; };
  canvas.onclick = (e) => { const h = hit(e); if (h) location.href = taskPath(h[3][0], h[3][1]); };
  box.append(canvas, tip);
  for (const [step, n] of Object.entries(data.sampled || {})) {
    box.append(el("p", { class: "muted sampled", text: `${step}: ${n.shown.toLocaleString()} of ${n.tasks.toLocaleString()} tasks shown (every retried or unsuccessful one, then evenly spaced ones)` }));
  }
  return box;
}

// ---- a task ---------------------------------------------------------------------------------
async function taskPage() {
  const task = await api(taskPath(names.step, names.task));
  const parts = [el("h1", {}, `${names.step} / ${names.task} `, badge(task.status))];
  parts.push(table(["attempt", "status", "started", "ended", "host", "exit", "reason"], task.attempts.map((a) =>
    el("tr", {}, el("td", { text: a.attempt }), el("td", {}, badge(a.status || "?")), el("td", { text: when(a.start) }),
      el("td", { text: when(a.end) }), el("td", { text: a.host || "—" }), el("td", { text: a.exit_code ?? "—" }), el("td", { text: a.exit_reason || "" }))), { id: "attempts" }));
  const used = task.attempts.map((a) => a.environment).filter(Boolean).pop();
  if (used) {  // the @pypi environment (docs/environments.md): flowc env show prints its lock
    parts.push(el("p", { id: "environment" }, "@pypi environment ", el("code", { text: used.name || "" }),
      ", lock ", el("code", { text: (used.lock || "").slice(0, 12) })));
  }
  if (task.exception) {
    parts.push(el("h2", { text: "Exception" }), el("div", { id: "exception", class: "exception" },
      el("p", {}, el("strong", { text: task.exception.type }), ": ", task.exception.message || ""),
      el("pre", { text: task.exception.traceback || "" })));
  }
  if (task.caught) parts.push(el("p", { class: "muted", text: `@catch caught: ${task.caught}` }));
  if (task.cards.length) {
    parts.push(el("h2", { text: "Cards" }));
    for (const card of task.cards) {
      const title = `${card.type}${card.id ? ` (${card.id})` : ""}${card.status !== "ok" ? ` — ${card.status}: ${card.error || ""}` : ""}`;
      if (!card.file) { parts.push(el("p", { class: "error", text: card.error })); continue; }
      const src = `/api${taskPath(names.step, names.task)}/cards/${card.attempt}/${q(card.file)}`;
      parts.push(el("div", { class: "card" }, el("div", { class: "card-title" }, title, " ", link(src, "open", { target: "_blank", rel: "noopener" })),
        el("iframe", { src, sandbox: "allow-scripts", class: "card-frame", title })));
    }
  }
  parts.push(el("h2", { text: "Artifacts" }));
  const artifactRows = task.artifacts.map((a) => {
    const base = `/api${taskPath(names.step, names.task)}/artifacts/${q(a.name)}`;
    const cell = el("td", { class: "preview" });
    const show = el("button", { text: "preview", onclick: async () => {
      show.disabled = true;
      try {
        const p = await api(`${taskPath(names.step, names.task)}/artifacts/${q(a.name)}/preview`);
        cell.replaceChildren(p.error ? el("span", { class: "error", text: p.error }) : el("pre", { text: (p.shape ? `shape ${JSON.stringify(p.shape)}\n` : "") + p.preview }));
      } catch (e) { cell.replaceChildren(el("span", { class: "error", text: e.message })); }
    } });
    cell.append(show);
    return el("tr", { "data-artifact": a.name }, el("td", { text: a.name }), el("td", { text: a.type || "—" }),
      el("td", { text: bytes(a.size) }), cell, el("td", {}, link(`${base}/download`, "download")));
  });
  parts.push(task.artifacts.length ? table(["name", "type", "size", "preview", ""], artifactRows, { id: "artifacts" }) : el("p", { class: "muted", text: "No artifacts (the task has not succeeded)." }));
  parts.push(el("h2", { text: "Logs" }));
  const logBox = el("pre", { id: "log", class: "log" });
  const attemptPick = el("select", { id: "log-attempt" }, ...task.attempts.map((a) => el("option", { value: a.attempt, text: `attempt ${a.attempt}`, selected: a.attempt === task.attempts.at(-1)?.attempt })));
  const streamPick = el("select", { id: "log-stream" }, el("option", { value: "stdout", text: "stdout" }), el("option", { value: "stderr", text: "stderr" }));
  const loadLog = async () => {
    const data = await api(`${taskPath(names.step, names.task)}/logs/${streamPick.value}?attempt=${attemptPick.value || 0}`);
    logBox.textContent = data.error ? `unreadable log: ${data.error}` : (data.truncated ? "[… earlier output cut]\n" : "") + (data.text || "(empty)");
  };
  attemptPick.onchange = loadLog; streamPick.onchange = loadLog;
  parts.push(el("div", { class: "filters" }, streamPick, attemptPick), logBox);
  main.replaceChildren(...parts);
  await loadLog();
  if (task.status === "running" || task.status === "pending") setTimeout(() => taskPage().catch(fail), POLL_MS);
}

crumbs();
({ flows: flowsPage, runs: runsPage, run: runPage, task: taskPage })[page]().catch(fail);
