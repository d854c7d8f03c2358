// End-to-end test of the edge worker: linegate's native server as storage, `wrangler dev`
// (KV, R2 and cron simulated locally) in front of it, everything on 127.0.0.1.
//
//   node tests/worker/e2e.mjs      (scripts/test-worker.sh builds and sets things up first)
//
// LINEGATE_BIN: the native server binary (default target/debug/linegate).
// Work files, logs and local KV/R2 state go to target/worker/e2e (wiped at start).
import zlib from "node:zlib";
import assert from "node:assert/strict";
import { harness } from "./harness.mjs";
import { basic, check, checksPassed, sender, sqlClient, timed } from "./checks.mjs";

const ADMIN = "upstream-admin-token-e2e"; // the native server's admin token = UPSTREAM_TOKEN
const T0 = 1_700_000_000; // seconds
const h = await harness("e2e", { adminToken: ADMIN });
const { work, bin, server, edge } = h;
const r2Get = h.r2Get;

// ---------------------------------------------------------------- helpers
const send = sender(edge);
const sql = sqlClient(server, ADMIN);
const seconds = (t) => Math.round(Date.parse(/Z$|[+-]\d\d:\d\d$/.test(t) ? t : t + "Z") / 1000);
async function storageRequests() {
  const text = await (await fetch(`${server}/metrics`)).text();
  const counts = {};
  for (const m of text.matchAll(/^linegate_http_requests_total\{path="([^"]*)",status="(\d+)"\} (\d+)/gm)) {
    if (m[1] === "/metrics") continue;
    counts[m[1]] = (counts[m[1]] ?? 0) + Number(m[3]);
  }
  return counts;
}

// ---------------------------------------------------------------- setup
console.log(`native server ${bin} on ${server}; wrangler dev on ${edge}; work dir ${work}`);
await h.startNative();
const tokens = {
  admin: h.addToken("admin"),
  rw: h.addToken('{"read":["edge"],"write":["edge"],"description":"e2e read-write"}'),
  wo: h.addToken('{"write":["edge"]}'),
  ro: h.addToken('{"read":["edge"]}'),
};
const edgeVars = { DEBUG_MEMORY: "1", RETRY_BUDGET_MS: "1500" };
await h.startEdge({ ...edgeVars, UPSTREAM_TOKEN: ADMIN });

try {
  await timed("ping, health, 404, 405", async () => {
    const ping = await send("/ping", { method: "GET" });
    check("ping", () => {
      assert.equal(ping.status, 204);
      assert.match(ping.headers.get("x-influxdb-version"), /linegate/);
    });
    const health = await send("/health", { method: "GET" });
    check("health", () => assert.equal(health.json.status, "pass"));
    const nope = await send("/nope", { method: "GET" });
    check("404", () => assert.deepEqual([nope.status, nope.json], [404, { error: "Not found" }]));
    const get = await send("/write?db=edge", { method: "GET" });
    check("405", () => {
      assert.equal(get.status, 405);
      assert.equal(get.headers.get("allow"), "POST, OPTIONS");
    });
  });

  // ------------------------------------------------------------ every endpoint × auth form × encoding
  const cases = [];
  const forms = {
    v1: [["p", (t) => ({ query: `&u=me&p=${t}` })], ["Token", (t) => ({ auth: `Token ${t}` })],
      ["Bearer", (t) => ({ auth: `Bearer ${t}` })], ["Basic", (t) => ({ auth: basic(t) })]],
    v2: [["Token", (t) => ({ auth: `Token ${t}` })], ["Bearer", (t) => ({ auth: `Bearer ${t}` })],
      ["Basic", (t) => ({ auth: basic(t) })]],
    v3: [["Bearer", (t) => ({ auth: `Bearer ${t}` })], ["Token", (t) => ({ auth: `Token ${t}` })],
      ["Basic", (t) => ({ auth: basic(t) })]],
  };
  const endpoints = {
    v1: { path: "/write?db=edge&precision=s", unit: 1 },
    v2: { path: "/api/v2/write?org=o&bucket=edge&precision=ms", unit: 1000 },
    v3: { path: "/api/v3/write_lp?db=edge", unit: 1e9 }, // default precision auto: ns-sized numbers
  };
  await timed("writes: 3 endpoints × every auth form × plain and gzip, read back from storage", async () => {
    let n = 0;
    for (const [version, list] of Object.entries(forms)) {
      for (const [form, make] of list) {
        for (const gzip of [false, true]) {
          const name = `${version}-${form}-${gzip ? "gzip" : "plain"}`;
          const token = [tokens.admin, tokens.rw, tokens.wo][n % 3];
          const base = T0 + 10 * n++;
          const { unit, path } = endpoints[version];
          const stamp = (s) => (BigInt(s) * BigInt(unit)).toString();
          const body = `# ${name}\n\n` + [0, 1, 2].map((k) =>
            `e2e,case=${name},host=h${k} v=${k + 0.5},n=${k}i ${stamp(base + k)}`).join("\r\n") + "\n";
          const { query = "", auth } = make(token);
          const r = await send(path + query, { body, auth, gzip });
          check(name, () => assert.equal(r.status, 204, r.text));
          cases.push({ name, base });
        }
      }
    }
    // Already canonical (sorted tags, ns, as Telegraf sends): the client's gzip is forwarded.
    {
      const name = "v2-canonical-gzip";
      const base = T0 + 10 * n++;
      const body = [0, 1, 2].map((k) => `e2e,case=${name},host=h${k} n=${k}i,v=${k + 0.5} ${base + k}000000000`).join("\n") + "\n";
      const r = await send("/api/v2/write?bucket=edge", { body, auth: `Token ${tokens.rw}`, gzip: true });
      check(name, () => assert.equal(r.status, 204, r.text));
      cases.push({ name, base });
    }
    const rows = await sql("edge", "SELECT * FROM e2e");
    check("readback count", () => assert.equal(rows.length, cases.length * 3));
    for (const { name, base } of cases) {
      const mine = rows.filter((r) => r.case === name).sort((a, b) => seconds(a.time) - seconds(b.time));
      check(`readback ${name}`, () => {
        assert.equal(mine.length, 3);
        mine.forEach((row, k) => {
          assert.equal(seconds(row.time), base + k);
          assert.equal(row.host, `h${k}`);
          assert.equal(Number(row.v), k + 0.5);
          assert.equal(Number(row.n), k);
        });
      });
    }
  });

  await timed("bad tokens and scopes never reach storage", async () => {
    const before = await storageRequests();
    const body = `denied v=1 ${T0}\n`;
    const expect = [
      ["/write?db=edge&precision=s&u=x&p=wrong", undefined, 401, { error: "the request was not authenticated" }],
      ["/api/v2/write?bucket=edge&precision=s", "Token wrong", 401, { code: "unauthorized", message: "unauthorized access" }],
      ["/api/v3/write_lp?db=edge", `Bearer wrong`, 401, { error: "the request was not authenticated" }],
      ["/api/v3/write_lp?db=edge", undefined, 401, { error: "the request was not authenticated" }],
      ["/write?db=edge&precision=s", basic("wrong"), 401, { error: "the request was not authenticated" }],
      ["/write?db=edge&precision=s", `Token ${tokens.ro}`, 403, { error: "token does not grant write access to database 'edge'" }],
      ["/api/v2/write?bucket=other&precision=s", `Token ${tokens.rw}`, 403, { code: "forbidden", message: "token does not grant write access to database 'other'" }],
      ["/api/v3/write_lp?db=other", `Bearer ${tokens.wo}`, 403, { error: "token does not grant write access to database 'other'" }],
    ];
    for (const [path, auth, status, json] of expect) {
      for (const gzip of [false, true]) {
        const r = await send(path, { body, auth, gzip });
        check(`${path} ${auth}`, () => assert.deepEqual([r.status, r.json], [status, json]));
      }
    }
    const malformed = await send("/api/v3/write_lp?db=edge", { body, auth: "Bearer" });
    check("malformed header", () => assert.equal(malformed.status, 400));
    const q1 = await send(`/api/v3/query_sql?db=edge&q=${encodeURIComponent("SELECT 1")}`, { method: "GET", auth: `Bearer ${tokens.wo}` });
    check("query with write-only token", () => assert.deepEqual([q1.status, q1.json], [403, { error: "token does not grant read access to database 'edge'" }]));
    const q2 = await send(`/query?db=edge&u=x&p=wrong&q=SHOW+MEASUREMENTS`, { method: "GET" });
    check("v1 query with unknown token", () => assert.equal(q2.status, 401));
    for (const [label, path] of [
      ["another database by name", `/query?db=edge&q=${encodeURIComponent("SELECT * FROM other..cpu")}`],
      ["another database by rp", `/query?db=edge&rp=other&q=${encodeURIComponent("SELECT * FROM cpu")}`],
      ["a statement that writes", `/query?db=edge&q=${encodeURIComponent("SELECT * INTO copy FROM cpu")}`],
      ["two db parameters", `/api/v3/query_sql?db=edge&db=other&q=${encodeURIComponent("SELECT 1")}`],
    ]) {
      const r = await send(path, { method: "GET", auth: `Token ${tokens.ro}` });
      check(`scoped query: ${label}`, () => assert.ok([400, 403].includes(r.status), `${r.status} ${r.text}`));
    }
    const after = await storageRequests();
    check("storage request counters unchanged", () => assert.deepEqual(after, before));
  });

  await timed("queries are forwarded after auth", async () => {
    const q = encodeURIComponent("SELECT count(*) AS n FROM e2e");
    const r = await send(`/api/v3/query_sql?db=edge&q=${q}&format=json`, { method: "GET", auth: `Token ${tokens.ro}` });
    check("query_sql through the edge", () => {
      assert.equal(r.status, 200, r.text);
      assert.equal(Number(r.json[0].n), cases.length * 3);
    });
    const post = await fetch(`${edge}/api/v3/query_sql`, {
      method: "POST",
      headers: { Authorization: `Bearer ${tokens.rw}`, "Content-Type": "application/json" },
      body: JSON.stringify({ db: "edge", q: "SELECT count(*) AS n FROM e2e", format: "json" }),
    });
    const postText = await post.text();
    check("query_sql POST through the edge", () => assert.equal(post.status, 200, postText));
    const before = await storageRequests();
    const v1 = await send(`/query?db=edge&u=x&p=${tokens.ro}&q=${encodeURIComponent("SELECT count(v) FROM e2e")}`, { method: "GET" });
    const after = await storageRequests();
    check("v1 /query through the edge", () => {
      assert.ok(![401, 403].includes(v1.status), `${v1.status} ${v1.text}`);
      assert.equal((after["/query"] ?? 0) - (before["/query"] ?? 0), 1);
    });
  });

  await timed("bad line protocol: right error, right line, nothing stored", async () => {
    const before = await storageRequests();
    const v1 = await send("/write?db=edge&precision=s", {
      auth: `Token ${tokens.rw}`,
      body: `# comment\nbadlp,k=a v=1 ${T0}\nbadlp,k=b v= ${T0}\n`,
    });
    check("v1 bad line", () => {
      assert.equal(v1.status, 400);
      assert.equal(v1.json.error, "line protocol parsing error");
      assert.deepEqual(v1.json.data, {
        error_message: "missing value for field 'v'", line_number: 3,
        original_line: `badlp,k=b v= ${T0}`, column: 13,
      });
    });
    const v2 = await send("/api/v2/write?bucket=edge&precision=s", {
      auth: `Token ${tokens.rw}`, gzip: true, body: `badlp v=1 ${T0}\n\nno fields here\n`,
    });
    check("v2 bad line", () => {
      assert.equal(v2.status, 400);
      assert.equal(v2.json.code, "invalid");
      assert.match(v2.json.message, /^write buffer error: line protocol parse failed: line 3, column \d+: /);
    });
    const gz = await send("/write?db=edge", { auth: `Token ${tokens.rw}`, body: "not gzip", headers: { "Content-Encoding": "gzip" } });
    check("bad gzip", () => assert.equal(gz.status, 400));
    const br = await send("/write?db=edge", { auth: `Token ${tokens.rw}`, body: "x v=1", headers: { "Content-Encoding": "br" } });
    check("unsupported encoding", () => assert.equal(br.status, 415));
    const after = await storageRequests();
    check("rejected batches never reach storage", () => assert.deepEqual(after, before));

    const v3 = await send("/api/v3/write_lp?db=edge&precision=second", {
      auth: `Bearer ${tokens.rw}`,
      body: `badlp,k=c v=1 ${T0}\nthis is not line protocol\nbadlp,k=d v=2 ${T0 + 1}\n`,
    });
    check("v3 partial", () => {
      assert.equal(v3.status, 400);
      assert.equal(v3.json.error, "partial write of line protocol occurred");
      assert.equal(v3.json.data.length, 1);
      assert.equal(v3.json.data[0].line_number, 2);
      assert.equal(v3.json.data[0].original_line, "this is not line protocol");
    });
    const rows = await sql("edge", "SELECT * FROM badlp");
    check("v3 partial stored the good lines only", () => assert.deepEqual(rows.map((r) => r.k).sort(), ["c", "d"]));
  });

  await timed("errors found by storage refer to the client's lines", async () => {
    const first = await send("/api/v3/write_lp?db=edge&precision=second", { auth: `Bearer ${tokens.rw}`, body: `conflict,k=a v=1i ${T0}\n` });
    check("first conflict write", () => assert.equal(first.status, 204, first.text));
    // Forwarded as 2 lines (comment and blank dropped, one line rejected at the edge); the
    // storage rejects its line 2, which is the client's line 5.
    const body = `# header\n\nconflict,k=b v=2i ${T0 + 1}\nbroken\nconflict,k=c v="text" ${T0 + 2}\n`;
    const v3 = await send("/api/v3/write_lp?db=edge&precision=second", { auth: `Bearer ${tokens.rw}`, body });
    check("v3 storage-side rejection", () => {
      assert.equal(v3.status, 400, v3.text);
      assert.equal(v3.json.error, "partial write of line protocol occurred");
      assert.deepEqual(v3.json.data.map((d) => d.line_number), [4, 5]);
      assert.equal(v3.json.data[1].original_line, `conflict,k=c v="text" ${T0 + 2}`);
      // The storage's column, moved to where the same text is in the client's line.
      const column = v3.json.data[1].column;
      assert.match(v3.json.data[1].original_line.slice(column - 1), /^(v=)?"text"/);
    });
    const v1 = await send("/write?db=edge&precision=s", {
      auth: `Token ${tokens.rw}`, body: `conflict,k=d v=3i ${T0 + 3}\n\n\nconflict,k=e v=true ${T0 + 4}\n`,
    });
    check("v1 storage-side rejection", () => {
      assert.equal(v1.status, 400, v1.text);
      assert.equal(v1.json.error, "line protocol parsing error");
      assert.equal(v1.json.data.line_number, 4);
      assert.equal(v1.json.data.original_line, `conflict,k=e v=true ${T0 + 4}`);
    });
    const rows = await sql("edge", "SELECT * FROM conflict");
    check("conflict rows", () => assert.deepEqual(rows.map((r) => r.k).sort(), ["a", "b"]));
  });

  let bigLines = 0;
  await timed("limits: 413 for a raw body over the cap and for a 10 MB gzip inflating 20×; a full-size batch passes", async () => {
    const raw = await send("/write?db=edge", { auth: `Token ${tokens.rw}`, body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x61) });
    check("raw over cap", () => assert.deepEqual([raw.status, raw.json], [413, { error: "max request size (10485760 bytes) exceeded" }]));
    // One gzip member of 10 MiB of line protocol, repeated until the body is 10 MB: it
    // inflates more than 20× (to several hundred MB). The decoder must stop at the cap.
    const lines = [];
    let size = 0;
    for (let i = 0; size < 10 * 1024 * 1024; i++) {
      const line = `bomb,region=us-east-1,datacenter=dc-0042,rack=r12,host=server-${i % 50} usage_user=${(i % 20) / 10},usage_system=3i ${T0}${String(i).padStart(9, "0")}\n`;
      lines.push(line);
      size += line.length;
    }
    const text = lines.join("").slice(0, 10 * 1024 * 1024);
    const member = zlib.gzipSync(text, { level: 9 });
    const copies = Math.floor(10_000_000 / member.length);
    const bomb = Buffer.concat(Array(copies).fill(member));
    console.log(`     gzip body ${(bomb.length / 1e6).toFixed(1)} MB inflating to ${(copies * text.length / 1e6).toFixed(0)} MB (${(copies * text.length / bomb.length).toFixed(0)}×)`);
    assert.ok(copies * text.length >= 20 * bomb.length);
    const r = await send("/write?db=edge", { auth: `Token ${tokens.rw}`, body: bomb, headers: { "Content-Encoding": "gzip" } });
    check("gzip bomb", () => assert.deepEqual([r.status, r.json], [413, { error: "max request size (10485760 bytes) exceeded" }]));
    // The biggest accepted batch: just under 10 MiB of line protocol, gzip.
    const fit = text.slice(0, text.lastIndexOf("\n", 10 * 1024 * 1024 - 1) + 1);
    bigLines = fit.split("\n").length - 1;
    const ok = await send("/api/v2/write?bucket=edge", { auth: `Token ${tokens.rw}`, body: fit, gzip: true });
    check("full-size batch", () => assert.equal(ok.status, 204, ok.text));
    const [{ n }] = await sql("edge", "SELECT count(*) AS n FROM bomb");
    check("full-size batch stored", () => assert.equal(Number(n), bigLines));
    const peak = Math.max(...[...h.wrangler.output.matchAll(/wasm memory: (\d+) bytes/g)].map((m) => Number(m[1])));
    console.log(`     ${bigLines} lines stored; wasm linear memory peak ${(peak / 1048576).toFixed(1)} MiB`);
    check("within 128 MB", () => assert.ok(peak < 128 * 1024 * 1024, `${peak}`));
  });

  await timed("storage down: spool to R2, 204; cron replays in order once storage is back", async () => {
    await h.stopNative();
    const batches = [
      ["/write?db=edge&precision=s", `Token ${tokens.rw}`, false],
      ["/api/v2/write?bucket=edge&precision=s", `Bearer ${tokens.wo}`, true],
      ["/api/v3/write_lp?db=edge&precision=second", basic(tokens.admin), false],
    ];
    const keys = [];
    for (const [i, [path, auth, gzip]] of batches.entries()) {
      const body = `spooled,batch=${i} v=${i}.5 ${T0 + 2 * i}\nspooled,batch=${i} v=${i}.75 ${T0 + 2 * i + 1}\n`;
      const r = await send(path, { body, auth, gzip });
      check(`spooled write ${i}`, () => {
        assert.equal(r.status, 204, r.text);
        assert.match(r.headers.get("x-linegate-spooled") ?? "", /^spool\/\d{15}-\d{8}-[0-9a-f]{8}$/);
      });
      keys.push(r.headers.get("x-linegate-spooled"));
    }
    check("keys in arrival order", () => assert.deepEqual([...keys].sort(), keys));
    for (const [i, key] of keys.entries()) {
      const object = r2Get(key);
      check(`R2 has ${key}`, () => {
        assert.ok(object, "object missing");
        assert.equal(zlib.gunzipSync(object).toString(),
          `spooled,batch=${i} v=${i}.5 ${T0 + 2 * i}000000000\nspooled,batch=${i} v=${i}.75 ${T0 + 2 * i + 1}000000000\n`);
      });
    }
    const q = await send(`/api/v3/query_sql?db=edge&q=SELECT+1`, { method: "GET", auth: `Bearer ${tokens.rw}` });
    check("query while storage is down", () => {
      assert.equal(q.status, 503);
      assert.equal(q.headers.get("retry-after"), "10");
    });
    const cron = await fetch(`${edge}/__scheduled?cron=*+*+*+*+*`);
    await cron.text();
    check("cron while storage is down keeps the spool", () => assert.ok(r2Get(keys[0])));

    await h.startNative();
    const cron2 = await fetch(`${edge}/__scheduled?cron=*+*+*+*+*`);
    await cron2.text();
    for (const key of keys) check(`${key} deleted after replay`, () => assert.equal(r2Get(key), null));
    const rows = await sql("edge", "SELECT * FROM spooled");
    check("every spooled point stored exactly once", () => {
      const seen = rows.map((r) => `${r.batch}@${seconds(r.time)}=${Number(r.v)}`).sort();
      const want = [0, 1, 2].flatMap((i) => [`${i}@${T0 + 2 * i}=${i + 0.5}`, `${i}@${T0 + 2 * i + 1}=${i + 0.75}`]).sort();
      assert.deepEqual(seen, want);
    });
    const all = await sql("edge", "SELECT count(*) AS n FROM e2e");
    check("earlier points still stored exactly once", () => assert.equal(Number(all[0].n), cases.length * 3));
  });

  await timed("AUTH_MODE=passthrough: the client's token goes to storage", async () => {
    await h.stopEdge();
    await h.startEdge({ ...edgeVars, AUTH_MODE: "passthrough" });
    const body = (k) => `passthrough,k=${k} v=1 ${T0}\n`;
    for (const [k, path, auth] of [
      ["bearer", "/api/v3/write_lp?db=edge&precision=second", `Bearer ${ADMIN}`],
      ["token", "/api/v2/write?bucket=edge&precision=s", `Token ${ADMIN}`],
      ["p", `/write?db=edge&precision=s&u=x&p=${ADMIN}`, undefined],
    ]) {
      const r = await send(path, { body: body(k), auth });
      check(`passthrough ${k}`, () => assert.equal(r.status, 204, r.text));
    }
    const rows = await sql("edge", "SELECT * FROM passthrough");
    check("passthrough rows", () => assert.deepEqual(rows.map((r) => r.k).sort(), ["bearer", "p", "token"]));
    const before = await storageRequests();
    const denied = await send("/api/v2/write?bucket=edge&precision=s", { body: body("x"), auth: `Token ${tokens.admin}` });
    check("passthrough: storage decides (401 in the endpoint's shape)", () => {
      assert.equal(denied.status, 401, denied.text);
      assert.equal(denied.json.code, "unauthorized");
    });
    const after = await storageRequests();
    check("passthrough: storage was asked", () => assert.ok((after["/api/v3/write_lp"] ?? 0) > (before["/api/v3/write_lp"] ?? 0)));
  });

  console.log(`\nworker e2e: all ${checksPassed()} checks passed`);
} catch (e) {
  console.error(`\nworker e2e FAILED: ${e.stack}`);
  console.error(`logs: ${work}/native.log, ${work}/wrangler.log`);
  process.exitCode = 1;
} finally {
  await h.stopAll();
}
