#!/usr/bin/env bash
# The one command that runs every test: installs what it needs, then formatting and lints,
# native tests (the server's integration and SIGKILL crash tests among them), the wasm tests
# under Node, the browser page in headless Chromium, the compatibility suite with real clients,
# and a short fuzzing run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo deny (advisories, licenses, bans, sources; deny.toml)"
# --offline: the advisory database is the vendored snapshot, and the crates of every target are
# fetched first (on a fresh machine nothing is, and cargo-deny reads every package's manifest).
scripts/advisory-db.sh
cargo fetch --locked
cargo deny --offline --workspace check advisories licenses bans sources

step "cargo clippy (native, all targets)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy (wasm32, the browser bindings)"
cargo clippy --target wasm32-unknown-unknown -p linegate-wasm --lib --test wasm -- -D warnings

step "cargo doc (the core, every item; broken links and missing docs fail)"
RUSTDOCFLAGS="-D warnings" cargo doc -p linegate --no-deps --document-private-items

# Two runs, not `--workspace`: the server's Parquet dependency switches flate2 to its zlib-rs
# backend when both are built together, and the core's gzip tests compare error messages with
# flate2's default (miniz) backend, the one InfluxDB 3 uses.
step "cargo test -p linegate (native: the core)"
cargo test -p linegate
step "cargo test -p linegate-influxql (the InfluxQL parser)"
cargo test -p linegate-influxql
step "cargo test -p linegate-server (server integration, crash safety, CLI, the InfluxQL corpus)"
cargo test -p linegate-server

step "the real influx CLI 1.6.7 against the server"
influx_cli_against_linegate() {
  local dir port pid status=0
  dir=$(mktemp -d)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "apiv3_cli-test-token" > "$dir/token"
  target/debug/linegate serve --http-bind "127.0.0.1:$port" --data-dir "$dir/data" \
    --admin-token-file "$dir/token" > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  # The CLI sends its credentials as Basic; linegate takes the token as the password.
  INFLUX_USERNAME=cli INFLUX_PASSWORD=apiv3_cli-test-token \
    scripts/test-influx-cli.sh "127.0.0.1:$port" || status=$?
  kill "$pid"; wait "$pid" || true
  [ "$status" = 0 ] || { echo "server log:"; cat "$dir/log"; }
  rm -rf "$dir"
  return "$status"
}
influx_cli_against_linegate

step "disk full: 507 on a small tmpfs, nothing corrupted, writes resume when space returns"
LINEGATE_BIN=target/debug/linegate scripts/test-disk-full.sh

step "wasm-bindgen tests under Node"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown -p linegate-wasm --test wasm

step "browser page: Playwright in headless Chromium against the page and the server"
LINEGATE_BIN=target/debug/linegate scripts/test-www.sh

step "edge worker: lints, mapping tests (native + wasm-bindgen under Node), end to end through wrangler dev"
LINEGATE_BIN="$PWD/target/debug/linegate" scripts/test-worker.sh

step "S3 object store: the server against a local S3-compatible server (moto)"
LINEGATE_BIN=target/debug/linegate scripts/test-s3.sh

step "Arrow Flight: influxdb3-python, the ADBC Flight SQL driver and @influxdata/influxdb3-client"
LINEGATE_BIN=target/debug/linegate scripts/test-flight.sh

step "compatibility: real v1/v2/v3 clients (server and Worker), Telegraf's requests, InfluxDB 1.6.7 differential"
LINEGATE_BIN=target/debug/linegate scripts/test-compat.sh

if [ -d fuzz ]; then
  step "fuzz targets (short run)"
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi

step "all tests passed"
