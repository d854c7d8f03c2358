"""Shared pieces of the compatibility checks (scripts/test-compat.sh): the points every client
writes, what reading them back must give, raw HTTP reads, and the result log the matrix is
built from (one JSON object per line in $COMPAT_RESULTS).

A "cell" is one combination: client × endpoint × auth × gzip × precision × read-back path ×
target (server = linegate's native server, worker = the Worker under wrangler dev in front).
"""

import base64
import datetime as dt
import gzip as gz
import json
import os
import traceback
import urllib.error
import urllib.parse
import urllib.request

I64_MIN, I64_MAX, U64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
# Quotes, a backslash inside, commas, equals signs, spaces and non-ASCII: the escapes clients get wrong.
TRICKY = 'say "hi", C:\\dir ünïcode ✓ a=b'
BASE_NS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z

# Nanoseconds per unit of each precision spelling the clients use.
UNIT_NS = {"n": 1, "ns": 1, "u": 1000, "us": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
           "h": 3600 * 10**9}


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise SystemExit(f"missing environment variable {name}")
    return value


def points(precision, big_ints=True, uint=False):
    """The points of one cell: tags (escapes, a missing tag), every field type, timestamps in
    `precision` units. Returns dicts {tags, fields, t}; `t` is in the precision's unit."""
    unit = UNIT_NS[precision]
    t0 = BASE_NS // unit
    imax, imin = (I64_MAX, I64_MIN) if big_ints else (2**53 - 1, -(2**53 - 1))
    pts = [
        dict(tags={"host": "a", "region": "us west,1=x"},
             fields={"f": 1.5, "i": imax, "s": TRICKY, "b": True}, t=t0),
        dict(tags={"host": "b", "region": "eu"},
             fields={"f": -2.25e-7, "i": imin, "s": "x=1,y 2", "b": False}, t=t0 + 1),
        dict(tags={"host": "c"}, fields={"f": 1e300, "i": 0, "s": "日本", "b": True}, t=t0 + 2),
    ]
    if uint:
        pts.append(dict(tags={"host": "d"}, fields={"u": U64_MAX, "f": 3.0}, t=t0 + 3))
    return pts


def expected(pts, precision):
    """Rows as a read must return them: time in ns, every column, None where absent."""
    unit = UNIT_NS[precision]
    cols = sorted({k for p in pts for k in list(p["tags"]) + list(p["fields"])})
    rows = []
    for p in pts:
        row = {c: None for c in cols}
        row.update(p["tags"])
        row.update(p["fields"])
        row["time"] = p["t"] * unit
        rows.append(row)
    return sorted(rows, key=lambda r: (r["time"], r["host"]))


KIND = {bool: "boolean", int: "integer", float: "float", str: "string"}


def field_types(pts):
    """SHOW FIELD KEYS as InfluxDB 1.x answers it."""
    types = {}
    for p in pts:
        for k, v in p["fields"].items():
            types[k] = "unsigned" if k == "u" else KIND[type(v)]
    return sorted(types.items())


def lp_escape(s, chars):
    for c in chars:
        s = s.replace(c, "\\" + c)
    return s


def line(measurement, p, uint_keys=("u",)):
    """Line protocol of one point (for clients whose API takes raw lines, e.g. for `u`)."""
    tags = "".join(f",{lp_escape(k, ', =')}={lp_escape(v, ', =')}" for k, v in sorted(p["tags"].items()))
    fields = []
    for k, v in p["fields"].items():
        if isinstance(v, bool):
            fields.append(f"{k}={'true' if v else 'false'}")
        elif isinstance(v, int):
            fields.append(f"{k}={v}{'u' if k in uint_keys else 'i'}")
        elif isinstance(v, float):
            fields.append(f"{k}={v!r}")
        else:
            fields.append(f'{k}="' + v.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return f"{lp_escape(measurement, ', ')}{tags} {','.join(fields)} {p['t']}"


def compare(want, got, what="rows"):
    """None when equal (values, Python types and times), else a short description."""
    if len(want) != len(got):
        return f"{what}: {len(got)} rows, expected {len(want)}: {got!r}"
    for w, g in zip(want, got):
        for k in sorted(set(w) | set(g)):
            wv, gv = w.get(k), g.get(k)
            if wv != gv or type(wv) is not type(gv):
                return f"{what}: row time={w['time']} column {k}: got {gv!r} ({type(gv).__name__}), expected {wv!r} ({type(wv).__name__})"
    return None


def rfc3339_ns(text):
    """'2023-11-14T22:13:20.123456789Z' (or without Z, as SQL JSON gives it) → ns since epoch."""
    text = text.rstrip("Z")
    whole, _, frac = text.partition(".")
    secs = int(dt.datetime.fromisoformat(whole).replace(tzinfo=dt.timezone.utc).timestamp())
    return secs * 10**9 + int((frac + "000000000")[:9])


def v1_rows(answer):
    """The first series of a /query JSON answer as dicts, sorted by time then host."""
    result = answer["results"][0]
    if "error" in result:
        raise AssertionError(f"query error: {result['error']}")
    series = result.get("series") or []
    if len(series) != 1:
        raise AssertionError(f"expected one series, got {answer!r}")
    cols = series[0]["columns"]
    rows = [dict(zip(cols, v)) for v in series[0]["values"]]
    return sorted(rows, key=lambda r: (r["time"], r.get("host") or ""))


def request(method, url, body=None, headers=None, gzip=False, timeout=30):
    """(status, headers, body bytes); never raises for an HTTP status."""
    headers = dict(headers or {})
    if gzip and body is not None:
        body = gz.compress(body)
        headers["Content-Encoding"] = "gzip"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def v1_query(url, db, q, auth, epoch="ns"):
    """GET /query with an Authorization header; the JSON answer."""
    qs = urllib.parse.urlencode({"db": db, "q": q, "epoch": epoch})
    status, _, body = request("GET", f"{url}/query?{qs}", headers={"Authorization": auth})
    if status != 200:
        raise AssertionError(f"/query {q!r}: {status} {body[:300]!r}")
    return json.loads(body)


def sql_rows(url, db, q, auth, api="sql"):
    """GET /api/v3/query_sql or query_influxql (format=json); rows with time in ns."""
    qs = urllib.parse.urlencode({"db": db, "q": q, "format": "json"})
    status, _, body = request("GET", f"{url}/api/v3/query_{api}?{qs}", headers={"Authorization": auth})
    if status != 200:
        raise AssertionError(f"/api/v3/query_{api} {q!r}: {status} {body[:300]!r}")
    rows = json.loads(body)
    for r in rows:
        r["time"] = rfc3339_ns(r["time"])
    return rows


def check_v1(answer_rows, types_answer, pts, precision):
    """Checks /query rows (epoch=ns) and SHOW FIELD KEYS against the points written."""
    want = expected(pts, precision)
    # InfluxDB 1.x JSON writes whole floats without a point (3.0 → 3): compare floats as floats.
    floats = {k for k, t in field_types(pts) if t == "float"}
    for r in answer_rows:
        for k in floats:
            if isinstance(r.get(k), int) and not isinstance(r.get(k), bool):
                r[k] = float(r[k])
    err = compare(want, answer_rows)
    if err:
        raise AssertionError(err)
    got_types = [tuple(v) for v in v1_rows_any(types_answer)]
    if got_types != field_types(pts):
        raise AssertionError(f"SHOW FIELD KEYS: got {got_types}, expected {field_types(pts)}")


def v1_rows_any(answer):
    series = answer["results"][0].get("series") or [{}]
    return series[0].get("values", [])


def check_sql(rows, pts, precision):
    """Checks /api/v3/query_sql rows (absent columns mean null) against the points written."""
    want = expected(pts, precision)
    cols = set(want[0])
    rows = sorted(({c: r.get(c) for c in cols} for r in rows), key=lambda r: (r["time"], r["host"]))
    err = compare(want, rows)
    if err:
        raise AssertionError(err)


class Results:
    """Appends one JSON line per cell to $COMPAT_RESULTS and prints a short line per cell."""

    def __init__(self):
        self.path = env("COMPAT_RESULTS")
        self.target = env("COMPAT_TARGET")
        self.failed = 0

    def run(self, cell, fn):
        cell = {"target": self.target, **cell}
        try:
            fn()
            status, detail = "pass", ""
        except Exception as e:  # every failure becomes a failing cell with its reason
            status = "fail"
            detail = f"{type(e).__name__}: {e}"[:600]
            if "bug" in cell:  # a known server bug: the cell stays failing and says which
                detail = f"{cell['bug']} — {detail}"
            if os.environ.get("COMPAT_VERBOSE"):
                traceback.print_exc()
        self.add(cell, status, detail)

    def add(self, cell, status, detail=""):
        cell = {"target": self.target, **cell, "status": status, "detail": detail}  # cell may name its target
        cell.pop("bug", None)
        if status == "fail":
            self.failed += 1
        with open(self.path, "a") as f:
            f.write(json.dumps(cell, ensure_ascii=False) + "\n")
        key = " ".join(str(cell.get(k, "")) for k in
                       ("client", "endpoint", "auth", "gzip", "precision", "read", "target"))
        print(f"  {status:4} {key}" + (f"\n       {detail}" if detail else ""), flush=True)
