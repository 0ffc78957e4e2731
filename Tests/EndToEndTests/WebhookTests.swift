import DataPlane
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NzilaCore
import NzilaDatabase
import NzilaTestSupport
import Synchronization
import Testing

/// Tenant webhooks end to end: a stand-in receiver on loopback (as `nzila dev` allows), the relay
/// and the dispatcher running, the platform clock moved by the test.
@Suite("Tenant webhooks")
struct WebhookTests {
    /// What the receiver got, and how it answers, per path name.
    final class Receiver: Sendable {
        struct Hit: Sendable {
            let name: String
            let headers: [String: String]
            let body: Data
            var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
            /// A request header, by its name in any case.
            func header(_ name: String) -> String? { headers[name.lowercased()] }
        }

        let hits = Mutex<[Hit]>([])
        /// The status each name answers (200 unless set).
        let answers = Mutex<[String: Int]>([:])

        func answer(_ name: String, _ status: Int) { answers.withLock { $0[name] = status } }
        func got(_ name: String) -> [Hit] { hits.withLock { $0.filter { $0.name == name } } }

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.post("/hooks/{name}") { request, context -> Response in
                let name = context.parameters.get("name") ?? ""
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
                self.hits.withLock { $0.append(Hit(name: name, headers: headers, body: Data(buffer: body))) }
                let status = self.answers.withLock { $0[name] } ?? 200
                var out: HTTPFields = [:]
                if status == 302 { out[.location] = "http://169.254.169.254/latest/meta-data/" }
                return Response(status: .init(code: status), headers: out)
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    /// 2027-03-01 12:00 UTC, frozen: the test moves it. Tokens outlive the days it moves.
    static let start = Date(timeIntervalSince1970: 1_803_902_400)

    static func withStack(
        _ harness: Harness, data adjust: @escaping @Sendable (inout DataPlane.Settings) -> Void = { _ in },
        _ body: @Sendable (Planes, Receiver, Int) async throws -> Void
    ) async throws {
        let clock = MovableClock(frozenAt: start)
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = 30 * 86_400 })
        let receiver = Receiver()
        try await receiver.application().test(.live) { hooks in
            try await harness.withPlanes(
                control: control,
                data: {
                    $0.tokenLifetimeSeconds = 30 * 86_400
                    adjust(&$0)
                }, clock: clock, relay: true
            ) { planes in
                try await body(planes, receiver, hooks.port!)
            }
        }
    }

    static func endpoint(_ planes: Planes, _ f: Planes.Fixture, url: String, types: [String]) async throws -> Planes.Reply {
        try await planes.data(.post, "/v1/webhook-endpoints", token: f.staffToken, tenant: f.slug, json: ["url": url, "event_types": types, "description": "core banking"])
    }

    static func deliveries(_ planes: Planes, _ f: Planes.Fixture, _ endpoint: String) async throws -> [[String: Any]] {
        let reply = try await planes.data(.get, "/v1/webhook-endpoints/\(endpoint)/deliveries", token: f.staffToken, tenant: f.slug)
        try #require(reply.status == .ok, "\(reply.text)")
        return reply.json["data"] as? [[String: Any]] ?? []
    }

    /// The first delivery the receiver got of the balance event for `amount` (delivery is at least
    /// once: the receiver de-duplicates by event id).
    static func hit(_ receiver: Receiver, _ name: String, amount: Int) async throws -> Receiver.Hit? {
        try await eventually { receiver.got(name).first { ($0.json["data"] as? [String: Any])?["amount_minor"] as? Int == amount } }
    }

    /// The signatures (`v1=`) of a delivery's header, each checked against `secret` at the platform's now.
    static func verifies(_ hit: Receiver.Hit, secret: String, now: Date) -> Bool {
        WebhookSignature.verify(header: hit.header("Nzila-Signature"), secret: secret, body: hit.body, nowSeconds: Int64(now.timeIntervalSince1970)) == nil
    }

    @Test("deliveries reach the endpoint signed with the secret shown once, carry the event's id, type and tenant; rotation signs with both for 24 h")
    func signedDeliveries() async throws {
        let harness = try await Harness.get()
        try await Self.withStack(harness) { planes, receiver, port in
            let f = try await planes.provisionFixture(prefix: "wh")
            let created = try await Self.endpoint(planes, f, url: "http://127.0.0.1:\(port)/hooks/accounts", types: ["account.*"])
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["id"] as? String)
            let secret = try #require(created.json["secret"] as? String)
            #expect(secret.hasPrefix("whsec_") && secret.count > 40)
            let narrow = try await Self.endpoint(planes, f, url: "http://127.0.0.1:\(port)/hooks/delivered", types: ["remittance.delivered.v1"])
            let narrowID = try #require(narrow.json["id"] as? String)
            let shown = try await planes.data(.get, "/v1/webhook-endpoints/\(id)", token: f.staffToken, tenant: f.slug)
            #expect(shown.status == .ok && shown.json["secret"] == nil && !shown.text.contains(secret), "the secret is shown once")
            let listed = try await planes.data(.get, "/v1/webhook-endpoints", token: f.staffToken, tenant: f.slug)
            #expect((listed.json["data"] as? [[String: Any]])?.count == 2 && !listed.text.contains("whsec_"))

            try await planes.deposit(f, member: 0, minor: 12_345)
            let first = try #require(try await eventually { receiver.got("accounts").first }, "the deposit's event was never delivered")
            #expect(Self.verifies(first, secret: secret, now: planes.clock.now()), "\(first.headers)")
            #expect(!Self.verifies(first, secret: "whsec_not-it", now: planes.clock.now()))
            let event = first.json
            #expect(event["type"] as? String == "account.balance_changed.v1" && event["tenant"] as? String == f.slug, "\(event)")
            #expect(first.header("Nzila-Event-Id") == event["id"] as? String && first.header("Nzila-Event-Type") == "account.balance_changed.v1")
            let data = try #require(event["data"] as? [String: Any])
            #expect(data["account_id"] as? String == f.members[0].accountID && data["amount_minor"] as? Int == 12_345)
            #expect(EventSchemas.check("account.balance_changed.v1", try JSONSerialization.data(withJSONObject: data)).isEmpty)
            #expect(Set(event.keys) == ["id", "seq", "type", "occurred_at", "tenant", "data"])

            // The delivery and its attempt are listed; the narrow endpoint got nothing of it.
            let listedDeliveries = try #require(try await eventually {
                let all = try await Self.deliveries(planes, f, id)
                return all.first?["status"] as? String == "succeeded" ? all : nil
            })
            let attempts = try #require(listedDeliveries[0]["attempt_log"] as? [[String: Any]])
            #expect(attempts.count == 1 && attempts[0]["status_code"] as? Int == 200 && (attempts[0]["latency_ms"] as? Int ?? -1) >= 0, "\(attempts)")
            #expect(listedDeliveries[0]["event_id"] as? String == event["id"] as? String)
            #expect(try await Self.deliveries(planes, f, narrowID).isEmpty && receiver.got("delivered").isEmpty)

            // Rotation: the new secret, shown once; both sign for 24 hours, then only the new one.
            let rotated = try await planes.data(.post, "/v1/webhook-endpoints/\(id)/rotate", token: f.staffToken, tenant: f.slug)
            let fresh = try #require(rotated.json["secret"] as? String)
            #expect(fresh != secret && rotated.json["previous_secret_expires_at"] as? String != nil)
            try await planes.deposit(f, member: 0, minor: 2)
            let second = try #require(try await Self.hit(receiver, "accounts", amount: 2))
            #expect(Self.verifies(second, secret: fresh, now: planes.clock.now()) && Self.verifies(second, secret: secret, now: planes.clock.now()))
            planes.clock.advance(seconds: 86_401)
            try await planes.deposit(f, member: 0, minor: 3)
            let third = try #require(try await Self.hit(receiver, "accounts", amount: 3))
            #expect(Self.verifies(third, secret: fresh, now: planes.clock.now()) && !Self.verifies(third, secret: secret, now: planes.clock.now()))
            #expect(Set(receiver.got("accounts").compactMap { $0.header("Nzila-Event-Id") }).count == 3 && receiver.got("accounts").count == 3, "each once")

            // Deleted: nothing more goes to it.
            let deleted = try await planes.data(.delete, "/v1/webhook-endpoints/\(id)", token: f.staffToken, tenant: f.slug)
            #expect(deleted.status == .ok && deleted.json["status"] as? String == "deleted")
            #expect(try await planes.data(.get, "/v1/webhook-endpoints/\(id)", token: f.staffToken, tenant: f.slug).status == .notFound)
        }
    }

    @Test("a failing endpoint is retried with growing waits on the platform clock, dead-lettered after 3 days, then disabled and staff told; enable and a manual retry deliver")
    func retriesAndDeadLetter() async throws {
        let harness = try await Harness.get()
        try await Self.withStack(harness) { planes, receiver, port in
            let f = try await planes.provisionFixture(prefix: "wd")
            receiver.answer("down", 500)
            let created = try await Self.endpoint(planes, f, url: "http://127.0.0.1:\(port)/hooks/down", types: ["*"])
            let id = try #require(created.json["id"] as? String)
            let staff = StreamClient(port: planes.dp.port!, tenant: f.slug, token: f.staffToken, label: "staff", logger: harness.logger)
            try await staff.wait(type: "stream.ready")
            try await staff.subscribe(["webhooks"])

            try await planes.deposit(f, member: 0, minor: 500)
            let queuedAt = planes.clock.now()
            // Each retry comes when it is due (the clock moved just past it), with a longer wait each time.
            var waits: [TimeInterval] = []
            var delivery: [String: Any] = [:]
            for round in 1...40 {
                var seen: [String: Any]?
                let happened = try await eventually {
                    seen = try await Self.deliveries(planes, f, id).first
                    return (seen?["attempts"] as? Int ?? 0) >= round && (seen?["attempt_log"] as? [Any])?.count == round
                }
                try #require(happened, "attempt \(round) never happened by \(planes.clock.now().rfc3339): \(seen ?? [:])")
                delivery = try #require(seen)
                guard delivery["status"] as? String == "pending" else { break }
                let next = try #require((delivery["next_attempt_at"] as? String).flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) })
                waits.append(next.timeIntervalSince(planes.clock.now()))
                planes.clock.advance(seconds: next.timeIntervalSince(planes.clock.now()) + 1)
            }
            #expect(delivery["status"] as? String == "dead" && delivery["last_status_code"] as? Int == 500, "\(delivery)")
            let attempts = delivery["attempts"] as? Int ?? 0
            #expect((16...23).contains(attempts), "16 to 23 attempts over 3 days: \(attempts), waits \(waits)")
            // Each wait is at least the one before (until they reach the 6–12 h cap), the first 15–30 s.
            #expect(zip(waits, waits.dropFirst()).allSatisfy { $0.1 >= $0.0 - 1 || $0.0 >= 6 * 3_600 - 1 }, "\(waits)")
            #expect((14...31).contains(waits.first ?? 0) && (waits.max() ?? 0) <= 12 * 3_600 + 1, "\(waits)")
            #expect(planes.clock.now().timeIntervalSince(queuedAt) <= 3 * 86_400 + 1)
            #expect(receiver.got("down").count == attempts, "one request per attempt")
            #expect(Set(receiver.got("down").compactMap { $0.header("Nzila-Event-Id") }).count == 1, "every attempt carries the same event id")

            // Still failing 3 days after its first failure: the next failure disables it, and staff hear of it.
            planes.clock.advance(seconds: queuedAt.addingTimeInterval(3 * 86_400 + 60).timeIntervalSince(planes.clock.now()))
            try await planes.deposit(f, member: 0, minor: 600)
            let disabledEvent = try await staff.wait(for: "webhook.endpoint_disabled.v1") { $0.contains { $0["type"] as? String == "webhook.endpoint_disabled.v1" } }
                .first { $0["type"] as? String == "webhook.endpoint_disabled.v1" }!
            #expect((disabledEvent["data"] as? [String: Any])?["endpoint_id"] as? String == id)
            let shown = try await planes.data(.get, "/v1/webhook-endpoints/\(id)", token: f.staffToken, tenant: f.slug)
            #expect(shown.json["status"] as? String == "disabled" && (shown.json["disabled_reason"] as? String)?.contains("HTTP 500") == true, "\(shown.text)")

            // A manual retry waits for the endpoint to be enabled; once it is (and answers), both arrive.
            let deadID = try #require(delivery["id"] as? String)
            let refused = try await planes.data(.post, "/v1/webhook-deliveries/\(deadID)/retry", token: f.staffToken, tenant: f.slug)
            #expect(refused.status == .conflict && refused.problemCode == "endpoint-not-enabled", "\(refused.text)")
            receiver.answer("down", 200)
            #expect(try await planes.data(.post, "/v1/webhook-endpoints/\(id)/enable", token: f.staffToken, tenant: f.slug).json["status"] as? String == "enabled")
            let retried = try await planes.data(.post, "/v1/webhook-deliveries/\(deadID)/retry", token: f.staffToken, tenant: f.slug)
            #expect(retried.status == .accepted && retried.json["status"] as? String == "pending", "\(retried.text)")
            let settled = try await eventually {
                let all = try await Self.deliveries(planes, f, id)
                return all.count == 2 && all.allSatisfy { $0["status"] as? String == "succeeded" } ? all : nil
            }
            #expect(settled != nil, "both delivered once enabled")
            #expect(try await planes.data(.post, "/v1/webhook-deliveries/\(UUID())/retry", token: f.staffToken, tenant: f.slug).status == .notFound)
            await staff.close()
        }
    }

    @Test("no server-side request forgery: private, metadata and loopback targets are refused at creation and, by their resolved address, at delivery; redirects are not followed")
    func ssrf() async throws {
        let harness = try await Harness.get()
        // DNS answers of the test's own: a name that resolves to the cloud metadata address, and one
        // that resolves to a public and a private address at once.
        let resolver: @Sendable (String, Int) async throws -> [NetworkAddress] = { host, _ in
            switch host {
            case "metadata.nzila.test": [NetworkAddress("169.254.169.254")!]
            case "mixed.nzila.test": [NetworkAddress("93.184.216.34")!, NetworkAddress("10.1.2.3")!]
            default: []
            }
        }
        try await Self.withStack(harness, data: { $0.webhooks.allowLoopback = false; $0.webhooks.resolver = resolver }) { planes, receiver, port in
            let f = try await planes.provisionFixture(prefix: "wf")
            for url in [
                "https://10.0.0.7/hook", "https://169.254.169.254/latest/meta-data", "https://[fd00:ec2::254]/", "https://[::ffff:127.0.0.1]/x",
                "https://127.0.0.1:\(port)/hooks/x", "https://localhost/hook", "http://example.com/hook", "http://127.0.0.1:\(port)/hooks/x",
                "https://user:pw@example.com/hook", "ftp://example.com/", "not a url", "https://192.168.1.1/", "https://100.64.0.1/",
            ] {
                let reply = try await Self.endpoint(planes, f, url: url, types: ["*"])
                #expect(reply.status == .unprocessableContent && reply.text.contains("\"url\""), "\(url) was accepted: \(reply.text)")
            }
            let badType = try await Self.endpoint(planes, f, url: "https://example.com/hook", types: ["remittance.teleported.v1"])
            #expect(badType.status == .unprocessableContent && badType.text.contains("event_types"))

            // Names pass creation; what they resolve to is checked at every delivery.
            let metadata = try #require(try await Self.endpoint(planes, f, url: "https://metadata.nzila.test/hook", types: ["account.*"]).json["id"] as? String)
            let mixed = try #require(try await Self.endpoint(planes, f, url: "https://mixed.nzila.test/hook", types: ["account.*"]).json["id"] as? String)
            try await planes.deposit(f, member: 0, minor: 100)
            for (id, address) in [(metadata, "169.254.169.254"), (mixed, "10.1.2.3")] {
                let attempt = try #require(try await eventually {
                    (try await Self.deliveries(planes, f, id).first?["attempt_log"] as? [[String: Any]])?.first
                })
                #expect(attempt["status_code"] == nil && (attempt["error"] as? String)?.contains("resolves to \(address)") == true, "\(attempt)")
            }
        }
        // Redirects are answers, never followed (to a metadata address here).
        try await Self.withStack(harness) { planes, receiver, port in
            let f = try await planes.provisionFixture(prefix: "wf")
            receiver.answer("moved", 302)
            let id = try #require(try await Self.endpoint(planes, f, url: "http://127.0.0.1:\(port)/hooks/moved", types: ["account.*"]).json["id"] as? String)
            try await planes.deposit(f, member: 0, minor: 100)
            let attempt = try #require(try await eventually { (try await Self.deliveries(planes, f, id).first?["attempt_log"] as? [[String: Any]])?.first })
            #expect(attempt["status_code"] as? Int == 302 && receiver.got("moved").count == 1, "\(attempt)")
        }
    }

    @Test("endpoints are the tenant admin's: other roles, members and other tenants are refused; each tenant's endpoint gets only its own events")
    func accessAndIsolation() async throws {
        let harness = try await Harness.get()
        try await Self.withStack(harness) { planes, receiver, port in
            let a = try await planes.provisionFixture(prefix: "wi")
            let b = try await planes.provisionFixture(prefix: "wi")
            let endpointA = try #require(try await Self.endpoint(planes, a, url: "http://127.0.0.1:\(port)/hooks/a", types: ["*"]).json["id"] as? String)
            _ = try #require(try await Self.endpoint(planes, b, url: "http://127.0.0.1:\(port)/hooks/b", types: ["*"]).json["id"] as? String)

            let admin = try await planes.adminToken()
            let tellerEmail = "teller@\(a.slug).test"
            _ = try await planes.control(.post, "/v1/tenants/\(a.slug)/staff", token: admin, json: ["email": tellerEmail, "password": "staff password 123", "role": "teller"])
            let teller = try await planes.login(planes.cp, email: tellerEmail, password: "staff password 123")
            #expect(try await planes.data(.get, "/v1/webhook-endpoints", token: teller, tenant: a.slug).status == .forbidden)
            #expect(try await planes.data(.get, "/v1/webhook-endpoints", token: a.members[0].token, tenant: a.slug).status == .forbidden)
            #expect(try await planes.data(.get, "/v1/webhook-endpoints/\(endpointA)", token: b.staffToken, tenant: b.slug).status == .notFound)
            #expect(try await planes.data(.get, "/v1/webhook-endpoints/\(endpointA)", token: b.staffToken, tenant: a.slug).status == .forbidden)

            try await withThrowingTaskGroup(of: Void.self) { group in
                for f in [a, b] {
                    for index in 0..<3 { group.addTask { try await planes.deposit(f, member: index % 2, minor: 10 + index) } }
                }
                try await group.waitForAll()
            }
            _ = try await eventually { receiver.got("a").count >= 3 && receiver.got("b").count >= 3 }
            for (name, f) in [("a", a), ("b", b)] {
                let hits = receiver.got(name)
                #expect(hits.count == 3 && hits.allSatisfy { $0.json["tenant"] as? String == f.slug }, "\(name): \(hits.map(\.json))")
                let accounts = Set(hits.compactMap { ($0.json["data"] as? [String: Any])?["account_id"] as? String })
                #expect(accounts.isSubset(of: Set(f.members.map(\.accountID))))
            }
        }
    }
}
