#!/usr/bin/env bash
# Shared helpers for the scripts: where PostgreSQL lives, how to run its tools, a free port.
# Sourced, not run.

# The newest installed PostgreSQL (15 or newer) bin directory.
pg_bin() {
  local d best="" v
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] || continue
    v=$(basename "$(dirname "$d")")
    if [ "$v" -ge 15 ] 2>/dev/null && { [ -z "$best" ] || [ "$v" -gt "$(basename "$(dirname "$best")")" ]; }; then best=$d; fi
  done
  [ -n "$best" ] || { echo "PostgreSQL 15 or newer is not installed: run scripts/setup.sh" >&2; return 1; }
  echo "$best"
}

# Runs a PostgreSQL server tool; as the postgres user when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( (RANDOM << 15 | RANDOM) % 30000 + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2; return 1
}
