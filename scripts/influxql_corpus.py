#!/usr/bin/env python3
"""InfluxQL corpus: dataset generator and statement runner (stdlib only).

  influxql_corpus.py dataset [DIR]      write DIR/dataset.lp, DIR/dataset-dups.lp and
                                        DIR/dataset-other.lp (deterministic; default DIR is
                                        native-server/tests/influxql)
  influxql_corpus.py run URL [DIR]      against an InfluxDB 1.x at URL (e.g. http://127.0.0.1:18086):
                                        CREATE DATABASE corpus and other, write the dataset files,
                                        run every case of DIR/statements.txt and write DIR/corpus.json

statements.txt: one case per line; blank lines and lines starting with `#` are ignored. A case
may start with a params block, `[epoch=ms] SELECT ...`, `[db=other] ...`, `[epoch=s,db=] SHOW
DATABASES`, `[chunked=true,chunk_size=2] ...`. Every key=value is sent as a /query parameter;
`db` defaults to `corpus` and an empty value (`db=`) means the parameter is not sent at all.

corpus.json: one object per case, in statements.txt order:
  {"q": ..., "params": {query-string parameters sent besides q}, "method": "GET" | "POST",
   "status": HTTP status, "body": parsed JSON body}
With chunked=true the body is one JSON document per line; those are recorded, parsed, in
"chunks" (a list) instead of "body". Statements whose first keyword is CREATE, DROP, DELETE,
ALTER, GRANT, REVOKE or KILL are sent with POST (form-encoded q, other params in the URL), as
the 1.x clients do; all others with GET.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

# 2026-01-01T00:00:00Z .. 2026-01-01T04:00:00Z
T0 = 1767225600 * 10**9
SEC = 10**9
WINDOW = 4 * 3600 * SEC


class Rng:
    """splitmix64: deterministic whatever the Python version."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def int(self, lo, hi):
        """Uniform integer in [lo, hi]."""
        return lo + self.next() % (hi - lo + 1)

    def cents(self, lo, hi):
        """Float with two decimals in [lo, hi]."""
        return self.int(round(lo * 100), round(hi * 100)) / 100

    def chance(self, percent):
        return self.int(1, 100) <= percent

    def pick(self, items):
        return items[self.int(0, len(items) - 1)]


def esc_key(s):
    """Measurement names: escape comma and space."""
    return s.replace(",", "\\,").replace(" ", "\\ ")


def esc_tag(s):
    """Tag keys, tag values and field keys: escape comma, equals sign and space."""
    return s.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def fmt_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "%di" % v
    if isinstance(v, float):
        r = repr(v)
        return r[:-2] if r.endswith(".0") else r
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(v)


def line(measurement, tags, fields, t):
    out = esc_key(measurement)
    for k in sorted(tags):
        out += "," + esc_tag(k) + "=" + esc_tag(tags[k])
    out += " " + ",".join(esc_tag(k) + "=" + fmt_value(v) for k, v in fields.items())
    return out + " %d" % t


def walk(rng, lo_s, hi_s, start=0, gaps=()):
    """Irregular times in seconds from start: steps of lo_s..hi_s, none inside a gap (a, b)."""
    t = start
    while t < WINDOW // SEC:
        if not any(a <= t < b for a, b in gaps):
            yield t
        t += rng.int(lo_s, hi_s)


def dataset():
    rng = Rng(20260101)
    main, dups = [], []
    cpu_points = []

    # cpu: four hosts with region, one host without; a gap 01:20-01:40 for every host and
    # 02:30-03:10 for server02, so 10m windows are empty there.
    hosts = [("server01", "us-east"), ("server02", "us-east"), ("server03", "us-west"),
             ("server04", "eu-central")]
    for host, region in hosts:
        gaps = [(4800, 6000)] + ([(9000, 11400)] if host == "server02" else [])
        for s in walk(rng, 20, 100, rng.int(0, 30), gaps):
            user = rng.cents(0, 90)
            system = rng.cents(0, min(40, 100 - user))
            idle = round(100 - user - system, 2)
            fields = {"usage_user": user, "usage_system": system, "usage_idle": idle,
                      "procs": rng.int(50, 400)}
            tags = {"host": host, "region": region}
            cpu_points.append((tags, s))
            main.append(line("cpu", tags, fields, T0 + s * SEC))
    for s in walk(rng, 600, 1500, 300):
        main.append(line("cpu", {"host": "server05"},
                         {"usage_user": rng.cents(0, 50), "usage_idle": rng.cents(50, 100)},
                         T0 + s * SEC))
    # One exact duplicate line inside the same file.
    main.append(main[10])

    # mem: integer and float fields, negative deltas, large integers (above 2^53).
    for host in ["server01", "server02", "server03"]:
        counter = 2**53 + 1
        for s in walk(rng, 90, 150, rng.int(0, 60)):
            total = 16 * 2**30
            used = rng.int(2 * 2**30, 14 * 2**30)
            counter += rng.int(1, 500) * 2 + 1
            main.append(line("mem", {"host": host}, {
                "used": used, "free": total - used,
                "used_percent": round(used * 100 / total, 3),
                "delta": rng.int(-500, 500),
                "counter": counter,
            }, T0 + s * SEC))
    main.append(line("mem", {"host": "server04"}, {
        "used": 9223372036854775807, "free": -9223372036854775808, "used_percent": -1.5,
        "delta": -9223372036854775807, "counter": 1}, T0 + 3600 * SEC))

    # events: string and boolean fields, strings with quotes, backslashes and non-ASCII.
    messages = ["started", "stopped", "disk \"full\"", "path C:\\temp\\x", "café ☕",
                "user=alice, action=login", "ok", "timeout after 30s", ""]
    for s in walk(rng, 15, 120, 5):
        sev = rng.pick(["info", "info", "info", "warn", "error"])
        main.append(line("events", {"source": rng.pick(["app", "db", "web"]), "severity": sev}, {
            "message": rng.pick(messages), "ok": sev != "error" and rng.chance(90),
            "code": rng.pick([200, 200, 201, 404, 500, 503]),
            "latency": rng.cents(0.1, 900),
        }, T0 + s * SEC))

    # disk: tag values with escaped spaces, commas and equals signs.
    disks = [{"path": "/", "dev": "sda"},
             {"path": "/var/lib data", "dev": "sd,a", "label": "x=y"},
             {"path": "/home", "dev": "nvme0n1"}]
    for tags in disks:
        used = rng.int(10**9, 10**11)
        for s in walk(rng, 240, 360, rng.int(0, 60)):
            used += rng.int(-10**6, 10**8)
            main.append(line("disk", tags, {"used": used, "free": 500 * 10**9 - used,
                                            "used_pct": round(used * 100 / (500 * 10**9), 4)},
                             T0 + s * SEC))

    # "net stats": a measurement name with a space; counters with one reset each.
    for iface in ["eth0", "lo"]:
        rx, tx = rng.int(0, 10**6), rng.int(0, 10**6)
        for s in walk(rng, 60, 120, rng.int(0, 30)):
            if 7200 <= s < 7320:
                rx, tx = 0, 0
            rx += rng.int(1000, 90000)
            tx += rng.int(500, 40000)
            main.append(line("net stats", {"iface": iface},
                             {"rx": rx, "tx": tx, "errors": rng.pick([0, 0, 0, 1, 2])},
                             T0 + s * SEC))

    # "weird,name": comma in the name, space in a tag key and value, space and = in field keys.
    for s in walk(rng, 400, 900, 60):
        main.append(line("weird,name", {"tag key": rng.pick(["value 1", "value 2"])},
                         {"field key": rng.cents(-10, 10), "x=y": rng.int(-5, 5)},
                         T0 + s * SEC))

    # sparse: each field present in only some points.
    sparse_points = []
    for s in walk(rng, 60, 180, 0):
        fields = {}
        if rng.chance(60):
            fields["a"] = rng.cents(-100, 100)
        if rng.chance(50):
            fields["b"] = rng.int(-1000, 1000)
        if rng.chance(40):
            fields["c"] = rng.pick(["red", "green", "blue"])
        if rng.chance(30) or not fields:
            fields["d"] = rng.chance(50)
        tags = {"kind": rng.pick(["x", "y"])}
        sparse_points.append((tags, s, fields))
        main.append(line("sparse", tags, fields, T0 + s * SEC))

    # precise: sub-second timestamps at ms, µs and ns resolution.
    for i, s in enumerate(walk(rng, 200, 400, 1)):
        res = ["ms", "us", "ns"][i % 3]
        frac = {"ms": rng.int(1, 999) * 10**6, "us": rng.int(1, 999999) * 1000,
                "ns": rng.int(1, 999999999)}[res]
        main.append(line("precise", {"res": res}, {"v": rng.cents(-1, 1), "i": i},
                         T0 + s * SEC + frac))
    main.append(line("precise", {"res": "ns"}, {"v": 0.5, "i": -1}, T0 + 1))
    main.append(line("precise", {"res": "ns"}, {"v": 0.25, "i": -2}, T0 + 2))

    # Duplicates: same series and time, only some fields, new values (later write wins per field).
    for k in range(40):
        tags, s = cpu_points[rng.int(0, len(cpu_points) - 1)]
        fields = {"usage_user": rng.cents(90, 99)} if k % 4 else {"procs": rng.int(1000, 2000)}
        dups.append(line("cpu", tags, fields, T0 + s * SEC))
    for k in range(12):
        tags, s, fields = sparse_points[rng.int(0, len(sparse_points) - 1)]
        missing = [f for f in "abcd" if f not in fields] or ["a"]
        f = missing[0]
        value = {"a": rng.cents(-100, 100), "b": rng.int(-1000, 1000), "c": "added",
                 "d": True}[f]
        dups.append(line("sparse", tags, {f: value}, T0 + s * SEC))
    # The very first cpu line again, unchanged (idempotent re-write).
    dups.append(main[0])

    other = []
    for i in range(6):
        other.append(line("cpu", {"host": "otherhost"}, {"usage_user": 10.5 + i, "procs": i},
                          T0 + i * 600 * SEC))
    for i in range(3):
        other.append(line("only_other", {"k": "v%d" % i}, {"x": i * 1.25}, T0 + i * SEC))
    return main, dups, other


def write_dataset(d):
    main, dups, other = dataset()
    for name, lines in [("dataset.lp", main), ("dataset-dups.lp", dups),
                        ("dataset-other.lp", other)]:
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        print("%s: %d lines" % (os.path.join(d, name), len(lines)))


MUTATING = ("CREATE", "DROP", "DELETE", "ALTER", "GRANT", "REVOKE", "KILL")


def parse_cases(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            s = raw.strip()
            if not s or s.startswith("#"):
                continue
            params = {"db": "corpus"}
            if s.startswith("["):
                end = s.index("]")
                for kv in s[1:end].split(","):
                    k, _, v = kv.strip().partition("=")
                    params[k] = v
                s = s[end + 1:].strip()
            params = {k: v for k, v in params.items() if v != ""}
            cases.append((s, params))
    return cases


def request(url, method, path, params, body=None):
    full = url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    data = None
    headers = {}
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if isinstance(body, dict) else body
        headers["Content-Type"] = ("application/x-www-form-urlencoded" if isinstance(body, dict)
                                   else "text/plain; charset=utf-8")
    req = urllib.request.Request(full, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def dump(v, indent=""):
    """Pretty-printed JSON, keys in the server's order; arrays of scalars (rows, column lists)
    on one line."""
    inner = indent + "  "
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [inner + json.dumps(k, ensure_ascii=False) + ": " + dump(x, inner)
                 for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(v, list):
        if all(not isinstance(x, (dict, list)) for x in v):
            return json.dumps(v, ensure_ascii=False)
        return "[\n" + ",\n".join(inner + dump(x, inner) for x in v) + "\n" + indent + "]"
    return json.dumps(v, ensure_ascii=False)


def run(url, d):
    for db in ["corpus", "other"]:
        status, body = request(url, "POST", "/query", {}, {"q": "CREATE DATABASE " + db})
        assert status == 200, (status, body)
    for db, name in [("corpus", "dataset.lp"), ("corpus", "dataset-dups.lp"),
                     ("other", "dataset-other.lp")]:
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        status, body = request(url, "POST", "/write", {"db": db, "precision": "ns"}, data)
        if status != 204:
            sys.exit("write %s: HTTP %d %s" % (name, status, body.decode()))

    out = []
    for q, params in parse_cases(os.path.join(d, "statements.txt")):
        words = [w.upper() for w in q.replace(";", " ; ").split()]
        starts = [words[0]] + [words[i + 1] for i, w in enumerate(words[:-1]) if w == ";"] \
            if words else []
        method = "POST" if any(w in MUTATING for w in starts) else "GET"
        if method == "GET":
            status, body = request(url, "GET", "/query", dict(params, q=q))
        else:
            status, body = request(url, "POST", "/query", params, {"q": q})
        case = {"q": q, "params": params, "method": method, "status": status}
        text = body.decode("utf-8")
        if params.get("chunked") == "true":
            case["chunks"] = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        else:
            case["body"] = json.loads(text) if text.strip() else None
        out.append(case)
    path = os.path.join(d, "corpus.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dump(out) + "\n")
    print("%s: %d cases" % (path, len(out)))


def main():
    here = os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                        "native-server", "tests", "influxql"))
    args = sys.argv[1:]
    if args[:1] == ["dataset"]:
        write_dataset(args[1] if len(args) > 1 else here)
    elif args[:1] == ["run"] and len(args) >= 2:
        run(args[1].rstrip("/"), args[2] if len(args) > 2 else here)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
