#!/usr/bin/env bash
# Builds the browser module for the validation page: www/pkg/linegate.js + linegate_bg.wasm.
# Uses its own target dir (target/wasm-web) so it never waits on native builds.
# Prints the wasm size (raw and gzip). Set WASM_OPT=0 to skip wasm-opt.
#
#   scripts/build-www.sh              the page's module, in www/pkg
#   scripts/build-www.sh --node DIR   the same build with Node (CommonJS) glue, in DIR
#                                     (scripts/bench-parse.sh measures it under Node)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="$PWD/target/wasm-web"
# Small and fast: full LTO, no debug info; simd128 (every current browser has it).
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_DEBUG=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+simd128"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
WASM_BINDGEN_VERSION=0.2.130
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

out=www/pkg
glue=web
if [ "${1:-}" = --node ]; then
  out=${2:?usage: scripts/build-www.sh [--node DIR]}
  glue=nodejs
fi

# From the crate's folder, so that its .cargo/config.toml restores full optimization.
(cd www/bindings && cargo build --release -q --target wasm32-unknown-unknown -p linegate-wasm --lib)
rm -rf "$out"
wasm-bindgen --target "$glue" --no-typescript --out-dir "$out" --out-name linegate \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/linegate_wasm.wasm"
if [ "$glue" = nodejs ]; then
  # The glue is CommonJS; the root package.json says "module" (for the Worker's tests).
  echo '{"type":"commonjs"}' > "$out/package.json"
fi

WASM_OPT_BIN=tests/www/node_modules/.bin/wasm-opt
if [ "${WASM_OPT:-1}" != 0 ]; then
  if [ ! -x "$WASM_OPT_BIN" ]; then
    (cd tests/www && npm ci --no-audit --no-fund --loglevel=error)
  fi
  "$WASM_OPT_BIN" -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types \
    "$out/linegate_bg.wasm" -o "$out/linegate_bg.wasm.opt"
  mv "$out/linegate_bg.wasm.opt" "$out/linegate_bg.wasm"
fi

raw=$(wc -c < "$out/linegate_bg.wasm")
gz=$(gzip -9 -c "$out/linegate_bg.wasm" | wc -c)
echo "$out/linegate_bg.wasm: $raw bytes raw, $gz bytes gzip -9"
