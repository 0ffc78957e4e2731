#!/usr/bin/env python3
"""Paper trading's part 2 (ops/bench/run.sh --only portfolio; needs `nzila dev --test-clock`, with the plane's own
snapshot service slowed by NZILA_TRADING_SNAPSHOT_SECONDS so only this script's snapshot runs while it measures).

0. The platform clock moves to the next weekday at 11:00 UTC (the day D whose snapshot is taken in step 2 is the
   weekday before it).
1. Set-up (not timed beyond what it prints): `--tenants` tenants provisioned through POST /v1/tenants, each seeded in
   SQL as the owner with `--accounts` members, each with a paper account holding three instruments (so 100,000
   accounts with the defaults). In the demo tenant, `--accounts` more members with public profiles and `--days` of
   daily snapshots each (three years by default), the analytics' and leaderboards' subject; three years of the
   benchmark index's bars (SPTSX) where the feed has none.
2. The nightly snapshot, timed: one `nzila trading snapshot` (the snapshot service's sweep: every tenant's accounts
   valued at D's cutoff, written, then every period's leaderboard figures recomputed from the snapshots, the demo
   tenant's from three years of them): seconds, snapshots per second, round trips per tenant (PgBouncer SHOW STATS).
3. Analytics of one account over three years of days (GET /v1/trading/portfolio/analytics?from=…&benchmark=SPTSX):
   `--reads` requests from one client, p50/p99, round trips per request.
4. The leaderboard under wrk (-t2 -c16, 15 s): GET /v1/trading/leaderboard?period=3m, req/s and latency, and the
   ratio to the reference transfer transaction (pgbench xfer_rls.sql) measured in the same run when given.
Nothing is asserted here. The seeded accounts hold shares no fill bought (their cash is not start less fills), so
`verify-ledger` is not run on them.
"""
import argparse, datetime, json, os, re, subprocess, sys, time, urllib.parse, uuid

import psycopg2

sys.path.insert(0, os.path.dirname(__file__))
from tontine import Client, env, in_threads, pool_group_queries  # noqa: E402


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--state", required=True)
    p.add_argument("--nzila", required=True)
    p.add_argument("--tenants", type=int, default=1000)
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--days", type=int, default=756)
    p.add_argument("--reads", type=int, default=300)
    p.add_argument("--pgbench-tps", type=float)
    p.add_argument("--out")
    return p.parse_args()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def background_rate(port, user, password, seconds=10.0):
    """Statements per second through PgBouncer while this script sends nothing: the plane's own sweeps over every
    tenant (the event relay's, the notifications'). Bursty after the set-up, so it is printed beside the counts, never
    subtracted from them: the counts below are upper bounds."""
    q0, t0 = pool_group_queries(port, user, password), time.time()
    time.sleep(seconds)
    return float(pool_group_queries(port, user, password) - q0) / (time.time() - t0)


def weekdays_back(day, n):
    """The n weekdays before `day` (exclusive), oldest first."""
    out, d = [], day
    while len(out) < n:
        d -= datetime.timedelta(days=1)
        if d.weekday() < 5:
            out.append(d)
    return out[::-1]


SEED_ACCOUNTS = """
    SELECT set_config('search_path', %(schema)s, true), set_config('app.tenant_id', %(id)s, true);
    INSERT INTO members (id, email, full_name, password_hash, phone)
    SELECT m, 'trader' || g || '@bench.test', 'Bench Trader ' || g, '$argon2id$seed$' || md5(m::text), '+1555000' || lpad(g::text, 4, '0')
    FROM unnest(%(members)s::uuid[]) WITH ORDINALITY AS t(m, g);
    INSERT INTO trading_accounts (id, member_id, starting_cash_minor, cash_minor, reserved_minor, created_at)
    SELECT a, m, 10000000, 10000000 - 3 * 500000, 0, %(opened)s FROM unnest(%(accounts)s::uuid[], %(members)s::uuid[]) AS t(a, m);
    INSERT INTO trading_positions (account_id, symbol, qty, basis_e4, basis_cad_minor, updated_at)
    SELECT a, s.symbol, s.qty, s.basis_e4, 500000, %(opened)s FROM unnest(%(accounts)s::uuid[]) AS a
    CROSS JOIN unnest(%(symbols)s::text[], %(qtys)s::int8[], %(bases)s::int8[]) AS s(symbol, qty, basis_e4);
"""

SEED_HISTORY = """
    SELECT set_config('search_path', %(schema)s, true), set_config('app.tenant_id', %(id)s, true);
    INSERT INTO trading_profiles (member_id, display_name, public, copyable, created_at, updated_at)
    SELECT m, 'Bench ' || left(m::text, 8), true, true, %(opened)s, %(opened)s FROM unnest(%(members)s::uuid[]) AS m;
    INSERT INTO trading_snapshots (account_id, day, cash_minor, holdings_minor, value_minor, largest_holding_minor, taken_at)
    SELECT a, d, 8500000, h, 8500000 + h, h / 3, %(opened)s
    FROM unnest(%(accounts)s::uuid[]) WITH ORDINALITY AS t(a, k), unnest(%(days)s::date[]) WITH ORDINALITY AS s(d, n),
         LATERAL (SELECT (1500000 + 150000 * sin(n / 9.0 + k) + 400 * n * (k %% 3 - 1))::int8 AS h) v;
"""


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    base, admin = dev["data_plane_url"], dev["admin"]["token"]
    values = env(args.state)
    direct = urllib.parse.urlparse(values["NZILA_DIRECT_URL"])
    bouncer_port = urllib.parse.urlparse(values["NZILA_PGBOUNCER_URL"]).port
    password = urllib.parse.unquote(direct.password)
    dsn = dict(host="127.0.0.1", port=direct.port, dbname=direct.path.lstrip("/"), user=direct.username, password=password)
    run = uuid.uuid4().hex[:6]
    report = {}

    # 0. The next weekday, 11:00 UTC: D, the day the snapshot takes, is the weekday before it.
    cp = Client(dev["control_plane_url"], admin, tenant=None)
    s, state = cp.call("GET", "/v1/test-clock")
    if s != 200:
        sys.exit("portfolio bench: start nzila dev with --test-clock")
    now = datetime.datetime.fromisoformat(state["now"].replace("Z", "+00:00"))
    target = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(11, 0), tzinfo=datetime.timezone.utc)
    while target.weekday() >= 5:
        target += datetime.timedelta(days=1)
    s, moved = cp.call("POST", "/v1/test-clock/advance", {"seconds": int((target - now).total_seconds())})
    assert s == 200, (s, moved)

    def login(who):
        anon = Client(dev["control_plane_url"], "-", tenant=None)
        del anon.headers["Authorization"]
        s, body = anon.call("POST", "/v1/auth/login", {"email": dev[who]["email"], "password": dev[who]["password"]})
        assert s == 200, (who, s, body)
        return body["access_token"]

    admin, staff = login("admin"), login("demo_staff")
    day_d = weekdays_back(target.date(), 1)[0]
    history = weekdays_back(day_d, args.days)
    # The demo tenant's accounts opened before their three years; the others on D itself, so D is their one snapshot.
    opened = datetime.datetime.combine(history[0] - datetime.timedelta(days=1), datetime.time(12, 0), tzinfo=datetime.timezone.utc).isoformat()
    opened_on_d = datetime.datetime.combine(day_d, datetime.time(12, 0), tzinfo=datetime.timezone.utc).isoformat()
    print("clock: %s; the snapshot takes %s" % (target.isoformat(), day_d), flush=True)

    # Three holdings every account keeps (their bars exist: the ingestion stored them).
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT symbol, close_e4 FROM reference.daily_bars WHERE symbol IN ('DANGCEM', 'NPN', 'RY') AND day <= %s ORDER BY day DESC",
                    (day_d,))
        closes = {}
        for sym, close in cur.fetchall():
            closes.setdefault(sym, close)
        assert len(closes) == 3, "no bars for DANGCEM, NPN and RY on or before %s: %s" % (day_d, closes)
        holdings = sorted(closes)
        qtys = {"DANGCEM": 800, "NPN": 5, "RY": 30}
        bases = [closes[s] * qtys[s] for s in holdings]
        # The benchmark's bars for three years, where the feed stored none (values: a gentle walk).
        months = (day_d.year - history[0].year) * 12 + day_d.month - history[0].month + 1
        for start in range(0, months, 36):  # the function makes at most 36 months at a time
            first = datetime.date(history[0].year + (history[0].month - 1 + start) // 12, (history[0].month - 1 + start) % 12 + 1, 1)
            cur.execute("SELECT reference.ensure_bar_partitions(%s, %s)", (first, min(36, months - start)))
        cur.execute("""
            INSERT INTO reference.daily_bars (symbol, day, open_e4, high_e4, low_e4, close_e4, volume, source)
            SELECT 'SPTSX', d, c, c, c, c, 0, 'bench' FROM unnest(%s::date[]) WITH ORDINALITY AS t(d, n),
                 LATERAL (SELECT (310000000 + 9000000 * sin(n / 13.0) + 40000 * n)::int8 AS c) v
            ON CONFLICT DO NOTHING""", ([d.isoformat() for d in history + [day_d]],))
        conn.commit()

    # The demo tenant's members with three years of history, first (a mistake here shows before the long part).
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM control.tenants WHERE slug = 'demo'")
        demo_id = cur.fetchone()[0]
        members = [str(uuid.uuid4()) for _ in range(args.accounts)]
        accounts = [str(uuid.uuid4()) for _ in members]
        cur.execute(SEED_ACCOUNTS.replace("'trader' || g", "'%s-trader' || g" % run),
                    {"schema": "t_demo", "id": demo_id, "members": members, "accounts": accounts, "opened": opened, "symbols": holdings,
                     "qtys": [qtys[s] for s in holdings], "bases": bases})
        cur.execute(SEED_HISTORY, {"schema": "t_demo", "id": demo_id, "members": members, "accounts": accounts, "opened": opened,
                                   "days": [d.isoformat() for d in history]})
        conn.commit()
    # 1. Tenants, seeded in SQL.
    t0 = time.time()
    cpc = [Client(dev["control_plane_url"], admin, tenant=None) for _ in range(4)]

    def provision(i, n):
        slug = "pf%s_%04d" % (run, n)
        s, record = cpc[i].call("POST", "/v1/tenants", {"slug": slug, "name": "Portfolio CU %d" % n}, key=uuid.uuid4().hex)
        assert s == 201, (s, record)
        return (slug, record["id"])

    tenants = in_threads(4, provision, range(args.tenants))
    provision_seconds = time.time() - t0

    def seed(chunk):
        with psycopg2.connect(**dsn) as conn:
            for slug, tid in chunk:
                with conn.cursor() as cur:
                    members = [str(uuid.uuid4()) for _ in range(args.accounts)]
                    cur.execute(SEED_ACCOUNTS, {"schema": "t_" + slug, "id": tid, "members": members, "accounts": [str(uuid.uuid4()) for _ in members],
                                                "opened": opened_on_d, "symbols": holdings, "qtys": [qtys[s] for s in holdings], "bases": bases})
                conn.commit()
        return 1

    t1 = time.time()
    in_threads(2, lambda i, chunk: seed(chunk), [tenants[0::2], tenants[1::2]])
    seed_seconds = time.time() - t1
    total = args.tenants * args.accounts + args.accounts
    print("set-up: %d tenants provisioned in %.1f s; %d paper accounts seeded in %.1f s (the demo tenant's %d with %d days of snapshots each)"
          % (len(tenants), provision_seconds, total, seed_seconds, args.accounts, len(history)), flush=True)

    # 2. The nightly snapshot.
    idle = background_rate(bouncer_port, direct.username, password)
    print("background: %.1f statements/s through PgBouncer with nothing sent (included in the counts below: upper bounds)" % idle, flush=True)
    report["background_statements_per_second"] = idle
    q0, s0 = pool_group_queries(bouncer_port, direct.username, password), time.time()
    done = subprocess.run([args.nzila, "trading", "snapshot", "--state", args.state, "--test-clock", "--json"], capture_output=True, text=True,
                          env=dict(os.environ, NZILA_LOG_LEVEL="error"))
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    trips = float(pool_group_queries(bouncer_port, direct.username, password) - q0)
    report["snapshot"] = dict(figures, round_trips=trips)
    print("nzila  portfolio snapshot of %s: %d accounts in %d tenants in %.1f s = %.0f snapshots/s; %.1f statements per tenant through PgBouncer (leaderboards included; background too)"
          % (figures["day"], figures["snapshots"], figures["tenants"], figures["seconds"], figures["snapshots"] / max(figures["seconds"], 1e-9),
             trips / max(1, figures["tenants"])), flush=True)

    # 3. Analytics over three years.
    c = Client(base, staff)
    path = "/v1/trading/portfolio/analytics?member_id=%s&from=%s&benchmark=SPTSX" % (members[0], history[0].isoformat())
    s, body = c.call("GET", path)
    assert s == 200 and body["days"] >= len(history) - 1, (s, body)
    latencies = []
    q0, s0 = pool_group_queries(bouncer_port, direct.username, password), time.time()
    for _ in range(args.reads):
        t = time.perf_counter()
        s, _ = c.call("GET", path)
        latencies.append(time.perf_counter() - t)
        assert s == 200
    trips = float(pool_group_queries(bouncer_port, direct.username, password) - q0) / args.reads
    report["analytics"] = {"days": body["days"], "p50_ms": pct(latencies, 0.5) * 1000, "p99_ms": pct(latencies, 0.99) * 1000, "round_trips": trips}
    print("nzila  portfolio analytics over %d daily returns with a benchmark: p50 %.1f ms, p99 %.1f ms; %.1f statements per request (background too)"
          % (body["days"], report["analytics"]["p50_ms"], report["analytics"]["p99_ms"], trips), flush=True)

    # 4. The leaderboard under wrk.
    url = base + "/v1/trading/leaderboard?period=3m"
    s, board = c.call("GET", "/v1/trading/leaderboard?period=3m")
    assert s == 200 and len(board["data"]) > 0, (s, board)
    headers = ["-H", "Authorization: Bearer " + staff, "-H", "X-Tenant: demo"]
    subprocess.run(["wrk", "-t2", "-c16", "-d3s"] + headers + [url], capture_output=True)
    q0, s0 = pool_group_queries(bouncer_port, direct.username, password), time.time()
    out = subprocess.run(["wrk", "-t2", "-c16", "-d15s", "--latency"] + headers + [url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    trips = float(pool_group_queries(bouncer_port, direct.username, password) - q0) / max(1, requests)
    report["leaderboard"] = {"rps": rps, "p99": p99, "round_trips": trips, "rows": len(board["data"])}
    line = "nzila  portfolio leaderboard (3m, %d members, page of %d) under wrk -c16: %.0f req/s, p99 %s; %.1f statements per request (background too)" % (
        args.accounts, len(board["data"]), rps, p99, trips)
    if args.pgbench_tps:
        report["leaderboard"]["ratio_to_pgbench"] = rps / args.pgbench_tps
        line += "; / pgbench xfer_rls %.0f tps = %.2f" % (args.pgbench_tps, rps / args.pgbench_tps)
    print(line, flush=True)
    if args.out:
        json.dump(report, open(args.out, "w"), indent=2, default=float)


if __name__ == "__main__":
    main()
