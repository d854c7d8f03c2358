#!/usr/bin/env bash
# Installs what building and testing the edge worker needs on a fresh machine. Idempotent.
# Rust target wasm32, wasm-bindgen-cli (= the crate pinned in Cargo.toml), worker-build,
# Node and the npm packages of package.json (wrangler, binaryen's wasm-opt).
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate pinned in Cargo.toml
WORKER_BUILD_VERSION=0.8.7     # must equal the worker crate pinned in Cargo.toml

step() { printf '\n==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: the locked tree wants a webpki-roots version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! worker-build --version 2>/dev/null | grep -qx "\(worker-build \)\{0,1\}$WORKER_BUILD_VERSION"; then
  step "cargo install worker-build $WORKER_BUILD_VERSION"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --force
fi

if ! command -v node >/dev/null; then
  step "apt-get install nodejs npm"
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci (wrangler, binaryen)"
  npm ci --no-audit --no-fund
fi
