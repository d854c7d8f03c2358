#!/usr/bin/env bash
# InfluxQL corpus: expected answers from the real InfluxDB 1.6.7 (Debian's `influxdb`).
# Regenerates native-server/tests/influxql/dataset*.lp (seeded, deterministic), starts influxd
# on 127.0.0.1 at free ports with temporary data directories, creates the databases `corpus`
# and `other`, writes the dataset, runs every case of statements.txt through /query and writes
# native-server/tests/influxql/corpus.json, then stops influxd.
#
#   scripts/influxql-corpus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=native-server/tests/influxql

. scripts/influxd.sh

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo "==> generating the dataset"
python3 scripts/influxql_corpus.py dataset "$DIR"

WORK=$(mktemp -d)
HTTP_PORT=$(free_port)
RPC_PORT=$(free_port)
while [ "$RPC_PORT" = "$HTTP_PORT" ]; do RPC_PORT=$(free_port); done
start_influxd "$WORK" "$HTTP_PORT" "$RPC_PORT"
echo "==> influxd $(influxd version) on 127.0.0.1:$HTTP_PORT"
trap 'kill $INFLUX 2>/dev/null || true; wait $INFLUX 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_port "$HTTP_PORT" || { cat "$WORK/log"; echo "influxd did not start"; exit 1; }
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HTTP_PORT/ping" >/dev/null && break; sleep 0.1; done

echo "==> running $DIR/statements.txt"
python3 scripts/influxql_corpus.py run "http://127.0.0.1:$HTTP_PORT" "$DIR"
