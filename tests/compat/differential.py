#!/usr/bin/env python3
"""Differential run: the same line-protocol corpus to linegate and to InfluxDB 1.6.7 through
`/write`, one database per case, then the same reads from both (SHOW MEASUREMENTS, SELECT *
with epoch=ns, SHOW FIELD KEYS). Which requests are accepted (status codes) and what is stored
must agree, except the cases listed in tests/compat/DIFFERENCES.md, each with its reason (a
listed case that no longer differs fails too, so the table stays true).

    differential.py LINEGATE_URL LINEGATE_TOKEN INFLUXD_URL [WORKER_URL WORKER_TOKEN]

With a Worker (under wrangler dev, in front of LINEGATE_URL), every case is also written through
it and read back from the server: the Worker validates and re-encodes each batch before
forwarding it, and what it stores must be exactly what the server stores when written directly
(no documented differences there).

Writes tests/compat/differential.md (every case and its outcome) and one matrix cell.
"""

import json
import os
import re
import sys
import urllib.parse

from common import Results, request

HERE = os.path.dirname(os.path.abspath(__file__))
T = 1_700_000_000_000_000_000  # ns
TS = 1_700_000_000  # s


def case(name, *bodies, precision=None, no_time=False, gzip=False):
    """no_time: the lines carry no timestamp, so each server stamps its own clock; the stored
    times are then compared as "(now)". gzip: bodies sent with Content-Encoding: gzip."""
    return dict(name=name, bodies=list(bodies), precision=precision, no_time=no_time, gzip=gzip)


def one(name, line, **kw):
    """A single line in one request (newline-terminated, as clients send it)."""
    return case(name, line + "\n", **kw)


def corpus():
    c = []
    # Every type, and the spellings of each.
    c.append(one("all-types", f'm f=1.5,i=42i,s="str",b=true {T}'))
    for b in ("t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE", "tRUE", "yes"):
        c.append(one(f"bool-{b}", f"m v={b} {T}"))
    for f in ("1", "1.", ".5", "-0.5", "+1.5", "1e10", "1E10", "1e-5", "-1.5e+3", "01.5",
              "1.7976931348623157e308", "4.9e-324", "1e309", "-1e309", "NaN", "nan", "inf",
              "-Inf", "Infinity", "1_000", "0x10", "1.5.5", "-", "."):
        c.append(one(f"float-{f}", f"m v={f} {T}"))
    for i in ("0i", "-0i", "9223372036854775807i", "-9223372036854775808i",
              "9223372036854775808i", "-9223372036854775809i", "+5i", "1.5i", "i", "5I", "0x10i"):
        c.append(one(f"int-{i}", f"m v={i} {T}"))
    for u in ("0u", "18446744073709551615u", "18446744073709551616u", "-1u"):
        c.append(one(f"uint-{u}", f"m v={u} {T}"))
    # Strings: escapes, a backslash that escapes nothing, newlines, unicode, long ones.
    for label, s in (("empty", '""'), ("escaped-quote", r'"a \"q\" b"'), ("backslash-pair", r'"a\\b"'),
                     ("lone-backslash", r'"a\b"'), ("trailing-backslash", '"a\\\\"'),
                     ("newline", '"two\nlines"'), ("unicode", '"ünïcode ✓ 日本 🚀"'),
                     ("comma-space-equals", '"a, b=c d"'), ("unterminated", '"open'),
                     ("64KiB", '"' + "x" * 65535 + '"'), ("64KiB+1", '"' + "x" * 65537 + '"'),
                     ("1MiB", '"' + "y" * (1 << 20) + '"')):
        c.append(one(f"string-{label}", f"m s={s} {T}"))
    # Names: escapes and unicode in measurements, tag keys and values, field keys.
    for label, line, no_time in ((*x, False) if len(x) == 2 else x for x in (
            ("measurement-escapes", rf"m\,1\ x v=1 {T}"),
            ("measurement-unicode", f"温度 v=1 {T}"),
            ("measurement-equals", f"a=b v=1 {T}"),
            ("measurement-quote", f'"m" v=1 {T}'),
            ("tag-escapes", rf"m,k\ 1=v\,1\=x\ y v=1 {T}"),
            ("tag-unicode", f"m,é=ünï✓ v=1 {T}"),
            ("tag-value-backslash-end", f"m,k=a\\\\ v=1 {T}"),
            ("field-key-escapes", rf"m f\ 1\,x\=y=1 {T}"),
            ("field-key-unicode", f"m 🚀=1 {T}"),
            ("tags-unsorted", f"m,z=1,a=2 v=1 {T}"),
            ("tag-empty-value", f"m,k= v=1 {T}"),
            ("tag-empty-key", f"m,=v v=1 {T}"),
            ("tag-no-equals", f"m,k v=1 {T}"),
            ("no-measurement", f",k=v v=1 {T}"),
            ("no-fields", f"m,k=v {T}"),
            ("field-no-value", f"m v= {T}"),
            ("field-no-key", f"m =1 {T}"),
            ("two-spaces-before-fields", f"m  v=1 {T}"),
            ("leading-space", f" m v=1 {T}"),
            ("trailing-space-after-fields", "m v=1 ", True),
            ("trailing-space-after-time", f"m v=1 {T} "),
            ("field-named-time", f"m time=1,v=1 {T}"),
            ("only-field-named-time", f"m time=1 {T}"),
            ("tag-named-time", f"m,time=x v=1 {T}"),
            ("tag-and-field-same-name", f"m,a=x a=1 {T}"),
            ("duplicate-field", f"m a=1,a=2 {T}"),
            ("duplicate-field-types", f"m a=1,a=2i {T}"),
            ("duplicate-tag", f"m,k=1,k=2 v=1 {T}"),
            ("only-measurement", "m", True),
            ("no-fields-no-time", "m,k=v", True),
    )):
        c.append(one(label, line, no_time=no_time))
    # Timestamps.
    for label, ts in (("zero", "0"), ("negative", "-1700000000000000000"),
                      ("negative-not-whole", "-1700000000000000001"), ("int64-max", "9223372036854775807"),
                      ("int64-max-1", "9223372036854775806"), ("int64-min", "-9223372036854775808"),
                      ("int64-min+2", "-9223372036854775806"), ("overflow", "9223372036854775808"),
                      ("float", "1.5"), ("letters", "12ab"), ("plus", "+1700000000000000000"),
                      ("extra-token", f"{T} 5")):
        c.append(one(f"time-{label}", f"m v=1 {ts}"))
    c.append(one("time-missing", "m v=1", no_time=True))
    for p, ts in (("n", T), ("ns", T), ("u", T // 1000), ("us", T // 1000), ("ms", T // 10**6),
                  ("s", TS), ("m", TS // 60), ("h", TS // 3600), ("x", T), ("", T)):
        c.append(one(f"precision-{p or 'empty'}", f"m v=1 {ts}", precision=p))
    c.append(one("precision-s-overflow", "m v=1 9999999999999", precision="s"))
    # Line endings, comments, blank lines; several lines in one request.
    c.append(case("crlf", f"m v=1 {T}\r\nm v=2 {T + 1}\r\n"))
    c.append(case("no-final-newline", f"m v=1 {T}"))
    c.append(case("comments-and-blank-lines", f"# a comment\n\nm v=1 {T}\n  \n# another\nm v=2 {T + 1}\n"))
    c.append(case("batch-all-good", "".join(f"m,h=h{k} v={k}i,s=\"{k}\" {T + k}\n" for k in range(50))))
    c.append(case("batch-one-bad-line", f"m v=1 {T}\nm v=oops {T + 1}\nm v=3 {T + 2}\n"))
    # Schema: type conflicts across requests and inside one; duplicate points.
    c.append(case("type-conflict-across-requests", f"m v=1i {T}\n", f"m v=1.5 {T + 1}\n"))
    c.append(case("type-conflict-in-batch", f"m v=1i {T}\nm v=1.5 {T + 1}\n"))
    c.append(case("type-conflict-other-measurement-ok", f"a v=1i {T}\n", f"b v=1.5 {T}\n"))
    c.append(case("duplicate-point-last-wins", f"m,h=a v=1 {T}\n", f"m,h=a v=2 {T}\n"))
    c.append(case("duplicate-point-in-batch", f"m,h=a v=1 {T}\nm,h=a v=2 {T}\n"))
    c.append(case("duplicate-point-fields-merge", f"m,h=a a=1 {T}\n", f"m,h=a b=2 {T}\n"))
    c.append(case("duplicate-point-tag-order", f"m,b=2,a=1 v=1 {T}\n", f"m,a=1,b=2 v=2 {T}\n"))
    c.append(case("new-tag-later", f"m,a=1 v=1 {T}\n", f"m,a=1,b=2 v=2 {T + 1}\n"))
    c.append(case("new-field-later", f"m v=1 {T}\n", f"m v=2,w=\"x\" {T + 1}\n"))
    c.append(case("tag-then-field-same-name", f"m,a=x v=1 {T}\n", f"m a=1 {T + 1}\n"))
    c.append(case("field-then-tag-same-name", f"m a=1 {T}\n", f"m,a=x v=1 {T + 1}\n"))
    c.append(case("case-sensitive-names", f"m v=1 {T}\nM v=2 {T}\nm V=3 {T}\n"))
    # Separators and sizes.
    for label, line in (("tab-separator", f"m\tv=1 {T}"), ("comma-after-fields", f"m v=1, {T}"),
                        ("unescaped-space-in-measurement", f"m x v=1 {T}"),
                        ("unescaped-equals-in-tag-value", f"m,k=a=b v=1 {T}"),
                        ("comment-line-alone", f"#m v=1 {T}"),
                        ("underscore-names", f"_m,_k=_v _f=1 {T}"),
                        ("long-measurement", "m" * 300 + f" v=1 {T}"),
                        ("many-tags-99", "m" + "".join(f",t{k:03}=v{k}" for k in range(99)) + f" v=1 {T}"),
                        ("many-tags-100", "m" + "".join(f",t{k:03}=v{k}" for k in range(100)) + f" v=1 {T}"),
                        ("many-fields", "m " + ",".join(f"f{k:03}={k}i" for k in range(200)) + f" {T}")):
        c.append(one(label, line))
    c.append(case("empty-body", ""))
    c.append(case("only-comments", "# nothing here\n\n"))
    c.append(case("precision-ms-batch", "".join(f"m,h=h{k} v={k}.5 {T // 10**6 + k}\n" for k in range(20)),
                  precision="ms"))
    c.append(case("gzip-batch", "".join(f"m,h=h{k % 3} v={k}i,s=\"é{k}\" {T + k * 1000}\n" for k in range(300)),
                  gzip=True))
    c.append(case("gzip-one-bad-line", f"m v=1 {T}\nm v=1x {T + 1}\n", gzip=True))
    return c


# ---- the two servers ---------------------------------------------------------------------
class Server:
    """Writes to `url`; reads from `read_url` (default the same): the Worker's writes are read
    back from the server behind it, so that only its write path is compared."""

    def __init__(self, name, url, token=None, read_url=None, read_token=None):
        self.name, self.url, self.read_url = name, url, read_url or url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.read_headers = {"Authorization": f"Bearer {read_token}"} if read_token else self.headers

    def query(self, db, q, epoch="ns"):
        qs = urllib.parse.urlencode({"db": db, "q": q, "epoch": epoch})
        status, _, body = request("POST", f"{self.read_url}/query?{qs}", b"", self.read_headers)
        if status != 200:
            return {"status": status, "body": body.decode(errors="replace")[:200]}
        return json.loads(body)

    def write(self, db, body, precision, gzip=False):
        qs = {"db": db}
        if precision is not None:
            qs["precision"] = precision
        status, _, text = request("POST", f"{self.url}/write?{urllib.parse.urlencode(qs)}",
                                  body.encode(), self.headers, gzip=gzip)
        return status, text.decode(errors="replace")[:300]


def ident(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def values(answer):
    res = answer.get("results", [{}])[0] if isinstance(answer, dict) else {}
    if "error" in res:
        return {"error": res["error"]}
    return [[tuple(s.get("tags", {}).items()), s["columns"], s["values"]] for s in res.get("series", [])]


EPOCHS = ("", "u", "ms", "s", "m", "h")


def outcome(server, db, c):
    statuses, errors = [], []
    for body in c["bodies"]:
        status, text = server.write(db, body, c["precision"], c["gzip"])
        statuses.append(status)
        errors.append(text)
    stored = {}
    shown = server.query(db, "SHOW MEASUREMENTS")
    names = sorted(v[0] for s in shown.get("results", [{}])[0].get("series", []) for v in s["values"]) \
        if "results" in shown else []
    for name in names:
        rows = values(server.query(db, f"SELECT * FROM {ident(name)}"))
        if c["no_time"] and isinstance(rows, list):
            rows = [[t, cols, [["(now)", *v[1:]] for v in vals]] for t, cols, vals in rows]
        stored[name] = {"rows": rows, "types": values(server.query(db, f"SHOW FIELD KEYS FROM {ident(name)}"))}
        if not c["no_time"]:
            # The other time formats of /query: RFC3339 (empty epoch, as node-influx asks) and
            # the epochs that divide the nanoseconds.
            for epoch in EPOCHS:
                stored[name][f"epoch={epoch}"] = values(server.query(db, f"SELECT * FROM {ident(name)}", epoch))
    return {"statuses": statuses, "stored": stored}, errors


# Differences that are linegate bugs (reported, not decided) stay failing until fixed; a note
# here makes the failing cell say what is wrong. None are open.
BUGS = {}


def documented():
    """Case names of tests/compat/DIFFERENCES.md (first column, in backticks)."""
    text = open(os.path.join(HERE, "DIFFERENCES.md"), encoding="utf-8").read()
    return set(re.findall(r"^\| `([^`]+)` \|", text, re.M))


def short(o):
    text = json.dumps(o, ensure_ascii=False)
    return text if len(text) < 300 else text[:300] + "…"


def main():
    lg = Server("linegate", sys.argv[1], sys.argv[2])
    ref = Server("InfluxDB 1.6.7", sys.argv[3])
    known = documented()
    cases = corpus()
    edge = Server("Worker", sys.argv[4], sys.argv[5], sys.argv[1], sys.argv[2]) if len(sys.argv) > 5 else None
    report, unexpected, stale, edge_diff = [], [], [], []
    run = os.urandom(3).hex()  # fresh databases even against servers that ran this before
    for n, c in enumerate(cases):
        db = f"diff_{run}_{n}"
        ref.query(db, f"CREATE DATABASE {ident(db)}")  # 1.x wants it; linegate creates on write
        a, a_err = outcome(lg, db, c)
        b, b_err = outcome(ref, db, c)
        if edge:
            w, w_err = outcome(edge, f"diffw_{run}_{n}", c)
            if w != a:
                edge_diff.append(c["name"])
                print(f"  FAIL: Worker ≠ server: {c['name']}\n    server: {short(a)} {a_err}\n    worker: {short(w)} {w_err}")
        same = a == b
        listed = c["name"] in known
        if same and not listed:
            verdict = "agree"
        elif same:
            verdict = "FAIL: listed in DIFFERENCES.md but agrees now"
            stale.append(c["name"])
        elif listed:
            verdict = "documented difference"
        else:
            verdict = "FAIL: a linegate bug" if c["name"] in BUGS else "FAIL: undocumented difference"
            unexpected.append(c["name"])
        report.append((c, verdict, a, b, a_err, b_err))
        if verdict.startswith("FAIL"):
            print(f"  {verdict}: {c['name']}\n    linegate: {short(a)} {a_err}\n    influxdb: {short(b)} {b_err}")
    write_report(report)
    agree = sum(1 for r in report if r[1] == "agree")
    docs = sum(1 for r in report if r[1] == "documented difference")
    print(f"differential: {len(cases)} cases, {agree} agree, {docs} documented differences, "
          f"{len(unexpected)} undocumented, {len(stale)} stale entries")
    detail = "; ".join(filter(None, [
        "undocumented differences: " + "; ".join(
            f"{bug} (cases {', '.join(u for u in unexpected if BUGS.get(u, u) == bug)})"
            for bug in dict.fromkeys(BUGS.get(u, u) for u in unexpected)) if unexpected else "",
        f"DIFFERENCES.md entries that agree now: {', '.join(stale)}" if stale else ""]))
    Results().add(dict(client=f"differential vs InfluxDB 1.6.7 ({len(cases)} cases, tests/compat/differential.md)",
                       endpoint="/write (one request per case line or batch)", auth="Bearer / none",
                       gzip="off", precision="ns, n, u, us, ms, s, m, h, unknown",
                       read=f"/query SELECT * (epoch ns, u, ms, s, m, h, RFC3339) + SHOW FIELD KEYS: {agree} agree, {docs} documented differences"),
                  "fail" if detail else "pass", detail)
    if edge:
        Results().add(dict(client=f"differential: Worker vs server ({len(cases)} cases)",
                           endpoint="/write through the Worker vs straight to the server", auth="Bearer",
                           gzip="off", precision="ns, n, u, us, ms, s, m, h, unknown",
                           read="/query on the server: statuses and stored points identical",
                           target="worker"),
                      "fail" if edge_diff else "pass",
                      f"the Worker differs on: {', '.join(edge_diff)}" if edge_diff else "")
    return 1 if detail or edge_diff else 0


def write_report(report):
    lines = ["# Differential run: linegate vs InfluxDB 1.6.7", "",
             "Generated by scripts/test-compat.sh (tests/compat/differential.py): each case sent to both "
             "servers through `/write` (a fresh database per case), then read back with `SELECT *` "
             "(epoch=ns, u, ms, s, m, h and RFC3339) and `SHOW FIELD KEYS`. Documented differences: DIFFERENCES.md.", "",
             "| case | outcome | statuses linegate / 1.6.7 |", "|---|---|---|"]
    for c, verdict, a, b, _, _ in report:
        lines.append(f"| `{c['name']}` | {verdict} | {a['statuses']} / {b['statuses']} |")
    with open(os.path.join(HERE, "differential.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
