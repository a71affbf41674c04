#!/usr/bin/env bash
# Runs every ChatStore test against a throwaway PostgreSQL cluster (with pgvector) that this
# script starts under a temporary directory on 127.0.0.1 and a free port, and always stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh

scripts/setup.sh

bin=$(pg_bin)
tmp=$(mktemp -d /tmp/chatstore-test.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
port=$(free_port)

stop() {
  as_pg "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap stop EXIT INT TERM

echo "[test] starting PostgreSQL ($bin) on 127.0.0.1:$port"
as_pg "$bin/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
as_pg "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w start -o \
  "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" >/dev/null

export CHATSTORE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export CHATSTORE_PG_BIN="$bin"

status=0
scripts/test-browser-setup.sh
dotnet test ChatStore.sln -c Release --nologo "$@" || status=$?
[ "$status" -eq 0 ] && { scripts/test-pgbouncer.sh "$@" || status=$?; }  # the HTTP tests again, through PgBouncer (transaction pooling)
# The benchmark harness as a smoke test (a full run only, not a filtered one): on a small dataset the
# three implementations must return the same results for the same inputs. No timings are asserted.
if [ "$status" -eq 0 ] && [ "$#" -eq 0 ]; then
  CHATSTORE_BENCH_DATABASE_URL="$CHATSTORE_TEST_DATABASE_URL" scripts/bench.sh --smoke || status=$?
fi
if [ "$status" -eq 0 ] && [ "$#" -eq 0 ]; then scripts/test-contract.sh || status=$?; fi
[ "$status" -eq 0 ] && [ "$#" -eq 0 ] && { scripts/test-packages.sh || status=$?; }
[ "$status" -eq 0 ] && [ "$#" -eq 0 ] && { scripts/test-faults.sh || status=$?; }
if [ "$status" -ne 0 ]; then
  echo "[test] FAILED (exit $status); the server log's tail:" >&2
  tail -n 30 "$tmp/server.log" >&2 || true
fi
exit "$status"
