#!/usr/bin/env bash
# Unpacks the vendored RustSec advisory database (scripts/advisory-db.tar.gz: rustsec/advisory-db
# at bf5c0d2, 2026-08-21, its `crates/` and `rust/` folders) where deny.toml's `db-path` points,
# as the git checkout cargo-deny expects, so `cargo deny --offline check advisories` runs where
# GitHub cannot be reached (CI). Refresh it where GitHub is reachable:
#   git clone --depth 1 https://github.com/rustsec/advisory-db /tmp/adb &&
#   git -C /tmp/adb archive --format=tar --prefix=advisory-db/ HEAD crates rust LICENSE.txt |
#     gzip -9 > scripts/advisory-db.tar.gz     (and the date below)
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot=2026-08-21T08:28:40+02:00
# cargo-deny 0.20 keeps the database of db-urls' one URL in this folder of db-path.
db=target/advisory-dbs/advisory-db-3157b0e258782691
if [ "$(cat "$db/.snapshot" 2>/dev/null)" = "$snapshot" ]; then exit 0; fi
rm -rf "$db"
mkdir -p "$db"
tar -xzf scripts/advisory-db.tar.gz -C "$db" --strip-components=1
echo "$snapshot" > "$db/.snapshot"
cd "$db"
git init -q
git add -A
GIT_AUTHOR_DATE=$snapshot GIT_COMMITTER_DATE=$snapshot \
  git -c user.name=linegate -c user.email=linegate@localhost commit -qm "rustsec/advisory-db bf5c0d2"
