// Validation worker: runs linegate's wasm core off the main thread, over large inputs in
// chunks that end on line boundaries, reporting progress after each chunk. A newer request
// supersedes the running one at the next chunk boundary.
import init, { validate, gunzip } from "./pkg/linegate.js";

const CHUNK_CHARS = 512 * 1024; // per validate() call: a few ms, so progress stays smooth
const MAX_ROWS = 1000; // rows shown in the points table
const MAX_ERRORS = 10000; // bad lines listed (all are counted)
const PREVIEW = 64 * 1024; // canonical text sent with the result; the rest on request

let canonical = { id: 0, text: "" }; // of the latest finished run

const ready = init();
let latest = 0; // id of the newest validate request

// Lets queued messages (a newer request) in between chunks.
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    await ready;
  } catch (error) {
    self.postMessage({ type: "fatal", message: `could not load the wasm module: ${error}` });
    return;
  }
  if (msg.type === "validate") {
    latest = msg.id;
    await run(msg);
  } else if (msg.type === "canonical") {
    self.postMessage({ type: "canonical", id: msg.id, text: canonical.id === msg.id ? canonical.text : "" });
  } else if (msg.type === "gunzip") {
    try {
      const text = gunzip(new Uint8Array(msg.bytes));
      self.postMessage({ type: "gunzipped", id: msg.id, text });
    } catch (error) {
      self.postMessage({ type: "gunzipped", id: msg.id, error: String(error.message || error) });
    }
  }
};

async function run({ id, text, options }) {
  const started = performance.now();
  const now = options.now;
  const total = text.length;
  const sum = {
    lines: 0, points: 0, fields: 0, bytes: 0, errorCount: 0, errors: [], rows: [],
    tables: undefined, conflicts: [], canonical: [],
  };
  let line = 1;
  let start = 0;
  let chunks = 0;
  let busy = 0; // ms inside validate()
  while (start < total || chunks === 0) {
    let end = total;
    if (total - start > CHUNK_CHARS) {
      const nl = text.indexOf("\n", start + CHUNK_CHARS);
      end = nl < 0 ? total : nl + 1;
    }
    const chunk = text.slice(start, end);
    const t0 = performance.now();
    let report;
    try {
      report = validate(chunk, {
        endpoint: options.endpoint,
        precision: options.precision,
        now,
        firstLine: line,
        maxRows: Math.max(0, MAX_ROWS - sum.rows.length),
        schema: sum.tables,
        canonical: true,
      });
    } catch (error) {
      self.postMessage({ type: "result", id, error: String(error.message || error) });
      return;
    }
    busy += performance.now() - t0;
    sum.lines += report.lines;
    sum.points += report.points;
    sum.fields += report.fields;
    sum.bytes += report.bytes;
    sum.errorCount += report.errors.length;
    for (const e of report.errors) if (sum.errors.length < MAX_ERRORS) sum.errors.push(e);
    for (const r of report.rows) sum.rows.push(r);
    sum.tables = report.tables;
    for (const c of report.conflicts) sum.conflicts.push(c);
    sum.canonical.push(report.canonical);
    sum.endpoint = report.endpoint;
    sum.precision = report.precision;
    line += countLines(chunk);
    start = end;
    chunks++;
    if (start < total) {
      self.postMessage({ type: "progress", id, done: start, total, errors: sum.errorCount });
      await breathe();
      if (latest !== id) return; // superseded
    }
  }
  const elapsed = performance.now() - started;
  const lp = sum.canonical.join("");
  canonical = { id, text: lp };
  const cut = lp.length > PREVIEW ? lp.lastIndexOf("\n", PREVIEW) + 1 : lp.length;
  self.postMessage({
    type: "result",
    id,
    report: {
      endpoint: sum.endpoint,
      precision: sum.precision,
      lines: sum.lines,
      points: sum.points,
      fields: sum.fields,
      bytes: sum.bytes,
      errorCount: sum.errorCount,
      errors: sum.errors,
      rows: sum.rows,
      tables: sum.tables || [],
      conflicts: sum.conflicts,
      canonicalPreview: lp.slice(0, cut),
      canonicalLength: lp.length,
      chunks,
      elapsedMs: elapsed,
      validateMs: busy,
    },
  });
}

// Physical lines a chunk spans (chunks end right after a newline, except the last).
function countLines(chunk) {
  let n = 0;
  for (let i = chunk.indexOf("\n"); i >= 0; i = chunk.indexOf("\n", i + 1)) n++;
  return n;
}
