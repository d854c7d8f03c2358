#!/usr/bin/env sh
# Builds the Cloudflare Worker (crate linegate-edge in edge/) into target/worker/edge with
# worker-build.
# wrangler runs it as the [build] command of wrangler.toml (`npx wrangler dev`,
# `npx wrangler deploy`). Cargo builds in target/worker, apart from the native builds.
#
# worker-build downloads wasm-bindgen, wasm-opt and esbuild unless told where they are;
# when a matching wasm-bindgen (the version pinned in Cargo.toml) and the npm packages are
# installed, they are used, so the build needs no download (scripts/setup-worker.sh).
set -eu
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130   # = the wasm-bindgen crate pinned in Cargo.toml

if ! worker-build --version 2>/dev/null | grep -qx "\(worker-build \)\{0,1\}$WORKER_BUILD_VERSION"; then
  echo "installing worker-build $WORKER_BUILD_VERSION" >&2
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --force
fi
if [ -z "${WASM_BINDGEN_BIN:-}" ] &&
  [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WASM_BINDGEN_VERSION" ]; then
  WASM_BINDGEN_BIN=$(command -v wasm-bindgen)
  export WASM_BINDGEN_BIN
fi
if [ -z "${WASM_OPT_BIN:-}" ] && [ -x node_modules/.bin/wasm-opt ]; then
  export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
fi
if [ -z "${ESBUILD_BIN:-}" ] && [ -x node_modules/.bin/esbuild ]; then
  export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
fi
export CARGO_TARGET_DIR="$PWD/target/worker"
# Small and fast: thin LTO over one codegen unit per crate (the release profile leaves both
# off for the native server's build time).
export CARGO_PROFILE_RELEASE_LTO=thin
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
# wasm SIMD (Workers' V8 has it); the same flags for every wasm build in target/worker.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
cd edge
exec worker-build --release --out-dir "$CARGO_TARGET_DIR/edge"
