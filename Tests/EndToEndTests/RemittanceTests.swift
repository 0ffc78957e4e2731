import Banking
import Ledger
import DataPlane
import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import Remittance
import Testing

@Suite("Remittances end to end")
struct RemittanceEndToEndTests {
    @Test("each payout method: order → funded → converting → disbursing → delivered, logged and evented; clearing back to zero; replay is byte for byte",
          arguments: [("CAD-NGN", "mobile_money"), ("CAD-NGN", "bank_deposit"), ("CAD-XAF", "cash_pickup")])
    func happyPath(corridor: String, method: String) async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rem")
            try await planes.deposit(f, member: 0, minor: 50_000)
            let key = UUID().uuidString
            let quote = try await planes.quoteID(f, member: 0, corridor: corridor, method: method, sendMinor: 10_000)
            let body: [String: Any] = [
                "quote_id": quote, "recipient": Planes.recipient(method, name: "Ada Bello"), "account_id": f.members[0].accountID, "device_id": "phone-1",
            ]
            func post(_ json: [String: Any]) async throws -> Planes.Reply {
                try await planes.data(.post, "/v1/remittances", token: f.members[0].token, tenant: f.slug, json: json, headers: [.idempotencyKey: key])
            }
            let placed = try await post(body)
            #expect(placed.status == .created, "\(placed.text)")
            let id = try #require(placed.json["id"] as? String)
            #expect(placed.json["state"] as? String == "converting")
            #expect(planes.states(placed.json) == ["created", "awaiting_funding", "funded", "screening", "converting"])
            let total = try #require((placed.json["total_debit"] as? [String: Any])?["amount"] as? Int)
            #expect(try await planes.balance(f, member: 0).ledger == 50_000 - total)
            // The recipient's numbers are sealed: the order shows a hint only.
            let recipient = try #require(placed.json["recipient"] as? [String: Any])
            #expect(!placed.text.contains("0123456789") && !placed.text.contains("8031234567") && !placed.text.contains("CM-99887766"))
            #expect((recipient["hint"] as? String)?.count == 4)

            let replay = try await post(body)
            #expect(replay.status == .created && replay.body == placed.body && replay.headers[.idempotentReplayed] == "true")
            var other = body
            other["device_id"] = "phone-2"
            #expect(try await post(other).problemCode == "idempotency-key-reused")
            #expect(try await planes.balance(f, member: 0).ledger == 50_000 - total, "the replay moved nothing")

            try await planes.drain(f)
            let delivered = try await planes.order(f, id)
            #expect(delivered.json(["state"]) == "delivered", "\(delivered)")
            #expect(planes.states(delivered) == ["created", "awaiting_funding", "funded", "screening", "converting", "disbursing", "delivered"])
            #expect(delivered["partner"] as? String != nil && delivered["delivery_journal_id"] as? String != nil)
            #expect(try await planes.clearingBalances(f).values.allSatisfy { $0 == 0 }, "clearing nets to zero in both currencies")
            #expect(try await planes.ledgerFindings(f).isEmpty)

            // The member lists it; another member does not see it; the outbox has one event per state.
            let mine = try await planes.data(.get, "/v1/remittances", token: f.members[0].token, tenant: f.slug)
            #expect((mine.json["data"] as? [[String: Any]])?.first?["id"] as? String == id)
            #expect(try await planes.data(.get, "/v1/remittances/\(id)", token: f.members[1].token, tenant: f.slug).status == .notFound)
            let events = try await planes.session(f).run { db in
                try await db.query("SELECT topic FROM outbox_events WHERE aggregate_id = \(UUID(uuidString: id)!) ORDER BY id").all(String.self)
            }
            #expect(events == planes.states(delivered).map { "remittance.\($0).v1" })
            let attempts = try await planes.session(f).run { db in
                try await db.query("SELECT status, reference FROM partner_attempts WHERE remittance_id = \(UUID(uuidString: id)!) ORDER BY attempt")
                    .all((String, String).self)
            }
            #expect(attempts.count == 1 && attempts[0].0 == "succeeded" && attempts[0].1 == id, "one attempt, settled, the order id as reference: \(attempts)")
        }
    }

    @Test("a partner that declines is skipped for the next; when every partner declines the member is refunded in full, fee included")
    func failoverAndRefund() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rfo")
            try await planes.deposit(f, member: 0, minor: 50_000)
            let failover = try await planes.remit(f, name: "Ada Momofail")
            let failoverID = try #require(failover.json["id"] as? String, "\(failover.text)")
            try await planes.drain(f)
            let paid = try await planes.order(f, failoverID)
            #expect(paid.json(["state"]) == "delivered" && paid["partner"] as? String == "sandbox-cash" && paid["attempts"] as? Int == 2, "\(paid)")
            let tried = try await planes.session(f).run { db in
                try await db.query("SELECT partner, status FROM partner_attempts WHERE remittance_id = \(UUID(uuidString: failoverID)!) ORDER BY attempt")
                    .all((String, String).self)
            }
            #expect(tried.map(\.0) == ["sandbox-momo", "sandbox-cash"] && tried.map(\.1) == ["failed", "succeeded"], "\(tried)")

            let before = try await planes.balance(f, member: 0).ledger
            let declined = try await planes.remit(f, name: "Ada Declined")
            let declinedID = try #require(declined.json["id"] as? String)
            #expect(try await planes.balance(f, member: 0).ledger < before)
            try await planes.drain(f)
            let refunded = try await planes.order(f, declinedID)
            #expect(refunded.json(["state"]) == "refunded", "\(refunded)")
            #expect(Array(planes.states(refunded).suffix(3)) == ["disbursing", "failed", "refunded"])
            #expect(try await planes.balance(f, member: 0).ledger == before, "send and fee come back")
            #expect(try await planes.clearingBalances(f).values.allSatisfy { $0 == 0 })
            #expect(try await planes.ledgerFindings(f).isEmpty)
            // A refunded order no longer counts against the member's limits.
            let limits = try await planes.data(.get, "/v1/members/\(f.members[0].id)/limits", token: f.members[0].token, tenant: f.slug)
            #expect((limits.json["thirty_days"] as? [String: Any])?["used_minor"] as? Int == 10_000, "\(limits.text)")
        }
    }

    @Test("a crash between the partner's answer and its record resumes without paying twice")
    func crashBetweenSteps() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rcr")
            try await planes.deposit(f, member: 0, minor: 50_000)
            let placed = try await planes.remit(f, name: "Chidi Okafor")
            let id = try #require(placed.json["id"] as? String, "\(placed.text)")
            struct Crash: Error {}
            let crashing = PayoutStep(partners: planes.data.partners, keys: planes.data.dataKeys, afterPartnerCall: { _ in throw Crash() })
            let session = try await planes.session(f)
            await #expect(throws: Crash.self) { try await crashing.run(UUID(uuidString: id)!, session: session, now: { Date() }) }
            #expect(SandboxPartner.momo.paid(id) && SandboxPartner.momo.calls(id) == 1)
            #expect(try await planes.order(f, id).json(["state"]) == "disbursing")

            // The restarted worker finds the attempt in flight and asks the same partner again.
            let state = try await PayoutStep(partners: planes.data.partners, keys: planes.data.dataKeys).run(UUID(uuidString: id)!, session: session, now: { Date() })
            #expect(state == .delivered)
            #expect(SandboxPartner.momo.calls(id) == 2, "asked twice, under one reference")
            let journals = try await session.run { db in
                try await db.query("SELECT count(*)::int FROM journals WHERE kind = 'remittance_delivery' AND memo LIKE \("%\(id)%")").first(Int.self)
            }
            #expect(journals == 1, "delivered once")
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }
}

@Suite("Remittances under concurrency")
struct RemittanceConcurrencyTests {
    @Test("eight orders at once from an account that covers three: exactly three are funded, none overdraws; another tenant sees none of them")
    func floorHolds() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rcc")
            try await planes.deposit(f, member: 0, minor: 10_000)
            // 30.00 CAD + fee 3.14 = 33.14 each: three fit in 100.00.
            let quotes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 { group.addTask { try await planes.quoteID(f, member: 0, sendMinor: 3_000) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            /// Orders from these quotes all at once, each under its own Idempotency-Key.
            func placeAtOnce(_ quotes: [String], member index: Int) async throws -> [Planes.Reply] {
                try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                    for quote in quotes {
                        group.addTask {
                            try await planes.data(
                                .post, "/v1/remittances", token: f.members[index].token, tenant: f.slug,
                                json: ["quote_id": quote, "recipient": Planes.recipient("mobile_money", name: "Ada Bello"), "account_id": f.members[index].accountID],
                                headers: [.idempotencyKey: UUID().uuidString])
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let replies = try await placeAtOnce(quotes, member: 0)
            let placed = replies.filter { $0.status == .created }
            #expect(placed.count == 3, "\(replies.map { "\($0.status.code) \($0.problemCode ?? "")" })")
            #expect(replies.filter { $0.status != .created }.allSatisfy { $0.problemCode == "insufficient-funds" })
            #expect(replies.allSatisfy { $0.status != .internalServerError })
            let balance = try await planes.balance(f, member: 0)
            #expect(balance.ledger == 10_000 - 3 * 3_314 && balance.available == balance.ledger)
            try await planes.drain(f)
            #expect(try await planes.ledgerFindings(f).isEmpty)

            // One quote, two orders at once under different keys: one is placed, the other is told the quote is used.
            try await planes.deposit(f, member: 1, minor: 10_000)
            let shared = try await planes.quoteID(f, member: 1, sendMinor: 1_000)
            let twice = try await placeAtOnce([shared, shared], member: 1)
            #expect(Set(twice.map(\.status.code)) == [201, 409] && twice.contains { $0.problemCode == "quote-used" }, "\(twice.map(\.text))")
            #expect(try await planes.ledgerFindings(f).isEmpty)

            let other = try await planes.provisionFixture(prefix: "rcx")
            let id = try #require(placed.first?.json["id"] as? String)
            #expect(try await planes.data(.get, "/v1/remittances/\(id)", token: other.staffToken, tenant: other.slug).status == .notFound)
            #expect(try await planes.data(.get, "/v1/remittances/\(id)", token: f.members[0].token, tenant: other.slug).status == .forbidden)
            let theirs = try await planes.data(.get, "/v1/remittances", token: other.staffToken, tenant: other.slug)
            #expect((theirs.json["data"] as? [Any])?.isEmpty == true)
            let stolen = try await planes.data(
                .post, "/v1/remittances", token: other.members[0].token, tenant: other.slug,
                json: ["quote_id": quotes[0], "recipient": Planes.recipient("mobile_money", name: "Ada Bello"), "account_id": other.members[0].accountID],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(stolen.status == .notFound, "another tenant's quote does not exist here: \(stolen.text)")
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    /// A string at a key path, for terse expectations.
    func json(_ path: [String]) -> String? {
        var current: Any? = self
        for key in path { current = (current as? [String: Any])?[key] }
        return current as? String
    }
}
