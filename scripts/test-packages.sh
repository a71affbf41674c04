#!/usr/bin/env bash
# ChatStore's packages as a user meets them, against the test cluster (scripts/test.sh runs this after the
# tests, with CHATSTORE_TEST_DATABASE_URL set and the Release build in place):
#   1. packs ChatStore, ChatStore.Server and ChatStore.Tool into a local folder;
#   2. installs the `chatstore` tool from it (dotnet tool install --tool-path) and runs `chatstore --version`
#      and `chatstore db init` on a fresh schema;
#   3. restores samples/ChatBackend from that folder (PackageReference, through a generated nuget.config), runs
#      it on a fresh schema and drives it over HTTP: a memory, a streamed reply grounded in it, the stored history;
#   4. compiles and runs the README's C# snippets as projects on the packages;
#   5. serves the HTTP API with the installed tool and runs samples/typescript against it: a client generated
#      from the live OpenAPI document, compiled with tsc --strict.
# CHATSTORE_PACKAGES_BUILD=1 builds the projects first (otherwise they are packed from the existing build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
: "${CHATSTORE_TEST_DATABASE_URL:?set it to a superuser postgres:// URL (scripts/test.sh does)}"

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
tmp=$(mktemp -d /tmp/chatstore-packages.XXXXXX)
feed="$tmp/feed"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap stop EXIT INT TERM
fail() { echo "[packages] FAILED: $*" >&2; for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }; done; exit 1; }
say() { echo "[packages] $*"; }

# Waits (up to 120 s) until $1 answers 200.
wait_http() {
  for _ in $(seq 1 240); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
    sleep 0.5
  done
  fail "$1 did not answer"
}

say "packing $version into $feed"
build=--no-build
[ -n "${CHATSTORE_PACKAGES_BUILD:-}" ] && build=""
for project in src/ChatStore src/ChatStore.Server src/ChatStore.Cli; do
  dotnet pack "$project" -c Release $build -o "$feed" --nologo -v q -clp:ErrorsOnly
done
for id in ChatStore ChatStore.Server ChatStore.Tool; do
  [ -f "$feed/$id.$version.nupkg" ] && [ -f "$feed/$id.$version.snupkg" ] || fail "$id.$version.nupkg or its .snupkg is missing"
done
# A package of this version restored earlier sits in the global cache and would be used instead of this one.
cache=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
rm -rf "$cache/chatstore/$version" "$cache/chatstore.server/$version" "$cache/chatstore.tool/$version"

say "installing the chatstore tool from the folder"
dotnet tool install --tool-path "$tmp/tools" --add-source "$feed" ChatStore.Tool --version "$version" >"$tmp/install.log" 2>&1 || fail "dotnet tool install"
chatstore="$tmp/tools/chatstore"
printed=$("$chatstore" --version)
[[ "$printed" == "$version"* ]] || fail "chatstore --version printed '$printed', expected $version"
export DATABASE_URL="$CHATSTORE_TEST_DATABASE_URL"
DATABASE_SCHEMA="pkg_tool_$RANDOM$RANDOM" "$chatstore" db init >"$tmp/db-init.log" 2>&1 || fail "chatstore db init"
say "chatstore $printed: db init ok"

say "building samples/ChatBackend on the packages"
cat >"$tmp/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="ChatStore" /><package pattern="ChatStore.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
dotnet restore samples/ChatBackend --configfile "$tmp/nuget.config" --nologo -v q >"$tmp/sample-restore.log" 2>&1 || fail "restore of samples/ChatBackend"
grep -q "\"ChatStore/$version\"" samples/ChatBackend/obj/project.assets.json || fail "samples/ChatBackend did not restore the ChatStore package $version"
dotnet build samples/ChatBackend -c Release --no-restore --nologo -v q -clp:ErrorsOnly >"$tmp/sample-build.log" 2>&1 || fail "build of samples/ChatBackend"
port=$(free_port)
base="http://127.0.0.1:$port"
DATABASE_SCHEMA="pkg_sample_$RANDOM$RANDOM" dotnet samples/ChatBackend/bin/Release/net10.0/ChatBackend.dll --urls "$base" >"$tmp/sample.log" 2>&1 &
pids+=($!)
wait_http "$base/healthz"
post() { curl -sS -f -X POST -H 'Content-Type: application/json' -d "$2" "$base$1"; }
user=$(post /users '{"email":"ada@example.com","name":"Ada"}' | jq -r .id)
post "/users/$user/memories" '{"content":"Ada'"'"'s dog Rex is a border collie who loves frisbees."}' >/dev/null
reply=$(curl -sS -f -D "$tmp/headers" -X POST -H 'Content-Type: application/json' -d '{"message":"What breed is my dog?"}' "$base/users/$user/chat")
[[ "$reply" == *"border collie"* ]] || fail "the reply did not recall the memory: $reply"
conversation=$(tr -d '\r' <"$tmp/headers" | sed -n 's/^[Xx]-[Cc]onversation-[Ii]d: //p')
history=$(curl -sS -f "$base/conversations/$conversation/messages")
echo "$history" | jq -e --arg reply "$reply" 'length == 2 and .[1].role == "assistant" and .[1].status == "complete"
  and .[1].content == $reply and .[1].outputTokens > 0 and .[1].inputTokens > 0 and .[1].costUsd > 0' >/dev/null \
  || fail "the stored reply is not complete with its tokens and cost: $history"
say "samples/ChatBackend: streamed reply stored complete ($(echo "$history" | jq -c '.[1] | {outputTokens, costUsd}'))"

say "compiling and running the README's snippets on the packages"
# The fenced block after the README line `<!-- test-packages: NAME -->`.
snippet() {
  awk -v marker="<!-- test-packages: $1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' README.md
}
# A project of its own (outside the repository, so no central versions apply) on package $2, with the
# snippet $1 as its Program.cs, restored from the folder; built warnings-as-errors.
snippet_project() {
  local dir="$tmp/snippet-$1" sdk=Microsoft.NET.Sdk
  [ "$2" = ChatStore.Server ] && sdk=Microsoft.NET.Sdk.Web
  mkdir -p "$dir"
  snippet "$1" >"$dir/Program.cs"
  [ -s "$dir/Program.cs" ] || fail "README.md has no snippet marked $1"
  cat >"$dir/Snippet.csproj" <<XML
<Project Sdk="$sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="$2" Version="$version" />
  </ItemGroup>
</Project>
XML
  dotnet restore "$dir" --configfile "$tmp/nuget.config" --nologo -v q >"$tmp/snippet-$1.log" 2>&1 || fail "restore of the README's $1 snippet"
  dotnet build "$dir" -c Release --no-restore --nologo -v q -clp:ErrorsOnly >>"$tmp/snippet-$1.log" 2>&1 || fail "build of the README's $1 snippet"
}
snippet_project library ChatStore
printed=$(DATABASE_SCHEMA="pkg_readme_$RANDOM$RANDOM" dotnet "$tmp/snippet-library/bin/Release/net10.0/Snippet.dll") || fail "the README's library snippet"
[ "$printed" = '1 message(s) in "Fractions"' ] || fail "the README's library snippet printed '$printed'"
snippet_project server ChatStore.Server
port=$(free_port)
DATABASE_SCHEMA="pkg_readme_$RANDOM$RANDOM" dotnet "$tmp/snippet-server/bin/Release/net10.0/Snippet.dll" --urls "http://127.0.0.1:$port" >"$tmp/snippet-server-run.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/healthz"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/users")" = 401 ] || fail "the README's server snippet does not guard /v1"
# The README's registration lines are the backend sample's own.
while IFS= read -r line; do
  grep -qF -- "$line" samples/ChatBackend/Program.cs || fail "README.md shows '$line', which samples/ChatBackend/Program.cs does not have"
done < <(snippet "from samples/ChatBackend/Program.cs")

say "serving with the tool for samples/typescript"
port=$(free_port)
base="http://127.0.0.1:$port"
key="cs_op_sample_$RANDOM$RANDOM$RANDOM"
DATABASE_SCHEMA="pkg_ts_$RANDOM$RANDOM" "$chatstore" serve --urls "$base" --operator-key "$key" >"$tmp/serve.log" 2>&1 &
pids+=($!)
wait_http "$base/readyz"
(
  cd samples/typescript
  npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1 || fail "npm ci"
  CHATSTORE_URL="$base" npm run --silent generate >>"$tmp/npm.log" 2>&1 || fail "openapi-typescript"
  npx tsc --strict || fail "tsc --strict"
  CHATSTORE_URL="$base" CHATSTORE_OPERATOR_KEY="$key" node dist/main.js
) || fail "samples/typescript"
say "ok"
