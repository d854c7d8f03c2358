#!/usr/bin/env bash
# Long-run benchmark: 24 hours of a fleet's data (100 hosts, 10 fields, every 10 s: 864,000
# lines of one UTC day) written in time order, 10 s of data a request, into a server that
# persists after every ~20 KiB — a persist per request or two, the many small persists of a
# busy server — with compaction on. Reported: the persists, the Parquet files the day ends
# with, and `mean(usage_user) … GROUP BY time(1m)` over the whole day, timed against the same
# data written in one go (one load, persisted once, compacted). Five runs each, alternating.
#
#   scripts/bench-longrun.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REL=${CARGO_TARGET_DIR:-target}/release
RUNS=${RUNS:-5}
WORK=${WORK:-target/bench-longrun}
LINES=864000

echo "==> building linegate (release)"
cargo build --release -q -p linegate-server
cargo build --release -q --example gen_corpus
BIN=$REL/linegate

wait_port() { for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
files() { find "$1" -name '*.parquet' | wc -l; }
# Waits until compaction has left the file count alone for 6 s.
settle() {
  local before
  for _ in $(seq 200); do
    before=$(files "$1"); sleep 3
    [ "$(files "$1")" = "$before" ] && { sleep 3; [ "$(files "$1")" = "$before" ] && return 0; }
  done
}

rm -rf "$WORK"; mkdir -p "$WORK"
"$REL/examples/gen_corpus" day "$LINES" > "$WORK/day.lp"

start() { # NAME PORT ARGS... → sets SERVER to its pid
  local dir="$WORK/$1" port=$2
  shift 2
  mkdir -p "$dir"; echo "apiv3_bench" > "$dir/admin-token"
  "$BIN" serve --http-bind "127.0.0.1:$port" --data-dir "$dir" --admin-token-file "$dir/admin-token" \
    --compact-after-secs 1 "$@" >> "$dir/log" 2>&1 &
  SERVER=$!
  wait_port "$port"
}
load() { # PORT BATCH CONCURRENCY
  LINEGATE_TOKEN=apiv3_bench "$BIN" write --api v1 --database bench --batch-lines "$2" \
    --concurrency "$3" --quiet --host "http://127.0.0.1:$1" "$WORK/day.lp"
}

echo "==> live: 10 s of data a request, a persist every ~20 KiB"
start live 18191 --persist-buffer-mib 0.02
LIVE=$SERVER
ONEGO=""
trap 'kill $LIVE $ONEGO 2>/dev/null || true' EXIT
t0=$(date +%s.%N)
load 18191 100 1
t1=$(date +%s.%N)
settle "$WORK/live"
PERSISTS=$(grep -c "persisted buffer to Parquet" "$WORK/live/log" || true)
COMPACTIONS=$(grep -c "compacted Parquet files" "$WORK/live/log" || true)
LIVE_FILES=$(files "$WORK/live")

echo "==> one go: one load, one persist, compacted"
start onego 18192
ONEGO=$SERVER
load 18192 5000 2
kill -TERM "$ONEGO"; wait "$ONEGO" 2>/dev/null || true
start onego 18192
ONEGO=$SERVER
settle "$WORK/onego"
ONEGO_FILES=$(files "$WORK/onego")

DAY=1699920000
Q="SELECT mean(usage_user) FROM cpu WHERE time >= ${DAY}s AND time < $((DAY + 86400))s GROUP BY time(1m)"
query() { # PORT OUT
  curl -sf -o "$2" -w '%{time_total}\n' -G "http://127.0.0.1:$1/query" -H "Authorization: Bearer apiv3_bench" \
    --data-urlencode db=bench --data-urlencode epoch=ns --data-urlencode "q=$Q"
}
live_times=(); onego_times=()
for _ in $(seq "$RUNS"); do
  live_times+=("$(query 18191 "$WORK/live.json")")
  onego_times+=("$(query 18192 "$WORK/onego.json")")
done
python3 - "$WORK/live.json" "$WORK/onego.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["results"][0]["series"][0]["values"] for p in sys.argv[1:3])
assert len(a) == len(b) == 1440, (len(a), len(b))
for x, y in zip(a, b):
    assert x[0] == y[0] and abs(x[1] - y[1]) <= 1e-9 * max(1, abs(x[1])), (x, y)
PY
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ml=$(median "${live_times[@]}"); mo=$(median "${onego_times[@]}")
awk -v l="$LINES" -v t0="$t0" -v t1="$t1" -v p="$PERSISTS" -v c="$COMPACTIONS" -v lf="$LIVE_FILES" \
  -v of="$ONEGO_FILES" -v ml="$ml" -v mo="$mo" 'BEGIN {
  printf "live load: %d lines in %.1f s, %d persists, %d compactions; Parquet files after: %d\n", l, t1 - t0, p, c, lf
  printf "one go: Parquet files after: %d\n", of
  printf "GROUP BY time(1m) over the day (median of runs): live %.1f ms, one go %.1f ms, ratio %.2f; answers equal\n", ml * 1000, mo * 1000, ml / mo
}'
