#!/usr/bin/env bash
# Disk full: runs tests/disk-full/check.py against the server with its data directory on a
# 16 MiB tmpfs, grown to 256 MiB halfway. Mounting needs root (CI runs as root).
#
# LINEGATE_BIN: the server binary (default target/debug/linegate).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${LINEGATE_BIN:-target/debug/linegate}"
work=$(mktemp -d)
mkdir "$work/mnt"
cleanup() { umount "$work/mnt" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=16m linegate-disk-full "$work/mnt"; then
  echo "test-disk-full.sh: cannot mount a tmpfs (it needs root)" >&2
  exit 1
fi
status=0
python3 tests/disk-full/check.py "$bin" "$work/mnt" mount -o remount,size=256m "$work/mnt" || status=$?
[ "$status" = 0 ] || { echo "server log:"; tail -40 "$work/server.log"; }
exit "$status"
