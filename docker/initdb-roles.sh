#!/bin/sh
# Runs once, when the db volume is first initialised (postgres image, /docker-entrypoint-initdb.d):
# the two roles of README "Database roles and limits". zerowaste_owner owns the database and runs
# the migrations (the `migrate` service); web, worker and beat connect as zerowaste_app.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$OWNER_DB_PASSWORD" -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE zerowaste_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE zerowaste_app LOGIN PASSWORD :'app_password';
ALTER DATABASE zerowaste OWNER TO zerowaste_owner;
ALTER SCHEMA public OWNER TO zerowaste_owner;
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
