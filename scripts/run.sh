#!/usr/bin/env bash
# Embedded mode on one machine: SpatiaLite, a Celery worker (with beat) on the SQLite broker,
# gunicorn in front. The worker is supervised: when it exits unexpectedly it is started again
# (after 1 s, doubling up to 30 s while it keeps failing), and each restart is logged.
# Ctrl-C, TERM, or this script ending any other way stops everything it started, worker pool
# children included (each process runs in its own process group, stopped as a whole).
# Overrides: BIND (address, default 127.0.0.1:8000), VAR_DIR (database, broker, logs, media;
# default ./var), VENV_BIN (the virtualenv's bin directory, default ./.venv/bin).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bin=${VENV_BIN:-$repo/.venv/bin}
bind=${BIND:-127.0.0.1:8000}
export VAR_DIR=${VAR_DIR:-$repo/var}
var=$VAR_DIR
worker_pidfile=$var/run/worker.pid
worker_log=$var/log/worker.log

mkdir -p "$var/log" "$var/run"

say() { echo "==> $(date '+%H:%M:%S') $*"; }

alive_group() { kill -0 -- "-$1" 2>/dev/null; }

stop_group() { # pgid: TERM to the whole group, then KILL after 10 s
  local group=$1
  kill -TERM -- "-$group" 2>/dev/null || return 0
  for _ in $(seq 100); do
    alive_group "$group" || return 0
    sleep 0.1
  done
  kill -KILL -- "-$group" 2>/dev/null || true
}

# A worker left by a run that was killed outright would hold the broker; it is ours, stop it.
if [ -f "$worker_pidfile" ]; then
  old=$(cat "$worker_pidfile")
  if grep -qs celery "/proc/$old/cmdline"; then
    say "stopping the worker left by an earlier run (pid $old)"
    stop_group "$old"
  fi
  rm -f "$worker_pidfile"
fi

"$bin/python" manage.py migrate --noinput
"$bin/python" manage.py load_catalogs
"$bin/python" manage.py seed_demo
"$bin/python" manage.py collectstatic --noinput >/dev/null

worker_pid='' web_pid='' stopping=''
cleanup() {
  trap - EXIT INT TERM
  stopping=1
  [ -n "$web_pid" ] && stop_group "$web_pid"
  if [ -n "$worker_pid" ]; then
    say "stopping the Celery worker"
    stop_group "$worker_pid"
  fi
  rm -f "$worker_pidfile"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# setsid: the process leads a group of its own (this shell's background children are not group
# leaders, so setsid execs in place and $! is the group's id), stopped as a whole by stop_group.
worker_start() {
  setsid "$bin/celery" -A config worker --beat -l info --schedule "$var/celerybeat-schedule" \
    >>"$worker_log" 2>&1 &
  worker_pid=$!
  worker_started=$SECONDS
  echo "$worker_pid" >"$worker_pidfile"
}
worker_start

cat <<EOF

  Zero-waste city tracking is starting on http://$bind/
    API docs:  http://$bind/api/docs/
    Admin:     http://$bind/admin/
  Demo users (password: zerowaste-demo):
    enterprise  hauler  station  recycler  regulator
  Worker log: $worker_log    Stop: Ctrl-C

EOF

setsid "$bin/gunicorn" config.wsgi -b "$bind" -w 2 --access-logfile - &
web_pid=$!

backoff=1
while :; do
  # wait returns early on a trapped signal, so Ctrl-C and TERM reach cleanup at once.
  status=0
  wait -n "$web_pid" "$worker_pid" || status=$?
  [ -n "$stopping" ] && break
  if ! kill -0 "$web_pid" 2>/dev/null; then
    say "the web server exited (status $status); stopping"
    exit 1
  fi
  if ! kill -0 "$worker_pid" 2>/dev/null; then
    # A worker that ran a while before dying starts again at once; one that keeps dying, slower.
    if ((SECONDS - worker_started > 60)); then backoff=1; fi
    say "the Celery worker (pid $worker_pid) exited unexpectedly (status $status); restarting it in ${backoff} s" |
      tee -a "$worker_log"
    stop_group "$worker_pid" # its pool children and embedded beat, if they outlived it
    sleep "$backoff" &
    wait $! || true
    backoff=$((backoff < 30 ? backoff * 2 : 30))
    worker_start
    say "the Celery worker started again (pid $worker_pid)" | tee -a "$worker_log"
  fi
done
