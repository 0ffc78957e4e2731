"""Times POST /v1/tenants on a running control plane at several registry sizes.

usage: provision_bench.py DEV_JSON --levels 0,100,500 --samples 20 --out OUT.json [--floor "CMD"]
At each level it first provisions (untimed, through the same API) until that many bench tenants exist,
then, if --floor is given, runs CMD (which must write floor.py's JSON to the path in $FLOOR_OUT) so the
floor is measured on the same cluster at the same moment, then times `samples` more provisions one after
another. Prints p50/p95 per level, and the ratio to the floor.
"""
import argparse, json, os, statistics, subprocess, time, urllib.request, uuid

ap = argparse.ArgumentParser()
ap.add_argument("dev_json"); ap.add_argument("--levels", default="0,100,500"); ap.add_argument("--samples", type=int, default=20)
ap.add_argument("--out", required=True); ap.add_argument("--floor", default=None)
a = ap.parse_args()
dev = json.load(open(a.dev_json))
base, token = dev["control_plane_url"], dev["admin"]["token"]
run = uuid.uuid4().hex[:6]
made = 0

def provision():
    global made
    made += 1
    body = json.dumps({"slug": "b%s_%05d" % (run, made), "name": "Bench CU %d" % made}).encode()
    req = urllib.request.Request(base + "/v1/tenants", data=body, method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        assert r.status == 201, r.status
    return (time.perf_counter() - t0) * 1000

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
    ms = [provision() for _ in range(a.samples)]
    row = {"existing_tenants": existing, "floor_p50_ms": floor, "samples": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, 0.95), 1),
           "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1)}
    results.append(row)
    print("provision at %4d existing tenants: p50 %6.1f ms  p95 %6.1f ms  (n=%d)%s" % (existing, row["p50_ms"], row["p95_ms"], len(ms),
          "; floor p50 %.1f ms, ratio %.2fx" % (floor, row["p50_ms"] / floor) if floor else ""), flush=True)
json.dump(results, open(a.out, "w"), indent=1)
