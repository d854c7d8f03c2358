// End-to-end test of the edge's UPSTREAMS: `wrangler dev` in front of three storages at
// once, all on 127.0.0.1 — linegate's native server over the v3 API, the same server over
// the v2 API (another database), InfluxDB 1.6.7 (Debian's `influxd`) over the v1 API — and
// a proxy that answers late, for the replays of batches storage already took.
//
//   node tests/worker/upstreams.mjs   (scripts/test-worker.sh builds and sets things up first)
//
// Work files, logs and local KV/R2 state go to target/worker/upstreams (wiped at start).
import http from "node:http";
import assert from "node:assert/strict";
import { harness, freePort, sleep } from "./harness.mjs";
import { basic, check, checksPassed, sender, sqlClient, timed } from "./checks.mjs";

const ADMIN = "upstream-admin-token-upstreams"; // the native server's admin token
const T0 = 1_700_000_000; // seconds
const h = await harness("upstreams", { adminToken: ADMIN });
const { work, server, edge } = h;
const send = sender(edge);
const influxPort = await freePort();
const influx = `http://127.0.0.1:${influxPort}`;
const influxRpc = await freePort();
const influxDir = `${work}/influxdb`;

// A storage that takes a write and answers only after `delay` ms: the edge gives up
// waiting and spools a batch that storage already holds.
const slow = { delay: 0, writes: 0 };
const proxy = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = { ...req.headers };
  delete headers.host;
  delete headers["content-length"];
  const upstream = await fetch(server + req.url, { method: req.method, headers, body: Buffer.concat(chunks) });
  const text = await upstream.text();
  if (req.url.startsWith("/api/v3/write_lp")) slow.writes++;
  await sleep(slow.delay);
  res.writeHead(upstream.status, { "content-type": "application/json" }).end(text);
});
const proxyPort = await freePort();
await new Promise((resolve) => proxy.listen(proxyPort, "127.0.0.1", resolve));

const UPSTREAMS = [
  { name: "local3", url: server, api: "v3", databases: ["edge3", "rep"], token_secret: "LOCAL_TOKEN" },
  { name: "local2", url: server, api: "v2", org: "linegate", databases: ["edge2"], token_secret: "LOCAL_TOKEN" },
  { name: "influx1", url: influx, api: "v1", databases: ["edge1", "rep"] },
  { name: "slow", url: `http://127.0.0.1:${proxyPort}`, api: "v3", databases: ["idem"], token_secret: "LOCAL_TOKEN" },
];
const edgeVars = {
  UPSTREAM_URL: "",
  UPSTREAMS: JSON.stringify(UPSTREAMS),
  LOCAL_TOKEN: ADMIN,
  RETRY_BUDGET_MS: "1000",
  UPSTREAM_TIMEOUT_MS: "2000",
};

const sql = sqlClient(server, ADMIN);
/** InfluxDB 1.6.7's rows for an InfluxQL query, as objects, times in ns. */
async function influxql(db, q) {
  const r = await fetch(`${influx}/query?db=${encodeURIComponent(db)}&epoch=ns&q=${encodeURIComponent(q)}`);
  const json = await r.json();
  assert.equal(r.status, 200, JSON.stringify(json));
  const series = json.results[0].series ?? [];
  return series.flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))));
}
const cron = async () => (await fetch(`${edge}/__scheduled?cron=*+*+*+*+*`)).text();
const nanos = (t) => BigInt(Date.parse(/Z$/.test(t) ? t : t + "Z")) * 1_000_000n + BigInt((t.match(/\.\d{3}(\d+)/)?.[1] ?? "").padEnd(6, "0"));

// ---------------------------------------------------------------- setup
console.log(`native server on ${server}; InfluxDB 1.6.7 on ${influx}; slow proxy on ${proxyPort}; wrangler dev on ${edge}`);
await h.startNative();
let influxd = await h.startInflux(influxDir, influxPort, influxRpc);
const admin = h.addToken("admin");
const scoped = h.addToken('{"read":["edge1","edge3"],"write":["edge1","edge2","edge3"]}');
await h.startEdge(edgeVars);

try {
  // ------------------------------------------------------------ every endpoint and auth form into every storage
  const storages = { edge1: "influx1 (v1)", edge2: "local2 (v2)", edge3: "local3 (v3)" };
  const endpoints = [
    ["v1", (db) => `/write?db=${db}&precision=s`, 1n, [["Basic", (t) => ({ auth: basic(t) })], ["p", (t) => ({ query: `&u=me&p=${t}` })], ["Token", (t) => ({ auth: `Token ${t}` })]]],
    ["v2", (db) => `/api/v2/write?org=o&bucket=${db}&precision=ms`, 1_000n, [["Token", (t) => ({ auth: `Token ${t}` })], ["Bearer", (t) => ({ auth: `Bearer ${t}` })], ["Basic", (t) => ({ auth: basic(t) })]]],
    ["v3", (db) => `/api/v3/write_lp?db=${db}&precision=nanosecond`, 1_000_000_000n, [["Bearer", (t) => ({ auth: `Bearer ${t}` })], ["Token", (t) => ({ auth: `Token ${t}` })], ["Basic", (t) => ({ auth: basic(t) })]]],
  ];
  const written = {}; // db → [{via, host, f, i, s, b, ns}]
  await timed("3 storages × 3 client endpoints × 3 auth forms, plain and gzip, read back from each storage", async () => {
    let n = 0;
    for (const db of Object.keys(storages)) {
      written[db] = [];
      for (const [version, path, unit, forms] of endpoints) {
        for (const [form, make] of forms) {
          const via = `${version}-${form}`;
          const gzip = n % 2 === 1;
          const seconds = BigInt(T0 + 10 * n++);
          const points = [0, 1].map((k) => ({
            via, host: `h${k}`, f: k + 0.25, i: -k - 7, s: `say "hi" ${k}, \\ é`, b: k === 0, ns: (seconds + BigInt(k)) * 1_000_000_000n,
          }));
          const body = points.map((p) =>
            `ep,via=${p.via},host=${p.host} f=${p.f},i=${p.i}i,s="${p.s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}",b=${p.b} ${(p.ns / 1_000_000_000n) * unit}`,
          ).join("\n") + "\n";
          const { query = "", auth } = make(n % 2 ? admin : scoped);
          const r = await send(path(db) + query, { body, auth, gzip });
          check(`${db} ← ${via}${gzip ? " gzip" : ""}`, () => {
            assert.equal(r.status, 204, r.text);
            assert.equal(r.headers.get("x-linegate-spooled"), null);
          });
          written[db].push(...points);
        }
      }
    }
    const sortKey = (p) => `${p.via}/${p.host}`;
    const want = (db) => written[db].map((p) => ({ ...p, ns: p.ns.toString() })).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    for (const db of ["edge2", "edge3"]) {
      const rows = await sql(db, "SELECT * FROM ep");
      const got = rows.map((r) => ({ via: r.via, host: r.host, f: r.f, i: r.i, s: r.s, b: r.b, ns: nanos(r.time).toString() }))
        .sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
      check(`${storages[db]} holds every point, every value exact`, () => assert.deepEqual(got, want(db)));
    }
    const rows = await influxql("edge1", "SELECT * FROM ep");
    const got = rows.map((r) => ({ via: r.via, host: r.host, f: r.f, i: r.i, s: r.s, b: r.b, ns: BigInt(r.time).toString() }))
      .sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    // InfluxDB 1.x answers JSON numbers: nanosecond times beyond 2^53 lose digits in
    // JSON.parse, so compare them to the microsecond (the points are whole seconds).
    const coarse = (list) => list.map((p) => ({ ...p, ns: (BigInt(p.ns) / 1_000_000n).toString() }));
    check(`${storages.edge1} holds every point, every value exact`, () => assert.deepEqual(coarse(got), coarse(want("edge1"))));
    check("InfluxDB 1.6.7 created edge1 on the first write", () => assert.equal(rows.length, 18));
  });

  await timed("queries go to the storage that holds the database", async () => {
    const q = encodeURIComponent("SELECT count(f) FROM ep");
    for (const db of ["edge1", "edge3"]) {
      const r = await send(`/query?db=${db}&q=${q}`, { method: "GET", auth: `Token ${scoped}` });
      check(`/query on ${db} through the edge`, () => {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.results[0].series[0].values[0][1], 18);
      });
    }
    const v3 = await send(`/api/v3/query_sql?db=edge3&q=${encodeURIComponent("SELECT count(*) AS n FROM ep")}`, { method: "GET", auth: `Bearer ${admin}` });
    check("SQL on the v3 storage", () => assert.deepEqual([v3.status, v3.json], [200, [{ n: 18 }]]));
    const none = await send(`/api/v3/query_sql?db=edge1&q=${encodeURIComponent("SELECT 1")}`, { method: "GET", auth: `Bearer ${admin}` });
    check("SQL on a database only a v1 storage takes", () => assert.deepEqual([none.status, none.json],
      [404, { error: 'no upstream that answers /api/v3/query_sql takes database "edge1"' }]));
  });

  await timed("storage refusals and unknown databases, in the client's endpoint shape", async () => {
    const body = `unsigned,k=a u=1u ${T0}\n`;
    const v3 = await send("/api/v2/write?bucket=edge3&precision=s", { body, auth: `Token ${admin}` });
    check("linegate takes unsigned integers", () => assert.equal(v3.status, 204, v3.text));
    const v1 = await send("/api/v2/write?bucket=edge1&precision=s", { body, auth: `Token ${admin}` });
    check("InfluxDB 1.6.7 refuses them: its message in a v2 body", () => assert.deepEqual([v1.status, v1.json],
      [400, { code: "invalid", message: `unable to parse 'unsigned,k=a u=1u ${T0}000000000': invalid number` }]));
    const nowhere = await send("/write?db=nowhere&precision=s", { body, auth: `Token ${admin}` });
    check("a database no upstream takes", () => assert.deepEqual([nowhere.status, nowhere.json],
      [404, { error: 'database not found: no upstream takes database "nowhere"' }]));
  });

  // ------------------------------------------------------------ replication, order
  await timed("replication: one storage down, clients still get 204, the spool replays in order, once", async () => {
    const batch = (i) => `rep,batch=${i} v=${i} ${T0 + i}\nrep,k=same v=${i} ${T0}\n`;
    const write = (i) => send("/write?db=rep&precision=s", { body: batch(i), auth: basic(admin) });
    const first = await write(0);
    check("both storages up", () => assert.deepEqual([first.status, first.headers.get("x-linegate-spooled")], [204, null]));

    await h.stop(influxd);
    const keys = [];
    for (const i of [1, 2, 3]) {
      const r = await write(i);
      check(`InfluxDB down: batch ${i} acknowledged, spooled for it alone`, () => {
        assert.equal(r.status, 204, r.text);
        assert.match(r.headers.get("x-linegate-spooled") ?? "", /^spool\/influx1\/\d{15}-\d{8}-[0-9a-f]{8}$/);
      });
      keys.push(r.headers.get("x-linegate-spooled"));
      const same = await sql("rep", "SELECT v FROM rep WHERE k = 'same'");
      check(`linegate has batch ${i} at once`, () => assert.deepEqual(same.map((r) => r.v), [i]));
    }
    influxd = await h.startInflux(influxDir, influxPort, influxRpc);
    const queued = await write(4);
    check("InfluxDB back, spool not empty: batch 4 queues behind it", () => {
      assert.equal(queued.status, 204, queued.text);
      assert.match(queued.headers.get("x-linegate-spooled") ?? "", /^spool\/influx1\//);
    });
    keys.push(queued.headers.get("x-linegate-spooled"));
    check("spool keys in acknowledgement order", () => assert.deepEqual([...keys].sort(), keys));
    const before = await influxql("rep", "SELECT * FROM rep");
    check("before the replay InfluxDB holds only batch 0", () =>
      assert.deepEqual(before.map((r) => `${r.batch ?? r.k}=${r.v}`).sort(), ["0=0", "same=0"]));

    await cron();
    for (const key of keys) check(`${key} replayed and deleted`, () => assert.equal(h.r2Get(key), null));
    const expected = ["0=0", "1=1", "2=2", "3=3", "4=4", "same=4"];
    const inInflux = await influxql("rep", "SELECT * FROM rep");
    check("InfluxDB: every point once, the last value last", () =>
      assert.deepEqual(inInflux.map((r) => `${r.batch ?? r.k}=${r.v}`).sort(), expected));
    const inLinegate = await sql("rep", "SELECT * FROM rep");
    check("linegate: every point once, the last value last", () =>
      assert.deepEqual(inLinegate.map((r) => `${r.batch ?? r.k}=${r.v}`).sort(), expected));
  });

  await timed("a replay of a batch storage already took does not double it", async () => {
    slow.delay = 3000;
    const body = `idem,k=a v=1.5,s="x" ${T0}\nidem,k=b v=2.5,s="y" ${T0 + 1}\n`;
    const r = await send("/api/v3/write_lp?db=idem&precision=second", { body, auth: `Bearer ${admin}` });
    check("storage too slow to answer: spooled, 204", () => {
      assert.equal(r.status, 204, r.text);
      assert.match(r.headers.get("x-linegate-spooled") ?? "", /^spool\/slow\//);
    });
    const stored = await sql("idem", "SELECT * FROM idem ORDER BY k");
    check("storage took it anyway", () => assert.equal(stored.length, 2));
    slow.delay = 0;
    const writesBefore = slow.writes;
    await cron();
    check("the spooled copy was replayed", () => {
      assert.equal(slow.writes, writesBefore + 1);
      assert.equal(h.r2Get(r.headers.get("x-linegate-spooled")), null);
    });
    const after = await sql("idem", "SELECT * FROM idem ORDER BY k");
    check("and stored once: same points, same values", () => assert.deepEqual(after, stored));
  });

  await timed("a bad UPSTREAMS is a clear error on the first request", async () => {
    await h.stopEdge();
    await h.startEdge({ ...edgeVars, UPSTREAMS: '[{"url":"http://x","api":"v9","databases":["*"]}]' }, { anyAnswer: true });
    const r = await send("/write?db=edge1&precision=s", { body: `m v=1 ${T0}\n`, auth: basic(admin) });
    check("500 naming the problem", () => assert.deepEqual([r.status, r.json],
      [500, { error: 'UPSTREAMS[0]: "api" must be "v1", "v2" or "v3", not "v9"' }]));
  });

  console.log(`\nworker upstreams e2e: all ${checksPassed()} checks passed`);
} catch (e) {
  console.error(`\nworker upstreams e2e FAILED: ${e.stack}`);
  console.error(`logs: ${work}/native.log, ${work}/wrangler.log, ${influxDir}/log`);
  process.exitCode = 1;
} finally {
  proxy.close();
  await h.stopAll();
}
