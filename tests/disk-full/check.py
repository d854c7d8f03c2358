"""Disk full: the server on a small tmpfs answers 507 with a clear JSON error once the data
directory is full, keeps answering /ping, corrupts nothing, and takes writes again once space
returns (run by scripts/test-disk-full.sh, which mounts the tmpfs and grows it on request).

    python3 tests/disk-full/check.py LINEGATE_BIN MOUNT_DIR GROW_COMMAND...
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

BIN, MOUNT = sys.argv[1], sys.argv[2]
GROW = sys.argv[3:]
TOKEN = "apiv3_disk-full-test"
LINES = 2000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port):
    log = open(os.path.join(MOUNT, "..", "server.log"), "a")
    proc = subprocess.Popen(
        [BIN, "serve", "--http-bind", f"127.0.0.1:{port}", "--data-dir", os.path.join(MOUNT, "data"),
         "--admin-token-file", os.path.join(MOUNT, "..", "token"), "--persist-interval-secs", "3600"],
        stdout=log, stderr=log)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def request(port, method, path, body=b""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers={"Authorization": f"Bearer {TOKEN}"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def batch(n):
    return "".join(f"fill,batch={n},i={i} payload=\"{'x' * 40}\",v={i}i {1_700_000_000 + i}\n"
                   for i in range(LINES)).encode()


def count(port):
    status, body = request(port, "GET", "/api/v3/query_sql?db=full&format=json&q=" +
                           "SELECT%20count(*)%20AS%20n%20FROM%20fill")
    assert status == 200, body
    return json.loads(body)[0]["n"]


def check(label, condition, detail=""):
    if not condition:
        raise SystemExit(f"FAILED: {label} {detail}")
    print(f"ok   {label}")


with open(os.path.join(MOUNT, "..", "token"), "w") as f:
    f.write(TOKEN + "\n")
port = free_port()
server = start(port)
acknowledged = 0
answers = []
for n in range(100_000):
    status, body = request(port, "POST", "/api/v3/write_lp?db=full&precision=second", batch(n))
    if status == 204:
        acknowledged += 1
        continue
    answers.append((status, body))
    if len(answers) == 5:
        break
check("writes until the disk is full", acknowledged > 10, f"{acknowledged} batches")
check("then 507 for every write, never 500", all(s == 507 for s, _ in answers), answers)
error = json.loads(answers[0][1])
check("with a JSON error that says the disk is full",
      "full" in error["error"] and "not stored" in error["error"], error)
status, body = request(port, "POST", "/api/v2/write?bucket=full&precision=s", batch(10**6))
check("in the v2 shape on /api/v2/write", status == 507 and json.loads(body)["code"] == "unavailable", body)
started = time.monotonic()
status, _ = request(port, "GET", "/ping")
check("/ping still answers", status == 204 and time.monotonic() - started < 1)
check("every acknowledged batch is readable", count(port) == acknowledged * LINES)

subprocess.run(GROW, check=True)
status, body = request(port, "POST", "/api/v3/write_lp?db=full&precision=second", batch(10**6 + 1))
check("space back: writes are taken again, without a restart", status == 204, body)
acknowledged += 1

server.send_signal(signal.SIGKILL)
server.wait()
server = start(port)
check("after SIGKILL and restart every acknowledged batch is there once",
      count(port) == acknowledged * LINES, f"{count(port)} != {acknowledged * LINES}")
log = open(os.path.join(MOUNT, "..", "server.log")).read()
check("and the WAL replayed clean (no damaged record)", "damaged" not in log)
server.send_signal(signal.SIGTERM)
server.wait(timeout=30)
print(f"disk full: {acknowledged} batches of {LINES} lines acknowledged, all stored once")
