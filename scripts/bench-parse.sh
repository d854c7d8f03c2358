#!/usr/bin/env bash
# Parse benchmarks, all in one run: the library against InfluxDB's parser (cargo bench),
# `linegate validate` on a 1 M-line file, and the wasm build (simd128) under Node.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
scripts/setup.sh

echo "== library (cargo bench --bench parse -- $LINES)"
cargo bench --bench parse -- "$LINES" 2>/dev/null | grep '^|'

echo "== CLI (linegate validate, 3 runs)"
mkdir -p bench-data
cargo build --release -q -p linegate-server --example gen_corpus 2>/dev/null || cargo build --release -q -p linegate --example gen_corpus
cargo build --release -q -p linegate-server
target/release/examples/gen_corpus telegraf "$LINES" > bench-data/telegraf.lp
for _ in 1 2 3; do target/release/linegate validate bench-data/telegraf.lp | tail -1; done

echo "== wasm (simd128) under Node"
RUSTFLAGS="-C target-feature=+simd128" CARGO_TARGET_DIR=target/wasm-simd \
  cargo build --release -q --target wasm32-unknown-unknown --features wasm --lib
wasm-bindgen --target nodejs --out-dir target/wasm-node \
  target/wasm-simd/wasm32-unknown-unknown/release/linegate.wasm
# The glue is CommonJS; the root package.json says "module" (for the Worker's tests).
echo '{"type":"commonjs"}' > target/wasm-node/package.json
node scripts/bench-wasm.mjs bench-data/telegraf.lp
