#!/usr/bin/env bash
# The fault suite (test/ChatStore.Fault.Tests): the real service process over a PostgreSQL cluster of its own
# with fsync, synchronous_commit and full_page_writes on, with PostgreSQL killed hard 5 times, the service
# SIGKILLed 3 times, and PostgreSQL down for 10 s, under 4 writers that retry with Idempotency-Keys; then
# checks that no acknowledged write was lost or duplicated and no key is stuck. Prints the figures.
# Bounded: the tests are stopped after 4 minutes. CHATSTORE_FAULT_SEED=N repeats a run's random moments.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh

export CHATSTORE_PG_BIN="${CHATSTORE_PG_BIN:-$(pg_bin)}"
dotnet build src/ChatStore.Cli -c Release --nologo -v q -clp:ErrorsOnly
dotnet build test/ChatStore.Fault.Tests -c Release --nologo -v q -clp:ErrorsOnly
export CHATSTORE_FAULT_SERVER="$PWD/src/ChatStore.Cli/bin/Release/net10.0/ChatStore.Cli.dll"
report=$(mktemp /tmp/chatstore-faults-report.XXXXXX)
export CHATSTORE_FAULT_REPORT="$report"
trap 'rm -f "$report"' EXIT

echo "[faults] running the fault suite (PostgreSQL $CHATSTORE_PG_BIN, fsync on)"
start=$SECONDS
status=0
timeout --kill-after=10 240 dotnet test test/ChatStore.Fault.Tests -c Release --no-build --nologo || status=$?
echo "[faults] figures ($((SECONDS - start)) s):"
cat "$report"
exit "$status"
