import Foundation
import HTTPTypes
import Lending
import NzilaCore
import NzilaDatabase
import NzilaTestSupport
import PostgresNIO
import Testing

/// Lending end to end on the real stack, the platform clock frozen at 2027-01-04 10:00 UTC and moved
/// by the test (the scheduler drained after each move, as its service does when the clock moves).
///
/// The product: 100.00–5,000.00 CAD over 3–12 months at 12% declining balance, an origination
/// fee of 1%, a late penalty of 5.00 + 5% after 3 days. A 1,000.00 loan over 12 months disbursed on
/// 2027-01-04 falls due on the 4th of each month at 88.85: the first is 10.00 interest + 78.85
/// principal, the second 9.21 + 79.64, the third 8.42 + 80.43 (half-even: 841.51 cents → 842).
@Suite("Lending")
struct LendingEndToEndTests {
    static let day: TimeInterval = 86_400

    static var productBody: [String: Any] { [
        "name": "Micro-loan", "currency": "CAD", "principal_range": ["min_minor": 10_000, "max_minor": 500_000], "term_range": ["min": 3, "max": 12],
        "frequency": "monthly", "annual_rate_bps": 1_200, "method": "declining_balance", "origination_fee": ["fixed_minor": 0, "bps": 100],
        "grace_instalments": 0, "late_penalty": ["fixed_minor": 500, "bps": 500, "grace_days": 3],
    ] }

    @Test("apply → approve → disburse → pay on time → a missed instalment ages with penalties → catch-up in order → payoff closes at exactly the quote")
    func lifecycle() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "ln")
            try await planes.setConfigSection(f, "lending", ["approve_at": 450, "decline_below": 400])
            let member = f.members[0]
            try await planes.depositTo(f, account: member.accountID, minor: 200_000)
            let product = try await planes.loanProduct(f)

            // The quote: the schedule to the cent, nothing stored.
            let quote = try await planes.data(
                .post, "/v1/loan-quotes", token: member.token, tenant: f.slug,
                json: ["product_id": product, "principal": ["amount": 100_000, "currency": "CAD"], "term": 12])
            #expect(quote.status == .ok, "\(quote.text)")
            let lines = try #require(quote.json["instalments"] as? [[String: Any]])
            #expect(lines.count == 12 && lines.prefix(3).map { $0["total_minor"] as? Int } == [8_885, 8_885, 8_885])
            #expect(lines.prefix(3).map { $0["interest_minor"] as? Int } == [1_000, 921, 842])
            #expect(lines.first?["due_date"] as? String == "2027-02-04" && lines.last?["due_date"] as? String == "2028-01-04")
            #expect(lines.reduce(0) { $0 + ($1["principal_minor"] as? Int ?? 0) } == 100_000)
            #expect((quote.json["disbursed_amount"] as? [String: Any])?["amount"] as? Int == 99_000)
            // 990.00 received against 11 × 88.85 + 88.84: an IRR of 1.1595% a month, 13.914% a year
            // (Python's decimal, 50 digits, bisection), shown as 13.91%.
            #expect(quote.json["apr"] as? String == "13.91%", "\(quote.json["apr"] ?? "")")

            // Apply (with a key: a replay answers the same), approved at once with its score and reasons.
            let key = UUID().uuidString
            let body: [String: Any] = [
                "product_id": product, "principal": ["amount": 100_000, "currency": "CAD"], "term": 12, "purpose": "Sewing machine",
                "account_id": member.accountID,
            ]
            let applied = try await planes.data(.post, "/v1/loans", token: member.token, tenant: f.slug, json: body, headers: [.idempotencyKey: key])
            #expect(applied.status == .created, "\(applied.text)")
            let replay = try await planes.data(.post, "/v1/loans", token: member.token, tenant: f.slug, json: body, headers: [.idempotencyKey: key])
            #expect(replay.status == .created && replay.body == applied.body)
            let loan = try #require(applied.json["id"] as? String)
            #expect(applied.json["state"] as? String == "approved")
            let decision = try #require(applied.json["decision"] as? [String: Any])
            let score = try #require(decision["score"] as? Int)
            let points = (decision["lines"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["points"] as? Int ?? 0) }
            #expect(score == min(900, max(300, 600 + points)), "the score replays from its lines")
            #expect((decision["reasons"] as? [Any])?.count ?? 9 <= 4)

            // Disburse: 1,000.00 less the 10.00 fee reaches the member.
            let before = try await planes.accountBalance(f, member.accountID)
            let disbursed = try await planes.data(.post, "/v1/loans/\(loan)/disburse", token: f.staffToken, tenant: f.slug, headers: [.idempotencyKey: UUID().uuidString])
            #expect(disbursed.status == .ok && disbursed.json["state"] as? String == "disbursed", "\(disbursed.text)")
            #expect(try await planes.accountBalance(f, member.accountID) == before + 99_000)

            // 2027-02-04: the first instalment, on time.
            planes.clock.advance(seconds: 31 * Self.day)
            try await planes.loanDrain(f)
            let first = try await planes.repay(f, loan, 8_885, member)
            #expect(first.status == .created, "\(first.text)")
            #expect(try planes.parts(first) == [[1, 0, 0, 1_000, 7_885]])

            // Asked ahead, the payoff on 2027-03-08 already carries the penalty the second instalment will have by then.
            let ahead = try await planes.data(.get, "/v1/loans/\(loan)/payoff?as_of=2027-03-08", token: member.token, tenant: f.slug)
            #expect((ahead.json["due_charges"] as? [String: Any])?["amount"] as? Int == 921 + 944, "\(ahead.text)")
            let past = try await planes.data(.get, "/v1/loans/\(loan)/payoff?as_of=2027-01-01", token: member.token, tenant: f.slug)
            #expect(past.status == .unprocessableContent)

            // 2027-03-08: the second is 4 days late, past the 3 days of grace: penalised, 1–30.
            planes.clock.advance(seconds: 32 * Self.day)
            try await planes.loanDrain(f)
            var record = try await planes.loan(f, loan)
            #expect(record["bucket"] as? String == "1-30", "\(record)")
            // 2027-04-08: 35 days late (32 after grace), and the third 4 days late: 31–60, two penalties.
            planes.clock.advance(seconds: 31 * Self.day)
            try await planes.loanDrain(f)
            record = try await planes.loan(f, loan)
            #expect(record["bucket"] as? String == "31-60")
            let listed = try await planes.data(.get, "/v1/loans?bucket=31-60", token: f.staffToken, tenant: f.slug)
            #expect((listed.json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [loan], "\(listed.text)")
            let current = try await planes.data(.get, "/v1/loans?bucket=1-30", token: f.staffToken, tenant: f.slug)
            #expect((current.json["data"] as? [Any])?.isEmpty == true)
            let schedule = try await planes.data(.get, "/v1/loans/\(loan)/schedule", token: member.token, tenant: f.slug)
            let booked = try #require(schedule.json["instalments"] as? [[String: Any]])
            #expect(booked.prefix(4).map { $0["penalty_minor"] as? Int } == [0, 944, 944, 0], "5.00 + 5% of 88.85 (4.4425 → 4.44)")
            #expect(booked.prefix(4).map { $0["status"] as? String } == ["paid", "due", "due", "upcoming"])

            // The catch-up: penalty → interest → principal of the second, then of the third.
            let catchUp = try await planes.repay(f, loan, 2 * (8_885 + 944), member)
            #expect(catchUp.status == .created, "\(catchUp.text)")
            #expect(try planes.parts(catchUp) == [[2, 944, 0, 921, 7_964], [3, 944, 0, 842, 8_043]])
            record = try await planes.loan(f, loan)
            #expect(record["bucket"] == nil || record["bucket"] is NSNull, "current again: \(record)")

            // Early payoff on 2027-04-08: 761.08 of principal + 4 days of interest (1.0008… → 1.00); the
            // rest of the scheduled interest is rebated. The quote is what closes the loan.
            let payoff = try await planes.data(.get, "/v1/loans/\(loan)/payoff", token: member.token, tenant: f.slug)
            #expect(payoff.status == .ok, "\(payoff.text)")
            #expect((payoff.json["principal"] as? [String: Any])?["amount"] as? Int == 76_108)
            #expect((payoff.json["accrued_interest"] as? [String: Any])?["amount"] as? Int == 100)
            let total = try #require((payoff.json["total"] as? [String: Any])?["amount"] as? Int)
            #expect(total == 76_208)
            let stale = try await planes.data(
                .post, "/v1/loans/\(loan)/payoff", token: member.token, tenant: f.slug, json: ["account_id": member.accountID, "amount": total + 1],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(stale.status == .conflict && stale.problemCode == "payoff-changed")
            let beforePayoff = try await planes.accountBalance(f, member.accountID)
            let paidOff = try await planes.data(
                .post, "/v1/loans/\(loan)/payoff", token: member.token, tenant: f.slug, json: ["account_id": member.accountID, "amount": total],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(paidOff.status == .created && paidOff.json["loan_state"] as? String == "closed", "\(paidOff.text)")
            #expect(try await planes.accountBalance(f, member.accountID) == beforePayoff - total)
            record = try await planes.loan(f, loan)
            #expect(record["state"] as? String == "closed" && (record["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 0)
            let closed = try await planes.data(.get, "/v1/loans/\(loan)/schedule", token: member.token, tenant: f.slug)
            let statuses = (closed.json["instalments"] as? [[String: Any]] ?? []).map { $0["status"] as? String ?? "" }
            #expect(statuses == ["paid", "paid", "paid"] + Array(repeating: "rebated", count: 9), "\(statuses)")
            let again = try await planes.repay(f, loan, 100, member)
            #expect(again.status == .conflict && again.problemCode == "loan-not-active")
            #expect(try await planes.ledgerFindings(f).isEmpty)
            // The state machine holds in SQL too: a closed loan cannot be moved back, whatever the code does.
            let moved = try? await planes.harness.owner.withTransaction(logger: planes.harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: planes.harness.logger)
                try await connection.query(
                    PostgresQuery(unsafeSQL: "UPDATE t_\(f.slug).loans SET state = 'disbursed' WHERE id = '\(loan)'"), logger: planes.harness.logger)
            }
            #expect(moved == nil, "closed > disbursed refused by the trigger")
            let events = try await planes.outboxTopics(f, aggregate: loan)
            #expect(events.first == "loan.submitted.v1" && events.last == "loan.closed.v1")
            #expect(events.filter { $0 == "loan.penalty_charged.v1" }.count == 2 && events.filter { $0 == "loan.delinquency_changed.v1" }.count == 3, "\(events)")
        }
    }

    @Test("a referred application is decided by staff with a reason; a declined one names its factors; products are held to the cap and their ETag")
    func decisionsAndProducts() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "ln")
            let product = try await planes.loanProduct(f)
            let member = f.members[1]

            // Default cut-offs (approve 640, decline below 560): a newcomer with no balance is declined, with reasons.
            let declined = try await planes.apply(f, product, member)
            #expect(declined.status == .created && declined.json["state"] as? String == "declined", "\(declined.text)")
            let reasons = try #require((declined.json["decision"] as? [String: Any])?["reasons"] as? [[String: Any]])
            #expect(!reasons.isEmpty && reasons.count <= 4 && reasons.allSatisfy { ($0["points"] as? Int ?? 0) < 0 })
            #expect(reasons.first?["factor"] as? String == "tenure" && reasons.contains { $0["factor"] as? String == "kyc_tier" }, "\(reasons)")

            // Between the cut-offs: referred; staff decide, always with a reason.
            try await planes.setConfigSection(f, "lending", ["approve_at": 700, "decline_below": 300])
            let referred = try await planes.apply(f, product, member)
            let loan = try #require(referred.json["id"] as? String)
            #expect(referred.json["state"] as? String == "referred")
            let noReason = try await planes.data(.post, "/v1/loans/\(loan)/decision", token: f.staffToken, tenant: f.slug, json: ["decision": "approved"])
            #expect(noReason.status == .unprocessableContent && noReason.text.contains("reason"))
            let byMember = try await planes.data(
                .post, "/v1/loans/\(loan)/decision", token: member.token, tenant: f.slug, json: ["decision": "approved", "reason": "Mine"])
            #expect(byMember.status == .forbidden)
            let approved = try await planes.data(
                .post, "/v1/loans/\(loan)/decision", token: f.staffToken, tenant: f.slug,
                json: ["decision": "approved", "reason": "Five years of on-time rent paid through the credit union"])
            #expect(approved.status == .ok && approved.json["state"] as? String == "approved", "\(approved.text)")
            let staff = (approved.json["decision"] as? [String: Any])?["staff"] as? [String: Any]
            #expect(staff?["decision"] as? String == "approved" && staff?["role"] as? String == "tenant_admin")
            let twice = try await planes.data(
                .post, "/v1/loans/\(loan)/decision", token: f.staffToken, tenant: f.slug, json: ["decision": "declined", "reason": "Changed my mind"])
            #expect(twice.status == .conflict && twice.problemCode == "invalid-transition")

            // Products: over the cap refused naming the APR; PUT needs the current ETag.
            var costly = Self.productBody
            costly["annual_rate_bps"] = 3_400
            costly["origination_fee"] = ["fixed_minor": 2_500, "bps": 0]
            let refused = try await planes.data(.post, "/v1/loan-products", token: f.staffToken, tenant: f.slug, json: costly)
            #expect(refused.status == .unprocessableContent && refused.problemCode == "rate-cap-exceeded", "\(refused.text)")
            #expect(refused.text.contains("APR of") && refused.text.contains("the cap is 35.00%"))
            let read = try await planes.data(.get, "/v1/loan-products/\(product)", token: member.token, tenant: f.slug)
            let etag = try #require(read.headers[HTTPField.Name("ETag")!])
            #expect(etag == "\"1\"")
            var changed = Self.productBody
            changed["annual_rate_bps"] = 1_500
            let missing = try await planes.data(.put, "/v1/loan-products/\(product)", token: f.staffToken, tenant: f.slug, json: changed)
            #expect(missing.status == .preconditionRequired)
            let put = try await planes.data(
                .put, "/v1/loan-products/\(product)", token: f.staffToken, tenant: f.slug, json: changed, headers: [HTTPField.Name("If-Match")!: etag])
            #expect(put.status == .ok && put.headers[HTTPField.Name("ETag")!] == "\"2\"" && put.json["annual_rate_bps"] as? Int == 1_500, "\(put.text)")
            let stale = try await planes.data(
                .put, "/v1/loan-products/\(product)", token: f.staffToken, tenant: f.slug, json: changed, headers: [HTTPField.Name("If-Match")!: etag])
            #expect(stale.status == .preconditionFailed)
            changed["annual_rate_bps"] = 3_600
            let over = try await planes.data(
                .put, "/v1/loan-products/\(product)", token: f.staffToken, tenant: f.slug, json: changed, headers: [HTTPField.Name("If-Match")!: "\"2\""])
            #expect(over.status == .unprocessableContent && over.problemCode == "rate-cap-exceeded")
            // A tenant's own lower cap applies to products too.
            try await planes.setConfigSection(f, "lending", ["rate_cap_bps": 1_000])
            let belowTenantCap = try await planes.data(.post, "/v1/loan-products", token: f.staffToken, tenant: f.slug, json: Self.productBody)
            #expect(belowTenantCap.status == .unprocessableContent && belowTenantCap.text.contains("the cap is 10.00%"), "\(belowTenantCap.text)")

            // Bad input names every field, and nothing is written.
            let bad = try await planes.data(
                .post, "/v1/loans", token: member.token, tenant: f.slug, json: ["product_id": product, "purpose": "", "term": 99],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(bad.status == .unprocessableContent)
            let fields = Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["account_id", "purpose"], "\(bad.text)")
            let outOfRange = try await planes.data(
                .post, "/v1/loans", token: member.token, tenant: f.slug,
                json: ["product_id": product, "principal": ["amount": 5, "currency": "XOF"], "term": 99, "purpose": "x", "account_id": member.accountID],
                headers: [.idempotencyKey: UUID().uuidString])
            let rangeFields = Set((outOfRange.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(outOfRange.status == .unprocessableContent && rangeFields == ["principal.currency", "principal.amount", "term"], "\(outOfRange.text)")
            let mine = try await planes.data(.get, "/v1/loans", token: member.token, tenant: f.slug)
            #expect((mine.json["data"] as? [Any])?.count == 2)
        }
    }

    @Test("concurrent repayments under one key post once; autopay pays on the due day; a write-off moves the principal to losses; another tenant sees none of it")
    func concurrencyAutopayWriteOffIsolation() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "ln")
            let g = try await planes.provisionFixture(prefix: "lm")
            try await planes.setConfigSection(f, "lending", ["approve_at": 300, "decline_below": 300])
            let product = try await planes.loanProduct(f)
            let (a, b) = (f.members[0], f.members[1])
            try await planes.depositTo(f, account: a.accountID, minor: 100_000)
            try await planes.depositTo(f, account: b.accountID, minor: 100_000)
            let manual = try #require(try await planes.apply(f, product, a).json["id"] as? String)
            let automatic = try #require(try await planes.apply(f, product, b, autopay: true).json["id"] as? String)
            for loan in [manual, automatic] {
                let disbursed = try await planes.data(.post, "/v1/loans/\(loan)/disburse", token: f.staffToken, tenant: f.slug, headers: [.idempotencyKey: UUID().uuidString])
                try #require(disbursed.status == .ok, "\(disbursed.text)")
            }

            // Eight clients retry one repayment at once: one posting, eight identical answers.
            let key = UUID().uuidString
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<8 { group.addTask { try await planes.repay(f, manual, 5_000, a, key: key) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .created }, "\(replies.map(\.status))")
            #expect(Set(replies.map(\.body)).count == 1)
            // On the disbursement day nothing is due and nothing has accrued: all of it is principal, once.
            #expect(try planes.parts(replies[0]) == [[1, 0, 0, 0, 5_000]])
            #expect(((try await planes.loan(f, manual))["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 95_000)

            // The due day: autopay takes the instalment from the borrower's account.
            planes.clock.advance(seconds: 31 * Self.day)
            try await planes.loanDrain(f)

            // Four repayments of one instalment each, at once, under four keys: each allocated after the one
            // before it committed (the loan's lock), so the first pays what is due and the others the
            // following principal — never the same instalment twice.
            try await planes.depositTo(f, account: a.accountID, minor: 100_000)
            let racing = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<4 { group.addTask { try await planes.repay(f, manual, 8_885, a) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(racing.allSatisfy { $0.status == .created }, "\(racing.map(\.text))")
            let interestPaid = try racing.map { try planes.parts($0).reduce(0) { $0 + $1[3] } }.reduce(0, +)
            #expect(interestPaid == 1_000, "the first instalment's interest once, nothing accrued on its due day")
            #expect(((try await planes.loan(f, manual))["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 95_000 - (4 * 8_885 - 1_000))
            #expect(try await planes.ledgerFindings(f).isEmpty)
            let auto = try await planes.loan(f, automatic)
            #expect((auto["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 100_000 - 7_885, "\(auto)")

            // An autopay refused (the account frozen) writes nothing, and the day's other work still runs:
            // four days late, past grace, the penalty is charged and the loan is 1–30.
            let frozen = try await planes.data(
                .post, "/v1/accounts/\(b.accountID)/status", token: f.staffToken, tenant: f.slug, json: ["status": "frozen", "reason": "Suspected fraud"])
            #expect(frozen.status == .ok, "\(frozen.text)")
            planes.clock.advance(seconds: 32 * Self.day)  // 2027-03-08: the second instalment is 4 days late
            try await planes.loanDrain(f)
            let refused = try await planes.loan(f, automatic)
            #expect((refused["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 100_000 - 7_885, "nothing taken: \(refused)")
            #expect(refused["bucket"] as? String == "1-30")
            let penalised = try await planes.data(.get, "/v1/loans/\(automatic)/schedule", token: f.staffToken, tenant: f.slug)
            #expect((penalised.json["instalments"] as? [[String: Any]])?[1]["penalty_minor"] as? Int == 944)

            // The tenant admin writes the manual loan off: what is left of its principal moves to losses.
            let writeOff = try await planes.data(.post, "/v1/loans/\(manual)/write-off", token: f.staffToken, tenant: f.slug, json: ["reason": "Member emigrated; unreachable"])
            #expect(writeOff.status == .ok && writeOff.json["state"] as? String == "written_off", "\(writeOff.text)")
            #expect((writeOff.json["written_off"] as? [String: Any])?["amount"] as? Int == 95_000 - (4 * 8_885 - 1_000))
            #expect(try await planes.ledgerFindings(f).isEmpty)

            // The other tenant: no loan listed, none found, and none of its members' calls reach f's.
            let others = try await planes.data(.get, "/v1/loans", token: g.staffToken, tenant: g.slug)
            #expect(others.status == .ok && (others.json["data"] as? [Any])?.isEmpty == true)
            let foreign = try await planes.data(.get, "/v1/loans/\(manual)", token: g.staffToken, tenant: g.slug)
            #expect(foreign.status == .notFound)
            let otherMember = try await planes.data(.get, "/v1/loans/\(automatic)", token: a.token, tenant: f.slug)
            #expect(otherMember.status == .notFound, "a member sees only their own loans")
            let crossToken = try await planes.data(.get, "/v1/loans/\(manual)", token: g.staffToken, tenant: f.slug)
            #expect(crossToken.status == .forbidden, "a token of another credit union")
        }
    }

    @Test("a newcomer's on-time tontine record counts in the score, read from the tontine domain through the data plane's hook")
    func tontineRecordCounts() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "ln")
            let (people, _, _) = try await planes.startedCircle(f, count: 2, autopay: true)
            // Both weekly cycles paid by autopay on their due days (2027-01-05 and -12), then two days on.
            planes.clock.advance(seconds: 14 * 3600 + 1)
            try await planes.tontineDrain(f)
            planes.clock.advance(seconds: 7 * Self.day)
            try await planes.tontineDrain(f)
            planes.clock.advance(seconds: 2 * Self.day)
            let record = try await planes.data(.get, "/v1/members/\(people[0].id)/tontine-record", token: people[0].token, tenant: f.slug)
            #expect(record.json["on_time_bps"] as? Int == 10_000, "\(record.text)")
            let product = try await planes.loanProduct(f)
            let applied = try await planes.apply(f, product, (people[0].id, people[0].token, people[0].account))
            let decision = try #require(applied.json["decision"] as? [String: Any], "\(applied.text)")
            #expect((decision["inputs"] as? [String: Any])?["tontine_on_time_bps"] as? Int == 10_000)
            let line = (decision["lines"] as? [[String: Any]] ?? []).first { $0["factor"] as? String == "tontine_on_time" }
            #expect(line?["points"] as? Int == 40 && line?["attribute"] as? String == "95% or more of contributions on time", "\(String(describing: line))")
            // Without a record the factor is neutral.
            let other = try await planes.provisionFixture(prefix: "ln")
            let otherProduct = try await planes.loanProduct(other)
            let thin = try await planes.apply(other, otherProduct, other.members[0])
            let thinLine = ((thin.json["decision"] as? [String: Any])?["lines"] as? [[String: Any]] ?? []).first { $0["factor"] as? String == "tontine_on_time" }
            #expect(thinLine?["points"] as? Int == 0 && thinLine?["attribute"] as? String == "no tontine record")
        }
    }

    @Test("XOF, flat, one grace instalment: whole francs, the interest-only first instalment, a payoff that rebates the rest")
    func francsFlatWithGrace() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "ln")
            try await planes.setConfigSection(f, "lending", ["approve_at": 300, "decline_below": 300])
            let member = f.members[0]
            let wallet = try await planes.data(.post, "/v1/accounts", token: member.token, tenant: f.slug, json: ["kind": "wallet", "currency": "XOF"])
            let walletID = try #require(wallet.json["id"] as? String, "\(wallet.text)")
            var body: [String: Any] = [
                "name": "Prêt boutique", "currency": "XOF", "principal_range": ["min_minor": 50_000, "max_minor": 1_000_000], "term_range": ["min": 3, "max": 12],
                "frequency": "monthly", "annual_rate_bps": 2_400, "method": "flat", "origination_fee": ["fixed_minor": 0, "bps": 100], "grace_instalments": 1,
            ]
            // A flat 24% looks modest and is not: over 12 months with the fee its APR is 40.83%.
            let tooDear = try await planes.data(.post, "/v1/loan-products", token: f.staffToken, tenant: f.slug, json: body)
            #expect(tooDear.problemCode == "rate-cap-exceeded" && tooDear.text.contains("APR of 40.83%"), "\(tooDear.text)")
            body["annual_rate_bps"] = 1_500
            let product = try await planes.data(.post, "/v1/loan-products", token: f.staffToken, tenant: f.slug, json: body)
            let productID = try #require(product.json["id"] as? String, "\(product.text)")
            // 300,000 F over 6 months at 15% flat: 22,500 of interest, 3,750 a month; the principal over the 5 months after the grace.
            let applied = try await planes.data(
                .post, "/v1/loans", token: member.token, tenant: f.slug,
                json: ["product_id": productID, "principal": ["amount": 300_000, "currency": "XOF"], "term": 6, "purpose": "Stock", "account_id": walletID],
                headers: [.idempotencyKey: UUID().uuidString])
            let loan = try #require(applied.json["id"] as? String, "\(applied.text)")
            #expect((applied.json["disbursed_amount"] as? [String: Any])?["amount"] as? Int == 297_000)
            let disbursed = try await planes.data(.post, "/v1/loans/\(loan)/disburse", token: f.staffToken, tenant: f.slug, headers: [.idempotencyKey: UUID().uuidString])
            #expect(disbursed.status == .ok, "\(disbursed.text)")
            let schedule = try await planes.data(.get, "/v1/loans/\(loan)/schedule", token: member.token, tenant: f.slug)
            let lines = try #require(schedule.json["instalments"] as? [[String: Any]])
            #expect(lines.map { $0["principal_minor"] as? Int } == [0, 60_000, 60_000, 60_000, 60_000, 60_000])
            #expect(lines.map { $0["interest_minor"] as? Int } == Array(repeating: 3_750, count: 6))
            // The first due day: interest only.
            planes.clock.advance(seconds: 31 * Self.day)
            let first = try await planes.data(
                .post, "/v1/loans/\(loan)/repayments", token: member.token, tenant: f.slug, json: ["amount": 3_750, "account_id": walletID],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(try planes.parts(first) == [[1, 0, 0, 3_750, 0]], "\(first.text)")
            // Ten days on: the payoff is the principal and 10 days of interest on it (300,000 × 15% × 10 / 365 = 1,232.9 → 1,233 F);
            // the flat interest of the five later instalments is not asked for.
            planes.clock.advance(seconds: 10 * Self.day)
            let payoff = try await planes.data(.get, "/v1/loans/\(loan)/payoff", token: member.token, tenant: f.slug)
            #expect((payoff.json["total"] as? [String: Any])?["amount"] as? Int == 301_233, "\(payoff.text)")
            #expect((payoff.json["rebated_interest"] as? [String: Any])?["amount"] as? Int == 5 * 3_750 - 1_233)
            let deposit = try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": walletID, "amount": 20_000, "currency": "XOF"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(deposit.status == .created, "\(deposit.text)")
            let closed = try await planes.data(
                .post, "/v1/loans/\(loan)/payoff", token: member.token, tenant: f.slug, json: ["account_id": walletID, "amount": 301_233],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(closed.status == .created && closed.json["loan_state"] as? String == "closed", "\(closed.text)")
            #expect(try await planes.accountBalance(f, walletID) == 297_000 - 3_750 + 20_000 - 301_233)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("every refusal on a loan's money is a problem naming why, and writes nothing")
    func refusals() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "ln")
            try await planes.setConfigSection(f, "lending", ["approve_at": 300, "decline_below": 300])
            let product = try await planes.loanProduct(f)
            let (a, b) = (f.members[0], f.members[1])
            let loan = try #require(try await planes.apply(f, product, a).json["id"] as? String)
            func post(_ path: String, _ body: [String: Any]? = nil, token: String? = nil) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: token ?? f.staffToken, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            // Not yet disbursed: no repayment, payoff or write-off.
            #expect(try await planes.repay(f, loan, 1_000, a).problemCode == "loan-not-active")
            #expect(try await post("/v1/loans/\(loan)/write-off", ["reason": "Too early"]).problemCode == "invalid-transition")
            #expect(try await planes.data(.get, "/v1/loans/\(loan)/payoff", token: a.token, tenant: f.slug).problemCode == "loan-not-active")
            // Disbursing into an account that is not the borrower's is refused by the application already;
            // a frozen one at disbursement.
            let frozen = try await planes.data(
                .post, "/v1/accounts/\(a.accountID)/status", token: f.staffToken, tenant: f.slug, json: ["status": "frozen", "reason": "Checking"])
            #expect(frozen.status == .ok)
            let intoFrozen = try await post("/v1/loans/\(loan)/disburse")
            #expect(intoFrozen.status == .unprocessableContent && intoFrozen.problemCode == "account-frozen", "\(intoFrozen.text)")
            #expect(try await planes.accountBalance(f, a.accountID) == 0, "nothing moved")
            _ = try await planes.data(.post, "/v1/accounts/\(a.accountID)/status", token: f.staffToken, tenant: f.slug, json: ["status": "open", "reason": "Cleared"])
            #expect(try await post("/v1/loans/\(loan)/disburse").status == .ok)
            // Repayments: from another member's account, for nothing, over the payoff, without a key.
            let foreign = try await planes.data(
                .post, "/v1/loans/\(loan)/repayments", token: f.staffToken, tenant: f.slug, json: ["amount": 1_000, "account_id": b.accountID],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(foreign.status == .unprocessableContent && foreign.text.contains("account_id"), "\(foreign.text)")
            let nothing = try await planes.repay(f, loan, 0, a)
            #expect(nothing.status == .unprocessableContent && nothing.text.contains("amount"))
            let tooMuch = try await planes.repay(f, loan, 100_001, a)
            #expect(tooMuch.status == .unprocessableContent && tooMuch.problemCode == "overpayment", "\(tooMuch.text)")
            let keyless = try await planes.data(.post, "/v1/loans/\(loan)/repayments", token: a.token, tenant: f.slug, json: ["amount": 1_000, "account_id": a.accountID])
            #expect(keyless.status.code >= 400 && keyless.status.code < 500 && keyless.text.contains("Idempotency-Key"), "\(keyless.text)")
            // The borrower spent the money: a repayment their account cannot cover is refused whole.
            let short = try await planes.repay(f, loan, 99_001, a)
            #expect(short.status == .unprocessableContent && short.problemCode == "insufficient-funds", "\(short.text)")
            // A member cannot touch another member's loan, nor decide or write off their own.
            #expect(try await planes.repay(f, loan, 1_000, b).status == .notFound)
            #expect(try await post("/v1/loans/\(loan)/write-off", ["reason": "Mine"], token: a.token).status == .forbidden)
            #expect(try await post("/v1/loans/\(loan)/write-off", [:]).status == .unprocessableContent)
            let record = try await planes.loan(f, loan)
            #expect((record["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 100_000, "nothing was repaid: \(record)")
            #expect(try await planes.accountBalance(f, a.accountID) == 99_000)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("one member repaying two loans at once: each repayment waits its turn on the account, none deadlocks")
    func twoLoansOneMember() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let f = try await planes.provisionFixture(prefix: "ln")
            try await planes.setConfigSection(f, "lending", ["approve_at": 300, "decline_below": 300])
            let product = try await planes.loanProduct(f)
            let a = f.members[0]
            var loans: [String] = []
            for _ in 0..<2 {
                let loan = try #require(try await planes.apply(f, product, a).json["id"] as? String)
                let disbursed = try await planes.data(.post, "/v1/loans/\(loan)/disburse", token: f.staffToken, tenant: f.slug, headers: [.idempotencyKey: UUID().uuidString])
                try #require(disbursed.status == .ok, "\(disbursed.text)")
                loans.append(loan)
            }
            // Each repayment writes its rows (which reference the account) before it locks the account.
            let both = loans
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for index in 0..<12 { group.addTask { try await planes.repay(f, both[index % 2], 100, a) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .created }, "\(replies.filter { $0.status != .created }.map(\.text))")
            for loan in loans {
                #expect(((try await planes.loan(f, loan))["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 100_000 - 6 * 100)
            }
            #expect(try await planes.accountBalance(f, a.accountID) == 2 * 99_000 - 12 * 100)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("400 lending requests from 8 concurrent clients alternating two tenants never see the other tenant's loans, members or money")
    func isolationUnderConcurrency() async throws {
        let harness = try await Harness.get()
        try await TontineEndToEndTests.withPlanes(harness) { planes in
            let a = try await planes.provisionFixture(prefix: "ln_iso_a")
            let b = try await planes.provisionFixture(prefix: "ln_iso_b")
            var loans: [String: String] = [:]
            var products: [String: String] = [:]
            for f in [a, b] {
                try await planes.setConfigSection(f, "lending", ["approve_at": 300, "decline_below": 300])
                let product = try await planes.loanProduct(f)
                try await planes.depositTo(f, account: f.members[0].accountID, minor: 100_000)
                let loan = try #require(try await planes.apply(f, product, f.members[0]).json["id"] as? String)
                let disbursed = try await planes.data(.post, "/v1/loans/\(loan)/disburse", token: f.staffToken, tenant: f.slug, headers: [.idempotencyKey: UUID().uuidString])
                try #require(disbursed.status == .ok, "\(disbursed.text)")
                (loans[f.slug], products[f.slug]) = (loan, product)
            }
            let fixtures = [a, b]
            let (loanOf, productOf) = (loans, products)
            let violations = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var problems: [String] = []
                        for request in 0..<50 {
                            let f = fixtures[(client + request) % 2]
                            let other = fixtures[(client + request + 1) % 2]
                            let borrower = f.members[0]
                            let loan = loanOf[f.slug]!
                            let reply: Planes.Reply
                            switch request % 5 {
                            case 0: reply = try await planes.data(.get, "/v1/loans", token: f.staffToken, tenant: f.slug)
                            case 1: reply = try await planes.data(.get, "/v1/loans/\(loan)", token: borrower.token, tenant: f.slug)
                            case 2: reply = try await planes.data(.get, "/v1/loans/\(loan)/schedule", token: borrower.token, tenant: f.slug)
                            case 3: reply = try await planes.data(.get, "/v1/loan-products", token: borrower.token, tenant: f.slug)
                            default: reply = try await planes.repay(f, loan, 100, borrower)
                            }
                            if reply.status.code >= 300 { problems.append("\(f.slug) \(reply.status): \(reply.text)") }
                            let foreign = [loanOf[other.slug]!, productOf[other.slug]!] + other.members.flatMap { [$0.id, $0.accountID] }
                            for id in foreign where reply.text.contains(id) { problems.append("\(f.slug) saw \(other.slug)'s \(id)") }
                            if request % 10 == 0 {
                                let probe = try await planes.data(.get, "/v1/loans/\(loanOf[other.slug]!)", token: f.staffToken, tenant: f.slug)
                                if probe.status != .notFound { problems.append("\(f.slug) reached \(other.slug)'s loan: \(probe.status)") }
                            }
                        }
                        return problems
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(violations.isEmpty, "\(violations.prefix(5))")
            for f in fixtures {
                // 8 clients × 10 repayments of 1.00, half of them to each tenant's one loan.
                #expect(((try await planes.loan(f, loanOf[f.slug]!))["principal_outstanding"] as? [String: Any])?["amount"] as? Int == 100_000 - 40 * 100)
                #expect(try await planes.ledgerFindings(f).isEmpty)
            }
        }
    }
}

extension Planes {
    /// A product of `LendingEndToEndTests.productBody`, created by the tenant admin.
    func loanProduct(_ f: Fixture) async throws -> String {
        let reply = try await data(.post, "/v1/loan-products", token: f.staffToken, tenant: f.slug, json: LendingEndToEndTests.productBody)
        try #require(reply.status == .created, "product failed: \(reply.text)")
        #expect(reply.headers[HTTPField.Name("ETag")!] == "\"1\"")
        return try #require(reply.json["id"] as? String)
    }

    func apply(_ f: Fixture, _ product: String, _ member: (id: String, token: String, accountID: String), autopay: Bool = false) async throws -> Reply {
        try await data(
            .post, "/v1/loans", token: member.token, tenant: f.slug,
            json: ["product_id": product, "principal": ["amount": 100_000, "currency": "CAD"], "term": 12, "purpose": "Market stall stock",
                   "account_id": member.accountID, "autopay": autopay],
            headers: [.idempotencyKey: UUID().uuidString])
    }

    func repay(_ f: Fixture, _ loan: String, _ amount: Int, _ member: (id: String, token: String, accountID: String), key: String = UUID().uuidString) async throws -> Reply {
        try await data(
            .post, "/v1/loans/\(loan)/repayments", token: member.token, tenant: f.slug, json: ["amount": amount, "account_id": member.accountID],
            headers: [.idempotencyKey: key])
    }

    func loan(_ f: Fixture, _ id: String) async throws -> [String: Any] {
        let reply = try await data(.get, "/v1/loans/\(id)", token: f.staffToken, tenant: f.slug)
        try #require(reply.status == .ok, "\(reply.text)")
        return reply.json
    }

    /// A repayment's parts as [number, penalty, fee, interest, principal].
    func parts(_ reply: Reply) throws -> [[Int]] {
        let parts = try #require(reply.json["parts"] as? [[String: Any]], "\(reply.text)")
        return parts.map { p in ["number", "penalty_minor", "fee_minor", "interest_minor", "principal_minor"].map { p[$0] as? Int ?? -1 } }
    }

    /// Runs the loan scheduler over the tenant's loans, as its service does when the clock moves.
    func loanDrain(_ f: Fixture) async throws {
        await data.loanScheduler.drain(try await tenantRef(f))
    }

    /// The outbox topics written for one aggregate, in order.
    func outboxTopics(_ f: Fixture, aggregate: String) async throws -> [String] {
        try await harness.owner.withTransaction(logger: harness.logger) { connection in
            try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
            return try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT topic FROM t_\(f.slug).outbox_events WHERE aggregate_id = '\(aggregate)' ORDER BY id"), logger: harness.logger
            ).collect().map { try $0.decode(String.self) }
        }
    }
}
