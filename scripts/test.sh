#!/usr/bin/env bash
# The whole suite, twice: on a project-local PostgreSQL 15 + PostGIS + pgRouting cluster, then
# on SpatiaLite (-m "not postgis"; tests marked `embedded` run only there). Both passes use a project-local Redis for the Celery broker.
# Arguments go to pytest. Services already running (another run, a developer) are reused and
# left running; those this run starts are stopped at the end unless KEEP_SERVICES=1.
# `scripts/test.sh stop` only stops them.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bin=$repo/.venv/bin
pg_bin=/usr/lib/postgresql/15/bin
pg_port=54329
redis_port=63799
mkdir -p var/log var/redis

# PostgreSQL will not run as root: as root, its files belong to the postgres user, who must be
# able to reach them. A checkout that user cannot enter (e.g. under /root) keeps them in /var/tmp.
if [ "$(id -u)" -eq 0 ]; then
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
  if runuser -u postgres -- test -x "$repo/var"; then
    pg_root=$repo/var
  else
    pg_root=/var/tmp/zerowaste-pg-$(printf %s "$repo" | sha256sum | cut -c1-12)
  fi
else
  as_pg() { "$@"; }
  pg_root=$repo/var
fi
pg_data=$pg_root/pg
pg_run=$pg_root/pg-run # socket and server log

pg_start() {
  mkdir -p "$pg_data" "$pg_run"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pg_data" "$pg_run"; fi
  chmod 700 "$pg_data"
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    echo "==> initdb $pg_data"
    as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 --no-instructions >/dev/null
  fi
  if as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    echo "==> PostgreSQL already running on 127.0.0.1:$pg_port"
  else
    # A throwaway test cluster: durability is traded for speed.
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_run/postgres.log" -w -t 60 start -o \
      "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_run -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null
    pg_started=1
    echo "==> PostgreSQL started on 127.0.0.1:$pg_port"
  fi
  # The two roles (README, "Database roles and limits"): zerowaste_owner owns the tables, runs the
  # migrations and creates the test database; the tests, like the web and worker processes, connect
  # as zerowaste_app, which may not change or empty the ledger. Neither is a superuser, so the
  # extensions are created here, in template1 too, so that test databases inherit them. The
  # superuser role zerowaste is kept for developers' own tools; the tests do not use it.
  PGOPTIONS="-c client_min_messages=warning" as_pg psql -X -q -v ON_ERROR_STOP=1 \
    -h "$pg_run" -p "$pg_port" -U postgres -d postgres <<'SQL'
SELECT 'CREATE ROLE zerowaste LOGIN SUPERUSER CREATEDB PASSWORD ''zerowaste'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'zerowaste') \gexec
SELECT 'CREATE ROLE zerowaste_owner LOGIN CREATEDB PASSWORD ''zerowaste_owner'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'zerowaste_owner') \gexec
SELECT 'CREATE ROLE zerowaste_app LOGIN PASSWORD ''zerowaste_app'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'zerowaste_app') \gexec
\connect template1
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
\connect postgres
SELECT 'CREATE DATABASE zerowaste OWNER zerowaste_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'zerowaste') \gexec
ALTER DATABASE zerowaste OWNER TO zerowaste_owner;
-- A test database left by a run from before the two roles belongs to another role, which the
-- owner could not drop.
SELECT 'DROP DATABASE test_zerowaste' FROM pg_database
WHERE datname = 'test_zerowaste' AND datdba <> 'zerowaste_owner'::regrole \gexec
\connect zerowaste
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
SQL
}

pg_stop() {
  [ -f "$pg_data/PG_VERSION" ] || return 0
  if as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null && echo "==> PostgreSQL stopped"
  fi
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }

redis_start() {
  if [ "$(redis_cli ping 2>/dev/null)" = PONG ]; then
    echo "==> Redis already running on 127.0.0.1:$redis_port"
  else
    redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$repo/var/redis" \
      --daemonize yes --pidfile "$repo/var/redis/redis.pid" --logfile "$repo/var/redis/redis.log" \
      --save '' --appendonly no
    for _ in $(seq 50); do
      [ "$(redis_cli ping 2>/dev/null)" = PONG ] && break
      sleep 0.1
    done
    redis_started=1
    echo "==> Redis started on 127.0.0.1:$redis_port"
  fi
}

redis_stop() {
  if [ "$(redis_cli ping 2>/dev/null)" = PONG ]; then
    redis_cli shutdown nosave >/dev/null 2>&1 || true
    echo "==> Redis stopped"
  fi
}

if [ "${1:-}" = stop ]; then
  pg_stop
  redis_stop
  exit 0
fi

pg_started=0 redis_started=0
stop_started_services() {
  trap - EXIT INT TERM
  [ "${KEEP_SERVICES:-0}" = 1 ] && return
  [ "$pg_started" = 1 ] && { pg_stop || true; }
  [ "$redis_started" = 1 ] && { redis_stop || true; }
  true
}
trap stop_started_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_start
redis_start

summary=()
failed=0
run_pass() { # name, then env assignments up to "--", then pytest arguments
  local name=$1 rc
  shift
  local env_args=()
  while [ "$1" != -- ]; do env_args+=("$1"); shift; done
  shift
  echo
  echo "==> pytest, $name pass"
  local color=()
  [ -t 1 ] && color=(--color=yes)
  set +e
  env -u REDIS_URL -u DATABASE_OWNER_URL "${env_args[@]}" "$bin/pytest" "${color[@]}" "$@" 2>&1 | tee "var/log/pytest-$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  local line
  line=$(grep -E '(passed|failed|errors?|skipped|deselected|no tests ran).* in [0-9.]+s' \
    "var/log/pytest-$name.log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//' || true)
  # 5 = nothing collected: fine when the caller's arguments select only the other pass's tests.
  if [ "$rc" -eq 5 ] && [ ${#user_args[@]} -gt 0 ]; then
    rc=0 line="no tests selected"
  fi
  if [ "$rc" -eq 0 ]; then
    summary+=("$name: OK (${line:-exit 0})")
  else
    summary+=("$name: FAILED, exit $rc (${line:-see var/log/pytest-$name.log})")
    failed=1
  fi
}

user_args=("$@")
run_pass postgis \
  DATABASE_URL="postgis://zerowaste_app:zerowaste_app@127.0.0.1:$pg_port/zerowaste" \
  DATABASE_OWNER_URL="postgis://zerowaste_owner:zerowaste_owner@127.0.0.1:$pg_port/zerowaste" \
  CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/0" \
  REDIS_URL="redis://127.0.0.1:$redis_port/1" \
  -- -m "not embedded" "${user_args[@]}"
run_pass spatialite \
  DATABASE_URL="spatialite:///$repo/var/test-spatialite.sqlite3" \
  CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/2" \
  -- -m "not postgis" "${user_args[@]}"

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
