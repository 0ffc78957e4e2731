#!/usr/bin/env bash
# Watches the test stack while the suite runs and tells what it sees when work stops moving, so a stall in CI
# names its cause in the log instead of only showing tests that timed out.
#   ops/stallwatch.sh STATE PG_PORT BOUNCER_PORT PID
# Every 2 s (until PID exits) it asks PostgreSQL, as the local superuser over the state folder's socket, and
# PgBouncer's console, as a stats user. A stall is a client backend waiting on a lock, or idle in a
# transaction, for 20 s or more, or a PgBouncer client waiting 20 s or more for a server connection. Then it
# prints, at most once a minute, every busy backend (what it waits on and who blocks it) and the pools. At the
# end it prints the peak number of connections against max_connections (and, as a stall, 90% of it reached).
# Diagnostic only: it never changes what the suite does, and its own failures are ignored.
set -uo pipefail
STATE=${1:?state} PG_PORT=${2:?pg port} BOUNCER_PORT=${3:?bouncer port} WATCHED=${4:?pid}
RUNNER=${NZILA_OS_USER:-nzila}
as_runner() { if [ "$(id -u)" = 0 ]; then runuser -u "$RUNNER" -- "$@"; else "$@"; fi; }
pg() { as_runner psql -X -q -h "$STATE" -p "$PG_PORT" -U postgres -d nzila -v ON_ERROR_STOP=1 "$@" 2>/dev/null; }
# shellcheck disable=SC1091
. "$STATE/secrets.env"
pools() { PGPASSWORD=$NZILA_OWNER_PASSWORD psql -X -h 127.0.0.1 -p "$BOUNCER_PORT" -U nzila_owner -d pgbouncer "$@" -c "SHOW POOLS" 2>/dev/null; }

peak=0 last_report=0
max=$(pg -Atc "SHOW max_connections" || echo "?")
summary() { echo "stallwatch: peak $peak client connections of max_connections $max" >&2; exit 0; }
trap summary TERM INT
while kill -0 "$WATCHED" 2>/dev/null; do
  sleep 2
  counts=$(pg -Atc "
    SELECT count(*),
           count(*) FILTER (WHERE wait_event_type = 'Lock' AND clock_timestamp() - query_start > interval '20 s'),
           count(*) FILTER (WHERE state LIKE 'idle in transaction%' AND clock_timestamp() - state_change > interval '20 s')
    FROM pg_stat_activity WHERE backend_type = 'client backend'") || continue
  IFS='|' read -r total locked idle <<<"$counts"
  [ "${total:-0}" -gt "$peak" ] && peak=$total
  # maxwait is the longest a client of the pool has waited for a server connection, in seconds.
  waiting=$(pools -A -F'|' | awk -F'|' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    col["maxwait"] && $col["maxwait"] + 0 >= 20 { n++ } END { print n + 0 }')
  now=$(date +%s)
  full=0
  [ "$max" != "?" ] && [ "${total:-0}" -ge $((max * 9 / 10)) ] && full=1
  if { [ "$full" = 1 ] || [ "${locked:-0}" -gt 0 ] || [ "${idle:-0}" -gt 0 ] || [ "${waiting:-0}" -gt 0 ]; } && [ $((now - last_report)) -ge 60 ]; then
    last_report=$now
    {
      echo "=== stallwatch $(date -u +%FT%TZ): $locked waiting on a lock >= 20 s, $idle idle in a transaction >= 20 s, $waiting pools with a client waiting >= 20 s; $total of $max connections"
      pg -P pager=off -c "
        SELECT pid, application_name AS app, usename AS role, state, wait_event_type || ':' || wait_event AS waits,
               round(extract(epoch FROM clock_timestamp() - xact_start)::numeric, 1) AS xact_s,
               round(extract(epoch FROM clock_timestamp() - query_start)::numeric, 1) AS query_s,
               pg_blocking_pids(pid) AS blocked_by, left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
        FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()
        ORDER BY xact_start NULLS LAST LIMIT 60"
      pg -P pager=off -c "
        SELECT l.locktype, l.mode, l.granted, coalesce(c.relname, l.classid::text || '/' || l.objid::text) AS object, count(*)
        FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
        WHERE l.pid IN (SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock') OR NOT l.granted
        GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC LIMIT 30"
      pools -P pager=off
      echo "=== end stallwatch"
    } >&2
  fi
done
summary
