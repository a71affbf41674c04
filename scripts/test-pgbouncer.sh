#!/usr/bin/env bash
# Runs the HTTP tests through PgBouncer in transaction pooling mode, in front of the PostgreSQL that
# CHATSTORE_TEST_DATABASE_URL names (scripts/test.sh sets it and calls this after its own run).
# Proves that every store operation keeps its tenant and settings inside its own transaction: a
# server connection serves a different client after every transaction. Automatic preparation is
# off through the URL (max_auto_prepare=0): PgBouncer 1.18 does not carry prepared statements
# between server connections. Installs Debian's pgbouncer when it is missing; always stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh

url=${CHATSTORE_TEST_DATABASE_URL:?CHATSTORE_TEST_DATABASE_URL is not set: run scripts/test.sh, which starts PostgreSQL}
# postgres://user@127.0.0.1:PORT/db -> user, host, port
rest=${url#*://}
user=${rest%%@*}
hostport=${rest#*@}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}

if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "[pgbouncer] installing Debian's pgbouncer"
  sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_ apt-get install -y -q pgbouncer >/dev/null || { sudo_ apt-get update -q >/dev/null && sudo_ apt-get install -y -q pgbouncer >/dev/null; }
fi
bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

tmp=$(mktemp -d /tmp/chatstore-pgbouncer.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
listen=$(free_port)
cat > "$tmp/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $tmp/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
max_db_connections = 80
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $tmp/pgbouncer.log
pidfile = $tmp/pgbouncer.pid
EOF
printf '"%s" ""\n' "$user" > "$tmp/userlist.txt"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"/*

stop() {
  if [ -f "$tmp/pgbouncer.pid" ]; then kill "$(cat "$tmp/pgbouncer.pid")" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap stop EXIT INT TERM

# PgBouncer refuses to run as root; as_pg runs it as the postgres user then.
as_pg "$bouncer" -d "$tmp/pgbouncer.ini"
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null && break; sleep 0.1; done
echo "[pgbouncer] transaction pooling on 127.0.0.1:$listen in front of $host:$port"

status=0
# PgBouncer's user list names only the test cluster's superuser, so the test that logs in as a least-privilege
# role of its own runs against PostgreSQL directly only (a filter given to this script replaces this one).
[ "$#" -eq 0 ] && set -- --filter "FullyQualifiedName!~LeastPrivilegeApiTests"
CHATSTORE_TEST_DATABASE_URL="postgres://$user@127.0.0.1:$listen/postgres?max_auto_prepare=0" \
  dotnet test test/ChatStore.Server.Tests -c Release --nologo "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "[pgbouncer] FAILED (exit $status); PgBouncer's log tail:" >&2
  tail -n 30 "$tmp/pgbouncer.log" >&2 || true
fi
exit "$status"
