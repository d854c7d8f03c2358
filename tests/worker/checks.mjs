// What the worker's end-to-end tests share: named checks, timed steps and an HTTP client
// for the edge (gzip on request, one retry after an early answer closed the connection).
import zlib from "node:zlib";
import assert from "node:assert/strict";
import { sleep } from "./harness.mjs";

let passed = 0;
/** Runs the assertions of `fn`; a failure names the check. */
export function check(label, fn) {
  try {
    fn();
    passed++;
  } catch (e) {
    e.message = `${label}: ${e.message}`;
    throw e;
  }
}
/** How many checks passed so far. */
export const checksPassed = () => passed;

export const timed = async (label, fn) => {
  const started = Date.now();
  await fn();
  console.log(`ok   ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
};

export const basic = (token, user = "user") => "Basic " + Buffer.from(`${user}:${token}`).toString("base64");

export function safeJson(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}

/** A `send(path, options)` for requests to `base`: status, headers, text and parsed JSON. */
export function sender(base) {
  return async function send(path, { body = "", auth, gzip = false, headers = {}, method = "POST" } = {}) {
    const h = { ...headers };
    if (auth) h.Authorization = auth;
    let data = typeof body === "string" ? Buffer.from(body) : body;
    if (gzip) {
      data = zlib.gzipSync(data);
      h["Content-Encoding"] = "gzip";
    }
    const init = { method, headers: h, body: method === "GET" ? undefined : data };
    let r;
    try {
      r = await fetch(base + path, init);
    } catch (e) {
      // After an early answer (413 before the upload finished) the server closes the
      // connection; Node may try to reuse it for the next request. One new attempt.
      if (!(e instanceof TypeError)) throw e;
      await sleep(100);
      r = await fetch(base + path, init);
    }
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, json: text ? safeJson(text) : undefined };
  };
}

/** A `sql(db, q)` that reads rows straight from linegate's server at `server` with `token`. */
export function sqlClient(server, token) {
  return async function sql(db, q) {
    const url = `${server}/api/v3/query_sql?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}&format=json`;
    const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    const text = await r.text();
    assert.equal(r.status, 200, `query ${q}: ${text}`);
    return JSON.parse(text);
  };
}
