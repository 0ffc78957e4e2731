import AsyncHTTPClient
import Banking
import Compliance
import DataPlane
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Ledger
import NzilaCore
import NzilaPartners
import NzilaSandbox
import NzilaTestSupport
import Remittance
import Testing

/// Issue 25: the deterministic sandbox of `nzila dev`. The real adapters, configured from the registry as `nzila dev`
/// configures them, against `ProviderSandbox`: a remittance funded by an Interac deposit and another by a card (declined,
/// then paid), a member verified to tier 2, a bank linked and its balance read, a Wise rate — every event delivered,
/// signed, before the sandbox call that caused it answers.
@Suite("Provider sandbox")
struct SandboxTests {
    static let key = "sk_sandbox_test_5c1d"
    static let plaidSecret = "plaid-sandbox-secret-88e0"
    static let hook = "whsec_sandbox_test_a41b"

    /// A sandbox call as a person's browser or app makes it: form-encoded, JSON, or nothing.
    static func call(
        _ method: HTTPMethod, _ url: String, form: [(String, String)]? = nil, json: [String: Any]? = nil, headers: [String: String] = [:]
    ) async throws -> (Int, [String: Any]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form.map { "\(PartnerHTTP.formEscape($0.0))=\(PartnerHTTP.formEscape($0.1))" }.joined(separator: "&")))
        } else if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:])
    }

    @Test("the dev sandbox: Interac deposit and card funding, identity to tier 2, a linked bank's balance, Wise rates; same keys, same answers")
    func sandbox() async throws {
        let harness = try await Harness.get()
        let sandbox = ProviderSandbox(
            .init(
                apiKey: Self.key, plaidClientID: "sandbox-client", plaidSecret: Self.plaidSecret, webhookSecret: Self.hook,
                rates: ["CAD-NGN": "1140.5"], publicBase: "http://127.0.0.1"),
            clock: .system, logger: harness.logger)
        try await sandbox.application(port: 0).test(.live) { api in
            let base = "http://127.0.0.1:\(api.port!)"
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let names = (interac: "sbx-interac-\(suffix)", card: "sbx-card-\(suffix)", identity: "sbx-id-\(suffix)", bank: "sbx-bank-\(suffix)")
            let wanted = [
                (names.interac, "money-requests", "env:NZILA_SBX_KEY", true), (names.card, "card-payments", "env:NZILA_SBX_KEY", true),
                (names.identity, "identity", "env:NZILA_SBX_KEY", true), (names.bank, "bank-links", "env:NZILA_SBX_PLAID", false),
            ].map { name, kind, credential, callback in
                PartnerConnection(
                    name: name, kind: kind, baseURL: base, credential: CredentialReference(credential)!, methods: [], timeoutMs: 30_000, attempts: 2,
                    callbackSecret: callback ? CredentialReference("env:NZILA_SBX_HOOK") : nil)
            }
            for connection in wanted { try await connection.save(client: harness.owner, operator: "test", replace: false, logger: harness.logger) }
            let connections = try await PartnerConnection.all(client: harness.registry, logger: harness.logger).filter { $0.name.hasSuffix(suffix) }
            let environment = ["NZILA_SBX_KEY": Self.key, "NZILA_SBX_PLAID": "sandbox-client:\(Self.plaidSecret)", "NZILA_SBX_HOOK": Self.hook]
            let partners = PayoutPartners.configured(connections, environment: environment, logger: harness.logger)
            let identity = IdentityProviders.configured(connections, environment: environment, logger: harness.logger)
            let bankLinks = BankLinkProviders.configured(connections, environment: environment, logger: harness.logger)

            // Wise's shape: the table's rate, exactly; a pair it does not offer is no rate.
            let wise = WiseRateProvider(name: "sbx-fx", baseURL: base, token: Self.key, timeout: .seconds(30), attempts: 1)
            #expect(try await wise.check() == 200)
            #expect(try await wise.rate(from: .cad, to: Currency(code: "NGN")!) == FXRate(decimal: "1140.5"))
            await #expect(throws: (any Error).self) { try await wise.rate(from: .cad, to: Currency(code: "GHS")!) }

            try await harness.withPlanes(partners: partners, identity: identity, bankLinks: bankLinks, documents: Harness.localDocuments) { planes in
                let f = try await planes.provisionFixture(prefix: "sbx")
                let member = f.members[0]
                try await planes.setConfigSection(f, "funding", ["interac": names.interac, "card": names.card, "bank_link": names.bank])
                try await planes.setConfigSection(f, "identity", ["connection": names.identity, "grant_tier": 2])
                let tenantBase = "http://\(f.slug).localhost:\(planes.dp.port!)"
                sandbox.update {
                    $0.localhostPort = planes.dp.port!
                    $0.cardEvents = .init(url: "\(tenantBase)/v1/webhooks/funding-providers/\(names.card)")
                    $0.identityEvents = .init(url: "\(tenantBase)/v1/webhooks/identity/\(names.identity)")
                }

                // Interac: the worker asks for the request; the payer's deposit is delivered before the deposit answers.
                let interac = try #require(try await planes.remit(f, funding: "interac").json["id"] as? String)
                try await planes.drain(f)
                let request = try await planes.data(.get, "/v1/remittances/\(interac)/funding", token: member.token, tenant: f.slug)
                let paymentURL = try #require(request.json["payment_url"] as? String, "\(request.text)")
                #expect(paymentURL.hasPrefix("http://127.0.0.1/interac/pay/mr_"))
                let requestID = try #require(request.json["reference"] as? String)
                // Asked again with the same key, the provider answers the same request.
                let ask = FundingRequest(
                    reference: interac, amount: Money(minorUnits: 100, currency: .cad), payerName: "A", payerEmail: nil,
                    expiresAt: Date(timeIntervalSince1970: 1_900_000_000), callbackURL: nil)
                #expect(try await partners.fundingProvider(named: names.interac)?.request(ask).reference == requestID)
                let deposited = try await Self.call(.POST, "\(base)/interac/pay/\(requestID)/deposit")
                #expect(deposited.0 == 200 && deposited.1["delivered"] as? Int == 200, "\(deposited.1)")
                #expect(try await Self.call(.POST, "\(base)/interac/pay/\(requestID)/deposit").0 == 409, "paid once")
                try await planes.drain(f)
                #expect(try await planes.order(f, interac)["state"] as? String == "delivered")

                // Card: Stripe's test payment methods decide; the client secret confirms it, as the member's app does.
                let card = try #require(try await planes.remit(f, funding: "card").json["id"] as? String)
                try await planes.drain(f)
                let intent = try await planes.data(.get, "/v1/remittances/\(card)/funding", token: member.token, tenant: f.slug)
                let (pi, secret) = (try #require(intent.json["reference"] as? String), try #require(intent.json["client_secret"] as? String))
                let wrong = try await Self.call(.POST, "\(base)/v1/payment_intents/\(pi)/confirm", form: [("client_secret", "\(pi)_secret_x"), ("payment_method", "pm_card_visa")])
                #expect(wrong.0 == 401)
                let declined = try await Self.call(
                    .POST, "\(base)/v1/payment_intents/\(pi)/confirm", form: [("client_secret", secret), ("payment_method", "pm_card_chargeDeclined")])
                #expect(declined.0 == 402 && declined.1["nzila_sandbox_delivered"] as? Int == 200, "\(declined.1)")
                #expect(try await planes.order(f, card)["state"] as? String == "awaiting_funding")
                let paid = try await Self.call(.POST, "\(base)/v1/payment_intents/\(pi)/confirm", form: [("client_secret", secret), ("payment_method", "pm_card_visa")])
                #expect(paid.0 == 200 && paid.1["status"] as? String == "succeeded" && paid.1["nzila_sandbox_delivered"] as? Int == 200, "\(paid.1)")
                try await planes.drain(f)
                #expect(try await planes.order(f, card)["state"] as? String == "delivered")

                // Identity: the member's session; "verification success" on the sandbox's page; tier 2 with the report.
                let opened = try await planes.data(.post, "/v1/members/\(member.id)/kyc/verifications", token: member.token, tenant: f.slug)
                let session = try #require((opened.json["verification"] as? [String: Any])?["session_id"] as? String, "\(opened.text)")
                #expect((opened.json["url"] as? String)?.hasSuffix("/identity/verify/\(session)") == true)
                let failed = try await Self.call(.POST, "\(base)/identity/verify/\(session)/unverified")
                #expect(failed.0 == 200 && failed.1["delivered"] as? Int == 200, "\(failed.1)")
                let verified = try await Self.call(.POST, "\(base)/identity/verify/\(session)/verified")
                #expect(verified.0 == 200 && verified.1["delivered"] as? Int == 200, "\(verified.1)")
                let profile = try await planes.data(.get, "/v1/members/\(member.id)/kyc", token: f.staffToken, tenant: f.slug).json
                #expect(profile["tier"] as? Int == 2, "\(profile)")
                let documents = profile["documents"] as? [[String: Any]] ?? []
                #expect(documents.contains { $0["kind"] as? String == "drivers_licence" && ($0["provider_reference"] as? String)?.hasPrefix("vr_") == true }, "\(documents)")
                // The report's images are the member's KYC files now, sealed, served only through an audited reveal.
                let files = try await planes.data(.get, "/v1/members/\(member.id)/kyc/files", token: f.staffToken, tenant: f.slug)
                let listed = ((try? JSONSerialization.jsonObject(with: files.body)) as? [[String: Any]]) ?? []
                #expect(listed.compactMap { $0["kind"] as? String }.sorted() == ["id_back", "id_front", "selfie"], "\(files.text)")
                #expect(listed.allSatisfy { $0["media_type"] as? String == "image/png" && $0["uploaded_role"] as? String == "provider:\(names.identity)" }, "\(files.text)")
                let front = try #require(listed.first { $0["kind"] as? String == "id_front" }?["id"] as? String)
                let revealed = try await planes.data(
                    .post, "/v1/members/\(member.id)/kyc/files/\(front)/reveal", token: f.staffToken, tenant: f.slug, json: ["reason": "Checking the licence photo"])
                #expect(revealed.status == .ok && revealed.body.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "\(revealed.status)")

                // Plaid: a link token, the sandbox's public token, the exchange, the fixed accounts, a live balance.
                let links = "/v1/members/\(member.id)/bank-links"
                #expect(try await planes.data(.post, "\(links)/link-token", token: member.token, tenant: f.slug).status == .created)
                let plaidHeaders = ["PLAID-CLIENT-ID": "sandbox-client", "PLAID-SECRET": Self.plaidSecret]
                #expect(try await Self.call(.POST, "\(base)/sandbox/public_token/create", json: [:], headers: ["PLAID-CLIENT-ID": "sandbox-client", "PLAID-SECRET": "x"]).0 == 400)
                let token = try #require(try await Self.call(.POST, "\(base)/sandbox/public_token/create", json: ["institution_id": "ins_109508"], headers: plaidHeaders).1["public_token"] as? String)
                let linked = try await planes.data(.post, links, token: member.token, tenant: f.slug, json: ["public_token": token])
                #expect(linked.status == .created, "\(linked.text)")
                let link = try #require(linked.json["id"] as? String)
                let accounts = try #require(linked.json["accounts"] as? [[String: Any]])
                #expect(accounts.map { $0["mask"] as? String } == ["0000", "1111", "3333"], "\(accounts)")
                let chequing = try #require(accounts.first?["id"] as? String)
                let balance = try await planes.data(.get, "\(links)/\(link)/balance?account_id=\(chequing)&amount=100000", token: member.token, tenant: f.slug)
                #expect(balance.status == .ok && balance.json["covers"] as? Bool == true, "\(balance.text)")
                let read = (balance.json["accounts"] as? [[String: Any]])?.first { $0["id"] as? String == chequing }
                #expect(read?["available"] as? Int == 125_000 && read?["current"] as? Int == 131_000, "\(balance.text)")
                let short = try await planes.data(.get, "\(links)/\(link)/balance?account_id=\(chequing)&amount=125001", token: member.token, tenant: f.slug)
                #expect(short.json["covers"] as? Bool == false, "\(short.text)")
                #expect(try await planes.data(.delete, "\(links)/\(link)", token: member.token, tenant: f.slug).status == .ok)

                // Every event went to this tenant's address and was taken.
                #expect(
                    sandbox.deliveries.count == 5 && sandbox.deliveries.allSatisfy { $0.status == 200 && $0.url.hasPrefix("http://\(f.slug).localhost:") },
                    "\(sandbox.deliveries)")
            }
            try await harness.owner.statement(
                "DELETE FROM control.partner_connections WHERE name IN (\(names.interac), \(names.card), \(names.identity), \(names.bank))",
                logger: harness.logger) { _ in }
        }
    }

    @Test("a registry change reaches a running data plane: a connection added serves, narrowed is refused, removed is gone")
    func reload() async throws {
        let harness = try await Harness.get()
        let sandbox = ProviderSandbox(
            .init(apiKey: Self.key, plaidClientID: "sandbox-client", plaidSecret: Self.plaidSecret, webhookSecret: Self.hook, publicBase: "http://127.0.0.1"),
            clock: .system, logger: harness.logger)
        try await sandbox.application(port: 0).test(.live) { api in
            let name = "sbx-reload-\(UUID().uuidString.prefix(8).lowercased())"
            @Sendable func connection(tenants: [String]?) -> PartnerConnection {
                PartnerConnection(
                    name: name, kind: "bank-links", baseURL: "http://127.0.0.1:\(api.port!)", credential: .environment("NZILA_SBX_RELOAD_PLAID"),
                    methods: [], timeoutMs: 30_000, attempts: 2, tenants: tenants)
            }
            let environment = ["NZILA_SBX_RELOAD_PLAID": "sandbox-client:\(Self.plaidSecret)"]
            try await harness.withPlanes(data: { $0.partnerEnvironment = environment }) { planes in
                let f = try await planes.provisionFixture(prefix: "sbr")
                let links = planes.data.bankLinks
                #expect(links.provider(name) == nil)
                // Added while the plane runs: served without a restart, once the announcement is heard.
                try await connection(tenants: nil).save(client: harness.owner, operator: "test", replace: false, logger: harness.logger)
                #expect(try await eventually { links.provider(name) != nil }, "the added connection is served")
                try await planes.setConfigSection(f, "funding", ["bank_link": name])
                let path = "/v1/members/\(f.members[0].id)/bank-links/link-token"
                let token = try await planes.data(.post, path, token: f.members[0].token, tenant: f.slug)
                #expect(token.status == .created, "\(token.text)")
                // Narrowed to another credit union: refused to this one at once.
                try await connection(tenants: ["another_cu"]).save(client: harness.owner, operator: "test", replace: true, logger: harness.logger)
                #expect(try await eventually { !links.tenants.allows(name, tenant: f.slug) })
                let refused = try await planes.data(.post, path, token: f.members[0].token, tenant: f.slug)
                #expect(refused.status == .unprocessableContent && refused.problemCode == "partner-not-allowed", "\(refused.text)")
                // Removed: gone.
                try await harness.owner.statement("DELETE FROM control.partner_connections WHERE name = \(name)", logger: harness.logger) { _ in }
                #expect(try await eventually { links.provider(name) == nil }, "the removed connection is no longer served")
            }
            try await harness.owner.statement("DELETE FROM control.partner_connections WHERE name = \(name)", logger: harness.logger) { _ in }
        }
    }
}
