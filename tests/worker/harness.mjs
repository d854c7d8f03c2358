// Processes for the worker's end-to-end test and benchmark: linegate's native server and
// `wrangler dev` (offline, on 127.0.0.1, state in the work directory), started and stopped
// by process group id, and KV tokens / R2 objects through the wrangler CLI.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync, readFileSync, createWriteStream } from "node:fs";
import net from "node:net";

export const root = new URL("../..", import.meta.url).pathname;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** A fresh work directory (wiped) with the native server's admin token file. */
export async function harness(name, { adminToken }) {
  const work = `${root}target/worker/${name}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(`${work}/data`, { recursive: true });
  writeFileSync(`${work}/admin-token`, adminToken + "\n");
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: `${work}/xdg-config`,
    XDG_CACHE_HOME: `${work}/xdg-cache`,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    NO_COLOR: "1",
  };
  const bin = process.env.LINEGATE_BIN ?? `${root}target/debug/linegate`;
  const children = new Set();

  function start(label, cmd, args) {
    const log = createWriteStream(`${work}/${label}.log`, { flags: "a" });
    const child = spawn(cmd, args, { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.output = "";
    const collect = (chunk) => {
      log.write(chunk);
      child.output += chunk.toString();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.exited = new Promise((resolve) => child.on("exit", resolve));
    child.label = label;
    children.add(child);
    return child;
  }
  async function stop(child) {
    if (!child || !children.has(child)) return;
    children.delete(child);
    // This child's process group only (wrangler runs workerd below it).
    try { process.kill(-child.pid, "SIGTERM"); } catch {}
    const done = await Promise.race([child.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) try { process.kill(-child.pid, "SIGKILL"); } catch {}
    await child.exited;
    // The group may outlive its leader (influxd below bash, workerd below wrangler): a
    // stopped storage must take no more requests, so wait until the whole group is gone.
    for (let i = 0; i < 100 && groupAlive(child.pid); i++) await sleep(100);
    try { process.kill(-child.pid, "SIGKILL"); } catch {}
  }
  function groupAlive(pgid) {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  process.on("exit", () => {
    for (const child of children) try { process.kill(-child.pid, "SIGKILL"); } catch {}
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

  /** Until `url` answers (below 500, or anything with `anyAnswer`). */
  async function waitFor(url, child, seconds, { anyAnswer = false } = {}) {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${child.label} exited:\n${child.output.slice(-3000)}`);
      try {
        const r = await fetch(url);
        if (r.status < 500 || anyAnswer) return;
      } catch {}
      await sleep(200);
    }
    throw new Error(`${url} not up after ${seconds}s:\n${child.output.slice(-3000)}`);
  }

  const server = `http://127.0.0.1:${await freePort()}`;
  const edge = `http://127.0.0.1:${await freePort()}`;
  const persist = `${work}/state`;
  const h = {
    work, env, bin, server, edge, persist, start, stop, waitFor,
    native: null,
    wrangler: null,
    async startNative() {
      h.native = start("native", bin, ["serve", "--http-bind", server.slice(7), "--data-dir", `${work}/data`,
        "--admin-token-file", `${work}/admin-token`]);
      await waitFor(`${server}/ping`, h.native, 60);
    },
    async stopNative() {
      await stop(h.native);
    },
    /** wrangler dev with the repository's wrangler.toml and `--var`s (UPSTREAM_URL: the server). */
    async startEdge(vars, { anyAnswer = false } = {}) {
      const inspector = await freePort();
      const args = ["--no-install", "wrangler", "dev", "--ip", "127.0.0.1", "--port", edge.split(":")[2],
        "--inspector-port", String(inspector), "--persist-to", persist, "--test-scheduled",
        "--show-interactive-dev-session=false"];
      for (const [k, v] of Object.entries({ UPSTREAM_URL: server, ...vars })) args.push("--var", `${k}:${v}`);
      h.wrangler = start("wrangler", "npx", args);
      await waitFor(`${edge}/ping`, h.wrangler, 600, { anyAnswer });
    },
    async stopEdge() {
      await stop(h.wrangler);
    },
    /** InfluxDB 1.6.7 (Debian's `influxd`, scripts/influxd.sh) with its data in `dir`; a
     *  restart with the same `dir` keeps the data. */
    async startInflux(dir, httpPort, rpcPort) {
      const script = `source scripts/influxd.sh && start_influxd "$0" "$1" "$2" && wait "$INFLUX"`;
      const child = start("influxd", "bash", ["-c", script, dir, String(httpPort), String(rpcPort)]);
      await waitFor(`http://127.0.0.1:${httpPort}/ping`, child, 120);
      return child;
    },
    async stopAll() {
      for (const child of [...children]) await stop(child);
    },
    wranglerCli(...args) {
      return execFileSync("npx", ["--no-install", "wrangler", ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    },
    /** scripts/add-token.sh into the local KV that wrangler dev uses; the new token. */
    addToken(scope) {
      return execFileSync(`${root}scripts/add-token.sh`, [scope, "--local", "--persist-to", persist],
        { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();
    },
    /** An object of the local SPOOL bucket, or null. */
    r2Get(key) {
      const file = `${work}/r2-object`;
      rmSync(file, { force: true });
      try {
        h.wranglerCli("r2", "object", "get", `linegate-spool/${key}`, "--local", "--persist-to", persist, "--file", file);
        return readFileSync(file);
      } catch {
        return null;
      }
    },
  };
  return h;
}
