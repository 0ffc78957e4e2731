#!/usr/bin/env python3
"""Paper trading (ops/bench/run.sh --only trading; needs `nzila dev --test-clock`, NZILA_TRADING_MATCH_SECONDS and
NZILA_MARKET_INGEST_SECONDS long, so that only this script's ticks and sweeps happen while it measures).

0. The platform clock moves to the next weekday at 11:00 UTC, when NGX, JSE, NSE and BRVM are in session.
1. Order placement (timed): `--placements` limit buys (one board lot at the lower band: they rest, never fill)
   through the data plane from `--concurrency` clients, for `--members` members of the demo tenant, each with an
   Idempotency-Key; orders per second, p50/p99 latency, round trips per order (PgBouncer SHOW STATS over the
   pool-group databases), and the ratio to the reference transfer transaction (pgbench xfer_rls.sql) when given.
2. The tick (set-up not timed): `--tenants` tenants provisioned through POST /v1/tenants, each seeded in SQL as the
   owner with one member, a paper account and `--orders` working limit buys spread over ten open instruments at ten
   price levels (level k: the lower band + 10 + k ticks). Then three ticks, each a quote written to reference.quotes
   as the ingestion would and one `nzila trading sweep` (the matcher's sweep, as the data plane runs it):
     quiet: every open symbol quoted above every order: the index finds nothing, no tenant is opened;
     1%:    one symbol's ask at level 9: one order per tenant is marketable (one fill in each of N tenants);
     1% again: the same on a third symbol, 16 tenants at once instead of the plane's default 8;
     10%:   another symbol's ask at level 0: ten orders per tenant.
   Each prints the index read time, the fills written and the whole sweep's time (the goal: within 1 s).
Nothing is asserted here; `nzila tenants verify-ledger` on a sample of tenants runs after.
"""
import argparse, datetime, json, os, subprocess, sys, time, urllib.parse, uuid
from decimal import ROUND_CEILING, Decimal

import psycopg2

sys.path.insert(0, os.path.dirname(__file__))
from tontine import Client, env, in_threads, pool_group_queries  # noqa: E402


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--state", required=True)
    p.add_argument("--nzila", required=True)
    p.add_argument("--members", type=int, default=50)
    p.add_argument("--placements", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--tenants", type=int, default=1000)
    p.add_argument("--orders", type=int, default=100)
    p.add_argument("--pgbench-tps", type=float)
    p.add_argument("--out")
    return p.parse_args()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def e4(text):
    """A decimal price string as ten-thousandths (exact)."""
    whole, _, frac = text.partition(".")
    return int(whole) * 10_000 + int((frac + "0000")[:4])


def text_e4(v):
    return "%d.%04d" % divmod(v, 10_000)


def tick_at(instrument, price_e4):
    """The tick size (e4) of the band `price_e4` falls in."""
    size = None
    for band in instrument["tick_sizes"]:
        if e4(band["from_price"]) <= price_e4:
            size = e4(band["value"])
    return size


def lot_at(instrument, price_e4):
    lot = None
    for band in instrument["board_lots"]:
        if e4(band["from_price"]) <= price_e4:
            lot = int(band["value"])
    return lot


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    base, staff, admin = dev["data_plane_url"], dev["demo_staff"]["token"], dev["admin"]["token"]
    values = env(args.state)
    direct = urllib.parse.urlparse(values["NZILA_DIRECT_URL"])
    bouncer_port = urllib.parse.urlparse(values["NZILA_PGBOUNCER_URL"]).port
    password = urllib.parse.unquote(direct.password)
    dsn = dict(host="127.0.0.1", port=direct.port, dbname=direct.path.lstrip("/"), user=direct.username, password=password)
    run = uuid.uuid4().hex[:6]
    report = {}

    # 0. A weekday morning in Lagos, Johannesburg, Nairobi and Abidjan.
    cp = Client(dev["control_plane_url"], admin, tenant=None)
    s, state = cp.call("GET", "/v1/test-clock")
    if s != 200:
        sys.exit("trading bench: start nzila dev with --test-clock")
    now = datetime.datetime.fromisoformat(state["now"].replace("Z", "+00:00"))
    target = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(11, 0), tzinfo=datetime.timezone.utc)
    while target.weekday() >= 5:
        target += datetime.timedelta(days=1)
    s, moved = cp.call("POST", "/v1/test-clock/advance", {"seconds": int((target - now).total_seconds())})
    assert s == 200, (s, moved)

    # The move outlives dev.json's tokens: sign in again (platform time) as the admin and the demo tenant's admin.
    def login(who):
        anon = Client(dev["control_plane_url"], "-", tenant=None)
        del anon.headers["Authorization"]
        s, body = anon.call("POST", "/v1/auth/login", {"email": dev[who]["email"], "password": dev[who]["password"]})
        assert s == 200, (who, s, body)
        return body["access_token"]

    admin, staff = login("admin"), login("demo_staff")
    c = Client(base, staff)
    # The plane follows the clock within a second; the ingestion stores that moment's quotes.
    deadline = time.time() + 60
    while True:
        s, page = c.call("GET", "/v1/market/instruments")
        assert s == 200, (s, page)
        instruments = {i["symbol"]: i for i in page["data"]}
        open_now = [i for i in page["data"] if i["open_now"] and i["kind"] == "equity"]
        s, quotes = c.call("GET", "/v1/market/quotes?symbols=" + ",".join(i["symbol"] for i in open_now[:100]))
        fresh = {q["symbol"]: q for q in (quotes.get("data") or []) if not q["stale"] and q["market_open"]} if s == 200 else {}
        if len(fresh) >= 11 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert len(fresh) >= 11, "fewer than 11 instruments in session with a fresh quote at %s: %s" % (target, sorted(fresh))
    assert fresh.get("DANGCEM", {}).get("band_low"), "DANGCEM (NGX) is not in session with a band at %s" % target
    print("clock: %s; %d instruments in session" % (target.isoformat(), len(fresh)), flush=True)

    # 1. Placement.
    clients = [Client(base, staff) for _ in range(args.concurrency)]
    symbol = "DANGCEM"
    low = fresh[symbol]["band_low"]
    lot = lot_at(instruments[symbol], e4(low))

    def member(i, n):
        cl = clients[i]
        s, m = cl.call("POST", "/v1/members", {"email": "trader-%s-%d@example.com" % (run, n), "full_name": "Trader %d" % n,
                                              "password": "bench password %d!" % n})
        assert s == 201, (s, m)
        s, a = cl.call("POST", "/v1/trading/account", {"member_id": m["id"]})
        assert s == 201, (s, a)
        return m["id"]

    members = in_threads(args.concurrency, member, range(args.members))
    latencies = []

    def place(i, n):
        t0 = time.perf_counter()
        s, o = clients[i].call("POST", "/v1/trading/orders", {
            "member_id": members[n % len(members)], "symbol": symbol, "side": "buy", "type": "limit", "qty": lot, "limit_price": low,
            "time_in_force": "gtc"}, key="tb-%s-%d" % (run, n))
        latencies.append(time.perf_counter() - t0)
        assert s == 201 and o["status"] == "new", (s, o)
        return 1

    q0, started = pool_group_queries(bouncer_port, direct.username, password), time.time()
    placed = sum(in_threads(args.concurrency, place, range(args.placements)))
    seconds = time.time() - started
    trips = float(pool_group_queries(bouncer_port, direct.username, password) - q0) / placed
    report["placement"] = {"orders": placed, "seconds": seconds, "orders_per_second": placed / seconds, "p50_ms": pct(latencies, 0.5) * 1000,
                           "p99_ms": pct(latencies, 0.99) * 1000, "round_trips_per_order": trips, "symbol": symbol}
    line = ("nzila  trading placement: %d limit orders (%s) over %d clients in %.1f s = %.0f orders/s; p50 %.1f ms, p99 %.1f ms; "
            "%.1f round trips per order" % (placed, symbol, args.concurrency, seconds, placed / seconds, report["placement"]["p50_ms"],
                                            report["placement"]["p99_ms"], trips))
    if args.pgbench_tps:
        report["placement"]["ratio_to_pgbench"] = placed / seconds / args.pgbench_tps
        line += "; / pgbench xfer_rls %.0f tps = %.2f" % (args.pgbench_tps, report["placement"]["ratio_to_pgbench"])
    print(line, flush=True)

    # 2. The tick: tenants, seeded in SQL.
    t0 = time.time()
    tenants = []

    def provision(i, n):
        slug = "tr%s_%04d" % (run, n)
        s, record = cpc[i].call("POST", "/v1/tenants", {"slug": slug, "name": "Trading CU %d" % n}, key=uuid.uuid4().hex)
        assert s == 201, (s, record)
        return (slug, record["id"])

    cpc = [Client(dev["control_plane_url"], admin, tenant=None) for _ in range(4)]
    tenants = in_threads(4, provision, range(args.tenants))
    provision_seconds = time.time() - t0
    # Ten instruments with a daily band (the levels hang from its lower end), not the one placement used.
    def room(x):
        low = e4(fresh[x]["band_low"])
        return (e4(fresh[x]["ask"]) - low) // tick_at(instruments[x], low)

    banded = sorted(x for x in fresh if fresh[x].get("band_low") and x != symbol and room(x) > 20)
    assert len(banded) >= 10, "fewer than 10 instruments in session with 20 ticks between band and ask: %s" % banded
    symbols = banded[:10]
    # Ten levels per symbol, from the lower band + 10 ticks: every order rests below the current ask.
    levels = {}
    for sym in symbols:
        base_e4 = e4(fresh[sym]["band_low"])
        step = tick_at(instruments[sym], base_e4)
        levels[sym] = [base_e4 + (10 + k) * step for k in range(10)]
        assert levels[sym][-1] < e4(fresh[sym]["ask"]), (sym, levels[sym], fresh[sym]["ask"])
    lots = {sym: lot_at(instruments[sym], levels[sym][0]) for sym in symbols}
    seed_sql = """
        SELECT set_config('search_path', %(schema)s, true), set_config('app.tenant_id', %(id)s, true);
        INSERT INTO members (id, email, full_name, password_hash, phone)
        VALUES (%(member)s, 'trader@bench.test', 'Bench Trader', '$argon2id$seed$' || md5(%(member)s), '+15550000001');
        INSERT INTO trading_accounts (id, member_id, starting_cash_minor, cash_minor, reserved_minor, created_at)
        VALUES (%(account)s, %(member)s, 10000000, 10000000, 0, %(now)s);
        INSERT INTO trading_orders (id, account_id, member_id, symbol, side, type, qty, limit_e4, time_in_force, status, reserved_minor,
                                    created_at, updated_at)
        SELECT gen_random_uuid(), %(account)s, %(member)s, o.symbol, 'buy', 'limit', o.qty, o.limit_e4, 'gtc', 'new', o.reserved,
               %(now)s::timestamptz + g * interval '1 microsecond', %(now)s
        FROM unnest(%(osym)s::text[], %(oqty)s::int8[], %(olimit)s::int8[], %(oreserved)s::int8[]) WITH ORDINALITY AS o (symbol, qty, limit_e4, reserved, g);
        UPDATE trading_accounts SET reserved_minor = (SELECT sum(reserved_minor) FROM trading_orders) WHERE id = %(account)s;
    """
    # Each order's reservation: limit x qty in CAD at the reference mid rate, times 1.5 plus a dollar (rounded up):
    # more than the placement rule holds back, and the cash covers them all. A fill releases it and takes the cost.
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
        rates = {}
        for sym in symbols:
            cur.execute("SELECT i.unit_minor, c.exponent, r.base, r.mid_rate FROM reference.instruments i "
                        "JOIN reference.currencies c ON c.code = i.currency LEFT JOIN reference.fx_rates r "
                        "ON (r.base = i.currency AND r.quote = 'CAD') OR (r.base = 'CAD' AND r.quote = i.currency) WHERE i.symbol = %s", (sym,))
            unit_minor, exponent, base_code, mid = cur.fetchone()
            currency = instruments[sym]["currency"]
            cad_per_major = Decimal(1) if currency == "CAD" else (Decimal(mid) if base_code == currency else 1 / Decimal(mid))
            rates[sym] = (Decimal(unit_minor) / Decimal(10) ** exponent, cad_per_major)
    orders = []
    for g in range(args.orders):
        sym, level = symbols[g % len(symbols)], (g // len(symbols)) % 10
        price = levels[sym][level]
        major_per_unit, cad_per_major = rates[sym]
        cost_cents = Decimal(price) / 10_000 * lots[sym] * major_per_unit * cad_per_major * 100
        reserved = int((cost_cents * Decimal("1.5")).to_integral_value(rounding=ROUND_CEILING)) + 100
        orders.append((sym, lots[sym], price, reserved))
    assert sum(o[3] for o in orders) <= 10_000_000, "the seeded orders would hold back more than the account's cash"
    stamp = target.isoformat()

    def seed(chunk):
        with psycopg2.connect(**dsn) as conn:
            for slug, tid in chunk:
                with conn.cursor() as cur:
                    cur.execute(seed_sql, {"schema": "t_" + slug, "id": tid, "member": str(uuid.uuid4()), "account": str(uuid.uuid4()), "now": stamp,
                                           "osym": [o[0] for o in orders], "oqty": [o[1] for o in orders], "olimit": [o[2] for o in orders],
                                           "oreserved": [o[3] for o in orders]})
                conn.commit()
        return 1

    t1 = time.time()
    in_threads(2, lambda i, chunk: seed(chunk), [tenants[0::2], tenants[1::2]])
    seed_seconds = time.time() - t1
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT tenant_id) FROM trading_index.working_orders")
        indexed, indexed_tenants = cur.fetchone()
    print("set-up: %d tenants provisioned in %.1f s, seeded with %d working orders each in %.1f s; the index holds %d orders of %d tenants"
          % (len(tenants), provision_seconds, args.orders, seed_seconds, indexed, indexed_tenants), flush=True)
    report["tick_setup"] = {"tenants": len(tenants), "orders_per_tenant": args.orders, "indexed_orders": indexed, "indexed_tenants": indexed_tenants}

    def tick(asks):
        """Writes one quote per symbol (ask as given, a large displayed size, fresh for an hour) as the ingestion would."""
        with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
            for sym, ask in asks.items():
                step = tick_at(instruments[sym], ask)
                cur.execute("UPDATE reference.quotes SET seq = seq + 1, ask_e4 = %s, bid_e4 = %s, ask_size = 1000000, bid_size = 1000000, "
                            "last_e4 = %s, quoted_at = %s, expires_at = %s::timestamptz + interval '1 hour' WHERE symbol = %s",
                            (ask, ask - step, ask, stamp, stamp, sym))
            conn.commit()

    def sweep(name, width=8):
        done = subprocess.run([args.nzila, "trading", "sweep", "--state", args.state, "--test-clock", "--json", "--width", str(width)],
                              capture_output=True, text=True,
                              env=dict(os.environ, NZILA_LOG_LEVEL="error"))
        assert done.returncode == 0, done.stderr
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["width"] = width
        report["tick_" + name] = figures
        print("nzila  trading tick %-8s over %d tenants x %d orders: %d books due in %d tenants, index read %.1f ms; %d fills written "
              "(%d tenants at once); sweep %.0f ms" % (name, len(tenants), args.orders, figures["due"], figures["tenants"],
                                                       figures["index_seconds"] * 1000, figures["fills"], width, figures["seconds"] * 1000), flush=True)
        return figures

    tick({sym: levels[sym][-1] + 10 * tick_at(instruments[sym], levels[sym][-1]) for sym in symbols})
    sweep("quiet")
    tick({symbols[0]: levels[symbols[0]][9]})
    sweep("1%")
    # The same again on another instrument: the server connections now know these tenants' tables.
    tick({symbols[2]: levels[symbols[2]][9]})
    sweep("1% again", width=16)
    tick({symbols[1]: levels[symbols[1]][0]})
    sweep("10%", width=16)

    sample = [slug for slug, _ in tenants[:: max(1, len(tenants) // 5)]]
    for slug in sample:
        done = subprocess.run([args.nzila, "tenants", "verify-ledger", slug, "--state", args.state], capture_output=True, text=True,
                              env=dict(os.environ, NZILA_LOG_LEVEL="error"))
        print(("ok " if done.returncode == 0 else "FAILED ") + "verify-ledger %s: %s" % (slug, (done.stdout + done.stderr).strip().splitlines()[-1:]))
    if args.out:
        json.dump(report, open(args.out, "w"), indent=2, default=float)


if __name__ == "__main__":
    main()
