#!/usr/bin/env bash
# Crash safety under load: SIGKILL the release server KILLS times (default 20) while four
# clients write, restart it each time, and check every acknowledged batch is stored once.
set -euo pipefail
cd "$(dirname "$0")/.."
CRASH_KILLS=${1:-20} cargo test --release -p linegate-server --test crash -- --nocapture
