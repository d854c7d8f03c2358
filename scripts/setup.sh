#!/usr/bin/env bash
# Installs everything the tests and benchmarks need on a fresh machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate pinned in Cargo.toml
CARGO_DENY_VERSION=0.20.2

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

if ! command -v cargo-fuzz >/dev/null; then
  step "cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
  step "cargo install cargo-deny $CARGO_DENY_VERSION"
  cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --force
fi

if ! command -v node >/dev/null; then
  step "apt-get install nodejs"
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi

# The TLS tests make a self-signed certificate with openssl and fetch with curl.
for tool in openssl curl; do
  if ! command -v "$tool" >/dev/null; then
    step "apt-get install $tool"
    apt-get update -qq && apt-get install -y -qq "$tool"
  fi
done
