#!/usr/bin/env bash
# Runs linegate's cargo-fuzz targets (fuzz/fuzz_targets/*.rs) for a fixed time each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS defaults to 30 per target; TARGET defaults to every target (scanner, request, influxql).
# Works on stable Rust: cargo-fuzz's nightly flags are allowed with RUSTC_BOOTSTRAP=1.
# Installs cargo-fuzz if it is missing (needs only cargo and a C++ compiler, which
# libfuzzer-sys uses to build libFuzzer). Seeds come from fuzz/seeds.sh; the corpus grows in
# fuzz/corpus/<target>, crashes land in fuzz/artifacts/<target>, logs in
# fuzz/target/fuzz-logs/<target>.log, builds in fuzz/target (never the workspace's target/).
#
# Exits non-zero if any target crashes (panic, sanitizer error, timeout or out-of-memory).
#
# Environment: FUZZ_RSS_LIMIT_MB (default 2048), FUZZ_TIMEOUT (seconds per input, default 10),
# FUZZ_MAX_LEN (default 4096).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
shift || true
rss_limit="${FUZZ_RSS_LIMIT_MB:-2048}"
timeout="${FUZZ_TIMEOUT:-10}"
max_len="${FUZZ_MAX_LEN:-4096}"

export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi
if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1 \
    && ! command -v clang++ >/dev/null 2>&1; then
    echo "fuzz.sh: no C++ compiler (libfuzzer-sys builds libFuzzer with one): install g++" >&2
    exit 2
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

bash fuzz/seeds.sh

logs="fuzz/target/fuzz-logs"
mkdir -p "$logs"
failed=()
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    echo "== fuzzing $target for ${seconds}s (log: $log)"
    # Build first so that the time limit is spent fuzzing, and build errors show up as such.
    cargo fuzz build --fuzz-dir fuzz "$target"
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    status=0
    cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb="$rss_limit" \
        -timeout="$timeout" -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|peak_rss_mb)' "$log" \
        | sed 's/^/   /' || true
    if [ "$status" -ne 0 ]; then
        echo "!! $target failed (exit $status); end of the log:"
        tail -n 60 "$log"
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>/;" \
        "reproduce with RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz <target> <file>)" >&2
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s), ${seconds}s each, no crash"
