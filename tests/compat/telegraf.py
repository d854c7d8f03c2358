#!/usr/bin/env python3
"""Telegraf's requests replayed byte for byte (Telegraf itself is not installable here), from
its outputs.influxdb and outputs.influxdb_v2 plugins, with what Telegraf does on each answer:

  outputs.influxdb:    at start-up `POST /query` with the form body `q=CREATE DATABASE "db"`
                       (unless skip_database_creation); then `POST /write?db=…[&rp=…]`, no
                       precision (nanoseconds), `Content-Type: text/plain; charset=utf-8`,
                       `User-Agent: Telegraf/1.x`, Basic auth (username/password: the token
                       is the password), `Content-Encoding: gzip` when content_encoding="gzip".
  outputs.influxdb_v2: `POST /api/v2/write?bucket=…&org=` (empty org), `Authorization: Token …`,
                       gzip (the plugin's default content_encoding).
  Statuses:            2xx done; 413 → the batch is split in two and each half sent again;
                       400 → dropped (a retry cannot succeed); 401/403 → error, kept;
                       429/503 → retried later (Retry-After).

Subcommands: (none) every check against $COMPAT_URL; `spool-write` / `spool-replay` (Worker
only): a write while storage is down is spooled (204), then replayed by the cron once storage
is back, and then readable; `retry-503` (a server with a tiny write buffer): 503 + Retry-After,
retried as Telegraf does, every point stored once.
"""

import json
import sys
import time
import urllib.parse

from common import Results, basic, env, request, v1_query, v1_rows

URL, TOKEN, TARGET = env("COMPAT_URL"), env("COMPAT_TOKEN"), env("COMPAT_TARGET")
UA = "Telegraf/1.34.0 (git: HEAD@5a1c7d09)"
CLIENT = "Telegraf 1.x request shapes (replayed)"
R = Results()
T0 = 1_700_000_000_000_000_000


def v1_headers(gzip):
    h = {"Content-Type": "text/plain; charset=utf-8", "User-Agent": UA,
         "Authorization": basic("telegraf", TOKEN)}
    return h  # Content-Encoding: gzip is added by request(gzip=True)


def v2_headers():
    return {"Content-Type": "text/plain; charset=utf-8", "User-Agent": UA,
            "Authorization": f"Token {TOKEN}"}


def metrics(measurement, n, t0=T0):
    """Telegraf's serializer: tags sorted, integers with i, ns timestamps, one per line."""
    return "".join(
        f"{measurement},cpu=cpu{k % 4},host=telegraf-host usage_idle={90 + k / 8},"
        f"usage_user={k % 7 + 0.25},uptime={k * 1000}i,up=true,state=\"running\" {t0 + k * 10**9}\n"
        for k in range(n)).encode()


def expect_rows(db, measurement, n, t0=T0):
    rows = v1_rows(v1_query(URL, db, f'SELECT * FROM "{measurement}"', f"Token {TOKEN}"))
    if len(rows) != n:
        raise AssertionError(f"{len(rows)} rows in {db}.{measurement}, expected {n}")
    for k, r in enumerate(rows):
        want = {"time": t0 + k * 10**9, "cpu": f"cpu{k % 4}", "host": "telegraf-host",
                "usage_idle": 90 + k / 8, "usage_user": k % 7 + 0.25, "uptime": k * 1000,
                "up": True, "state": "running"}
        if {**r, "usage_idle": float(r["usage_idle"]), "usage_user": float(r["usage_user"])} != want:
            raise AssertionError(f"row {k}: {r} != {want}")


def count(db, measurement):
    answer = v1_query(URL, db, f'SELECT count(uptime) FROM "{measurement}"', f"Token {TOKEN}")
    series = answer["results"][0].get("series")
    return series[0]["values"][0][1] if series else 0


def post(path, body, headers, gzip):
    return request("POST", URL + path, body, headers, gzip=gzip)


def cell(endpoint, auth, gzip, read, fn):
    R.run(dict(client=CLIENT, endpoint=endpoint, auth=auth, gzip=gzip, precision="ns (none sent)",
               read=read), fn)


def create_database(db, token, refused_ok=False):
    """outputs.influxdb at start-up: a form-encoded POST /query, no db parameter. When it fails
    Telegraf logs a warning and goes on writing, so a token scoped to the database may be
    refused, but only with a JSON error (refused_ok)."""
    form = urllib.parse.urlencode({"q": f'CREATE DATABASE "{db}"'}).encode()
    h = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": UA,
         "Authorization": basic("telegraf", token)}
    status, _, body = request("POST", f"{URL}/query", form, h)
    if refused_ok and status in (401, 403) and "error" in json.loads(body):
        return
    if status != 200:
        raise AssertionError(f"CREATE DATABASE: {status} {body[:300]!r}")
    result = json.loads(body)["results"][0]
    if "error" in result:
        raise AssertionError(f"CREATE DATABASE: {result['error']}")


def checks():
    def startup():
        admin = env("COMPAT_ADMIN_TOKEN")
        for db in ("telegraf", "telegraf_v2", "telegraf"):  # again at every restart: still 200
            create_database(db, admin)
        create_database("telegraf", TOKEN, refused_ok=True)

    cell('/query POST form q=CREATE DATABASE "telegraf" (start-up; again; a scoped token)', "Basic",
         "off", "200 (admin token); 200 or a JSON 403 (token scoped to the database)", startup)

    for gzip, rp in ((True, ""), (False, "autogen")):
        m = f"tg_v1_{TARGET}_{'gz' if gzip else 'plain'}"

        def write():
            path = "/write?db=telegraf" + (f"&rp={rp}" if rp else "")
            status, _, body = post(path, metrics(m, 20), v1_headers(gzip), gzip)
            assert status == 204, (status, body)
            expect_rows("telegraf", m, 20)

        cell("/write?db=telegraf" + (f"&rp={rp}" if rp else ""), "Basic", "on" if gzip else "off",
             "/query (InfluxQL)", write)

    for gzip in (True, False):
        m = f"tg_v2_{TARGET}_{'gz' if gzip else 'plain'}"

        def write_v2():
            status, _, body = post("/api/v2/write?bucket=telegraf_v2&org=", metrics(m, 20), v2_headers(), gzip)
            assert status == 204, (status, body)
            expect_rows("telegraf_v2", m, 20)

        cell("/api/v2/write?bucket=telegraf_v2&org= (influxdb_v2)", "Token", "on" if gzip else "off",
             "/query (InfluxQL)", write_v2)

    # 413: more than 10 MiB of line protocol once decompressed (the server's and the Worker's
    # cap). Telegraf splits the batch in two and sends each half; nothing of the first try stays.
    m = f"tg_big_{TARGET}"
    n = 80_000

    def too_large():
        body = metrics(m, n)
        assert len(body) > 10 * 2**20, len(body)
        sizes = []

        def send(lines):
            status, _, text = post("/write?db=telegraf", b"".join(lines), v1_headers(True), True)
            sizes.append((len(lines), status))
            if status == 413:
                if count("telegraf", m) != 0:
                    raise AssertionError("a refused batch left points behind")
                half = len(lines) // 2
                send(lines[:half])
                send(lines[half:])
            elif status != 204:
                raise AssertionError(f"{len(lines)} lines: {status} {text[:200]!r}")

        send(body.splitlines(keepends=True))
        if sizes[0] != (n, 413):
            raise AssertionError(f"first answer {sizes[0]}, expected 413")
        got = count("telegraf", m)
        if got != n:
            raise AssertionError(f"{got} points stored after the split, expected {n}")

    cell("/write?db=telegraf, 12 MiB batch → 413 → split in halves", "Basic", "on",
         "count() = every point, once", too_large)

    m = f"tg_bad_{TARGET}"

    def bad_line():
        body = metrics(m, 3) + f"{m},host=x uptime=oops {T0}\n".encode()
        status, _, text = post("/write?db=telegraf", body, v1_headers(True), True)
        assert status == 400, (status, text)
        assert "error" in json.loads(text), text
        assert count("telegraf", m) == 0, "a rejected batch stored points"

    cell("/write?db=telegraf, a bad line → 400 (Telegraf drops the batch)", "Basic", "on",
         "nothing stored", bad_line)

    def wrong_password():
        h = {**v1_headers(False), "Authorization": basic("telegraf", "wrong-token")}
        status, _, text = post("/write?db=telegraf", metrics("tg_denied", 1), h, False)
        assert status == 401, (status, text)
        h2 = {**v2_headers(), "Authorization": "Token wrong-token"}
        status, _, text = post("/api/v2/write?bucket=telegraf_v2&org=", metrics("tg_denied", 1), h2, True)
        assert status == 401, (status, text)

    cell("/write and /api/v2/write, a wrong token → 401 (Telegraf keeps the batch)",
         "Basic / Token", "on, off", "status only", wrong_password)

    R.add(dict(client=CLIENT, endpoint="429 / 503 → retry", auth="-", gzip="-",
               precision="-", read="-"), "n/a",
          "429 is never sent; the server's 503 is forced on a second server (retry-503 row); the "
          "Worker answers 503 only when storage and its R2 spool both fail, not forced here "
          "(storage down alone: the spool rows, 204)")


def retry_503():
    """Against a server whose write buffer is tiny (--max-buffer-mib 1, persisted every 5 s):
    batches are refused with 503 + Retry-After while the buffer is full; Telegraf waits
    Retry-After and sends the same batch again. Every point must end up stored exactly once."""
    m, batches, per = f"tg_retry_{TARGET}", 3, 20_000
    seen = []

    def run():
        for b in range(batches):
            body = "".join(f"{m},host=h{k % 50} n={b * per + k}i,pad=\"{'x' * 100}\" {T0 + b * per + k}\n"
                           for k in range(per)).encode()
            deadline = time.time() + 60
            while True:
                status, headers, text = post("/api/v2/write?bucket=telegraf_retry&org=", body, v2_headers(), True)
                seen.append(status)
                if status == 204:
                    break
                assert status == 503, (status, text[:200])
                retry_after = headers.get("Retry-After")
                assert retry_after and retry_after.isdigit(), f"503 without Retry-After: {headers.items()}"
                assert time.time() < deadline, "still 503 after 60 s"
                time.sleep(int(retry_after))
        assert 503 in seen, f"the buffer never filled (answers {seen}): nothing was retried"
        got = v1_rows(v1_query(URL, "telegraf_retry", f'SELECT count(n), sum(n) FROM "{m}"', f"Token {TOKEN}"))
        n = batches * per
        assert (got[0]["count"], got[0]["sum"]) == (n, n * (n - 1) // 2), got

    R.run(dict(client=CLIENT, endpoint="/api/v2/write, buffer full → 503 + Retry-After → same batch again",
               auth="Token", gzip="on", precision="ns (none sent)",
               read="count() and sum(): every point once"), run)
    print(f"    answers: {seen}")


SPOOL_M = "tg_spooled"


def spool_write():
    def run():
        status, _, text = post("/api/v2/write?bucket=telegraf_v2&org=", metrics(SPOOL_M, 5),
                               v2_headers(), True)
        assert status == 204, f"storage down: {status} {text[:300]!r} (expected 204, spooled)"

    R.run(dict(client=CLIENT, endpoint="/api/v2/write while storage is down", auth="Token", gzip="on",
               precision="ns (none sent)", read="204 (spooled to R2)"), run)


def spool_replay():
    def run():
        # wrangler dev --test-scheduled: this runs the cron handler, which replays the spool.
        deadline = time.time() + 60
        while True:
            status, _, text = request("GET", f"{URL}/__scheduled?cron=" + urllib.parse.quote("* * * * *"))
            try:
                expect_rows("telegraf_v2", SPOOL_M, 5)
                return
            except AssertionError:
                if time.time() > deadline:
                    raise
                time.sleep(1)

    R.run(dict(client=CLIENT, endpoint="/api/v2/write spooled, then the cron replays it", auth="Token",
               gzip="on", precision="ns (none sent)", read="/query after the replay: every point once"),
          run)


if __name__ == "__main__":
    {"spool-write": spool_write, "spool-replay": spool_replay, "retry-503": retry_503}.get(sys.argv[1] if len(sys.argv) > 1 else "", checks)()
    sys.exit(1 if R.failed else 0)
