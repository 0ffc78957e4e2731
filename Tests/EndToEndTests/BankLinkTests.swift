import Banking
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Synchronization
import Testing

/// Issue 25: Plaid-style bank linking against a stand-in on a real socket: link token, public-token exchange, the
/// item's accounts, live balances checked against a pull, re-login and unlinking; the access token sealed at rest.
@Suite("Bank linking")
struct BankLinkTests {
    final class PlaidStandIn: Sendable {
        static let clientID = "client-5f1c"
        static let secret = "plaid-secret-3e9a71"
        /// Public tokens handed out by Link and not yet exchanged.
        let publicTokens = Mutex<Set<String>>(["public-sandbox-good", "public-sandbox-second", "public-sandbox-again"])
        /// `/item/remove` answers this refusal while set.
        let removeRefusal = Mutex<String?>(nil)
        let items = Mutex<[String: String]>([:])  // access token → item id
        let removed = Mutex<[String]>([])
        let loginRequired = Mutex(false)
        let failures = Mutex(0)
        let linkTokenUsers = Mutex<[String]>([])

        static func error(_ status: Int, _ type: String, _ code: String) -> Response {
            StandIns.json(status, ["error_type": type, "error_code": code, "error_message": "\(code) (stand-in)", "display_message": NSNull()])
        }

        func body(_ request: Request) async throws -> [String: Any] {
            let data = Data(buffer: try await request.body.collect(upTo: 1 << 16))
            return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        }

        var application: some ApplicationProtocol {
            let router = Router()
            let authorized: @Sendable (Request) -> Response? = { request in
                if self.failures.withLock({ count in
                    defer { count = max(0, count - 1) }
                    return count > 0
                }) { return Self.error(500, "API_ERROR", "INTERNAL_SERVER_ERROR") }
                guard request.headers[HTTPField.Name("PLAID-CLIENT-ID")!] == Self.clientID, request.headers[HTTPField.Name("PLAID-SECRET")!] == Self.secret
                else { return Self.error(400, "INVALID_INPUT", "INVALID_API_KEYS") }
                return nil
            }
            router.post("/link/token/create") { request, _ -> Response in
                if let refused = authorized(request) { return refused }
                let body = try await self.body(request)
                guard let user = (body["user"] as? [String: Any])?["client_user_id"] as? String, body["products"] as? [String] == ["auth"] else {
                    return Self.error(400, "INVALID_REQUEST", "MISSING_FIELDS")
                }
                self.linkTokenUsers.withLock { $0.append(user) }
                return StandIns.json(200, ["link_token": "link-sandbox-\(UUID().uuidString.lowercased())", "expiration": "2026-12-07T23:00:00Z", "request_id": "r1"])
            }
            router.post("/item/public_token/exchange") { request, _ -> Response in
                if let refused = authorized(request) { return refused }
                let token = try await self.body(request)["public_token"] as? String ?? ""
                guard self.publicTokens.withLock({ $0.remove(token) }) != nil else { return Self.error(400, "INVALID_INPUT", "INVALID_PUBLIC_TOKEN") }
                let access = "access-sandbox-\(UUID().uuidString.lowercased())"
                // "again" is the same bank item linked a second time.
                let item = token == "public-sandbox-again" ? "item-good" : "item-\(token.dropFirst("public-sandbox-".count))"
                self.items.withLock { $0[access] = item }
                return StandIns.json(200, ["access_token": access, "item_id": item, "request_id": "r2"])
            }
            let accounts: @Sendable (Request, Bool) async throws -> Response = { request, live in
                if let refused = authorized(request) { return refused }
                let body = try await self.body(request)
                guard let access = body["access_token"] as? String, self.items.withLock({ $0[access] }) != nil else {
                    return Self.error(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN")
                }
                if live, self.loginRequired.withLock({ $0 }) { return Self.error(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED") }
                let only = (body["options"] as? [String: Any])?["account_ids"] as? [String]
                // Balances as Plaid writes them: JSON numbers in major units (raw text, so the digits are exactly these).
                let all = [
                    ("acc-chq", #"{"account_id":"acc-chq","name":"Chequing","mask":"4321","type":"depository","subtype":"checking","balances":{"available":1234.56,"current":1300.1,"limit":null,"iso_currency_code":"CAD"}}"#),
                    ("acc-sav", #"{"account_id":"acc-sav","name":"Savings","mask":"9876","type":"depository","subtype":"savings","balances":{"available":null,"current":50,"limit":null,"iso_currency_code":"CAD"}}"#),
                ].filter { only == nil || only!.contains($0.0) }.map(\.1)
                return StandIns.json(200, Data(#"{"accounts":[\#(all.joined(separator: ","))],"item":{"item_id":"x"},"request_id":"r3"}"#.utf8))
            }
            router.post("/accounts/get") { request, _ in try await accounts(request, false) }
            router.post("/accounts/balance/get") { request, _ in try await accounts(request, true) }
            router.post("/item/remove") { request, _ -> Response in
                if let refused = authorized(request) { return refused }
                let access = try await self.body(request)["access_token"] as? String ?? ""
                if let code = self.removeRefusal.withLock({ $0 }) { return Self.error(429, "RATE_LIMIT_EXCEEDED", code) }
                guard self.items.withLock({ $0.removeValue(forKey: access) }) != nil else { return Self.error(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN") }
                self.removed.withLock { $0.append(access) }
                return StandIns.json(200, ["request_id": "r4"])
            }
            router.post("/institutions/get") { request, _ -> Response in
                if let refused = authorized(request) { return refused }
                return StandIns.json(200, ["institutions": [["institution_id": "ins_1", "name": "Bank"]], "total": 1])
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test("a member links a bank, sees its accounts and a live balance against a pull, signs in again, unlinks; the token sealed, never shown or logged")
    func endToEnd() async throws {
        let harness = try await Harness.get()
        let standIn = PlaidStandIn()
        let lines = ObservabilityTests.Lines()
        var capturing = Logger(label: "nzila.data-plane.test") { JSONLogHandler(label: $0, write: { lines.add($0) }) }
        capturing.logLevel = .debug
        let logger = capturing
        try await standIn.application.test(.live) { api in
            let name = "plaid-\(UUID().uuidString.prefix(8).lowercased())"
            try await harness.owner.statement(
                """
                INSERT INTO control.partner_connections (name, kind, base_url, credential, methods, timeout_ms, attempts)
                VALUES (\(name), 'bank-links', \("http://127.0.0.1:\(api.port!)"), 'env:NZILA_TEST_PLAID', '{}', 15000, 2)
                """, logger: harness.logger) { _ in }
            defer {
                Task { try? await harness.owner.statement("DELETE FROM control.partner_connections WHERE name = \(name)", logger: harness.logger) { _ in } }
            }
            let connections = try await PartnerConnection.all(client: harness.registry, logger: harness.logger).filter { $0.name == name }
            let environment = ["NZILA_TEST_PLAID": "\(PlaidStandIn.clientID):\(PlaidStandIn.secret)"]
            let bankLinks = BankLinkProviders.configured(connections, environment: environment, logger: harness.logger)
            let provider = try #require(bankLinks.provider(name))
            #expect(try await provider.check() == 200)
            let wrong = try PlaidBankLinks(name: name, baseURL: "http://127.0.0.1:\(api.port!)", credential: "\(PlaidStandIn.clientID):nope")
            #expect(try await wrong.check() == 401)

            try await harness.withPlanes(dataLogger: logger, bankLinks: bankLinks) { planes in
                let f = try await planes.provisionFixture(prefix: "bl")
                let member = f.members[0]
                let base = "/v1/members/\(member.id)/bank-links"
                let none = try await planes.data(.post, "\(base)/link-token", token: member.token, tenant: f.slug)
                #expect(none.status == .unprocessableContent && none.problemCode == "bank-linking-unavailable", "\(none.text)")

                // The tenant names the connection in its funding section; the kind is checked there.
                try await planes.setConfigSection(f, "funding", ["bank_link": name])

                // One 5xx is tried again where a call may be repeated.
                standIn.failures.withLock { $0 = 1 }
                let token = try await planes.data(.post, "\(base)/link-token", token: member.token, tenant: f.slug)
                #expect(token.status == .created && (token.json["link_token"] as? String)?.hasPrefix("link-sandbox-") == true, "\(token.text)")
                #expect(standIn.linkTokenUsers.withLock { $0 } == [member.id])

                // The exchange is sent once (a public token is good once): a 5xx is a 503 to try again, never a retry.
                standIn.failures.withLock { $0 = 1 }
                let lost = try await planes.data(.post, base, token: member.token, tenant: f.slug, json: ["public_token": "public-sandbox-good"])
                #expect(lost.status == .serviceUnavailable && lost.headers[.retryAfter] != nil && standIn.failures.withLock { $0 } == 0, "\(lost.text)")
                let linked = try await planes.data(.post, base, token: member.token, tenant: f.slug, json: ["public_token": "public-sandbox-good"])
                #expect(linked.status == .created, "\(linked.text)")
                let accounts = linked.json["accounts"] as? [[String: Any]] ?? []
                #expect(accounts.map { $0["mask"] as? String } == ["4321", "9876"] && accounts.first?["currency"] as? String == "CAD")
                #expect(!linked.text.contains("access-sandbox"), "the access token is never shown")
                #expect(accounts.allSatisfy { $0["available"] == nil && $0["current"] == nil }, "balances are read live, never kept")
                let linkID = try #require(linked.json["id"] as? String)

                // At rest: sealed, not the token's text.
                let stored = try await harness.owner.transaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    return try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT encode(token_sealed, 'escape'), status FROM t_\(f.slug).bank_links WHERE id = '\(linkID)'"),
                        logger: harness.logger
                    ).first((String?, String).self)
                }
                #expect(stored?.0?.contains("access-sandbox") == false && stored?.1 == "active")

                // A public token is good once; a bad one is refused clearly.
                let reused = try await planes.data(.post, base, token: member.token, tenant: f.slug, json: ["public_token": "public-sandbox-good"])
                #expect(reused.status == .unprocessableContent && reused.problemCode == "bank-link-refused" && reused.text.contains("INVALID_PUBLIC_TOKEN"))
                #expect(try await planes.data(.post, base, token: member.token, tenant: f.slug, json: ["public_token": "has space"]).status == .unprocessableContent)
                // The same item linked again: refused, and the linked item is not ended at the provider.
                let again = try await planes.data(.post, base, token: member.token, tenant: f.slug, json: ["public_token": "public-sandbox-again"])
                #expect(again.status == .conflict && again.problemCode == "bank-link-exists", "\(again.text)")
                #expect(standIn.removed.withLock { $0.isEmpty })
                #expect(try await planes.data(.post, base, token: f.members[1].token, tenant: f.slug, json: ["public_token": "public-sandbox-second"]).status == .notFound)

                let listed = try await planes.data(.get, base, token: member.token, tenant: f.slug)
                #expect(listed.status == .ok && ((try? JSONSerialization.jsonObject(with: listed.body)) as? [[String: Any]])?.count == 1)

                // Live balances, in minor units read from the bank's digits; a pull covered or not by the available balance.
                let balance = try await planes.data(.get, "\(base)/\(linkID)/balance?account_id=acc-chq&amount=100000", token: member.token, tenant: f.slug)
                let chequing = (balance.json["accounts"] as? [[String: Any]])?.first
                #expect(balance.status == .ok && chequing?["available"] as? Int == 123_456 && chequing?["current"] as? Int == 130_010, "\(balance.text)")
                #expect(balance.json["covers"] as? Bool == true && balance.headers[.cacheControl] == "no-store")
                let short = try await planes.data(.get, "\(base)/\(linkID)/balance?account_id=acc-chq&amount=123457", token: member.token, tenant: f.slug)
                #expect(short.json["covers"] as? Bool == false)
                let unknown = try await planes.data(.get, "\(base)/\(linkID)/balance?account_id=acc-sav&amount=1", token: member.token, tenant: f.slug)
                #expect(unknown.status == .ok && unknown.json["covers"] == nil, "no available balance: cannot say")
                #expect(try await planes.data(.get, "\(base)/\(linkID)/balance?amount=1", token: member.token, tenant: f.slug).status == .unprocessableContent)
                #expect(try await planes.data(.get, "\(base)/\(linkID)/balance?account_id=acc-none", token: member.token, tenant: f.slug).status == .notFound)
                #expect(try await planes.data(.get, "\(base)/\(linkID)/balance", token: f.staffToken, tenant: f.slug).status == .ok)
                let otherMember = "/v1/members/\(f.members[1].id)/bank-links/\(linkID)/balance"
                #expect(try await planes.data(.get, otherMember, token: f.staffToken, tenant: f.slug).status == .notFound)

                // The bank wants the member to sign in again: said, and the link marked until a balance reads again.
                standIn.loginRequired.withLock { $0 = true }
                let relogin = try await planes.data(.get, "\(base)/\(linkID)/balance", token: member.token, tenant: f.slug)
                #expect(relogin.status == .conflict && relogin.problemCode == "bank-link-login-required", "\(relogin.text)")
                let marked = try await planes.data(.get, base, token: member.token, tenant: f.slug)
                #expect(((try? JSONSerialization.jsonObject(with: marked.body)) as? [[String: Any]])?.first?["status"] as? String == "login_required")
                standIn.loginRequired.withLock { $0 = false }
                #expect(try await planes.data(.get, "\(base)/\(linkID)/balance", token: member.token, tenant: f.slug).status == .ok)

                // Another tenant's staff find nothing.
                let g = try await planes.provisionFixture(prefix: "bg")
                #expect(try await planes.data(.get, "\(base)/\(linkID)/balance", token: g.staffToken, tenant: g.slug).status == .notFound)

                // A provider that refuses to end the item keeps the token (the member can unlink again).
                standIn.removeRefusal.withLock { $0 = "RATE_LIMIT_EXCEEDED" }
                let refusedUnlink = try await planes.data(.delete, "\(base)/\(linkID)", token: member.token, tenant: f.slug)
                #expect(refusedUnlink.status == .unprocessableContent && refusedUnlink.problemCode == "bank-link-refused", "\(refusedUnlink.text)")
                #expect(try await planes.data(.get, "\(base)/\(linkID)/balance", token: member.token, tenant: f.slug).status == .ok)
                standIn.removeRefusal.withLock { $0 = nil }

                // Unlinking ends the item at the provider and erases the sealed token.
                let unlinked = try await planes.data(.delete, "\(base)/\(linkID)", token: member.token, tenant: f.slug)
                #expect(unlinked.status == .ok && unlinked.json["status"] as? String == "removed", "\(unlinked.text)")
                #expect(standIn.removed.withLock { $0.count } == 1 && standIn.items.withLock { $0.count } == 1, "only the refused duplicate's token is left")
                let erased = try await harness.owner.transaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    return try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT token_sealed IS NULL FROM t_\(f.slug).bank_links WHERE id = '\(linkID)'"), logger: harness.logger
                    ).first(Bool.self)
                }
                #expect(erased == true)
                #expect(try await planes.data(.get, "\(base)/\(linkID)/balance", token: member.token, tenant: f.slug).status == .notFound)
            }
            // The connection narrowed to another credit union after this one's configuration named it: refused at run time.
            let narrowed = BankLinkProviders.configured(
                connections.map {
                    PartnerConnection(
                        name: $0.name, kind: $0.kind, baseURL: $0.baseURL, credential: $0.credential, methods: [], timeoutMs: $0.timeoutMs,
                        attempts: $0.attempts, tenants: ["another_cu"])
                }, environment: environment, logger: harness.logger)
            try await harness.withPlanes(bankLinks: narrowed) { planes in
                let f = try await planes.provisionFixture(prefix: "bn")
                try await planes.setConfigSection(f, "funding", ["bank_link": name])
                let refused = try await planes.data(
                    .post, "/v1/members/\(f.members[0].id)/bank-links/link-token", token: f.members[0].token, tenant: f.slug)
                #expect(refused.status == .unprocessableContent && refused.problemCode == "partner-not-allowed", "\(refused.text)")
            }
        }
        let log = lines.all.withLock { $0.joined(separator: "\n") }
        #expect(!log.contains(PlaidStandIn.secret) && !log.contains("access-sandbox"), "neither the secret nor an access token is logged")
    }
}
