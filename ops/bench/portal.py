#!/usr/bin/env python3
"""Portal pages, server-rendered, timed at the demo's size (ops/bench/run.sh --only portal; issue 23).

Set-up (not timed): `--members` more members enrolled in the demo tenant through the API, `--accounts` of them with
a CAD chequing account and a deposit, so the member list, its search and the dashboard read real pages. Then the demo
tenant admin signs in through the portal's own login form (a server-side session, as a browser would).

Timed, page by page: `--requests` sequential GETs over one keep-alive connection after a warm-up (the latency a
member of staff feels, minus their network: loopback here), p50 / p95 / p99 / max; then every page mixed from
`--concurrency` clients for `--seconds` (throughput and p99 under load). Database round trips per page from PgBouncer's
SHOW STATS before and after (the pool-group databases the data plane uses; the settings pages also call the control
plane, counted under `control`). Each page reads the API in process: its round trips are its API calls' own.

Reference in the same run, when `--peer-url` is given: django-tenants' GET of one account (a JSON read of one row,
anchors/peer-up.sh) timed by the same client, and the ratio page p99 / peer p99. The goal is p99 < 100 ms per page.
Nothing is asserted here.
"""
import argparse, http.client, json, os, re, statistics, sys, threading, time, urllib.parse, uuid

sys.path.insert(0, os.path.dirname(__file__))
from tontine import bouncer_queries, env  # noqa: E402  (the same state reader and statement counter)


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--state", required=True)
    p.add_argument("--members", type=int, default=500)
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--peer-url", help="the django-tenants peer's GET one account, e.g. http://127.0.0.1:8801/api/accounts/1/")
    p.add_argument("--peer-host", default="t001.peer.test")
    p.add_argument("--out")
    return p.parse_args()


class Browser:
    """A keep-alive connection to the data plane as the portal's host, with the session cookie."""

    def __init__(self, port, host):
        self.port, self.host, self.cookies = port, host, {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, form=None):
        headers = {"Host": self.host}
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in sorted(self.cookies.items()))
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form)
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            cookie = rest.split(";")[0]
            if cookie:
                self.cookies[name] = cookie
            else:
                self.cookies.pop(name, None)
        return response.status, data

    def login(self, email, password):
        status, page = self.request("GET", "/portal/login")
        csrf = re.search(rb'name="_csrf" value="([^"]+)"', page).group(1).decode()
        status, _ = self.request("POST", "/portal/login", {"_csrf": csrf, "email": email, "password": password})
        if status != 303:
            sys.exit("portal bench: the demo admin could not sign in (%d)" % status)


def api(port, method, path, token, body=None, key=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": "Bearer " + token, "X-Tenant": "demo", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else {})


def seed(port, token, members, accounts):
    run = uuid.uuid4().hex[:6]
    made = []
    for n in range(members):
        status, member = api(port, "POST", "/v1/members", token, {
            "email": "portal-%s-%d@example.com" % (run, n), "full_name": "Portal Member %s %d" % (run, n), "password": "portal bench pw 1!"})
        if status != 201:
            sys.exit("portal bench: enrol failed %d %s" % (status, member))
        made.append(member["id"])
    for member in made[:accounts]:
        status, account = api(port, "POST", "/v1/accounts", token, {"member_id": member, "kind": "chequing", "currency": "CAD"})
        if status != 201:
            sys.exit("portal bench: account failed %d %s" % (status, account))
        api(port, "POST", "/v1/deposits", token, {"account_id": account["id"], "amount": 250000, "currency": "CAD"}, key="portal-" + account["id"])
    return made


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def timed(call, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        status = call()
        out.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            sys.exit("portal bench: status %d" % status)
    return out


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    port = urllib.parse.urlparse(dev["data_plane_url"]).port
    host = "demo.%s:%d" % (dev.get("base_domain", "localhost"), port)
    staff = dev["demo_staff"]
    values = env(args.state)
    direct = urllib.parse.urlparse(values["NZILA_DIRECT_URL"])
    bouncer_port = urllib.parse.urlparse(values["NZILA_PGBOUNCER_URL"]).port
    password = urllib.parse.unquote(direct.password)

    seed(port, staff["token"], args.members, args.accounts)
    status, found = api(port, "GET", "/v1/members?q=amina&limit=1", staff["token"])
    member = found["data"][0]["id"] if found.get("data") else None

    browser = Browser(port, host)
    browser.login(staff["email"], staff["password"])
    pages = [("dashboard", "/portal/"), ("members", "/portal/members"), ("member search", "/portal/members?q=portal"),
             ("remittances", "/portal/remittances"), ("case queue", "/portal/compliance/cases"),
             ("settings", "/portal/settings"), ("branding form", "/portal/settings/sections/branding")]
    if member:
        pages.insert(3, ("member detail", "/portal/members/" + member))
    # The pages of domains the demo may have off (and the audit log, read from the control plane) when they answer.
    for name, path in (("loans", "/portal/loans"), ("tontines", "/portal/tontines"), ("STR drafts", "/portal/compliance/reports"),
                       ("webhooks", "/portal/webhooks"), ("audit log", "/portal/audit")):
        if browser.request("GET", path)[0] == 200:
            pages.append((name, path))

    results = []
    for name, path in pages:
        timed(lambda: browser.request("GET", path)[0], 20)
        before = bouncer_queries(bouncer_port, direct.username, password)
        rt_n = 50
        timed(lambda: browser.request("GET", path)[0], rt_n)
        after = bouncer_queries(bouncer_port, direct.username, password)
        latencies = timed(lambda: browser.request("GET", path)[0], args.requests)
        size = len(browser.request("GET", path)[1])
        row = {"page": name, "path": path, "p50_ms": statistics.median(latencies), "p95_ms": pct(latencies, 95),
               "p99_ms": pct(latencies, 99), "max_ms": max(latencies), "bytes": size,
               "round_trips": float(after[0] - before[0]) / rt_n, "control_round_trips": float(after[1] - before[1]) / rt_n}
        results.append(row)
        print("nzila  portal %-14s p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  max %6.1f ms  %5.1f round trips (+%.1f control)  %6d bytes"
              % (name, row["p50_ms"], row["p95_ms"], row["p99_ms"], row["max_ms"], row["round_trips"], row["control_round_trips"], size), flush=True)

    # Every page mixed from several clients: one staff member's session in as many tabs (signing in once per client
    # would meet the login throttle, which is the point of it).
    sessions = []
    for _ in range(args.concurrency):
        b = Browser(port, host)
        b.cookies = dict(browser.cookies)
        sessions.append(b)
    mixed, lock, stop = [], threading.Lock(), time.time() + args.seconds

    def worker(b, offset):
        i, local = offset, []
        while time.time() < stop:
            _, path = pages[i % len(pages)]
            t0 = time.perf_counter()
            status, _ = b.request("GET", path)
            local.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                local.append(float("inf"))
            i += 1
        with lock:
            mixed.extend(local)

    threads = [threading.Thread(target=worker, args=(b, n)) for n, b in enumerate(sessions)]
    t0 = time.time()
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.time() - t0
    failed = sum(1 for v in mixed if v == float("inf"))
    ok = [v for v in mixed if v != float("inf")]
    load = {"clients": args.concurrency, "pages_per_s": len(ok) / elapsed, "p50_ms": statistics.median(ok), "p99_ms": pct(ok, 99), "failed": failed}
    print("nzila  portal mixed, %d clients: %.0f pages/s, p50 %.2f ms, p99 %.2f ms, %d failed"
          % (args.concurrency, load["pages_per_s"], load["p50_ms"], load["p99_ms"], failed), flush=True)

    worst = max(r["p99_ms"] for r in results)
    summary = "nzila  portal worst page p99 %.2f ms (aim < 100 ms): %s" % (worst, "met" if worst < 100 else "MISSED")
    peer = None
    if args.peer_url:
        u = urllib.parse.urlparse(args.peer_url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

        def peer_get():
            conn.request("GET", u.path, headers={"Host": args.peer_host})
            response = conn.getresponse()
            response.read()
            return response.status

        timed(peer_get, 20)
        latencies = timed(peer_get, args.requests)
        peer = {"p50_ms": statistics.median(latencies), "p99_ms": pct(latencies, 99)}
        print("peer   django-tenants GET one account (JSON, one row), same client: p50 %.2f ms, p99 %.2f ms" % (peer["p50_ms"], peer["p99_ms"]))
        summary += "; / django-tenants one-row JSON GET p99 = %.2fx" % (worst / peer["p99_ms"])
    print(summary)
    if args.out:
        json.dump({"pages": results, "mixed": load, "peer": peer}, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
