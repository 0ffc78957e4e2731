#!/usr/bin/env python3
"""Lending (ops/bench/run.sh --only lending).

Set-up (not timed): the demo tenant's `lending` section approves every score (so each application is disbursable),
a loan product (12% declining balance, 1% fee, 3-24 months), `--members` members each with a CAD account and an
opening deposit, and `--loans` loans applied for and disbursed (the schedule of each written at disbursement).

Timed, each beside its round trips (PgBouncer SHOW STATS over the pool-group databases):
1. Schedules: `--quotes` POST /v1/loan-quotes (a schedule to the cent and its APR by bisection, in Decimal) at
   `--concurrency`, for principals and terms spread over the product's ranges.
2. Repayments: one repayment per loan, all at once from `--concurrency` clients (each loan once: its row is the
   repayment's lock), each allocated and posted as one journal; repayments per second and the ratio to the
   reference transfer transaction (pgbench xfer_rls.sql) when its tps is given.
Nothing is asserted here.
"""
import argparse, json, sys, time, urllib.parse, uuid

sys.path.insert(0, __import__("os").path.dirname(__file__))
from tontine import Client, enrol, env, in_threads, pool_group_queries  # noqa: E402  (the same client, pool and counter)



def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--state", required=True)
    p.add_argument("--members", type=int, default=250)
    p.add_argument("--loans", type=int, default=1000)
    p.add_argument("--quotes", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--pgbench-tps", type=float)
    p.add_argument("--out")
    return p.parse_args()


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    base, token, admin = dev["data_plane_url"], dev["demo_staff"]["token"], dev["admin"]["token"]
    values = env(args.state)
    direct = urllib.parse.urlparse(values["NZILA_DIRECT_URL"])
    bouncer_port = urllib.parse.urlparse(values["NZILA_PGBOUNCER_URL"]).port
    password = urllib.parse.unquote(direct.password)
    clients = [Client(base, token) for _ in range(args.concurrency)]
    run = uuid.uuid4().hex[:8]

    def bouncer_queries():
        return pool_group_queries(bouncer_port, direct.username, password)

    t0 = time.time()
    cp = Client(dev["control_plane_url"], admin, tenant=None)
    cp.conn.request("GET", "/v1/tenants/demo/config", headers=cp.headers)
    response = cp.conn.getresponse()
    etag, config = response.getheader("ETag"), json.loads(response.read())["config"]
    config["lending"] = {"approve_at": 300, "decline_below": 300}
    headers = dict(cp.headers, **{"If-Match": etag})
    cp.conn.request("PUT", "/v1/tenants/demo/config", body=json.dumps({"config": config, "reason": "lending benchmark"}), headers=headers)
    response = cp.conn.getresponse()
    assert response.status == 200, (response.status, response.read())
    response.read()

    s, product = clients[0].call("POST", "/v1/loan-products", {
        "name": "Bench micro-loan %s" % run, "currency": "CAD", "principal_range": {"min_minor": 10_000, "max_minor": 500_000},
        "term_range": {"min": 3, "max": 24}, "frequency": "monthly", "annual_rate_bps": 1_200, "method": "declining_balance",
        "origination_fee": {"fixed_minor": 0, "bps": 100}, "grace_instalments": 0, "late_penalty": {"fixed_minor": 500, "bps": 500, "grace_days": 3}})
    assert s == 201, (s, product)

    members = sorted(in_threads(args.concurrency, lambda i, n: enrol(
        clients[i], "borrower-%s-%d@example.com" % (run, n), "Borrower %d" % n, "bench password %d!" % n, 10_000_000, "ln-dep-"), range(args.members)))

    def lend(i, n):
        c = clients[i]
        member, account = members[n % len(members)]
        s, loan = c.call("POST", "/v1/loans", {"product_id": product["id"], "principal": {"amount": 100_000 + 100 * n, "currency": "CAD"},
                                               "term": 12, "purpose": "bench", "account_id": account, "member_id": member}, key="ln-apply-%s-%d" % (run, n))
        assert s == 201 and loan["state"] == "approved", (s, loan)
        s, done = c.call("POST", "/v1/loans/%s/disburse" % loan["id"], key="ln-disburse-%s-%d" % (run, n))
        assert s == 200, (s, done)
        return (loan["id"], account)

    loans = in_threads(args.concurrency, lend, range(args.loans))
    print("set-up: %d members, %d loans applied for and disbursed, in %.1f s" % (len(members), len(loans), time.time() - t0), flush=True)

    # 1. Schedules.
    def quote(i, n):
        s, q = clients[i].call("POST", "/v1/loan-quotes", {"product_id": product["id"], "principal": {"amount": 10_000 + (n * 4_999) % 490_000,
                                                                                                       "currency": "CAD"}, "term": 3 + n % 22})
        assert s == 200, (s, q)
        return len(q["instalments"])

    q0, started = bouncer_queries(), time.time()
    lines = sum(in_threads(args.concurrency, quote, range(args.quotes)))
    quote_seconds = time.time() - started
    quote_trips = float(bouncer_queries() - q0) / args.quotes

    # 2. Repayments, one per loan, all at once.
    def repay(i, item):
        loan, account = item
        s, r = clients[i].call("POST", "/v1/loans/%s/repayments" % loan, {"amount": 5_000, "account_id": account}, key="ln-repay-" + loan)
        assert s == 201, (s, r)
        return 1

    q0, started = bouncer_queries(), time.time()
    repaid = sum(in_threads(args.concurrency, repay, loans))
    repay_seconds = time.time() - started
    repay_trips = float(bouncer_queries() - q0) / max(1, repaid)

    report = {
        "quotes": args.quotes, "instalments": lines, "quote_seconds": quote_seconds, "quotes_per_second": args.quotes / quote_seconds,
        "round_trips_per_quote": quote_trips, "loans": len(loans), "repayments": repaid, "repay_seconds": repay_seconds,
        "repayments_per_second": repaid / repay_seconds, "round_trips_per_repayment": repay_trips,
    }
    print("nzila  lending schedules: %d quotes (%d instalments, principal and term over the product's ranges) in %.1f s = %.0f schedules/s; "
          "%.1f round trips per quote" % (args.quotes, lines, quote_seconds, report["quotes_per_second"], quote_trips))
    line = ("nzila  lending repayments: %d at once over %d clients in %.1f s = %.0f repayments/s; %.1f round trips per repayment"
            % (repaid, args.concurrency, repay_seconds, report["repayments_per_second"], repay_trips))
    if args.pgbench_tps:
        report["pgbench_xfer_rls_tps"] = args.pgbench_tps
        report["ratio_to_pgbench"] = report["repayments_per_second"] / args.pgbench_tps
        line += "; / pgbench xfer_rls %.0f tps = %.2f" % (args.pgbench_tps, report["ratio_to_pgbench"])
    print(line)
    if args.out:
        json.dump(report, open(args.out, "w"), indent=2, default=float)


if __name__ == "__main__":
    main()
