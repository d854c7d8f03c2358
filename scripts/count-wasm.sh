#!/usr/bin/env bash
# Counts the x86 instructions V8 runs per line for the wasm report (validate() under Node),
# for comparing builds on a noisy machine, where timings swing by 2x but counts do not.
# Runs scripts/bench-wasm.mjs under callgrind with one pass and with three (wasm compiled by
# TurboFan up front, --no-liftoff, so that tiering does not move work between passes) and
# prints half the difference per line: one pass, start-up and compilation excluded.
#
#   scripts/count-wasm.sh [FILE] [PKG_DIR...]   FILE: default bench-data/telegraf-100k.lp
#                                               PKG_DIR: default target/wasm-node
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-bench-data/telegraf-100k.lp}
shift || true
if [ ! -f "$file" ]; then
  mkdir -p "$(dirname "$file")"
  cargo run --release -q -p linegate --example gen_corpus -- telegraf 100000 > "$file"
fi
lines=$(wc -l < "$file")
[ $# -gt 0 ] || set -- target/wasm-node
count() {
  WASM_PKG=$1 RUNS=$2 valgrind --tool=callgrind --smc-check=all-non-file \
    --callgrind-out-file=/dev/null node --no-liftoff scripts/bench-wasm.mjs "$file" 2>&1 |
    sed -n 's/.*I *refs: *//p' | tr -d ,
}
for pkg in "$@"; do
  one=$(count "$pkg" 1)
  three=$(count "$pkg" 3)
  echo "$pkg: $(((three - one) / 2 / lines)) instructions per line"
done
