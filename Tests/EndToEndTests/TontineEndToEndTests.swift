import Crypto
import Foundation
import HTTPTypes
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaTestSupport
import Testing
import Tontine

/// Tontine circles end to end on the real stack, with the platform clock frozen and moved by the
/// test (the scheduler is drained after each move, as its service does when the clock moves).
@Suite("Tontine")
struct TontineEndToEndTests {
    /// 2027-01-04 10:00 UTC: the day before the first due date the tests use.
    static let start = Date(timeIntervalSince1970: 1_799_056_800)
    static let contribution = 10_000

    /// Both planes on one clock frozen at `start`; tokens outlive the weeks (a loan's months) the tests move it.
    static func withPlanes(_ harness: Harness, _ body: @Sendable (Planes) async throws -> Void) async throws {
        let clock = MovableClock(frozenAt: start)
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = 400 * 86_400 })
        try await harness.withPlanes(control: control, data: { $0.tokenLifetimeSeconds = 400 * 86_400 }, clock: clock, body)
    }

    @Test("a full rotation of 5 autopay members ends completed, the pool at 0 and every member even")
    func fullRotation() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let (people, circle, started) = try await planes.startedCircle(f, count: 5, autopay: true, byOrganizer: true)
            #expect(started.status == .ok, "\(started.text)")
            let cycles = try #require(started.json["cycles"] as? [[String: Any]])
            #expect(cycles.map { $0["due_date"] as? String } == ["2027-01-05", "2027-01-12", "2027-01-19", "2027-01-26", "2027-02-02"])
            #expect(cycles.map { $0["recipient_id"] as? String } == people.map(\.id), "join order")

            // Each due day: autopay takes every contribution and the recipient is paid at once.
            planes.clock.advance(seconds: 14 * 3600 + 1)
            for cycle in 1...5 {
                try await planes.tontineDrain(f)
                let record = try await planes.circle(f, circle)
                let view = try #require((record["cycles"] as? [[String: Any]])?[cycle - 1])
                #expect(view["status"] as? String == "paid", "cycle \(cycle): \(view)")
                #expect((view["paid"] as? [String: Any])?["amount"] as? Int == 5 * Self.contribution)
                if cycle < 5 { planes.clock.advance(seconds: 7 * 86_400) }
            }
            let record = try await planes.circle(f, circle)
            #expect(record["state"] as? String == "completed")
            #expect((record["pool_balance"] as? [String: Any])?["amount"] as? Int == 0)
            // Each paid in 5 contributions and received 5: even, having received 4 from the others.
            for person in people { #expect(try await planes.accountBalance(f, person.account) == 10 * Self.contribution) }
            for member in record["members"] as? [[String: Any]] ?? [] {
                let standing = member["standing"] as? [String: Any]
                #expect((standing?["balance"] as? [String: Any])?["amount"] as? Int == 0 && standing?["received"] as? Bool == true)
            }
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("position pricing: early turns pay the fee, late turns share it, each shown with its annual rate at start, and the pool still ends at 0")
    func positionPricing() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let (people, circle, started) = try await planes.startedCircle(f, count: 4, autopay: true, extra: ["early_fee_bps": 200])
            let cycles = try #require(started.json["cycles"] as? [[String: Any]])
            // 4 × 10,000 = 40,000 per turn; 2% of it is 800, paid by turns 1 and 2, shared by turns 3 and 4.
            #expect(cycles.map { ($0["adjustment"] as? [String: Any])?["amount"] as? Int } == [-800, -800, 800, 800])
            #expect(cycles.map { ($0["payout"] as? [String: Any])?["amount"] as? Int } == [39_200, 39_200, 40_800, 40_800])
            #expect(cycles.map { $0["annualised_rate_bps"] as? Int } == [-6_933, -20_800, 20_800, 6_933])
            planes.clock.advance(seconds: 14 * 3600 + 1)
            for cycle in 1...4 {
                try await planes.tontineDrain(f)
                #expect(try await planes.cycleStatus(f, circle, cycle) == "paid")
                if cycle < 4 { planes.clock.advance(seconds: 7 * 86_400) }
            }
            let record = try await planes.circle(f, circle)
            #expect(record["state"] as? String == "completed" && (record["pool_balance"] as? [String: Any])?["amount"] as? Int == 0)
            let balances = try await people.asyncMap { try await planes.accountBalance(f, $0.account) }
            #expect(balances == [99_200, 99_200, 100_800, 100_800])
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("an autopay refused for funds at the start of the due day is retried once at 23:00, still on time; the others pay at once")
    func autopayRetry() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let people = try await planes.tontinePeople(f, count: 3)
            for person in people.prefix(2) { try await planes.depositTo(f, account: person.account, minor: 10 * Self.contribution) }
            let circle = try await planes.createCircle(f, by: people[0], autopay: true)
            for person in people.dropFirst() { try await planes.join(f, circle, person, autopay: true) }
            #expect(try await planes.data(.post, "/v1/tontines/\(circle)/start", token: f.staffToken, tenant: f.slug, json: [:]).status == .ok)
            planes.clock.advance(seconds: 14 * 3600 + 1)
            try await planes.tontineDrain(f)
            var first = try #require((try await planes.circle(f, circle))["cycles"] as? [[String: Any]]).first
            #expect(first?["missing"] as? [String] == [people[2].id] && first?["status"] as? String == "open")
            try await planes.depositTo(f, account: people[2].account, minor: 10 * Self.contribution)
            planes.clock.advance(seconds: 23 * 3600 - 1)  // 23:00:00 of the due day
            try await planes.tontineDrain(f)
            first = try #require((try await planes.circle(f, circle))["cycles"] as? [[String: Any]]).first
            #expect(first?["status"] as? String == "paid" && (first?["missing"] as? [String])?.isEmpty == true, "\(String(describing: first))")
            let record = try await planes.data(.get, "/v1/members/\(people[2].id)/tontine-record", token: f.staffToken, tenant: f.slug)
            planes.clock.advance(seconds: 86_400)
            let later = try await planes.data(.get, "/v1/members/\(people[2].id)/tontine-record", token: f.staffToken, tenant: f.slug)
            #expect(record.status == .ok && later.json["paid_on_time"] as? Int == 1 && later.json["paid_late"] as? Int == 0, "\(later.text)")
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("a random draw publishes the seed's SHA-256 at creation and an order anyone recomputes from the seed at start")
    func verifiableDraw() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let people = try await planes.tontinePeople(f, count: 4)
            let circle = try await planes.createCircle(f, by: people[0], order: "random")
            for person in people.dropFirst() { try await planes.join(f, circle, person) }
            let forming = try await planes.circle(f, circle, token: people[1].token)
            let commitment = try #require(forming["seed_commitment"] as? String)
            #expect(forming["seed"] == nil || forming["seed"] is NSNull)
            let started = try await planes.data(.post, "/v1/tontines/\(circle)/start", token: f.staffToken, tenant: f.slug, json: [:])
            #expect(started.status == .ok, "\(started.text)")
            let seed = try #require(started.json["seed"] as? String)
            #expect(Data(SHA256.hash(data: Data(seed.utf8))).map { String(format: "%02x", $0) }.joined() == commitment)
            let expected = Rotation.order(people.map { MemberID($0.id)! }, by: .random, seed: seed).map(\.description)
            let recipients = (started.json["cycles"] as? [[String: Any]] ?? []).compactMap { $0["recipient_id"] as? String }
            #expect(recipients == expected)
        }
    }

    @Test("with the guarantee on, a default is advanced so the recipient is paid on time, and the arrears come back from the next payment with a late fee")
    func guaranteeAndLateFee() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            try await planes.setTontineConfig(f, ["late_fee": ["fixed_minor": ["CAD": 200], "bps": 100], "guarantee": true])
            let (people, circle, _) = try await planes.startedCircle(f, count: 3, graceDays: 2, byOrganizer: true)
            for person in people.prefix(2) { #expect(try await planes.contribute(f, circle, cycle: 1, person).status == .created) }
            // Due day: one is missing, nothing is paid yet (grace runs two days).
            planes.clock.advance(seconds: 14 * 3600 + 1)
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "open")
            // End of grace (the start of 2027-01-08): the guarantee advances the missing one.
            planes.clock.advance(seconds: 3 * 86_400)
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "paid")
            #expect(try await planes.accountBalance(f, people[0].account) == 10 * Self.contribution - Self.contribution + 3 * Self.contribution)
            var record = try await planes.circle(f, circle)
            let penalty = 200 + Self.contribution / 100
            #expect(try planes.standing(record, people[2].id)["arrears"] == Self.contribution + penalty)
            // Cycle 2 (due 2027-01-12): the defaulter pays a day late: contribution + late fee + arrears, in one journal.
            planes.clock.advance(seconds: 5 * 86_400)
            for person in people.prefix(2) { #expect(try await planes.contribute(f, circle, cycle: 2, person).status == .created) }
            let late = try await planes.contribute(f, circle, cycle: 2, people[2])
            #expect(late.status == .created, "\(late.text)")
            #expect((late.json["late_fee"] as? [String: Any])?["amount"] as? Int == penalty)
            #expect((late.json["arrears_recovered"] as? [String: Any])?["amount"] as? Int == Self.contribution + penalty)
            #expect(try await planes.accountBalance(f, people[2].account) == 10 * Self.contribution - 2 * Self.contribution - 2 * penalty)
            // Complete and past its due day: paid at once.
            #expect(try await planes.cycleStatus(f, circle, 2) == "paid")
            record = try await planes.circle(f, circle)
            #expect(try planes.standing(record, people[2].id)["arrears"] == 0)
            #expect(try await planes.ledgerFindings(f).isEmpty)
            // The credit record: the defaulter missed cycle 1 (advanced) and paid cycle 2 late; the organizer paid 1 on time, 2 late.
            let record2 = try await planes.data(.get, "/v1/members/\(people[2].id)/tontine-record", token: people[2].token, tenant: f.slug)
            #expect(record2.status == .ok, "\(record2.text)")
            #expect(record2.json["cycles_due"] as? Int == 2 && record2.json["paid_on_time"] as? Int == 0 && record2.json["paid_late"] as? Int == 1)
            #expect(record2.json["missed"] as? Int == 1 && record2.json["on_time_bps"] as? Int == 0)
            let record0 = try await planes.data(.get, "/v1/members/\(people[0].id)/tontine-record", token: f.staffToken, tenant: f.slug)
            #expect(record0.json["paid_on_time"] as? Int == 1 && record0.json["on_time_bps"] as? Int == 5_000, "\(record0.text)")
            #expect(try await planes.data(.get, "/v1/members/\(people[0].id)/tontine-record", token: people[2].token, tenant: f.slug).status == .notFound)
            // A second contribution to the same cycle is refused.
            let again = try await planes.contribute(f, circle, cycle: 2, people[0])
            #expect(again.status == .conflict && again.problemCode == "cycle-closed", "\(again.text)")
        }
    }

    @Test("with the guarantee off, a cycle missing money goes short until it arrives; a paid member who then misses is delinquent with a case open")
    func shortAndDelinquent() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let people = try await planes.tontinePeople(f, count: 2)
            for person in people { try await planes.depositTo(f, account: person.account, minor: 10 * Self.contribution) }
            let circle = try await planes.createCircle(f, by: people[0], graceDays: 0)
            try await planes.join(f, circle, people[1])
            #expect(try await planes.data(.post, "/v1/tontines/\(circle)/start", token: f.staffToken, tenant: f.slug, json: [:]).status == .ok)
            #expect(try await planes.contribute(f, circle, cycle: 1, people[0]).status == .created)
            planes.clock.advance(seconds: 14 * 3600 + 86_400 + 1)  // the start of the day after the due day: grace 0 is over
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "short")
            let late = try await planes.contribute(f, circle, cycle: 1, people[1])
            #expect(late.status == .created && late.json["late"] as? Bool == true, "\(late.text)")
            #expect(try await planes.cycleStatus(f, circle, 1) == "paid")
            // Cycle 2: member 0 was paid in cycle 1 and now misses.
            #expect(try await planes.contribute(f, circle, cycle: 2, people[1]).status == .created)
            planes.clock.advance(seconds: 7 * 86_400)
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 2) == "short")
            let record = try await planes.circle(f, circle)
            let member = (record["members"] as? [[String: Any]] ?? []).first { $0["member_id"] as? String == people[0].id }
            #expect((member?["standing"] as? [String: Any])?["delinquent"] as? Bool == true)
            let cases = try await planes.data(.get, "/v1/compliance/cases", token: f.staffToken, tenant: f.slug)
            #expect(cases.text.contains("missed cycle 2"), "\(cases.text)")
            // Staff resolve the short cycle: the guarantee advances the missing contribution, the recipient is paid.
            let advanced = try await planes.data(
                .post, "/v1/tontines/\(circle)/cycles/2/advance", token: f.staffToken, tenant: f.slug, json: ["reason": "Member in hospital; the credit union advances"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(advanced.status == .ok, "\(advanced.text)")
            #expect(try await planes.cycleStatus(f, circle, 2) == "paid")
            #expect(try planes.standing(advanced.json, people[0].id)["arrears"] == Self.contribution)
            let twice = try await planes.data(
                .post, "/v1/tontines/\(circle)/cycles/2/advance", token: f.staffToken, tenant: f.slug, json: ["reason": "Again"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(twice.status == .conflict, "\(twice.text)")
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("20 concurrent contributions to one cycle under repeated keys are each counted once; another tenant sees none of it")
    func concurrentContributionsAndIsolation() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let other = try await planes.provisionFixture(prefix: "tn_other")
            let (people, circle, _) = try await planes.startedCircle(f, count: 4)
            let otherCircle = try await planes.createCircle(other, by: (other.members[0].id, other.members[0].token, other.members[0].accountID))
            // Each member sends their contribution five times at once under one key; the other tenant works meanwhile.
            let replies = try await withThrowingTaskGroup(of: (Int, Planes.Reply).self) { group in
                for (index, person) in people.enumerated() {
                    let key = UUID().uuidString
                    for _ in 0..<5 { group.addTask { (index, try await planes.contribute(f, circle, cycle: 1, person, key: key)) } }
                }
                group.addTask { (-1, try await planes.data(.get, "/v1/tontines/\(otherCircle)", token: other.staffToken, tenant: other.slug)) }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (index, reply) in replies where index >= 0 {
                #expect(reply.status == .created || reply.problemCode == "idempotency-in-progress", "\(reply.status) \(reply.text)")
            }
            for index in people.indices {
                let bodies = Set(replies.filter { $0.0 == index && $0.1.status == .created }.map(\.1.text))
                #expect(bodies.count == 1, "one answer per key, replayed byte for byte")
            }
            #expect(replies.first { $0.0 == -1 }?.1.status == .ok)
            let record = try await planes.circle(f, circle)
            let first = try #require((record["cycles"] as? [[String: Any]])?.first)
            #expect((first["contributed"] as? [String])?.count == 4 && (first["missing"] as? [String])?.isEmpty == true)
            #expect((record["pool_balance"] as? [String: Any])?["amount"] as? Int == 4 * Self.contribution)
            for person in people { #expect(try await planes.accountBalance(f, person.account) == 9 * Self.contribution) }
            // Complete before its due day: paid on the due day, not before.
            #expect(first["status"] as? String == "open")
            planes.clock.advance(seconds: 14 * 3600 + 1)
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "paid")
            // The other tenant's staff and members find nothing of it.
            #expect(try await planes.data(.get, "/v1/tontines/\(circle)", token: other.staffToken, tenant: other.slug).status == .notFound)
            let theirs = try await planes.data(.get, "/v1/tontines", token: other.staffToken, tenant: other.slug)
            #expect((theirs.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [otherCircle])
            #expect(try await planes.data(.get, "/v1/tontines/\(otherCircle)", token: f.staffToken, tenant: f.slug).status == .notFound)
            #expect(try await planes.ledgerFindings(f).isEmpty)
            #expect(try await planes.ledgerFindings(other).isEmpty)
        }
    }

    @Test("a swap exchanges two unpaid turns with both consents; an upheld dispute refunds a contribution through the ledger")
    func swapAndDispute() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let (people, circle, _) = try await planes.startedCircle(f, count: 3)
            // Member 1 (cycle 2) asks member 2 (cycle 3); only member 2 may accept.
            let asked = try await planes.data(.post, "/v1/tontines/\(circle)/swaps", token: people[1].token, tenant: f.slug, json: ["with_member_id": people[2].id])
            #expect(asked.status == .created, "\(asked.text)")
            let swap = try #require((asked.json["swaps"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await planes.data(.post, "/v1/tontines/\(circle)/swaps/\(swap)/accept", token: people[1].token, tenant: f.slug).status == .forbidden)
            let accepted = try await planes.data(.post, "/v1/tontines/\(circle)/swaps/\(swap)/accept", token: people[2].token, tenant: f.slug)
            #expect(accepted.status == .ok, "\(accepted.text)")
            let recipients = (accepted.json["cycles"] as? [[String: Any]] ?? []).compactMap { $0["recipient_id"] as? String }
            #expect(recipients == [people[0].id, people[2].id, people[1].id])
            let again = try await planes.data(.post, "/v1/tontines/\(circle)/swaps/\(swap)/decline", token: people[1].token, tenant: f.slug)
            #expect(again.status == .conflict && again.problemCode == "invalid-transition", "\(again.text)")
            // A swap asked and withdrawn by its requester.
            let second = try await planes.data(.post, "/v1/tontines/\(circle)/swaps", token: people[0].token, tenant: f.slug, json: ["with_member_id": people[1].id])
            let secondID = try #require((second.json["swaps"] as? [[String: Any]])?.first { $0["status"] as? String == "requested" }?["id"] as? String)
            #expect(try await planes.data(.post, "/v1/tontines/\(circle)/swaps/\(secondID)/decline", token: people[0].token, tenant: f.slug).status == .ok)

            // Member 2 contributes, disputes it, staff uphold with a refund: the money comes back and may be paid again.
            #expect(try await planes.contribute(f, circle, cycle: 1, people[2]).status == .created)
            let opened = try await planes.data(
                .post, "/v1/tontines/\(circle)/disputes", token: people[2].token, tenant: f.slug, json: ["cycle": 1, "reason": "Debited from the wrong account"])
            #expect(opened.status == .created, "\(opened.text)")
            let dispute = try #require(opened.json["id"] as? String)
            let resolved = try await planes.data(
                .post, "/v1/tontines/\(circle)/disputes/\(dispute)/resolve", token: f.staffToken, tenant: f.slug,
                json: ["outcome": "upheld", "action": "refund_contribution", "reason": "Confirmed with the member"], headers: [.idempotencyKey: UUID().uuidString])
            #expect(resolved.status == .ok, "\(resolved.text)")
            #expect(try await planes.accountBalance(f, people[2].account) == 10 * Self.contribution)
            let view = try #require((resolved.json["cycles"] as? [[String: Any]])?.first)
            #expect((view["missing"] as? [String])?.contains(people[2].id) == true)
            #expect((resolved.json["disputes"] as? [[String: Any]])?.first?["status"] as? String == "upheld")
            #expect(try await planes.contribute(f, circle, cycle: 1, people[2]).status == .created)
            // Turns already paid cannot be swapped.
            for person in people.prefix(2) { #expect(try await planes.contribute(f, circle, cycle: 1, person).status == .created) }
            planes.clock.advance(seconds: 14 * 3600 + 1)
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "paid")
            let paidTurn = try await planes.data(.post, "/v1/tontines/\(circle)/swaps", token: people[1].token, tenant: f.slug, json: ["with_member_id": people[0].id])
            #expect(paidTurn.status == .conflict && paidTurn.problemCode == "turn-paid", "\(paidTurn.text)")
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("dissolution mid-way refunds who paid in more, books arrears for who received more, and the pool ends at 0")
    func dissolution() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let (people, circle, _) = try await planes.startedCircle(f, count: 3)
            for person in people { #expect(try await planes.contribute(f, circle, cycle: 1, person).status == .created) }
            planes.clock.advance(seconds: 14 * 3600 + 1)
            try await planes.tontineDrain(f)
            for person in people.prefix(2) { #expect(try await planes.contribute(f, circle, cycle: 2, person).status == .created) }
            let refused = try await planes.data(
                .post, "/v1/tontines/\(circle)/dissolve", token: people[0].token, tenant: f.slug, json: ["reason": "We disagree"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(refused.status == .forbidden)
            let dissolved = try await planes.data(
                .post, "/v1/tontines/\(circle)/dissolve", token: f.staffToken, tenant: f.slug, json: ["reason": "Members asked to stop"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(dissolved.status == .ok, "\(dissolved.text)")
            #expect(dissolved.json["state"] as? String == "dissolved")
            #expect((dissolved.json["pool_balance"] as? [String: Any])?["amount"] as? Int == 0)
            #expect((dissolved.json["cycles"] as? [[String: Any]] ?? []).map { $0["status"] as? String } == ["paid", "cancelled", "cancelled"])
            // Member 0 paid 2 and received 3: owes one; member 1 paid 2, member 2 paid 1: refunded.
            #expect(try await planes.accountBalance(f, people[0].account) == 11 * Self.contribution)
            #expect(try await planes.accountBalance(f, people[1].account) == 10 * Self.contribution)
            #expect(try await planes.accountBalance(f, people[2].account) == 10 * Self.contribution)
            #expect(try planes.standing(dissolved.json, people[0].id)["arrears"] == Self.contribution)
            #expect(try await planes.ledgerFindings(f).isEmpty)
            let late = try await planes.contribute(f, circle, cycle: 3, people[2])
            #expect(late.status == .conflict, "\(late.text)")
        }
    }

    @Test("400 tontine requests from 8 concurrent clients alternating two tenants never see the other tenant's circles, members or money")
    func isolationUnderConcurrency() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let a = try await planes.provisionFixture(prefix: "tn_iso_a")
            let b = try await planes.provisionFixture(prefix: "tn_iso_b")
            var circles: [String: String] = [:]
            var people: [String: [Planes.Person]] = [:]
            for f in [a, b] {
                let mine = try await planes.tontinePeople(f, count: 2)
                for person in mine { try await planes.depositTo(f, account: person.account, minor: 100 * Self.contribution) }
                let circle = try await planes.createCircle(f, by: mine[0])
                try await planes.join(f, circle, mine[1])
                #expect(try await planes.data(.post, "/v1/tontines/\(circle)/start", token: f.staffToken, tenant: f.slug, json: [:]).status == .ok)
                (circles[f.slug], people[f.slug]) = (circle, mine)
            }
            let fixtures = [a, b]
            let (circleOf, peopleOf) = (circles, people)
            let violations = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var problems: [String] = []
                        for request in 0..<50 {
                            let f = fixtures[(client + request) % 2]
                            let other = fixtures[(client + request + 1) % 2]
                            let person = peopleOf[f.slug]![request % 2]
                            let reply: Planes.Reply
                            switch request % 4 {
                            case 0: reply = try await planes.data(.get, "/v1/tontines", token: f.staffToken, tenant: f.slug)
                            case 1: reply = try await planes.data(.get, "/v1/tontines/\(circleOf[f.slug]!)", token: person.token, tenant: f.slug)
                            case 2: reply = try await planes.data(.get, "/v1/members/\(person.id)/tontine-record", token: person.token, tenant: f.slug)
                            default:
                                // Contributions to the circle's cycles, each once: later ones are refused as already in.
                                reply = try await planes.contribute(f, circleOf[f.slug]!, cycle: 1 + (request / 4) % 2, peopleOf[f.slug]![(client + request / 8) % 2])
                            }
                            if reply.status.code >= 500 || reply.status == .notFound || reply.status == .forbidden {
                                problems.append("\(f.slug) \(reply.status): \(reply.text)")
                            }
                            let foreign = [circleOf[other.slug]!] + peopleOf[other.slug]!.flatMap { [$0.id, $0.account] }
                            for id in foreign where reply.text.contains(id) { problems.append("\(f.slug) saw \(other.slug)'s \(id)") }
                            // Another tenant's circle does not exist here, for its staff or its members.
                            if request % 10 == 0 {
                                let probe = try await planes.data(.get, "/v1/tontines/\(circleOf[other.slug]!)", token: f.staffToken, tenant: f.slug)
                                if probe.status != .notFound { problems.append("\(f.slug) reached \(other.slug)'s circle: \(probe.status)") }
                            }
                        }
                        return problems
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(violations.isEmpty, "\(violations.prefix(5))")
            for f in fixtures {
                #expect(try await planes.ledgerFindings(f).isEmpty)
                let record = try await planes.circle(f, circles[f.slug]!)
                #expect((record["cycles"] as? [[String: Any]] ?? []).prefix(2).allSatisfy { ($0["contributed"] as? [String])?.count == 2 })
            }
        }
    }

    @Test("payouts out of turn: a later cycle paid first never completes the circle early; it completes when the last unpaid cycle is paid")
    func outOfTurn() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let (people, circle, _) = try await planes.startedCircle(f, count: 2, graceDays: 7)
            #expect(try await planes.contribute(f, circle, cycle: 1, people[0]).status == .created)
            planes.clock.advance(seconds: 14 * 3600 + 7 * 86_400 + 1)  // cycle 2's due day, cycle 1 still in grace
            for person in people { #expect(try await planes.contribute(f, circle, cycle: 2, person).status == .created) }
            #expect(try await planes.cycleStatus(f, circle, 2) == "paid")
            #expect((try await planes.circle(f, circle))["state"] as? String == "active")
            planes.clock.advance(seconds: 86_400)  // cycle 1's grace is over: short (no guarantee)
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "short")
            #expect(try await planes.contribute(f, circle, cycle: 1, people[1]).status == .created)
            let record = try await planes.circle(f, circle)
            #expect(record["state"] as? String == "completed" && (record["pool_balance"] as? [String: Any])?["amount"] as? Int == 0)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("a payout the recipient's account refuses leaves the contributions in; the cycle is paid once the account is open again")
    func refusedPayout() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let (people, circle, _) = try await planes.startedCircle(f, count: 2)
            planes.clock.advance(seconds: 14 * 3600 + 1)
            #expect(try await planes.contribute(f, circle, cycle: 1, people[0]).status == .created)
            let frozen = try await planes.data(
                .post, "/v1/accounts/\(people[0].account)/status", token: f.staffToken, tenant: f.slug, json: ["status": "frozen", "reason": "Under review"])
            #expect(frozen.status == .ok, "\(frozen.text)")
            let last = try await planes.contribute(f, circle, cycle: 1, people[1])
            #expect(last.status == .created, "\(last.text)")
            #expect(try await planes.cycleStatus(f, circle, 1) == "open")
            #expect(try await planes.accountBalance(f, people[1].account) == 9 * Self.contribution)
            let open = try await planes.data(
                .post, "/v1/accounts/\(people[0].account)/status", token: f.staffToken, tenant: f.slug, json: ["status": "open", "reason": "Cleared"])
            #expect(open.status == .ok, "\(open.text)")
            planes.clock.advance(seconds: 2 * 86_400)  // the end of grace pays a complete cycle
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "paid")
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("dissolution nets a member's refund against what they still owe from a default, and opens a case for who is left owing")
    func dissolutionWithArrears() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            try await planes.setTontineConfig(f, ["late_fee": ["bps": 100], "guarantee": true])
            let (people, circle, _) = try await planes.startedCircle(f, count: 3, graceDays: 0)
            for person in people.prefix(2) { #expect(try await planes.contribute(f, circle, cycle: 1, person).status == .created) }
            planes.clock.advance(seconds: 14 * 3600 + 86_400 + 1)  // grace 0 over: member 2's contribution is advanced
            try await planes.tontineDrain(f)
            #expect(try await planes.cycleStatus(f, circle, 1) == "paid")
            let dissolved = try await planes.data(
                .post, "/v1/tontines/\(circle)/dissolve", token: f.staffToken, tenant: f.slug, json: ["reason": "Members asked to stop"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(dissolved.status == .ok, "\(dissolved.text)")
            // Member 0 paid 1 and received 3: owes 2. Member 1 paid 1: refunded. Member 2's advance is recovered from
            // their refund, so nothing reaches them; the 1% penalty (100) stays owed.
            #expect(try await planes.accountBalance(f, people[0].account) == 12 * Self.contribution)
            #expect(try await planes.accountBalance(f, people[1].account) == 10 * Self.contribution)
            #expect(try await planes.accountBalance(f, people[2].account) == 10 * Self.contribution)
            #expect(try planes.standing(dissolved.json, people[0].id)["arrears"] == 2 * Self.contribution)
            #expect(try planes.standing(dissolved.json, people[0].id)["balance"] == -2 * Self.contribution)
            #expect(try planes.standing(dissolved.json, people[1].id)["balance"] == 0)
            #expect(try planes.standing(dissolved.json, people[2].id)["arrears"] == 100)
            let cases = try await planes.data(.get, "/v1/compliance/cases", token: f.staffToken, tenant: f.slug)
            #expect(cases.text.contains("dissolved"), "\(cases.text)")
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("bad input is a 422 naming every field, and writes nothing")
    func badInput() async throws {
        let harness = try await Harness.get()
        try await Self.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "tn")
            let reply = try await planes.data(
                .post, "/v1/tontines", token: f.members[0].token, tenant: f.slug,
                json: ["name": "", "contribution": ["amount": -5, "currency": "CAD"], "frequency": "daily", "max_members": 80, "order": "lottery",
                       "grace_days": 30, "first_due_date": "2026-02-30", "payout_account_id": f.members[0].accountID])
            #expect(reply.status == .unprocessableContent)
            let fields = Set((reply.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["name", "contribution.amount", "frequency", "max_members", "order", "grace_days", "first_due_date"], "\(reply.text)")
            let foreign = try await planes.data(
                .post, "/v1/tontines", token: f.members[0].token, tenant: f.slug,
                json: ["name": "Njangi", "contribution": ["amount": 100, "currency": "CAD"], "frequency": "weekly", "max_members": 5,
                       "first_due_date": "2027-01-05", "payout_account_id": f.members[1].accountID])
            #expect(foreign.status == .unprocessableContent && foreign.text.contains("payout_account_id"), "\(foreign.text)")
            let list = try await planes.data(.get, "/v1/tontines", token: f.staffToken, tenant: f.slug)
            #expect((list.json["data"] as? [Any])?.isEmpty == true)
        }
    }
}

/// Request plumbing for the tontine tests.
extension Planes {
    typealias Person = (id: String, token: String, account: String)

    /// The fixture's two members and as many more as asked, each with a CAD chequing account.
    func tontinePeople(_ f: Fixture, count: Int) async throws -> [Person] {
        var people: [Person] = f.members.map { ($0.id, $0.token, $0.accountID) }
        while people.count < count {
            let index = people.count
            let email = "circle\(index)@\(f.slug).test"
            let member = try await data(
                .post, "/v1/members", token: f.staffToken, tenant: f.slug,
                json: ["email": email, "full_name": "Circle Member \(index)", "password": "member password \(index)!"])
            try #require(member.status == .created, "member failed: \(member.text)")
            let id = try #require(member.json["id"] as? String)
            let account = try await data(.post, "/v1/accounts", token: f.staffToken, tenant: f.slug, json: ["kind": "chequing", "currency": "CAD", "member_id": id])
            try #require(account.status == .created, "account failed: \(account.text)")
            let token = try await login(dp, email: email, password: "member password \(index)!", tenant: f.slug)
            people.append((id, token, try #require(account.json["id"] as? String)))
        }
        return Array(people.prefix(count))
    }

    /// `count` members, each with 10 contributions in their account, in a circle the first creates
    /// (with `autopay` and `extra` terms) and the others join, started by staff (or its organizer).
    func startedCircle(
        _ f: Fixture, count: Int, graceDays: Int = 1, autopay: Bool = false, extra: [String: Any] = [:], byOrganizer: Bool = false
    ) async throws -> (people: [Person], circle: String, started: Reply) {
        let people = try await tontinePeople(f, count: count)
        for person in people { try await depositTo(f, account: person.account, minor: 10 * TontineEndToEndTests.contribution) }
        let circle = try await createCircle(f, by: people[0], graceDays: graceDays, autopay: autopay, extra: extra)
        for person in people.dropFirst() { try await join(f, circle, person, autopay: autopay) }
        let started = try await data(.post, "/v1/tontines/\(circle)/start", token: byOrganizer ? people[0].token : f.staffToken, tenant: f.slug, json: [:])
        try #require(started.status == .ok, "start failed: \(started.text)")
        return (people, circle, started)
    }

    func depositTo(_ f: Fixture, account: String, minor: Int) async throws {
        let reply = try await data(
            .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": account, "amount": minor, "currency": "CAD"],
            headers: [.idempotencyKey: UUID().uuidString])
        try #require(reply.status == .created, "deposit failed: \(reply.text)")
    }

    func accountBalance(_ f: Fixture, _ account: String) async throws -> Int {
        let reply = try await data(.get, "/v1/accounts/\(account)", token: f.staffToken, tenant: f.slug)
        return ((reply.json["ledger_balance"] as? [String: Any])?["amount"] as? Int) ?? -1
    }

    func setTontineConfig(_ f: Fixture, _ section: [String: Any]) async throws {
        try await setConfigSection(f, "tontine", section)
    }

    /// Replaces one section of the tenant's configuration through the control plane.
    func setConfigSection(_ f: Fixture, _ key: String, _ section: [String: Any]) async throws {
        let path = "/v1/tenants/\(f.slug)/config"
        let current = try await control(.get, path, token: f.staffToken)
        var config = try #require(current.json["config"] as? [String: Any])
        config[key] = section
        let put = try await control(
            .put, path, token: f.staffToken, json: ["config": config, "reason": "\(key) terms"],
            headers: [HTTPField.Name("If-Match")!: current.headers[HTTPField.Name("ETag")!] ?? ""])
        try #require(put.status == .ok, "\(put.text)")
    }

    func createCircle(
        _ f: Fixture, by person: Person, order: String = "join", graceDays: Int = 1, autopay: Bool = false, amount: Int = TontineEndToEndTests.contribution,
        extra: [String: Any] = [:]
    ) async throws -> String {
        var body: [String: Any] = [
            "name": "Njangi \(f.slug)", "contribution": ["amount": amount, "currency": "CAD"], "frequency": "weekly", "max_members": 10, "order": order,
            "grace_days": graceDays, "first_due_date": "2027-01-05", "payout_account_id": person.account,
        ]
        if autopay { body["autopay_account_id"] = person.account }
        body.merge(extra) { $1 }
        let reply = try await data(.post, "/v1/tontines", token: person.token, tenant: f.slug, json: body)
        try #require(reply.status == .created, "create failed: \(reply.text)")
        return try #require(reply.json["id"] as? String)
    }

    func join(_ f: Fixture, _ circle: String, _ person: Person, autopay: Bool = false) async throws {
        var body: [String: Any] = ["payout_account_id": person.account]
        if autopay { body["autopay_account_id"] = person.account }
        let reply = try await data(.post, "/v1/tontines/\(circle)/join", token: person.token, tenant: f.slug, json: body)
        try #require(reply.status == .ok, "join failed: \(reply.text)")
    }

    func contribute(_ f: Fixture, _ circle: String, cycle: Int, _ person: Person, key: String = UUID().uuidString) async throws -> Reply {
        try await data(
            .post, "/v1/tontines/\(circle)/contributions", token: person.token, tenant: f.slug, json: ["cycle": cycle, "account_id": person.account],
            headers: [.idempotencyKey: key])
    }

    func circle(_ f: Fixture, _ id: String, token: String? = nil) async throws -> [String: Any] {
        let reply = try await data(.get, "/v1/tontines/\(id)", token: token ?? f.staffToken, tenant: f.slug)
        try #require(reply.status == .ok, "\(reply.text)")
        return reply.json
    }

    func cycleStatus(_ f: Fixture, _ circle: String, _ cycle: Int) async throws -> String? {
        ((try await self.circle(f, circle))["cycles"] as? [[String: Any]])?[cycle - 1]["status"] as? String
    }

    /// A member's standing figures (minor units) from a circle's record.
    func standing(_ record: [String: Any], _ member: String) throws -> [String: Int] {
        let view = try #require((record["members"] as? [[String: Any]])?.first { $0["member_id"] as? String == member })
        let standing = try #require(view["standing"] as? [String: Any])
        var figures: [String: Int] = [:]
        for (key, value) in standing { if let amount = (value as? [String: Any])?["amount"] as? Int { figures[key] = amount } }
        return figures
    }

    /// Runs the scheduler over the tenant's due cycles, as its service does when the clock moves.
    func tontineDrain(_ f: Fixture) async throws {
        await data.tontineScheduler.drain(try await tenantRef(f))
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
