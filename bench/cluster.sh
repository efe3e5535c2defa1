#!/usr/bin/env bash
# The benchmarks' own PostgreSQL 15 + PostGIS cluster, at production durability: fsync, synchronous_commit
# and full_page_writes on (the test cluster turns them off for speed, so its figures flatter every commit).
# Project-local under var/pg-bench, on 127.0.0.1:54330, role and database zerowaste/zerowaste.
#   bench/cluster.sh start|stop|status
# then: DATABASE_URL=postgis://zerowaste:zerowaste@127.0.0.1:54330/zerowaste .venv/bin/python manage.py bench …
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
pg_bin=/usr/lib/postgresql/15/bin
pg_port=${BENCH_PG_PORT:-54330}
mkdir -p var

# PostgreSQL will not run as root: as root, its files belong to the postgres user, who must be able to
# reach them (as in scripts/test.sh). A checkout that user cannot enter keeps them in /var/tmp.
if [ "$(id -u)" -eq 0 ]; then
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
  if runuser -u postgres -- test -x "$repo/var"; then
    pg_root=$repo/var
  else
    pg_root=/var/tmp/zerowaste-pg-bench-$(printf %s "$repo" | sha256sum | cut -c1-12)
  fi
else
  as_pg() { "$@"; }
  pg_root=$repo/var
fi
pg_data=$pg_root/pg-bench
pg_run=$pg_root/pg-bench-run # socket and server log

running() { as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; }

start() {
  mkdir -p "$pg_data" "$pg_run"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pg_data" "$pg_run"; fi
  chmod 700 "$pg_data"
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    echo "==> initdb $pg_data"
    as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 --no-instructions >/dev/null
  fi
  if running; then
    echo "==> bench PostgreSQL already running on 127.0.0.1:$pg_port"
  else
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_run/postgres.log" -w -t 120 start -o \
      "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_run -c fsync=on -c synchronous_commit=on \
       -c full_page_writes=on -c max_connections=200" >/dev/null
    echo "==> bench PostgreSQL started on 127.0.0.1:$pg_port (durable)"
  fi
  PGOPTIONS="-c client_min_messages=warning" as_pg psql -X -q -v ON_ERROR_STOP=1 \
    -h "$pg_run" -p "$pg_port" -U postgres -d postgres <<'SQL'
SELECT 'CREATE ROLE zerowaste LOGIN SUPERUSER CREATEDB PASSWORD ''zerowaste'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'zerowaste') \gexec
\connect template1
CREATE EXTENSION IF NOT EXISTS postgis;
\connect postgres
SELECT 'CREATE DATABASE zerowaste OWNER zerowaste'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'zerowaste') \gexec
\connect zerowaste
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
  as_pg psql -X -A -t -h "$pg_run" -p "$pg_port" -U postgres -d postgres \
    -c "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', full_page_writes=' || current_setting('full_page_writes')"
  echo "DATABASE_URL=postgis://zerowaste:zerowaste@127.0.0.1:$pg_port/zerowaste"
}

stop() {
  [ -f "$pg_data/PG_VERSION" ] || return 0
  if running; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null && echo "==> bench PostgreSQL stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on 127.0.0.1:$pg_port ($pg_data)"; else echo "stopped"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
