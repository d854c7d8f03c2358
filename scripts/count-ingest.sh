#!/usr/bin/env bash
# Counts the instructions the server runs per ingested line, for comparing builds on a noisy
# machine, where timings swing by 2x but counts do not (repeats agree within 0.1%).
# Each binary serves under callgrind; `linegate write` loads LINES Telegraf-like lines
# (5 000-line batches over 2 connections); SIGINT then persists the
# buffer, so the count covers HTTP, parsing, the WAL, the buffer and the Parquet encoding.
#
#   scripts/count-ingest.sh [BIN...]     BIN: default $CARGO_TARGET_DIR/release/linegate
#   LINES=200000 scripts/count-ingest.sh old/linegate target/release/linegate
set -euo pipefail
cd "$(dirname "$0")/.."
REL=${CARGO_TARGET_DIR:-target}/release
LINES=${LINES:-1000000}
WORK=${WORK:-target/count-ingest}
PORT=18191
cargo build --release -q -p linegate-server
cargo build --release -q --example gen_corpus
[ $# -gt 0 ] || set -- "$REL/linegate"
mkdir -p "$WORK"
corpus="$WORK/ingest-$LINES.lp"
[ -f "$corpus" ] || "$REL/examples/gen_corpus" ingest "$LINES" > "$corpus"

for bin in "$@"; do
  dir="$WORK/data"
  rm -rf "$dir"; mkdir -p "$dir"; echo apiv3_count > "$dir/admin-token"
  valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" "$bin" serve \
    --http-bind "127.0.0.1:$PORT" --data-dir "$dir" --admin-token-file "$dir/admin-token" \
    > "$WORK/server.log" 2>&1 &
  server=$!
  for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.2; done
  LINEGATE_TOKEN=apiv3_count "$REL/linegate" write --api v1 --database bench --batch-lines 5000 \
    --concurrency 2 --quiet --host "http://127.0.0.1:$PORT" "$corpus"
  kill -INT "$server"; wait "$server" || true
  total=$(callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | sed -n 's/ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
  echo "$bin: $((total / LINES)) instructions per line"
done
