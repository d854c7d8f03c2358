#!/usr/bin/env bash
# Tests of the Cloudflare Worker (crate linegate-edge in edge/): lints, the mapping tests natively and as
# wasm-bindgen tests under Node, then the end-to-end test through `wrangler dev` in front of
# linegate's native server (tests/worker/e2e.mjs). Installs what it needs (setup-worker.sh).
#
# LINEGATE_BIN: the native server (default target/debug/linegate; scripts/test.sh builds it).
# Cargo builds go to target/worker, apart from the native builds in target/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="$PWD/target/worker"
# wasm SIMD (Workers' V8 has it); the same flags for every wasm build in target/worker.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
export LINEGATE_BIN="${LINEGATE_BIN:-$PWD/target/debug/linegate}"

step() { printf '\n==> %s\n' "$*"; }

scripts/setup-worker.sh

step "cargo fmt --check (the edge crate)"
cargo fmt -p linegate-edge -- --check

step "cargo clippy (wasm32, the edge crate)"
cargo clippy --target wasm32-unknown-unknown -p linegate-edge --lib --test worker -- -D warnings

step "worker mapping tests (native)"
cargo test -p linegate-edge

step "worker mapping tests (wasm-bindgen-test under Node)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown -p linegate-edge --test worker

step "build the worker (worker-build, as wrangler.toml does)"
scripts/build-worker.sh
wasm=target/worker/edge/index_bg.wasm
echo "worker wasm: $(stat -c %s "$wasm") bytes, $(gzip -9c "$wasm" | wc -c) bytes gzip"

if [ ! -x "${LINEGATE_BIN%% *}" ]; then
  echo "native server not found at $LINEGATE_BIN: build it (cargo build -p linegate-server) or set LINEGATE_BIN" >&2
  exit 1
fi

step "end-to-end: wrangler dev in front of the native server"
node tests/worker/e2e.mjs

step "end-to-end: UPSTREAMS — linegate over v3 and v2, InfluxDB 1.6.7 over v1, replication and order"
node tests/worker/upstreams.mjs
