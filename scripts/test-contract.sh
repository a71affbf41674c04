#!/usr/bin/env bash
# Checks ChatStore's HTTP contract from outside, as a client developer meets it:
#   1. Redocly lint (@redocly/cli, recommended rules, exceptions in redocly.yaml): 0 errors, 0 warnings;
#   2. Spectral (spectral:oas): 0 errors;
#   3. a TypeScript client generated with openapi-typescript + openapi-fetch compiles a first-try program
#      under tsc --strict (no casts) and runs it against the real server process.
# Needs CHATSTORE_TEST_DATABASE_URL (scripts/test.sh sets it). npm packages are pinned by the committed
# lockfiles in scripts/contract and installed under a temporary directory; Spectral gets its own
# node_modules (beside ajv 8 it crashes).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CHATSTORE_TEST_DATABASE_URL:?run through scripts/test.sh, which starts PostgreSQL}"
source scripts/pg.sh

work=$(mktemp -d /tmp/chatstore-contract.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "[contract] installing the pinned npm packages (scripts/contract/package-lock.json)"
mkdir -p "$work/tools" "$work/spectral"
cp scripts/contract/package.json scripts/contract/package-lock.json "$work/tools/"
cp scripts/contract/spectral/package.json scripts/contract/spectral/package-lock.json "$work/spectral/"
(cd "$work/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &
tools_pid=$!
(cd "$work/spectral" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &
spectral_pid=$!

echo "[contract] starting the server against a new database of the test cluster"
dotnet build src/ChatStore.Cli -c Release --nologo -v q -clp:ErrorsOnly >/dev/null
database="contract_$(date +%s)_$$"
psql "$CHATSTORE_TEST_DATABASE_URL" -qc "CREATE DATABASE $database" >/dev/null
url="${CHATSTORE_TEST_DATABASE_URL%/*}/$database"
# Port 0: the server binds a free port itself and prints it (a port picked here could be taken before it binds).
base=""
operator_key="cs_op_contract_$(date +%s)"
dotnet src/ChatStore.Cli/bin/Release/net10.0/ChatStore.Cli.dll serve --database-url "$url" --urls "http://127.0.0.1:0" \
  --operator-key "$operator_key" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  [ -n "$base" ] || base=$(grep -o 'serving on http://127\.0\.0\.1:[0-9]*' "$work/server.log" 2>/dev/null | head -n1 | sed 's/^serving on //' || true)
  [ -n "$base" ] && curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "[contract] the server exited" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "$base/openapi/v1.json" -o "$work/openapi.json"

wait "$tools_pid" "$spectral_pid"
status=0

echo "[contract] redocly lint (recommended rules; exceptions in redocly.yaml)"
if ! "$work/tools/node_modules/.bin/redocly" lint "$work/openapi.json" --config redocly.yaml --format=stylish >"$work/redocly.log" 2>&1 \
   || grep -Eq '(error|warning) +[a-z0-9-]+ ' "$work/redocly.log"; then
  grep -E '(error|warning) +[a-z0-9-]+ |You have' "$work/redocly.log" >&2 || tail -n 20 "$work/redocly.log" >&2
  echo "[contract] FAILED: Redocly reports errors or warnings" >&2
  status=1
fi

echo "[contract] spectral lint (spectral:oas)"
printf 'extends: ["spectral:oas"]\n' >"$work/spectral/.spectral.yaml"
if ! "$work/spectral/node_modules/.bin/spectral" lint "$work/openapi.json" --ruleset "$work/spectral/.spectral.yaml" \
     --fail-severity=error --display-only-failures >"$work/spectral.log" 2>&1; then
  cat "$work/spectral.log" >&2
  echo "[contract] FAILED: Spectral reports errors" >&2
  status=1
fi

echo "[contract] generating the TypeScript client and compiling the first-try program (tsc --strict)"
client="$work/tools/client"
mkdir -p "$client"
cp scripts/contract/client/first-try.ts scripts/contract/client/tsconfig.json "$client/"
printf '{"type":"module"}\n' >"$client/package.json"
"$work/tools/node_modules/.bin/openapi-typescript" "$work/openapi.json" -o "$client/schema.d.ts" >/dev/null 2>&1
if (cd "$client" && "$work/tools/node_modules/.bin/tsc" -p .); then
  echo "[contract] running the first-try program against $base"
  node "$client/out/first-try.js" "$base" "$operator_key" || { echo "[contract] FAILED: the first-try program" >&2; status=1; }
else
  echo "[contract] FAILED: the generated client rejects the first-try program" >&2
  status=1
fi

[ "$status" -eq 0 ] && echo "[contract] OK"
exit "$status"
