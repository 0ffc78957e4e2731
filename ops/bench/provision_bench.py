"""Times POST /v1/tenants on a running control plane at several registry sizes.

usage: provision_bench.py DEV_JSON --levels 0,100,500 --samples 20 --out OUT.json [--floor "CMD"]
                          [--built-url URL --dsn DSN --pool-size N]
At each level it first provisions (untimed, through the same API) until that many bench tenants exist,
then, if --floor is given, runs CMD (which must write floor.py's JSON to the path in $FLOOR_OUT) so the
floor is measured on the same cluster at the same moment, then times `samples` more provisions one after
another. With --built-url (a second control plane on the same database started with --warm-pool 0) the
timed provisions there build each schema, and `samples` more on the dev control plane claim warm
schemas: before each burst of up to --pool-size it waits (polling --dsn) until the pool is full again.
Prints p50/p95 per level and mode, and the ratio to the floor.
"""
import argparse, json, os, statistics, subprocess, time, urllib.request, uuid

ap = argparse.ArgumentParser()
ap.add_argument("dev_json"); ap.add_argument("--levels", default="0,100,500"); ap.add_argument("--samples", type=int, default=20)
ap.add_argument("--out", required=True); ap.add_argument("--floor", default=None)
ap.add_argument("--built-url", default=None); ap.add_argument("--dsn", default=None); ap.add_argument("--pool-size", type=int, default=8)
a = ap.parse_args()
dev = json.load(open(a.dev_json))
base, token = dev["control_plane_url"], dev["admin"]["token"]
run = uuid.uuid4().hex[:6]
made = 0

def provision(url=None):
    global made
    made += 1
    body = json.dumps({"slug": "b%s_%05d" % (run, made), "name": "Bench CU %d" % made}).encode()
    req = urllib.request.Request((url or base) + "/v1/tenants", data=body, method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        assert r.status == 201, r.status
    return (time.perf_counter() - t0) * 1000

def pool_ready():
    import psycopg2
    with psycopg2.connect(a.dsn) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM control.warm_schemas WHERE schema_version = "
                    "(SELECT max(version) FROM control.schema_migrations WHERE kind = 'tenant')")
        return cur.fetchone()[0]

def claimed_samples(n):
    ms = []
    while len(ms) < n:
        deadline = time.time() + 120
        while pool_ready() < a.pool_size and time.time() < deadline:
            time.sleep(0.2)
        for _ in range(min(a.pool_size, n - len(ms))):
            ms.append(provision())
    return ms

def pct(xs, p):
    xs = sorted(xs); return xs[int(round(p * (len(xs) - 1)))]

for _ in range(5):   # warm the control plane's pool connections and caches; these count as existing tenants
    provision()
time.sleep(2)
results = []
for level in [int(x) for x in a.levels.split(",")]:
    while made < max(level, 5):
        provision()
    existing = made + 1   # bench tenants so far, plus the demo tenant
    floor = None
    if a.floor:
        path = "%s.floor-%d.json" % (a.out, level)
        subprocess.run(a.floor, shell=True, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, FLOOR_OUT=path))
        floor = json.load(open(path))["median_ms"]
    if a.built_url:
        ms = [provision(a.built_url) for _ in range(a.samples)]
        warm = claimed_samples(a.samples)
    else:
        ms, warm = [provision() for _ in range(a.samples)], None
    row = {"existing_tenants": existing, "floor_p50_ms": floor, "samples": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, 0.95), 1),
           "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1)}
    if warm:
        row.update({"claimed_p50_ms": round(statistics.median(warm), 1), "claimed_p95_ms": round(pct(warm, 0.95), 1),
                    "claimed_min_ms": round(min(warm), 1), "claimed_max_ms": round(max(warm), 1)})
    results.append(row)
    print("provision at %4d existing tenants: built p50 %6.1f ms  p95 %6.1f ms  (n=%d)%s%s" % (existing, row["p50_ms"], row["p95_ms"], len(ms),
          "; floor p50 %.1f ms, ratio %.2fx" % (floor, row["p50_ms"] / floor) if floor else "",
          "; claimed from the warm pool p50 %.1f ms  p95 %.1f ms" % (row["claimed_p50_ms"], row["claimed_p95_ms"]) if warm else ""), flush=True)
json.dump(results, open(a.out, "w"), indent=1)
