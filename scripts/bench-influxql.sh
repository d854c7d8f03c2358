#!/usr/bin/env bash
# Dashboard-query benchmark: linegate against InfluxDB 1.6.7 (Debian's `influxdb`), same
# machine, same run, same data — LINES lines (default 10 M) of a fleet, 100 hosts × 8 cpus
# every 10 s with 10 fields each, loaded into both through /write.
#
# linegate holds all but the last BUFFERED lines in Parquet (a restart persists the buffer,
# then compaction runs) and those in its buffer: by default the last hour (288,000 lines);
# BUFFERED=4800 is the last minute, what a server on its default 60 s persist holds. Four queries
# Grafana sends, each RUNS times (default 5) alternating between the servers over /query:
#   1. mean(usage_user) over the last hour, GROUP BY time(1m), host
#   2. the last usage_user of every series (GROUP BY host, cpu)
#   3. count(usage_user) over the whole range
#   4. max(usage_user) over the last 24 h, GROUP BY time(10m)
# Both answers are compared (same series, same values), then the median latencies and
# their ratio are printed.
#
#   scripts/bench-influxql.sh                 # LINES=10000000 RUNS=5 BUFFERED=288000
#   BUFFERED=4800 scripts/bench-influxql.sh   # the last minute buffered
#   LINES=800000 RUNS=3 scripts/bench-influxql.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REL=${CARGO_TARGET_DIR:-target}/release
LINES=${LINES:-10000000}
RUNS=${RUNS:-5}
WORK=${WORK:-target/bench-influxql}

. scripts/influxd.sh
echo "==> building linegate (release)"
cargo build --release -q -p linegate-server
cargo build --release -q --example gen_corpus
BIN=$REL/linegate

wait_port() { for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

rm -rf "$WORK"; mkdir -p "$WORK"
# The last BUFFERED lines (default: the last hour, 360 timestamps × 800 series) are written
# after the restart.
RECENT=${BUFFERED:-$((360 * 800))}
[ "$LINES" -gt "$RECENT" ] || { echo "LINES must exceed $RECENT"; exit 2; }
echo "==> generating $LINES fleet lines"
"$REL/examples/gen_corpus" fleet "$LINES" > "$WORK/all.lp"
head -n $((LINES - RECENT)) "$WORK/all.lp" > "$WORK/old.lp"
tail -n "$RECENT" "$WORK/all.lp" > "$WORK/recent.lp"
rm "$WORK/all.lp"
# The data ends 10 s after its last timestamp.
END=$((1700000000 + (LINES / 800) * 10))

load() { # URL TOKEN FILE
  LINEGATE_TOKEN=$2 "$BIN" write --api v1 --database bench --batch-lines 5000 --concurrency 2 \
    --quiet --host "$1" "$3"
}

echo "==> InfluxDB 1.6.7: loading"
start_influxd "$WORK/influx" 18086 18088
LINEGATE=""
trap 'kill $INFLUX $LINEGATE 2>/dev/null || true' EXIT
wait_port 18086
sleep 1
curl -sf -XPOST http://127.0.0.1:18086/query --data-urlencode 'q=CREATE DATABASE bench' >/dev/null
load http://127.0.0.1:18086 "" "$WORK/old.lp"
load http://127.0.0.1:18086 "" "$WORK/recent.lp"

echo "==> linegate: loading, restarting (all in Parquet), compacting, then the last hour"
DIR="$WORK/linegate"
mkdir -p "$DIR"; echo "apiv3_bench" > "$DIR/admin-token"
start_linegate() {
  "$BIN" serve --http-bind 127.0.0.1:18181 --data-dir "$DIR" --admin-token-file "$DIR/admin-token" \
    --persist-interval-secs 3600 --compact-after-secs 1 >> "$DIR/log" 2>&1 &
  LINEGATE=$!
  wait_port 18181
}
start_linegate
load http://127.0.0.1:18181 apiv3_bench "$WORK/old.lp"
kill -TERM $LINEGATE; wait $LINEGATE 2>/dev/null || true
start_linegate
# Compaction merges each day's files once they have been quiet for a second.
for _ in $(seq 120); do
  before=$(find "$DIR" -name '*.parquet' | wc -l); sleep 3
  [ "$(find "$DIR" -name '*.parquet' | wc -l)" = "$before" ] && break
done
load http://127.0.0.1:18181 apiv3_bench "$WORK/recent.lp"
FILES=$(find "$DIR" -name '*.parquet' | wc -l)

H=3600000000000
E=$((END * 1000000000))
QUERIES=(
  "SELECT mean(usage_user) FROM cpu WHERE time >= $((E - H))ns AND time < ${E}ns GROUP BY time(1m), host"
  "SELECT last(usage_user) FROM cpu GROUP BY host, cpu"
  "SELECT count(usage_user) FROM cpu"
  "SELECT max(usage_user) FROM cpu WHERE time >= $((E - 24 * H))ns AND time < ${E}ns GROUP BY time(10m)"
)
NAMES=("mean 1h by 1m, host" "last of every series" "count, full range" "max 24h by 10m")

# query URL AUTH Q OUT → prints seconds
query() {
  curl -sf -o "$4" -w '%{time_total}\n' -G "$1/query" ${2:+-H "$2"} \
    --data-urlencode db=bench --data-urlencode epoch=ns --data-urlencode "q=$3"
}

printf '\n%-24s %14s %14s %8s %18s\n' "query (median of $RUNS)" "InfluxDB 1.6.7" "linegate" "speed-up" "linegate 1st run"
for i in "${!QUERIES[@]}"; do
  q=${QUERIES[$i]}
  influx_times=(); linegate_times=()
  for _ in $(seq "$RUNS"); do
    influx_times+=("$(query http://127.0.0.1:18086 "" "$q" "$WORK/influx.json")")
    linegate_times+=("$(query http://127.0.0.1:18181 "Authorization: Bearer apiv3_bench" "$q" "$WORK/linegate.json")")
  done
  python3 - "$WORK/influx.json" "$WORK/linegate.json" "$q" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def rows(body):
    out = {}
    for s in body["results"][0].get("series", []):
        key = (s["name"], tuple(sorted(s.get("tags", {}).items())))
        out[key] = s["values"]
    return out
ra, rb = rows(a), rows(b)
assert ra.keys() == rb.keys(), f"different series for {sys.argv[3]}: {len(ra)} vs {len(rb)}"
for k in ra:
    va, vb = ra[k], rb[k]
    assert len(va) == len(vb), f"{sys.argv[3]}: {k}: {len(va)} vs {len(vb)} rows"
    for x, y in zip(va, vb):
        assert x[0] == y[0], f"{sys.argv[3]}: {k}: time {x[0]} vs {y[0]}"
        if x[1] is None or y[1] is None:
            assert x[1] == y[1], f"{sys.argv[3]}: {k}: {x} vs {y}"
        else:
            assert abs(x[1] - y[1]) <= 1e-9 * max(1, abs(x[1])), f"{sys.argv[3]}: {k}: {x} vs {y}"
PY
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  mi=$(median "${influx_times[@]}"); ml=$(median "${linegate_times[@]}")
  awk -v n="${NAMES[$i]}" -v a="$mi" -v b="$ml" -v f="${linegate_times[0]}" \
    'BEGIN { printf "%-24s %12.1f ms %12.1f ms %7.1fx %15.1f ms\n", n, a * 1000, b * 1000, a / b, f * 1000 }'
done
echo "data: $LINES lines (800 series, 10 fields, every 10 s); linegate: $FILES Parquet files + the last $RECENT lines buffered; answers equal"
