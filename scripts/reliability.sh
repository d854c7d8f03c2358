#!/usr/bin/env bash
# The long reliability runs of the README's "Reliability" section, and the figures for it:
#   1. every cargo-fuzz target to a fixed number of executions (FUZZ_RUNS, default 10 M);
#   2. the SIGKILL loop under concurrent writers against the release build (KILLS, default 50).
# Results go to target/reliability/summary.md; README.md's section between the
# `reliability:start` / `reliability:end` markers is replaced with it.
#
#   scripts/reliability.sh [TARGET...]      (default: every fuzz target)
#
# Hours of CPU on a 2-core machine; not part of scripts/test.sh, which runs the same fuzz
# targets for 20 s each and the kill loop 3 times.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${FUZZ_RUNS:-10000000}
kills=${KILLS:-50}
out=target/reliability
mkdir -p "$out"
export RUSTC_BOOTSTRAP=1
bash fuzz/seeds.sh >/dev/null
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz); fi

if [ "$kills" -gt 0 ]; then
  echo "== SIGKILL loop: $kills kills under 4 writers (release build)"
  status=0
  started=$(date +%s)
  CRASH_KILLS=$kills cargo test --release -p linegate-server --test crash -- --nocapture \
    >"$out/crash.log" 2>&1 || status=$?
  seconds=$(( $(date +%s) - started ))
  # Each round prints the batches acknowledged so far: the last round's count is the total.
  acked=$( (grep -o '[0-9]* batches acknowledged' "$out/crash.log" || true) | awk '{n = $1} END {print n + 0}')
  rounds=$(grep -c '^round [0-9]*:' "$out/crash.log" || true)
  crash=$([ "$status" = 0 ] && echo "every acknowledged batch stored exactly once" || echo "**FAILED** (target/reliability/crash.log)")
  kill_line="SIGKILL loop (\`CRASH_KILLS=$kills\`, release build, 4 writers repeating batches): $rounds rounds; by the last, $acked acknowledged batches, each checked after every restart: $crash (${seconds} s, with the build)."
else
  # KILLS=0 runs only the fuzz targets and keeps the README's last kill-loop figures.
  kill_line=$(grep '^SIGKILL loop' README.md || echo "SIGKILL loop: not run.")
fi

# No sanitizer, with debug assertions and overflow checks: ASan made these runs ten times
# slower (1.8 k against 18 k executions/s for `scanner`), and the crates' only `unsafe`
# (`get_unchecked`, `from_utf8_unchecked`) is guarded by the debug-assertion UB checks and by
# the targets' own invariants. scripts/fuzz.sh keeps ASan for its short runs in every test.
flags=(-s none --debug-assertions)
rows=()
for target in "${targets[@]}"; do
  log="$out/fuzz-$target.log"
  echo "== $target: $runs executions (log: $log)"
  cargo fuzz build --fuzz-dir fuzz "${flags[@]}" "$target"
  mkdir -p "fuzz/corpus/$target"
  started=$(date +%s)
  status=0
  cargo fuzz run --fuzz-dir fuzz "${flags[@]}" "$target" "fuzz/corpus/$target" -- -runs="$runs" \
    -max_len=4096 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  executed=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" || true) | grep -o '[0-9]*$' || echo 0)
  seconds=$(( $(date +%s) - started ))
  verdict=$([ "$status" = 0 ] && echo "no crash" || echo "**crashed** (fuzz/artifacts/$target)")
  rows+=("| \`$target\` | $executed | ${seconds} s | $verdict |")
  echo "   $executed executions in ${seconds} s: $verdict"
done

{
  echo "Measured $(date -u +%Y-%m-%d) by \`scripts/reliability.sh\` on this 2-core machine (fuzz targets built without a sanitizer, with debug assertions and overflow checks)."
  echo
  echo "| fuzz target | executions | time | result |"
  echo "|---|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "$kill_line"
} > "$out/summary.md"
python3 - "$out/summary.md" <<'PY'
import re, sys
summary = open(sys.argv[1]).read().strip()
readme = open("README.md").read()
start, end = "<!-- reliability:start -->", "<!-- reliability:end -->"
if start not in readme:
    sys.exit("README.md has no reliability markers")
before, rest = readme.split(start, 1)
_, after = rest.split(end, 1)
open("README.md", "w").write(f"{before}{start}\n{summary}\n{end}{after}")
PY
cat "$out/summary.md"
