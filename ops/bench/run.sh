#!/usr/bin/env bash
# Nzila's benchmarks beside the references of ../shared/bench, in one run, on this machine.
#   ops/bench/run.sh [--skip-peer] [--levels 0,100,500] [--only get,transfers,remittances,noisy,observability,provision,lending,events,portal,tontine,trading,portfolio]
# 1. Release build; `nzila dev` on its own state folder and ports (fsync on).
# 2. Provisioning: POST /v1/tenants p50/p95 at 0/100/500 existing tenants, beside the one-transaction floor
#    (../shared/bench/anchors/floor.py on a pg_dump --schema-only of our tenant schema, same cluster).
# 3. GET /v1/accounts/{id} under wrk -t2 -c16 -d15s through the data plane and PgBouncer, round trips per request,
#    then the same load on the django-tenants peer (anchors/peer-up.sh), and the ratio.
# Results: $OUT (default /tmp/nzila-bench/results), summary printed at the end. Nothing here is asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ANCHORS=$(cd ../shared/bench/anchors 2>/dev/null && pwd || true)
SKIP_PEER=0 LEVELS=0,100,500 ONLY=all
while [ $# -gt 0 ]; do
  case $1 in --skip-peer) SKIP_PEER=1 ;; --levels) LEVELS=$2; shift ;; --only) ONLY=$2; shift ;; *) echo "unknown $1" >&2; exit 2 ;; esac
  shift
done
BENCH=${BENCH:-/tmp/nzila-bench}
STATE=$BENCH/state OUT=${OUT:-$BENCH/results}
CP=18180 DP=18181
rm -rf "$OUT"; mkdir -p "$OUT"
bash ops/install-deps.sh wrk
python3 -c 'import psycopg2' 2>/dev/null || pip install -q psycopg2-binary
python3 -c 'import websockets' 2>/dev/null || pip install -q websockets
# The events run holds 10,000 WebSockets: the plane (and the client) need the descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
swift build -c release --product nzila --scratch-path .build-release 2>&1 | tail -1
NZ=$ROOT/.build-release/release/nzila

rm -rf "$STATE"
# The throughput runs drive one token far past a member app's rate: the platform's rate ceiling is lifted for them.
# The tontine run moves the platform's clock, so the stack runs on a test clock when it is asked for (it goes last).
TEST_CLOCK=""
if [ "$ONLY" = all ] || [[ ",$ONLY," == *",tontine,"* ]] || [[ ",$ONLY," == *",trading,"* ]] || [[ ",$ONLY," == *",portfolio,"* ]]; then TEST_CLOCK=--test-clock; fi
# The trading run writes its own ticks and runs its own sweeps, the portfolio run its own snapshot: the plane's
# ingestion, matcher and snapshot service only run when the clock moves (and once at start).
NZILA_MARKET_INGEST_SECONDS=3600 NZILA_TRADING_MATCH_SECONDS=3600 NZILA_TRADING_SNAPSHOT_SECONDS=3600 \
NZILA_RATE_TENANT_PER_SECOND=10000000 NZILA_RATE_TENANT_BURST=10000000 NZILA_RATE_CALLER_PER_SECOND=10000000 NZILA_RATE_CALLER_BURST=10000000 \
NZILA_LOG_LEVEL=warning "$NZ" dev --state "$STATE" --pg-port 55462 --bouncer-port 56462 --control-port $CP --data-port $DP $TEST_CLOCK \
  > "$OUT/dev.log" 2>&1 &
DEV_PID=$! BUILT_PID=""
# Stops what this script started; on every exit, and explicitly before the summary.
stop_all() {
  for pid in $BUILT_PID $DEV_PID; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in $BUILT_PID $DEV_PID; do wait "$pid" 2>/dev/null || true; done
  BUILT_PID="" DEV_PID=""
}
trap stop_all EXIT
for _ in $(seq 1 600); do [ -f "$STATE/dev.json" ] && break; sleep 0.1; done
[ -f "$STATE/dev.json" ] || { cat "$OUT/dev.log"; exit 1; }
J=$STATE/dev.json
get() { python3 -c "import json,sys;d=json.load(open('$J'));print(eval('d'+sys.argv[1]))" "$1"; }
MEMBER=$(get "['demo_member']['token']")
ACCOUNT=$(curl -fsS -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo' "http://127.0.0.1:$DP/v1/accounts?limit=1" |
  python3 -c 'import json,sys;print(json.load(sys.stdin)["data"][0]["id"])')
URL=http://127.0.0.1:$DP/v1/accounts/$ACCOUNT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/machine.txt"

want() { [ "$ONLY" = all ] || [[ ",$ONLY," == *",$1,"* ]]; }
# The reference write transaction (anchors/xfer_rls.sql: role + forced RLS) through our PgBouncer, once per run.
pgbench_rls() {
  [ -n "$ANCHORS" ] && [ ! -f "$OUT/pgbench-xfer-rls.txt" ] || return 0
  . "$STATE/secrets.env"
  PGPASSWORD=$NZILA_OWNER_PASSWORD psql -q -h 127.0.0.1 -p 55462 -U nzila_owner -d nzila -v ON_ERROR_STOP=1 -f "$ANCHORS/pgbench_setup.sql" >/dev/null 2>&1
  PGPASSWORD=$NZILA_OWNER_PASSWORD psql -q -h 127.0.0.1 -p 55462 -U nzila_owner -d nzila -c "GRANT app_rw TO nzila_owner" >/dev/null
  C0=$(cpu)
  PGPASSWORD=$NZILA_OWNER_PASSWORD pgbench -h 127.0.0.1 -p 56462 -U nzila_owner -n -f "$ANCHORS/xfer_rls.sql" -c 8 -j 2 -T 15 \
    -M extended --max-tries=10 nzila 2>/dev/null | tee "$OUT/pgbench-xfer-rls.txt" | grep -E "^tps|latency average"
  echo "CPU during the pgbench run: $(cpu_share "$C0" "$(cpu)" 15)" | tee -a "$OUT/cpu-transfers.txt"
}
# CPU seconds used so far by each kind of process (nzila, postgres, pgbouncer, wrk, pgbench), as "name=secs ...".
cpu() {
  python3 - <<'PY'
import os
tick = os.sysconf("SC_CLK_TCK"); use = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try: stat = open("/proc/%s/stat" % pid).read()
    except OSError: continue
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    if name in ("nzila", "postgres", "pgbouncer", "wrk", "pgbench", "python3"):
        use[name] = use.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
print(" ".join("%s=%.1f" % kv for kv in sorted(use.items())))
PY
}
# The CPU each kind of process used between two `cpu` snapshots, per second of a run of $3 seconds.
cpu_share() {
  python3 -c '
import sys
a = dict(kv.split("=") for kv in sys.argv[1].split()); b = dict(kv.split("=") for kv in sys.argv[2].split())
print(", ".join("%s %.0f%%" % (k, 100 * (float(b[k]) - float(a.get(k, 0))) / float(sys.argv[3])) for k in sorted(b)))' "$1" "$2" "$3"
}
: > "$OUT/roundtrips.txt"
if want get; then
echo "== round trips per request (PgBouncer SHOW STATS)"
sleep 1.2
RT=$(bash ops/bench/roundtrips.sh "$STATE" 200 "$URL" -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo')
sleep 1.2
RT=$(bash ops/bench/roundtrips.sh "$STATE" 200 "$URL" -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo')
echo "GET /v1/accounts/{id}: $RT database round trips per request" | tee -a "$OUT/roundtrips.txt"

echo "== wrk: nzila GET /v1/accounts/{id}"
wrk -t2 -c16 -d3s -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo' "$URL" >/dev/null
wrk -t2 -c16 -d15s --latency -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo' "$URL" | tee "$OUT/wrk-nzila.txt"
fi
if want transfers; then

echo "== transfers: POST /v1/transfers under wrk -c16, beside pgbench xfer_rls.sql through the same PgBouncer"
STAFF=$(get "['demo_staff']['token']")
MEMBERS=$(curl -fsS -H "Authorization: Bearer $STAFF" -H 'X-Tenant: demo' "http://127.0.0.1:$DP/v1/members?limit=3" |
  python3 -c 'import json,sys;print(" ".join(m["id"] for m in json.load(sys.stdin)["data"]))')
: > "$OUT/accounts.txt"
i=0
for m in $MEMBERS; do
  for _ in $(seq 1 200); do
    i=$((i + 1))
    id=$(curl -fsS -X POST -H "Authorization: Bearer $STAFF" -H 'X-Tenant: demo' -H 'Content-Type: application/json' \
      -d "{\"kind\":\"savings\",\"currency\":\"CAD\",\"member_id\":\"$m\"}" "http://127.0.0.1:$DP/v1/accounts" |
      python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
    curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $STAFF" -H 'X-Tenant: demo' -H 'Content-Type: application/json' \
      -H "Idempotency-Key: seed-$id" -d "{\"account_id\":\"$id\",\"amount\":10000000,\"currency\":\"CAD\"}" "http://127.0.0.1:$DP/v1/deposits"
    echo "$id" >> "$OUT/accounts.txt"
  done
done
# The member app's path: the demo member moving money between 200 of their own accounts (not audited).
: > "$OUT/member-accounts.txt"
for _ in $(seq 1 200); do
  id=$(curl -fsS -X POST -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo' -H 'Content-Type: application/json'     -d '{"kind":"savings","currency":"CAD"}' "http://127.0.0.1:$DP/v1/accounts" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
  curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $STAFF" -H 'X-Tenant: demo' -H 'Content-Type: application/json'     -H "Idempotency-Key: seed-$id" -d "{\"account_id\":\"$id\",\"amount\":10000000,\"currency\":\"CAD\"}" "http://127.0.0.1:$DP/v1/deposits"
  echo "$id" >> "$OUT/member-accounts.txt"
done
XRT=$(bash ops/bench/roundtrips.sh "$STATE" 1 "http://127.0.0.1:$DP/v1/transfers" -X POST -H "Authorization: Bearer $STAFF" -H 'X-Tenant: demo' \
  -H 'Content-Type: application/json' -H "Idempotency-Key: rt-$RANDOM$RANDOM" \
  -d "{\"from_account_id\":\"$(sed -n 1p "$OUT/accounts.txt")\",\"to_account_id\":\"$(sed -n 2p "$OUT/accounts.txt")\",\"amount\":1,\"currency\":\"CAD\"}")
echo "POST /v1/transfers: $XRT database round trips per request" | tee -a "$OUT/roundtrips.txt"
export ACCOUNTS_FILE=$OUT/member-accounts.txt TOKEN=$MEMBER TENANT=demo
wrk -t2 -c16 -d3s -s ops/bench/transfers.lua "http://127.0.0.1:$DP" >/dev/null
C0=$(cpu)
wrk -t2 -c16 -d15s --latency -s ops/bench/transfers.lua "http://127.0.0.1:$DP" | tee "$OUT/wrk-transfers.txt"
echo "CPU during the member transfer run (100% = one core): $(cpu_share "$C0" "$(cpu)" 15)" | tee "$OUT/cpu-transfers.txt"
# Staff moving members' money: the same statement plus its audit row.
export ACCOUNTS_FILE=$OUT/accounts.txt TOKEN=$STAFF
wrk -t2 -c16 -d15s --latency -s ops/bench/transfers.lua "http://127.0.0.1:$DP" | tee "$OUT/wrk-transfers-staff.txt"
for f in wrk-transfers.txt wrk-transfers-staff.txt; do
  if grep -q "Non-2xx" "$OUT/$f"; then echo "$f: transfers answered errors: that figure is not a transfer rate" >&2; fi
done
pgbench_rls
echo "verify-ledger after the storm of transfers:"
"$NZ" tenants verify-ledger demo --state "$STATE"
fi

if want remittances; then
echo "== remittances end to end: quote + order through the data plane, worker and sandbox partners to delivered"
C0=$(cpu) T0=$(date +%s.%N)
python3 ops/bench/remittances.py "$J" --state "$STATE" --members "${REMIT_MEMBERS:-400}" --per-member 5 --concurrency 16 \
  --out "$OUT/remittances.json" | tee "$OUT/remittances.txt"
echo "CPU during the remittance run: $(cpu_share "$C0" "$(cpu)" "$(python3 -c "import time;print(time.time()-$T0)")")" | tee -a "$OUT/remittances.txt"
echo "verify-ledger after the remittances:"
"$NZ" tenants verify-ledger demo --state "$STATE" | tee -a "$OUT/remittances.txt"
pgbench_rls
fi

# A second data plane on the same database, with its own environment, on $2; waits until it answers.
second_plane() {
  env "${@:3}" NZILA_LOG_LEVEL=${PLANE_LOG_LEVEL:-warning} "$NZ" data-plane --state "$STATE" --port "$2" \
    --jwks-url "http://127.0.0.1:$CP/.well-known/jwks.json" > "$OUT/$1.log" 2>&1 &
  BUILT_PID=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$2/health" 2>/dev/null && return 0; sleep 0.1; done
  echo "the $1 data plane did not start" >&2; return 1
}
stop_second() { kill -INT "$BUILT_PID" 2>/dev/null; wait "$BUILT_PID" 2>/dev/null || true; BUILT_PID=""; }

if want noisy; then
echo "== noisy neighbour: a quiet tenant's p99 while the demo tenant floods, with and without the per-tenant rate limit"
second_plane data-limited 18183 NZILA_RATE_TENANT_PER_SECOND=200 NZILA_RATE_TENANT_BURST=400 \
  NZILA_RATE_CALLER_PER_SECOND=10000000 NZILA_RATE_CALLER_BURST=10000000
python3 ops/bench/noisy.py "$J" --limited 18183 --unlimited $DP --rate "${NOISY_RATE:-3000}" --out "$OUT/noisy.json" | tee "$OUT/noisy.txt"
stop_second
fi

if want observability; then
echo "== the cost of request logs and metrics: GET /v1/accounts/{id} under wrk -c16 on two planes, with and without"
# Eight runs, alternating (ABBA twice), so drift in the shared machine's load cancels out. Beside req/s (which the
# machine's other tenants move by several percent between identical runs), the plane's own CPU time per request,
# from /proc, which they move far less.
round=0
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
UNLIMITED="NZILA_RATE_TENANT_PER_SECOND=10000000 NZILA_RATE_TENANT_BURST=10000000 NZILA_RATE_CALLER_PER_SECOND=10000000 NZILA_RATE_CALLER_BURST=10000000"
# One measured run on the second plane (already started): 3 s of warm-up, then 15 s with its CPU ticks.
measure_get() {
  wrk -t2 -c16 -d3s -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo' "http://127.0.0.1:18184/v1/accounts/$ACCOUNT" >/dev/null
  local before; before=$(cpu_ticks "$BUILT_PID")
  wrk -t2 -c16 -d15s --latency -H "Authorization: Bearer $MEMBER" -H 'X-Tenant: demo' "http://127.0.0.1:18184/v1/accounts/$ACCOUNT" > "$OUT/$1"
  echo "cpu_ticks $(( $(cpu_ticks "$BUILT_PID") - before )) hz $(getconf CLK_TCK)" >> "$OUT/$1"
  grep -E "Requests/sec|99%|cpu_ticks" "$OUT/$1"
  stop_second
}
for variant in quiet observed observed quiet quiet observed observed quiet; do
  round=$((round + 1))
  if [ $variant = quiet ]; then
    second_plane data-$variant 18184 NZILA_METRICS=off $UNLIMITED
  else
    PLANE_LOG_LEVEL=info second_plane data-$variant 18184 $UNLIMITED
  fi
  measure_get "wrk-$variant-$round.txt"
done
echo "request log lines written by the observed plane: $(grep -c '"msg":"request"' "$OUT/data-observed.log" || true)"
# Then tracing on as well (every request sampled), exporting OTLP/HTTP to a stand-in collector, twice.
python3 ops/bench/otlp_sink.py 4319 "$OUT/otlp.txt" & SINK_PID=$!
for round in 9 10; do
  PLANE_LOG_LEVEL=info second_plane data-traced 18184 $UNLIMITED OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4319
  measure_get "wrk-traced-$round.txt"
done
kill "$SINK_PID" 2>/dev/null || true
echo "spans exported to the stand-in collector: $(cat "$OUT/otlp.txt" 2>/dev/null || echo none)"
fi

if want provision; then

echo "== provisioning through POST /v1/tenants, beside the one-transaction floor for our tenant schema"
. "$STATE/secrets.env"
PGPORT=55462
runuser -u nzila -- psql -h "$STATE" -p $PGPORT -U postgres -d postgres -qc "ALTER ROLE postgres PASSWORD '$NZILA_OWNER_PASSWORD'"
# floor.py times DDL + RLS as one message; grants are ours alone, so they are left out of its script.
PGPASSWORD=$NZILA_OWNER_PASSWORD pg_dump -h 127.0.0.1 -p $PGPORT -U postgres --schema-only -n t_demo nzila |
  sed 's/\bt_demo\b/t001/g' | grep -vE '^(GRANT|REVOKE|ALTER DEFAULT PRIVILEGES) ' > "$OUT/t001_schema.sql"
FLOOR=""
if [ -n "$ANCHORS" ]; then
  FLOOR="PGPASSWORD=$NZILA_OWNER_PASSWORD python3 $ANCHORS/floor.py $OUT/t001_schema.sql nzila --runs 20 --variant plain --port $PGPORT --out \$FLOOR_OUT"
fi
# A second control plane on the same database without a warm pool: every tenant it provisions is built.
BUILT_PORT=18182
NZILA_LOG_LEVEL=warning "$NZ" control-plane --state "$STATE" --port $BUILT_PORT --warm-pool 0 > "$OUT/control-built.log" 2>&1 &
BUILT_PID=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$BUILT_PORT/health" 2>/dev/null && break; sleep 0.1; done
python3 ops/bench/provision_bench.py "$J" --levels "$LEVELS" --samples 20 --out "$OUT/provision.json" ${FLOOR:+--floor "$FLOOR"} \
  --built-url "http://127.0.0.1:$BUILT_PORT" --dsn "host=127.0.0.1 port=$PGPORT dbname=nzila user=nzila_owner password=$NZILA_OWNER_PASSWORD" --pool-size 8
kill -INT $BUILT_PID 2>/dev/null; wait $BUILT_PID 2>/dev/null || true
BUILT_PID=""
fi

PEER_RPS=""
if [ $SKIP_PEER = 0 ] && [ -n "$ANCHORS" ] && want get; then
  echo "== wrk: django-tenants peer GET /api/accounts/1/"
  bash "$ANCHORS/peer-up.sh" 10
  wrk -t2 -c16 -d3s -H 'Host: t001.peer.test' http://127.0.0.1:8801/api/accounts/1/ >/dev/null
  wrk -t2 -c16 -d15s --latency -H 'Host: t001.peer.test' http://127.0.0.1:8801/api/accounts/1/ | tee "$OUT/wrk-peer.txt"
  bash "$ANCHORS/peer-down.sh" || true
fi

if want lending; then
echo "== lending: 10,000 schedules (loan quotes), then 1,000 repayments at once, beside pgbench xfer_rls.sql"
pgbench_rls
TPS=$(grep -oP "tps = \K[\d.]+" "$OUT/pgbench-xfer-rls.txt" 2>/dev/null | head -1 || true)
C0=$(cpu) T0=$(date +%s.%N)
python3 ops/bench/lending.py "$J" --state "$STATE" --members "${LENDING_MEMBERS:-250}" --loans "${LENDING_LOANS:-1000}" \
  --quotes "${LENDING_QUOTES:-10000}" ${TPS:+--pgbench-tps "$TPS"} --out "$OUT/lending.json" | tee "$OUT/lending.txt"
echo "CPU during the lending run: $(cpu_share "$C0" "$(cpu)" "$(python3 -c "import time;print(time.time()-$T0)")")" | tee -a "$OUT/lending.txt"
echo "verify-ledger after the lending run:"
"$NZ" tenants verify-ledger demo --state "$STATE" | tee -a "$OUT/lending.txt"
fi

if want events; then
echo "== events: 10,000 authenticated WebSockets, deposits fanned out at 1,000/s, then webhook deliveries to a local receiver"
pgbench_rls
TPS=$(grep -oP "tps = \K[\d.]+" "$OUT/pgbench-xfer-rls.txt" 2>/dev/null | head -1 || true)
C0=$(cpu) T0=$(date +%s.%N)
python3 ops/bench/events.py "$J" --pid "$DEV_PID" --members "${EVENT_MEMBERS:-200}" --connections "${EVENT_CONNECTIONS:-10000}" \
  --rate "${EVENT_RATE:-1000}" --seconds "${EVENT_SECONDS:-20}" --webhooks "${EVENT_WEBHOOKS:-5000}" ${TPS:+--pgbench-tps "$TPS"} \
  --out "$OUT/events.json" | tee "$OUT/events.txt"
echo "CPU during the events run: $(cpu_share "$C0" "$(cpu)" "$(python3 -c "import time;print(time.time()-$T0)")")" | tee -a "$OUT/events.txt"
fi

if want portal; then
echo "== portal: each staff page server-rendered at the demo's size, p99 and round trips; every page mixed from 8 clients"
PEER_ARGS=()
if [ $SKIP_PEER = 0 ] && [ -n "$ANCHORS" ]; then
  # The reference in the same run: django-tenants' one-row JSON GET, timed by the same client.
  bash "$ANCHORS/peer-up.sh" 10 >/dev/null && PEER_ARGS=(--peer-url http://127.0.0.1:8801/api/accounts/1/)
fi
C0=$(cpu) T0=$(date +%s.%N)
python3 ops/bench/portal.py "$J" --state "$STATE" --members "${PORTAL_MEMBERS:-500}" --accounts "${PORTAL_ACCOUNTS:-100}" \
  "${PEER_ARGS[@]}" --out "$OUT/portal.json" | tee "$OUT/portal.txt"
echo "CPU during the portal run: $(cpu_share "$C0" "$(cpu)" "$(python3 -c "import time;print(time.time()-$T0)")")" | tee -a "$OUT/portal.txt"
[ ${#PEER_ARGS[@]} -gt 0 ] && { bash "$ANCHORS/peer-down.sh" || true; }
fi

# Last: it moves the platform clock a day ahead, which ends the dev tokens the runs above use.
if want tontine; then
echo "== tontine: 1,000 circles of 10 autopay members due at the same moment, settled by the scheduler"
pgbench_rls
TPS=$(grep -oP "tps = \K[\d.]+" "$OUT/pgbench-xfer-rls.txt" 2>/dev/null | head -1 || true)
C0=$(cpu) T0=$(date +%s.%N)
python3 ops/bench/tontine.py "$J" --state "$STATE" --members "${TONTINE_MEMBERS:-1000}" --circles "${TONTINE_CIRCLES:-1000}" --size 10 \
  ${TPS:+--pgbench-tps "$TPS"} --out "$OUT/tontine.json" | tee "$OUT/tontine.txt"
echo "CPU during the tontine run: $(cpu_share "$C0" "$(cpu)" "$(python3 -c "import time;print(time.time()-$T0)")")" | tee -a "$OUT/tontine.txt"
echo "verify-ledger after the tontine run:"
"$NZ" tenants verify-ledger demo --state "$STATE" | tee -a "$OUT/tontine.txt"
fi

# After the tontine run (it moves the clock too): a weekday morning in Lagos, Johannesburg, Nairobi and Abidjan.
if want trading; then
echo "== trading: order placement beside pgbench xfer_rls.sql, then one tick over ${TRADING_TENANTS:-1000} tenants x ${TRADING_ORDERS:-100} working orders"
pgbench_rls
TPS=$(grep -oP "tps = \K[\d.]+" "$OUT/pgbench-xfer-rls.txt" 2>/dev/null | head -1 || true)
C0=$(cpu) T0=$(date +%s.%N)
python3 ops/bench/trading.py "$J" --state "$STATE" --nzila "$NZ" --placements "${TRADING_PLACEMENTS:-5000}" --tenants "${TRADING_TENANTS:-1000}" \
  --orders "${TRADING_ORDERS:-100}" ${TPS:+--pgbench-tps "$TPS"} --out "$OUT/trading.json" | tee "$OUT/trading.txt"
echo "CPU during the trading run: $(cpu_share "$C0" "$(cpu)" "$(python3 -c "import time;print(time.time()-$T0)")")" | tee -a "$OUT/trading.txt"
fi

# Last (it moves the clock and seeds 100,000 paper accounts): the nightly snapshot, analytics, the leaderboard.
if want portfolio; then
echo "== portfolio: the nightly snapshot of ${PORTFOLIO_TENANTS:-1000} tenants x ${PORTFOLIO_ACCOUNTS:-100} paper accounts, analytics over 3 years, the leaderboard under wrk"
[ -f "$OUT/pgbench-xfer-rls.txt" ] || pgbench_rls
TPS=$(grep -oP "tps = \K[\d.]+" "$OUT/pgbench-xfer-rls.txt" 2>/dev/null | head -1 || true)
C0=$(cpu) T0=$(date +%s.%N)
python3 ops/bench/portfolio.py "$J" --state "$STATE" --nzila "$NZ" --tenants "${PORTFOLIO_TENANTS:-1000}" --accounts "${PORTFOLIO_ACCOUNTS:-100}" \
  ${TPS:+--pgbench-tps "$TPS"} --out "$OUT/portfolio.json" | tee "$OUT/portfolio.txt"
echo "CPU during the portfolio run: $(cpu_share "$C0" "$(cpu)" "$(python3 -c "import time;print(time.time()-$T0)")")" | tee -a "$OUT/portfolio.txt"
fi

stop_all
python3 - "$OUT" <<'PY'
import json, os, re, sys
out = sys.argv[1]
def wrk(name):
    p = os.path.join(out, name)
    if not os.path.exists(p): return None
    t = open(p).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    def lat(q):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % q, t)
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v
    return {"rps": rps, "p50_ms": lat("50"), "p99_ms": lat("99")}
ours, peer = wrk("wrk-nzila.txt"), wrk("wrk-peer.txt")
print("\n== summary (%s)" % open(os.path.join(out, "machine.txt")).read().strip())
print(open(os.path.join(out, "roundtrips.txt")).read().strip())
if ours:
    print("nzila  GET account: %.0f req/s, p50 %.2f ms, p99 %.2f ms" % (ours["rps"], ours["p50_ms"], ours["p99_ms"]))
if ours and peer:
    print("django-tenants GET account: %.0f req/s, p50 %.2f ms, p99 %.2f ms" % (peer["rps"], peer["p50_ms"], peer["p99_ms"]))
    print("ratio nzila / django-tenants req/s: %.1fx (aim >= 5x)" % (ours["rps"] / peer["rps"]))
pg = os.path.join(out, "pgbench-xfer-rls.txt")
tps = float(re.search(r"tps = ([\d.]+)", open(pg).read()).group(1)) if os.path.exists(pg) else None
if tps: print("pgbench xfer_rls.sql through PgBouncer (-c8): %.0f tps" % tps)
rj = os.path.join(out, "remittances.json")
if os.path.exists(rj):
    r = json.load(open(rj))
    line = ("nzila  remittances end to end: %.0f/hour (%d delivered of %d in %.1f s; order p50 %.1f ms, p99 %.1f ms; %.1f round trips each)"
            % (r["delivered_per_hour"], r["delivered"], r["orders"], r["end_to_end_seconds"], r["order_p50_ms"], r["order_p99_ms"], r["round_trips_per_remittance"]))
    line += "; / 2028 target 5,000/hour = %.0fx (aim 100x)" % (r["delivered_per_hour"] / 5000)
    if tps: line += "; one remittance per %.1f reference transactions (pgbench xfer_rls tps / remittances per s)" % (tps / (r["delivered_per_hour"] / 3600))
    print(line)
for name, label in [("wrk-transfers.txt", "member, own accounts"), ("wrk-transfers-staff.txt", "staff, audited")]:
    xfer = wrk(name)
    if xfer and "Non-2xx" in open(os.path.join(out, name)).read():
        print("nzila  POST transfer (%s): errors under load (see %s), no figure" % (label, name))
        continue
    if xfer:
        line = "nzila  POST transfer (%s): %.0f req/s, p50 %.2f ms, p99 %.2f ms" % (label, xfer["rps"], xfer["p50_ms"], xfer["p99_ms"])
        if tps: line += "; / raw = %.2f (aim >= 0.5)" % (xfer["rps"] / tps)
        print(line)
if wrk("wrk-transfers.txt"):
    cpu = os.path.join(out, "cpu-transfers.txt")
    if os.path.exists(cpu): print(open(cpu).read().strip())
def cpu_us(name):
    m = re.search(r"cpu_ticks (\d+) hz (\d+)", open(os.path.join(out, name)).read())
    r = wrk(name)
    return int(m.group(1)) * 1e6 / int(m.group(2)) / (r["rps"] * 15) if m and r else None
runs = sorted((f for f in os.listdir(out) if re.match(r"wrk-(quiet|observed|traced)-\d+\.txt$", f)), key=lambda f: int(f.split("-")[-1][:-4]))
quiet = [f for f in runs if "-quiet-" in f]
observed = [f for f in runs if "-observed-" in f]
traced = [f for f in runs if "-traced-" in f]
if quiet and observed:
    # Medians: one run of the shared machine going astray does not move them.
    med = lambda xs: sorted(xs)[len(xs) // 2] if len(xs) % 2 else (sorted(xs)[len(xs) // 2 - 1] + sorted(xs)[len(xs) // 2]) / 2
    q = med([wrk(f)["rps"] for f in quiet]); o = med([wrk(f)["rps"] for f in observed])
    print("GET account with request logs + metrics: %.0f req/s vs %.0f without (medians of %d and %d alternated runs): %.1f%% fewer requests/s (aim < 10%%); "
          "p99 %.2f vs %.2f ms" % (o, q, len(observed), len(quiet), 100 * (1 - o / q), med([wrk(f)["p99_ms"] for f in observed]), med([wrk(f)["p99_ms"] for f in quiet])))
    qc = [c for c in map(cpu_us, quiet) if c]; oc = [c for c in map(cpu_us, observed) if c]
    if qc and oc:
        print("  data plane CPU per request: %.1f us with logs + metrics vs %.1f us without (medians): %.1f%% more (runs: %s / %s)"
              % (med(oc), med(qc), 100 * (med(oc) / med(qc) - 1), " ".join("%.0f" % c for c in oc), " ".join("%.0f" % c for c in qc)))
    tc = [c for c in map(cpu_us, traced) if c]
    if tc:
        t = med([wrk(f)["rps"] for f in traced])
        print("  with tracing on as well (every request sampled, OTLP/HTTP to a local sink): %.0f req/s, %.1f us CPU per request: %.1f%% more than logs + metrics alone"
              % (t, med(tc), 100 * (med(tc) / med(oc) - 1)))
pt = os.path.join(out, "portal.txt")
if os.path.exists(pt): print("\n".join(l for l in open(pt).read().splitlines() if l.startswith(("nzila  portal", "peer "))))
lj = os.path.join(out, "lending.txt")
if os.path.exists(lj): print("\n".join(l for l in open(lj).read().splitlines() if l.startswith(("nzila  lending", "ok ", "FAILED"))))
rj = os.path.join(out, "trading.txt")
if os.path.exists(rj): print("\n".join(l for l in open(rj).read().splitlines() if l.startswith(("nzila  trading", "ok ", "FAILED"))))
rj = os.path.join(out, "portfolio.txt")
if os.path.exists(rj): print("\n".join(l for l in open(rj).read().splitlines() if l.startswith("nzila  portfolio")))
tj = os.path.join(out, "tontine.txt")
if os.path.exists(tj): print("\n".join(l for l in open(tj).read().splitlines() if l.startswith(("nzila  tontine", "ok ", "FAILED"))))
nz = os.path.join(out, "noisy.txt")
if os.path.exists(nz): print(open(nz).read().strip())
pj = os.path.join(out, "provision.json")
prov = json.load(open(pj)) if os.path.exists(pj) else []
for row in prov:
    line = "provision at %d tenants: p50 %.1f ms, p95 %.1f ms" % (row["existing_tenants"], row["p50_ms"], row["p95_ms"])
    floor = row.get("floor_p50_ms")
    if floor: line += "; / floor p50 %.1f ms (same moment) = %.2fx (aim <= 1.5x)" % (floor, row["p50_ms"] / floor)
    line += "; / django-tenants clone 420 ms = %.2fx" % (row["p50_ms"] / 420)
    print(line)
    if row.get("claimed_p50_ms"):
        print("provision at %d tenants, claimed from the warm pool: p50 %.1f ms, p95 %.1f ms (aim p50 < 25 ms); django-tenants clone 420 ms / ours = %.0fx (aim > 15x)"
              % (row["existing_tenants"], row["claimed_p50_ms"], row["claimed_p95_ms"], 420 / row["claimed_p50_ms"]))
PY
