#!/usr/bin/env bash
# Fleet migration and provisioning at scale, beside django-tenants, in one run on this machine (issue 6).
#   ops/bench/fleet.sh [--sizes 50,200,1000] [--skip-peer] [--concurrency C]
# For each N: a fresh `nzila dev` (own state folder and ports, fsync on, no warm pool so every tenant is built
# as the reference's are), then ops/bench/fleet.py: provision N tenants through POST /v1/tenants (each timed),
# seed the reference's shape, and time `nzila migrate apply` of the reference's v2 change (NOT NULL boolean with
# a constant default + index on the largest table) with its default waves and concurrency.
# Then, unless --skip-peer, the django-tenants reference for the sizes up to 200 with the scripts of
# ../shared/bench/anchors (provision.sh plain, py/seed.py, migrate_fleet.sh multiprocessing 2): the same change on
# the same shape, timed the same way (process start to exit). Source databases are kept between runs (djt_fleetN).
# Results: $OUT (default /tmp/nzila-bench/fleet); a summary with ratios at the end. Nothing here is asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ANCHORS=$(cd ../shared/bench/anchors 2>/dev/null && pwd || true)
SIZES=50,200,1000 SKIP_PEER=0 CONCURRENCY=""
while [ $# -gt 0 ]; do
  case $1 in --sizes) SIZES=$2; shift ;; --skip-peer) SKIP_PEER=1 ;; --concurrency) CONCURRENCY=$2; shift ;; *) echo "unknown $1" >&2; exit 2 ;; esac
  shift
done
BENCH=${BENCH:-/tmp/nzila-bench}
OUT=${OUT:-$BENCH/fleet}
PG=55463 PGB=56463 CP=18190 DP=18191
rm -rf "$OUT"; mkdir -p "$OUT"
bash ops/install-deps.sh
python3 -c 'import psycopg2' 2>/dev/null || pip install -q psycopg2-binary
swift build -c release --product nzila --scratch-path .build-release 2>&1 | tail -1
NZ=$ROOT/.build-release/release/nzila
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/machine.txt"

DEV_PID=""
stop_dev() { if [ -n "$DEV_PID" ]; then kill -INT "$DEV_PID" 2>/dev/null; wait "$DEV_PID" 2>/dev/null || true; DEV_PID=""; fi; }
trap stop_dev EXIT
for N in ${SIZES//,/ }; do
  STATE=$BENCH/fleet-state-$N
  rm -rf "$STATE"
  NZILA_LOG_LEVEL=warning "$NZ" dev --state "$STATE" --pg-port $PG --bouncer-port $PGB --control-port $CP --data-port $DP --warm-pool 0 \
    > "$OUT/dev-$N.log" 2>&1 &
  DEV_PID=$!
  for _ in $(seq 1 600); do [ -f "$STATE/dev.json" ] && break; sleep 0.1; done
  [ -f "$STATE/dev.json" ] || { cat "$OUT/dev-$N.log"; exit 1; }
  echo "== nzila, N=$N"
  python3 ops/bench/fleet.py --nzila "$NZ" --state "$STATE" --n "$N" --out "$OUT/nzila-$N.json" ${CONCURRENCY:+--concurrency $CONCURRENCY} \
    --checkpoint "runuser -u nzila -- psql -h $STATE -p $PG -U postgres -d nzila -qc CHECKPOINT"
  stop_dev
  rm -rf "$STATE"
done

if [ $SKIP_PEER = 0 ] && [ -n "$ANCHORS" ]; then
  bash "$ANCHORS/peer-down.sh" >/dev/null 2>&1 || true
  (
    . "$ANCHORS/env.sh"
    [ -x "$VENV/bin/python" ] || { echo "no django-tenants venv at $VENV: run $ANCHORS/peer-up.sh once" >&2; exit 1; }
    mkdir -p "$ANCH/runs"
    "$PEER_SRC/pg.sh" init >/dev/null && "$PEER_SRC/pg.sh" start >/dev/null
    for N in ${SIZES//,/ }; do
      [ "$N" -le 200 ] || continue
      DB=djt_fleet$N
      have=$(psql -d "$DB" -Atc "SELECT count(*) FROM customers_client WHERE schema_name ~ '^t[0-9]+\$'" 2>/dev/null || echo 0)
      if [ "$have" != "$N" ]; then
        echo "== django-tenants: provisioning and seeding $N tenants (kept as $DB for later runs)"
        bash "$ANCHORS/provision.sh" plain "$N" "$DB" >/dev/null
        python "$PEER_SRC/py/seed.py" "$DB" > "$ANCH/runs/seed-$DB.json"
      fi
      echo "== django-tenants, N=$N: migrate_schemas --executor=multiprocessing (2 processes)"
      bash "$ANCHORS/migrate_fleet.sh" "$DB" multiprocessing 2 | tee "$OUT/peer-$N.txt"
    done
    "$PEER_SRC/pg.sh" stop >/dev/null
  )
fi

python3 - "$OUT" "$SIZES" <<'PY'
import json, os, re, sys
out, sizes = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
print("\n== fleet summary (%s)" % open(os.path.join(out, "machine.txt")).read().strip())
ours = {}
for n in sizes:
    p = os.path.join(out, "nzila-%d.json" % n)
    if not os.path.exists(p): continue
    r = ours[n] = json.load(open(p))
    v = r["verify"]
    line = "nzila N=%d: migrate apply %.2f s, %.0f tenants/s (verified %d/%d/%d of %d)" % (
        n, r["migrate_wall_s"], r["tenants_per_s"], v["column"], v["index"], v["version"], v["tenants"])
    peer = os.path.join(out, "peer-%d.txt" % n)
    if os.path.exists(peer):
        m = re.search(r"wall_s=([\d.]+)", open(peer).read())
        if m:
            line += "; django-tenants multiprocessing %.2f s -> %.1fx (aim >= 10x at N=200)" % (float(m.group(1)), float(m.group(1)) / r["migrate_wall_s"])
    print(line)
    print("  provisioning per tenant while the fleet grew to %d: p50 %.1f ms, p95 %.1f ms; first 20 %.1f ms, last 20 %.1f ms; p50 per tenth %s" % (
        n, r["provision_p50_ms"], r["provision_p95_ms"], r["provision_first20_p50_ms"], r["provision_last20_p50_ms"], r["provision_p50_by_tenth_ms"]))
ns = sorted(ours)
for a, b in zip(ns, ns[1:]):
    print("growth N=%d -> %d (%.1fx tenants): migrate time %.2fx (linear or better when <= %.1f)" % (
        a, b, b / a, ours[b]["migrate_wall_s"] / ours[a]["migrate_wall_s"], b / a))
if ns:
    r = ours[ns[0]]
    print("shape per tenant: %d tables, %d indexes (django-tenants reference: 41 tables, 159 indexes); 50 members, 100 accounts, 5,000 entries"
          % (r["tenant_tables"], r["tenant_indexes"]))
PY
