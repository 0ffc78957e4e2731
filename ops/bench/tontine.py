#!/usr/bin/env python3
"""Tontine cycles due at once (ops/bench/run.sh --only tontine; needs `nzila dev --test-clock`).

Set-up (not timed): `--members` members of the demo tenant, each with a CAD chequing account and an opening
deposit; `--circles` circles of `--size` members each (members are reused across circles, one position per circle),
every member on autopay, first due tomorrow (UTC), started. Then the platform's test clock is moved to the start
of the due day: every circle's first cycle falls due at the same moment, the data plane's tontine scheduler debits
each autopay member and pays each cycle's recipient. The clock runs from the move to the last cycle paid.

Prints cycles settled per second, contributions per second, database round trips per contribution (PgBouncer
SHOW STATS over the pool-group databases, payouts and the scheduler's own reads included), and the ratio of
contributions per second to the reference transfer transaction (pgbench xfer_rls.sql) when its tps is given.
Nothing is asserted here.
"""
import argparse, datetime, http.client, json, queue, sys, threading, time, urllib.parse, uuid

import psycopg2


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--state", required=True)
    p.add_argument("--members", type=int, default=1000)
    p.add_argument("--circles", type=int, default=1000)
    p.add_argument("--size", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--pgbench-tps", type=float)
    p.add_argument("--out")
    return p.parse_args()


class Client:
    def __init__(self, base, token, tenant="demo"):
        u = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        if tenant:
            self.headers["X-Tenant"] = tenant

    def call(self, method, path, body=None, key=None):
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {})


def in_threads(count, work, items):
    todo, results, lock = queue.Queue(), [], threading.Lock()
    for item in items:
        todo.put(item)

    errors = []

    def run(index):
        while not errors:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                result = work(index, item)
            except Exception as error:  # the set-up must be whole, or the figures mean nothing
                with lock:
                    errors.append(error)
                return
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("tontine bench set-up failed: %r" % (errors[0],))
    return results


def enrol(client, email, name, password, deposit_minor, key):
    """A member of the demo tenant with a CAD chequing account and an opening deposit: (member id, account id)."""
    s, m = client.call("POST", "/v1/members", {"email": email, "full_name": name, "password": password})
    assert s == 201, (s, m)
    s, a = client.call("POST", "/v1/accounts", {"kind": "chequing", "currency": "CAD", "member_id": m["id"]})
    assert s == 201, (s, a)
    s, d = client.call("POST", "/v1/deposits", {"account_id": a["id"], "amount": deposit_minor, "currency": "CAD"}, key=key + a["id"])
    assert s == 201, (s, d)
    return (m["id"], a["id"])


def bouncer_queries(port, user, password):
    """Statements PgBouncer has sent so far (SHOW STATS): (the data plane's pool-group databases, every other one)."""
    pg = psycopg2.connect(host="127.0.0.1", port=port, dbname="pgbouncer", user=user, password=password)
    pg.autocommit = True
    with pg.cursor() as cur:
        cur.execute("SHOW STATS")
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    pg.close()
    groups = sum(r["total_query_count"] for r in rows if r["database"].startswith("nzila_g"))
    other = sum(r["total_query_count"] for r in rows if not r["database"].startswith("nzila_g") and r["database"] != "pgbouncer")
    return groups, other


def pool_group_queries(port, user, password):
    """Statements PgBouncer has sent for the pool-group databases so far: round trips."""
    return bouncer_queries(port, user, password)[0]


def env(state):
    values = {}
    for name in ("urls.env", "secrets.env"):
        try:
            with open("%s/%s" % (state, name)) as f:
                for line in f:
                    if "=" in line and not line.startswith("#"):
                        k, v = line.strip().split("=", 1)
                        values[k] = v.strip("'\"")
        except OSError:
            pass
    return values


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    if not dev.get("test_clock"):
        sys.exit("tontine bench: start nzila dev with --test-clock")
    base, token, admin = dev["data_plane_url"], dev["demo_staff"]["token"], dev["admin"]["token"]
    values = env(args.state)
    direct = urllib.parse.urlparse(values["NZILA_DIRECT_URL"])
    bouncer_port = urllib.parse.urlparse(values["NZILA_PGBOUNCER_URL"]).port
    password = urllib.parse.unquote(direct.password)
    db = psycopg2.connect(host=direct.hostname, port=direct.port, dbname="nzila", user=direct.username, password=password)
    db.autocommit = True
    with db.cursor() as cur:
        cur.execute("SELECT id FROM control.tenants WHERE slug = 'demo'")
        tenant_id = cur.fetchone()[0]
    clients = [Client(base, token) for _ in range(args.concurrency)]
    run = uuid.uuid4().hex[:8]
    contribution = 2_000  # 20.00 CAD

    t0 = time.time()

    members = sorted(in_threads(args.concurrency, lambda i, n: enrol(
        clients[i], "circle-%s-%d@example.com" % (run, n), "Circle Member %d" % n, "bench password %d!" % n, 10_000_000, "tn-dep-"), range(args.members)))
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).date()

    def make(i, n):
        c = clients[i]
        s, circle = c.call("POST", "/v1/tontines", {"name": "Bench circle %d" % n, "contribution": {"amount": contribution, "currency": "CAD"},
                                                    "frequency": "monthly", "max_members": args.size, "order": "join", "grace_days": 1,
                                                    "first_due_date": tomorrow.isoformat()})
        assert s == 201, (s, circle)
        # Circle n takes every (members / size)-th member from n: a member sits in circles * size / members circles, and
        # circles stepped at the same time rarely share one (members' accounts are locked while they pay).
        stride = max(1, len(members) // args.size)
        for k in range(args.size):
            member, account = members[(n + k * stride) % len(members)]
            s, r = c.call("POST", "/v1/tontines/%s/members" % circle["id"],
                          {"member_id": member, "payout_account_id": account, "autopay_account_id": account})
            assert s == 200, (s, r)
        s, r = c.call("POST", "/v1/tontines/%s/start" % circle["id"], {})
        assert s == 200, (s, r)
        return circle["id"]

    circles = in_threads(args.concurrency, make, range(args.circles))
    print("set-up: %d members, %d circles of %d, started, in %.1f s" % (len(members), len(circles), args.size, time.time() - t0), flush=True)

    def bouncer_queries():
        return pool_group_queries(bouncer_port, direct.username, password)

    def settled():
        with db.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
            cur.execute("SELECT count(*) FILTER (WHERE status = 'paid'), max(paid_at) FROM t_demo.tontine_cycles WHERE cycle = 1 AND circle_id = ANY(%s::uuid[])",
                        (circles,))
            paid, last = cur.fetchone()
            cur.execute("SELECT count(*) FROM t_demo.tontine_contributions WHERE cycle = 1 AND circle_id = ANY(%s::uuid[])", (circles,))
            contributions = cur.fetchone()[0]
            cur.execute("COMMIT")
        return paid, contributions, last

    # Move the platform clock to the start of the due day (plus a second): everything falls due at once.
    cp = Client(dev["control_plane_url"], admin, tenant=None)
    s, state = cp.call("GET", "/v1/test-clock")
    assert s == 200, (s, state)
    now = datetime.datetime.fromisoformat(state["now"].replace("Z", "+00:00"))
    due = datetime.datetime.combine(tomorrow, datetime.time(0, 0, 1), tzinfo=datetime.timezone.utc)
    q0 = bouncer_queries()
    started = time.time()
    s, moved = cp.call("POST", "/v1/test-clock/advance", {"seconds": max(1, int((due - now).total_seconds()) + 1)})
    assert s == 200, (s, moved)
    paid, contributions, last = 0, 0, None
    deadline = time.time() + 1800
    while time.time() < deadline:
        paid, contributions, last = settled()
        if paid >= len(circles):
            break
        time.sleep(0.2)
    elapsed = time.time() - started
    q1 = bouncer_queries()
    report = {
        "circles": len(circles), "size": args.size, "members": len(members), "cycles_paid": paid, "contributions": contributions,
        "seconds": elapsed, "cycles_per_second": paid / elapsed, "contributions_per_second": contributions / elapsed,
        "round_trips_per_contribution": float(q1 - q0) / max(1, contributions),
    }
    line = ("nzila  tontine: %d cycles of %d autopay members due at once: %d paid in %.1f s = %.1f cycles/s, %.0f contributions/s; "
            "%.1f round trips per contribution (payouts and scheduler reads included)"
            % (len(circles), args.size, paid, elapsed, report["cycles_per_second"], report["contributions_per_second"],
               report["round_trips_per_contribution"]))
    if args.pgbench_tps:
        report["pgbench_xfer_rls_tps"] = args.pgbench_tps
        report["ratio_to_pgbench"] = report["contributions_per_second"] / args.pgbench_tps
        line += "; / pgbench xfer_rls %.0f tps = %.2f (aim >= 0.5)" % (args.pgbench_tps, report["ratio_to_pgbench"])
    print(line)
    if args.out:
        json.dump(report, open(args.out, "w"), indent=2, default=float)


if __name__ == "__main__":
    main()
