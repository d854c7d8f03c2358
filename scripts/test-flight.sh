#!/usr/bin/env bash
# End-to-end test of linegate's Arrow Flight and Flight SQL (gRPC over h2c, on the HTTP port)
# with real client libraries: InfluxDB 3's Python client (influxdb3-python) and the ADBC
# Flight SQL driver, from PyPI in a virtualenv under target/flight-venv, and InfluxDB 3's
# JavaScript client (@influxdata/influxdb3-client, npm ci in tests/flight). Only 127.0.0.1 is
# contacted.
#
#   1. linegate on a free port with an admin token; a read token for database flight_a only.
#   2. influxdb3-python writes every field type (v2 and v3 write APIs, precision ns and s);
#      HTTP reads it back, so a write problem is not taken for a Flight one.
#   3. influxdb3-python queries over Flight: SQL and InfluxQL, exact values, Arrow types,
#      nanosecond times, parameters, empty and multi-MiB answers, errors.
#   4. ADBC Flight SQL: get_objects, table schema, queries prepared and not, parameters.
#   5. Tokens: the read token reads flight_a and is refused on flight_b; bad tokens refused.
#   6. The JavaScript client writes and queries (SQL, InfluxQL, queryPoints, tokens).
#   7. SIGTERM: clean exit, no error logged.
#   8. A second server with --tls-cert (openssl's self-signed certificate): influxdb3-python
#      writes over HTTPS and queries over gRPC with TLS, ADBC over grpc+tls.
#
# Env: LINEGATE_BIN (default target/debug/linegate, built with cargo if missing),
#      PYTHON (default python3), KEEP_FLIGHT_TEST=1 keeps the work dir.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/flight-venv
REQS=tests/flight/requirements.txt
ADMIN_TOKEN=apiv3_flight-admin
START=$SECONDS
PASSED=0

step() { printf '\n==> %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); printf '    ok: %s\n' "$*"; }
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

# ---- the binary --------------------------------------------------------------------------
if [ -z "${LINEGATE_BIN:-}" ]; then
  LINEGATE_BIN=target/debug/linegate
  if [ ! -x "$LINEGATE_BIN" ]; then
    step "cargo build -p linegate-server (no $LINEGATE_BIN yet)"
    cargo build -q -p linegate-server
  fi
fi
[ -x "$LINEGATE_BIN" ] || die "native server not found at $LINEGATE_BIN (cargo build -p linegate-server, or set LINEGATE_BIN)"
LINEGATE_BIN=$(cd "$(dirname "$LINEGATE_BIN")" && pwd)/$(basename "$LINEGATE_BIN")

# ---- the clients -------------------------------------------------------------------------
PY=$VENV/bin/python
STAMP=$VENV/.linegate-flight-stamp
if [ ! -x "$PY" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$(cat "$REQS")" ]; then
  step "virtualenv $VENV: influxdb3-python, adbc-driver-flightsql, pyarrow"
  rm -rf "$VENV"
  if ! "${PYTHON:-python3}" -m venv "$VENV" 2>/dev/null; then
    # Debian ships venv support separately.
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$VENV"
      "${PYTHON:-python3}" -m venv "$VENV"
    else
      die "${PYTHON:-python3} -m venv failed: install python3-venv"
    fi
  fi
  # Wheels only: pyarrow and the ADBC driver (a Go library) must not build from source.
  "$PY" -m pip install -q --disable-pip-version-check --only-binary=:all: -r "$REQS"
  cat "$REQS" > "$STAMP"
fi
if ! command -v node >/dev/null; then
  step "apt-get install nodejs"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
step "npm ci (tests/flight: @influxdata/influxdb3-client)"
(cd tests/flight && npm ci --no-audit --no-fund --loglevel=error)
CHECK=("$PY" tests/flight/check.py)

# ---- linegate ----------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/linegate-flight.XXXXXX")
echo "$ADMIN_TOKEN" > "$WORK/admin-token"
LG_PID=

cleanup() {
  local rc=$?
  if [ -n "$LG_PID" ] && kill -0 "$LG_PID" 2>/dev/null; then
    kill -TERM "$LG_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$LG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$LG_PID" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ]; then
    echo "--- last lines of $WORK/linegate.err"
    tail -n 30 "$WORK/linegate.err" 2>/dev/null || true
    echo "flight: $PASSED passed, 1 failed"
    echo "(logs and data kept in $WORK)"
  elif [ "${KEEP_FLIGHT_TEST:-}" = 1 ]; then
    echo "(logs and data kept in $WORK)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("${CHECK[@]}" free-port)
[ -n "$PORT" ] || die "could not pick a free port"
URL=http://127.0.0.1:$PORT

step "linegate on $URL (HTTP and Flight on one port)"
RUST_LOG=info "$LINEGATE_BIN" serve --http-bind "127.0.0.1:$PORT" --data-dir "$WORK/data" \
  --admin-token-file "$WORK/admin-token" >"$WORK/linegate.out" 2>"$WORK/linegate.err" &
LG_PID=$!
"${CHECK[@]}" wait-http --url "$URL" --pid "$LG_PID"
# A token that may read flight_a and nothing else (created before the database exists).
READ_TOKEN_A=$("$LINEGATE_BIN" create token --database flight_a --permission read \
  --name flight-read-a --host "$URL" --token "$ADMIN_TOKEN" 2>/dev/null)
[ -n "$READ_TOKEN_A" ] || die "linegate create token printed no token"
ok "linegate up; read token for flight_a created"

export LINEGATE_URL=$URL LINEGATE_TOKEN=$ADMIN_TOKEN LINEGATE_READ_TOKEN_A=$READ_TOKEN_A

step "influxdb3-python writes (HTTP)"
"${CHECK[@]}" write
ok "writes read back over HTTP"

step "influxdb3-python queries (Flight DoGet, JSON ticket)"
"${CHECK[@]}" influxdb3
ok "influxdb3-python queries"

step "ADBC Flight SQL driver"
"${CHECK[@]}" adbc
ok "ADBC Flight SQL"

step "tokens over Flight and Flight SQL"
"${CHECK[@]}" auth
ok "tokens"

step "@influxdata/influxdb3-client (node)"
(cd tests/flight && node check.mjs)
ok "JavaScript client"

step "SIGTERM"
kill -TERM "$LG_PID"
for _ in $(seq 300); do kill -0 "$LG_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LG_PID" 2>/dev/null && die "linegate did not exit within 30 s of SIGTERM"
rc=0
wait "$LG_PID" || rc=$?
LG_PID=
[ "$rc" = 0 ] || die "linegate exited with status $rc after SIGTERM"
bad=$(grep -E ' ERROR |panicked' "$WORK/linegate.err" || true)
[ -z "$bad" ] || die "linegate logged errors:
$bad"
ok "clean exit, no error logged"

step "TLS: a second server with a self-signed certificate (--tls-cert, --tls-key)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/tls-key.pem" -out "$WORK/tls-cert.pem" 2>/dev/null
TLS_PORT=$("${CHECK[@]}" free-port)
echo "$ADMIN_TOKEN" > "$WORK/tls-admin-token"
"$LINEGATE_BIN" serve --http-bind "127.0.0.1:$TLS_PORT" --data-dir "$WORK/tls-data" \
  --admin-token-file "$WORK/tls-admin-token" \
  --tls-cert "$WORK/tls-cert.pem" --tls-key "$WORK/tls-key.pem" \
  >"$WORK/linegate-tls.out" 2>"$WORK/linegate-tls.err" &
LG_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null && break; sleep 0.1; done
LINEGATE_TLS_URL=https://localhost:$TLS_PORT LINEGATE_TLS_CA=$WORK/tls-cert.pem "${CHECK[@]}" tls
kill -TERM "$LG_PID"
rc=0
wait "$LG_PID" || rc=$?
LG_PID=
[ "$rc" = 0 ] || die "the TLS server exited with status $rc after SIGTERM"
ok "HTTPS and Flight over TLS"

step "Flight end-to-end test passed in $((SECONDS - START)) s"
echo "flight: $PASSED passed, 0 failed"
