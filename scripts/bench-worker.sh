#!/usr/bin/env bash
# Benchmarks of the edge worker (figures for the README; not a test):
#  1. size of the worker's .wasm, raw and gzip (target ≤ 1 MiB gzip);
#  2. the edge's CPU time for one 5 000-line batch in the wasm build under Node (and natively):
#     decode alone, decode + validate (the core), and decode + validate + canonical + gzip (all
#     the worker computes) — targets: ≤ 10 ms, Cloudflare's free-plan CPU budget, and ≤ 5 ms
#     from a gzip body (issue 15);
#  3. latency of that batch through `wrangler dev` (warm isolate) and edge throughput in
#     lines/s against linegate's native server, with the native server direct for comparison.
# LINEGATE_BIN: the native server (default: target/release/linegate if it has `serve`, else
# target/debug/linegate).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="$PWD/target/worker"
# wasm SIMD (Workers' V8 has it); the same flags for every wasm build in target/worker.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
if [ -z "${LINEGATE_BIN:-}" ]; then
  LINEGATE_BIN=$PWD/target/debug/linegate
  if target/release/linegate serve --help >/dev/null 2>&1; then LINEGATE_BIN=$PWD/target/release/linegate; fi
fi
export LINEGATE_BIN

step() { printf '\n==> %s\n' "$*"; }

scripts/setup-worker.sh >&2

step "worker size"
scripts/build-worker.sh >/dev/null 2>&1 || scripts/build-worker.sh
wasm=target/worker/edge/index_bg.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9c "$wasm" | wc -c)
printf 'worker wasm: %d bytes raw (%.0f KiB), %d bytes gzip -9 (%.0f KiB)\n' "$raw" "$((raw / 1024))" "$gz" "$((gz / 1024))"

step "edge CPU per 5 000-line batch (release builds, best of 5 rounds of 40)"
# The worker's own release settings (scripts/build-worker.sh).
export CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --release --target wasm32-unknown-unknown -p linegate-edge --test worker \
  -- --include-ignored edge_cpu --nocapture 2>&1 | grep '^edge cpu'
cargo test -q --release -p linegate-edge --test worker -- --include-ignored edge_cpu --nocapture 2>&1 |
  grep '^edge cpu'

step "latency and throughput through wrangler dev"
BENCH_BATCH_OUT=$PWD/target/worker/bench-batch.lp \
  cargo test -q --release -p linegate-edge --test worker -- --include-ignored dump_bench_batch >/dev/null
node tests/worker/bench-edge.mjs target/worker/bench-batch.lp
