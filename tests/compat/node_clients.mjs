// The JavaScript clients against one target (scripts/test-compat.sh runs it once per target):
// node-influx (`influx`, v1), @influxdata/influxdb-client (v2) and @influxdata/influxdb3-client.
// Each cell writes the same points as tests/compat/common.py (integers within 2^53: JavaScript
// numbers) through the client's write API, reads them back through the client's own query API
// where linegate serves it, and checks every value, type and time (nanoseconds, exactly).
//
// Env: as py_clients.py (COMPAT_URL, COMPAT_TOKEN, COMPAT_SERVER_URL, COMPAT_SERVER_TOKEN,
// COMPAT_TARGET, COMPAT_DB, COMPAT_RESULTS).
import {appendFileSync, readFileSync} from 'node:fs'
import assert from 'node:assert/strict'
import Influx from 'influx'
import {InfluxDB as InfluxV2, Point as PointV2} from '@influxdata/influxdb-client'
import {InfluxDBClient as Influx3, Point as Point3} from '@influxdata/influxdb3-client'

const env = (k) => process.env[k] ?? (() => { throw new Error(`missing env ${k}`) })()
const URL_ = env('COMPAT_URL')
const TOKEN = env('COMPAT_TOKEN')
const SERVER_URL = env('COMPAT_SERVER_URL')
const SERVER_TOKEN = env('COMPAT_SERVER_TOKEN')
const TARGET = env('COMPAT_TARGET')
const DB = env('COMPAT_DB')
const {hostname: HOST, port: PORT} = new URL(URL_)

// Read from node_modules: some packages do not export their package.json.
const version = (pkg) =>
  `${pkg} ${JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, import.meta.url))).version}`

// ---- the points (as common.py's points(), big_ints=False) --------------------------------
const TRICKY = 'say "hi", C:\\dir ünïcode ✓ a=b'
const BASE_NS = 1_700_000_000_123_456_789n
const UNIT_NS = {n: 1n, ns: 1n, u: 1000n, us: 1000n, ms: 10n ** 6n, s: 10n ** 9n, m: 60n * 10n ** 9n,
  h: 3600n * 10n ** 9n}
const MAX_SAFE = Number.MAX_SAFE_INTEGER
// influxdb3-client warns `Value … is not an unsigned integer` for every uint64 it reads (its
// check wants a string) and returns the value unchanged: the values are checked below.
const warn = console.warn
console.warn = (...a) => (/is not an unsigned integer/.test(String(a[0])) ? undefined : warn(...a))

function points(prec, uint = false) {
  const t0 = BASE_NS / UNIT_NS[prec]
  const pts = [
    {tags: {host: 'a', region: 'us west,1=x'}, fields: {f: 1.5, i: MAX_SAFE, s: TRICKY, b: true}, t: t0},
    {tags: {host: 'b', region: 'eu'}, fields: {f: -2.25e-7, i: -MAX_SAFE, s: 'x=1,y 2', b: false}, t: t0 + 1n},
    {tags: {host: 'c'}, fields: {f: 1e300, i: 0, s: '日本', b: true}, t: t0 + 2n},
  ]
  if (uint) pts.push({tags: {host: 'd'}, fields: {u: MAX_SAFE, f: 3}, t: t0 + 3n})
  return pts
}
const TYPES = {f: 'float', i: 'integer', s: 'string', b: 'boolean', u: 'unsigned'}

/** Rows as a read must give them: every column, null where absent, time in ns (BigInt). */
function expected(pts, prec) {
  const cols = [...new Set(pts.flatMap((p) => [...Object.keys(p.tags), ...Object.keys(p.fields)]))]
  return pts.map((p) => {
    const row = Object.fromEntries(cols.map((c) => [c, null]))
    Object.assign(row, p.tags, p.fields)
    row.time = p.t * UNIT_NS[prec]
    return row
  })
}
const fieldTypes = (pts) =>
  [...new Set(pts.flatMap((p) => Object.keys(p.fields)))].sort().map((k) => [k, TYPES[k]])

/** Compares rows (sorted by time); numbers compare as numbers, BigInt and number alike. */
function compareRows(want, got) {
  got = [...got].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
  assert.equal(got.length, want.length, `row count: ${show(got)}`)
  want.forEach((w, n) => {
    for (const k of new Set([...Object.keys(w), ...Object.keys(got[n])])) {
      let [wv, gv] = [w[k] ?? null, got[n][k] ?? null]
      if (typeof gv === 'bigint' && typeof wv === 'number') gv = Number(gv)
      assert.ok(Object.is(wv, gv), `row ${n} column ${k}: got ${show(gv)} (${typeof gv}), expected ${show(wv)}`)
    }
  })
}
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))

// ---- results -----------------------------------------------------------------------------
let failed = 0
let seq = 0
const measurement = (client) => `${client}_${TARGET}_${seq++}`
async function run(cell, fn) {
  let status = 'pass'
  let detail = ''
  try {
    await fn()
  } catch (e) {
    status = 'fail'
    detail = `${e.code ? `${e.code}: ` : ''}${e.message ?? e}`.slice(0, 600)
    if (cell.bug) detail = `${cell.bug} — ${detail}` // a known server bug: still failing, named
    failed++
  }
  const {bug: _, ...rest} = cell
  record(rest, status, detail)
}
function record(cell, status, detail = '') {
  const row = {target: TARGET, ...cell, status, detail}
  appendFileSync(env('COMPAT_RESULTS'), JSON.stringify(row) + '\n')
  const key = ['client', 'endpoint', 'auth', 'gzip', 'precision', 'read', 'target'].map((k) => row[k]).join(' ')
  console.log(`  ${status.padEnd(4)} ${key}${detail ? `\n       ${detail}` : ''}`)
}

// ---- /query over fetch (the read path of the v2 client, whose own query API is Flux) ------
async function v1Query(q, auth) {
  const qs = new URLSearchParams({db: DB, q, epoch: ''}) // RFC3339 times: exact nanoseconds
  const res = await fetch(`${URL_}/query?${qs}`, {headers: {Authorization: auth}})
  const text = await res.text()
  assert.equal(res.status, 200, `/query ${q}: ${text}`)
  const result = JSON.parse(text).results[0]
  assert.ok(!result.error, result.error)
  const s = result.series[0]
  return s.values.map((v) => Object.fromEntries(s.columns.map((c, k) => [c, v[k]])))
}
function rfc3339Ns(text) {
  const [whole, frac = ''] = text.replace(/Z$/, '').split('.')
  return BigInt(Date.parse(whole + 'Z')) * 1_000_000n + BigInt((frac + '000000000').slice(0, 9))
}
async function readBackV1(m, pts, prec, auth) {
  const rows = (await v1Query(`SELECT * FROM "${m}"`, auth)).map((r) => ({...r, time: rfc3339Ns(r.time)}))
  compareRows(expected(pts, prec), rows)
  const types = (await v1Query(`SHOW FIELD KEYS FROM "${m}"`, auth)).map((r) => [r.fieldKey, r.fieldType])
  assert.deepEqual(types, fieldTypes(pts))
}

// ---- node-influx (v1) ----------------------------------------------------------------------
async function nodeInflux() {
  const name = version('influx')
  const FT = Influx.FieldType
  for (const prec of ['n', 'u', 'ms', 's', 'm', 'h']) {
    const m = measurement('node_v1')
    const pts = points(prec)
    await run({client: name, endpoint: '/write', auth: 'Basic (username/password)', gzip: 'off (not offered)',
      precision: prec, read: '/query (client.query, RFC3339 times)'}, async () => {
      // A schema, or every number would be written as a float.
      const influx = new Influx.InfluxDB({host: HOST, port: Number(PORT), database: DB,
        username: 'compat', password: TOKEN,
        schema: [{measurement: m, tags: ['host', 'region'],
          fields: {f: FT.FLOAT, i: FT.INTEGER, s: FT.STRING, b: FT.BOOLEAN}}]})
      await influx.writePoints(pts.map((p) => ({measurement: m, tags: p.tags, fields: p.fields,
        timestamp: String(p.t)})), {precision: prec})
      const rows = await influx.query(`SELECT * FROM "${m}"`)
      compareRows(expected(pts, prec), rows.map((r) => ({...r, time: BigInt(r.time.getNanoTime())})))
      const types = await influx.query(`SHOW FIELD KEYS FROM "${m}"`)
      assert.deepEqual(types.map((r) => [r.fieldKey, r.fieldType]), fieldTypes(pts))
    })
  }
}

/** The rest of node-influx's API that applications call: its README's start-up sequence
 *  (getDatabaseNames, then createDatabase when missing), schema listings, placeholders. */
async function nodeInfluxApi() {
  const name = version('influx')
  const db = `compat_node_api_${TARGET}`
  const m = measurement('node_v1_api')
  const pts = points('s')
  const FT = Influx.FieldType
  // CREATE DATABASE needs a token for every database: the target's admin token.
  const influx = new Influx.InfluxDB({host: HOST, port: Number(PORT), database: db, username: 'compat',
    password: env('COMPAT_ADMIN_TOKEN'), schema: [{measurement: m, tags: ['host', 'region'],
      fields: {f: FT.FLOAT, i: FT.INTEGER, s: FT.STRING, b: FT.BOOLEAN}}]})
  const cell = (read) => ({client: name, endpoint: '/write + /query', auth: 'Basic (username/password)',
    gzip: 'off (not offered)', precision: 's', read})
  await run({...cell('the answers\' values'), endpoint: '/ping, /query: getDatabaseNames, createDatabase, ' +
    'getMeasurements, getSeries, showRetentionPolicies'}, async () => {
    const hosts = await influx.ping(5000)
    assert.ok(hosts[0].online, 'ping: offline')
    if (!(await influx.getDatabaseNames()).includes(db)) await influx.createDatabase(db)
    assert.ok((await influx.getDatabaseNames()).includes(db), 'created database not listed')
    await influx.writePoints(pts.map((p) => ({measurement: m, tags: p.tags, fields: p.fields,
      timestamp: String(p.t)})), {precision: 's'})
    assert.deepEqual(await influx.getMeasurements(), [m])
    assert.deepEqual((await influx.getSeries({measurement: m})).length, pts.length)
    const rps = await influx.showRetentionPolicies()
    assert.deepEqual(rps.map((r) => [r.name, r.default]), [['autogen', true]])
  })
  await run({...cell('query with placeholders ($h → params=JSON)'),
    bug: 'linegate bug: /query ignores `params` (InfluxQL bound parameters, which InfluxDB 1.x binds)'}, async () => {
    const rows = await influx.query(`SELECT * FROM "${m}" WHERE host = $h`, {placeholders: {h: 'b'}})
    assert.deepEqual(rows.map((r) => r.host), ['b'])
  })
}

// ---- @influxdata/influxdb-client (v2) ------------------------------------------------------
async function influxdbClientV2() {
  const name = version('@influxdata/influxdb-client')
  for (const gzip of [false, true]) {
    for (const prec of ['ns', 'us', 'ms', 's']) {
      const m = measurement('node_v2')
      const pts = points(prec, true)
      await run({client: name, endpoint: '/api/v2/write', auth: 'Token', gzip: gzip ? 'on' : 'off', precision: prec,
        read: '/query (InfluxQL, fetch: the client reads only Flux)'}, async () => {
        const client = new InfluxV2({url: URL_, token: TOKEN})
        // gzipThreshold 0 → every body gzip (chunked, no Content-Length); maxRetries 0: fail at once.
        const write = client.getWriteApi('compat-org', DB, prec,
          {gzipThreshold: gzip ? 0 : 1e9, maxRetries: 0, flushInterval: 0})
        for (const p of pts) {
          const point = new PointV2(m).timestamp(String(p.t))
          for (const [k, v] of Object.entries(p.tags)) point.tag(k, v)
          for (const [k, v] of Object.entries(p.fields)) {
            if (k === 'u') point.uintField(k, v)
            else if (k === 'i') point.intField(k, v)
            else if (typeof v === 'number') point.floatField(k, v)
            else if (typeof v === 'boolean') point.booleanField(k, v)
            else point.stringField(k, v)
          }
          write.writePoint(point)
        }
        await write.close()
        await readBackV1(m, pts, prec, `Token ${TOKEN}`)
      })
    }
  }
  const cell = {client: name, endpoint: '/api/v2/query', auth: 'Token', gzip: 'off', precision: '-', read: 'Flux (getQueryApi)'}
  try {
    await new InfluxV2({url: URL_, token: TOKEN}).getQueryApi('compat-org').collectRows(`from(bucket: "${DB}") |> range(start: 0)`)
    record(cell, 'fail', 'Flux answered: update the matrix (linegate has no Flux)')
    failed++
  } catch (e) {
    record(cell, 'n/a', `linegate does not implement Flux (${e.statusCode ?? e.message})`)
  }
}

// ---- @influxdata/influxdb3-client ----------------------------------------------------------
async function influxdb3Client() {
  const name = version('@influxdata/influxdb3-client')
  const reader = new Influx3({host: SERVER_URL, token: SERVER_TOKEN, database: DB})
  const via = TARGET === 'server' ? '' : ' from the server'
  for (const noSync of [false, true]) {
    for (const authScheme of ['Token', 'Bearer']) {
      for (const gzip of [false, true]) {
        for (const prec of ['ns', 'us', 'ms', 's']) {
          const m = measurement('node_v3')
          const pts = points(prec, true)
          await run({client: name, endpoint: noSync ? '/api/v3/write_lp (noSync)' : '/api/v2/write',
            auth: authScheme, gzip: gzip ? 'on' : 'off', precision: prec,
            read: `Flight SQL + InfluxQL (client.query)${via}`}, async () => {
            const client = new Influx3({host: URL_, token: TOKEN, database: DB, authScheme})
            try {
              await client.write(pts.map((p) => {
                const point = Point3.measurement(m).setTimestamp(String(p.t))
                for (const [k, v] of Object.entries(p.tags)) point.setTag(k, v)
                for (const [k, v] of Object.entries(p.fields)) {
                  if (k === 'u') point.setUintegerField(k, v)
                  else if (k === 'i') point.setIntegerField(k, v)
                  else if (typeof v === 'number') point.setFloatField(k, v)
                  else if (typeof v === 'boolean') point.setBooleanField(k, v)
                  else point.setStringField(k, v)
                }
                return point
              }), DB, undefined, {precision: prec, noSync, gzipThreshold: gzip ? 0 : 1e9})
            } finally {
              await client.close()
            }
            const want = expected(pts, prec)
            // SQL: the time also as int64, since the client gives times as float milliseconds.
            const sql = []
            for await (const r of reader.query(`SELECT *, CAST(time AS BIGINT) AS tns FROM "${m}"`, DB)) sql.push(r)
            compareRows(want, sql.map(({tns, time, ...r}) => {
              assert.ok(Math.abs(time - Number(tns) / 1e6) < 1e-3, `time ${time} vs ${tns}`)
              return {...r, time: BigInt(tns)}
            }))
            const iql = []
            for await (const r of reader.query(`SELECT * FROM "${m}"`, DB, {type: 'influxql'})) iql.push(r)
            // InfluxQL cannot cast time, and the client gives float milliseconds: the time is
            // checked to the microsecond, every other column exactly.
            iql.sort((a, b) => a.time - b.time)
            compareRows(want, iql.map(({'iox::measurement': _, time, ...r}, n) => {
              const ns = want[n]?.time ?? 0n
              assert.ok(Math.abs(time - Number(ns) / 1e6) < 1e-3, `InfluxQL row ${n} time ${time} vs ${ns} ns`)
              return {...r, time: ns}
            }))
          })
        }
      }
    }
  }
  await reader.close()
}

for (const fn of [nodeInflux, nodeInfluxApi, influxdbClientV2, influxdb3Client]) {
  console.log(`-- ${fn.name} (${TARGET})`)
  await fn()
}
process.exit(failed ? 1 : 0)
