#!/usr/bin/env bash
# usage: roundtrips.sh STATE N URL [curl args...]
# Sends N requests to URL and prints the database queries (= round trips, one Sync each) PgBouncer counted
# per request, from SHOW STATS on the pool-group databases before and after.
set -euo pipefail
STATE=$1 N=$2 URL=$3; shift 3
. "$STATE/secrets.env"
PORT=$(sed -n 's/^listen_port = //p' "$STATE/pgbouncer.ini")
count() {
  PGPASSWORD=$NZILA_OWNER_PASSWORD psql -h 127.0.0.1 -p "$PORT" -U nzila_owner -d pgbouncer -Atc "SHOW STATS" |
    awk -F'|' '$1 ~ /^nzila_g/ { q += $3 } END { print q + 0 }'
}
before=$(count)
for _ in $(seq 1 "$N"); do curl -fsS -o /dev/null "$@" "$URL"; done
after=$(count)
python3 -c "print('%.2f' % (($after - $before) / $N))"
