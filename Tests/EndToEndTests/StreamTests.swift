import DataPlane
import Foundation
import HTTPTypes
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaTestSupport
import Synchronization
import Testing

/// `GET /v1/stream` end to end: the outbox relayed in order to live WebSockets, resume, credentials
/// and isolation, on the real stack with the relay running (docs/EVENTS.md).
@Suite("Live event streams")
struct StreamTests {
    static func open(_ planes: Planes, _ f: Planes.Fixture, token: String?, label: String) -> StreamClient {
        StreamClient(port: planes.dp.port!, tenant: f.slug, token: token, label: label, logger: planes.harness.logger)
    }

    /// Each event message has exactly the documented members, a known topic, and data that conforms
    /// to its type's schema in `Schemas/events/`.
    static func checkShape(_ events: [[String: Any]], sourceLocation: SourceLocation = #_sourceLocation) throws {
        for event in events {
            #expect(Set(event.keys) == ["seq", "topic", "type", "occurred_at", "data"], "\(event)", sourceLocation: sourceLocation)
            let type = try #require(event["type"] as? String)
            let data = try JSONSerialization.data(withJSONObject: try #require(event["data"] as? [String: Any]))
            #expect(EventSchemas.check(type, data).isEmpty, "\(type): \(EventSchemas.check(type, data))", sourceLocation: sourceLocation)
            #expect((event["occurred_at"] as? String).flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) } != nil, "\(event)", sourceLocation: sourceLocation)
        }
    }

    static func seqs(_ events: [[String: Any]]) -> [Int64] { events.compactMap { ($0["seq"] as? NSNumber)?.int64Value } }

    static func types(_ events: [[String: Any]]) -> [String] { events.compactMap { $0["type"] as? String } }

    static func data(_ event: [String: Any], _ key: String) -> Any? { (event["data"] as? [String: Any])?[key] }

    @Test("a member's stream carries their remittance and balance events in commit order; the other member sees none; staff see the tenant's")
    func memberAndStaff() async throws {
        let harness = try await Harness.get()
        // No periodic sweep during the test: every event comes through the wake after its COMMIT.
        try await harness.withPlanes(data: { $0.events.sweepInterval = .seconds(3_600) }, relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "ws")
            let mine = Self.open(planes, f, token: f.members[0].token, label: "member 0")
            // A browser authenticates by its first message instead of a header.
            let other = Self.open(planes, f, token: nil, label: "member 1")
            try other.send(["action": "auth", "token": f.members[1].token])
            let staff = Self.open(planes, f, token: f.staffToken, label: "staff")
            for stream in [mine, other, staff] {
                let ready = try await stream.wait(type: "stream.ready")
                #expect(Set(ready["topics"] as? [String] ?? []).isSuperset(of: ["remittances", "accounts", "tontines", "loans"]), "\(ready)")
                try await stream.subscribe(["remittances", "accounts"])
            }

            try await planes.deposit(f, member: 0, minor: 50_000)
            let placed = try await planes.remit(f)
            try #require(placed.status == .created, "\(placed.text)")
            let id = try #require(placed.json["id"] as? String)
            let total = try #require((placed.json["total_debit"] as? [String: Any])?["amount"] as? Int)
            try await planes.drain(f)
            #expect(try await planes.order(f, id)["state"] as? String == "delivered")
            let states = ["created", "awaiting_funding", "funded", "screening", "converting", "disbursing", "delivered"]

            let received = try await mine.wait(for: "remittance.delivered.v1") { $0.contains { $0["type"] as? String == "remittance.delivered.v1" } }
                .filter { $0["seq"] != nil }
            try Self.checkShape(received)
            let seqs = Self.seqs(received)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "in seq order, each once: \(seqs)")
            let remittance = received.filter { $0["topic"] as? String == "remittances" }
            #expect(Self.types(remittance) == states.map { "remittance.\($0).v1" }, "\(Self.types(remittance))")
            #expect(remittance.allSatisfy { Self.data($0, "remittance_id") as? String == id })
            let balances = received.filter { $0["topic"] as? String == "accounts" }
            #expect(balances.allSatisfy { Self.data($0, "account_id") as? String == f.members[0].accountID && $0["type"] as? String == "account.balance_changed.v1" })
            #expect(balances.first.map { Self.data($0, "amount_minor") as? Int == 50_000 && Self.data($0, "balance_minor") as? Int == 50_000 } == true)
            #expect(balances.last.map { Self.data($0, "balance_minor") as? Int } == 50_000 - total, "the last balance event shows what is left")
            #expect(balances.reduce(0) { $0 + (Self.data($1, "amount_minor") as? Int ?? 0) } == 50_000 - total)
            #expect(!received.contains { "\($0)".contains("8031234567") }, "no recipient number on the wire")

            // The other member's own deposit comes after all of that: once it arrives, nothing of
            // member 0's can still be on its way to them.
            try await planes.deposit(f, member: 1, minor: 7_000)
            let theirs = try await other.waitEvents(1)
            #expect(theirs.count == 1 && Self.data(theirs[0], "account_id") as? String == f.members[1].accountID, "\(other.transcript)")
            let last = try #require(Self.seqs(theirs).first)

            let all = try await staff.wait(for: "the staff stream up to seq \(last)") { Self.seqs($0).contains(last) }.filter { $0["seq"] != nil }
            try Self.checkShape(all)
            #expect(Self.seqs(all) == Self.seqs(received) + [last], "staff see every event of both members, in order")
            for stream in [mine, other, staff] { await stream.close() }
        }
    }

    @Test("resume after a disconnect replays exactly the missed events, then live ones once; past retention it says there is a gap")
    func resume() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "wr")
            let first = Self.open(planes, f, token: f.members[0].token, label: "first")
            try await first.wait(type: "stream.ready")
            try await first.subscribe(["accounts"])
            try await planes.deposit(f, member: 0, minor: 1_000)
            let seen = try #require(Self.seqs(try await first.waitEvents(1)).last)
            await first.close()

            // Missed while away: two deposits, published (the staff stream sees them) before the return.
            let staff = Self.open(planes, f, token: f.staffToken, label: "staff")
            try await staff.wait(type: "stream.ready")
            try await staff.subscribe(["accounts"])
            try await planes.deposit(f, member: 0, minor: 2_000)
            try await planes.deposit(f, member: 1, minor: 5_000)
            try await planes.deposit(f, member: 0, minor: 3_000)
            try await staff.waitEvents(3)

            let back = Self.open(planes, f, token: f.members[0].token, label: "back")
            try await back.wait(type: "stream.ready")
            try await back.subscribe(["accounts"])
            try back.send(["action": "resume", "after_seq": seen])
            let resumed = try await back.wait(type: "stream.resumed")
            let replayed = back.events
            try Self.checkShape(replayed)
            #expect(replayed.compactMap { Self.data($0, "amount_minor") as? Int } == [2_000, 3_000], "exactly the member's missed ones: \(back.transcript)")
            #expect(replayed.allSatisfy { (($0["seq"] as? NSNumber)?.int64Value ?? 0) > seen })
            #expect(resumed["replayed"] as? Int == 2 && (resumed["after_seq"] as? NSNumber)?.int64Value == seen, "\(resumed)")
            try await planes.deposit(f, member: 0, minor: 4_000)
            let live = try await back.waitEvents(3)
            #expect(live.compactMap { Self.data($0, "amount_minor") as? Int } == [2_000, 3_000, 4_000], "then live, once: \(back.transcript)")

            // Events past retention are gone: a resume from before them is told, then gets what is kept.
            let session = try await planes.session(f)
            let purged = try await session.run { try await EventLog($0).purge(publishedBefore: planes.clock.now().addingTimeInterval(3_600), limit: 1_000) }
            #expect(purged >= 5)
            try await planes.deposit(f, member: 0, minor: 5_000)
            let lastKept = try #require(Self.seqs(try await back.waitEvents(4)).last)
            let late = Self.open(planes, f, token: f.members[0].token, label: "late")
            try await late.wait(type: "stream.ready")
            try await late.subscribe(["accounts"])
            try late.send(["action": "resume", "after_seq": 0])
            let gap = try await late.wait(type: "stream.gap")
            #expect((gap["first_available_seq"] as? NSNumber)?.int64Value == lastKept, "\(gap)")
            try await late.wait(type: "stream.resumed")
            #expect(late.events.compactMap { Self.data($0, "amount_minor") as? Int } == [5_000], "\(late.transcript)")
            for stream in [staff, back, late] { await stream.close() }
        }
    }

    @Test("a stream without credentials is closed after the auth window; bad tokens, early actions and plain GETs get clear answers")
    func authentication() async throws {
        let harness = try await Harness.get()
        // The window, short so the test need not wait: only the silent stream meets it.
        try await harness.withPlanes(data: { $0.streamAuthSeconds = 0.3 }) { planes in
            let f = try await planes.provisionFixture(prefix: "wa")
            let silent = Self.open(planes, f, token: nil, label: "silent")
            let closed = try await silent.waitClosed()
            #expect(closed.code == 1008 && closed.reason.contains("authenticate within"), "\(closed)")
        }
        // The rest on a plane whose window a loaded machine cannot outrun (the eager stream once took longer than
        // 0.3 s to send its first action with a core kept busy, and met the window instead of the refusal).
        try await harness.withPlanes(data: { $0.streamAuthSeconds = 60 }, relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "wa")
            let forged = Self.open(planes, f, token: nil, label: "forged")
            try forged.send(["action": "auth", "token": "not.a.token"])
            let refused = try await forged.waitClosed()
            #expect(refused.code == 1008 && refused.reason.hasPrefix("authentication failed"), "\(refused)")

            let eager = Self.open(planes, f, token: nil, label: "eager")
            try eager.send(["action": "subscribe", "topics": ["accounts"]])
            let early = try await eager.waitClosed()
            #expect(early.code == 1008 && early.reason.contains("authenticate first"), "\(early)")

            // A bearer token on the upgrade that is refused: the upgrade is answered as a problem.
            let elsewhere = try await planes.provisionFixture(prefix: "wb")
            let crossed = Self.open(planes, f, token: elsewhere.members[0].token, label: "crossed")
            let crossedEnd = try await crossed.waitClosed()
            #expect(crossed.state.refused.withLock { $0 } != nil && crossed.messages.isEmpty, "\(crossedEnd)")
            let plain = try await planes.data(.get, "/v1/stream", token: f.members[0].token, tenant: f.slug)
            #expect(plain.status.code == 426 && plain.problemCode == "upgrade-required" && plain.headers[.upgrade] == "websocket", "\(plain.text)")
            #expect(try await planes.data(.get, "/v1/stream", token: elsewhere.members[0].token, tenant: f.slug).status == .forbidden)
            #expect(try await planes.data(.get, "/v1/stream", token: "garbage", tenant: f.slug).status == .unauthorized)

            let member = Self.open(planes, f, token: f.members[0].token, label: "member")
            try await member.wait(type: "stream.ready")
            try member.send(["action": "subscribe", "topics": ["accounts", "weather"]])
            let unknown = try await member.wait(type: "error")
            #expect(unknown["code"] as? String == "unknown-topic" && (unknown["message"] as? String)?.contains("remittances") == true, "\(unknown)")
            member.sendRaw("not json")
            try await member.wait(for: "bad-message") { $0.contains { $0["code"] as? String == "bad-message" } }
            // Another caller's token cannot take a stream over.
            try member.send(["action": "auth", "token": f.members[1].token])
            try await member.wait(for: "wrong-caller") { $0.contains { $0["code"] as? String == "wrong-caller" } }
            await member.close()
        }
    }

    @Test("a stream closes when its token expires (on the platform clock) or is revoked; a fresh token sent in time keeps it open")
    func credentials() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock()
        // Staff tokens outlive the moves (the test deposits through staff); members' last 900 s.
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = 86_400 })
        try await harness.withPlanes(control: control, clock: clock, relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "wc")
            let expiring = Self.open(planes, f, token: f.members[0].token, label: "expiring")
            try await expiring.wait(type: "stream.ready")

            // Member 1 logs in afresh (with a refresh token), streams, and logs out.
            let login = try await planes.data(
                .post, "/v1/auth/login", tenant: f.slug, json: ["email": "member1@\(f.slug).test", "password": "member password 1!"])
            let access = try #require(login.json["access_token"] as? String)
            let refresh = try #require(login.json["refresh_token"] as? String)
            let revoked = Self.open(planes, f, token: access, label: "revoked")
            try await revoked.wait(type: "stream.ready")
            let logout = try await planes.data(.post, "/v1/auth/logout", token: access, tenant: f.slug, json: ["refresh_token": refresh])
            #expect(logout.status == .noContent)
            clock.advance(seconds: 1)
            let revokedEnd = try await revoked.waitClosed()
            #expect(revokedEnd.code == 1008 && revokedEnd.reason.contains("revoked"), "\(revokedEnd)")
            #expect(expiring.state.ended.withLock { $0 } == nil, "the other stream stays open")

            // A stream whose caller sends a fresh token before expiry lives on.
            let renewed = Self.open(planes, f, token: f.members[0].token, label: "renewed")
            try await renewed.wait(type: "stream.ready")
            clock.advance(seconds: 600)
            let fresh = try await planes.login(planes.dp, email: "member0@\(f.slug).test", password: "member password 0!", tenant: f.slug)
            try renewed.send(["action": "auth", "token": fresh])
            try await renewed.wait(type: "stream.authenticated")
            clock.advance(seconds: 400)
            let expired = try await expiring.waitClosed()
            #expect(expired.code == 1008 && expired.reason.contains("expired"), "\(expired)")
            // Its own token still has 500 s: renewed stays (a later event proves it is still served).
            try await renewed.subscribe(["accounts"])
            try await planes.deposit(f, member: 0, minor: 1_500)
            #expect(Self.data(try await renewed.waitEvents(1)[0], "amount_minor") as? Int == 1_500)
            await renewed.close()
        }
    }

    @Test("two tenants, many subscribers, writes at once: every stream gets exactly its own events, none of the other tenant's")
    func isolation() async throws {
        let harness = try await Harness.get()
        // No periodic sweep during the test: every event comes through the wake after its COMMIT.
        try await harness.withPlanes(data: { $0.events.sweepInterval = .seconds(3_600) }, relay: true) { planes in
            let a = try await planes.provisionFixture(prefix: "wi")
            let b = try await planes.provisionFixture(prefix: "wi")
            // Per tenant: three streams per member, two staff streams.
            var streams: [(fixture: Planes.Fixture, member: Int?, client: StreamClient)] = []
            for f in [a, b] {
                for member in 0..<2 {
                    for copy in 0..<3 {
                        streams.append((f, member, Self.open(planes, f, token: f.members[member].token, label: "\(f.slug) member \(member) #\(copy)")))
                    }
                }
                for copy in 0..<2 { streams.append((f, nil, Self.open(planes, f, token: f.staffToken, label: "\(f.slug) staff #\(copy)"))) }
            }
            for stream in streams {
                try await stream.client.wait(type: "stream.ready")
                try await stream.client.subscribe(["accounts", "remittances"])
            }
            let deposits = 4
            try await withThrowingTaskGroup(of: Void.self) { group in
                for f in [a, b] {
                    for member in 0..<2 {
                        for index in 0..<deposits { group.addTask { try await planes.deposit(f, member: member, minor: 100 * (index + 1) + member) } }
                    }
                }
                try await group.waitForAll()
            }
            for stream in streams {
                let expected = stream.member == nil ? 2 * deposits : deposits
                let events = try await stream.client.waitEvents(expected)
                try Self.checkShape(events)
                let accounts = Set(events.compactMap { Self.data($0, "account_id") as? String })
                let own = stream.member.map { [stream.fixture.members[$0].accountID] } ?? stream.fixture.members.map(\.accountID)
                #expect(accounts == Set(own), "\(stream.client.label) got \(accounts)")
                #expect(Self.seqs(events) == Self.seqs(events).sorted())
            }
            // Nothing more trails in: another deposit in each tenant arrives alone after them.
            for f in [a, b] { try await planes.deposit(f, member: 0, minor: 1) }
            for stream in streams where stream.member != 1 {
                let expected = (stream.member == nil ? 2 * deposits : deposits) + 1
                let events = try await stream.client.waitEvents(expected)
                #expect(events.count == expected && Self.data(events.last!, "amount_minor") as? Int == 1, "\(stream.client.transcript)")
            }
            for stream in streams { await stream.client.close() }
        }
    }

    @Test("two relays number one tenant's concurrent events once each, gap-free, and both planes fan them all out")
    func twoRelays() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "w2")
            // A second data plane's relay and hub, on the same database.
            let second = harness.dataPlane(jwksPort: planes.cp.port!, adjust: { planes.scope.install(&$0) }, clock: .movable(planes.clock))
            let collected = Mutex<[Int64]>([])
            let tenant = try await planes.tenantRef(f)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await second.eventRelay().run() }
                defer { group.cancelAll() }
                try await second.events.subscribe(
                    tenant,
                    .init(
                        id: UUID(), offer: { event in collected.withLock { $0.append(event.seq) }; return true }, close: { _ in },
                        credential: { (.distantFuture, "") }))
                let staff = Self.open(planes, f, token: f.staffToken, label: "staff")
                try await staff.wait(type: "stream.ready")
                try await staff.subscribe(["accounts"])
                let deposits = 24
                try await withThrowingTaskGroup(of: Void.self) { inner in
                    for index in 0..<deposits { inner.addTask { try await planes.deposit(f, member: index % 2, minor: 10 + index) } }
                    try await inner.waitForAll()
                }
                let events = try await staff.waitEvents(deposits)
                let seqs = Self.seqs(events)
                #expect(seqs.count == deposits && seqs == Array(seqs.first!...seqs.last!), "gap-free and once each: \(seqs)")
                let fanned = try await eventually { collected.withLock { $0.count >= deposits } ? collected.withLock { $0 } : nil }
                #expect(fanned == seqs, "the second plane's hub got the same events in the same order")
                let session = try await planes.session(f)
                let unpublished = try await session.run { db in
                    try await db.query("SELECT count(*)::int8 FROM outbox_events WHERE seq IS NULL OR published_at IS NULL").first(Int64.self)
                }
                #expect(unpublished == 0)
                await staff.close()
            }
        }
    }

    @Test("a subscriber that cannot keep up is dropped with a reason instead of buffered without bound")
    func slowConsumer() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "ws")
            let tenant = try await planes.tenantRef(f)
            let closed = Mutex<EventHub.Closing?>(nil)
            let offered = Mutex(0)
            try await planes.data.events.subscribe(
                tenant,
                .init(
                    id: UUID(), offer: { _ in offered.withLock { $0 += 1 }; return false }, close: { reason in closed.withLock { $0 = reason } },
                    credential: { (.distantFuture, "") }))
            try await planes.deposit(f, member: 0, minor: 100)
            let reason = try await eventually { closed.withLock { $0 } }
            #expect(reason == .slowConsumer(pending: 1))
            #expect(reason?.reason.contains("slow consumer") == true)
            // It is no longer offered anything.
            try await planes.deposit(f, member: 0, minor: 200)
            let staff = Self.open(planes, f, token: f.staffToken, label: "staff")
            try await staff.wait(type: "stream.ready")
            try await staff.subscribe(["accounts"])
            try await planes.deposit(f, member: 0, minor: 300)
            try await staff.waitEvents(1)
            #expect(offered.withLock { $0 } == 1)
            await staff.close()
        }
    }
}
