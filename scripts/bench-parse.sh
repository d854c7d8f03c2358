#!/usr/bin/env bash
# Parse benchmarks, all in one run: the library against InfluxDB's parser (cargo bench),
# `linegate validate` on a 1 M-line file, and the wasm build (simd128) under Node.
set -euo pipefail
cd "$(dirname "$0")/.."
# Release binaries: $CARGO_TARGET_DIR/release (default target/release).
REL=${CARGO_TARGET_DIR:-target}/release
LINES=${1:-1000000}
scripts/setup.sh

echo "== library (cargo bench --bench parse -- $LINES)"
cargo bench --bench parse -- "$LINES" 2>/dev/null | grep '^|'

echo "== CLI (linegate validate, 5 runs)"
mkdir -p bench-data
cargo build --release -q -p linegate-server --example gen_corpus 2>/dev/null || cargo build --release -q -p linegate --example gen_corpus
cargo build --release -q -p linegate-server
"$REL/examples/gen_corpus" telegraf "$LINES" > bench-data/telegraf.lp
for _ in 1 2 3 4 5; do "$REL/linegate" validate bench-data/telegraf.lp | tail -1; done

echo "== wasm (simd128) under Node: the page's build (fat LTO, wasm-opt -O3) with Node glue"
scripts/build-www.sh --node target/wasm-node
node scripts/bench-wasm.mjs bench-data/telegraf.lp
