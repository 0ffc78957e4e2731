#!/usr/bin/env python3
"""The noisy neighbour (ops/bench/run.sh --only noisy): does one credit union flooding the data plane raise another's p99?

A quiet tenant's member reads their account at a steady 50 requests/s (one keep-alive client) while the demo tenant
floods. Two floods, each on two data planes over the same database in the same run: one plane with the platform's
per-tenant rate limit (its port first), one without (the dev plane, limits lifted).
- paced: the demo tenant's app posts transfers at a fixed rate (default 1,000/s, five times the limited plane's 200/s
  tenant rate) over 16 connections; a noisy neighbour as it happens, a batch job or a retry storm;
- saturating: `wrk -c64` GETs as fast as the machine allows, load generator on the same two cores. No server-side
  limit can keep the quiet tenant's p99 here: the CPU is the shared resource, and it is full.
For each: the quiet tenant's p50/p99 alone, then during the flood, and what the flood got (2xx vs 429). Nothing is
asserted.
"""
import argparse, asyncio, http.client, json, statistics, subprocess, sys, threading, time, urllib.parse, uuid


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--limited", type=int, required=True, help="port of the data plane with tenant rate limits")
    p.add_argument("--unlimited", type=int, required=True, help="port of the data plane without")
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--rate", type=float, default=1000, help="requests/s of the paced flood")
    p.add_argument("--out")
    return p.parse_args()


def call(conn, method, path, body=None, token=None, tenant=None, key=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    if tenant:
        headers["X-Tenant"] = tenant
    if key:
        headers["Idempotency-Key"] = key
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else {})


def quiet_tenant(dev):
    """A second credit union with one member and one account, made through the APIs."""
    cp = urllib.parse.urlparse(dev["control_plane_url"])
    dp = urllib.parse.urlparse(dev["data_plane_url"])
    c = http.client.HTTPConnection(cp.hostname, cp.port, timeout=30)
    d = http.client.HTTPConnection(dp.hostname, dp.port, timeout=30)
    admin = dev["admin"]["token"]
    slug = "quiet_" + uuid.uuid4().hex[:6]
    s, t = call(c, "POST", "/v1/tenants", {"slug": slug, "name": "Quiet Credit Union"}, token=admin, key=slug)
    assert s == 201, (s, t)
    s, _ = call(c, "POST", "/v1/tenants/%s/staff" % slug, {"email": "admin@%s.test" % slug, "password": "quiet staff pw 123", "role": "tenant_admin"}, token=admin)
    assert s == 201
    s, login = call(c, "POST", "/v1/auth/login", {"email": "admin@%s.test" % slug, "password": "quiet staff pw 123"})
    staff = login["access_token"]
    for _ in range(50):
        s, m = call(d, "POST", "/v1/members", {"email": "m@%s.test" % slug, "full_name": "Quiet Member", "password": "quiet member pw 1!"}, token=staff, tenant=slug)
        if s == 201:
            break
        time.sleep(0.1)  # the data plane learns of the new tenant within a second
    assert s == 201, (s, m)
    s, a = call(d, "POST", "/v1/accounts", {"kind": "chequing", "currency": "CAD", "member_id": m["id"]}, token=staff, tenant=slug)
    s, tok = call(d, "POST", "/v1/auth/login", {"email": "m@%s.test" % slug, "password": "quiet member pw 1!"}, tenant=slug)
    return slug, tok["access_token"], a["id"]


def steady(port, path, token, tenant, seconds, rate=50):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors, interval = [], 0, 1.0 / rate
    end = time.perf_counter() + seconds
    next_at = time.perf_counter()
    while time.perf_counter() < end:
        started = time.perf_counter()
        s, _ = call(conn, "GET", path, token=token, tenant=tenant)
        latencies.append((time.perf_counter() - started) * 1000)
        if s != 200:
            errors += 1
        next_at += interval
        time.sleep(max(0, next_at - time.perf_counter()))
    q = statistics.quantiles(latencies, n=100)
    return {"p50_ms": q[49], "p99_ms": q[98], "requests": len(latencies), "errors": errors}


def flood(port, path, token, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", "-d%ds" % int(seconds), "-H", "Authorization: Bearer " + token, "-H", "X-Tenant: demo",
                          "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, text=True).stdout
    total = int(out.split(" requests in ")[0].split()[-1]) if " requests in " in out else 0
    non2xx = int(out.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in out else 0
    return {"requests": total, "non_2xx": non2xx}


async def paced(port, requests, rate, seconds, connections=16):
    """Sends requests[i % len] at `rate` per second for `seconds` over keep-alive connections (open loop while
    the server keeps up; a connection waits for its previous answer). Returns counts by status class."""
    counts = {"2xx": 0, "429": 0, "other": 0}
    start = time.perf_counter()
    total = int(rate * seconds)

    async def connection(index):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(index, total, connections):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            counts["2xx" if 200 <= status < 300 else "429" if status == 429 else "other"] += 1
        writer.close()

    await asyncio.gather(*(connection(i) for i in range(connections)))
    counts["seconds"] = time.perf_counter() - start
    return counts


def transfer_requests(dev, count=4000):
    """The demo member's transfers between 20 pairs of their own accounts, each with its own Idempotency-Key."""
    dp = urllib.parse.urlparse(dev["data_plane_url"])
    d = http.client.HTTPConnection(dp.hostname, dp.port, timeout=30)
    member, staff = dev["demo_member"]["token"], dev["demo_staff"]["token"]
    pairs = []
    for _ in range(20):
        ids = []
        for _ in range(2):
            s, a = call(d, "POST", "/v1/accounts", {"kind": "savings", "currency": "CAD"}, token=member, tenant="demo")
            assert s == 201, (s, a)
            ids.append(a["id"])
        s, _ = call(d, "POST", "/v1/deposits", {"account_id": ids[0], "amount": 10000000, "currency": "CAD"}, token=staff, tenant="demo",
                    key=str(uuid.uuid4()))
        assert s == 201
        pairs.append(ids)
    out = []
    for i in range(count):
        a, b = pairs[i % len(pairs)]
        body = json.dumps({"from_account_id": a, "to_account_id": b, "amount": 1, "currency": "CAD"}).encode()
        out.append(b"POST /v1/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + member.encode()
                   + b"\r\nX-Tenant: demo\r\nContent-Type: application/json\r\nIdempotency-Key: " + str(uuid.uuid4()).encode()
                   + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    return out


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    slug, token, account = quiet_tenant(dev)
    d = http.client.HTTPConnection("127.0.0.1", urllib.parse.urlparse(dev["data_plane_url"]).port, timeout=30)
    demo_token = dev["demo_member"]["token"]
    s, accounts = call(d, "GET", "/v1/accounts?limit=1", token=demo_token, tenant="demo")
    demo_path = "/v1/accounts/" + accounts["data"][0]["id"]
    quiet_path = "/v1/accounts/" + account
    report = {}
    flood_requests = transfer_requests(dev, count=int(args.rate * (args.seconds + 3)) * 2 + 10)
    used = [0]

    def paced_flood(port, seconds):
        # Fresh Idempotency-Keys for every run: the unlimited plane's 2xx are real transfers, not replays.
        n = int(args.rate * seconds) + 1
        batch = flood_requests[used[0]:used[0] + n]
        used[0] += n
        return asyncio.run(paced(port, batch, args.rate, seconds))

    for flood_name in ("paced", "saturating"):
        for name, port in (("limited", args.limited), ("unlimited", args.unlimited)):
            steady(port, quiet_path, token, slug, 2)  # warm-up
            alone = steady(port, quiet_path, token, slug, args.seconds)
            result = {}
            if flood_name == "paced":
                worker = threading.Thread(target=lambda: result.update(paced_flood(port, args.seconds + 3)))
            else:
                worker = threading.Thread(target=lambda: result.update(flood(port, demo_path, demo_token, args.seconds + 3)))
            worker.start()
            time.sleep(1.5)
            during = steady(port, quiet_path, token, slug, args.seconds)
            worker.join()
            report["%s/%s" % (flood_name, name)] = {"alone": alone, "during_flood": during, "flood": result}
            if flood_name == "paced":
                what = "flood: %d transfers/s offered, %d 2xx, %d refused (429), %d other" % (
                    args.rate, result.get("2xx", 0), result.get("429", 0), result.get("other", 0))
            else:
                what = "flood: %d requests, %d refused (429)" % (result.get("requests", 0), result.get("non_2xx", 0))
            print("%-10s %-9s quiet tenant alone p50 %.2f ms p99 %.2f ms; during the flood p50 %.2f ms p99 %.2f ms (p99 x%.2f, %d errors); %s"
                  % (flood_name, name, alone["p50_ms"], alone["p99_ms"], during["p50_ms"], during["p99_ms"], during["p99_ms"] / alone["p99_ms"],
                     during["errors"], what), flush=True)
    if args.out:
        json.dump(report, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
