// Checks for scripts/test-flight.sh with InfluxData's JavaScript client,
// @influxdata/influxdb3-client: writes over HTTP (its default v2 API at precision ns and s,
// and the v3 API that `noSync` selects), queries over Arrow Flight (DoGet with a JSON ticket,
// through @grpc/grpc-js: HTTP/2 without TLS, prior knowledge, to the HTTP port).
//
// Env: LINEGATE_URL (http://127.0.0.1:PORT), LINEGATE_TOKEN (admin),
// LINEGATE_READ_TOKEN_A (reads database flight_a only; flight_b must exist, check.py's
// `write` creates it). Exits non-zero with a message at the first failed check.
//
// What the client hands back (apache-arrow 21 under it):
//   - integer fields: a number when the column's `iox::column::type` metadata says
//     `…::field::integer` (the client parseInt()s the Int64, exact only within 2^53), else a
//     bigint; uinteger fields: a bigint (the client warns "Value … is not an unsigned
//     integer" on stderr and passes it through), so both are compared with sameInt();
//   - `time` (Timestamp ns): a number of milliseconds with a fraction, so nanoseconds are
//     checked through CAST(time AS BIGINT), which has no metadata and comes back a bigint.

import {InfluxDBClient, Point} from '@influxdata/influxdb3-client'

const DB_A = 'flight_a'
const DB_B = 'flight_b'
const T0 = 1_700_000_000_123_456_789n // 2023-11-14T22:13:20.123456789Z
const S = 1_000_000_000n
const TRICKY = 'say "hi", C:\\dir\\ \\"q\\" ünïcode ✓ 日本 = , x'

const env = (name) => {
  const v = process.env[name]
  if (!v) fail(`environment variable ${name} is not set`)
  return v
}
const URL_ = env('LINEGATE_URL')
const ADMIN = env('LINEGATE_TOKEN')
const READ_A = env('LINEGATE_READ_TOKEN_A')

function fail(message) {
  console.error(`FAIL: ${message}`)
  process.exit(1)
}
const ok = (message) => console.log(`    ok: ${message}`)
const show = (v) =>
  JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))

// Rows as written; written through Points, so integers stay within 2^53.
const JS_TYPES = [
  {host: 'a', region: 'eu west,1=x', f: 1.5, i: -9007199254740991n, u: 9007199254740991n,
    s: TRICKY, b: true, time: T0},
  {host: 'b', region: null, f: -0.001, i: 42n, u: 0n, s: '', b: false, time: T0 + 1n},
  {host: 'a', region: 'eu west,1=x', f: 100, i: 7n, u: 3n, s: 'plain', b: true, time: T0 + S},
]
// Written as raw line protocol: the extremes a Point cannot carry exactly.
const JS_LP = [
  'js_lp,host=x i=-9223372036854775808i,u=18446744073709551615u,f=1.7976931348623157e308,' +
    `s="back\\\\slash \\"q\\"",b=t ${T0}`,
  `js_lp,host=y i=9223372036854775807i,u=0u,f=-1e-300,s="",b=F ${T0 + 1n}`,
]
const JS_LP_ROWS = [
  {host: 'x', i: '-9223372036854775808', u: '18446744073709551615', f: 1.7976931348623157e308,
    s: 'back\\slash "q"', b: true, time: T0},
  {host: 'y', i: '9223372036854775807', u: '0', f: -1e-300, s: '', b: false, time: T0 + 1n},
]
const MANY = 50_000
const manyS = (j) => `${String(j).padStart(8, '0')}${'y'.repeat(120)}`
const manyLine = (j) => `js_many,k=m n=${j}i,s="${manyS(j)}" ${T0 + BigInt(j) * 1000n}`

function point(table, r) {
  const p = Point.measurement(table)
    .setFloatField('f', r.f)
    .setIntegerField('i', Number(r.i))
    .setUintegerField('u', Number(r.u))
    .setStringField('s', r.s)
    .setBooleanField('b', r.b)
    .setTag('host', r.host)
    .setTimestamp(String(r.time)) // a string goes into the line as it is: exact nanoseconds
  if (r.region !== null) p.setTag('region', r.region)
  return p
}

// An integer field as the client returns it: a number when metadata typed it, else a bigint.
function sameInt(got, want) {
  return typeof got === 'bigint' ? got === BigInt(want) : got === Number(want)
}

function sameTimeMs(got, wantNs) {
  return typeof got === 'number' && Math.abs(got - Number(wantNs) / 1e6) < 1e-3
}

// A count over HTTP (/api/v3/query_sql), to tell a write problem from a Flight one.
async function httpCount(table) {
  const q = new URLSearchParams({db: DB_A, q: `SELECT count(*) AS n FROM ${table}`, format: 'json'})
  const res = await fetch(`${URL_}/api/v3/query_sql?${q}`,
    {headers: {authorization: `Bearer ${ADMIN}`}})
  const text = await res.text()
  if (res.status !== 200) fail(`HTTP count of ${table}: ${res.status} ${text}`)
  return JSON.parse(text)[0].n
}

async function collect(generator) {
  const rows = []
  for await (const row of generator) rows.push(row)
  return rows
}

// Runs one check; an exception (an RpcError carries the gRPC status in .code) fails it by name.
async function check(name, body) {
  try {
    await body()
  } catch (e) {
    fail(`${name}: ${e.code ? `${e.code}: ` : ''}${e.message ?? e}`)
  }
}

async function expectRefused(what, run, codes) {
  try {
    await run()
  } catch (e) {
    if (!codes.includes(e.code)) {
      fail(`${what}: refused with ${e.code ?? e.name}: ${e.message}; ` +
        `expected ${codes.join(' or ')}`)
    }
    return e.code
  }
  fail(`${what}: succeeded, expected ${codes.join(' or ')}`)
}

const client = new InfluxDBClient({host: URL_, token: ADMIN, database: DB_A})

// ---- writes ---------------------------------------------------------------------------------
// Default: POST /api/v2/write?bucket=DB&precision=ns, `Authorization: Token …`, gzip above
// 1000 bytes.
await check('writes', async () => {
  await client.write(JS_TYPES.map((r) => point('js_types', r)))
  await client.write(JS_LP)
  // precision s: /api/v2/write?…&precision=s
  await client.write(
    Point.measurement('js_secs').setTag('host', 'a').setFloatField('v', 2.5)
      .setTimestamp('1700000003'),
    DB_A, undefined, {precision: 's'},
  )
  // noSync: POST /api/v3/write_lp?db=DB&precision=nanosecond&no_sync=true
  await client.write(`js_nosync v=1i ${T0}`, DB_A, undefined, {noSync: true})
  for (let start = 0; start < MANY; start += 10_000) {
    await client.write(Array.from({length: 10_000}, (_, k) => manyLine(start + k)))
  }
  const want = {js_types: JS_TYPES.length, js_lp: JS_LP.length, js_secs: 1, js_nosync: 1,
    js_many: MANY}
  for (const [table, n] of Object.entries(want)) {
    const got = await httpCount(table)
    if (got !== n) fail(`${table} holds ${got} rows over HTTP, ${n} were written`)
  }
})
ok('@influxdata/influxdb3-client wrote Points and line protocol (v2 API at ns and s, ' +
  'v3 API with noSync)')

// ---- SQL ------------------------------------------------------------------------------------
await check('SQL js_types', async () => {
  const rows = await collect(client.query(
    'SELECT host, region, f, i, u, s, b, time, CAST(time AS BIGINT) AS time_ns ' +
      'FROM js_types ORDER BY time', DB_A, {type: 'sql'}))
  if (rows.length !== JS_TYPES.length) fail(`SQL js_types: ${rows.length} rows: ${show(rows)}`)
  rows.forEach((got, n) => {
    const want = JS_TYPES[n]
    const same = got.host === want.host && got.region === want.region && got.f === want.f &&
      sameInt(got.i, want.i) && sameInt(got.u, want.u) && got.s === want.s &&
      got.b === want.b && got.time_ns === want.time && sameTimeMs(got.time, want.time)
    if (!same) fail(`SQL js_types row ${n}:\n  expected ${show(want)}\n  got      ${show(got)}`)
  })
  if (Object.keys(rows[0]).join() !== 'host,region,f,i,u,s,b,time,time_ns') {
    fail(`SQL js_types columns: ${Object.keys(rows[0])}`)
  }
  ok(`SQL over Flight: every field type, exact values, ns times (i as ${typeof rows[0].i}, ` +
    `time as ${typeof rows[0].time} ms)`)
})
await check('SQL js_lp (extremes)', async () => {
  // Extremes, exact through strings. A cast keeps the column's `…::field::integer` metadata
  // (DataFusion's, and so InfluxDB 3's, behaviour), which would make the client parseInt()
  // the text; concat() makes a column without it.
  const rows = await collect(client.query(
    "SELECT host, concat(CAST(i AS VARCHAR), '') AS i, concat(CAST(u AS VARCHAR), '') AS u, " +
      'f, s, b, ' +
      'CAST(time AS BIGINT) AS time FROM js_lp ORDER BY time', DB_A))
  if (show(rows) !== show(JS_LP_ROWS)) {
    fail(`SQL js_lp:\n  expected ${show(JS_LP_ROWS)}\n  got      ${show(rows)}`)
  }
  const raw = await collect(client.query('SELECT i, u FROM js_lp ORDER BY time', DB_A))
  if (!sameInt(raw[0].i, -9223372036854775808n) || !sameInt(raw[0].u, 18446744073709551615n)) {
    fail(`SQL js_lp i and u as the client maps them: ${show(raw)}`)
  }
  ok('SQL over Flight: int64 and uint64 extremes, 1.797e308, escaped strings')
})
await check('SQL js_secs and js_nosync', async () => {
  const rows = await collect(client.query(
    'SELECT v, CAST(time AS BIGINT) AS t FROM js_secs', DB_A, {type: 'sql'}))
  if (show(rows) !== show([{v: 2.5, t: 1_700_000_003n * S}])) fail(`SQL js_secs: ${show(rows)}`)
  const nosync = await collect(client.query(
    'SELECT v, CAST(time AS BIGINT) AS t FROM js_nosync', DB_A, {type: 'sql'}))
  if (nosync.length !== 1 || !sameInt(nosync[0].v, 1n) || nosync[0].t !== T0) {
    fail(`SQL js_nosync: ${show(nosync)}`)
  }
  ok('SQL over Flight: points written at precision s and with noSync (v3 API)')
})
await check('SQL with named parameters', async () => {
  // Named parameters: the ticket's "params" object. (The client sends "params": {} with
  // every query, and refuses falsy values itself.)
  const rows = await collect(client.query(
    'SELECT host, i FROM js_types WHERE host = $host AND f > $min ORDER BY time', DB_A,
    {type: 'sql', params: {host: 'a', min: 1.25}}))
  if (rows.length !== 2 || !rows.every((r) => r.host === 'a')) {
    fail(`SQL with params host=a, min=1.25: ${show(rows)}`)
  }
  ok('SQL over Flight with named parameters')
})
await check('SQL empty and large results', async () => {
  const rows = await collect(client.query("SELECT * FROM js_types WHERE host = 'nobody'", DB_A))
  if (rows.length !== 0) fail(`SQL with no matching row returned ${show(rows)}`)
  let n = 0
  let bad = null
  for await (const r of client.query('SELECT n, s FROM js_many ORDER BY time', DB_A)) {
    if (!sameInt(r.n, n) || r.s !== manyS(n)) {
      bad ??= {at: n, got: r}
    }
    n++
  }
  if (n !== MANY || bad) fail(`SQL js_many: ${n} rows, expected ${MANY}; first bad ${show(bad)}`)
  ok(`SQL over Flight: an empty result; ${MANY} rows (~6 MiB) streamed`)
})
await check('SQL error', async () => {
  let error = null
  try {
    await collect(client.query('SELECT nope FROM no_such_table', DB_A))
  } catch (e) {
    error = e
  }
  if (!error) fail('a query on a missing table succeeded')
  if (!String(error.message).includes('no_such_table')) {
    fail(`a query on a missing table failed without naming it: ${error.code} ${error.message}`)
  }
  ok(`a failing query rejects with the server's message (${error.code})`)
})

// ---- InfluxQL -------------------------------------------------------------------------------
await check('InfluxQL js_types', async () => {
  const rows = await collect(client.query(
    'SELECT f, i, u, s, b, host, region FROM js_types', DB_A, {type: 'influxql'}))
  const cols = Object.keys(rows[0] ?? {}).join()
  if (cols !== 'iox::measurement,time,f,i,u,s,b,host,region') {
    fail(`InfluxQL js_types columns: ${cols}; expected iox::measurement, time, then as selected`)
  }
  rows.forEach((got, n) => {
    const want = JS_TYPES[n]
    const same = got['iox::measurement'] === 'js_types' && got.host === want.host &&
      got.region === want.region && got.f === want.f && sameInt(got.i, want.i) &&
      sameInt(got.u, want.u) && got.s === want.s && got.b === want.b &&
      sameTimeMs(got.time, want.time)
    if (!same) {
      fail(`InfluxQL js_types row ${n}:\n  expected ${show(want)}\n  got      ${show(got)}`)
    }
  })
  if (rows.length !== JS_TYPES.length) fail(`InfluxQL js_types: ${rows.length} rows`)
  ok('InfluxQL over Flight: iox::measurement, time, then the selected columns, exact values')
})
await check('InfluxQL queryPoints()', async () => {
  // queryPoints() sorts columns into tags and typed fields by their iox::column::type metadata.
  const points = await collect(client.queryPoints(
    'SELECT f, i, u, s, b, host, region FROM js_types', DB_A, {type: 'influxql'}))
  const p = points[0]
  const got = p && {
    measurement: p.getMeasurement(), host: p.getTag('host'), region: p.getTag('region'),
    f: p.getFloatField('f'), i: p.getIntegerField('i'), u: p.getUintegerField('u'),
    s: p.getStringField('s'), b: p.getBooleanField('b'),
  }
  const want = {measurement: 'js_types', host: 'a', region: 'eu west,1=x', f: 1.5,
    i: -9007199254740991, u: 9007199254740991, s: TRICKY, b: true}
  if (points.length !== JS_TYPES.length || show(got) !== show(want)) {
    fail(`InfluxQL queryPoints: ${points.length} points, first ${show(got)}; expected ` +
      `${show(want)} (tags and typed fields need iox::column::type metadata)`)
  }
  ok('queryPoints(): measurement, tags and typed fields from the column metadata')
})

// ---- tokens ---------------------------------------------------------------------------------
await check('tokens', async () => {
  const reader = new InfluxDBClient({host: URL_, token: READ_A, database: DB_A})
  const rows = await collect(reader.query('SELECT count(*) AS n FROM js_types'))
  if (!sameInt(rows[0]?.n, JS_TYPES.length)) fail(`read token on ${DB_A}: ${show(rows)}`)
  const code = await expectRefused(`read token for ${DB_A} querying ${DB_B}`,
    () => collect(reader.query('SELECT * FROM secret', DB_B)),
    ['PERMISSION_DENIED', 'UNAUTHENTICATED'])
  await expectRefused(`read token for ${DB_A}, InfluxQL on ${DB_B}`,
    () => collect(reader.query('SELECT * FROM secret', DB_B, {type: 'influxql'})),
    ['PERMISSION_DENIED', 'UNAUTHENTICATED'])
  await reader.close()
  const bad = new InfluxDBClient({host: URL_, token: 'apiv3_no-such-token', database: DB_A})
  await expectRefused('a bad token', () => collect(bad.query('SELECT 1')), ['UNAUTHENTICATED'])
  await bad.close()
  ok(`the read token reads ${DB_A}, is refused on ${DB_B} (${code}); a bad token is ` +
    'UNAUTHENTICATED')
})

await client.close()
