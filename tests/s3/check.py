#!/usr/bin/env python3
"""Checks for scripts/test-s3.sh: linegate with `--object-store s3` against a local S3 server.

Each subcommand does one step and exits non-zero (with a message) when it fails. The points
written, and what every check expects back, are in BATCHES below: several tables, every
field type (float, integer `i`, unsigned `u`, string, boolean), missing fields and tags,
escapes, extreme values, sub-second times and two Parquet time windows.

Only 127.0.0.1 is contacted. pyarrow is optional: without it the Parquet contents are not
decoded (the objects are still listed and matched against the manifest).
"""

import argparse
import datetime
import io
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

T0 = 1641024000 * 10**9  # 2022-01-01T08:00:00Z, in nanoseconds
MIN = 60 * 10**9

# Column types per table, as the line protocol gives them.
TABLES = {
    "home": {"tags": ["room"],
             "fields": {"temp": "float", "humidity": "integer", "count": "uinteger",
                        "status": "string", "heater": "boolean"}},
    "cpu": {"tags": ["host", "region"],
            "fields": {"usage_user": "float", "usage_idle": "float"}},
    "events": {"tags": ["source"],
               "fields": {"message": "string", "level": "integer", "ack": "boolean",
                          "code": "uinteger"}},
    "metrics": {"tags": [],
                "fields": {"value": "float", "n": "integer", "u": "uinteger", "s": "string",
                           "b": "boolean"}},
    "scratch_t": {"tags": ["k"], "fields": {"x": "float"}},
}


def row(**values):
    return values


# batch -> database -> [(line protocol, table, expected row)]; times in nanoseconds (precision=ns).
BATCHES = {
    "A": {
        "s3db": [
            (f"home,room=kitchen temp=72.5,humidity=40i,count=18446744073709551615u,status=\"ok\",heater=true {T0}",
             "home", row(room="kitchen", temp=72.5, humidity=40, count=18446744073709551615,
                         status="ok", heater=True, time=T0)),
            (f"home,room=living\\ room temp=-3.25,humidity=-9223372036854775808i,count=0u,"
             f"status=\"say \\\"hi\\\", ok\\\\\",heater=false {T0 + 123456789}",
             "home", row(room="living room", temp=-3.25, humidity=-9223372036854775808, count=0,
                         status='say "hi", ok\\', heater=False, time=T0 + 123456789)),
            # Ten minutes later: another Parquet time window. Fields left out are nulls.
            (f"home,room=kitchen temp=0.001,humidity=9223372036854775807i {T0 + 10 * MIN + 1}",
             "home", row(room="kitchen", temp=0.001, humidity=9223372036854775807,
                         time=T0 + 10 * MIN + 1)),
            (f"home,room=cellar status=\"\",heater=T {T0 + 11 * MIN}",
             "home", row(room="cellar", status="", heater=True, time=T0 + 11 * MIN)),
            (f"cpu,host=a,region=eu usage_user=12.5,usage_idle=87.5 {T0}",
             "cpu", row(host="a", region="eu", usage_user=12.5, usage_idle=87.5, time=T0)),
            (f"cpu,host=b usage_user=0,usage_idle=100 {T0 + 10**9}",
             "cpu", row(host="b", usage_user=0.0, usage_idle=100.0, time=T0 + 10**9)),
            (f"cpu,host=a,region=eu usage_user=1e-300,usage_idle=1.7976931348623157e308 {T0 + 2 * 10**9}",
             "cpu", row(host="a", region="eu", usage_user=1e-300,
                        usage_idle=1.7976931348623157e308, time=T0 + 2 * 10**9)),
            (f"events,source=app message=\"démarrage ✓ ünïcode\",level=3i,ack=t,code=42u {T0 + 3 * 10**9}",
             "events", row(source="app", message="démarrage ✓ ünïcode", level=3, ack=True,
                           code=42, time=T0 + 3 * 10**9)),
            (f"events,source=app message=\"line1\\nline2 = x, y\",level=-1i,ack=F,code=1u {T0 + 4 * 10**9}",
             "events", row(source="app", message="line1\\nline2 = x, y", level=-1, ack=False,
                           code=1, time=T0 + 4 * 10**9)),
        ],
        # A second database, dropped later: its files must leave the bucket.
        "scratch": [
            (f"scratch_t,k=v x=1 {T0}", "scratch_t", row(k="v", x=1.0, time=T0)),
            (f"scratch_t,k=w x=2 {T0 + 1}", "scratch_t", row(k="w", x=2.0, time=T0 + 1)),
        ],
    },
    "B": {
        "s3db": [
            (f"home,room=garage temp=55,humidity=10i,count=7u,status=\"new\",heater=false {T0 + 5 * 10**9}",
             "home", row(room="garage", temp=55.0, humidity=10, count=7, status="new",
                         heater=False, time=T0 + 5 * 10**9)),
            (f"metrics value=1.5,n=2i,u=3u,s=\"b\",b=TRUE {T0 + 7 * 10**9}",
             "metrics", row(value=1.5, n=2, u=3, s="b", b=True, time=T0 + 7 * 10**9)),
            (f"metrics value=-0.5,n=0i,u=18446744073709551615u,s=\"z\",b=False {T0 + 8 * 10**9}",
             "metrics", row(value=-0.5, n=0, u=18446744073709551615, s="z", b=False,
                            time=T0 + 8 * 10**9)),
        ],
    },
}


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def expected(batches, database):
    """table -> [row] for the given batch names."""
    out = {}
    for name in batches:
        for _, table, r in BATCHES[name].get(database, []):
            out.setdefault(table, []).append(r)
    return out


def canon(rows):
    """Rows as a sorted list of JSON strings, so they compare as multisets."""
    return sorted(json.dumps({k: v for k, v in r.items() if v is not None}, sort_keys=True)
                  for r in rows)


def same_rows(what, got, want):
    g, w = canon(got), canon(want)
    if g != w:
        missing = [x for x in w if x not in g]
        extra = [x for x in g if x not in w]
        fail(f"{what}: rows differ\n  missing: {missing}\n  unexpected: {extra}")


def parse_time(text):
    """Arrow's JSON time ('2022-01-01T08:00:00.123456789', UTC) as nanoseconds."""
    text = text.rstrip("Z")
    base, _, frac = text.partition(".")
    seconds = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return int(seconds) * 10**9 + int((frac + "000000000")[:9])


# ---- HTTP ---------------------------------------------------------------------------------

def http(method, url, token=None, body=None, timeout=30):
    request = urllib.request.Request(url, data=body, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def sql(args, database, q):
    query = urllib.parse.urlencode({"db": database, "q": q, "format": "json"})
    return http("GET", f"{args.url}/api/v3/query_sql?{query}", args.token)


def query_rows(args, database, q):
    status, body = sql(args, database, q)
    if status != 200:
        fail(f"{q!r} on {database}: HTTP {status}: {body.decode(errors='replace')[:500]}")
    rows = json.loads(body)
    for r in rows:
        if "time" in r:
            r["time"] = parse_time(r["time"])
    return rows


# ---- S3 -----------------------------------------------------------------------------------

def s3_client(args):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=args.endpoint, aws_access_key_id="x",
                        aws_secret_access_key="y", region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=2,
                                      read_timeout=10))


def list_keys(args):
    s3 = s3_client(args)
    keys = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket):
        for o in page.get("Contents", []):
            keys[o["Key"]] = o["Size"]
    return keys


def manifest(args):
    with open(os.path.join(args.data_dir, "snapshot.json"), encoding="utf-8") as f:
        return json.load(f)


def table_of(columns):
    """The table whose columns are exactly `columns` (the tables' column sets differ)."""
    for name, t in TABLES.items():
        if set(columns) == set(t["tags"]) | set(t["fields"]) | {"time"}:
            return name
    fail(f"a Parquet file has columns {sorted(columns)}, which match no table written")


# ---- subcommands --------------------------------------------------------------------------

def cmd_free_ports(args):
    socks = []
    for _ in range(args.count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def cmd_bucket(args):
    """Waits for the S3 server, then creates the bucket."""
    deadline = time.time() + args.timeout
    while True:
        try:
            s3_client(args).create_bucket(Bucket=args.bucket)
            break
        except Exception as e:  # connection refused while the server starts
            if time.time() > deadline:
                fail(f"S3 server at {args.endpoint} not answering: {e}")
            time.sleep(0.2)
    print(f"bucket {args.bucket} created at {args.endpoint}")


def cmd_wait_http(args):
    deadline = time.time() + args.timeout
    while True:
        try:
            os.kill(args.pid, 0)
        except OSError:
            fail(f"linegate (pid {args.pid}) exited before answering")
        try:
            status, _ = http("GET", f"{args.url}/health", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        if time.time() > deadline:
            fail(f"linegate at {args.url} not healthy after {args.timeout}s")
        time.sleep(0.1)


def cmd_write(args):
    n = 0
    for database, points in BATCHES[args.batch].items():
        body = "\n".join(lp for lp, _, _ in points).encode()
        url = f"{args.url}/api/v3/write_lp?" + urllib.parse.urlencode(
            {"db": database, "precision": "ns"})
        status, text = http("POST", url, args.token, body)
        if status != 204:
            fail(f"write of batch {args.batch} to {database}: HTTP {status}: {text[:500]!r}")
        n += len(points)
    print(f"wrote batch {args.batch}: {n} points")


def cmd_query(args):
    """Every point of the given batches comes back through /api/v3/query_sql, with its values."""
    batches = args.batches.split(",")
    databases = {db for b in batches for db in BATCHES[b]} - set(args.skip_db or [])
    checked = 0
    for database in sorted(databases):
        for table, want in sorted(expected(batches, database).items()):
            got = query_rows(args, database, f'SELECT * FROM "{table}"')
            same_rows(f"SELECT * FROM {table} ({database})", got, want)
            count = query_rows(args, database, f'SELECT count(*) AS n FROM "{table}"')
            if count != [{"n": len(want)}]:
                fail(f"count(*) of {table}: {count}, expected {len(want)}")
            checked += len(want)
    # A time filter across the two windows (and across S3 files and buffered rows).
    since = T0 + 10 * MIN
    want = [r for r in expected(batches, "s3db")["home"] if r["time"] >= since]
    got = query_rows(args, "s3db",
                     "SELECT * FROM home WHERE time >= '2022-01-01T08:10:00' ORDER BY time")
    same_rows("home since 08:10", got, want)
    if [r["time"] for r in got] != sorted(r["time"] for r in want):
        fail("ORDER BY time not honoured")
    print(f"query: {checked} points of batches {args.batches} returned with their values")


def cmd_objects(args):
    """This server's prefix holds exactly the manifest's Parquet files; with pyarrow, their rows."""
    keys = list_keys(args)
    m = manifest(args)
    listed = {f["path"]: f for f in m["files"]}
    ours = m["instance"] + "/"
    parquet = {k: v for k, v in keys.items() if k.endswith(".parquet") and k.startswith(ours)}
    if not parquet:
        fail(f"no .parquet objects in bucket {args.bucket} (objects: {sorted(keys)})")
    if set(parquet) != set(listed):
        fail(f"bucket and manifest disagree\n  bucket only: {sorted(set(parquet) - set(listed))}"
             f"\n  manifest only: {sorted(set(listed) - set(parquet))}")
    for path, f in listed.items():
        if parquet[path] != f["size"]:
            fail(f"{path}: {parquet[path]} bytes in the bucket, manifest says {f['size']}")
    print(f"bucket: {len(parquet)} .parquet objects, all listed in the manifest with their sizes")
    if args.wal_empty:
        wal = os.path.join(args.data_dir, "wal")
        # After a clean stop only the fresh, empty segment is left: everything is in S3.
        records = [n for n in os.listdir(wal) if os.path.getsize(os.path.join(wal, n)) > 0]
        if records:
            fail(f"WAL segments still hold data after the final persist: {records}")

    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        print("pyarrow not installed: Parquet contents not decoded (SKIPPED)")
        return
    arrow_type = {"float": pa.float64(), "integer": pa.int64(), "uinteger": pa.uint64(),
                  "boolean": pa.bool_()}
    s3 = s3_client(args)
    got = {}
    for path, f in sorted(listed.items()):
        data = s3.get_object(Bucket=args.bucket, Key=path)["Body"].read()
        table = pq.read_table(io.BytesIO(data))
        name = table_of(table.column_names)
        spec = TABLES[name]
        for column, kind in spec["fields"].items():
            t = table.schema.field(column).type
            if kind == "string":
                ok = pa.types.is_string(t) or pa.types.is_large_string(t) or \
                    getattr(pa.types, "is_string_view", lambda _: False)(t)
            else:
                ok = t == arrow_type[kind]
            if not ok:
                fail(f"{path}: column {column} is {t}, expected {kind}")
        if not pa.types.is_timestamp(table.schema.field("time").type):
            fail(f"{path}: time column is {table.schema.field('time').type}")
        if table.num_rows != f["rows"]:
            fail(f"{path}: {table.num_rows} rows, manifest says {f['rows']}")
        times = table.column("time").cast(pa.int64()).to_pylist()
        if min(times) != f["min_time"] or max(times) != f["max_time"]:
            fail(f"{path}: times {min(times)}..{max(times)}, manifest says "
                 f"{f['min_time']}..{f['max_time']}")
        if min(times) // (10 * MIN) != max(times) // (10 * MIN):
            fail(f"{path}: rows from more than one 10-minute window")
        columns = {c: (times if c == "time" else table.column(c).to_pylist())
                   for c in table.column_names}
        rows = [{c: columns[c][i] for c in columns} for i in range(table.num_rows)]
        got.setdefault(name, []).extend(rows)
    batches = args.batches.split(",")
    want = {}
    for database in {db for b in batches for db in BATCHES[b]} - set(args.skip_db or []):
        for table, rows in expected(batches, database).items():
            want[table] = rows
    if set(got) != set(want):
        fail(f"tables in Parquet {sorted(got)}, expected {sorted(want)}")
    for name in want:
        same_rows(f"Parquet rows of {name}", got[name], want[name])
    n = sum(len(r) for r in want.values())
    print(f"parquet (pyarrow {pa.__version__}): {n} rows in {len(listed)} files decoded "
          "with the right types and values")


def stray_keys(args):
    instance = manifest(args)["instance"]
    return {
        # what a snapshot that crashed before listing its file leaves: must go
        "ours": f"{instance}/1/99/2022-01-01/0800/9999999999.parquet",
        # another server's file in the shared bucket: must stay
        "theirs": "0123456789abcdef/1/2/2022-01-01/0800/0000000000.parquet",
        # not linegate's at all: must stay
        "foreign": "README.txt",
    }


def cmd_put_strays(args):
    """Objects a restart must remove (an unlisted file of ours) or keep (everything else)."""
    s3 = s3_client(args)
    for key in stray_keys(args).values():
        s3.put_object(Bucket=args.bucket, Key=key, Body=b"PAR1")


def cmd_check_strays(args):
    keys = list_keys(args)
    stray = stray_keys(args)
    if stray["ours"] in keys:
        fail("the unlisted .parquet object of this server was not removed at start-up")
    if stray["theirs"] not in keys:
        fail("another server's .parquet object in the shared bucket was removed at start-up")
    if stray["foreign"] not in keys:
        fail("an object that is not linegate's was removed at start-up")
    print("start-up removed this server's unlisted .parquet object and kept the others")


def cmd_wait_persist(args):
    """Waits until the manifest lists more than --more-than files (a periodic persist)."""
    deadline = time.time() + args.timeout
    while True:
        try:
            n = len(manifest(args)["files"])
        except (OSError, ValueError):
            n = 0
        if n > args.more_than:
            print(f"periodic persist: manifest lists {n} files")
            return
        if time.time() > deadline:
            fail(f"no periodic persist within {args.timeout}s (manifest lists {n} files)")
        time.sleep(0.2)


def cmd_count_files(args):
    print(len(manifest(args)["files"]))


def cmd_drop_db(args):
    before = {f["path"] for f in manifest(args)["files"]}
    url = f"{args.url}/api/v3/configure/database?" + urllib.parse.urlencode({"db": args.db})
    status, body = http("DELETE", url, args.token)
    if status not in (200, 204):
        fail(f"DELETE database {args.db}: HTTP {status}: {body[:300]!r}")
    after = {f["path"] for f in manifest(args)["files"]}
    gone = before - after
    if not gone:
        fail(f"dropping {args.db} removed no file from the manifest")
    keys = list_keys(args)
    left = sorted(p for p in gone if p in keys)
    if left:
        fail(f"files of dropped database {args.db} still in the bucket: {left}")
    status, _ = sql(args, args.db, "SELECT 1")
    if status != 404:
        fail(f"query of dropped database {args.db}: HTTP {status}, expected 404")
    print(f"dropped database {args.db}: its {len(gone)} files left the bucket")


def table_paths(args, database, table):
    """The manifest's files of one table (paths are `<instance>/<db id>/<table id>/...`)."""
    with open(os.path.join(args.data_dir, "catalog.json"), encoding="utf-8") as f:
        catalog = json.load(f)
    try:
        db = catalog["databases"][database]
        prefix = f"{manifest(args)['instance']}/{db['id']}/{db['tables'][table]['id']}/"
    except (KeyError, TypeError) as e:
        fail(f"catalog.json has no id for {database}.{table} ({e!r}): has its format changed?")
    return [f["path"] for f in manifest(args)["files"] if f["path"].startswith(prefix)]


def cmd_missing_object(args):
    """Deletes one table's objects behind the server's back: its query must now fail (so the
    rows really come from S3), the other tables' must not."""
    victims = table_paths(args, "s3db", "cpu")
    if not victims:
        fail("the manifest lists no file of table cpu")
    status, _ = sql(args, "s3db", "SELECT * FROM cpu")
    if status != 200:
        fail(f"cpu query before deleting its objects: HTTP {status}")
    s3 = s3_client(args)
    for path in victims:
        s3.delete_object(Bucket=args.bucket, Key=path)
    status, body = sql(args, "s3db", "SELECT * FROM cpu")
    if status == 200:
        rows = json.loads(body)
        if rows:
            fail(f"cpu still returns {len(rows)} rows after its Parquet objects were deleted "
                 "from the bucket: rows are not read from S3")
        fail("cpu query answered HTTP 200 with no rows after its Parquet objects (listed in the "
             "manifest) were deleted from the bucket: a missing file must fail the query, not "
             "silently drop its rows (DataFusion's read_parquet takes a path whose HEAD is 404 "
             "for an empty prefix)")
    other, _ = sql(args, "s3db", "SELECT count(*) FROM home")
    if other != 200:
        fail(f"home query failed after cpu's objects were deleted: HTTP {other}")
    print(f"deleting cpu's {len(victims)} object(s) from the bucket makes its query fail "
          f"(HTTP {status}: {body.decode(errors='replace')[:150]})")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *flags):
        s = sub.add_parser(name)
        s.set_defaults(fn=fn)
        for flag in flags:
            if flag == "url":
                s.add_argument("--url", required=True)
                s.add_argument("--token", default="apiv3_s3test")
            elif flag == "s3":
                s.add_argument("--endpoint", required=True)
                s.add_argument("--bucket", required=True)
            elif flag == "data":
                s.add_argument("--data-dir", required=True)
            elif flag == "batches":
                s.add_argument("--batches", required=True)
                s.add_argument("--skip-db", action="append")
        return s

    add("free-ports", cmd_free_ports).add_argument("--count", type=int, default=1)
    add("bucket", cmd_bucket, "s3").add_argument("--timeout", type=float, default=30)
    s = add("wait-http", cmd_wait_http, "url")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--timeout", type=float, default=30)
    add("write", cmd_write, "url").add_argument("--batch", required=True)
    add("query", cmd_query, "url", "batches")
    add("objects", cmd_objects, "s3", "data", "batches").add_argument(
        "--wal-empty", action="store_true")
    add("put-strays", cmd_put_strays, "s3", "data")
    add("check-strays", cmd_check_strays, "s3", "data")
    s = add("wait-persist", cmd_wait_persist, "data")
    s.add_argument("--more-than", type=int, required=True)
    s.add_argument("--timeout", type=float, default=20)
    add("count-files", cmd_count_files, "data")
    add("drop-db", cmd_drop_db, "url", "s3", "data").add_argument("--db", required=True)
    add("missing-object", cmd_missing_object, "url", "s3", "data")
    args = p.parse_args()
    args.fn(args)
    # Every check passed: leave without running interpreter and library clean-up. pyarrow's
    # threads can abort the process while it shuts down ("terminate called without an
    # active exception", seen once in CI after all checks had passed).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
