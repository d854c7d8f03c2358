// The write request for the chosen endpoint, parameters and authentication, and the
// curl / Telegraf / Python / JavaScript snippets that send it. Pure functions, no DOM.

export const PATHS = { v1: "/write", v2: "/api/v2/write", v3: "/api/v3/write_lp" };
export const MASK = "••••••••";

// Precision choices per endpoint ("" = the endpoint's default).
export const PRECISIONS = {
  v1: ["ns", "us", "ms", "s", "m", "h"],
  v2: ["ns", "us", "ms", "s", "m", "h"],
  v3: ["auto", "nanosecond", "microsecond", "millisecond", "second", "minute", "hour"],
};
export const DEFAULT_PRECISION = { v1: "ns", v2: "ns", v3: "auto" };

const UNITS = {
  n: "ns", ns: "ns", nanosecond: "ns", u: "us", us: "us", "µ": "us", microsecond: "us",
  ms: "ms", millisecond: "ms", s: "s", second: "s", m: "m", minute: "m", h: "h", hour: "h",
};

/** The unit of a precision spelling (ns, us, ms, s, m, h) or "auto". */
export function unit(precision, endpoint) {
  const p = precision || DEFAULT_PRECISION[endpoint];
  return p === "auto" ? "auto" : UNITS[p] || p;
}

/** Query parameters of the request, in the order the snippets show them. */
export function queryPairs(c) {
  const q = [];
  if (c.endpoint === "v1") {
    q.push(["db", c.db]);
    if (c.rp) q.push(["rp", c.rp]);
  } else if (c.endpoint === "v2") {
    if (c.org) q.push(["org", c.org]);
    q.push(["bucket", c.bucket]);
  } else {
    q.push(["db", c.db]);
  }
  if (c.precision) q.push(["precision", c.precision]);
  if (c.endpoint === "v3") {
    if (!c.acceptPartial) q.push(["accept_partial", "false"]);
    if (c.noSync) q.push(["no_sync", "true"]);
  }
  if (c.auth === "p") {
    if (c.user) q.push(["u", c.user]);
    q.push(["p", c.token]);
  }
  return q;
}

const enc = (s) => encodeURIComponent(s).replace(/%2F/g, "/");

export function queryString(c, token = c.token) {
  return queryPairs({ ...c, token })
    .map(([k, v]) => (k === "p" && token === MASK ? `${k}=${MASK}` : `${k}=${enc(v)}`))
    .join("&");
}

/** The Authorization header value, or undefined (none, or the token goes in `p`). */
export function authorization(c, token = c.token) {
  if (c.auth === "Bearer" || c.auth === "Token") return `${c.auth} ${token}`;
  if (c.auth === "Basic") {
    const bytes = new TextEncoder().encode(`${c.user}:${token}`);
    return `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  return undefined;
}

export function baseUrl(c) {
  return (c.url || "").trim().replace(/\/+$/, "");
}

export function requestUrl(c, token = c.token) {
  return `${baseUrl(c)}${PATHS[c.endpoint]}?${queryString(c, token)}`;
}

export const isGzipName = (name) => /\.gz$/i.test(name || "");

const sq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const tokenOrPlaceholder = (c) => c.token || "YOUR_TOKEN";

/** The curl command; the token is masked unless `showToken`. */
export function curl(c, showToken) {
  const token = showToken ? tokenOrPlaceholder(c) : MASK;
  const lines = [`curl -i ${sq(requestUrl(c, token))}`];
  if (c.auth === "Basic") lines.push(`-u ${sq(`${c.user}:${token}`)}`);
  else if (c.auth === "Bearer" || c.auth === "Token") {
    lines.push(`-H ${sq(`Authorization: ${c.auth} ${token}`)}`);
  }
  lines.push(`-H 'Content-Type: text/plain; charset=utf-8'`);
  if (isGzipName(c.bodyFile)) lines.push(`-H 'Content-Encoding: gzip'`);
  lines.push(`--data-binary ${sq(`@${c.bodyFile || "data.lp"}`)}`);
  return lines.join(" \\\n  ");
}

const toml = (s) => JSON.stringify(String(s));

export function telegraf(c) {
  const base = baseUrl(c);
  const gz = `  content_encoding = "gzip"`;
  const tokenNote = `## The token comes from the environment: export INFLUX_TOKEN=...`;
  const nsNote = `## Telegraf always sends nanosecond timestamps (its own precision setting only rounds them).`;
  if (c.endpoint === "v1") {
    const out = [
      "[[outputs.influxdb]]",
      `  urls = [${toml(base)}]`,
      `  database = ${toml(c.db)}`,
      `  retention_policy = ${toml(c.rp || "")}`,
      "  ## linegate creates databases on first write",
      "  skip_database_creation = true",
      gz,
    ];
    if (c.auth === "Bearer" || c.auth === "Token") {
      out.push(`  ${tokenNote}`, `  http_headers = {"Authorization" = "${c.auth} \${INFLUX_TOKEN}"}`);
    } else if (c.auth === "Basic" || c.auth === "p") {
      if (c.auth === "p") out.push("  ## Telegraf sends username/password as Basic auth, which linegate accepts too");
      out.push(`  ${tokenNote}`, `  username = ${toml(c.user)}`, `  password = "\${INFLUX_TOKEN}"`);
    }
    out.push(`  ${nsNote}`);
    return out.join("\n");
  }
  if (c.endpoint === "v2") {
    const out = [
      "[[outputs.influxdb_v2]]",
      `  urls = [${toml(base)}]`,
      c.auth === "none" ? `  token = ""` : `  ${tokenNote}\n  token = "\${INFLUX_TOKEN}"`,
      `  organization = ${toml(c.org || "")}`,
      `  bucket = ${toml(c.bucket)}`,
      gz,
    ];
    if (c.auth !== "none" && c.auth !== "Token") {
      out.push(`  ## influxdb_v2 always sends "Authorization: Token ..." (linegate accepts it for any token)`);
    }
    out.push(`  ${nsNote}`);
    return out.join("\n");
  }
  const q = queryString({ ...c, precision: "nanosecond", auth: "none" });
  const out = [
    "## The v3 endpoint through Telegraf's HTTP output (precision=nanosecond: what Telegraf sends)",
    "[[outputs.http]]",
    `  url = ${toml(`${base}${PATHS.v3}?${q}`)}`,
    `  method = "POST"`,
    `  data_format = "influx"`,
    gz,
  ];
  if (c.auth !== "none" && c.auth !== "p") {
    out.push("  [outputs.http.headers]", `    ${tokenNote}`);
    if (c.auth === "Basic") out.push(`    ## or set username/password in [[outputs.http]] for Basic auth`);
    const scheme = c.auth === "Basic" ? "Bearer" : c.auth;
    out.push(`    Authorization = "${scheme} \${INFLUX_TOKEN}"`);
  }
  out.push(
    "",
    "## or, through the v2-compatible endpoint:",
    "# [[outputs.influxdb_v2]]",
    `#   urls = [${toml(base)}]`,
    `#   token = "\${INFLUX_TOKEN}"`,
    `#   organization = ""`,
    `#   bucket = ${toml(c.db)}`,
  );
  return out.join("\n");
}

const py = (s) => JSON.stringify(String(s));

function hostPort(c) {
  try {
    const u = new URL(baseUrl(c));
    return {
      host: u.hostname,
      port: u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80,
      ssl: u.protocol === "https:",
    };
  } catch {
    return { host: "127.0.0.1", port: 8181, ssl: false };
  }
}

export function python(c) {
  const file = c.bodyFile || "data.lp";
  const gz = isGzipName(file);
  const open = gz ? `gzip.open(${py(file)}, "rt")` : `open(${py(file)})`;
  const imports = gz ? "import gzip\nimport os" : "import os";
  const u = unit(c.precision, c.endpoint);
  if (c.endpoint === "v1") {
    const { host, port, ssl } = hostPort(c);
    const tp = { ns: "n", us: "u", ms: "ms", s: "s", m: "m", h: "h" }[u] || "n";
    let auth;
    if (c.auth === "Basic" || c.auth === "p") {
      auth = `username=${py(c.user)}, password=os.environ["INFLUX_TOKEN"],  # sent as Basic auth`;
    } else if (c.auth === "Bearer" || c.auth === "Token") {
      auth = `username=None, password=None,\n    headers={"Authorization": ${py(`${c.auth} `)} + os.environ["INFLUX_TOKEN"]},`;
    } else {
      auth = "username=None, password=None,";
    }
    return `# pip install influxdb   (influxdb-python, the v1 client)
${imports}
from influxdb import InfluxDBClient

client = InfluxDBClient(
    host=${py(host)}, port=${port}, ssl=${ssl ? "True" : "False"},
    ${auth}
    database=${py(c.db)},
)
with ${open} as f:
    lines = [l for l in f.read().splitlines() if l.strip() and not l.startswith("#")]
client.write_points(lines, protocol="line", time_precision=${py(tp)}${c.rp ? `, retention_policy=${py(c.rp)}` : ""})`;
  }
  if (c.endpoint === "v2") {
    const wp = ["ns", "us", "ms", "s"].includes(u) ? u : "ns";
    const note = wp !== u ? `  # the client knows ns, us, ms, s only` : "";
    return `# pip install influxdb-client   (the v2 client)
${imports}
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

with InfluxDBClient(url=${py(baseUrl(c))}, token=${c.auth === "none" ? '""' : 'os.environ["INFLUX_TOKEN"]'}, org=${py(c.org || "-")}) as client:
    write_api = client.write_api(write_options=SYNCHRONOUS)
    with ${open} as f:
        write_api.write(bucket=${py(c.bucket)}, record=f.read(), write_precision=${py(wp)})${note}`;
  }
  const wp = { ns: "ns", us: "us", ms: "ms", s: "s" }[u];
  return `# pip install influxdb3-python   (the v3 client)
${imports}
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host=${py(baseUrl(c))}, token=${c.auth === "none" ? '""' : 'os.environ["INFLUX_TOKEN"]'}, database=${py(c.db)})
with ${open} as f:
    client.write(record=f.read()${wp ? `, write_precision=${py(wp)}` : ""})${wp ? "" : `  # the client sends nanoseconds by default; "${c.precision || "auto"}" is for /api/v3/write_lp`}
client.close()`;
}

export function javascript(c) {
  const file = c.bodyFile || "data.lp";
  const gz = isGzipName(file);
  const headers = [];
  if (c.auth === "Bearer" || c.auth === "Token") {
    headers.push(`Authorization: \`${c.auth} \${process.env.INFLUX_TOKEN}\``);
  } else if (c.auth === "Basic") {
    headers.push(
      `Authorization: "Basic " + Buffer.from(\`${c.user.replace(/[`\\$]/g, "\\$&")}:\${process.env.INFLUX_TOKEN}\`).toString("base64")`,
    );
  }
  headers.push(`"Content-Type": "text/plain; charset=utf-8"`);
  if (gz) headers.push(`"Content-Encoding": "gzip"`);
  let url;
  if (c.auth === "p") {
    const q = queryString({ ...c, token: "TOKEN" }).replace("p=TOKEN", "p=${encodeURIComponent(process.env.INFLUX_TOKEN)}");
    url = `\`${baseUrl(c)}${PATHS[c.endpoint]}?${q}\``;
  } else {
    url = JSON.stringify(requestUrl(c));
  }
  let out = `// Node 18+ (fetch is built in): the same request as the curl command.
import { readFile } from "node:fs/promises";

const response = await fetch(${url}, {
  method: "POST",
  headers: {
    ${headers.join(",\n    ")},
  },
  body: await readFile(${JSON.stringify(file)}),
});
console.log(response.status, await response.text()); // 204 and an empty body when all is well`;
  if (c.endpoint === "v2") {
    out += `

// Or with the v2 client (npm i @influxdata/influxdb-client):
// import { InfluxDB } from "@influxdata/influxdb-client";
// const writeApi = new InfluxDB({ url: ${JSON.stringify(baseUrl(c))}, token: process.env.INFLUX_TOKEN })
//   .getWriteApi(${JSON.stringify(c.org || "-")}, ${JSON.stringify(c.bucket)}, ${JSON.stringify(["ns", "us", "ms", "s"].includes(unit(c.precision, "v2")) ? unit(c.precision, "v2") : "ns")});
// writeApi.writeRecords(lines); await writeApi.close();`;
  }
  return out;
}
