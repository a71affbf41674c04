#!/usr/bin/env bash
# Runs the `chatstore` CLI. With no arguments: ChatStore's main job on the embedded default
# (a private PostgreSQL cluster under ./.chatstore/pg unless DATABASE_URL is set): initialise the
# database, print its status, and serve the HTTP API with a demo tenant until stopped. It prints the
# console (/console) and API reference (/docs) URLs with the operator key and the demo tenant's API key:
# the same demo tenant and keys on every start (docs/operator-cli.md; `scripts/run.sh serve --demo --reset-demo`
# renews them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
dotnet build src/ChatStore.Cli -c Release --nologo -v q -clp:ErrorsOnly >&2
cli() { dotnet src/ChatStore.Cli/bin/Release/net10.0/ChatStore.Cli.dll "$@"; }
if [ "$#" -eq 0 ]; then
  # The main job: initialise the embedded database, show its status, serve the HTTP API with a demo tenant
  # (seeded with a user, a conversation, a memory and a document, so the console shows something).
  cli db init
  cli db status
  exec dotnet src/ChatStore.Cli/bin/Release/net10.0/ChatStore.Cli.dll serve --demo
else
  cli "$@"
fi
