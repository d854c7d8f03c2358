#!/usr/bin/env bash
# End-to-end test of `linegate serve --object-store s3` against a local S3-compatible server
# (moto, from PyPI, in a virtualenv under target/s3-venv). Only 127.0.0.1 is contacted.
#
#   1. moto on a free port, bucket linegate-test.
#   2. linegate run 1: writes batch A (two databases, several tables, every field type) and
#      queries it from the buffer; SIGTERM persists it to Parquet in the bucket.
#   3. The bucket holds exactly the manifest's .parquet objects; with pyarrow their rows are
#      decoded and compared with what was written; the WAL is empty.
#   4. A stray .parquet object (as an interrupted snapshot leaves) and a foreign object are put.
#   5. linegate run 2 (same bucket and data dir, --persist-interval-secs 1): the stray is gone,
#      the foreign object stays; every point of batch A comes back through /api/v3/query_sql
#      with its values, read from the bucket (moto logs the GETs; the WAL replayed nothing);
#      batch B is written and persisted periodically; A+B queried; a database dropped (its
#      objects leave the bucket); deleting one table's objects makes its query fail.
#   6. SIGTERM: clean exit, no error in either run's log.
#
# Env: LINEGATE_BIN (default target/debug/linegate, built with cargo if missing),
#      PYTHON (default python3), KEEP_S3_TEST=1 keeps the work dir.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/s3-venv
REQS=tests/s3/requirements.txt
PYARROW=pyarrow==26.0.1
BUCKET=linegate-test
TOKEN=apiv3_s3test
START=$SECONDS
PASSED=0

step() { printf '\n==> %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); printf '    ok: %s\n' "$*"; }
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

# ---- the binary --------------------------------------------------------------------------
if [ -z "${LINEGATE_BIN:-}" ]; then
  LINEGATE_BIN=target/debug/linegate
  if [ ! -x "$LINEGATE_BIN" ]; then
    step "cargo build -p linegate-server (no $LINEGATE_BIN yet)"
    cargo build -q -p linegate-server
  fi
fi
[ -x "$LINEGATE_BIN" ] || die "native server not found at $LINEGATE_BIN (cargo build -p linegate-server, or set LINEGATE_BIN)"
LINEGATE_BIN=$(cd "$(dirname "$LINEGATE_BIN")" && pwd)/$(basename "$LINEGATE_BIN")

# ---- the virtualenv ----------------------------------------------------------------------
PY=$VENV/bin/python
STAMP=$VENV/.linegate-s3-stamp
WANT_STAMP="$(cat "$REQS") $PYARROW"
if [ ! -x "$PY" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT_STAMP" ]; then
  step "virtualenv $VENV: moto (S3 only), boto3, pyarrow"
  rm -rf "$VENV"
  if ! "${PYTHON:-python3}" -m venv "$VENV" 2>/dev/null; then
    # Debian ships venv support separately.
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$VENV"
      "${PYTHON:-python3}" -m venv "$VENV"
    else
      die "${PYTHON:-python3} -m venv failed: install python3-venv"
    fi
  fi
  "$PY" -m pip install -q --disable-pip-version-check -r "$REQS"
  # Optional: decoding the Parquet objects. Wheels only, so it is quick or skipped.
  if ! timeout 120 "$PY" -m pip install -q --disable-pip-version-check --only-binary=:all: "$PYARROW"; then
    echo "    (pyarrow did not install from a wheel: Parquet contents will not be decoded)"
  fi
  echo "$WANT_STAMP" > "$STAMP"
fi
CHECK=("$PY" tests/s3/check.py)

# ---- processes and clean-up --------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/linegate-s3.XXXXXX")
DATA=$WORK/data
mkdir -p "$DATA"
echo "$TOKEN" > "$DATA/admin-token"
MOTO_PID=
LG_PID=

stop_pid() { # pid: TERM, up to 5 s, then KILL
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  [ -n "$LG_PID" ] && stop_pid "$LG_PID"
  [ -n "$MOTO_PID" ] && stop_pid "$MOTO_PID"
  if [ "$rc" != 0 ]; then
    for f in "$WORK"/linegate-*.err; do
      [ -f "$f" ] && { echo "--- last lines of $f"; tail -n 20 "$f"; }
    done
    echo "--- last lines of $WORK/moto.log"
    tail -n 10 "$WORK/moto.log" 2>/dev/null || true
    echo "s3: $PASSED passed, 1 failed"
    echo "(logs and data kept in $WORK)"
  elif [ "${KEEP_S3_TEST:-}" = 1 ]; then
    echo "(logs and data kept in $WORK)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r S3_PORT LG_PORT < <("${CHECK[@]}" free-ports --count 2)
[ -n "${LG_PORT:-}" ] || die "could not pick free ports"
ENDPOINT=http://127.0.0.1:$S3_PORT
URL=http://127.0.0.1:$LG_PORT
S3ARGS=(--endpoint "$ENDPOINT" --bucket "$BUCKET")

# ---- S3 server ---------------------------------------------------------------------------
step "moto S3 server on $ENDPOINT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
"${CHECK[@]}" bucket "${S3ARGS[@]}"
ok "S3 server up, bucket created"

RUN=0
start_linegate() { # extra serve flags...
  RUN=$((RUN + 1))
  # Keep AWS settings of the caller's environment out: only the flags count.
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT -u AWS_ENDPOINT_URL \
    -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_DEFAULT_REGION -u AWS_REGION \
    -u AWS_ALLOW_HTTP -u AWS_BUCKET -u AWS_BUCKET_NAME \
    RUST_LOG=info "$LINEGATE_BIN" serve --http-bind "127.0.0.1:$LG_PORT" --data-dir "$DATA" \
    --admin-token-file "$DATA/admin-token" --object-store s3 --bucket "$BUCKET" \
    --aws-endpoint "$ENDPOINT" --aws-allow-http \
    --aws-access-key-id x --aws-secret-access-key y "$@" \
    >"$WORK/linegate-$RUN.out" 2>"$WORK/linegate-$RUN.err" &
  LG_PID=$!
  "${CHECK[@]}" wait-http --url "$URL" --pid "$LG_PID"
}

stop_linegate() { # SIGTERM, wait up to 30 s for the final persist, exit status 0
  local rc=0
  kill -TERM "$LG_PID"
  for _ in $(seq 300); do kill -0 "$LG_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$LG_PID" 2>/dev/null && die "linegate did not exit within 30 s of SIGTERM"
  wait "$LG_PID" || rc=$?
  LG_PID=
  [ "$rc" = 0 ] || die "linegate exited with status $rc after SIGTERM"
}

log_clean() { # run: no ERROR in its log, no WARN but the expected ones
  local err=$WORK/linegate-$1.err bad
  bad=$(grep -E ' (ERROR|WARN) ' "$err" \
    | grep -v -e 'removed Parquet files the manifest does not list' \
      -e 'query failed persisted file .* cannot be read' || true) # the deleted-object check
  [ -z "$bad" ] || die "linegate run $1 logged errors or warnings:
$bad"
}

# ---- run 1: write, persist on SIGTERM -----------------------------------------------------
step "linegate run 1 (object store s3) on $URL"
start_linegate
ok "linegate started with --object-store s3"
"${CHECK[@]}" write --url "$URL" --batch A
"${CHECK[@]}" query --url "$URL" --batches A
ok "batch A written and read back from the buffer"
stop_linegate
grep -q 'persisted buffer to Parquet' "$WORK/linegate-1.err" || die "run 1 logged no persist on SIGTERM"
log_clean 1
ok "SIGTERM: buffer persisted, clean exit, no errors logged"

step "bucket contents after run 1"
"${CHECK[@]}" objects "${S3ARGS[@]}" --data-dir "$DATA" --batches A --wal-empty
ok "bucket holds the manifest's Parquet files with every point of batch A"

# ---- run 2: read back from S3 -------------------------------------------------------------
"${CHECK[@]}" put-strays "${S3ARGS[@]}" --data-dir "$DATA"
step "linegate run 2 against the same bucket and data dir"
start_linegate --persist-interval-secs 1
if grep -E 'replayed WAL segment' "$WORK/linegate-2.err" | grep -vq 'records=0 '; then
  die "run 2 replayed WAL records: the data would not come from S3"
fi
"${CHECK[@]}" check-strays "${S3ARGS[@]}" --data-dir "$DATA"
ok "restart: nothing replayed from the WAL, unlisted Parquet object removed"

GETS_BEFORE=$(grep -c 'GET /'"$BUCKET"'/.*\.parquet' "$WORK/moto.log" || true)
"${CHECK[@]}" query --url "$URL" --batches A
GETS_AFTER=$(grep -c 'GET /'"$BUCKET"'/.*\.parquet' "$WORK/moto.log" || true)
[ "$GETS_AFTER" -gt "$GETS_BEFORE" ] || die "queries made no GET of a .parquet object on the S3 server"
ok "every point of batch A queried back from S3 ($((GETS_AFTER - GETS_BEFORE)) Parquet GETs)"

FILES=$("${CHECK[@]}" count-files --data-dir "$DATA")
"${CHECK[@]}" write --url "$URL" --batch B
"${CHECK[@]}" query --url "$URL" --batches A,B
"${CHECK[@]}" wait-persist --data-dir "$DATA" --more-than "$FILES"
"${CHECK[@]}" query --url "$URL" --batches A,B
"${CHECK[@]}" objects "${S3ARGS[@]}" --data-dir "$DATA" --batches A,B
ok "batch B written, persisted periodically to S3, A+B queried back"

"${CHECK[@]}" drop-db --url "$URL" "${S3ARGS[@]}" --data-dir "$DATA" --db scratch
"${CHECK[@]}" query --url "$URL" --batches A,B --skip-db scratch
ok "database dropped: its objects left the bucket, the rest still queries"

"${CHECK[@]}" missing-object --url "$URL" "${S3ARGS[@]}" --data-dir "$DATA"
ok "a table whose objects are deleted from the bucket no longer queries"

stop_linegate
log_clean 2
ok "run 2: clean exit, no errors logged"

step "S3 end-to-end test passed in $((SECONDS - START)) s"
echo "s3: $PASSED passed, 0 failed"
