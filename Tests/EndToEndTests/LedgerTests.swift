import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing
import Banking
import Ledger

@Suite("Ledger")
struct LedgerTests {
    /// Sums that must hold after any sequence of postings, read as the tenant.
    static func invariants(_ harness: Harness, slug: String, tenantID: String) async throws -> (unbalanced: Int, belowFloor: Int, drift: Int, total: Int64) {
        try await harness.owner.withTransaction(logger: harness.logger) { connection in
            try await connection.query(
                "SELECT set_config('search_path', \("t_\(slug)"), true), set_config('app.tenant_id', \(tenantID), true)", logger: harness.logger)
            let row = try await connection.query(
                """
                SELECT (SELECT count(*)::int FROM (SELECT journal_id FROM entries GROUP BY journal_id, currency HAVING sum(amount_minor) <> 0) u),
                       (SELECT count(*)::int FROM accounts WHERE floor_minor IS NOT NULL AND balance_minor < floor_minor),
                       (SELECT count(*)::int FROM accounts a WHERE balance_minor <> coalesce((SELECT sum(amount_minor) FROM entries e WHERE e.account_id = a.id), 0)),
                       (SELECT coalesce(sum(balance_minor), 0)::int8 FROM accounts WHERE currency = 'CAD')
                """, logger: harness.logger
            ).first((Int, Int, Int, Int64).self)
            return row ?? (-1, -1, -1, -1)
        }
    }

    @Test("deposits, withdrawals and transfers move money; refusals name their problem; replays never run twice")
    func postings() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "ledg")
            let (a, b) = (f.members[0], f.members[1])
            func post(_ path: String, token: String, key: String = UUID().uuidString, _ body: [String: Any]) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: token, tenant: f.slug, json: body, headers: [.idempotencyKey: key])
            }
            let deposit = try await post("/v1/deposits", token: f.staffToken, ["account_id": a.accountID, "amount": 10_000, "currency": "CAD"])
            #expect(deposit.status == .created, "\(deposit.text)")
            #expect((deposit.json["entries"] as? [[String: Any]])?.count == 2)
            let key = UUID().uuidString
            let transfer = ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 2_550, "currency": "CAD"] as [String: Any]
            let first = try await post("/v1/transfers", token: a.token, key: key, transfer)
            let replay = try await post("/v1/transfers", token: a.token, key: key, transfer)
            #expect(first.status == .created && replay.status == .created && replay.body == first.body)
            #expect(replay.headers[.idempotentReplayed] == "true")
            var changed = transfer
            changed["amount"] = 1
            #expect(try await post("/v1/transfers", token: a.token, key: key, changed).problemCode == "idempotency-key-reused")
            let balance = { (token: String, id: String) async throws -> Int in
                let reply = try await planes.data(.get, "/v1/accounts/\(id)", token: token, tenant: f.slug)
                return (reply.json["ledger_balance"] as? [String: Any])?["amount"] as? Int ?? -1
            }
            #expect(try await balance(a.token, a.accountID) == 7_450)
            #expect(try await balance(b.token, b.accountID) == 2_550)
            // Refusals.
            let tooMuch = try await post("/v1/transfers", token: a.token, ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 7_451, "currency": "CAD"])
            #expect(tooMuch.status == .unprocessableContent && tooMuch.problemCode == "insufficient-funds")
            let wrongCurrency = try await post("/v1/transfers", token: a.token, ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 1, "currency": "XOF"])
            #expect(wrongCurrency.problemCode == "currency-mismatch")
            let notMine = try await post("/v1/transfers", token: a.token, ["from_account_id": b.accountID, "to_account_id": a.accountID, "amount": 1, "currency": "CAD"])
            #expect(notMine.status == .notFound && notMine.problemCode == "account-not-found")
            let memberCash = try await post("/v1/deposits", token: a.token, ["account_id": a.accountID, "amount": 1, "currency": "CAD"])
            #expect(memberCash.status == .forbidden)
            for bad in [0, -5, 10_000_000_001] {
                let reply = try await post("/v1/transfers", token: a.token, ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": bad, "currency": "CAD"])
                #expect(reply.status == .unprocessableContent && reply.problemCode == "validation-failed", "amount \(bad)")
            }
            let noKey = try await planes.data(.post, "/v1/transfers", token: a.token, tenant: f.slug, json: transfer)
            #expect(noKey.problemCode == "idempotency-key-required")
            let withdrawal = try await post("/v1/withdrawals", token: f.staffToken, ["account_id": b.accountID, "amount": 550, "currency": "CAD"])
            #expect(withdrawal.status == .created)
            #expect(try await balance(b.token, b.accountID) == 2_000)
            // Journals and statements.
            let journalID = try #require(first.json["id"] as? String)
            #expect(try await planes.data(.get, "/v1/journals/\(journalID)", token: b.token, tenant: f.slug).status == .ok)
            let statement = try await planes.data(.get, "/v1/accounts/\(a.accountID)/entries", token: a.token, tenant: f.slug)
            let amounts = (statement.json["data"] as? [[String: Any]] ?? []).compactMap { ($0["amount"] as? [String: Any])?["amount"] as? Int }
            #expect(amounts == [-2_550, 10_000])
            #expect(try await planes.data(.get, "/v1/accounts/\(b.accountID)/entries", token: a.token, tenant: f.slug).status == .notFound)
            let check = try await Self.invariants(harness, slug: f.slug, tenantID: f.tenantID)
            #expect(check.unbalanced == 0 && check.belowFloor == 0 && check.drift == 0 && check.total == 0)
            // verify-ledger names a balance that no longer matches its entries (corrupted, then rolled back).
            struct Undo: Error {}
            var findings: [LedgerVerifier.Finding] = []
            do {
                try await harness.owner.withTransaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    try await connection.query(
                        "UPDATE \(unescaped: "t_\(f.slug)").accounts SET balance_minor = balance_minor + 1 WHERE id = \(UUID(uuidString: a.accountID)!)",
                        logger: harness.logger)
                    findings = try await LedgerVerifier().verify(
                        slug: try TenantSlug(f.slug), tenantID: UUID(uuidString: f.tenantID)!, on: connection, logger: harness.logger)
                    throw Undo()
                }
            } catch {}
            #expect(findings.map(\.kind) == ["balance-drift"] && findings.first?.subject == a.accountID)
        }
    }

    @Test("a plain transfer posts in one statement; any other case writes nothing there and goes to the general path")
    func oneStatementTransfer() async throws {
        let harness = try await Harness.get()
        // PSQLError hides its details from `description`; the reflection names the SQLSTATE if one fails.
        do {
            try await harness.withPlanes { planes in
                let f = try await planes.provisionFixture(prefix: "fast")
                let (a, b) = (f.members[0], f.members[1])
                let deposit = try await planes.data(
                    .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": a.accountID, "amount": 1_000, "currency": "CAD"],
                    headers: [.idempotencyKey: UUID().uuidString])
                #expect(deposit.status == .created)
                let tenant = try #require(try await planes.data.directory.tenant(slug: try TenantSlug(f.slug), now: Date()))
                let session = TenantSession(
                    client: harness.groups[tenant.poolGroup], tenant: tenant, memberID: MemberID(UUID(uuidString: a.id)!), clock: .system, logger: harness.logger)
                let (accountA, accountB) = (AccountID(UUID(uuidString: a.accountID)!), AccountID(UUID(uuidString: b.accountID)!))
                func transfer(_ from: AccountID, _ to: AccountID, _ minor: Int64, _ currency: String = "CAD", key: String = UUID().uuidString)
                    -> OneStatementTransfer
                {
                    OneStatementTransfer(
                        from: from, to: to, amount: Money(minorUnits: minor, currency: Currency(code: currency)!), memo: "Rent", keyScope: "test",
                        key: key, requestHash: Data(key.utf8))
                }
                let plain = transfer(accountA, accountB, 400, key: "plain")
                guard case .posted(let journal, let body) = try await plain.run(in: session) else {
                    Issue.record("the plain case did not post")
                    return
                }
                // What was stored under the key is what the journal shows when read back, to the millisecond.
                let shown = try await planes.data(.get, "/v1/journals/\(journal.id)", token: a.token, tenant: f.slug)
                #expect(shown.status == .ok && shown.body == body, "\(shown.text) vs \(String(decoding: body, as: UTF8.self))")
                guard case .used(let hash, let status, let stored) = try await plain.run(in: session) else {
                    Issue.record("a used key did not replay")
                    return
                }
                #expect(hash == Data("plain".utf8) && status == 201 && stored == body)
                // Overdrawing, another member's account, the same account, another currency, a frozen account:
                // nothing is written (no journal, no key), and the general path explains each.
                func expectGeneralPath(_ label: String, _ other: OneStatementTransfer) async throws {
                    guard case .needsGeneralPath = try await other.run(in: session) else {
                        Issue.record("\(label) took the one-statement path")
                        return
                    }
                }
                try await expectGeneralPath("overdraw", transfer(accountA, accountB, 601))
                try await expectGeneralPath("not theirs", transfer(accountB, accountA, 1))
                try await expectGeneralPath("same account", transfer(accountA, accountA, 1))
                try await expectGeneralPath("another currency", transfer(accountA, accountB, 1, "XOF"))
                try await harness.owner.withTransaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "UPDATE t_\(f.slug).accounts SET status = 'frozen' WHERE member_id = '\(b.id)'"), logger: harness.logger)
                }
                try await expectGeneralPath("frozen target", transfer(accountA, accountB, 1))
                let frozen = try await planes.data(
                    .post, "/v1/transfers", token: a.token, tenant: f.slug,
                    json: ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 1, "currency": "CAD"],
                    headers: [.idempotencyKey: UUID().uuidString])
                #expect(frozen.status == .unprocessableContent && frozen.problemCode == "account-frozen", "\(frozen.text)")
                let written = try await session.run { db in
                    try await db.query(
                        "SELECT (SELECT count(*)::int FROM idempotency_keys WHERE scope = 'test'), (SELECT count(*)::int FROM journals WHERE kind = 'transfer')"
                    ).first((Int, Int).self)
                }
                #expect(written?.0 == 1 && written?.1 == 1)
                let a1 = try await planes.data(.get, "/v1/accounts/\(a.accountID)", token: a.token, tenant: f.slug)
                #expect((a1.json["ledger_balance"] as? [String: Any])?["amount"] as? Int == 600)
            }
        } catch { Issue.record("\(String(reflecting: error))") }
    }

    @Test("staff freeze, unfreeze and close member accounts with a reason; a frozen account neither pays nor receives; history shows who and why")
    func accountStatus() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "stat")
            let (a, b) = (f.members[0], f.members[1])
            let admin = try await planes.adminToken()
            var tokens: [String: String] = [:]
            for role in ["teller", "compliance_officer"] {
                let email = "\(role)@\(f.slug).test"
                let made = try await planes.control(
                    .post, "/v1/tenants/\(f.slug)/staff", token: admin, json: ["email": email, "password": "staff password 123", "role": role])
                #expect(made.status == .created, "\(made.text)")
                tokens[role] = try await planes.login(planes.cp, email: email, password: "staff password 123")
            }
            func post(_ path: String, token: String, _ body: [String: Any], key: Bool = true) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: token, tenant: f.slug, json: body, headers: key ? [.idempotencyKey: UUID().uuidString] : [:])
            }
            func status(_ account: String, _ to: String, token: String, reason: String = "KYC review") async throws -> Planes.Reply {
                try await post("/v1/accounts/\(account)/status", token: token, ["status": to, "reason": reason], key: false)
            }
            let cash = ["account_id": a.accountID, "amount": 5_000, "currency": "CAD"] as [String: Any]
            #expect(try await post("/v1/deposits", token: f.staffToken, cash).status == .created)
            let move = ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 100, "currency": "CAD"] as [String: Any]
            let back = ["from_account_id": b.accountID, "to_account_id": a.accountID, "amount": 1, "currency": "CAD"] as [String: Any]

            // Who may: a compliance officer freezes; tellers and members may not; bad input names each field.
            #expect(try await status(a.accountID, "frozen", token: tokens["teller"]!).status == .forbidden)
            #expect(try await status(a.accountID, "frozen", token: a.token).status == .forbidden)
            let bad = try await status(a.accountID, "paused", token: f.staffToken, reason: " ")
            #expect(bad.problemCode == "validation-failed" && Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }) == ["status", "reason"])
            let frozen = try await status(a.accountID, "frozen", token: tokens["compliance_officer"]!, reason: "Sanctions hit under review")
            #expect(frozen.status == .ok && frozen.json["status"] as? String == "frozen", "\(frozen.text)")
            #expect(try await status(a.accountID, "frozen", token: f.staffToken).problemCode == "invalid-transition")
            #expect(try await status(UUID().uuidString, "frozen", token: f.staffToken).problemCode == "account-not-found")

            // Frozen: nothing leaves or arrives, whichever path the request takes.
            #expect(try await post("/v1/transfers", token: a.token, move).problemCode == "account-frozen")
            #expect(try await post("/v1/transfers", token: b.token, back).problemCode == "account-frozen")
            #expect(try await post("/v1/deposits", token: f.staffToken, cash).problemCode == "account-frozen")
            #expect(try await post("/v1/holds", token: f.staffToken, ["account_id": a.accountID, "amount": 1, "currency": "CAD"]).problemCode == "account-frozen")

            // Unfrozen, it moves money again; a compliance officer may not close it, an admin may once it is empty.
            #expect(try await status(a.accountID, "open", token: tokens["compliance_officer"]!, reason: "Cleared").json["status"] as? String == "open")
            #expect(try await post("/v1/transfers", token: a.token, move).status == .created)
            #expect(try await status(a.accountID, "closed", token: tokens["compliance_officer"]!).status == .forbidden)
            let notEmpty = try await status(a.accountID, "closed", token: f.staffToken, reason: "Member left")
            #expect(notEmpty.status == .unprocessableContent && notEmpty.problemCode == "account-not-empty")
            #expect(try await post("/v1/withdrawals", token: f.staffToken, ["account_id": a.accountID, "amount": 4_900, "currency": "CAD"]).status == .created)
            let closed = try await status(a.accountID, "closed", token: f.staffToken, reason: "Member left")
            #expect(closed.status == .ok && closed.json["status"] as? String == "closed", "\(closed.text)")
            #expect(try await status(a.accountID, "open", token: f.staffToken).problemCode == "invalid-transition")
            #expect(try await post("/v1/deposits", token: f.staffToken, cash).problemCode == "account-frozen")

            // The history, newest first, with who and why; the member reads their own, not another's.
            let history = try await planes.data(.get, "/v1/accounts/\(a.accountID)/status-changes", token: a.token, tenant: f.slug)
            let rows = history.json["data"] as? [[String: Any]] ?? []
            #expect(rows.compactMap { $0["to_status"] as? String } == ["closed", "open", "frozen"], "\(history.text)")
            #expect(rows.compactMap { $0["actor_role"] as? String } == ["tenant_admin", "compliance_officer", "compliance_officer"])
            #expect(rows.last?["reason"] as? String == "Sanctions hit under review")
            #expect(try await planes.data(.get, "/v1/accounts/\(a.accountID)/status-changes", token: b.token, tenant: f.slug).status == .notFound)

            // Underneath, the database refuses closing a non-empty account and rewriting history.
            let tenant = try #require(try await planes.data.directory.tenant(slug: try TenantSlug(f.slug), now: Date()))
            let session = TenantSession(client: harness.groups[tenant.poolGroup], tenant: tenant, memberID: nil, clock: .system, logger: harness.logger)
            for sql in [
                "UPDATE accounts SET status = 'closed' WHERE id = '\(b.accountID)'",
                "UPDATE account_status_changes SET reason = 'nothing to see'",
                "UPDATE accounts SET status = 'open' WHERE id = '\(a.accountID)'",
            ] {
                let state: String?
                do {
                    _ = try await session.run { db in try await db.query(PostgresQuery(unsafeSQL: sql)) }
                    state = nil
                } catch { state = DatabaseErrors.sqlState(error) }
                #expect(state == "23514" || state == "42501", "\(sql): \(state ?? "accepted")")
            }
            #expect(try await LedgerTests.invariants(harness, slug: f.slug, tenantID: f.tenantID).unbalanced == 0)
        }
    }

    @Test("a storm of 5,000 concurrent random transfers among 20 accounts never overdraws nor loses a cent")
    func storm() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "storm")
            var accounts = f.members.map(\.accountID)
            while accounts.count < 20 {
                let opened = try await planes.data(
                    .post, "/v1/accounts", token: f.staffToken, tenant: f.slug,
                    json: ["kind": "savings", "currency": "CAD", "member_id": f.members[accounts.count % 2].id])
                accounts.append(try #require(opened.json["id"] as? String))
            }
            for account in accounts {
                let reply = try await planes.data(
                    .post, "/v1/deposits", token: f.staffToken, tenant: f.slug,
                    json: ["account_id": account, "amount": 1_000, "currency": "CAD"], headers: [.idempotencyKey: UUID().uuidString])
                try #require(reply.status == .created)
            }
            let pool = accounts
            let clients = 32
            let perClient = 157  // 32 × 157 = 5,024 transfers
            let outcomes = try await withThrowingTaskGroup(of: [Int: Int].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var rng = SystemRandomNumberGenerator()
                        var counts: [Int: Int] = [:]
                        for _ in 0..<perClient {
                            let from = pool.randomElement(using: &rng)!
                            var to = pool.randomElement(using: &rng)!
                            while to == from { to = pool.randomElement(using: &rng)! }
                            let reply = try await planes.data(
                                .post, "/v1/transfers", token: f.staffToken, tenant: f.slug,
                                json: ["from_account_id": from, "to_account_id": to, "amount": Int.random(in: 1...600, using: &rng), "currency": "CAD"],
                                headers: [.idempotencyKey: "storm-\(client)-\(UUID().uuidString)"])
                            counts[Int(reply.status.code), default: 0] += 1
                        }
                        return counts
                    }
                }
                return try await group.reduce(into: [:]) { total, counts in total.merge(counts, uniquingKeysWith: +) }
            }
            #expect(Set(outcomes.keys).isSubset(of: [201, 422]), "unexpected statuses \(outcomes)")
            let succeeded = outcomes[201, default: 0]
            #expect(succeeded > 0 && outcomes[422, default: 0] > 0, "the storm should both move money and be refused: \(outcomes)")
            let check = try await Self.invariants(harness, slug: f.slug, tenantID: f.tenantID)
            #expect(check.unbalanced == 0 && check.belowFloor == 0 && check.drift == 0 && check.total == 0, "\(check)")
            let written = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                return try await connection.query(
                    """
                    SELECT (SELECT count(*)::int FROM \(unescaped: "t_\(f.slug)").journals WHERE kind = 'transfer'),
                           (SELECT count(*)::int FROM \(unescaped: "t_\(f.slug)").entries e JOIN \(unescaped: "t_\(f.slug)").journals j ON j.id = e.journal_id WHERE j.kind = 'transfer'),
                           (SELECT coalesce(sum(balance_minor), 0)::int8 FROM \(unescaped: "t_\(f.slug)").accounts WHERE member_id IS NOT NULL)
                    """, logger: harness.logger
                ).first((Int, Int, Int64).self)
            }
            let (journals, entries, memberTotal) = try #require(written)
            #expect(journals == succeeded && entries == 2 * succeeded)
            #expect(memberTotal == Int64(20 * 1_000), "member money must be exactly what was deposited")
            let findings = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await LedgerVerifier().verify(
                    slug: try TenantSlug(f.slug), tenantID: UUID(uuidString: f.tenantID)!, on: connection, logger: harness.logger)
            }
            #expect(findings.isEmpty, "\(findings)")
        }
    }
}

@Suite("Reversals")
struct ReversalTests {
    @Test("a tenant admin corrects a journal once with its opposite; spent money cannot be reversed")
    func reverse() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rev")
            let (a, b) = (f.members[0], f.members[1])
            func post(_ path: String, token: String, _ body: [String: Any]? = nil) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: token, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            let deposit = try await post("/v1/deposits", token: f.staffToken, ["account_id": a.accountID, "amount": 5_000, "currency": "CAD"])
            let depositID = try #require(deposit.json["id"] as? String)
            #expect(try await post("/v1/journals/\(depositID)/reverse", token: a.token).status == .forbidden)
            let reversal = try await post("/v1/journals/\(depositID)/reverse", token: f.staffToken)
            #expect(reversal.status == .created && reversal.json["reverses"] as? String == depositID && reversal.json["kind"] as? String == "reversal")
            let balance = try await planes.data(.get, "/v1/accounts/\(a.accountID)", token: a.token, tenant: f.slug)
            #expect((balance.json["ledger_balance"] as? [String: Any])?["amount"] as? Int == 0)
            #expect(try await post("/v1/journals/\(depositID)/reverse", token: f.staffToken).problemCode == "invalid-transition")
            let reversalID = try #require(reversal.json["id"] as? String)
            #expect(try await post("/v1/journals/\(reversalID)/reverse", token: f.staffToken).problemCode == "invalid-transition")
            let second = try await post("/v1/deposits", token: f.staffToken, ["account_id": a.accountID, "amount": 1_000, "currency": "CAD"])
            _ = try await post("/v1/transfers", token: a.token, ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 900, "currency": "CAD"])
            let spent = try await post("/v1/journals/\(try #require(second.json["id"] as? String))/reverse", token: f.staffToken)
            #expect(spent.problemCode == "insufficient-funds")
            #expect(try await LedgerTests.invariants(harness, slug: f.slug, tenantID: f.tenantID).drift == 0)
        }
    }
}

@Suite("Conversions")
struct ConversionFlowTests {
    @Test("a member converts CAD to their XOF wallet at mid less the tenant spread; the spread is the credit union's")
    func convert() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "fx")
            let a = f.members[0]
            let wallet = try await planes.data(.post, "/v1/accounts", token: a.token, tenant: f.slug, json: ["kind": "wallet", "currency": "XOF"])
            #expect(wallet.status == .created)
            let walletID = try #require(wallet.json["id"] as? String)
            let second = try await planes.data(.post, "/v1/accounts", token: a.token, tenant: f.slug, json: ["kind": "wallet", "currency": "XOF"])
            #expect(second.status == .conflict, "one wallet per currency")
            // The template opens cash accounts in CAD only; a deposit in XOF opens the XOF one.
            let xofCash = try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": walletID, "amount": 1_000, "currency": "XOF"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(xofCash.status == .created, "\(xofCash.text)")
            _ = try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": a.accountID, "amount": 20_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            let conversion = try await planes.data(
                .post, "/v1/conversions", token: a.token, tenant: f.slug,
                json: ["from_account_id": a.accountID, "to_account_id": walletID, "amount": 10_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(conversion.status == .created, "\(conversion.text)")
            #expect((conversion.json["receive_amount"] as? [String: Any])?["amount"] as? Int == 43_494)
            #expect(conversion.json["mid_rate"] as? String == "441.5732000000" && conversion.json["spread_bps"] as? Int == 150)
            let balance = try await planes.data(.get, "/v1/accounts/\(walletID)", token: a.token, tenant: f.slug)
            #expect((balance.json["ledger_balance"] as? [String: Any])?["amount"] as? Int == 44_494)
            let sameCurrency = try await planes.data(
                .post, "/v1/conversions", token: a.token, tenant: f.slug,
                json: ["from_account_id": a.accountID, "to_account_id": f.members[0].accountID, "amount": 1, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(sameCurrency.status == .unprocessableContent)
            let othersWallet = try await planes.data(
                .post, "/v1/conversions", token: f.members[1].token, tenant: f.slug,
                json: ["from_account_id": f.members[1].accountID, "to_account_id": walletID, "amount": 1, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(othersWallet.status == .notFound)
            let findings = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await LedgerVerifier().verify(
                    slug: try TenantSlug(f.slug), tenantID: UUID(uuidString: f.tenantID)!, on: connection, logger: harness.logger)
            }
            #expect(findings.isEmpty, "\(findings)")
        }
    }
}

@Suite("Holds")
struct HoldTests {
    @Test("a hold lowers what is available, not the ledger; capture posts part and releases the rest; void and expiry give it back")
    func lifecycle() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "hold")
            let (a, b) = (f.members[0], f.members[1])
            func post(_ path: String, token: String, _ body: [String: Any]) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: token, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            func balances(_ id: String, token: String) async throws -> (Int, Int) {
                let reply = try await planes.data(.get, "/v1/accounts/\(id)", token: token, tenant: f.slug)
                let ledger = (reply.json["ledger_balance"] as? [String: Any])?["amount"] as? Int ?? -1
                let available = (reply.json["available_balance"] as? [String: Any])?["amount"] as? Int ?? -1
                return (ledger, available)
            }
            #expect(try await post("/v1/deposits", token: f.staffToken, ["account_id": a.accountID, "amount": 10_000, "currency": "CAD"]).status == .created)
            let hold = try await post("/v1/holds", token: a.token, ["account_id": a.accountID, "amount": 6_000, "currency": "CAD"])
            #expect(hold.status == .created && hold.json["status"] as? String == "active")
            let holdID = try #require(hold.json["id"] as? String)
            let (ledger, available) = try await balances(a.accountID, token: a.token)
            #expect(ledger == 10_000 && available == 4_000)
            let blocked = try await post("/v1/transfers", token: a.token, ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 4_001, "currency": "CAD"])
            #expect(blocked.problemCode == "insufficient-funds")
            let tooBig = try await post("/v1/holds", token: a.token, ["account_id": a.accountID, "amount": 4_001, "currency": "CAD"])
            #expect(tooBig.problemCode == "insufficient-funds")
            let capture = try await post("/v1/holds/\(holdID)/capture", token: a.token, ["to_account_id": b.accountID, "amount": 2_500])
            #expect(capture.status == .ok && capture.json["status"] as? String == "captured" && capture.json["journal_id"] is String)
            #expect(try await balances(a.accountID, token: a.token) == (7_500, 7_500))
            #expect(try await balances(b.accountID, token: b.token) == (2_500, 2_500))
            let again = try await post("/v1/holds/\(holdID)/capture", token: a.token, ["to_account_id": b.accountID])
            #expect(again.status == .conflict && again.problemCode == "invalid-transition")
            // Void.
            let second = try await post("/v1/holds", token: a.token, ["account_id": a.accountID, "amount": 1_000, "currency": "CAD"])
            let secondID = try #require(second.json["id"] as? String)
            let void = try await planes.data(.post, "/v1/holds/\(secondID)/void", token: a.token, tenant: f.slug, headers: [.idempotencyKey: UUID().uuidString])
            #expect(void.status == .ok && void.json["status"] as? String == "voided")
            #expect(try await balances(a.accountID, token: a.token) == (7_500, 7_500))
            // Another member's hold is invisible; expiry releases on the next posting.
            #expect(try await planes.data(.get, "/v1/holds/\(secondID)", token: b.token, tenant: f.slug).status == .notFound)
            let brief = try await post("/v1/holds", token: a.token, ["account_id": a.accountID, "amount": 7_000, "currency": "CAD", "expires_in_seconds": 1])
            let briefID = try #require(brief.json["id"] as? String)
            planes.clock.advance(seconds: 2)
            let afterExpiry = try await post("/v1/transfers", token: a.token, ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 7_500, "currency": "CAD"])
            #expect(afterExpiry.status == .created, "\(afterExpiry.text)")
            let expired = try await planes.data(.get, "/v1/holds/\(briefID)", token: a.token, tenant: f.slug)
            #expect(expired.json["status"] as? String == "expired")
            let late = try await post("/v1/holds/\(briefID)/capture", token: a.token, ["to_account_id": b.accountID])
            #expect(late.problemCode == "invalid-transition")
            let check = try await LedgerTests.invariants(harness, slug: f.slug, tenantID: f.tenantID)
            #expect(check.unbalanced == 0 && check.belowFloor == 0 && check.drift == 0 && check.total == 0)
        }
    }
}

@Suite("Ledger under concurrency")
struct LedgerConcurrencyTests {
    @Test("one Idempotency-Key sent 8 times at once moves the money once and answers alike")
    func concurrentDuplicateKey() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "dupkey")
            let (a, b) = (f.members[0], f.members[1])
            _ = try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": a.accountID, "amount": 5_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            let key = UUID().uuidString
            let (from, to) = (a.accountID, b.accountID)
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await planes.data(
                            .post, "/v1/transfers", token: a.token, tenant: f.slug,
                            json: ["from_account_id": from, "to_account_id": to, "amount": 1_000, "currency": "CAD"], headers: [.idempotencyKey: key])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .created })
            #expect(Set(replies.map(\.body)).count == 1)
            #expect(replies.filter { $0.headers[.idempotentReplayed] == nil }.count == 1)
            let account = try await planes.data(.get, "/v1/accounts/\(a.accountID)", token: a.token, tenant: f.slug)
            #expect((account.json["ledger_balance"] as? [String: Any])?["amount"] as? Int == 4_000)
        }
    }

    @Test("a statement paged while transfers keep arriving shows every older entry exactly once")
    func statementUnderInserts() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "stmt")
            let (a, b) = (f.members[0], f.members[1])
            func transfer(_ amount: Int) async throws {
                let reply = try await planes.data(
                    .post, "/v1/transfers", token: f.staffToken, tenant: f.slug,
                    json: ["from_account_id": b.accountID, "to_account_id": a.accountID, "amount": amount, "currency": "CAD"],
                    headers: [.idempotencyKey: UUID().uuidString])
                try #require(reply.status == .created)
            }
            _ = try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": b.accountID, "amount": 1_000_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            for amount in 1...30 { try await transfer(amount) }
            let writer = Task {
                for amount in 1_000..<1_060 { try await transfer(amount) }
            }
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let reply = try await planes.data(
                    .get, "/v1/accounts/\(a.accountID)/entries?limit=4" + (cursor.map { "&cursor=\($0)" } ?? ""), token: a.token, tenant: f.slug)
                let rows = reply.json["data"] as? [[String: Any]] ?? []
                seen += rows.compactMap { ($0["amount"] as? [String: Any])?["amount"] as? Int }
                cursor = reply.json["next_cursor"] as? String
            } while cursor != nil
            try await writer.value
            let older = seen.filter { $0 < 1_000 }
            #expect(older == Array((1...30).reversed()), "every entry older than the first page, once, newest first")
            #expect(Set(seen).count == seen.count, "no entry twice")
        }
    }
}
