#!/usr/bin/env bash
# `make run`: the dev server and the scheduled jobs (manage.py run_schedule) side by side, stopped
# together; on the way out the embedded Postgres is stopped too (with no DATABASE_URL).
# Errors show as in production (DEBUG off unless DEBUG is set); WhiteNoise serves the static files.
PY="${PY:-.venv/bin/python}"
ADDR="${HOST:-127.0.0.1}:${PORT:-8000}"

set -m  # each background job in its own process group, so the server goes with its autoreloader child
"$PY" manage.py run_schedule &
scheduler=$!
DEBUG="${DEBUG:-false}" "$PY" manage.py runserver "$ADDR" &
server=$!

stop() {
  trap - EXIT INT TERM HUP
  kill -TERM -- "-$server" "-$scheduler" 2>/dev/null
  wait
  if [ -z "${DATABASE_URL:-}" ]; then "$PY" -m crm.lib.embedded_db stop; fi
}
trap stop EXIT
trap 'exit 130' INT TERM HUP
wait "$server"  # until the server exits (port taken, Ctrl-C) or a signal arrives
