#!/usr/bin/env bash
# Runs the `chatstore` CLI. With no arguments: ChatStore's main job on the embedded default
# (a private PostgreSQL cluster under ./.chatstore/pg unless DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
dotnet build src/ChatStore.Cli -c Release --nologo -v q -clp:ErrorsOnly >&2
cli() { dotnet src/ChatStore.Cli/bin/Release/net10.0/ChatStore.Cli.dll "$@"; }
if [ "$#" -eq 0 ]; then
  cli db init
  cli db status
else
  cli "$@"
fi
