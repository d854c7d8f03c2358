#!/usr/bin/env python3
"""The `influx` CLI 1.6.7 (Debian's influxdb-client) against one target: -import (plain and
-compressed, at several precisions) and INSERT through -execute, read back with -execute
-format json (-precision ns) and SHOW FIELD KEYS, every value, type and time checked; then
scripts/test-influx-cli.sh, which compares twenty steps' output with what the CLI printed
against InfluxDB 1.6.7 itself. The CLI sends its credentials as Basic auth
(INFLUX_USERNAME / INFLUX_PASSWORD), the token as the password.

Env: as py_clients.py, and COMPAT_ADMIN_TOKEN (a token for every database at the target).
"""

import gzip
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse

from common import Results, check_v1, env, line, points, v1_rows

URL, TOKEN, DB, TARGET = env("COMPAT_URL"), env("COMPAT_TOKEN"), env("COMPAT_DB"), env("COMPAT_TARGET")
HOST, PORT = urllib.parse.urlsplit(URL).hostname, str(urllib.parse.urlsplit(URL).port)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
R = Results()
ENV = {**os.environ, "INFLUX_USERNAME": "compat", "INFLUX_PASSWORD": TOKEN}
# The CLI's -precision spelling per precision of points().
CLI_PRECISION = {"n": "ns", "u": "u", "ms": "ms", "s": "s", "m": "m", "h": "h"}


def influx(*args, stderr_too=False):
    out = subprocess.run(["influx", "-host", HOST, "-port", PORT, *args], env=ENV,
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"influx {' '.join(args)}: exit {out.returncode}: {out.stdout}{out.stderr}")
    return out.stdout + out.stderr if stderr_too else out.stdout


def read_back(m, pts, prec):
    rows = v1_rows(json.loads(influx("-database", DB, "-format", "json", "-precision", "ns",
                                     "-execute", f'SELECT * FROM "{m}"')))
    types = json.loads(influx("-database", DB, "-format", "json", "-execute", f'SHOW FIELD KEYS FROM "{m}"'))
    check_v1(rows, types, pts, prec)


def version():
    return "influx " + subprocess.run(["influx", "-version"], capture_output=True, text=True).stdout.split()[3].rstrip(",")


def main():
    name = version()
    read = "-execute -format json -precision ns"
    seq = 0
    for compressed in (False, True):
        for prec in ("n", "ms", "s", "h"):
            seq += 1
            m = f"cli_{TARGET}_{seq}"
            pts = points(prec, uint=True)

            def run():
                text = f"# DML\n# CONTEXT-DATABASE: {DB}\n" + "\n".join(line(m, p) for p in pts) + "\n"
                with tempfile.NamedTemporaryFile(suffix=".gz" if compressed else ".txt") as f:
                    f.write(gzip.compress(text.encode()) if compressed else text.encode())
                    f.flush()
                    args = ["-import", "-path", f.name, "-precision", CLI_PRECISION[prec]]
                    out = influx(*args, *(["-compressed"] if compressed else []), stderr_too=True)
                # Failed inserts leave the exit status 0: the summary says.
                assert f"Processed {len(pts)} inserts" in out and "Failed 0 inserts" in out, out
                read_back(m, pts, prec)

            R.run(dict(client=name, endpoint="/write (-import" + (" -compressed)" if compressed else ")"),
                       auth="Basic (INFLUX_USERNAME/PASSWORD)", gzip="off (not offered)",
                       precision=CLI_PRECISION[prec], read=read), run)
    for prec in ("n", "s"):
        seq += 1
        m = f"cli_{TARGET}_{seq}"
        pts = points(prec, uint=True)

        def insert():
            for p in pts:
                influx("-database", DB, "-precision", CLI_PRECISION[prec], "-execute", "INSERT " + line(m, p))
            read_back(m, pts, prec)

        R.run(dict(client=name, endpoint="/write (INSERT)", auth="Basic (INFLUX_USERNAME/PASSWORD)",
                   gzip="off (not offered)", precision=CLI_PRECISION[prec], read=read), insert)

    def full_script():
        # CREATE DATABASE clitest needs a token for every database: the target's admin token.
        admin = {**ENV, "INFLUX_PASSWORD": env("COMPAT_ADMIN_TOKEN")}
        out = subprocess.run([f"{ROOT}/scripts/test-influx-cli.sh", f"{HOST}:{PORT}"], env=admin,
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise AssertionError((out.stderr.strip() or out.stdout.strip())[-500:])

    R.run(dict(client=name, endpoint="/query + /write (scripts/test-influx-cli.sh: CREATE DATABASE, "
               "-import with # DDL, INSERT, SELECT, GROUP BY, SHOW …)", auth="Basic (admin token)",
               gzip="off", precision="ns, rfc3339, ms",
               read="-execute (json, csv, column): output equal to InfluxDB 1.6.7's"), full_script)


if __name__ == "__main__":
    main()
    sys.exit(1 if R.failed else 0)
