#!/usr/bin/env bash
# Installs what ChatStore needs and is missing, and nothing else:
#   PostgreSQL (15 or newer) server and client, pgvector for that PostgreSQL, NuGet packages.
# Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    sudo_ apt-get update -qq
    apt_updated=1
  fi
  log "installing: $*"
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The newest installed PostgreSQL major version with a server binary, or empty.
pg_major() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$d" ] || continue
    local v; v=$(basename "$(dirname "$(dirname "$d")")")
    if [ "$v" -ge 15 ] 2>/dev/null && { [ -z "$best" ] || [ "$v" -gt "$best" ]; }; then best=$v; fi
  done
  echo "$best"
}

# 1. PostgreSQL server and client.
major=$(pg_major)
if [ -z "$major" ]; then
  apt_install postgresql postgresql-client
  major=$(pg_major)
  [ -n "$major" ] || { log "PostgreSQL 15 or newer could not be installed"; exit 1; }
fi
if ! command -v psql >/dev/null 2>&1 && [ ! -x "/usr/lib/postgresql/$major/bin/psql" ]; then
  apt_install "postgresql-client-$major"
fi
log "PostgreSQL $major at /usr/lib/postgresql/$major/bin"

# 2. pgvector for that PostgreSQL.
extdir="/usr/share/postgresql/$major/extension"
if [ ! -f "$extdir/vector.control" ]; then
  if [ "$apt_updated" -eq 0 ]; then sudo_ apt-get update -qq; apt_updated=1; fi
  if apt-cache show "postgresql-$major-pgvector" >/dev/null 2>&1; then
    apt_install "postgresql-$major-pgvector"
  else
    log "postgresql-$major-pgvector is not packaged here; building pgvector from Debian's source package"
    command -v make >/dev/null && command -v gcc >/dev/null || apt_install build-essential
    [ -x "/usr/lib/postgresql/$major/bin/pg_config" ] && [ -d "/usr/include/postgresql/$major/server" ] \
      || apt_install "postgresql-server-dev-$major"
    # The mirror comes from this machine's own apt sources; apt's configuration is not changed:
    # a temporary sources list and lists directory are passed on the command line.
    mirror=$( { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
                grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; break}}'; } \
              | grep -E '/debian/?$' | head -n1 || true)
    [ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt/sources.list*; install pgvector for PostgreSQL $major by hand"; exit 1; }
    tmp=$(mktemp -d); chmod 755 "$tmp"; trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/lists/partial" "$tmp/src"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    opts=(-o "Dir::Etc::sourcelist=$tmp/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$tmp/lists" -o "APT::Sandbox::User=root")
    found=""
    for suite in trixie forky sid; do
      echo "deb-src [signed-by=$keyring] $mirror $suite main" > "$tmp/sources.list"
      rm -rf "$tmp/lists"; mkdir -p "$tmp/lists/partial"
      if apt-get "${opts[@]}" update -qq >/dev/null 2>&1 \
         && (cd "$tmp/src" && apt-get "${opts[@]}" source --download-only -qq pgvector >/dev/null 2>&1); then
        found=$suite; break
      fi
    done
    [ -n "$found" ] || { log "the pgvector source package was not found on $mirror; install pgvector for PostgreSQL $major by hand"; exit 1; }
    orig=$(ls "$tmp"/src/pgvector_*.orig.tar.* | head -n1)
    log "building $(basename "$orig") from $found against PostgreSQL $major"
    mkdir -p "$tmp/build" && tar -xf "$orig" -C "$tmp/build" --strip-components=1
    make -s -C "$tmp/build" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >/dev/null
    sudo_ make -s -C "$tmp/build" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" install >/dev/null
  fi
  [ -f "$extdir/vector.control" ] || { log "pgvector did not install into $extdir"; exit 1; }
fi
log "pgvector $(sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" "$extdir/vector.control") installed"

# 3. .NET packages.
command -v dotnet >/dev/null || { log "the .NET SDK is missing: install .NET SDK 10 (see global.json)"; exit 1; }
log "dotnet restore"
dotnet restore ChatStore.sln --nologo -v q
log "ready"
