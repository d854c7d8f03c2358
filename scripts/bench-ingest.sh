#!/usr/bin/env bash
# Ingest benchmark: linegate against InfluxDB 1.6.7 (Debian's `influxdb`, fsync per write),
# same machine, same run, same loader (`linegate write`: 5 000-line batches over CONNECTIONS
# keep-alive connections to /write, default 4), same Telegraf-like data. Verifies the point
# count in each and reports lines/s, server CPU seconds per million lines and peak RSS, with
# the ratios.
# Then a second linegate run with RSS_LINES lines (default 10 M) for its peak RSS.
#
#   scripts/bench-ingest.sh            # LINES=1000000 RSS_LINES=10000000
#   LINES=200000 RSS_LINES=0 scripts/bench-ingest.sh
#   CONNECTIONS=2 scripts/bench-ingest.sh
#
# Four connections, not two: a connection sends nothing while its batch waits for the WAL's
# fsync (about a fifth of its round trip), so with two the server kept 1.25 of the two cores
# busy and with four 1.45 (10 M lines, same build, 2026-12-02).
set -euo pipefail
cd "$(dirname "$0")/.."
# Release binaries: $CARGO_TARGET_DIR/release (default target/release).
REL=${CARGO_TARGET_DIR:-target}/release
LINES=${LINES:-1000000}
RSS_LINES=${RSS_LINES:-10000000}
CONNECTIONS=${CONNECTIONS:-4}
WORK=${WORK:-target/bench-ingest}
TICKS=$(getconf CLK_TCK)

. scripts/influxd.sh
echo "==> building linegate (release)"
cargo build --release -q -p linegate-server
cargo build --release -q --example gen_corpus
BIN=$REL/linegate

rm -rf "$WORK"; mkdir -p "$WORK"
echo "==> generating $LINES Telegraf-like lines"
"$REL/examples/gen_corpus" ingest "$LINES" > "$WORK/ingest.lp"
BYTES=$(stat -c %s "$WORK/ingest.lp")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
now() { date +%s.%N; }

# load NAME PID URL TOKEN FILE LINES → prints "lines/s cpu_s_per_M peak_MiB"
load() {
  local name=$1 pid=$2 url=$3 token=$4 file=$5 lines=$6
  local cpu0 t0 t1 cpu1
  cpu0=$(cpu_ticks "$pid"); t0=$(now)
  LINEGATE_TOKEN=$token "$BIN" write --api v1 --database bench --batch-lines 5000 --concurrency "$CONNECTIONS" \
    --quiet --host "$url" "$file" 2> "$WORK/$name-load.log" || { cat "$WORK/$name-load.log"; exit 1; }
  t1=$(now); cpu1=$(cpu_ticks "$pid")
  awk -v l="$lines" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" -v hz="$TICKS" -v kib="$(peak_kib "$pid")" \
    'BEGIN { printf "%.0f %.2f %.0f\n", l / (t1 - t0), (c1 - c0) / hz / (l / 1e6), kib / 1024 }'
}

echo "==> InfluxDB 1.6.7"
start_influxd "$WORK/influx" 18086 18088 'wal-fsync-delay = "0s"'
trap 'kill $INFLUX $LINEGATE 2>/dev/null || true' EXIT
LINEGATE=""
wait_port 18086
sleep 1
curl -sf -XPOST http://127.0.0.1:18086/query --data-urlencode 'q=CREATE DATABASE bench' >/dev/null
read -r INFLUX_RATE INFLUX_CPU INFLUX_RSS < <(load influx $INFLUX http://127.0.0.1:18086 "" "$WORK/ingest.lp" "$LINES")
INFLUX_COUNT=$(curl -sf -G http://127.0.0.1:18086/query --data-urlencode db=bench \
  --data-urlencode 'q=SELECT count(usage_user) FROM cpu' | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["series"][0]["values"][0][1])')
kill $INFLUX; wait $INFLUX 2>/dev/null || true

# run_linegate LINES FILE → sets LG_RATE LG_CPU LG_RSS LG_COUNT
run_linegate() {
  local lines=$1 file=$2 dir="$WORK/linegate-$1"
  rm -rf "$dir"; mkdir -p "$dir"; echo "apiv3_bench" > "$dir/admin-token"
  "$BIN" serve --http-bind 127.0.0.1:18181 --data-dir "$dir" --admin-token-file "$dir/admin-token" \
    > "$dir/log" 2>&1 &
  LINEGATE=$!
  wait_port 18181
  read -r LG_RATE LG_CPU LG_RSS < <(load linegate $LINEGATE http://127.0.0.1:18181 apiv3_bench "$file" "$lines")
  LG_COUNT=$(curl -sf -G http://127.0.0.1:18181/api/v3/query_sql -H 'Authorization: Bearer apiv3_bench' \
    --data-urlencode db=bench --data-urlencode 'q=SELECT count(*) AS n FROM cpu' | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["n"])')
  kill -TERM $LINEGATE; wait $LINEGATE 2>/dev/null || true
}

echo "==> linegate"
run_linegate "$LINES" "$WORK/ingest.lp"

printf '\n%-22s %12s %16s %12s %12s\n' "server" "lines/s" "CPU s / M lines" "peak RSS" "points"
printf '%-22s %12s %16s %9s MiB %12s\n' "InfluxDB 1.6.7" "$INFLUX_RATE" "$INFLUX_CPU" "$INFLUX_RSS" "$INFLUX_COUNT"
printf '%-22s %12s %16s %9s MiB %12s\n' "linegate" "$LG_RATE" "$LG_CPU" "$LG_RSS" "$LG_COUNT"
awk -v a="$LG_RATE" -v b="$INFLUX_RATE" -v c="$LG_CPU" -v d="$INFLUX_CPU" \
  'BEGIN { printf "linegate/InfluxDB: %.1fx lines/s, %.1fx less CPU per line\n", a / b, d / c }'
echo "corpus: $LINES lines, $BYTES bytes, $CONNECTIONS connections"
[ "$INFLUX_COUNT" = "$LINES" ] || { echo "InfluxDB stored $INFLUX_COUNT of $LINES points"; exit 1; }
[ "$LG_COUNT" = "$LINES" ] || { echo "linegate stored $LG_COUNT of $LINES points"; exit 1; }

if [ "$RSS_LINES" -gt 0 ]; then
  echo "==> linegate, $RSS_LINES lines (peak RSS)"
  "$REL/examples/gen_corpus" ingest "$RSS_LINES" > "$WORK/big.lp"
  rm -f "$WORK/ingest.lp"
  run_linegate "$RSS_LINES" "$WORK/big.lp"
  printf 'linegate, %s lines: %s lines/s, %s CPU s / M lines, peak RSS %s MiB, %s points\n' \
    "$RSS_LINES" "$LG_RATE" "$LG_CPU" "$LG_RSS" "$LG_COUNT"
  rm -f "$WORK/big.lp"
  [ "$LG_COUNT" = "$RSS_LINES" ] || { echo "linegate stored $LG_COUNT of $RSS_LINES points"; exit 1; }
fi
