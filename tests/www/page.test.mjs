// Playwright (playwright-core) tests of the validation page in www/, in Debian's headless
// Chromium, against the page served on 127.0.0.1 and linegate's native server.
// Run: scripts/test-www.sh (or `npm test` in tests/www once www/pkg is built).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { promisify } from "node:util";
import {
  serveStatic, launch, openPage, setInput, paste, waitResult, summary, screenshot,
  hasServer, startServer, querySql, LINEGATE_BIN,
} from "./helpers.mjs";

const run = promisify(execFile);
const REQUIRE_SERVER = process.env.LINEGATE_REQUIRE_SERVER === "1";
let site;
let context;
let server; // the native server, when its binary supports `serve`

before(async () => {
  site = await serveStatic();
  context = await launch();
  if (hasServer()) {
    try {
      server = await startServer();
    } catch (error) {
      if (REQUIRE_SERVER) throw error;
      console.log(`# native server unavailable (${LINEGATE_BIN}): ${error.message.split("\n")[0]}`);
    }
  } else if (REQUIRE_SERVER) {
    throw new Error(`${LINEGATE_BIN} not found: build the native server first`);
  }
});

after(async () => {
  await context?.close();
  await site?.close();
  await server?.stop();
});

const noServer = () => (server ? false : "the native server is not available (set LINEGATE_REQUIRE_SERVER=1 to fail instead)");

async function page() {
  return openPage(context, site.url);
}

async function choose(p, { endpoint, precision, auth, token, db, bucket, url, showToken } = {}) {
  const before = await p.evaluate(() => document.getElementById("summary").dataset.ready || "0");
  let revalidate = false;
  if (endpoint) {
    const radio = p.locator(`input[name=endpoint][value=${endpoint}]`);
    if (!(await radio.isChecked())) { await radio.check(); revalidate = true; }
  }
  if (precision !== undefined) {
    if ((await p.locator("#precision").inputValue()) !== precision) {
      await p.locator("#precision").selectOption(precision);
      revalidate = true;
    }
  }
  if (auth) await p.locator("#auth").selectOption(auth);
  if (token !== undefined) await p.locator("#token").fill(token);
  if (db !== undefined) await p.locator("#db").fill(db);
  if (bucket !== undefined) await p.locator("#bucket").fill(bucket);
  if (url !== undefined) await p.locator("#url").fill(url);
  if (showToken !== undefined) await p.locator("#show-token").setChecked(showToken);
  if (revalidate) await waitResult(p, before);
}

const VALID = `# two tables, a comment and a blank line
cpu,host=server01,region=us-west usage_user=12.5,usage_system=3i 1700000000

cpu,host=server02,region=us-east usage_user=41.75,usage_system=9i 1700000001
mem,host=server01 used=8123456789u,ok=true,note="all \\"good\\"" 1700000002
`;

test("valid input: zero errors, right counts, points, schema and canonical text", async () => {
  const p = await page();
  await choose(p, { endpoint: "v1", precision: "s" });
  await setInput(p, VALID);
  assert.deepEqual(await summary(p), {
    lines: "3", points: "3", tables: "2", fields: "7", errors: "0", conflicts: "0",
    size: `${Buffer.byteLength(VALID)} B`, speed: (await summary(p)).speed,
  });
  assert.match(await p.locator("#verdict").textContent(), /All 3 lines are valid.*3 points.*204/);
  assert.equal(await p.locator("#errors-wrap").isHidden(), true);
  assert.equal(await p.locator(".mark").count(), 0);
  // Points table: line numbers count the comment and the blank line.
  const rows = await p.locator("#points tbody tr").evaluateAll((trs) => trs.map((tr) =>
    [...tr.children].map((td) => td.textContent)));
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], ["2", "cpu", "host=server01region=us-west", "usage_user=12.5 floatusage_system=3 integer",
    "2023-11-14T22:13:20Z", "1700000000000000000"]);
  assert.equal(rows[1][0], "4");
  assert.deepEqual(rows[2].slice(0, 4), ["5", "mem", "host=server01",
    'used=8123456789 unsignedok=true booleannote="all \\"good\\"" string']);
  // Schema per table.
  await p.locator("#tab-schema").click();
  const schema = await p.locator("#schema .table-schema").evaluateAll((ts) => ts.map((t) => t.innerText.replace(/\s+/g, " ").trim()));
  assert.deepEqual(schema, [
    "cpu 2 rows tag host tag region float usage_user integer usage_system",
    "mem 1 rows tag host unsigned used boolean ok string note",
  ]);
  assert.equal(await p.locator("#conflicts li").textContent(), "None.");
  // Canonical line protocol: tags sorted, nanosecond timestamps; Copy puts it on the clipboard.
  await p.locator("#tab-canonical").click();
  const canonical = await p.locator("#canonical").textContent();
  assert.equal(canonical, [
    "cpu,host=server01,region=us-west usage_user=12.5,usage_system=3i 1700000000000000000",
    "cpu,host=server02,region=us-east usage_user=41.75,usage_system=9i 1700000001000000000",
    'mem,host=server01 used=8123456789u,ok=true,note="all \\"good\\"" 1700000002000000000',
    "",
  ].join("\n"));
  await p.locator("#copy-canonical").click();
  await p.waitForFunction(() => document.getElementById("toast").classList.contains("show"));
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), canonical);
  await screenshot(p, "01-valid");
  assert.deepEqual(p.problems, []);
  await p.close();
});

// Each kind of bad line, with the line and byte column the core reports (checked by hand).
const BAD = [
  ["cpu,host=a usage=0.5 1700000000", 0, 0, null],
  ["cpu,host=a usage= 1700000000", 2, 18, "missing value for field 'usage'"],
  ["cpu,host=a usage=abc 1700000000", 3, 18, "invalid value 'abc' for field 'usage'"],
  ["cpu,host=a 1700000000", 4, 12, "field key '1700000000' must be followed by '='"],
  ['cpu,host=a msg="open 1700000000', 5, 16, "string value of field 'msg' has no closing '\"'"],
  ["cpu,host=a usage=1 17000x0000", 6, 20, "invalid timestamp '17000x0000'"],
  ["cpu,host=a usage=1 1700000000 extra", 7, 31, "unexpected content after the timestamp: 'extra'"],
  ["cpu,host=a usage=1,usage=2 1700000000", 8, 20, "field 'usage' appears more than once in the line"],
  ["cpu,host=a,host=b usage=1 1700000000", 9, 12, "duplicate tags: tag 'host' appears more than once"],
  ["cpu,host= usage=1 1700000000", 10, 10, "missing value for tag 'host'"],
  ["cpu,host=a big=9223372036854775808i 1700000000", 11, 16, "integer '9223372036854775808i' for field 'big' is out of range"],
  ["cpu,host=a\tusage=1 1700000000", 12, 11, "tab found where a space is required"],
  ["cpu,host=a time=1 1700000000", 13, 12, "'time' is a reserved column name"],
  [",host=a usage=1 1700000000", 14, 1, "missing measurement"],
  ["cpu,host=a usage=1i 1700000001", 0, 0, null], // a schema conflict, not a parse error
];

test("each kind of bad line shows its message at the right line and column", async () => {
  const p = await page();
  await choose(p, { endpoint: "v3", precision: "second" });
  await setInput(p, BAD.map(([l]) => l).join("\n") + "\n");
  const s = await summary(p);
  assert.equal(s.lines, "15");
  assert.equal(s.points, "2");
  assert.equal(s.errors, "13");
  assert.equal(s.conflicts, "1");
  // The conflicting line 15 is refused by the server as well: one good point is stored.
  assert.match(await p.locator("#verdict").textContent(), /14 bad lines: the server stores the 1 good point and answers 400 .* 1 of them conflict with a column type/);
  const listed = await p.locator("#errors li").evaluateAll((lis) => lis.map((li) => ({
    line: Number(li.dataset.line), column: Number(li.dataset.column), text: li.textContent,
  })));
  const expected = BAD.filter(([, line]) => line);
  assert.equal(listed.length, expected.length);
  for (const [i, [source, line, column, message]] of expected.entries()) {
    assert.equal(listed[i].line, line, source);
    assert.equal(listed[i].column, column, source);
    assert.ok(listed[i].text.startsWith(`Line ${line}, column ${column}: ${message}`), `${listed[i].text} ≠ ${message}`);
  }
  // In the editor: each visible bad line is highlighted, with the column marked and the message.
  const marks = await p.locator("#marks .mark").evaluateAll((ms) => ms.map((m) => ({
    line: Number(m.dataset.line), tip: m.querySelector(".tip").textContent,
    col: parseFloat(m.querySelector(".col").style.left),
  })));
  assert.deepEqual(marks.map((m) => m.line), expected.map(([, l]) => l));
  for (const [i, [, line, column, message]] of expected.entries()) {
    assert.ok(marks[i].tip.startsWith(`${line}:${column} ${message}`), marks[i].tip);
  }
  // The column marker sits further right for a later column (line 7: col 31 vs line 14: col 1).
  assert.ok(marks.find((m) => m.line === 7).col > marks.find((m) => m.line === 14).col + 200);
  const gutterBad = await p.locator("#gutter .bad").evaluateAll((ds) => ds.map((d) => Number(d.textContent)));
  assert.deepEqual(gutterBad, expected.map(([, l]) => l));
  // Clicking an error puts the caret there and names the error under the editor.
  await p.locator('#errors li[data-line="7"] button').click();
  assert.equal(await p.evaluate(() => {
    const t = document.getElementById("input");
    const before = t.value.slice(0, t.selectionStart);
    return `${before.split("\n").length}:${before.length - before.lastIndexOf("\n")}`;
  }), "7:31");
  assert.match(await p.locator("#caret-error").textContent(), /^Line 7, column 31: unexpected content/);
  // Keyboard: Alt+↓ goes to the next bad line.
  await p.keyboard.press("Alt+ArrowDown");
  assert.match(await p.locator("#caret-error").textContent(), /^Line 8, column 20: field 'usage'/);
  // The schema conflict inside the batch.
  await p.locator("#tab-schema").click();
  assert.equal(await p.locator("#conflicts li").textContent(),
    "Line 15: column “usage” of table “cpu” is float, this line writes integer.");
  await screenshot(p, "02-bad-lines");
  // v1 is all-or-nothing: the same input is rejected whole.
  await choose(p, { endpoint: "v1" });
  assert.match(await p.locator("#verdict").textContent(), /14 bad lines: \/write rejects the whole request with 400, nothing is stored \(the first bad line is line 2\)/);
  assert.deepEqual(p.problems, []);
  await p.close();
});

test("switching precision changes the shown timestamps", async () => {
  const p = await page();
  await choose(p, { endpoint: "v1", precision: "" });
  await setInput(p, "m v=1 1700000000123\nm v=2\n");
  const times = () => p.locator("#points tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [tr.querySelector(".rfc").textContent, tr.querySelector(".ns").textContent]));
  assert.deepEqual((await times())[0], ["1970-01-01T00:28:20.000000123Z", "1700000000123"]);
  await choose(p, { precision: "ms" });
  assert.deepEqual((await times())[0], ["2023-11-14T22:13:20.123Z", "1700000000123000000"]);
  await choose(p, { precision: "us" });
  assert.deepEqual((await times())[0], ["1970-01-20T16:13:20.000123Z", "1700000000123000"]);
  // A line without a timestamp gets the time of validation, truncated to the precision.
  const [, second] = await times();
  assert.ok(Math.abs(Number(second[1]) / 1e6 - Date.now()) < 60_000, second[1]);
  assert.equal(BigInt(second[1]) % 1000n, 0n);
  // v3 auto: 13 digits are milliseconds.
  await choose(p, { endpoint: "v3", precision: "auto" });
  assert.deepEqual((await times())[0], ["2023-11-14T22:13:20.123Z", "1700000000123000000"]);
  await choose(p, { precision: "second" });
  assert.equal(await summary(p).then((s) => s.errors), "1"); // 1700000000123 s does not fit in ns
  assert.match(await p.locator("#errors li").first().textContent(), /out of range for precision/);
  await screenshot(p, "03-precision");
  assert.deepEqual(p.problems, []);
  await p.close();
});

test("a .lp.gz file upload is decoded by the wasm core", async () => {
  const p = await page();
  await choose(p, { endpoint: "v2", precision: "s" });
  const lines = [];
  for (let i = 0; i < 2000; i++) lines.push(`gz,host=h${i % 10} v=${i}i ${1700000000 + i}`);
  const dir = await mkdtemp(path.join(tmpdir(), "linegate-www-gz-"));
  const file = path.join(dir, "metrics.lp.gz");
  await writeFile(file, gzipSync(lines.join("\n") + "\n"));
  let before = await p.evaluate(() => document.getElementById("summary").dataset.ready || "0");
  await p.locator("#file").setInputFiles(file);
  await waitResult(p, before);
  const s = await summary(p);
  assert.equal(s.lines, "2,000");
  assert.equal(s.points, "2,000");
  assert.equal(s.errors, "0");
  assert.match(await p.locator("#source").textContent(), /^metrics\.lp\.gz \(.*, gzip → /);
  assert.equal(await p.locator("#body-file").inputValue(), "metrics.lp.gz");
  assert.match(await p.locator("#snippet-curl").textContent(), /-H 'Content-Encoding: gzip' \\\n {2}--data-binary '@metrics\.lp\.gz'/);
  assert.equal(await p.locator("#input").inputValue(), lines.join("\n") + "\n");
  await screenshot(p, "04-gzip-upload");
  // A broken gzip file is reported, not loaded.
  const broken = path.join(dir, "broken.lp.gz");
  await writeFile(broken, gzipSync("m v=1\n").subarray(0, 15));
  await p.locator("#file").setInputFiles(broken);
  await p.waitForFunction(() => document.getElementById("source").textContent.startsWith("broken.lp.gz:"));
  assert.equal(await summary(p).then((x) => x.points), "2,000");
  await p.close();
});

test("a 10 MB paste stays responsive: progress shown, result within seconds", async () => {
  const p = await page();
  await choose(p, { endpoint: "v3", precision: "" });
  const lines = [];
  let size = 0;
  for (let i = 0; size < 10_000_000; i++) {
    const l = `cpu,host=server${i % 100},region=us-west-${i % 7} usage_user=${(i % 1000) / 10},usage_system=${i % 13}i,ok=true ${1700000000000000000 + i * 1000000000}`;
    lines.push(l);
    size += l.length + 1;
  }
  lines[77777] = "cpu,host=a usage_user= 1";
  const text = lines.join("\n") + "\n";
  await p.locator("#clear").click();
  await p.evaluate((t) => navigator.clipboard.writeText(t), text);
  await p.locator("#input").focus();
  await p.evaluate(() => {
    // Frame gaps and progress values seen while the paste is validated.
    window.gaps = [];
    window.progress = [];
    let last = performance.now();
    const tick = () => {
      const now = performance.now();
      window.gaps.push(now - last);
      last = now;
      const wrap = document.getElementById("progress-wrap");
      const bar = document.getElementById("progress");
      if (!wrap.hidden) window.progress.push(bar.value / bar.max);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const before = await p.evaluate(() => document.getElementById("summary").dataset.ready || "0");
  const started = Date.now();
  await p.keyboard.press("Control+V");
  await waitResult(p, before, 30_000);
  const seconds = (Date.now() - started) / 1000;
  const { gaps, progress } = await p.evaluate(() => ({ gaps: window.gaps, progress: window.progress }));
  const worst = Math.max(...gaps);
  console.log(`# 10 MB paste: result after ${seconds.toFixed(2)} s, worst frame gap ${worst.toFixed(0)} ms, ${progress.length} progress frames`);
  assert.ok(seconds < 8, `result after ${seconds} s`);
  assert.ok(progress.some((v) => v > 0 && v < 1), `progress seen: ${progress.slice(0, 10)}`);
  assert.ok(worst < 1000, `the page froze for ${worst} ms`);
  const s = await summary(p);
  assert.equal(s.lines, new Intl.NumberFormat("en-US").format(lines.length));
  assert.equal(s.errors, "1");
  assert.match(await p.locator("#errors li").first().textContent(), /^Line 77778, column 23: missing value for field 'usage_user'/);
  assert.match(await p.locator("#large-note").textContent(), /^Large input \(9\.5\d MiB/);
  // Jumping to the bad line scrolls the virtual view there.
  await p.locator("#errors li button").first().click();
  await p.waitForSelector('#marks .mark[data-line="77778"]');
  assert.match(await p.locator("#viewer .lines").textContent(), /cpu,host=a usage_user= 1/);
  await screenshot(p, "05-10mb-paste");
  // Clearing leaves the large mode: the editor takes typing again.
  await p.locator("#clear").click();
  assert.equal(await p.locator("#input").isVisible(), true);
  assert.deepEqual(p.problems, []);
  await p.close();
});

test("narrow window, labels and keyboard", async () => {
  const p = await page();
  await p.setViewportSize({ width: 360, height: 800 });
  await p.locator("#sample").click();
  await p.waitForFunction(() => Number(document.getElementById("summary").dataset.ready) > 1);
  // Nothing overflows the window sideways.
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`);
  // Every form control has an accessible name.
  const unnamed = await p.evaluate(() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter((n) => !(n.labels?.length || n.getAttribute("aria-label") || n.textContent.trim()))
    .map((n) => n.id || n.outerHTML));
  assert.deepEqual(unnamed, []);
  // Tabs follow the ARIA pattern: arrow keys move between them.
  await p.locator("#tab-points").focus();
  await p.keyboard.press("ArrowRight");
  assert.equal(await p.locator("#tab-schema").getAttribute("aria-selected"), "true");
  assert.equal(await p.locator("#panel-schema").isVisible(), true);
  await p.keyboard.press("End");
  assert.equal(await p.locator("#tab-canonical").getAttribute("aria-selected"), "true");
  await screenshot(p, "06-narrow");
  assert.deepEqual(p.problems, []);
  await p.close();
});

test("the request check and snippets follow the endpoint, parameters and auth", async () => {
  const p = await page();
  await choose(p, { endpoint: "v2", bucket: "" });
  assert.match(await p.locator("#request-check").textContent(), /^The server would answer 400 before reading the body: .*bucket/);
  await choose(p, { bucket: "telegraf/autogen", auth: "Token", token: "secret-token-1" });
  assert.match(await p.locator("#request-check").textContent(), /^Request OK: database “telegraf”/);
  const curl = await p.locator("#snippet-curl").textContent();
  assert.ok(!curl.includes("secret-token-1") && curl.includes("Authorization: Token ••••••••"), curl);
  await p.locator("#tab-telegraf").click();
  const telegraf = await p.locator("#snippet-telegraf").textContent();
  assert.match(telegraf, /^\[\[outputs\.influxdb_v2\]\]\n {2}urls = \["http:\/\/127\.0\.0\.1:8181"\]/);
  assert.match(telegraf, /bucket = "telegraf\/autogen"/);
  await choose(p, { endpoint: "v1", db: "db1", auth: "p", token: "pw" });
  assert.match(await p.locator("#snippet-telegraf").textContent(), /^\[\[outputs\.influxdb\]\]/);
  assert.match(await p.locator("#snippet-curl").textContent(), /write\?db=db1&u=linegate&p=•+'/);
  assert.match(await p.locator("#snippet-python").textContent(), /from influxdb import InfluxDBClient/);
  await choose(p, { endpoint: "v3", db: "db1", auth: "Bearer", token: "t" });
  assert.equal(await p.locator("#auth").inputValue(), "Bearer");
  assert.match(await p.locator("#snippet-telegraf").textContent(), /\[\[outputs\.http\]\]\n {2}url = "http:\/\/127\.0\.0\.1:8181\/api\/v3\/write_lp\?db=db1&precision=nanosecond"/);
  assert.match(await p.locator("#snippet-python").textContent(), /from influxdb_client_3 import InfluxDBClient3/);
  assert.match(await p.locator("#snippet-js").textContent(), /await fetch\("http:\/\/127\.0\.0\.1:8181\/api\/v3\/write_lp\?db=db1"/);
  await p.locator("#tab-python").click();
  await screenshot(p, "07-snippets");
  assert.deepEqual(p.problems, []);
  await p.close();
});

const SERVER_DATA = "cpu,host=a usage=1.5 1700000000\ncpu,host=b usage=2.5 1700000001\n";

// `skip` options are read when the file loads, before `before` starts the server, so these
// two tests decide at run time.
test("the curl command, run against the native server, returns 204", async (t) => {
  if (noServer()) return t.skip(noServer());
  const p = await page();
  const dir = await mkdtemp(path.join(tmpdir(), "linegate-www-curl-"));
  await writeFile(path.join(dir, "data.lp"), SERVER_DATA);
  const cases = [
    { endpoint: "v1", precision: "s", auth: "Token", db: "www_curl_v1" },
    { endpoint: "v1", precision: "s", auth: "p", db: "www_curl_p" },
    { endpoint: "v2", precision: "s", auth: "Token", bucket: "www_curl_v2" },
    { endpoint: "v3", precision: "second", auth: "Bearer", db: "www_curl_v3" },
    { endpoint: "v3", precision: "auto", auth: "Basic", db: "www_curl_basic" },
  ];
  await setInput(p, SERVER_DATA);
  for (const c of cases) {
    await choose(p, { ...c, url: server.url, token: server.token, showToken: false });
    const masked = await p.locator("#snippet-curl").textContent();
    assert.ok(!masked.includes(server.token), masked);
    await choose(p, { showToken: true });
    const command = await p.locator("#snippet-curl").textContent();
    assert.ok(command.startsWith(`curl -i '${server.url}`), command);
    const { stdout } = await run("bash", ["-c", command], { cwd: dir });
    assert.match(stdout, /^HTTP\/1\.1 204/, `${command}\n${stdout}`);
    const db = c.db || c.bucket;
    const rows = await querySql(server, db, "SELECT host, usage, time FROM cpu ORDER BY time");
    assert.deepEqual(rows.map((r) => [r.host, r.usage]), [["a", 1.5], ["b", 2.5]], db);
    assert.match(rows[0].time, /^2023-11-14T22:13:20/);
  }
  await p.close();
});

test("Send writes to the native server and the points can be read back", async (t) => {
  if (noServer()) return t.skip(noServer());
  const p = await page();
  await choose(p, { endpoint: "v3", precision: "auto", auth: "Bearer", db: "www_send", url: server.url, token: server.token });
  await setInput(p, "weather,city=Oslo temp=-3.5,wind=12i 1700000000000\nweather,city=Rome temp=14.25,wind=3i 1700000060000\n");
  await p.locator("#send").click();
  await p.waitForFunction(() => document.getElementById("send-status").dataset.status);
  assert.match(await p.locator("#send-status").textContent(), /^204 /);
  assert.equal(await p.locator("#send-body").textContent(), "(empty body)");
  const rows = await querySql(server, "www_send", "SELECT city, temp, wind, time FROM weather ORDER BY time");
  assert.deepEqual(rows.map((r) => [r.city, r.temp, r.wind]), [["Oslo", -3.5, 12], ["Rome", 14.25, 3]]);
  assert.match(rows[1].time, /^2023-11-14T22:14:20/);
  await screenshot(p, "08-send");
  // A bad line under v1: the server's 400 and its JSON body are shown.
  await choose(p, { endpoint: "v1", precision: "ms", db: "www_send", auth: "Token" });
  await setInput(p, "weather,city=Paris temp= 1700000120000\n");
  await p.locator("#send").click();
  await p.waitForFunction(() => document.getElementById("send-status").dataset.status === "400");
  assert.match(await p.locator("#send-body").textContent(), /"line_number": 1/);
  // A wrong token: 401.
  await choose(p, { token: "not-the-token" });
  await p.locator("#send").click();
  await p.waitForFunction(() => document.getElementById("send-status").dataset.status === "401");
  await screenshot(p, "09-send-errors");
  await p.close();
});
