#!/usr/bin/env bash
# Fetch benchmark: `SELECT *` of LINES rows (default 10 M; a fleet of 100 hosts × 8 cpus,
# 3 tags + 10 fields + time = 14 columns) over Arrow Flight and over HTTP
# (`/api/v3/query_sql?format=jsonl`) from the same server, same run, RUNS times each
# (default 3), alternating. The Flight client is pyarrow's (InfluxDB 3's JSON ticket, as
# influxdb3-python sends it), reading every batch; the HTTP client is curl, writing the body
# to /dev/null. Both answers must hold every row. Prints the median seconds, rows/s and the
# ratio.
#
#   scripts/bench-flight.sh                 # LINES=10000000 RUNS=3
#   LINES=1000000 scripts/bench-flight.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REL=${CARGO_TARGET_DIR:-target}/release
LINES=${LINES:-10000000}
RUNS=${RUNS:-3}
WORK=${WORK:-target/bench-flight}
PORT=18191
TOKEN=apiv3_bench

echo "==> building linegate (release)"
cargo build --release -q -p linegate-server
cargo build --release -q --example gen_corpus
BIN=$REL/linegate
# pyarrow from the Flight test's virtualenv (scripts/test-flight.sh makes it).
PY=target/flight-venv/bin/python
[ -x "$PY" ] || { echo "run scripts/test-flight.sh once first (it makes $PY)"; exit 2; }

wait_port() { for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

rm -rf "$WORK"; mkdir -p "$WORK/data"
echo "$TOKEN" > "$WORK/admin-token"
echo "==> generating $LINES fleet lines"
"$REL/examples/gen_corpus" fleet "$LINES" > "$WORK/fleet.lp"

start() {
  "$BIN" serve --http-bind "127.0.0.1:$PORT" --data-dir "$WORK/data" \
    --admin-token-file "$WORK/admin-token" --compact-after-secs 1 >> "$WORK/log" 2>&1 &
  SERVER=$!
  wait_port "$PORT"
}
start
trap 'kill $SERVER 2>/dev/null || true' EXIT
echo "==> loading, then restarting (everything in Parquet) and waiting for compaction"
LINEGATE_TOKEN=$TOKEN "$BIN" write --database bench --batch-lines 5000 --concurrency 2 --quiet \
  --host "http://127.0.0.1:$PORT" "$WORK/fleet.lp"
kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true
start
for _ in $(seq 120); do
  before=$(find "$WORK/data" -name '*.parquet' | wc -l); sleep 3
  [ "$(find "$WORK/data" -name '*.parquet' | wc -l)" = "$before" ] && break
done
echo "    $(find "$WORK/data" -name '*.parquet' | wc -l) Parquet files"

SQL="SELECT * FROM cpu"
flight() {
  "$PY" - "$PORT" "$TOKEN" "$SQL" <<'EOF'
import json, sys, time
import pyarrow.flight as fl
port, token, sql = sys.argv[1], sys.argv[2], sys.argv[3]
client = fl.FlightClient(f"grpc://127.0.0.1:{port}")
options = fl.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])
ticket = fl.Ticket(json.dumps({"database": "bench", "sql_query": sql, "query_type": "sql"}))
start = time.perf_counter()
rows = sum(chunk.data.num_rows for chunk in client.do_get(ticket, options))
print(f"{time.perf_counter() - start:.3f} {rows}")
EOF
}
jsonl() {
  local start end rows
  start=$(date +%s.%N)
  rows=$(curl -sf -H "Authorization: Bearer $TOKEN" --get "http://127.0.0.1:$PORT/api/v3/query_sql" \
    --data-urlencode "db=bench" --data-urlencode "format=jsonl" --data-urlencode "q=$SQL" | wc -l)
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $rows"
}

F=(); J=()
for run in $(seq "$RUNS"); do
  read -r secs rows < <(flight)
  [ "$rows" = "$LINES" ] || { echo "Flight answered $rows rows, not $LINES"; exit 1; }
  F+=("$secs")
  read -r secs rows < <(jsonl)
  [ "$rows" = "$LINES" ] || { echo "jsonl answered $rows rows, not $LINES"; exit 1; }
  J+=("$secs")
  echo "    run $run: Flight ${F[-1]} s, jsonl ${J[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
f=$(median "${F[@]}"); j=$(median "${J[@]}")
echo
echo "| path | median | rows/s |"
echo "|---|---:|---:|"
printf '| Flight (pyarrow, DoGet) | %.2f s | %s |\n' "$f" "$(echo "$LINES / $f" | bc)"
printf '| HTTP jsonl (curl) | %.2f s | %s |\n' "$j" "$(echo "$LINES / $j" | bc)"
printf 'Flight is %.1f× faster (%s rows, %s runs each, medians)\n' "$(echo "$j / $f" | bc -l)" "$LINES" "$RUNS"
