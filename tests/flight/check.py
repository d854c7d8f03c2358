#!/usr/bin/env python3
"""Checks for scripts/test-flight.sh: linegate's Arrow Flight (gRPC over h2c on the HTTP port)
with real clients, InfluxDB 3's Python client `influxdb3-python` and the ADBC Flight SQL driver.

Subcommands (each exits non-zero with a message when a check fails):
  free-port            print a free TCP port on 127.0.0.1
  wait-http            wait until linegate answers /health
  write                write every field type with influxdb3-python: its default v2 API at
                       precision ns and s, and the v3 API (`write_use_v2_api=False`) at ns and
                       s; read it all back over HTTP (/api/v3/query_sql), so that a write
                       problem is told apart from a Flight one
  influxdb3            influxdb3-python queries (Flight DoGet, JSON ticket): SQL and InfluxQL,
                       exact values, Arrow types and nanosecond times; named parameters; an
                       empty result; a result of several MiB
  adbc                 ADBC Flight SQL (dbapi): get_objects, table schema and types, queries
                       (unprepared and prepared), positional parameters ($1 and ?)
  auth                 tokens: a read token for flight_a reads flight_a but is refused on
                       flight_b; a bad token and no token are refused (both clients)
  tls                  against a server with --tls-cert (LINEGATE_TLS_URL, https://localhost:
                       PORT, and LINEGATE_TLS_CA, the certificate): influxdb3-python writes over
                       HTTPS and queries over gRPC with TLS; ADBC over grpc+tls; a client that
                       does not trust the certificate is refused

Env: LINEGATE_URL (http://127.0.0.1:PORT), LINEGATE_TOKEN (admin), LINEGATE_READ_TOKEN_A
(read permission on database flight_a only). Only LINEGATE_URL's host is contacted.
"""

import argparse
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

T0 = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z, in nanoseconds
S = 10**9
I64_MIN, I64_MAX, U64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
TRICKY = 'say "hi", C:\\dir\\ \\"q\\" ünïcode ✓ 日本 = , x'  # quotes, backslashes, unicode

DB_A, DB_B = "flight_a", "flight_b"

# Column kinds per table, as InfluxDB 3 reports them in `iox::column::type`.
KINDS = {
    "py_types": {"host": "tag", "region": "tag", "f": "float", "i": "integer",
                 "u": "uinteger", "s": "string", "b": "boolean", "time": "timestamp"},
    "py_secs": {"host": "tag", "v": "float", "n": "integer", "time": "timestamp"},
    "py_v3": {"k": "tag", "i": "integer", "u": "uinteger", "s": "string", "time": "timestamp"},
    "py_many": {"k": "tag", "n": "integer", "s": "string", "time": "timestamp"},
    "secret": {"host": "tag", "v": "float", "time": "timestamp"},
}

# Rows as each query must return them (missing values are None).
PY_TYPES = [
    dict(host="a", region="eu west,1=x", f=1.5, i=I64_MIN, u=U64_MAX, s=TRICKY, b=True, time=T0),
    dict(host="b", region="us", f=1.7976931348623157e308, i=I64_MAX, u=0, s="", b=False,
         time=T0 + 1),
    # Only one field: the others, and the region tag, are null.
    dict(host="c", region=None, f=-0.001, i=None, u=None, s=None, b=None, time=T0 + 2),
    dict(host="a", region="eu west,1=x", f=100.0, i=42, u=7, s="plain", b=True, time=T0 + S),
]
PY_SECS = [  # written at precision s
    dict(host="a", v=1.25, n=3, time=1_700_000_000 * S),
    dict(host="b", v=-2.5, n=-4, time=1_700_000_001 * S),
]
PY_V3 = [  # written through /api/v3/write_lp, at precision ns then s
    dict(k="ns", i=1, u=5, s="v3 ns", time=T0),
    dict(k="s", i=2, u=6, s="v3 s", time=1_700_000_002 * S),
]
SECRET = [dict(host="b", v=99.0, time=T0)]  # in flight_b, which the read token may not read

# Enough rows and bytes (~6 MiB of strings) that the answer needs several Flight messages and
# would pass gRPC's default 4 MiB message limit if it were sent as one.
MANY = 50_000
MANY_S = "x" * 120


def many_row(j):
    return dict(k="m", n=j, s=f"{j:08d}{MANY_S}", time=T0 + j * 1000)


DOING = ""  # the check under way, named in the failure message of an unexpected exception


def doing(what):
    global DOING
    DOING = what


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def ok(message):
    print(f"    ok: {message}")


def env(name):
    value = os.environ.get(name)
    if not value:
        fail(f"environment variable {name} is not set")
    return value


def grpc_target(url):
    """http://127.0.0.1:PORT -> 127.0.0.1:PORT: Flight answers on the HTTP port."""
    parsed = urllib.parse.urlparse(url)
    return f"{parsed.hostname}:{parsed.port}"


# ---- helpers for the shell script ----------------------------------------------------------

def cmd_free_port(_args):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def http(method, url, token=None, body=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


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


# ---- writes --------------------------------------------------------------------------------

def point(table, row, precision="ns"):
    """A Point of `row`; integers in uinteger columns get the `u` suffix."""
    from influxdb_client_3 import Point, WritePrecision

    kinds = KINDS[table]
    tags = {k: v for k, v in row.items() if kinds[k] == "tag" and v is not None}
    fields = {k: v for k, v in row.items()
              if kinds[k] not in ("tag", "timestamp") and v is not None}
    t = row["time"]
    if precision == "s":
        assert t % S == 0
        t //= S
    return Point.from_dict(
        {"measurement": table, "tags": tags, "fields": fields, "time": t},
        write_precision=WritePrecision.S if precision == "s" else WritePrecision.NS,
        field_types={k: "uint" for k in fields if kinds[k] == "uinteger"})


def sql_over_http(url, token, db, sql):
    """Rows of a query through /api/v3/query_sql (JSON), to check writes without Flight."""
    q = urllib.parse.urlencode({"db": db, "q": sql, "format": "json"})
    status, text = http("GET", f"{url}/api/v3/query_sql?{q}", token)
    if status != 200:
        fail(f"HTTP query {sql!r} on {db}: HTTP {status}: {text[:500]}")
    return json.loads(text)


def check_written(url, token, db, table, expected):
    cols = [c for c in KINDS[table] if c != "time"]
    sql = (f"SELECT {', '.join(cols)}, CAST(time AS BIGINT) AS time_ns FROM {table} "
           "ORDER BY time")
    rows = sql_over_http(url, token, db, sql)
    got = [{**{c: r.get(c) for c in cols}, "time": r.get("time_ns")} for r in rows]
    if got != expected:
        fail(f"{db}.{table} read back over HTTP differs from what influxdb3-python wrote:\n"
             f"  expected {expected}\n  got      {got}")


def cmd_write(_args):
    from influxdb_client_3 import InfluxDBClient3

    url, token = env("LINEGATE_URL"), env("LINEGATE_TOKEN")
    # The client's default: POST /api/v2/write?org=default&bucket=DB&precision=ns|s,
    # `Authorization: Token …`.
    with InfluxDBClient3(host=url, token=token, database=DB_A) as client:
        client.write([point("py_types", r) for r in PY_TYPES])
        client.write([point("py_secs", r, "s") for r in PY_SECS])
        client.write([point("secret", r) for r in SECRET], database=DB_B)
        batch = 10_000  # under the server's 10 MiB body limit
        for start in range(0, MANY, batch):
            client.write([point("py_many", many_row(j)) for j in range(start, start + batch)])
    # `write_use_v2_api=False`: POST /api/v3/write_lp?db=DB&precision=nanosecond|second.
    with InfluxDBClient3(host=url, token=token, database=DB_A,
                         write_use_v2_api=False) as client:
        client.write(point("py_v3", PY_V3[0]))
        client.write(point("py_v3", PY_V3[1], "s"))

    for db, table, rows in [(DB_A, "py_types", PY_TYPES), (DB_A, "py_secs", PY_SECS),
                            (DB_A, "py_v3", PY_V3), (DB_B, "secret", SECRET)]:
        check_written(url, token, db, table, rows)
    n = sql_over_http(url, token, DB_A, "SELECT count(*) AS n FROM py_many")[0]["n"]
    if n != MANY:
        fail(f"py_many holds {n} rows over HTTP, {MANY} were written")
    ok("influxdb3-python wrote every field type (v2 API at ns and s, v3 API at ns and s); "
       "HTTP reads back the exact values and times")


# ---- checking Arrow answers ----------------------------------------------------------------

def is_string(t):
    import pyarrow as pa
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def type_ok(kind, t):
    """Whether Arrow type `t` is what InfluxDB 3 sends for a column of `kind`."""
    import pyarrow as pa
    if kind in ("tag", "measurement"):  # InfluxDB 3 sends Dictionary(Int32, Utf8)
        return is_string(t) or (pa.types.is_dictionary(t) and is_string(t.value_type))
    return {
        "float": lambda: t == pa.float64(),
        "integer": lambda: t == pa.int64(),
        "uinteger": lambda: t == pa.uint64(),
        "string": lambda: is_string(t),
        "boolean": lambda: t == pa.bool_(),
        "timestamp": lambda: t == pa.timestamp("ns"),  # nanoseconds, no time zone
    }[kind]()


def column_values(table, name):
    """Python values of a column; times as integer nanoseconds (to_pylist would round them)."""
    import pyarrow as pa
    col = table.column(name)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    return col.to_pylist()


def rows_of(table):
    names = table.column_names
    cols = [column_values(table, n) for n in names]
    return [dict(zip(names, vals)) for vals in zip(*cols)]


def expect_table(what, table, columns, kinds, expected):
    """`table` has exactly `columns` (in order), of `kinds`, and the rows `expected`."""
    import pyarrow as pa
    if not isinstance(table, pa.Table):
        fail(f"{what}: expected a pyarrow.Table, got {type(table).__name__}")
    if table.column_names != columns:
        fail(f"{what}: columns {table.column_names}, expected {columns}")
    for field in table.schema:
        if not type_ok(kinds[field.name], field.type):
            fail(f"{what}: column {field.name!r} ({kinds[field.name]}) has Arrow type "
                 f"{field.type}, not what InfluxDB 3 sends")
    got = rows_of(table)
    want = [{c: r[c] for c in columns} for r in expected]
    if got != want:
        diff = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w),
                    min(len(got), len(want)))
        fail(f"{what}: {len(got)} rows, expected {len(want)}; first difference at row {diff}:\n"
             f"  expected {want[diff] if diff < len(want) else None}\n"
             f"  got      {got[diff] if diff < len(got) else None}")


def expect_metadata(what, schema, kinds):
    """Each column carries `iox::column::type` as InfluxDB 3 sets it; influxdb3-js's type
    casting and queryPoints(), and the Go and Java clients, read it."""
    for field in schema:
        want = (f"iox::column_type::field::{kinds[field.name]}"
                if kinds[field.name] not in ("tag", "timestamp")
                else f"iox::column_type::{kinds[field.name]}")
        got = (field.metadata or {}).get(b"iox::column::type", b"").decode()
        if got != want:
            fail(f"{what}: column {field.name!r} has metadata iox::column::type={got!r}, "
                 f"expected {want!r} (as InfluxDB 3 sends)")


# ---- influxdb3-python queries --------------------------------------------------------------

def cmd_influxdb3(_args):
    import pyarrow as pa
    from influxdb_client_3 import InfluxDBClient3

    url, token = env("LINEGATE_URL"), env("LINEGATE_TOKEN")
    # Queries go to grpc+tcp://HOST:PORT (the `host` URL's port): DoGet with a JSON ticket
    # {"database", "sql_query", "query_type"[, "params"]}, `authorization: Bearer …`.
    client = InfluxDBClient3(host=url, token=token, database=DB_A)

    def query(sql, **kwargs):
        doing(f"influxdb3-python query {sql!r} {kwargs or ''}")
        return client.query(sql, **kwargs)

    cols = ["host", "region", "f", "i", "u", "s", "b", "time"]
    kinds = KINDS["py_types"]

    table = query(f"SELECT {', '.join(cols)} FROM py_types ORDER BY time", language="sql")
    expect_table("influxdb3-python SQL py_types", table, cols, kinds, PY_TYPES)
    expect_metadata("influxdb3-python SQL py_types", table.schema, kinds)
    ok("SQL over Flight: every field type, nulls, exact values, Arrow types, ns times, "
       "iox::column::type metadata")

    table = query("SELECT * FROM py_types ORDER BY time")
    if sorted(table.column_names) != sorted(cols):
        fail(f"SQL SELECT * on py_types: columns {table.column_names}, expected {sorted(cols)}")
    expect_table("influxdb3-python SQL SELECT *", table, table.column_names, kinds, PY_TYPES)

    table = query("SELECT host, v, n, time FROM py_secs ORDER BY time")
    expect_table("influxdb3-python SQL py_secs", table, ["host", "v", "n", "time"],
                 KINDS["py_secs"], PY_SECS)
    table = query("SELECT k, i, u, s, time FROM py_v3 ORDER BY time")
    expect_table("influxdb3-python SQL py_v3", table, ["k", "i", "u", "s", "time"],
                 KINDS["py_v3"], PY_V3)
    ok("SQL over Flight: points written at precision s and through the v3 API")

    # Named parameters: the ticket's "params" object ($host -> "a", $min -> 0).
    table = query("SELECT host, i, time FROM py_types WHERE host = $host AND i > $min "
                  "ORDER BY time", query_parameters={"host": "a", "min": 0})
    expect_table("influxdb3-python SQL with query_parameters", table, ["host", "i", "time"],
                 kinds, [r for r in PY_TYPES if r["host"] == "a" and (r["i"] or 0) > 0])
    ok("SQL over Flight with named parameters ($host, $min)")

    table = query("SELECT host, f, time FROM py_types WHERE host = 'nobody'")
    expect_table("influxdb3-python SQL with no rows", table, ["host", "f", "time"], kinds, [])
    ok("an empty result still carries its schema")

    table = query("SELECT host, count(*) AS n, max(i) AS top FROM py_types "
                  "GROUP BY host ORDER BY host")
    got = [(r["host"], r["n"], r["top"]) for r in rows_of(table)]
    want = [("a", 2, 42), ("b", 1, I64_MAX), ("c", 1, None)]
    if got != want:
        fail(f"SQL aggregate over Flight: got {got}, expected {want}")
    if table.schema.field("n").type != pa.int64():
        fail(f"count(*) over Flight is {table.schema.field('n').type}, expected int64")
    ok("SQL aggregate over Flight")

    table = query("SELECT k, n, s, time FROM py_many ORDER BY time")
    expect_table("influxdb3-python SQL py_many (several MiB)", table, ["k", "n", "s", "time"],
                 KINDS["py_many"], [many_row(j) for j in range(MANY)])
    ok(f"{MANY} rows (~{round(MANY * len(MANY_S) / 2**20)} MiB) in one answer, "
       f"{table.column('n').num_chunks} record batches")

    # InfluxQL: InfluxDB 3 answers with `iox::measurement` first, then `time`, then the
    # selected columns in order.
    ql_cols = ["f", "i", "u", "s", "b", "host", "region"]
    ql_kinds = {**kinds, "iox::measurement": "measurement"}
    table = query(f"SELECT {', '.join(ql_cols)} FROM py_types", language="influxql")
    expect_table("influxdb3-python InfluxQL py_types", table,
                 ["iox::measurement", "time"] + ql_cols, ql_kinds,
                 [{**r, "iox::measurement": "py_types"} for r in PY_TYPES])
    ok("InfluxQL over Flight: iox::measurement, time, then the selected columns, exact values")

    table = query("SELECT * FROM py_types WHERE host = 'a'", language="influxql")
    if table.column_names[:2] != ["iox::measurement", "time"] or \
            sorted(table.column_names[2:]) != sorted(ql_cols):
        fail(f"InfluxQL SELECT * columns: {table.column_names}, expected iox::measurement, "
             f"time, then {sorted(ql_cols)}")
    expect_table("influxdb3-python InfluxQL SELECT * WHERE host = 'a'", table,
                 table.column_names, ql_kinds,
                 [{**r, "iox::measurement": "py_types"} for r in PY_TYPES if r["host"] == "a"])

    # Several measurements: one table, ordered by measurement then time; rows whose selected
    # fields are all null are left out, as InfluxQL does.
    table = query("SELECT i FROM py_types, py_v3", language="influxql")
    got = [(r["iox::measurement"], r["time"], r["i"]) for r in rows_of(table)]
    want = [("py_types", r["time"], r["i"]) for r in PY_TYPES if r["i"] is not None] + \
        [("py_v3", r["time"], r["i"]) for r in PY_V3]
    if got != want:
        fail(f"InfluxQL SELECT i FROM py_types, py_v3: got {got}, expected {want}")
    ok("InfluxQL over Flight: SELECT * with a tag filter, several measurements")

    table = query("SHOW MEASUREMENTS", language="influxql")
    names = column_values(table, "name") if "name" in table.column_names else None
    if names is None or not {"py_types", "py_secs", "py_v3", "py_many"} <= set(names):
        fail(f"InfluxQL SHOW MEASUREMENTS over Flight: columns {table.column_names}, "
             f"rows {rows_of(table)[:10]}")
    ok("InfluxQL SHOW MEASUREMENTS over Flight")

    try:
        query("SELECT nope FROM no_such_table")
    except Exception as e:  # influxdb3-python wraps pyarrow's FlightError
        if "no_such_table" not in str(e):
            fail(f"a query on a missing table failed without naming it: {e}")
    else:
        fail("a SQL query on a missing table succeeded over Flight")
    ok("a failing query over Flight returns its error message")
    client.close()


# ---- ADBC Flight SQL ------------------------------------------------------------------------

def adbc_connect(url, token, database):
    from adbc_driver_flightsql import DatabaseOptions, dbapi

    return dbapi.connect(
        f"grpc://{grpc_target(url)}",  # plain gRPC (h2c) to the HTTP port
        db_kwargs={
            DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {token}",
            # A gRPC header on every call, naming the database, as InfluxDB 3 expects.
            DatabaseOptions.RPC_CALL_HEADER_PREFIX.value + "database": database,
        },
        autocommit=True)  # no transactions: spare the driver's attempt to disable autocommit


def unprepared_query(conn, sql):
    """A statement executed without Prepare: CommandStatementQuery, not a prepared statement
    (the dbapi cursor always prepares first)."""
    import adbc_driver_manager
    import pyarrow as pa

    stmt = adbc_driver_manager.AdbcStatement(conn.adbc_connection)
    try:
        stmt.set_sql_query(sql)
        handle, _ = stmt.execute_query()
        return pa.RecordBatchReader._import_from_c(handle.address).read_all()
    finally:
        stmt.close()


def cmd_adbc(_args):
    import adbc_driver_manager
    import pyarrow as pa

    url, token = env("LINEGATE_URL"), env("LINEGATE_TOKEN")
    kinds = KINDS["py_types"]
    doing(f"ADBC connect to grpc://{grpc_target(url)}")
    with adbc_connect(url, token, DB_A) as conn:
        # get_objects at depth "all": GetCatalogs, GetDbSchemas, GetTables with include_schema.
        doing("ADBC get_objects")
        objects = conn.adbc_get_objects().read_all().to_pylist()
        found = {}
        for catalog in objects:
            for schema in catalog["catalog_db_schemas"] or []:
                for t in schema["db_schema_tables"] or []:
                    found[(catalog["catalog_name"], schema["db_schema_name"], t["table_name"])] = t
        listed = sorted(found)
        key = ("public", "iox", "py_types")
        if key not in found:
            fail(f"ADBC get_objects does not list public.iox.py_types; it lists {listed}")
        if ("public", "iox", "secret") in found:
            fail(f"ADBC get_objects on {DB_A} lists flight_b's table secret")
        columns = [c["column_name"] for c in found[key]["table_columns"] or []]
        if sorted(columns) != sorted(kinds):
            fail(f"ADBC get_objects: py_types columns {columns}, expected {sorted(kinds)}")
        ok(f"ADBC get_objects: catalogs {sorted({c['catalog_name'] for c in objects})}, "
           f"public.iox holds {sorted(t for c, s, t in found if (c, s) == ('public', 'iox'))}, "
           "py_types with its columns")

        doing("ADBC get_table_schema, get_table_types")
        schema = conn.adbc_get_table_schema("py_types", catalog_filter="public",
                                            db_schema_filter="iox")
        for field in schema:
            if not type_ok(kinds[field.name], field.type):
                fail(f"ADBC get_table_schema: {field.name} is {field.type}")
        types = conn.adbc_get_table_types()
        if not types:
            fail("ADBC get_table_types returned nothing")
        try:
            info = conn.adbc_get_info()
        except adbc_driver_manager.Error as e:
            fail(f"ADBC get_info (GetSqlInfo) failed: {e}")
        ok(f"ADBC get_table_schema, get_table_types {types}, get_info "
           f"(vendor {info.get('vendor_name')!r} {info.get('vendor_version')!r})")

        cols = ["host", "region", "f", "i", "u", "s", "b", "time"]
        sql = f"SELECT {', '.join(cols)} FROM py_types ORDER BY time"
        with conn.cursor() as cur:
            # The dbapi cursor prepares every new query text: CreatePreparedStatement, then
            # GetFlightInfo(CommandPreparedStatementQuery), DoGet.
            doing(f"ADBC cursor.execute({sql!r})")
            cur.execute(sql)
            expect_table("ADBC execute (prepared)", cur.fetch_arrow_table(), cols, kinds, PY_TYPES)
        doing(f"ADBC unprepared statement {sql!r}")
        expect_table("ADBC unprepared statement", unprepared_query(conn, sql), cols, kinds,
                     PY_TYPES)
        ok("ADBC queries, prepared and unprepared: exact values, types and ns times")

        a_rows = [r for r in PY_TYPES if r["host"] == "a"]
        b_rows = [r for r in PY_TYPES if r["host"] == "b"]
        with conn.cursor() as cur:
            # Parameters go up with DoPut(CommandPreparedStatementQuery) before GetFlightInfo.
            q = "SELECT host, i, time FROM py_types WHERE host = $1 ORDER BY time"
            doing(f"ADBC cursor.execute({q!r}, parameters=('a',))")
            cur.execute(q, parameters=("a",))
            expect_table("ADBC $1 = 'a'", cur.fetch_arrow_table(), ["host", "i", "time"],
                         kinds, a_rows)
            # Same text: the same prepared statement, bound again (the handle the server
            # returned from the first DoPut is what the driver sends now).
            doing(f"ADBC cursor.execute({q!r}, parameters=('b',)) on the same prepared statement")
            cur.execute(q, parameters=("b",))
            expect_table("ADBC $1 = 'b' (bound again)", cur.fetch_arrow_table(),
                         ["host", "i", "time"], kinds, b_rows)
            doing("ADBC $1 AND $2 with ('a', 0)")
            cur.execute("SELECT host, i, time FROM py_types WHERE host = $1 AND i > $2 "
                        "ORDER BY time", parameters=("a", 0))
            expect_table("ADBC $1, $2 (string, int64)", cur.fetch_arrow_table(),
                         ["host", "i", "time"], kinds, [r for r in a_rows if r["i"] > 0])
        ok("ADBC prepared statements with $1 / $2 parameters, bound twice")

        # `?` is the paramstyle adbc_driver_flightsql.dbapi declares ("qmark"). DataFusion
        # plans a bare `?` but cannot bind it by position unless the server numbers them.
        with conn.cursor() as cur:
            try:
                cur.execute("SELECT host, i, time FROM py_types WHERE host = ? AND i > ? "
                            "ORDER BY time", parameters=("a", 0))
                table = cur.fetch_arrow_table()
            except adbc_driver_manager.Error as e:
                fail(f"ADBC with ? placeholders (dbapi paramstyle qmark) failed: {e}")
            expect_table("ADBC ? placeholders", table, ["host", "i", "time"], kinds,
                         [r for r in a_rows if r["i"] > 0])
        ok("ADBC prepared statement with ? placeholders")

        with conn.cursor() as cur:
            try:
                cur.execute("SELECT nope FROM no_such_table")
                cur.fetch_arrow_table()
            except adbc_driver_manager.Error as e:
                if "no_such_table" not in str(e):
                    fail(f"ADBC error for a missing table does not name it: {e}")
            else:
                fail("ADBC query on a missing table succeeded")
            doing("ADBC count(*) after a failed query")
            cur.execute("SELECT count(*) AS n FROM py_many")
            n = cur.fetch_arrow_table().column("n").to_pylist()
            if n != [MANY]:
                fail(f"ADBC count(*) after an error: {n}, expected [{MANY}]")
        ok("ADBC: an error names the missing table; the connection still works after it")

        doing("ADBC py_many, unprepared")
        table = unprepared_query(conn, "SELECT n, time FROM py_many ORDER BY time")
        if column_values(table, "n") != list(range(MANY)):
            fail(f"ADBC py_many: {table.num_rows} rows, not 0..{MANY - 1} in order")
        if not pa.types.is_timestamp(table.schema.field("time").type):
            fail(f"ADBC py_many time is {table.schema.field('time').type}")
        ok(f"ADBC: {MANY} rows in {table.column('n').num_chunks} record batches")


# ---- tokens --------------------------------------------------------------------------------

def flight_code(e):
    """The gRPC status behind an exception of pyarrow.flight, or of influxdb3-python (which
    wraps it), as a word."""
    import pyarrow.flight as fl

    for err in (e, e.__cause__, e.__context__):
        if isinstance(err, fl.FlightUnauthenticatedError):
            return "UNAUTHENTICATED"
        if isinstance(err, fl.FlightUnauthorizedError):
            return "PERMISSION_DENIED"
    return f"{type(e).__name__}: {e}"


def expect_refused(what, run, codes):
    try:
        run()
    except Exception as e:  # noqa: BLE001 - the exception's kind is what is checked
        code = flight_code(e)
        if code not in codes:
            fail(f"{what}: refused with {code}, expected {' or '.join(codes)}")
        return code
    fail(f"{what}: succeeded, expected {' or '.join(codes)}")


def adbc_code(e):
    import adbc_driver_manager

    if isinstance(e, adbc_driver_manager.Error):
        return {adbc_driver_manager.AdbcStatusCode.UNAUTHENTICATED: "UNAUTHENTICATED",
                adbc_driver_manager.AdbcStatusCode.UNAUTHORIZED: "PERMISSION_DENIED"}.get(
                    e.status_code, f"{e.status_code!r}: {e}")
    return f"{type(e).__name__}: {e}"


def expect_adbc_refused(what, url, token, database, codes):
    try:
        with adbc_connect(url, token, database) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM py_types")
            cur.fetch_arrow_table()
    except Exception as e:  # noqa: BLE001
        code = adbc_code(e)
        if code not in codes:
            fail(f"{what}: refused with {code}, expected {' or '.join(codes)}")
        return code
    fail(f"{what}: succeeded, expected {' or '.join(codes)}")


def cmd_auth(_args):
    import pyarrow.flight as fl
    from influxdb_client_3 import InfluxDBClient3

    url, admin, read_a = env("LINEGATE_URL"), env("LINEGATE_TOKEN"), env("LINEGATE_READ_TOKEN_A")
    denied = ("PERMISSION_DENIED", "UNAUTHENTICATED")
    sql = "SELECT host, v, time FROM secret"

    # influxdb3-python
    doing(f"influxdb3-python with the read token for {DB_A}, querying {DB_A}")
    with InfluxDBClient3(host=url, token=read_a, database=DB_A) as client:
        n = client.query("SELECT count(*) AS n FROM py_types").column("n").to_pylist()
        if n != [len(PY_TYPES)]:
            fail(f"read token for {DB_A}: count(*) over Flight {n}")
        got = expect_refused(f"influxdb3-python, read token for {DB_A}, querying {DB_B}",
                             lambda: client.query(sql, database=DB_B), denied)
        expect_refused(f"influxdb3-python, read token for {DB_A}, InfluxQL on {DB_B}",
                       lambda: client.query("SELECT * FROM secret", language="influxql",
                                            database=DB_B), denied)
    with InfluxDBClient3(host=url, token="apiv3_no-such-token", database=DB_A) as client:
        expect_refused("influxdb3-python with a bad token",
                       lambda: client.query("SELECT 1"), ("UNAUTHENTICATED",))
    ok(f"influxdb3-python: the read token reads {DB_A}, is refused on {DB_B} ({got}); "
       "a bad token is UNAUTHENTICATED")

    # The same ticket through pyarrow's FlightClient: without a token, and with the other
    # schemes the HTTP API takes.
    client = fl.FlightClient(f"grpc+tcp://{grpc_target(url)}")
    ticket = fl.Ticket(json.dumps({"database": DB_B, "sql_query": sql,
                                   "query_type": "sql"}).encode())
    expect_refused("DoGet without authorization", lambda: client.do_get(ticket).read_all(),
                   ("UNAUTHENTICATED",))
    for scheme in ("Bearer", "Token"):
        doing(f"pyarrow DoGet with authorization: {scheme} <admin token>")
        options = fl.FlightCallOptions(headers=[(b"authorization", f"{scheme} {admin}".encode())])
        rows = rows_of(client.do_get(ticket, options).read_all())
        if rows != SECRET:
            fail(f"DoGet with authorization: {scheme} <admin>: {rows}, expected {SECRET}")
    client.close()
    ok("pyarrow FlightClient: no token is UNAUTHENTICATED; Bearer and Token schemes both read")

    # ADBC
    doing(f"ADBC with the read token for {DB_A}, querying {DB_A}")
    with adbc_connect(url, read_a, DB_A) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM py_types")
        n = cur.fetch_arrow_table().column("n").to_pylist()
        if n != [len(PY_TYPES)]:
            fail(f"ADBC with the read token for {DB_A}: count(*) {n}")
    got = expect_adbc_refused(f"ADBC, read token for {DB_A}, database header {DB_B}",
                              url, read_a, DB_B, denied)
    expect_adbc_refused("ADBC with a bad token", url, "apiv3_no-such-token", DB_A,
                        ("UNAUTHENTICATED",))
    ok(f"ADBC: the read token reads {DB_A}, is refused on {DB_B} ({got}); a bad token is "
       "UNAUTHENTICATED")


def cmd_tls(_args):
    from adbc_driver_flightsql import DatabaseOptions, dbapi
    from influxdb_client_3 import InfluxDBClient3

    url, ca, token = env("LINEGATE_TLS_URL"), env("LINEGATE_TLS_CA"), env("LINEGATE_TOKEN")
    doing("influxdb3-python over HTTPS and gRPC with TLS")
    client = InfluxDBClient3(host=url, token=token, database="tls_db", ssl_ca_cert=ca)
    client.write(record="secure,host=a v=1.5,n=7i 1700000000123456789", write_precision="ns")
    table = client.query("SELECT host, v, n, CAST(time AS BIGINT) AS t FROM secure",
                         language="sql")
    rows = table.to_pylist()
    want = [{"host": "a", "v": 1.5, "n": 7, "t": 1700000000123456789}]
    if rows != want:
        fail(f"tls: influxdb3-python read {rows}, expected {want}")
    client.close()
    ok("influxdb3-python: write over HTTPS, SQL over gRPC with TLS (the server's certificate)")

    doing("ADBC over grpc+tls")
    with open(ca, "rb") as f:
        root = f.read().decode()
    with dbapi.connect(
            f"grpc+tls://{grpc_target(url)}",
            db_kwargs={
                DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {token}",
                DatabaseOptions.RPC_CALL_HEADER_PREFIX.value + "database": "tls_db",
                DatabaseOptions.TLS_ROOT_CERTS.value: root,
            },
            autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT n FROM secure")
        if cur.fetchall() != [(7,)]:
            fail("tls: ADBC read the wrong rows")
    ok("ADBC Flight SQL over grpc+tls")

    doing("a client that does not trust the certificate")
    untrusted = InfluxDBClient3(host=url, token=token, database="tls_db")
    try:
        untrusted.query("SELECT 1", language="sql")
    except Exception:  # noqa: BLE001 - any failure to connect is the expected refusal
        ok("a client without the certificate is refused")
    else:
        fail("tls: a client that does not trust the certificate read an answer")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("free-port").set_defaults(run=cmd_free_port)
    s = sub.add_parser("wait-http")
    s.add_argument("--url", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--timeout", type=float, default=30)
    s.set_defaults(run=cmd_wait_http)
    for name, run in [("write", cmd_write), ("influxdb3", cmd_influxdb3), ("adbc", cmd_adbc),
                      ("auth", cmd_auth), ("tls", cmd_tls)]:
        sub.add_parser(name).set_defaults(run=run)
    args = p.parse_args()
    try:
        args.run(args)
    except Exception as e:  # noqa: BLE001 - a client's exception is a failed check
        import traceback
        traceback.print_exc()
        fail(f"{args.command}: {DOING or 'unexpected error'}: {type(e).__name__}: {e}")
    # Every check has passed. Leave without the interpreter's teardown: with pyarrow's gRPC
    # and the ADBC driver's (Go) in one process, it once aborted with "double free or
    # corruption" after all TLS checks had passed, a crash of the clients' native libraries,
    # not of anything checked here.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
