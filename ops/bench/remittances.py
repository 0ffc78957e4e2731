#!/usr/bin/env python3
"""Remittances end to end through the data plane of a running `nzila dev` (ops/bench/run.sh --only remittances).

A teller sends N = members x per-member remittances of 10.00 CAD (CAD-NGN, mobile money, sandbox partners) for
members it enrols first (each gets a chequing account and an opening deposit). Each remittance is two requests --
POST /v1/quotes, then POST /v1/remittances (funded from the member's account) -- sent by `--concurrency` clients;
the data plane's worker converts and pays out through the sandbox partners. The clock runs from the first quote to
the last order delivered. Per-member counts stay inside the AML velocity rule (at most 5 an hour) and the tier-1
limit (500 CAD over 30 days), so no order is held or refused: anything else is reported, not hidden.

Prints placement throughput and latencies, end-to-end remittances per hour, the states orders ended in, and the
database round trips per remittance (PgBouncer SHOW STATS over the pool-group databases), and writes them as JSON.
Nothing is asserted here.
"""
import argparse, http.client, json, os, statistics, sys, time, urllib.parse, uuid

import psycopg2

sys.path.insert(0, os.path.dirname(__file__))
from tontine import env, in_threads  # noqa: E402  (the same state reader and thread pool)


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--state", required=True)
    p.add_argument("--members", type=int, default=400)
    p.add_argument("--per-member", type=int, default=5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--out")
    return p.parse_args()


class Client:
    """One keep-alive HTTP connection to the data plane, as the demo tenant's teller."""

    def __init__(self, base, token):
        u = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.headers = {"Authorization": "Bearer " + token, "X-Tenant": "demo", "Content-Type": "application/json"}

    def call(self, method, path, body=None, key=None):
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        started = time.perf_counter()
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {}), (time.perf_counter() - started) * 1000


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    base, token = dev["data_plane_url"], dev["demo_staff"]["token"]
    values = env(args.state)
    direct = urllib.parse.urlparse(values["NZILA_DIRECT_URL"])
    bouncer_port = urllib.parse.urlparse(values["NZILA_PGBOUNCER_URL"]).port
    db = psycopg2.connect(host=direct.hostname, port=direct.port, dbname="nzila", user=direct.username, password=urllib.parse.unquote(direct.password))
    db.autocommit = True
    with db.cursor() as cur:
        cur.execute("SELECT id FROM control.tenants WHERE slug = 'demo'")
        tenant_id = cur.fetchone()[0]
    clients = [Client(base, token) for _ in range(args.concurrency)]
    run = uuid.uuid4().hex[:8]

    # Set-up (not timed): members, accounts, opening deposits.
    def enrol(i, n):
        c = clients[i]
        s, m, _ = c.call("POST", "/v1/members", {"email": "bench-%s-%d@example.com" % (run, n), "full_name": "Bench Sender " + chr(65 + n % 26) * 2,
                                                 "password": "bench password %d!" % n})
        assert s == 201, (s, m)
        s, a, _ = c.call("POST", "/v1/accounts", {"kind": "chequing", "currency": "CAD", "member_id": m["id"]})
        assert s == 201, (s, a)
        s, d, _ = c.call("POST", "/v1/deposits", {"account_id": a["id"], "amount": 100_000, "currency": "CAD"}, key="bench-dep-" + a["id"])
        assert s == 201, (s, d)
        return (m["id"], a["id"])

    t0 = time.time()
    members = in_threads(args.concurrency, enrol, range(args.members))
    print("set-up: %d members with accounts and deposits in %.1f s" % (len(members), time.time() - t0), flush=True)

    def bouncer_queries():
        pg = psycopg2.connect(host="127.0.0.1", port=bouncer_port, dbname="pgbouncer", user=direct.username, password=urllib.parse.unquote(direct.password))
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute("SHOW STATS")
            cols = [c[0] for c in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        pg.close()
        return sum(r["total_query_count"] for r in rows if r["database"].startswith("nzila_g"))

    def states(since):
        with db.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
            cur.execute("SELECT state, count(*), max(updated_at) FROM t_demo.remittances WHERE created_at >= %s GROUP BY state", (since,))
            rows = cur.fetchall()
            cur.execute("COMMIT")
        return {s: (n, last) for s, n, last in rows}

    orders = [(m, a) for (m, a) in members for _ in range(args.per_member)]
    recipient = {"name": "Ada Bello", "country": "NG", "msisdn": "+2348031234567", "mobile_operator": "mtn"}
    quote_ms, order_ms, failures = [], [], []

    def send(i, item):
        member, account = item
        c = clients[i]
        s, q, ms_q = c.call("POST", "/v1/quotes", {"corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 1_000, "member_id": member})
        if s != 201:
            return ("quote", s, q)
        s, o, ms_o = c.call("POST", "/v1/remittances", {"quote_id": q["id"], "account_id": account, "recipient": recipient}, key=str(uuid.uuid4()))
        quote_ms.append(ms_q)
        order_ms.append(ms_o)
        return ("order", s, o.get("state") if s == 201 else o)

    with db.cursor() as cur:
        cur.execute("SELECT now()")
        since = cur.fetchone()[0]
    q0 = bouncer_queries()
    started = time.time()
    results = in_threads(args.concurrency, send, orders)
    placed_s = time.time() - started
    failures = [r for r in results if r[1] != 201]
    final = {}
    deadline = time.time() + 600
    while time.time() < deadline:
        final = states(since)
        if sum(n for s, (n, _) in final.items() if s in ("converting", "disbursing", "funded", "screening", "awaiting_funding", "created")) == 0:
            break
        time.sleep(0.2)
    delivered, last = final.get("delivered", (0, None))
    e2e_s = (last.timestamp() - started) if last else float("nan")
    q1 = bouncer_queries()

    def pct(values, p):
        return statistics.quantiles(values, n=100)[p - 1] if len(values) >= 2 else float("nan")

    report = {
        "orders": len(orders), "concurrency": args.concurrency, "placed_seconds": placed_s, "placed_per_second": len(orders) / placed_s,
        "quote_p50_ms": pct(quote_ms, 50), "quote_p99_ms": pct(quote_ms, 99),
        "order_p50_ms": pct(order_ms, 50), "order_p95_ms": pct(order_ms, 95), "order_p99_ms": pct(order_ms, 99),
        "delivered": delivered, "end_to_end_seconds": e2e_s, "delivered_per_hour": delivered / e2e_s * 3600 if last else 0,
        "states": {s: n for s, (n, _) in final.items()}, "failed_requests": len(failures),
        "round_trips_per_remittance": (q1 - q0) / max(1, len(orders)),
    }
    if failures:
        print("requests that failed (first 3):", failures[:3], file=sys.stderr)
    print("remittances: %d placed by %d clients in %.1f s (%.0f/s; quote p50 %.1f ms; order p50 %.1f ms, p95 %.1f ms, p99 %.1f ms)"
          % (len(orders), args.concurrency, placed_s, report["placed_per_second"], report["quote_p50_ms"], report["order_p50_ms"],
             report["order_p95_ms"], report["order_p99_ms"]))
    print("delivered %d of %d end to end in %.1f s: %.0f remittances/hour (2028 target 5,000/hour: %.0fx; aim 100x); states %s"
          % (delivered, len(orders), e2e_s, report["delivered_per_hour"], report["delivered_per_hour"] / 5000, report["states"]))
    print("database round trips per remittance (quote + order + worker): %.1f" % report["round_trips_per_remittance"])
    if args.out:
        json.dump(report, open(args.out, "w"), indent=2, default=str)


if __name__ == "__main__":
    main()
