#!/usr/bin/env bash
# The second README command: install what is missing, start a private PostgreSQL 15 + PgBouncer on free
# loopback ports in a fresh temporary state folder (never the dev stack's), run the whole test suite in
# one `swift test`, and stop what it started, also when tests fail. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser tests (issue 23) drive Debian's Chromium with Selenium and check pages with axe-core.
bash ops/install-deps.sh chromium chromium-driver python3-pip fonts-dejavu-core
if ! python3 -c "import selenium, axe_selenium_python" 2>/dev/null; then
  python3 -m pip install -q --break-system-packages "selenium==4.51.0" "axe-selenium-python==2.1.6"
fi

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

STATE=$(mktemp -d /tmp/nzila-test.XXXXXX)
PG_PORT=$(free_port)
BOUNCER_PORT=$(free_port)
while [ "$BOUNCER_PORT" = "$PG_PORT" ]; do BOUNCER_PORT=$(free_port); done
WATCH=
cleanup() {
  if [ -n "$WATCH" ]; then kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null; fi
  bash ops/stack.sh down "$STATE" || true
  rm -rf "$STATE"
}
trap cleanup EXIT
# Durability settings are relaxed for the throwaway test cluster only.
# The suite runs a hundred or so planes at once in one process, each with its own direct connections (change
# feed, relay) beside PgBouncer's servers: a measured peak of 167 backends, too near 200, where PgBouncer could not
# open a server connection and queued every request behind it. 400 leaves the headroom (ops/stallwatch.sh prints the peak).
NZILA_PG_MAX_CONNECTIONS=400 NZILA_PG_FSYNC=off NZILA_PG_SYNC_COMMIT=off bash ops/stack.sh up "$STATE" "$PG_PORT" "$BOUNCER_PORT" 2
set -a
. "$STATE/urls.env"
set +a
export NZILA_TEST_DIRECT_URL=$NZILA_DIRECT_URL NZILA_TEST_PGBOUNCER_URL=$NZILA_PGBOUNCER_URL NZILA_TEST_POOL_GROUPS=$NZILA_POOL_GROUPS
export NZILA_TEST_DATABASE_CA=$NZILA_DATABASE_CA
export NZILA_HOME=$PWD
unset NZILA_DIRECT_URL NZILA_PGBOUNCER_URL
echo "test stack: PostgreSQL 127.0.0.1:$PG_PORT, PgBouncer 127.0.0.1:$BOUNCER_PORT (state $STATE)"
# A stall (a lock held, a pool exhausted) is described in the log while it lasts (ops/stallwatch.sh).
bash ops/stallwatch.sh "$STATE" "$PG_PORT" "$BOUNCER_PORT" $$ &
WATCH=$!
swift test "$@"
