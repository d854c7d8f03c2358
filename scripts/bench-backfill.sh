#!/usr/bin/env bash
# Backfill benchmark: LINES Telegraf-like lines 10 s apart (1 M lines span 115 days of
# history) loaded through /write, as a migration does. Reports the Parquet files and the
# timings of a whole-range count and a one-day hourly mean, first as the persists left the
# store (compaction off), then after compaction, with the CPU seconds of each phase.
#
#   scripts/bench-backfill.sh            # LINES=1000000
set -euo pipefail
cd "$(dirname "$0")/.."
REL=${CARGO_TARGET_DIR:-target}/release
LINES=${LINES:-1000000}
WORK=${WORK:-target/bench-backfill}
TICKS=$(getconf CLK_TCK)
PORT=18182

echo "==> building linegate (release)"
cargo build --release -q -p linegate-server
cargo build --release -q --example gen_corpus
BIN=$REL/linegate

rm -rf "$WORK"; mkdir -p "$WORK/data"
echo "apiv3_bench" > "$WORK/data/admin-token"
echo "==> generating $LINES Telegraf-like lines, 10 s apart"
"$REL/examples/gen_corpus" telegraf "$LINES" > "$WORK/backfill.lp"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
files() { find "$WORK/data/parquet" -name '*.parquet' | wc -l; }
start() {
  "$BIN" serve --http-bind 127.0.0.1:$PORT --data-dir "$WORK/data" \
    --admin-token-file "$WORK/data/admin-token" --compact-after-secs 2 "$@" >> "$WORK/log" 2>&1 &
  SERVER=$!
  wait_port $PORT
}
trap 'kill $SERVER 2>/dev/null || true' EXIT

sql() {
  curl -sf -G "http://127.0.0.1:$PORT/api/v3/query_sql" -H 'Authorization: Bearer apiv3_bench' \
    --data-urlencode db=bench --data-urlencode "q=$1" -o "$WORK/answer" -w '%{time_total}'
}
# median of three runs of a query, in ms
timed() {
  local runs=()
  for _ in 1 2 3; do runs+=("$(sql "$1")"); done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p | awk '{printf "%.1f", $1 * 1000}'
}
COUNT="SELECT count(usage_user) AS n FROM cpu"
# The second day of the history (2023-11-15), hourly.
DAY="SELECT date_bin(INTERVAL '1 hour', time) AS hour, avg(usage_user) AS mean FROM cpu
  WHERE time >= '2023-11-15T00:00:00Z' AND time < '2023-11-16T00:00:00Z' GROUP BY 1 ORDER BY 1"

measure() {
  COUNT_MS=$(timed "$COUNT")
  N=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["n"])' "$WORK/answer")
  DAY_MS=$(timed "$DAY")
  HOURS=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/answer")
}

echo "==> load with compaction off"
start --no-compaction
C0=$(cpu_ticks $SERVER); T0=$(date +%s.%N)
LINEGATE_TOKEN=apiv3_bench "$BIN" write --api v1 --database bench --batch-lines 5000 --concurrency 2 \
  --quiet --host "http://127.0.0.1:$PORT" "$WORK/backfill.lp"
LOAD_CPU=$(awk -v a="$C0" -v b="$(cpu_ticks $SERVER)" -v hz="$TICKS" 'BEGIN { printf "%.1f", (b - a) / hz }')
kill -TERM $SERVER; wait $SERVER || true   # the shutdown persists the rest
LOAD_S=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
PERSIST_MS=$(grep -o 'took_ms=[0-9]*' "$WORK/log" | awk -F= '{s += $2} END {print s + 0}')
BEFORE_FILES=$(files)
start --no-compaction
measure
BEFORE=("$BEFORE_FILES" "$COUNT_MS" "$DAY_MS" "$N" "$HOURS")
kill -TERM $SERVER; wait $SERVER || true

echo "==> compaction"
: > "$WORK/log"
start
C0=$(cpu_ticks $SERVER); T0=$(date +%s.%N)
# Done when the file count holds still for 5 s after the past days settled.
last=-1; still=0
while [ "$still" -lt 5 ]; do
  sleep 1; now=$(files)
  if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; last=$now; fi
done
COMPACT_CPU=$(awk -v a="$C0" -v b="$(cpu_ticks $SERVER)" -v hz="$TICKS" 'BEGIN { printf "%.1f", (b - a) / hz }')
COMPACT_MS=$(grep 'compacted Parquet' "$WORK/log" | grep -o 'took_ms=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
measure
AFTER=("$(files)" "$COUNT_MS" "$DAY_MS" "$N" "$HOURS")
kill -TERM $SERVER; wait $SERVER || true

printf '\n%d lines over %s days: load and final persist %s s, server CPU during the load %s s, persists %s ms\n' \
  "$LINES" "$((LINES * 10 / 86400))" "$LOAD_S" "$LOAD_CPU" "$PERSIST_MS"
printf '%-20s %8s %14s %16s %10s\n' "" "files" "count (ms)" "one day (ms)" "points"
printf '%-20s %8s %14s %16s %10s\n' "before compaction" "${BEFORE[0]}" "${BEFORE[1]}" "${BEFORE[2]}" "${BEFORE[3]}"
printf '%-20s %8s %14s %16s %10s\n' "after compaction" "${AFTER[0]}" "${AFTER[1]}" "${AFTER[2]}" "${AFTER[3]}"
printf 'compaction: %s CPU s (merges %s ms)\n' "$COMPACT_CPU" "$COMPACT_MS"
[ "${BEFORE[3]}" = "$LINES" ] && [ "${AFTER[3]}" = "$LINES" ] || { echo "points lost or doubled"; exit 1; }
[ "${BEFORE[4]}" = 24 ] && [ "${AFTER[4]}" = 24 ] || { echo "the day has ${AFTER[4]} hours"; exit 1; }
