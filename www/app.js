// The validation page: input editor with inline error marks, results, request builder, Send.
// Validation runs in a module Web Worker (./worker.js) with linegate's wasm core.
import init, { checkRequest } from "./pkg/linegate.js";
import * as S from "./snippets.js";

const $ = (id) => document.getElementById(id);
const el = {
  input: $("input"), gutter: $("gutter"), marks: $("marks"), editor: $("editor"),
  precision: $("precision"), auth: $("auth"), token: $("token"), user: $("user"),
  db: $("db"), rp: $("rp"), bucket: $("bucket"), org: $("org"),
  acceptPartial: $("accept-partial"), noSync: $("no-sync"),
  url: $("url"), bodyFile: $("body-file"), showToken: $("show-token"),
  requestCheck: $("request-check"), verdict: $("verdict"), summary: $("summary"),
  errorsWrap: $("errors-wrap"), errors: $("errors"), errorsMore: $("errors-more"),
  pointsBody: document.querySelector("#points tbody"), morePoints: $("more-points"), pointsNote: $("points-note"),
  schema: $("schema"), conflicts: $("conflicts"), canonical: $("canonical"),
  canonicalNote: $("canonical-note"), progressWrap: $("progress-wrap"), progress: $("progress"),
  progressText: $("progress-text"), caretError: $("caret-error"), source: $("source"),
  viewer: $("viewer"), largeNote: $("large-note"),
  send: $("send"), sendStatus: $("send-status"), sendBody: $("send-body"), toast: $("toast"),
};

const MAX_ERRORS_SHOWN = 500;
const BODY_LIMIT = 10 * 1024 * 1024; // the server's default (raw and decoded)
const SETTINGS_KEY = "linegate.settings";
// Above this size the text is shown in a read-only virtual view instead of the textarea:
// a browser textarea takes seconds to lay out megabytes of text, freezing the page.
const LARGE = 512 * 1024;

const state = {
  id: 0, // latest validate request
  report: null,
  byLine: new Map(), // line number → first error on it
  errorLines: [], // sorted line numbers with errors
  lineHeight: 20,
  charWidth: 8,
  large: false, // the input lives in state.text and the virtual viewer, not the textarea
  text: "",
  starts: null, // large mode: offset of each line's first character
  maxLen: 0, // large mode: longest line, in characters
  viewerLine: 0, // large mode: the line last jumped to
};

const currentText = () => (state.large ? state.text : el.input.value);

// ---------- settings ----------

function config() {
  return {
    endpoint: document.querySelector("input[name=endpoint]:checked").value,
    db: el.db.value.trim(), rp: el.rp.value.trim(), bucket: el.bucket.value.trim(),
    org: el.org.value.trim(), precision: el.precision.value,
    acceptPartial: el.acceptPartial.checked, noSync: el.noSync.checked,
    auth: el.auth.value, user: el.user.value, token: el.token.value,
    url: el.url.value, bodyFile: el.bodyFile.value.trim() || "data.lp",
  };
}

function saveSettings() {
  const c = config();
  delete c.token; // never stored
  try { localStorage.setItem(SETTINGS_KEY, JSON.stringify(c)); } catch { /* private mode */ }
}

function loadSettings() {
  let c = null;
  try { c = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "null"); } catch { /* ignore */ }
  if (!c) {
    // Served by linegate's server on its default port: write back to it.
    if (location.protocol.startsWith("http") && location.port === "8181") el.url.value = location.origin;
    return;
  }
  const radio = document.querySelector(`input[name=endpoint][value="${c.endpoint}"]`);
  if (radio) radio.checked = true;
  for (const k of ["db", "rp", "bucket", "org", "user", "url"]) if (typeof c[k] === "string") el[k].value = c[k];
  if (typeof c.auth === "string") el.auth.value = c.auth;
  el.acceptPartial.checked = c.acceptPartial !== false;
  el.noSync.checked = !!c.noSync;
  fillPrecisions(c.endpoint || "v3", c.precision || "");
}

function fillPrecisions(endpoint, keep) {
  const choices = S.PRECISIONS[endpoint];
  el.precision.replaceChildren(
    new Option(`default (${S.DEFAULT_PRECISION[endpoint]})`, ""),
    ...choices.map((p) => new Option(p, p)),
  );
  // Keep the unit when switching endpoints (s ↔ second).
  const u = keep ? S.unit(keep, endpoint) : "";
  const same = choices.find((p) => p === keep) || choices.find((p) => u && S.unit(p, endpoint) === u);
  el.precision.value = same || "";
}

function showFieldsFor(c) {
  for (const node of document.querySelectorAll("[data-for]")) {
    node.hidden = !node.dataset.for.split(" ").includes(c.endpoint);
  }
  for (const node of document.querySelectorAll("[data-auth]")) {
    node.hidden = !node.dataset.auth.split(" ").includes(c.auth);
  }
  const p = el.auth.querySelector('option[value="p"]');
  p.disabled = c.endpoint !== "v1";
  if (p.disabled && el.auth.value === "p") el.auth.value = "Bearer";
}

// ---------- request check and snippets ----------

let coreReady = false;

function requestParts(c) {
  const query = S.queryString(c);
  return {
    path: S.PATHS[c.endpoint],
    query,
    authorization: c.token || c.auth === "Basic" ? S.authorization(c) : undefined,
    contentEncoding: S.isGzipName(c.bodyFile) ? "gzip" : undefined,
  };
}

function updateRequest() {
  const c = config();
  showFieldsFor(c);
  const cc = config();
  $("snippet-curl").textContent = S.curl(cc, el.showToken.checked);
  $("snippet-telegraf").textContent = S.telegraf(cc);
  $("snippet-python").textContent = S.python(cc);
  $("snippet-js").textContent = S.javascript(cc);
  if (!coreReady) return;
  const parts = requestParts(cc);
  const r = checkRequest(parts.path, parts.query, parts.authorization, undefined);
  state.request = r;
  if (r.ok) {
    const who = r.auth ? `token via ${r.auth === "p" ? "p parameter" : r.auth}` : "no token (fine only if the server runs without auth)";
    el.requestCheck.className = "verdict ok";
    el.requestCheck.textContent = `Request OK: database “${r.database}”, precision ${r.precision}, ` +
      `${r.acceptPartial ? "partial writes accepted" : "all or nothing"}, ${who}.`;
  } else {
    el.requestCheck.className = "verdict bad";
    el.requestCheck.textContent = `The server would answer ${r.status} before reading the body: ${r.message}`;
  }
  renderVerdict();
  saveSettings();
}

// ---------- validation ----------

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let debounce = 0;
let progressTimer = 0;

function scheduleValidate(delay) {
  clearTimeout(debounce);
  const size = currentText().length;
  debounce = setTimeout(startValidate, delay ?? (size > 1e6 ? 300 : 150));
  el.summary.dataset.pending = "1"; // cleared when the newest result is shown
}

function startValidate() {
  debounce = 0;
  const c = config();
  const text = currentText();
  const id = ++state.id;
  state.started = performance.now();
  // The same "now" for every chunk: lines without a timestamp get the time of this run.
  worker.postMessage({
    type: "validate", id, text,
    options: { endpoint: c.endpoint, precision: c.precision || undefined, now: Date.now() * 1e6 },
  });
  // Show progress for anything that takes a moment.
  clearTimeout(progressTimer);
  if (text.length > 256 * 1024) showProgress(0, text.length);
  else progressTimer = setTimeout(() => showProgress(0, text.length), 200);
  el.editor.setAttribute("aria-busy", "true");
}

function showProgress(done, total) {
  el.progressWrap.hidden = false;
  el.progress.max = total || 1;
  el.progress.value = done;
  el.progressText.textContent = `${Math.round((100 * done) / (total || 1))} % of ${formatBytes(total)}`;
}

function hideProgress() {
  clearTimeout(progressTimer);
  el.progressWrap.hidden = true;
  el.editor.removeAttribute("aria-busy");
}

const gunzipWaiters = new Map();
const canonicalWaiters = new Map();

/** The whole canonical text of the latest result (kept by the worker). */
function canonicalText() {
  const r = state.report;
  if (!r) return Promise.resolve("");
  if (r.canonicalPreview.length === r.canonicalLength) return Promise.resolve(r.canonicalPreview);
  return new Promise((resolve) => {
    canonicalWaiters.set(state.id, resolve);
    worker.postMessage({ type: "canonical", id: state.id });
  });
}

worker.onmessage = (event) => {
  const m = event.data;
  if (m.type === "progress" && m.id === state.id) showProgress(m.done, m.total);
  else if (m.type === "result" && m.id === state.id) {
    hideProgress();
    if (!debounce) delete el.summary.dataset.pending;
    if (m.error) {
      el.verdict.className = "verdict bad";
      el.verdict.textContent = m.error;
      return;
    }
    state.report = m.report;
    state.report.wallMs = performance.now() - state.started;
    render();
  } else if (m.type === "canonical") {
    canonicalWaiters.get(m.id)?.(m.text);
    canonicalWaiters.delete(m.id);
  } else if (m.type === "gunzipped") {
    const waiter = gunzipWaiters.get(m.id);
    gunzipWaiters.delete(m.id);
    if (waiter) (m.error ? waiter.reject(new Error(m.error)) : waiter.resolve(m.text));
  } else if (m.type === "fatal") {
    el.verdict.className = "verdict bad";
    el.verdict.textContent = m.message;
  }
};
worker.onerror = (e) => {
  el.verdict.className = "verdict bad";
  el.verdict.textContent = `The validation worker failed: ${e.message || "module workers are needed"}`;
};

// ---------- rendering ----------

const nf = new Intl.NumberFormat("en-US");

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function setSummary(k, v) {
  el.summary.querySelector(`[data-k="${k}"]`).textContent = v;
}

function render() {
  performance.mark("render-start");
  const r = state.report;
  state.byLine = new Map();
  for (const e of r.errors) if (!state.byLine.has(e.line)) state.byLine.set(e.line, e);
  state.errorLines = [...state.byLine.keys()].sort((a, b) => a - b);

  setSummary("lines", nf.format(r.lines));
  setSummary("points", nf.format(r.points));
  setSummary("tables", nf.format(r.tables.length));
  setSummary("fields", nf.format(r.fields));
  setSummary("errors", nf.format(r.errorCount));
  setSummary("conflicts", nf.format(r.conflicts.length));
  setSummary("size", formatBytes(r.bytes));
  // Throughput of the wasm validation (too small an input to time says so).
  setSummary("speed", r.bytes >= 100_000 && r.validateMs > 0
    ? `${(r.bytes / 1e6 / (r.validateMs / 1000)).toFixed(0)} MB/s`
    : r.bytes ? `${Math.max(1, Math.round(r.validateMs))} ms` : "–");
  el.summary.querySelector('[data-k="errors"]').parentElement.classList.toggle("bad", r.errorCount > 0);
  el.summary.querySelector('[data-k="conflicts"]').parentElement.classList.toggle("bad", r.conflicts.length > 0);
  el.summary.dataset.ready = String(state.id);

  renderVerdict();
  renderErrors(r);
  performance.measure("render-head", "render-start");
  renderPoints(r);
  performance.measure("render-points", "render-start");
  renderSchema(r);
  // The worker keeps the whole canonical text; the page shows its start.
  el.canonical.textContent = r.canonicalPreview;
  el.canonicalNote.textContent = r.canonicalPreview.length < r.canonicalLength
    ? `First ${formatBytes(r.canonicalPreview.length)} shown of ${formatBytes(r.canonicalLength)}; Copy and Download take all of it.`
    : "";
  drawEditor();
  updateCaretError();
  performance.measure("render", "render-start");
}

function renderVerdict() {
  const r = state.report;
  const req = state.request;
  if (!r) return;
  const c = config();
  const allOrNothing = c.endpoint !== "v3" || !c.acceptPartial;
  let cls = "ok";
  let text;
  if (r.lines === 0) {
    cls = "";
    text = "No lines yet: an empty body is answered with 400 (no data written).";
  } else if (r.errorCount + r.conflicts.length === 0) {
    text = `All ${nf.format(r.lines)} lines are valid: the server would store ${nf.format(r.points)} points and answer 204.`;
  } else {
    // A line that conflicts with an earlier line's column type is refused by the server too.
    const conflictLines = new Set(r.conflicts.map((c) => c.line));
    const bad = r.errorCount + conflictLines.size;
    const good = Math.max(0, r.points - conflictLines.size);
    const first = Math.min(...r.errors.map((e) => e.line), ...conflictLines);
    const lines = `${nf.format(bad)} bad line${bad > 1 ? "s" : ""}`;
    if (allOrNothing) {
      cls = "bad";
      text = `${lines}: ${S.PATHS[c.endpoint]} rejects the whole request with 400, nothing is stored (the first bad line is line ${first}).`;
    } else {
      cls = "warn";
      text = `${lines}: the server stores the ${nf.format(good)} good point${good === 1 ? "" : "s"} and answers 400 listing the bad lines (accept_partial).`;
    }
    if (conflictLines.size) {
      text += ` ${conflictLines.size} of them conflict with a column type set earlier in the batch (see Schema).`;
    }
  }
  if (r.bytes > BODY_LIMIT) {
    cls = "bad";
    text += ` The body is over 10 MiB: the server's default limit answers 413; split it.`;
  }
  if (req && !req.ok) {
    cls = "bad";
    text += ` But the request itself is refused (${req.status}), see above.`;
  }
  el.verdict.className = `verdict ${cls}`;
  el.verdict.textContent = text;
}

function renderErrors(r) {
  el.errorsWrap.hidden = r.errorCount === 0;
  const frag = document.createDocumentFragment();
  for (const e of r.errors.slice(0, MAX_ERRORS_SHOWN)) {
    const li = document.createElement("li");
    li.dataset.line = e.line;
    li.dataset.column = e.column;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.textContent = `Line ${e.line}, column ${e.column}`;
    b.addEventListener("click", () => jumpTo(e.line, e.column));
    const msg = document.createElement("span");
    msg.className = "message";
    msg.textContent = e.message;
    const code = document.createElement("code");
    code.className = "original";
    code.textContent = e.originalLine;
    li.append(b, ": ", msg, code);
    frag.append(li);
  }
  el.errors.replaceChildren(frag);
  const more = r.errorCount - Math.min(r.errors.length, MAX_ERRORS_SHOWN);
  el.errorsMore.textContent = more > 0 ? `…and ${nf.format(more)} more bad lines.` : "";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  row.append(td);
  return td;
}

const ROWS_STEP = 100; // rows drawn at a time: a long table costs the page a layout

function renderPoints(r) {
  state.rowsShown = 0;
  el.pointsBody.replaceChildren();
  morePoints(r);
}

function morePoints(r = state.report) {
  const frag = document.createDocumentFragment();
  const upto = Math.min(r.rows.length, state.rowsShown + ROWS_STEP);
  for (const p of r.rows.slice(state.rowsShown, upto)) {
    const tr = document.createElement("tr");
    tr.dataset.line = p.line;
    cell(tr, String(p.line), "num");
    cell(tr, p.table);
    const tags = document.createElement("span");
    for (const [k, v] of p.tags) {
      const s = document.createElement("span");
      s.className = "pill";
      s.textContent = `${k}=${v}`;
      tags.append(s);
    }
    cell(tr, tags);
    const fields = document.createElement("span");
    for (const f of p.fields) {
      const s = document.createElement("span");
      s.className = `pill field t-${f.type}`;
      s.textContent = `${f.key}=${f.type === "string" ? JSON.stringify(f.value) : f.value}`;
      const t = document.createElement("small");
      t.textContent = f.type;
      s.append(" ", t);
      fields.append(s);
    }
    cell(tr, fields);
    cell(tr, p.timeRfc3339, "time rfc");
    cell(tr, p.timeNs, "time ns num");
    frag.append(tr);
  }
  el.pointsBody.append(frag);
  state.rowsShown = upto;
  el.morePoints.hidden = upto >= r.rows.length;
  el.pointsNote.textContent = r.points > upto
    ? `The first ${nf.format(upto)} of ${nf.format(r.points)} points, precision ${r.precision}.`
    : `${nf.format(r.points)} points, precision ${r.precision}.`;
}

function renderSchema(r) {
  const frag = document.createDocumentFragment();
  for (const t of r.tables) {
    const box = document.createElement("div");
    box.className = "table-schema";
    box.dataset.table = t.name;
    const h = document.createElement("h4");
    h.textContent = `${t.name} `;
    const n = document.createElement("small");
    n.textContent = `${nf.format(t.rows)} rows`;
    h.append(n);
    const ul = document.createElement("ul");
    for (const tag of t.tags) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="kind">tag</span> `;
      li.append(tag);
      ul.append(li);
    }
    for (const [f, ty] of t.fields) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="kind t-${ty}">${ty}</span> `;
      li.append(f);
      ul.append(li);
    }
    box.append(h, ul);
    frag.append(box);
  }
  el.schema.replaceChildren(frag);
  const cf = document.createDocumentFragment();
  for (const c of r.conflicts) {
    const li = document.createElement("li");
    li.dataset.line = c.line;
    li.textContent = `Line ${c.line}: column “${c.column}” of table “${c.table}” is ${c.expected}, this line writes ${c.found === "tag" ? "a tag" : c.found}.`;
    cf.append(li);
  }
  if (!r.conflicts.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "None.";
    cf.append(li);
  }
  el.conflicts.replaceChildren(cf);
}

// ---------- editor: gutter and error marks (only the visible lines are drawn) ----------

function measure() {
  const cs = getComputedStyle(el.input);
  state.lineHeight = parseFloat(cs.lineHeight) || 20;
  state.padTop = parseFloat(cs.paddingTop) || 0;
  state.padLeft = parseFloat(cs.paddingLeft) || 0;
  const probe = document.createElement("span");
  probe.style.cssText = `font:${cs.font};position:absolute;visibility:hidden;white-space:pre`;
  probe.textContent = "0".repeat(100);
  document.body.append(probe);
  state.charWidth = probe.getBoundingClientRect().width / 100 || 8;
  probe.remove();
}

let lineCount = 1;
function countLines() {
  if (state.large) {
    lineCount = state.starts.length;
    return;
  }
  const t = el.input.value;
  let n = 1;
  for (let i = t.indexOf("\n"); i >= 0; i = t.indexOf("\n", i + 1)) n++;
  lineCount = n;
}

// Byte column (as the core reports it) → character offset within the line.
function charColumn(e) {
  const bytes = new TextEncoder().encode(e.originalLine).slice(0, Math.max(0, e.column - 1));
  return new TextDecoder().decode(bytes).length;
}

let drawQueued = false;
function drawEditor() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    const lh = state.lineHeight;
    const sc = state.large ? el.viewer : el.input;
    const top = sc.scrollTop;
    const first = Math.max(1, Math.floor((top - state.padTop) / lh) + 1);
    const visible = Math.ceil(sc.clientHeight / lh) + 1;
    const last = Math.min(lineCount, first + visible);
    const offset = state.padTop + (first - 1) * lh - top;
    const g = document.createDocumentFragment();
    const m = document.createDocumentFragment();
    for (let n = first; n <= last; n++) {
      const d = document.createElement("div");
      const e = state.byLine.get(n);
      d.textContent = n;
      if (e) {
        d.className = "bad";
        d.title = `${e.message} (column ${e.column})`;
        const bar = document.createElement("div");
        bar.className = "mark";
        bar.dataset.line = n;
        bar.style.top = `${offset + (n - first) * lh}px`;
        const caret = document.createElement("div");
        caret.className = "col";
        caret.style.left = `${state.padLeft + charColumn(e) * state.charWidth - sc.scrollLeft}px`;
        const tip = document.createElement("div");
        tip.className = "tip";
        tip.textContent = `${e.line}:${e.column} ${e.message}`;
        // After the end of the line, so it never covers the text.
        const len = e.originalLine.length + 2;
        tip.style.left = `${state.padLeft + len * state.charWidth - sc.scrollLeft}px`;
        bar.append(caret, tip);
        m.append(bar);
      }
      g.append(d);
    }
    if (state.large) {
      const pre = el.viewer.querySelector(".lines");
      const end = last < state.starts.length ? state.starts[last] : state.text.length;
      pre.textContent = state.text.slice(state.starts[first - 1] ?? 0, end);
      pre.style.top = `${state.padTop + (first - 1) * lh}px`;
    }
    el.gutter.replaceChildren(g);
    el.gutter.style.paddingTop = `${offset}px`;
    el.marks.replaceChildren(m);
  });
}

function lineStart(line) {
  if (state.large) return state.starts[Math.min(line, state.starts.length) - 1] ?? 0;
  const t = el.input.value;
  let pos = 0;
  for (let n = 1; n < line; n++) {
    const i = t.indexOf("\n", pos);
    if (i < 0) break;
    pos = i + 1;
  }
  return pos;
}

function caretLine() {
  if (state.large) return state.viewerLine;
  const t = el.input.value;
  const end = el.input.selectionStart;
  let n = 1;
  for (let i = t.indexOf("\n"); i >= 0 && i < end; i = t.indexOf("\n", i + 1)) n++;
  return n;
}

function jumpTo(line, column) {
  const e = state.byLine.get(line);
  if (state.large) {
    const col = e ? charColumn(e) : Math.max(0, column - 1);
    state.viewerLine = line;
    el.viewer.focus();
    el.viewer.scrollTop = Math.max(0, (line - 1) * state.lineHeight - el.viewer.clientHeight / 2);
    el.viewer.scrollLeft = Math.max(0, col * state.charWidth - el.viewer.clientWidth / 2);
    el.caretError.textContent = e ? `Line ${e.line}, column ${e.column}: ${e.message}` : "";
    drawEditor();
    return;
  }
  const start = lineStart(line);
  const col = e ? charColumn(e) : Math.max(0, column - 1);
  el.input.focus();
  el.input.setSelectionRange(start + col, start + col);
  el.input.scrollTop = Math.max(0, (line - 1) * state.lineHeight - el.input.clientHeight / 2);
  el.input.scrollLeft = Math.max(0, col * state.charWidth - el.input.clientWidth / 2);
  drawEditor();
  updateCaretError();
  performance.measure("render", "render-start");
}

function updateCaretError() {
  if (state.large) return;
  if (!state.errorLines.length || document.activeElement !== el.input) {
    el.caretError.textContent = "";
    return;
  }
  const e = state.byLine.get(caretLine());
  el.caretError.textContent = e ? `Line ${e.line}, column ${e.column}: ${e.message}` : "";
}

function nextError(direction) {
  if (!state.errorLines.length) return;
  const here = caretLine();
  const lines = state.errorLines;
  const target = direction > 0
    ? lines.find((l) => l > here) ?? lines[0]
    : [...lines].reverse().find((l) => l < here) ?? lines[lines.length - 1];
  jumpTo(target, state.byLine.get(target).column);
}

// ---------- input: typing, files, drop ----------

function setText(text, source) {
  el.source.textContent = source || "";
  if (text.length > LARGE) {
    enterLarge(text);
  } else {
    leaveLarge();
    el.input.value = text;
    el.input.scrollTop = 0;
  }
  onInput();
}

function enterLarge(text) {
  state.large = true;
  state.text = text;
  const starts = [0];
  let maxLen = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) {
    maxLen = Math.max(maxLen, i - starts[starts.length - 1]);
    starts.push(i + 1);
  }
  if (starts[starts.length - 1] === text.length && starts.length > 1) starts.pop();
  maxLen = Math.max(maxLen, text.length - starts[starts.length - 1]);
  state.starts = Uint32Array.from(starts);
  state.viewerLine = 0;
  el.input.value = "";
  el.input.hidden = true;
  el.viewer.hidden = false;
  const spacer = el.viewer.querySelector(".spacer");
  spacer.style.height = `${state.starts.length * state.lineHeight + 2 * state.padTop}px`;
  spacer.style.width = `${Math.min(maxLen, 100000) * state.charWidth + 2 * state.padLeft}px`;
  el.viewer.scrollTop = 0;
  el.largeNote.hidden = false;
  el.largeNote.textContent = `Large input (${formatBytes(text.length)}, ${nf.format(state.starts.length)} lines): shown read-only so the page stays fast. Clear it to type again; Send and Download use all of it.`;
}

function leaveLarge() {
  if (!state.large) return;
  state.large = false;
  state.text = "";
  state.starts = null;
  el.viewer.hidden = true;
  el.viewer.querySelector(".lines").textContent = "";
  el.input.hidden = false;
  el.largeNote.hidden = true;
}

function onInput() {
  countLines();
  drawEditor();
  scheduleValidate();
}

async function readFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let text;
  try {
    if (gz) {
      const id = Math.random();
      text = await new Promise((resolve, reject) => {
        gunzipWaiters.set(id, { resolve, reject });
        worker.postMessage({ type: "gunzip", id, bytes: bytes.buffer }, [bytes.buffer]);
      });
    } else {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    }
  } catch (error) {
    toast(`Could not read ${file.name}: ${error.message.replace(/^Error: /, "")}`);
    el.source.textContent = `${file.name}: ${error.message}`;
    return;
  }
  el.bodyFile.value = file.name;
  setText(text, `${file.name} (${formatBytes(file.size)}${gz ? `, gzip → ${formatBytes(text.length)}` : ""})`);
  updateRequest();
}

function toast(message) {
  el.toast.textContent = message;
  el.toast.classList.add("show");
  clearTimeout(toast.t);
  toast.t = setTimeout(() => el.toast.classList.remove("show"), 2500);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement("textarea");
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  toast("Copied");
}

async function download(name, text) {
  let blob = new Blob([text], { type: "text/plain" });
  if (S.isGzipName(name) && "CompressionStream" in self) {
    blob = await new Response(blob.stream().pipeThrough(new CompressionStream("gzip"))).blob();
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ---------- Send ----------

async function send() {
  const c = config();
  const headers = { "Content-Type": "text/plain; charset=utf-8" };
  const auth = c.token || c.auth === "Basic" ? S.authorization(c) : undefined;
  if (auth) headers.Authorization = auth;
  let url;
  try {
    url = new URL(S.requestUrl(c)).href;
  } catch {
    el.sendStatus.textContent = `Not a URL: ${c.url}`;
    return;
  }
  el.send.disabled = true;
  el.sendStatus.textContent = `Sending ${formatBytes(currentText().length)}…`;
  el.sendBody.hidden = true;
  const t0 = performance.now();
  try {
    const response = await fetch(url, { method: "POST", headers, body: currentText(), mode: "cors" });
    const body = await response.text();
    const ms = Math.round(performance.now() - t0);
    el.sendStatus.textContent = `${response.status} ${response.statusText} in ${ms} ms`;
    el.sendStatus.className = response.ok ? "ok" : "bad";
    el.sendStatus.dataset.status = response.status;
    let shown = body;
    try { shown = JSON.stringify(JSON.parse(body), null, 2); } catch { /* not JSON */ }
    el.sendBody.textContent = shown || "(empty body)";
    el.sendBody.hidden = false;
  } catch (error) {
    el.sendStatus.className = "bad";
    el.sendStatus.dataset.status = "0";
    el.sendStatus.textContent = `Could not reach ${c.url}: is the server running, and does it answer CORS? (${error.message})`;
  } finally {
    el.send.disabled = false;
  }
}

// ---------- tabs (WAI-ARIA pattern: arrows, Home, End) ----------

function setupTabs(root) {
  const tabs = [...root.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      const next = tabs[(to + tabs.length) % tabs.length];
      next.focus();
      select(next);
    });
  }
}

// ---------- wiring ----------

const SAMPLE = `# Line protocol: measurement,tag=value field=value timestamp
cpu,host=server01,region=us-west usage_user=12.5,usage_system=3.25,cores=8i 1700000000000000000
cpu,host=server02,region=us-east usage_user=41.75,usage_system=9.5,cores=16i 1700000000000000000
mem,host=server01 used=8123456789u,available_percent=61.3,swap_on=true 1700000001000000000
events,source=deploy message="release \\"1.4\\" rolled out",ok=T 1700000002000000000
cpu,host=server01 usage_user= 1700000003000000000
temperature,room=kitchen celsius=21.5 1700000004000000000 trailing
`;

function wire() {
  measure();
  el.input.addEventListener("input", onInput);
  el.input.addEventListener("scroll", drawEditor, { passive: true });
  el.viewer.addEventListener("scroll", drawEditor, { passive: true });
  el.viewer.addEventListener("keydown", (e) => {
    if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      nextError(e.key === "ArrowDown" ? 1 : -1);
    }
  });
  // A large paste goes to the virtual viewer: a textarea would freeze the page for seconds.
  el.input.addEventListener("paste", (e) => {
    const pasted = e.clipboardData?.getData("text/plain") ?? "";
    const { value, selectionStart: a, selectionEnd: b } = el.input;
    if (value.length - (b - a) + pasted.length <= LARGE) return;
    e.preventDefault();
    el.bodyFile.value = "data.lp";
    setText(value.slice(0, a) + pasted + value.slice(b), "pasted");
    updateRequest();
  });
  for (const ev of ["keyup", "click", "focus"]) el.input.addEventListener(ev, updateCaretError);
  el.input.addEventListener("keydown", (e) => {
    if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      nextError(e.key === "ArrowDown" ? 1 : -1);
    }
  });
  new ResizeObserver(drawEditor).observe(el.input);

  for (const r of document.querySelectorAll("input[name=endpoint]")) {
    r.addEventListener("change", () => {
      fillPrecisions(r.value, el.precision.value);
      updateRequest();
      scheduleValidate(0);
    });
  }
  el.precision.addEventListener("change", () => { updateRequest(); scheduleValidate(0); });
  el.acceptPartial.addEventListener("change", () => { updateRequest(); });
  for (const node of [el.db, el.rp, el.bucket, el.org, el.user, el.token, el.url, el.bodyFile]) {
    node.addEventListener("input", updateRequest);
  }
  for (const node of [el.auth, el.noSync, el.showToken]) node.addEventListener("change", updateRequest);

  $("file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    if (f) readFile(f);
    e.target.value = "";
  });
  el.editor.addEventListener("dragover", (e) => {
    e.preventDefault();
    el.editor.classList.add("dragging");
  });
  el.editor.addEventListener("dragleave", () => el.editor.classList.remove("dragging"));
  el.editor.addEventListener("drop", (e) => {
    e.preventDefault();
    el.editor.classList.remove("dragging");
    const f = e.dataTransfer.files[0];
    if (f) readFile(f);
  });
  $("sample").addEventListener("click", () => { el.bodyFile.value = "data.lp"; setText(SAMPLE, "example"); updateRequest(); });
  $("clear").addEventListener("click", () => { setText("", ""); el.input.focus(); });
  $("copy-canonical").addEventListener("click", async () => copy(await canonicalText()));
  $("download-canonical").addEventListener("click", async () => download("canonical.lp", await canonicalText()));
  $("download-input").addEventListener("click", () => download(config().bodyFile, currentText()));
  for (const b of document.querySelectorAll("[data-copy]")) {
    b.addEventListener("click", () => copy($(b.dataset.copy).textContent));
  }
  el.send.addEventListener("click", send);
  el.morePoints.addEventListener("click", () => morePoints());
  for (const t of document.querySelectorAll("[data-tabs]")) setupTabs(t);
}

loadSettings();
if (!el.precision.options.length) fillPrecisions(config().endpoint, "");
wire();
updateRequest();
init()
  .then(() => {
    coreReady = true;
    document.body.dataset.core = "ready";
    updateRequest();
  })
  .catch((error) => {
    el.requestCheck.className = "verdict bad";
    el.requestCheck.textContent = `Could not load the wasm module (${error.message}). Build it with scripts/build-www.sh.`;
  });
countLines();
scheduleValidate(0);
