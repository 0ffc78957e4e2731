#!/usr/bin/env python3
"""Live streams and webhooks under load (ops/bench/run.sh --only events).

Set-up (not timed): `--members` members of the demo tenant, each with a CAD chequing account, logged in.

1. Streams: `--connections` authenticated WebSockets on GET /v1/stream (Bearer on the upgrade), spread over the
   members. The first connection of each member follows `accounts` (active); the others follow `loans`, where nothing
   happens during the run (idle: what a phone in a pocket costs). Prints the time to open them all and the data
   plane's resident memory before and after, per connection (the `nzila dev` process: both planes, one process).
2. Fan-out latency: `--rate` events per second for `--seconds`, from member transfers between each member's own two
   accounts (a separate process, `--senders` keep-alive connections; each transfer is one database round trip and
   writes two balance events, so transfers go at half the rate), each with a unique amount. (Staff deposits all credit
   from the tenant's one cash account, a hot row, and stay near 200/s on 2 cores: not an event source for this.) The
   credit's event reaches its member's active stream; latency is from the transfer's answer (after COMMIT) to the
   event's arrival, and, beside it, from the event's `occurred_at` (the writing transaction's platform time, this
   machine's clock without a test clock). p50 / p99 / max, and how many never arrived.
3. Webhooks: the streams closed, an endpoint wanting `account.*` on a local receiver (a threaded HTTP server answering
   200), then `--webhooks` events (member transfers, two each) as fast as `--senders` connections go: deliveries per
   second from the first transfer to the last delivery received, and duplicates (delivery is at least once).

Needs `pip install websockets psycopg2-binary` (run.sh installs them) and a file-descriptor limit above the number of
connections (run.sh raises it for itself and `nzila dev`). Nothing is asserted here.
"""
import argparse, asyncio, http.client, http.server, json, multiprocessing, os, queue, socket, statistics, sys, threading, time, urllib.parse, uuid


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("dev_json")
    p.add_argument("--pid", type=int, required=True, help="the nzila dev process")
    p.add_argument("--members", type=int, default=200)
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--senders", type=int, default=16)
    p.add_argument("--webhooks", type=int, default=5000)
    p.add_argument("--pgbench-tps", type=float)
    p.add_argument("--out")
    return p.parse_args()


class Client:
    def __init__(self, base, token, tenant="demo"):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.headers = {"Content-Type": "application/json", "X-Tenant": tenant}
        if token:
            self.headers["Authorization"] = "Bearer " + token

    def call(self, method, path, body=None, key=None):
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        for attempt in range(30):
            try:
                self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.status == 429 and attempt < 29:
                    # The per-address limit on logins: wait as told, as an app would.
                    time.sleep(float(response.getheader("Retry-After", "1")))
                    continue
                return response.status, (json.loads(data) if data else {})
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt >= 2:
                    raise


def rss_mb(pid):
    total = 0
    for candidate in [pid] + children(pid):
        try:
            for line in open("/proc/%d/status" % candidate):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open("/proc/%s/stat" % entry).read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def setup_members(base, staff, count, threads=8):
    """(member id, account id, token) for `count` new members."""
    run = uuid.uuid4().hex[:8]
    todo, made, lock = queue.Queue(), [], threading.Lock()
    for i in range(count):
        todo.put(i)

    def work():
        client = Client(base, staff)
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            email = "stream%s-%d@bench.test" % (run, i)
            password = "stream bench password %d" % i
            status, member = client.call("POST", "/v1/members", {"email": email, "full_name": "Stream %d" % i, "password": password})
            assert status == 201, (status, member)
            status, account = client.call("POST", "/v1/accounts", {"kind": "chequing", "currency": "CAD", "member_id": member["id"]})
            assert status == 201, (status, account)
            status, savings = client.call("POST", "/v1/accounts", {"kind": "savings", "currency": "CAD", "member_id": member["id"]})
            assert status == 201, (status, savings)
            status, _ = client.call("POST", "/v1/deposits", {"account_id": account["id"], "amount": 10_000_000, "currency": "CAD"}, key="fund-" + account["id"])
            assert status == 201, status
            status, login = Client(base, None).call("POST", "/v1/auth/login", {"email": email, "password": password})
            assert status == 200, (status, login)
            with lock:
                made.append((member["id"], account["id"], login["access_token"], savings["id"]))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return made


def send_transfers(base, members, rate, count, senders, results):
    """In its own process: `count` member transfers (chequing → savings, each of its member's own, one
    database round trip each) at `rate`/s, amounts 1, 2, 3, …; puts {amount: answer time} on `results`.
    Each writes two balance events on the member's stream; the credit (amount > 0) is the one timed."""
    per = max(1, count // senders)
    start = time.time() + 0.2

    def work(index, out):
        clients = {}
        for n in range(per):
            amount = 1 + index * per + n
            due = start + (index + n * senders) / rate
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            member = members[amount % len(members)]
            client = clients.get(member[0]) or clients.setdefault(member[0], Client(base, member[2]))
            status, _ = client.call("POST", "/v1/transfers", {"from_account_id": member[1], "to_account_id": member[3], "amount": amount, "currency": "CAD"},
                                    key="t-%d-%s" % (amount, uuid.uuid4().hex[:6]))
            if status == 201:
                out[amount] = time.time()

    answers = {}
    threads = [threading.Thread(target=work, args=(i, answers)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put(answers)


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def parse_time(text):
    # 2026-12-05T07:01:02.345Z
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


async def streams(args, ws_url, members, answers_queue, base, staff):
    import websockets

    arrivals = {}  # amount -> (receive time, occurred_at)
    connections = []
    ready = asyncio.Event()
    opened = 0
    failures = []

    async def one(index):
        nonlocal opened
        member = members[index % len(members)]
        active = index < len(members)
        try:
            ws = await websockets.connect(ws_url, additional_headers={"Authorization": "Bearer " + member[2], "X-Tenant": "demo"},
                                          max_size=1 << 20, ping_interval=None, open_timeout=120)
        except Exception as error:  # noqa: BLE001 - counted, reported
            failures.append(repr(error))
            return
        await ws.send(json.dumps({"action": "subscribe", "topics": ["accounts" if active else "loans"]}))
        connections.append(ws)
        opened += 1
        async for text in ws:
            message = json.loads(text)
            if "seq" in message and active:
                data = message.get("data", {})
                if data.get("amount_minor", 0) > 0:
                    arrivals[data.get("amount_minor")] = (time.time(), parse_time(message["occurred_at"]))

    before = rss_mb(args.pid)
    t0 = time.time()
    gate = asyncio.Semaphore(256)

    async def gated(i):
        async with gate:
            task = asyncio.create_task(one(i))
            # Hold the slot until this connection is open (or failed).
            while len(connections) + len(failures) <= i and not task.done():
                await asyncio.sleep(0.001)
        await task

    tasks = [asyncio.create_task(gated(i)) for i in range(args.connections)]
    while opened + len(failures) < args.connections:
        await asyncio.sleep(0.05)
    open_seconds = time.time() - t0
    await asyncio.sleep(2)  # let the subscriptions settle before measuring memory
    after = rss_mb(args.pid)
    print("streams: %d connections open in %.1f s (%d failed%s); data plane RSS %.0f MB -> %.0f MB: %.1f KB per connection"
          % (opened, open_seconds, len(failures), (": " + failures[0][:120]) if failures else "", before, after, (after - before) * 1024 / max(1, opened)),
          flush=True)

    # Load: a separate process sends member transfers (two events each), at half the event rate.
    process = multiprocessing.Process(target=send_transfers, args=(base, members, args.rate / 2, int(args.rate / 2 * args.seconds), args.senders, answers_queue))
    t1 = time.time()
    process.start()
    answers = None
    while answers is None:
        try:
            answers = answers_queue.get_nowait()
        except queue.Empty:
            await asyncio.sleep(0.05)
    # Never block the event loop (a blocking join stalled it while the sender process exited, and the last events
    # were read a second late: the ~1 s "outliers" of earlier runs were this client, not the server).
    while process.is_alive():
        await asyncio.sleep(0.01)
    process.join()
    sent_seconds = time.time() - t1
    deadline = time.time() + 60
    while time.time() < deadline and not all(a in arrivals for a in answers):
        await asyncio.sleep(0.05)
    from_answer = [(arrivals[a][0] - t) * 1000 for a, t in answers.items() if a in arrivals]
    from_commit = [(arrivals[a][0] - arrivals[a][1]) * 1000 for a in answers if a in arrivals]
    missing = sum(1 for a in answers if a not in arrivals)
    achieved = len(answers) / sent_seconds
    print("fan-out: %d member transfers in %.1f s = %.0f events/s on the streams (asked %.0f/s), %d credits timed, %d missing; latency from the transfer's answer p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
          "from occurred_at p50 %.1f ms, p99 %.1f ms" % (
              len(answers), sent_seconds, 2 * achieved, args.rate, len(from_answer), missing, percentile(from_answer, 0.5), percentile(from_answer, 0.99),
              max(from_answer) if from_answer else float("nan"), percentile(from_commit, 0.5), percentile(from_commit, 0.99)), flush=True)
    # The slowest deliveries, to tell where a slow one spent its time: answer - occurred_at is the transfer's own
    # time (the server, then the answer's way back); arrival - answer is what the relay, hub, stream and this
    # client's event loop added.
    slow = sorted(((arrivals[a][0] - t) * 1000, a, t) for a, t in answers.items() if a in arrivals)[-3:]
    for late, amount, answered in reversed(slow):
        print("  slow: credit %d answered %.2f s into the run, %.1f ms after its occurred_at; arrived %.1f ms after the answer, %.1f ms after occurred_at"
              % (amount, answered - t1, (answered - arrivals[amount][1]) * 1000, late, (arrivals[amount][0] - arrivals[amount][1]) * 1000), flush=True)
    print("  over 250 ms: %d of %d" % (sum(1 for v in from_answer if v > 250), len(from_answer)), flush=True)
    for ws in connections:
        await ws.close()
    for task in tasks:
        task.cancel()
    await asyncio.sleep(1)
    print("streams closed: data plane RSS %.0f MB" % rss_mb(args.pid), flush=True)
    return {"connections": opened, "open_seconds": open_seconds, "rss_before_mb": before, "rss_after_mb": after,
            "kb_per_connection": (after - before) * 1024 / max(1, opened), "transfers": len(answers), "events_per_second": 2 * achieved,
            "delivered": len(from_answer), "missing": missing, "latency_ms": {"p50": percentile(from_answer, 0.5), "p99": percentile(from_answer, 0.99),
            "max": max(from_answer) if from_answer else None}, "latency_from_occurred_ms": {"p50": percentile(from_commit, 0.5), "p99": percentile(from_commit, 0.99)}}


def webhooks(args, base, staff, members):
    hits, lock = [], threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                hits.append((time.time(), self.headers.get("Nzila-Event-Id")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = Client(base, staff)
    status, endpoint = client.call("POST", "/v1/webhook-endpoints", {"url": "http://127.0.0.1:%d/hook" % server.server_address[1], "event_types": ["account.*"]})
    assert status == 201, (status, endpoint)
    results = multiprocessing.Queue()
    t0 = time.time()
    # Member transfers as fast as the senders go (two events, so two deliveries, each).
    process = multiprocessing.Process(target=send_transfers, args=(base, members, 1e9, args.webhooks // 2, args.senders, results))
    process.start()
    answers = results.get()
    process.join()
    deposits_done = time.time()
    expected = 2 * len(answers)
    deadline = time.time() + 120
    while time.time() < deadline:
        with lock:
            if len({h[1] for h in hits}) >= expected:
                break
        time.sleep(0.05)
    with lock:
        unique = len({h[1] for h in hits})
        last = max((h[0] for h in hits), default=t0)
        total = len(hits)
    seconds = last - t0
    rate = unique / seconds if seconds > 0 else float("nan")
    print("webhooks: %d member transfers (%.0f events/s), %d of %d deliveries received (%d duplicates) in %.1f s from the first transfer: %.0f deliveries/s; "
          "last delivery %.1f s after the last transfer" % (len(answers), expected / (deposits_done - t0), unique, expected, total - unique, seconds, rate,
                                                            last - deposits_done), flush=True)
    client.call("DELETE", "/v1/webhook-endpoints/%s" % endpoint["id"])
    server.shutdown()
    return {"transfers": len(answers), "expected": expected, "deliveries": unique, "duplicates": total - unique, "seconds": seconds, "per_second": rate}


def main():
    args = parse()
    dev = json.load(open(args.dev_json))
    base = dev["data_plane_url"]
    staff = dev["demo_staff"]["token"]
    print("machine: %d cores; setting up %d members ..." % (os.cpu_count(), args.members), flush=True)
    members = setup_members(base, staff, args.members)
    u = urllib.parse.urlparse(base)
    ws_url = "ws://%s:%d/v1/stream" % (u.hostname, u.port)
    answers_queue = multiprocessing.Queue()
    result = {"streams": asyncio.run(streams(args, ws_url, members, answers_queue, base, staff))}
    result["webhooks"] = webhooks(args, base, staff, members)
    if args.pgbench_tps:
        ratio = result["webhooks"]["per_second"] / args.pgbench_tps
        print("ratio: webhook deliveries/s over the reference transfer transaction (pgbench xfer_rls.sql, %.0f tps): %.2f" % (args.pgbench_tps, ratio))
        result["webhooks"]["ratio_to_pgbench"] = ratio
    if args.out:
        json.dump(result, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
