// Times the wasm core under Node on a line-protocol file, in 10 MB requests (as a browser
// or the worker would see them). Usage: node scripts/bench-wasm.mjs FILE
// WASM_PKG=DIR times another build (default target/wasm-node, from scripts/build-www.sh --node).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const require = createRequire(import.meta.url);
const pkg = resolve(process.env.WASM_PKG || new URL("../target/wasm-node", import.meta.url).pathname);
const { validate } = require(`${pkg}/linegate.js`);

const text = readFileSync(process.argv[2], "utf8");
const chunks = [];
for (let start = 0; start < text.length; ) {
  let end = text.indexOf("\n", Math.min(start + 10_000_000, text.length - 1));
  end = end < 0 ? text.length : end + 1;
  chunks.push(text.slice(start, end));
  start = end;
}
let best = Infinity;
let points = 0;
const runs = Number(process.env.RUNS || 10);
for (let run = 0; run < runs; run++) {
  const started = process.hrtime.bigint();
  points = 0;
  for (const chunk of chunks) points += validate(chunk, { maxRows: 0, now: 0 }).points;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  best = Math.min(best, seconds);
}
const mb = Buffer.byteLength(text) / 1e6;
console.log(`wasm validate: ${points} points, ${mb.toFixed(0)} MB in ${best.toFixed(3)} s (${(mb / best).toFixed(0)} MB/s)`);
