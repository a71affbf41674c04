#!/usr/bin/env bash
# ChatStore side by side with raw Npgsql and EF Core: builds bench/ChatStore.Benchmarks and runs it.
#
#   scripts/bench.sh [--quick] [--smoke] [--only 1,2] [--keep] [--rate N] [--vectors]
#
# --quick: a small dataset, short slices (under 3 minutes). --smoke: the small dataset, every
# implementation once on the same inputs, results compared (scripts/test.sh runs it; no timings).
# --vectors: the hand-written vector path (real[] casts, bytea COPY) against Pgvector's UseVector(), kNN, upsert
# and bulk load in alternating slices (about 2 minutes). --bdn [ARGS]: BenchmarkDotNet (MemoryDiagnoser) over the append and history hot paths, in process,
# ARGS passed to BenchmarkDotNet (e.g. --quick --bdn --filter '*History*').
# CHATSTORE_BENCH_NO_BUILD=1 skips the build (scripts/test.sh has just built the solution).
#
# The PostgreSQL server: CHATSTORE_BENCH_DATABASE_URL (or DATABASE_URL), a superuser URL such as
# postgres://postgres@127.0.0.1:5432/postgres; otherwise a cluster of its own under
# $CHATSTORE_BENCH_DIR (default /var/tmp/chatstore-bench) that persists between runs, so the dataset
# built on the first run (a database named by its fingerprint) is reused by the next ones. The cluster
# is started for the run and stopped after it (unless another run had started it).
# Results: a table on stdout; JSON and Markdown under bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh

bin=$(pg_bin)
export CHATSTORE_PG_BIN="$bin"
url="${CHATSTORE_BENCH_DATABASE_URL:-${DATABASE_URL:-}}"
started=""

if [ -z "$url" ]; then
  scripts/setup.sh
  dir="${CHATSTORE_BENCH_DIR:-/var/tmp/chatstore-bench}"
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    echo "[bench] creating a PostgreSQL cluster in $dir/data" >&2
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    port=$(cat "$dir/port")
    echo "[bench] using the running PostgreSQL on 127.0.0.1:$port" >&2
  else
    port=$(free_port)
    echo "$port" > "$dir/port"
    # Durability is off (fsync, synchronous_commit, full_page_writes): the benchmark measures CPU and
    # round trips, not this shared machine's disk. JIT is off: compiling plans adds latency noise.
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start -o \
      "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c shared_buffers=1GB -c maintenance_work_mem=1GB -c work_mem=16MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=8GB -c checkpoint_timeout=30min -c jit=off" >/dev/null
    started="$dir/data"
    echo "[bench] started PostgreSQL ($bin) on 127.0.0.1:$port" >&2
  fi
  url="postgres://postgres@127.0.0.1:$port/postgres"
fi

stop() {
  if [ -n "$started" ]; then
    as_pg "$bin/pg_ctl" -D "$started" -m fast stop >/dev/null 2>&1 || true
  fi
}
trap stop EXIT INT TERM

if [ -z "${CHATSTORE_BENCH_NO_BUILD:-}" ]; then
  echo "[bench] building bench/ChatStore.Benchmarks" >&2
  dotnet build bench/ChatStore.Benchmarks/ChatStore.Benchmarks.csproj -c Release --nologo -v q -clp:ErrorsOnly >&2
fi
CHATSTORE_BENCH_DATABASE_URL="$url" dotnet bench/ChatStore.Benchmarks/bin/Release/net10.0/ChatStore.Benchmarks.dll "$@"
