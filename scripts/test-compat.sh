#!/usr/bin/env bash
# Compatibility suite (issue 16): real InfluxDB clients, Telegraf's request shapes and a
# differential run against InfluxDB 1.6.7, all on 127.0.0.1; writes the matrix
# (tests/compat/matrix.md) and splices it into README.md between the compat-matrix markers.
#
#   1. Installs the clients it runs, pinned: PyPI (tests/compat/requirements.txt, virtualenv
#      target/compat-venv), npm (npm ci in tests/compat), Debian influxdb-client (the influx
#      CLI 1.6.7) and influxdb (influxd 1.6.7); wrangler from the root package.json.
#   2. Starts linegate's native server, `wrangler dev` (the Worker, KV auth) in front of it, and
#      influxd 1.6.7, each on a free port from the OS; stops them on exit.
#   3. Every client runs against the server and against the Worker (tests/compat/py_clients.py,
#      node_clients.mjs, influx_cli.py), then Telegraf's shapes (telegraf.py), then the
#      differential run (differential.py, documented differences in tests/compat/DIFFERENCES.md;
#      the Worker must store exactly what the server stores).
#   4. tests/compat/matrix.py builds the matrix from every cell's result; any failing cell fails
#      the run (exit 1).
#
# Env: LINEGATE_BIN (default target/debug/linegate), KEEP_COMPAT=1 keeps the work directory
#      (after a failure only its logs and results.jsonl are kept),
#      COMPAT_SKIP_WORKER=1 runs without the Worker (its cells are then reported as not run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_up URL PID LOG SECONDS: until URL answers (any status below 500) or PID dies.
wait_up() {
  local url=$1 pid=$2 log=$3 n code
  for n in $(seq $(($4 * 5))); do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$log" >&2; die "process for $url exited"; }
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)
    [ -n "$code" ] && [ "$code" != 000 ] && [ "$code" -lt 500 ] && return 0
    sleep 0.2
  done
  tail -n 40 "$log" >&2
  die "$url not up after $4 s"
}

LINEGATE_BIN=${LINEGATE_BIN:-target/debug/linegate}
[ -x "$LINEGATE_BIN" ] || die "native server not found at $LINEGATE_BIN (cargo build -p linegate-server, or set LINEGATE_BIN)"
LINEGATE_BIN=$(cd "$(dirname "$LINEGATE_BIN")" && pwd)/$(basename "$LINEGATE_BIN")

# ---- installs ----------------------------------------------------------------------------
VENV=target/compat-venv
REQS=tests/compat/requirements.txt
PY=$ROOT/$VENV/bin/python
if [ ! -x "$PY" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$(cat "$REQS")" ]; then
  step "virtualenv $VENV (influxdb, influxdb-client, influxdb3-python, aioinflux)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed: install python3-venv"
  "$PY" -m pip install -q --disable-pip-version-check --only-binary=:all: -r "$REQS"
  cp "$REQS" "$VENV/.stamp"
fi
if [ ! -d tests/compat/node_modules ] || [ tests/compat/package-lock.json -nt tests/compat/node_modules/.package-lock.json ]; then
  step "npm ci (tests/compat: influx, @influxdata/influxdb-client, @influxdata/influxdb3-client)"
  (cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
fi
if ! command -v influx >/dev/null || ! command -v influxd >/dev/null; then
  step "apt-get install influxdb-client influxdb (1.6.7)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb-client influxdb >/dev/null
fi
if [ "${COMPAT_SKIP_WORKER:-}" != 1 ]; then
  scripts/setup-worker.sh >/dev/null
fi

# ---- servers -----------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/linegate-compat.XXXXXX")
export COMPAT_RESULTS=$WORK/results.jsonl
: > "$COMPAT_RESULTS"
LG_PID= LG2_PID= EDGE_PID= INFLUX=
stop_pid() { # SIGTERM, then SIGKILL after 10 s; $2 = "group" for a process group
  local pid=$1 target=$1
  [ -n "$pid" ] || return 0
  [ "${2:-}" = group ] && target=-$pid
  kill -TERM -- "$target" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "$target" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop_pid "$EDGE_PID" group
  stop_pid "$LG_PID"
  stop_pid "$LG2_PID"
  stop_pid "$INFLUX"
  if [ "${KEEP_COMPAT:-}" = 1 ]; then
    echo "(logs and data kept in $WORK)"
  elif [ "$rc" != 0 ]; then
    # The logs and the cells' results are kept to look at; the databases are not.
    rm -rf "$WORK/data" "$WORK/data-2" "$WORK/influxd/data" "$WORK/influxd/wal" "$WORK/influxd/meta" "$WORK/edge-state" \
      "$WORK/xdg-config" "$WORK/xdg-cache"
    echo "(logs and results kept in $WORK)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ADMIN=apiv3_compat-admin
echo "$ADMIN" > "$WORK/admin-token"
LG_PORT=$(free_port)
SERVER=http://127.0.0.1:$LG_PORT
start_native() {
  "$LINEGATE_BIN" serve --http-bind "127.0.0.1:$LG_PORT" --data-dir "$WORK/data" \
    --admin-token-file "$WORK/admin-token" >>"$WORK/linegate.log" 2>&1 &
  LG_PID=$!
  wait_up "$SERVER/ping" "$LG_PID" "$WORK/linegate.log" 60
}
step "linegate on $SERVER"
start_native

EDGE=
if [ "${COMPAT_SKIP_WORKER:-}" != 1 ]; then
  EDGE_PORT=$(free_port)
  EDGE=http://127.0.0.1:$EDGE_PORT
  # wrangler's own state and config stay in the work directory; nothing is sent anywhere.
  export XDG_CONFIG_HOME=$WORK/xdg-config XDG_CACHE_HOME=$WORK/xdg-cache \
    WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false NO_COLOR=1
  PERSIST=$WORK/edge-state
  EDGE_TOKEN=$(scripts/add-token.sh '{"read":["compat","telegraf","telegraf_v2"],"write":["compat","telegraf","telegraf_v2"]}' \
    --local --persist-to "$PERSIST" 2>>"$WORK/wrangler.log")
  EDGE_ADMIN=$(scripts/add-token.sh admin --local --persist-to "$PERSIST" 2>>"$WORK/wrangler.log")
  step "wrangler dev (the Worker, KV auth) on $EDGE in front of $SERVER (builds the Worker first)"
  # Its own process group (setsid): wrangler runs workerd below it; cleanup stops the group.
  setsid npx --no-install wrangler dev --ip 127.0.0.1 --port "$EDGE_PORT" \
    --inspector-port "$(free_port)" --persist-to "$PERSIST" --test-scheduled \
    --show-interactive-dev-session=false --var "UPSTREAM_URL:$SERVER" --var "UPSTREAM_TOKEN:$ADMIN" \
    --var AUTH_MODE:kv --var RETRY_BUDGET_MS:1500 >>"$WORK/wrangler.log" 2>&1 < /dev/null &
  EDGE_PID=$!
  wait_up "$EDGE/ping" "$EDGE_PID" "$WORK/wrangler.log" 600
fi

INFLUX_PORT=$(free_port)
# shellcheck source=scripts/influxd.sh
. scripts/influxd.sh
step "influxd 1.6.7 on 127.0.0.1:$INFLUX_PORT (for the differential run)"
start_influxd "$WORK/influxd" "$INFLUX_PORT" "$(free_port)"
wait_up "http://127.0.0.1:$INFLUX_PORT/ping" "$INFLUX" "$WORK/influxd/log" 60

# ---- the cells ---------------------------------------------------------------------------
status=0
# run_target TARGET URL TOKEN ADMIN_TOKEN: every client against one target; a failure is a
# failing cell in the results, and the run goes on.
run_target() {
  export COMPAT_TARGET=$1 COMPAT_URL=$2 COMPAT_TOKEN=$3 COMPAT_ADMIN_TOKEN=$4 COMPAT_DB=compat
  export COMPAT_SERVER_URL=$SERVER COMPAT_SERVER_TOKEN=$ADMIN
  step "Python clients → $1"
  (cd tests/compat && "$PY" py_clients.py) || status=1
  step "JavaScript clients → $1"
  (cd tests/compat && node node_clients.mjs) || status=1
  step "influx CLI 1.6.7 → $1"
  (cd tests/compat && "$PY" influx_cli.py) || status=1
  step "Telegraf request shapes → $1"
  (cd tests/compat && "$PY" telegraf.py) || status=1
}
run_target server "$SERVER" "$ADMIN" "$ADMIN"
if [ -n "$EDGE" ]; then
  run_target worker "$EDGE" "$EDGE_TOKEN" "$EDGE_ADMIN"
  step "Worker with storage stopped: Telegraf's write is spooled (204), replayed by the cron"
  stop_pid "$LG_PID"; LG_PID=
  "$PY" tests/compat/telegraf.py spool-write || status=1
  start_native
  "$PY" tests/compat/telegraf.py spool-replay || status=1
fi

step "a second server with a tiny write buffer: Telegraf's retry after 503 + Retry-After"
LG2_PORT=$(free_port)
echo "$ADMIN" > "$WORK/admin-token-2"
"$LINEGATE_BIN" serve --http-bind "127.0.0.1:$LG2_PORT" --data-dir "$WORK/data-2" --admin-token-file "$WORK/admin-token-2" \
  --max-buffer-mib 1 --persist-buffer-mib 100 --persist-interval-secs 5 >"$WORK/linegate-2.log" 2>&1 &
LG2_PID=$!
wait_up "http://127.0.0.1:$LG2_PORT/ping" "$LG2_PID" "$WORK/linegate-2.log" 60
COMPAT_TARGET=server COMPAT_URL=http://127.0.0.1:$LG2_PORT COMPAT_TOKEN=$ADMIN "$PY" tests/compat/telegraf.py retry-503 || status=1
stop_pid "$LG2_PID"; LG2_PID=

step "differential run: the same line-protocol corpus to linegate, InfluxDB 1.6.7 (and through the Worker)"
COMPAT_TARGET=server "$PY" tests/compat/differential.py "$SERVER" "$ADMIN" "http://127.0.0.1:$INFLUX_PORT" \
  ${EDGE:+"$EDGE" "$EDGE_ADMIN"} || status=1

step "matrix (tests/compat/matrix.md, README.md)"
wrangler_version=$([ -n "$EDGE" ] && npx --no-install wrangler --version 2>/dev/null | tail -n1 || echo -)
"$PY" tests/compat/matrix.py --seconds $((SECONDS - START)) --linegate "$("$LINEGATE_BIN" --version)" \
  --wrangler "$wrangler_version" ${COMPAT_SKIP_WORKER:+--no-worker} || status=1
echo "compat: finished in $((SECONDS - START)) s"
exit "$status"
