"""Fleet benchmark, one size: provision N tenants, seed them, then time `nzila migrate apply` of one change.

usage: fleet.py --nzila BIN --state STATE --n N --out OUT.json [--concurrency C]
STATE is a running `nzila dev` (started with --warm-pool 0, so every tenant is built, as the reference's are).
1. Provisions N tenants one after another through POST /v1/tenants, timing each: provisioning time per tenant
   as the fleet grows (the first and last 20, and per tenth of the run).
2. Seeds each tenant, in SQL as the owner on a direct connection, with the reference's shape
   (../shared/bench/peers/django-tenants/py/seed.py): 50 members, 100 accounts, 5,000 account transactions
   (2,500 balanced deposit journals, two entries each, through the ledger's own triggers).
3. Copies the project's SQL (Migrations/, policies/, TenantTemplates/) and adds the reference's v2 change as
   tenant migration N+1: a NOT NULL boolean with a constant default plus an index on the largest table
   (`entries`: aml_flag, created_at). Times `nzila migrate apply` with its defaults (waves 1,10%,100%,
   concurrency 4 unless --concurrency), as an operator runs it, process start to exit.
4. Checks every tenant schema has the column and the index and is at the new version.
Prints one summary line; writes the figures to OUT.json. Nothing is asserted.
"""
import argparse, concurrent.futures, json, os, shutil, statistics, subprocess, tempfile, time, urllib.request, uuid

import psycopg2

ap = argparse.ArgumentParser()
ap.add_argument("--nzila", required=True); ap.add_argument("--state", required=True); ap.add_argument("--n", type=int, required=True)
ap.add_argument("--out", required=True); ap.add_argument("--concurrency", type=int, default=None)
ap.add_argument("--root", default=os.getcwd())
ap.add_argument("--checkpoint", default=None, help="a shell command run just before the timed apply (a CHECKPOINT, as the reference does)")
a = ap.parse_args()
dev = json.load(open(os.path.join(a.state, "dev.json")))
secrets = dict(l.strip().split("=", 1) for l in open(os.path.join(a.state, "secrets.env")) if "=" in l and not l.startswith("#"))
urls = dict(l.strip().split("=", 1) for l in open(os.path.join(a.state, "urls.env")) if "=" in l and not l.startswith("#"))
dsn = dict(host="127.0.0.1", port=int(urls["NZILA_DIRECT_URL"].rsplit(":", 1)[1].split("/")[0]), dbname="nzila", user="nzila_owner",
           password=secrets["NZILA_OWNER_PASSWORD"].strip("'\""))
run = uuid.uuid4().hex[:4]

def pct(xs, p):
    xs = sorted(xs); return xs[int(round(p * (len(xs) - 1)))]

# 1. Provisioning, timed per tenant.
tenants, times = [], []
for i in range(a.n):
    slug = "f%s_%05d" % (run, i)
    body = json.dumps({"slug": slug, "name": "Fleet CU %d" % i}).encode()
    req = urllib.request.Request(dev["control_plane_url"] + "/v1/tenants", data=body, method="POST", headers={
        "Authorization": "Bearer " + dev["admin"]["token"], "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        record = json.load(r)
    times.append((time.perf_counter() - t0) * 1000)
    tenants.append((slug, record["id"]))
tenths = [round(statistics.median(times[k * a.n // 10:(k + 1) * a.n // 10]), 1) for k in range(10)] if a.n >= 10 else []

# 2. Seed: the reference's shape, through the ledger's triggers, two tenants at a time.
SEED = """
SELECT set_config('search_path', %(schema)s, true), set_config('app.tenant_id', %(id)s, true);
INSERT INTO members (id, email, full_name, password_hash, phone)
SELECT gen_random_uuid(), 'member' || g || '@fleet.test', 'Member ' || g, '$argon2id$seed$' || md5(g::text), '+1555' || lpad(g::text, 7, '0')
FROM generate_series(1, 50) g;
INSERT INTO accounts (id, member_id, kind, currency, floor_minor, name)
SELECT gen_random_uuid(), m.id, k, 'CAD', 0, k || ' ' || m.email FROM members m, unnest(ARRAY['chequing', 'savings']) k;
INSERT INTO journals (id, kind, memo, created_at)
SELECT md5('j' || g)::uuid, 'deposit', 'seed ' || g, now() - g * interval '10 minutes' FROM generate_series(1, 2500) g;
WITH member_accounts AS (SELECT array_agg(id ORDER BY id) AS ids FROM accounts WHERE member_id IS NOT NULL),
     cash AS (SELECT id FROM accounts WHERE kind = 'cash' AND currency = 'CAD')
INSERT INTO entries (journal_id, account_id, amount_minor, currency, created_at)
SELECT md5('j' || g)::uuid, x.account, x.amount, 'CAD', now() - g * interval '10 minutes'
FROM generate_series(1, 2500) g, member_accounts, cash,
     LATERAL (VALUES (cash.id, -(100 + g %% 9000)::bigint), (member_accounts.ids[1 + g %% 100], (100 + g %% 9000)::bigint)) AS x (account, amount);
"""

def seed(chunk):
    with psycopg2.connect(**dsn) as conn:
        for slug, tid in chunk:
            with conn.cursor() as cur:
                cur.execute(SEED, {"schema": "t_" + slug, "id": tid})
            conn.commit()

t0 = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(2) as pool:
    list(pool.map(seed, [tenants[0::2], tenants[1::2]]))
seed_s = time.perf_counter() - t0

# 3. The change, as a new tenant migration in a copy of the project's SQL.
home = tempfile.mkdtemp(prefix="nzila-fleet-")
for folder in ["Migrations", "policies", "TenantTemplates"]:
    shutil.copytree(os.path.join(a.root, folder), os.path.join(home, folder))
tenant_dir = os.path.join(home, "Migrations", "tenant")
latest = max(int(f[:4]) for f in os.listdir(tenant_dir) if f.endswith(".sql"))
with open(os.path.join(tenant_dir, "%04d_aml_flag.sql" % (latest + 1)), "w") as f:
    f.write("-- Benchmark only: the django-tenants reference's v2 change (bank 0002), on our largest table.\n"
            "ALTER TABLE entries ADD COLUMN aml_flag boolean NOT NULL DEFAULT false;\n"
            "CREATE INDEX entries_aml_flag_time ON entries (aml_flag, created_at);\n")
with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
    cur.execute("SELECT count(*), pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname LIKE 't\\_f' || %s || '\\_%%' AND c.relname = 'entries'", (run,))
    entries_tables, entries_size = cur.fetchone()
    cur.execute("SELECT count(*) FILTER (WHERE c.relkind = 'r'), count(*) FILTER (WHERE c.relkind = 'i') FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s", ("t_" + tenants[0][0],))
    shape_tables, shape_indexes = cur.fetchone()
if a.checkpoint:
    subprocess.run(a.checkpoint, shell=True, check=True)
env = dict(os.environ, NZILA_HOME=home, NZILA_LOG_LEVEL="error")
cmd = [a.nzila, "migrate", "apply", "--state", a.state] + (["--concurrency", str(a.concurrency)] if a.concurrency else [])
t0 = time.perf_counter()
done = subprocess.run(cmd, env=env, capture_output=True, text=True)
wall = time.perf_counter() - t0
open(a.out + ".apply.log", "w").write(done.stdout + done.stderr)

# 4. Every tenant has the change and the version.
with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
    cur.execute("""
        SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pg_attribute x WHERE x.attrelid = ('t_' || t.slug || '.entries')::regclass AND x.attname = 'aml_flag')),
               count(*) FILTER (WHERE to_regclass('t_' || t.slug || '.entries_aml_flag_time') IS NOT NULL),
               count(*) FILTER (WHERE t.schema_version = %s), count(*)
        FROM control.tenants t WHERE t.slug LIKE 'f' || %s || '\\_%%'""", (latest + 1, run))
    with_column, with_index, at_version, total = cur.fetchone()
shutil.rmtree(home, ignore_errors=True)

row = {"n": a.n, "exit": done.returncode, "migrate_wall_s": round(wall, 2), "tenants_per_s": round(a.n / wall, 1),
       "verify": {"column": with_column, "index": with_index, "version": at_version, "tenants": total},
       "provision_p50_ms": round(statistics.median(times), 1), "provision_p95_ms": round(pct(times, 0.95), 1),
       "provision_first20_p50_ms": round(statistics.median(times[:20]), 1), "provision_last20_p50_ms": round(statistics.median(times[-20:]), 1),
       "provision_p50_by_tenth_ms": tenths, "seed_s": round(seed_s, 1), "entries_tables": entries_tables, "entries_total_size": entries_size,
       "tenant_tables": shape_tables, "tenant_indexes": shape_indexes}
json.dump(row, open(a.out, "w"), indent=1)
print("N=%d: migrate apply %.2f s wall, %.1f tenants/s, exit %d, verified column %d/index %d/version %d of %d; "
      "provisioning p50 %.1f ms (first 20 %.1f, last 20 %.1f; per tenth %s); seed %.0f s; %d tables, %d indexes per tenant" % (
          a.n, wall, a.n / wall, done.returncode, with_column, with_index, at_version, total, row["provision_p50_ms"],
          row["provision_first20_p50_ms"], row["provision_last20_p50_ms"], tenths, seed_s, shape_tables, shape_indexes), flush=True)
