// Shared helpers for the page tests: a static server for www/, Chromium via playwright-core,
// the native server, and artifact paths.
import { createServer } from "node:http";
import { readFile, mkdir, writeFile, mkdtemp } from "node:fs/promises";
import { existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../..");
export const WWW = path.join(ROOT, "www");
export const ARTIFACTS = path.join(ROOT, "target", "www-artifacts");
export const LINEGATE_BIN = path.resolve(ROOT, process.env.LINEGATE_BIN || "target/debug/linegate");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json",
  ".svg": "image/svg+xml",
};

/** Serves www/ on 127.0.0.1 (random port) as a plain static site. */
export async function serveStatic() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    let file = path.normalize(path.join(WWW, decodeURIComponent(url.pathname)));
    if (!file.startsWith(WWW)) { res.writeHead(403).end(); return; }
    if (url.pathname.endsWith("/")) file = path.join(file, "index.html");
    try {
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] || "application/octet-stream", "Cache-Control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

/** Headless Debian Chromium with the flags from TOOLCHAIN.md and a fresh profile. */
export async function launch() {
  const userDataDir = await mkdtemp(path.join(tmpdir(), "linegate-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ],
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  return context;
}

/** Opens the page and waits until the wasm core has loaded on the main thread. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.problems = problems;
  await page.goto(url);
  await page.waitForSelector("body[data-core=ready]");
  return page;
}

/** Replaces the editor's text with a real paste (clipboard + Ctrl+V) and waits for its result. */
export async function setInput(page, text) {
  const before = await page.evaluate(() => document.getElementById("summary").dataset.ready || "0");
  await paste(page, text);
  await waitResult(page, before);
}

/** Clears the input, then pastes `text` through the clipboard as a user would. */
export async function paste(page, text) {
  await page.locator("#clear").click();
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.locator("#input").focus();
  await page.keyboard.press("Control+V");
}

/** Waits for a validation result newer than `before` (the summary's data-ready counter). */
export async function waitResult(page, before, timeout = 15000) {
  await page.waitForFunction(
    (b) => {
      const { ready, pending } = document.getElementById("summary").dataset;
      return ready && Number(ready) > Number(b) && !pending && document.getElementById("progress-wrap").hidden;
    },
    before, { timeout },
  );
}

export async function summary(page) {
  return page.evaluate(() => Object.fromEntries(
    [...document.querySelectorAll("#summary dd")].map((d) => [d.dataset.k, d.textContent]),
  ));
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function writeArtifact(name, data) {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(path.join(ARTIFACTS, name), data);
}

export const hasServer = () => existsSync(LINEGATE_BIN);

/** A port the OS says is free now. */
async function freePort() {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `linegate serve` on a free port with an admin token; resolves when /health answers.
 * A port taken between the probe and the bind (another process's connection) is retried. */
export async function startServer() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce();
    } catch (e) {
      if (attempt >= 3 || !String(e.message).includes("Address already in use")) throw e;
    }
  }
}

async function startServerOnce() {
  const dir = await mkdtemp(path.join(tmpdir(), "linegate-www-server-"));
  const token = `apiv3_www_${Math.random().toString(36).slice(2)}`;
  const tokenFile = path.join(dir, "admin-token");
  await writeFile(tokenFile, `${token}\n`);
  const port = await freePort();
  const child = spawn(LINEGATE_BIN, [
    "serve", "--http-bind", `127.0.0.1:${port}`, "--data-dir", path.join(dir, "data"),
    "--admin-token-file", tokenFile,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`linegate serve exited: ${log}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill(); throw new Error(`linegate serve did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, token, dir, log: () => log,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", resolve);
      child.kill("SIGTERM");
    }),
  };
}

/** Rows of a SQL query through the server's /api/v3/query_sql (JSON). */
export async function querySql(server, db, sql) {
  const r = await fetch(`${server.url}/api/v3/query_sql?db=${encodeURIComponent(db)}&q=${encodeURIComponent(sql)}&format=json`,
    { headers: { Authorization: `Bearer ${server.token}` } });
  const body = await r.text();
  if (!r.ok) throw new Error(`query_sql ${r.status}: ${body}`);
  return JSON.parse(body);
}
