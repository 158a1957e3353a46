#!/usr/bin/env bash
# Load test (`make load`): serve the app as `make serve` does (gunicorn, DEBUG off, PostgreSQL), give
# it a large fund, log in through the login form, then drive logged-in traffic at it with wrk for a
# bounded time, and print requests per second, p50/p99 latency and the error count.
#
# Only ever against this machine: the server is started here, on 127.0.0.1, and stopped at the end.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_serve make load
#
# Settings (environment): LOAD_DURATION (30s), LOAD_CONNECTIONS (32), LOAD_THREADS (2), LOAD_LINES
# (8000 lines in the large fund), LOAD_PORT (8011), LOAD_PATHS (space-separated; by default those of
# ledger/load_setup.py: the dashboard, the large fund's page and its CSV export, the dashboard and the
# fund's page for its financial year, and its years page), LOAD_SESSIONS_COUNT (logged-in sessions
# to spread the requests over, 8).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?Set DATABASE_URL to a PostgreSQL database for the load test (it gets a large synthetic fund)}"
case "$DATABASE_URL" in
    postgres://*|postgresql://*) ;;
    *) echo "The load test runs against PostgreSQL, as production does; DATABASE_URL=$DATABASE_URL is not." >&2; exit 2 ;;
esac
if ! command -v wrk >/dev/null; then
    echo "wrk is not installed: apt-get install wrk" >&2
    exit 2
fi

PORT="${LOAD_PORT:-8011}"
BASE="http://127.0.0.1:${PORT}"
FUND="${LOAD_FUND:-load-test-fund}"
LINES="${LOAD_LINES:-8000}"
DURATION="${LOAD_DURATION:-30s}"
CONNECTIONS="${LOAD_CONNECTIONS:-32}"
THREADS="${LOAD_THREADS:-2}"
SESSIONS_COUNT="${LOAD_SESSIONS_COUNT:-8}"

WORK="$(mktemp -d)"
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    fi
    if [ -n "${LOAD_SERVER_LOG:-}" ] && [ -f "$WORK/serve.log" ]; then
        cp "$WORK/serve.log" "$LOAD_SERVER_LOG"
    fi
    rm -rf "$WORK"
}
trap stop_server EXIT

# Production settings, except plain http on 127.0.0.1 (there is no nginx in front here).
export DJANGO_DEBUG=0 LEDGER_HTTPS=0 DJANGO_ALLOWED_HOSTS=127.0.0.1
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')}"
export GUNICORN_BIND="127.0.0.1:${PORT}" GUNICORN_ACCESS_LOG="${GUNICORN_ACCESS_LOG:-0}"

make --no-print-directory install >/dev/null
.venv/bin/python manage.py migrate --no-input >/dev/null
# The large fund, a load-test login with the Viewer role (the least that reads the pages) and a
# fresh random password each run, and the paths to request (ledger/load_setup.py; its test runs
# the same steps against the test database and checks every path answers 200).
PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
LOAD_PASSWORD="$PASSWORD" .venv/bin/python manage.py prepare_load_test --lines "$LINES" --code "$FUND" \
    --paths-file "$WORK/paths"
export LOAD_PATHS="${LOAD_PATHS:-$(tr '\n' ' ' <"$WORK/paths")}"

GUNICORN_CMD_ARGS="--pid $WORK/gunicorn.pid" make --no-print-directory serve >"$WORK/serve.log" 2>&1 &
for _ in $(seq 1 120); do
    [ -s "$WORK/gunicorn.pid" ] && curl -fs -m 2 "$BASE/healthz" >/dev/null && break
    sleep 0.5
done
SERVER_PID="$(cat "$WORK/gunicorn.pid" 2>/dev/null || true)"
if [ -z "$SERVER_PID" ] || ! curl -fs -m 2 "$BASE/healthz" >/dev/null; then
    echo "The server did not come up; its log:" >&2
    cat "$WORK/serve.log" >&2
    exit 1
fi
echo "Serving on $BASE (gunicorn pid $SERVER_PID, $(grep -c 'Booting worker' "$WORK/serve.log") workers)"

# Log in through the login form, as a person would, once per session.
export LOAD_SESSIONS="$WORK/sessions"
: >"$LOAD_SESSIONS"
for n in $(seq 1 "$SESSIONS_COUNT"); do
    jar="$WORK/cookies-$n"
    curl -fs -m 10 -c "$jar" -b "$jar" -o /dev/null "$BASE/accounts/login/"
    token="$(awk '$6 == "csrftoken" {print $7}' "$jar")"
    status="$(curl -s -m 10 -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
        --data-urlencode "username=load-tester" --data-urlencode "password=$PASSWORD" \
        --data-urlencode "csrfmiddlewaretoken=$token" "$BASE/accounts/login/")"
    [ "$status" = 302 ] || { echo "Logging in failed with HTTP $status" >&2; exit 1; }
    awk '$6 == "sessionid" {print $7}' "$jar" >>"$LOAD_SESSIONS"
done

# Each path once before the clock starts: all must answer 200.
first_session="$(head -1 "$LOAD_SESSIONS")"
for path in $LOAD_PATHS; do
    status="$(curl -s -m 60 -o /dev/null -w '%{http_code}' -b "sessionid=$first_session" "$BASE$path")"
    [ "$status" = 200 ] || { echo "$path answered HTTP $status before the load started" >&2; exit 1; }
done

echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION, paths: $LOAD_PATHS"
timeout 300 wrk --threads "$THREADS" --connections "$CONNECTIONS" --duration "$DURATION" --timeout 30s \
    --latency --script scripts/load.lua "$BASE" | tee "$WORK/wrk.txt"
echo
echo "Summary: $(grep '^{' "$WORK/wrk.txt")"
