#!/usr/bin/env bash
# Tests of the browser validation page (www/): installs Chromium and playwright-core when
# missing, builds the wasm module (scripts/build-www.sh), then runs the Playwright tests in
# headless Chromium against the page on 127.0.0.1 and the native server.
# The native server binary comes from LINEGATE_BIN (default target/debug/linegate), built
# beforehand by scripts/test.sh; set LINEGATE_REQUIRE_SERVER=0 to skip its two tests when
# it is missing instead of failing. Screenshots: target/www-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x /usr/bin/chromium ]; then
  step "apt-get install chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! command -v node >/dev/null; then
  step "apt-get install nodejs"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

step "npm ci (tests/www: playwright-core, binaryen)"
(cd tests/www && npm ci --no-audit --no-fund --loglevel=error)

step "build www/pkg (wasm)"
scripts/build-www.sh

export LINEGATE_BIN="$(realpath -m "${LINEGATE_BIN:-target/debug/linegate}")"
export LINEGATE_REQUIRE_SERVER="${LINEGATE_REQUIRE_SERVER:-1}"
rm -rf target/www-artifacts
step "Playwright tests of the page (headless Chromium)"
(cd tests/www && node --test --test-concurrency=1 page.test.mjs)
echo "screenshots: target/www-artifacts/"
