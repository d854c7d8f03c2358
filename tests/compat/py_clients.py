#!/usr/bin/env python3
"""The Python clients against one target (scripts/test-compat.sh runs it once per target):
influxdb-python (`influxdb`), influxdb-client, influxdb3-python and aioinflux. Each cell writes
points() through the client's own write API and reads them back through the client's own
query API where it has one that linegate serves, checking every value, type and time.

Env: COMPAT_URL (the target: server or Worker), COMPAT_TOKEN (a token the target takes),
COMPAT_SERVER_URL / COMPAT_SERVER_TOKEN (the native server, for Flight, which does not go
through the Worker), COMPAT_TARGET (server|worker), COMPAT_DB, COMPAT_RESULTS.
"""

import asyncio
import importlib.metadata as md
import itertools
import json
import sys
import urllib.parse

from common import (Results, check_sql, check_v1, env, line, points, sql_rows,
                    v1_query, v1_rows)

URL, TOKEN, DB = env("COMPAT_URL"), env("COMPAT_TOKEN"), env("COMPAT_DB")
SERVER_URL, SERVER_TOKEN = env("COMPAT_SERVER_URL"), env("COMPAT_SERVER_TOKEN")
TARGET = env("COMPAT_TARGET")
HOST, PORT = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
R = Results()
_seq = itertools.count()
PARAMS_BUG = ("linegate bug: /query ignores `params` (InfluxQL bound parameters, which InfluxDB 1.x "
              "binds: `q=… WHERE host = $h&params={\"h\":\"b\"}`)")


def measurement(client):
    """A table per cell, so that cells never see each other's points."""
    return f"{client}_{TARGET}_{next(_seq)}"


def version(dist):
    return f"{dist} {md.version(dist)}"


# ---- influxdb-python (v1) -----------------------------------------------------------------
def influxdb_python():
    from influxdb import InfluxDBClient

    name = version("influxdb")
    auths = {
        "Basic": dict(username="compat", password=TOKEN),
        "Token header": dict(username=None, password=None, headers={"Authorization": f"Token {TOKEN}"}),
    }
    for (auth, kw), gzip, prec in itertools.product(auths.items(), (False, True),
                                                    (None, "u", "ms", "s", "m", "h")):
        kw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in kw.items()}
        client = InfluxDBClient(host=HOST, port=PORT, database=DB, gzip=gzip, **kw)
        m = measurement("py_v1")
        pts = points(prec or "n", uint=False)

        def run():
            body = [{"measurement": m, "tags": p["tags"], "fields": p["fields"], "time": p["t"]}
                    for p in pts]
            assert client.write_points(body, time_precision=prec)
            rows = sorted(client.query(f'SELECT * FROM "{m}"', epoch="ns").get_points(),
                          key=lambda r: (r["time"], r["host"]))
            types = client.query(f'SHOW FIELD KEYS FROM "{m}"').raw
            check_v1(rows, {"results": [types]}, pts, prec or "n")

        R.run(dict(client=name, endpoint="/write", auth=auth, gzip="on" if gzip else "off",
                   precision=prec or "ns (default)", read="/query (client.query)"), run)
        client.close()
    # Raw lines: the unsigned type, which the client's dict API cannot produce.
    client = InfluxDBClient(host=HOST, port=PORT, database=DB, username="compat", password=TOKEN)
    m = measurement("py_v1")
    pts = points("ms", uint=True)

    def raw_lines():
        assert client.write_points([line(m, p) for p in pts], time_precision="ms", protocol="line")
        rows = sorted(client.query(f'SELECT * FROM "{m}"', epoch="ns").get_points(),
                      key=lambda r: (r["time"], r["host"]))
        check_v1(rows, {"results": [client.query(f'SHOW FIELD KEYS FROM "{m}"').raw]}, pts, "ms")

    R.run(dict(client=name, endpoint="/write (protocol=line, with uint)", auth="Basic", gzip="off",
               precision="ms", read="/query (client.query)"), raw_lines)


def influxdb_python_api():
    """The rest of the client's API that applications call at start-up and when reading."""
    from influxdb import InfluxDBClient

    name = version("influxdb")
    db = f"compat_py_api_{TARGET}"
    # CREATE DATABASE needs a token for every database: the target's admin token.
    client = InfluxDBClient(host=HOST, port=PORT, username="compat", password=env("COMPAT_ADMIN_TOKEN"),
                            database=db)
    pts = points("s")
    m = measurement("py_v1_api")

    def management():
        assert client.ping(), "ping gave no version"
        client.create_database(db)
        client.create_database(db)  # exists already: still fine, as in 1.x
        assert {"name": db} in client.get_list_database(), client.get_list_database()
        assert client.write_points([{"measurement": m, "tags": p["tags"], "fields": p["fields"],
                                     "time": p["t"]} for p in pts], time_precision="s")
        assert client.get_list_measurements() == [{"name": m}], client.get_list_measurements()
        want = sorted(f"{m},host={p['tags']['host']}" + (
            f",region={p['tags']['region']}".replace(" ", "\\ ").replace(",1", "\\,1").replace("=x", "\\=x")
            if "region" in p["tags"] else "") for p in pts)
        assert client.get_list_series() == want, (client.get_list_series(), want)
        rps = client.get_list_retention_policies()
        assert [r["name"] for r in rps] == ["autogen"] and rps[0]["default"], rps

    R.run(dict(client=name, endpoint="/query: ping, create_database (twice), get_list_database, "
               "get_list_measurements, get_list_series, get_list_retention_policies", auth="Basic",
               gzip="off", precision="s", read="the answers' values"), management)

    def retention_policy():
        # A retention policy of 7 days: points of the last hour, written with retention_policy=,
        # read back by the fully qualified name, as 1.x applications do.
        client.create_retention_policy("week", "7d", 1, database=db)
        assert "week" in [r["name"] for r in client.get_list_retention_policies(db)]
        t0 = (int(__import__("time").time()) - 3600)
        rp_pts = [dict(p, t=t0 + k) for k, p in enumerate(points("s"))]
        assert client.write_points([{"measurement": m, "tags": p["tags"], "fields": p["fields"],
                                     "time": p["t"]} for p in rp_pts], time_precision="s",
                                   retention_policy="week")
        rows = sorted(client.query(f'SELECT * FROM "{db}"."week"."{m}"', epoch="ns").get_points(),
                      key=lambda r: (r["time"], r["host"]))
        check_v1(rows, {"results": [client.query(f'SHOW FIELD KEYS FROM "{db}"."week"."{m}"').raw]},
                 rp_pts, "s")

    R.run(dict(client=name, endpoint="/query CREATE RETENTION POLICY; /write?rp=week", auth="Basic",
               gzip="off", precision="s", read='/query SELECT … FROM "db"."week"."m"'), retention_policy)

    def rows_of(result_sets):
        return sorted((r for rs in result_sets for r in rs.get_points()), key=lambda r: (r["time"], r["host"]))

    def post():
        check_v1(rows_of([client.query(f'SELECT * FROM "{m}"', epoch="ns", method="POST")]),
                 {"results": [client.query(f'SHOW FIELD KEYS FROM "{m}"', method="POST").raw]}, pts, "s")

    def chunked():
        # chunked=true: one JSON object per chunk of chunk_size rows, read as a stream.
        sets = list(client.query(f'SELECT * FROM "{m}"', epoch="ns", chunked=True, chunk_size=1))
        assert len(sets) == len(pts), f"{len(sets)} chunks for {len(pts)} rows"
        check_v1(rows_of(sets), {"results": [client.query(f'SHOW FIELD KEYS FROM "{m}"').raw]}, pts, "s")

    def bind_params():
        # bind_params → `params={"h":"b"}` on /query (InfluxQL bound parameters, as in 1.x).
        got = list(client.query(f'SELECT * FROM "{m}" WHERE host = $h', bind_params={"h": "b"},
                                epoch="ns").get_points())
        assert [r["host"] for r in got] == ["b"], got

    for label, fn in (("query method=POST", post), ("query chunked=True chunk_size=1", chunked),
                      ("query bind_params ($h → params=JSON)", bind_params)):
        cell = dict(client=name, endpoint="/write + /query", auth="Basic", gzip="off", precision="s", read=label)
        if fn is bind_params:
            cell["bug"] = PARAMS_BUG
        R.run(cell, fn)


# ---- influxdb-client (v2) -----------------------------------------------------------------
def influxdb_client_v2():
    from influxdb_client import InfluxDBClient, Point, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    name = version("influxdb-client")
    precisions = {"ns": WritePrecision.NS, "us": WritePrecision.US, "ms": WritePrecision.MS,
                  "s": WritePrecision.S}
    auths = {
        "Token": dict(token=TOKEN),
        # auth_basic: the InfluxDB 1.8 compatibility mode, `Basic base64(user:password)`.
        "Basic (auth_basic)": dict(token=f"compat:{TOKEN}", auth_basic=True),
    }
    for (auth, kw), gzip, prec in itertools.product(auths.items(), (False, True), precisions):
        m = measurement("py_v2")
        pts = points(prec, uint=True)

        def run():
            # An empty org, as Telegraf and v1-style setups send it.
            with InfluxDBClient(url=URL, org="", enable_gzip=gzip, **kw) as client:
                write = client.write_api(write_options=SYNCHRONOUS)
                recs = [Point.from_dict({"measurement": m, "tags": p["tags"], "fields": p["fields"],
                                         "time": p["t"]}, write_precision=precisions[prec],
                                        field_types={"u": "uint"}) for p in pts]
                write.write(bucket=DB, record=recs, write_precision=precisions[prec])
            read_back_v1(m, pts, prec, f"Token {TOKEN}")

        R.run(dict(client=name, endpoint="/api/v2/write", auth=auth, gzip="on" if gzip else "off",
                   precision=prec, read="/query (InfluxQL, urllib: the client reads only Flux)"), run)
    # Batching (the write_api default): points buffered and flushed in batches of 2.
    m = measurement("py_v2")
    pts = points("ns", uint=True)

    def batching():
        from influxdb_client import WriteOptions

        with InfluxDBClient(url=URL, token=TOKEN, org="", enable_gzip=True) as client:
            with client.write_api(write_options=WriteOptions(batch_size=2, flush_interval=200,
                                                             max_retries=0)) as write:
                for p in pts:
                    write.write(bucket=DB, record=Point.from_dict(
                        {"measurement": m, "tags": p["tags"], "fields": p["fields"], "time": p["t"]},
                        write_precision=WritePrecision.NS, field_types={"u": "uint"}))
        read_back_v1(m, pts, "ns", f"Token {TOKEN}")

    R.run(dict(client=name, endpoint="/api/v2/write (batching write_api, 2 points a batch)", auth="Token",
               gzip="on", precision="ns", read="/query (InfluxQL, urllib: the client reads only Flux)"), batching)

    # The asyncio client (aiohttp underneath, another HTTP stack).
    m2 = measurement("py_v2")
    pts2 = points("ms", uint=True)

    async def write_async():
        from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

        async with InfluxDBClientAsync(url=URL, token=TOKEN, org="", enable_gzip=True) as client:
            ok = await client.write_api().write(bucket=DB, record=[Point.from_dict(
                {"measurement": m2, "tags": p["tags"], "fields": p["fields"], "time": p["t"]},
                write_precision=WritePrecision.MS, field_types={"u": "uint"}) for p in pts2],
                write_precision=WritePrecision.MS)
            assert ok, "write returned False"
        read_back_v1(m2, pts2, "ms", f"Token {TOKEN}")

    R.run(dict(client=name + " (InfluxDBClientAsync)", endpoint="/api/v2/write", auth="Token",
               gzip="on", precision="ms", read="/query (InfluxQL, urllib: the client reads only Flux)"),
          lambda: asyncio.run(write_async()))

    # The client's own query API is Flux (POST /api/v2/query), which linegate does not serve:
    # recorded as n/a once the server is seen refusing it (a success would be news).
    with InfluxDBClient(url=URL, token=TOKEN, org="") as client:
        cell = dict(client=name, endpoint="/api/v2/query", auth="Token", gzip="off", precision="-",
                    read="Flux (query_api)")
        try:
            client.query_api().query(f'from(bucket: "{DB}") |> range(start: 0)')
            R.add(cell, "fail", "Flux answered: update the matrix (linegate has no Flux)")
        except Exception as e:
            R.add(cell, "n/a", f"linegate does not implement Flux ({getattr(e, 'status', e)})")


def read_back_v1(m, pts, prec, auth):
    rows = v1_rows(v1_query(URL, DB, f'SELECT * FROM "{m}"', auth))
    check_v1(rows, v1_query(URL, DB, f'SHOW FIELD KEYS FROM "{m}"', auth), pts, prec)


# ---- influxdb3-python ---------------------------------------------------------------------
def influxdb3_python():
    from influxdb_client_3 import InfluxDBClient3, Point, WritePrecision

    name = version("influxdb3-python")
    precisions = {"ns": WritePrecision.NS, "us": WritePrecision.US, "ms": WritePrecision.MS,
                  "s": WritePrecision.S}
    reader = InfluxDBClient3(host=SERVER_URL, token=SERVER_TOKEN, database=DB)
    via = "" if TARGET == "server" else " from the server"
    for v2api, auth, gzip, prec in itertools.product((True, False), ("Token", "Bearer"),
                                                     (False, True), precisions):
        m = measurement("py_v3")
        pts = points(prec, uint=True)
        kw = dict(enable_gzip=True, gzip_threshold=1) if gzip else {}

        def run():
            with InfluxDBClient3(host=URL, token=TOKEN, database=DB, auth_scheme=auth,
                                 write_use_v2_api=v2api, **kw) as client:
                client.write([Point.from_dict({"measurement": m, "tags": p["tags"],
                                               "fields": p["fields"], "time": p["t"]},
                                              write_precision=precisions[prec],
                                              field_types={"u": "uint"}) for p in pts],
                             write_precision=precisions[prec])
            for lang in ("sql", "influxql"):
                table = reader.query(f'SELECT * FROM "{m}"', language=lang)
                types = {f.name: str(f.type) for f in table.schema}
                want_types = {"f": "double", "i": "int64", "u": "uint64", "s": "string", "b": "bool",
                              "time": "timestamp[ns]"}
                for k, t in want_types.items():
                    if types.get(k) != t:
                        raise AssertionError(f"{lang}: column {k} is {types.get(k)}, expected {t}")
                # Times as int64 nanoseconds: datetime would drop the last three digits.
                i = table.schema.get_field_index("time")
                table = table.set_column(i, "time", table.column("time").cast("int64"))
                rows = table.to_pylist()
                for r in rows:
                    r.pop("iox::measurement", None)
                check_sql(rows, pts, prec)

        R.run(dict(client=name, endpoint="/api/v2/write" if v2api else "/api/v3/write_lp",
                   auth=auth, gzip="on" if gzip else "off", precision=prec,
                   read=f"Flight SQL + InfluxQL (client.query){via}"), run)


# ---- aioinflux ----------------------------------------------------------------------------
def aioinflux_client():
    import warnings

    warnings.filterwarnings("ignore", message="Pandas/Numpy is not available")  # not needed here
    from aioinflux import InfluxDBClient

    name = version("aioinflux")
    auths = {"Basic": dict(username="compat", password=TOKEN),
             "Token header": dict(headers={"Authorization": f"Token {TOKEN}"})}

    async def cell(kw, m, pts, chunked):
        async with InfluxDBClient(host=HOST, port=PORT, db=DB, **kw) as client:
            # No precision: aioinflux writes nanoseconds only ('precision' is NotImplemented).
            await client.write([{"measurement": m, "tags": p["tags"], "fields": p["fields"],
                                 "time": p["t"]} for p in pts])
            if chunked:
                rows = []
                async for chunk in await client.query(f'SELECT * FROM "{m}"', chunked=True):
                    rows.extend(v1_rows(chunk))
            else:
                rows = v1_rows(await client.query(f'SELECT * FROM "{m}"', epoch="ns"))
            types = await client.query(f'SHOW FIELD KEYS FROM "{m}"')
        check_v1(sorted(rows, key=lambda r: (r["time"], r["host"])), types, pts, "n")

    for (auth, kw), chunked in itertools.product(auths.items(), (False, True)):
        m = measurement("aio")
        pts = points("n")
        R.run(dict(client=name, endpoint="/write", auth=auth, gzip="off", precision="ns",
                   read="/query POST form" + (" chunked=true" if chunked else "")),
              lambda: asyncio.run(cell(kw, m, pts, chunked)))


def raw_http():
    """Plain HTTP (urllib) for what no client above covers: `u`/`p` query parameters (1.x
    style, on /write and /query), and the v3 HTTP query APIs (SQL and InfluxQL, JSON)."""
    from common import request

    def up():
        m = measurement("raw_up")
        pts = points("ms", uint=True)
        qs = urllib.parse.urlencode({"db": DB, "precision": "ms", "u": "compat", "p": TOKEN})
        status, _, text = request("POST", f"{URL}/write?{qs}", "\n".join(line(m, p) for p in pts).encode())
        assert status == 204, (status, text)

        def query(q):
            qs = urllib.parse.urlencode({"db": DB, "q": q, "epoch": "ns", "u": "compat", "p": TOKEN})
            status, _, text = request("GET", f"{URL}/query?{qs}")
            assert status == 200, (status, text)
            return json.loads(text)

        check_v1(v1_rows(query(f'SELECT * FROM "{m}"')), query(f'SHOW FIELD KEYS FROM "{m}"'), pts, "ms")

    R.run(dict(client="urllib (Python stdlib)", endpoint="/write", auth="u/p query parameters",
               gzip="off", precision="ms", read="/query (u/p query parameters)"), up)

    for api in ("sql", "influxql"):
        m = measurement(f"raw_{api}")
        pts = points("s", uint=True)

        def v3(api=api, m=m, pts=pts):
            body = "\n".join(line(m, p) for p in pts).encode()
            status, _, text = request("POST", f"{URL}/api/v3/write_lp?db={DB}&precision=second", body,
                                      {"Authorization": f"Bearer {TOKEN}"}, gzip=True)
            assert status == 204, (status, text)
            rows = sql_rows(URL, DB, f'SELECT * FROM "{m}"', f"Bearer {TOKEN}", api=api)
            for r in rows:
                r.pop("iox::measurement", None)
            check_sql(rows, pts, "s")

        R.run(dict(client="urllib (Python stdlib)", endpoint="/api/v3/write_lp", auth="Bearer",
                   gzip="on", precision="second", read=f"/api/v3/query_{api} (JSON)"), v3)


if __name__ == "__main__":
    for fn in (influxdb_python, influxdb_python_api, influxdb_client_v2, influxdb3_python, aioinflux_client, raw_http):
        print(f"-- {fn.__name__} ({TARGET})", flush=True)
        fn()
    sys.exit(1 if R.failed else 0)
