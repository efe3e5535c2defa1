#!/usr/bin/env bash
# Embedded mode on one machine: SpatiaLite, a Celery worker (with beat) on the SQLite broker,
# gunicorn in front. Ctrl-C stops everything it started.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bin=$repo/.venv/bin
bind=${BIND:-127.0.0.1:8000}
worker_pidfile=var/run/worker.pid

mkdir -p var/log var/run

stop_pid() { # pid: TERM, then KILL after 10 s
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# A worker left by a run that was killed outright would hold the broker; it is ours, stop it.
if [ -f "$worker_pidfile" ]; then
  old=$(cat "$worker_pidfile")
  if grep -qs celery "/proc/$old/cmdline"; then
    echo "==> stopping the worker left by an earlier run (pid $old)"
    stop_pid "$old"
  fi
  rm -f "$worker_pidfile"
fi

"$bin/python" manage.py migrate --noinput
"$bin/python" manage.py load_catalogs
"$bin/python" manage.py seed_demo
"$bin/python" manage.py collectstatic --noinput >/dev/null

worker_pid='' web_pid=''
cleanup() {
  trap - EXIT INT TERM
  [ -n "$web_pid" ] && stop_pid "$web_pid"
  if [ -n "$worker_pid" ]; then
    echo "==> stopping the Celery worker"
    stop_pid "$worker_pid"
  fi
  rm -f "$worker_pidfile"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin/celery" -A config worker --beat -l info --schedule var/celerybeat-schedule \
  >>var/log/worker.log 2>&1 &
worker_pid=$!
echo "$worker_pid" >"$worker_pidfile"

cat <<EOF

  Zero-waste city tracking is starting on http://$bind/
    API docs:  http://$bind/api/docs/
    Admin:     http://$bind/admin/
  Demo users (password: zerowaste-demo):
    enterprise  hauler  station  recycler  regulator
  Worker log: var/log/worker.log    Stop: Ctrl-C

EOF

"$bin/gunicorn" config.wsgi -b "$bind" -w 2 --access-logfile - &
web_pid=$!
# wait returns early on a trapped signal, so Ctrl-C and TERM reach cleanup at once.
wait "$web_pid"
