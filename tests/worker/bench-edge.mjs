// Latency and throughput of writes through the edge worker (`wrangler dev`, warm isolate):
// first in front of a null upstream (reads the body, answers 204: the edge's own cost), then in
// front of linegate's native server, and straight to the native server for comparison.
//
//   node tests/worker/bench-edge.mjs BATCH.lp     (scripts/bench-worker.sh runs it)
//
// LINEGATE_BIN: the native server (scripts/bench-worker.sh prefers a release build).
// BENCH_SECONDS (default 15) per throughput run; BENCH_CONCURRENCY (default 4) writers.
import { readFileSync } from "node:fs";
import http from "node:http";
import zlib from "node:zlib";
import { harness, freePort } from "./harness.mjs";

const ADMIN = "upstream-admin-token-bench";
const batch = readFileSync(process.argv[2], "utf8");
const lines = batch.split("\n").filter(Boolean).length;
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);

// Distinct copies of the batch (timestamps shifted by 100 s each), plain and gzip.
const variants = Array.from({ length: 40 }, (_, k) => {
  const text = batch.replace(/ (\d{19})$/gm, (_, t) => ` ${BigInt(t) + BigInt(k) * 100_000_000_000n}`);
  return { plain: Buffer.from(text), gzip: zlib.gzipSync(text) };
});

const h = await harness("bench", { adminToken: ADMIN });
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
let n = 0;
async function write(base, auth, gzip) {
  const v = variants[n++ % variants.length];
  const headers = { Authorization: auth };
  if (gzip) headers["Content-Encoding"] = "gzip";
  const r = await fetch(`${base}/api/v2/write?bucket=bench&precision=ns`, { method: "POST", headers, body: gzip ? v.gzip : v.plain });
  const text = await r.text();
  if (r.status !== 204) throw new Error(`${r.status} ${text}`);
}
async function latency(label, base, auth, gzip, runs = 50) {
  for (let i = 0; i < 10; i++) await write(base, auth, gzip); // warm up
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await write(base, auth, gzip);
    ms.push(performance.now() - t);
  }
  console.log(`latency ${label}: median ${percentile(ms, 0.5).toFixed(1)} ms, p90 ${percentile(ms, 0.9).toFixed(1)} ms, min ${Math.min(...ms).toFixed(1)} ms (${runs} sequential ${lines}-line batches)`);
}
async function throughput(label, base, auth, gzip) {
  const end = performance.now() + seconds * 1000;
  let batches = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await write(base, auth, gzip);
      batches++;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  console.log(`throughput ${label}: ${Math.round((batches * lines) / elapsed).toLocaleString("en")} lines/s (${batches} batches of ${lines} lines in ${elapsed.toFixed(1)} s, ${concurrency} writers)`);
}

// The null upstream: reads the request, answers 204.
const sinkPort = await freePort();
const sink = http.createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(204);
    res.end();
  });
});
await new Promise((resolve) => sink.listen(sinkPort, "127.0.0.1", resolve));

try {
  console.log(`native server ${h.bin}; batch ${process.argv[2]}: ${lines} lines, ${variants[0].plain.length} bytes (${variants[0].gzip.length} gzip)`);
  await h.startNative();
  const token = h.addToken('{"write":["bench"]}');
  const edgeAuth = `Token ${token}`;
  const nativeAuth = `Token ${ADMIN}`;

  await h.startEdge({ UPSTREAM_TOKEN: ADMIN, UPSTREAM_URL: `http://127.0.0.1:${sinkPort}` });
  await latency("edge → null upstream, plain body", h.edge, edgeAuth, false);
  await latency("edge → null upstream, gzip body", h.edge, edgeAuth, true);
  await throughput("edge → null upstream, gzip body", h.edge, edgeAuth, true);
  await h.stopEdge();

  await h.startEdge({ UPSTREAM_TOKEN: ADMIN });
  await latency("edge → native server, plain body", h.edge, edgeAuth, false);
  await latency("edge → native server, gzip body", h.edge, edgeAuth, true);
  await latency("native server direct, plain body", h.server, nativeAuth, false);
  await latency("native server direct, gzip body", h.server, nativeAuth, true);
  await throughput("edge → native server, gzip body", h.edge, edgeAuth, true);
  await throughput("native server direct, gzip body", h.server, nativeAuth, true);
} finally {
  sink.close();
  await h.stopAll();
}
