#!/usr/bin/env sh
# Adds a token to the edge worker's TOKENS KV namespace: key = SHA-256 hex of the token,
# value = its scope. Only the hash is stored; the token is printed once on stdout.
#
#   scripts/add-token.sh SCOPE [wrangler kv key put flags…]
#
# SCOPE: admin                                  every database, read and write
#        '{"read":["db"],"write":["db","db2"]}' those databases ("*" = all)
# Flags: --local [--persist-to DIR] (what `wrangler dev` uses) or --remote (the deployed
#        namespace); --ttl SECONDS makes the token expire.
# The token: $LINEGATE_TOKEN if set, else 32 random bytes, base64url.
#
# By hand, the same as:
#   printf %s "$TOKEN" | sha256sum      # → HASH
#   npx wrangler kv key put --binding TOKENS HASH '{"write":["db"]}' --remote
set -eu
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
scope=$1
shift

# Refuse scopes the worker would not accept (it fails closed with a 500 on them).
node -e '
  const s = process.argv[1].trim();
  if (s === "admin") process.exit(0);
  const v = JSON.parse(s);
  const list = (k) => v[k] === undefined || (Array.isArray(v[k]) && v[k].every((d) => typeof d === "string"));
  if (typeof v !== "object" || v === null || Array.isArray(v) || !list("read") || !list("write") ||
      (v.admin !== undefined && typeof v.admin !== "boolean")) throw new Error("bad scope");
' "$scope" 2>/dev/null || {
  echo "add-token: SCOPE must be admin or {\"read\":[…],\"write\":[…]}, got: $scope" >&2
  exit 2
}

token=${LINEGATE_TOKEN:-$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')}
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)

WRANGLER_SEND_METRICS=false npx --no-install wrangler kv key put --binding TOKENS "$hash" "$scope" "$@" >&2
printf '%s\n' "$token"
