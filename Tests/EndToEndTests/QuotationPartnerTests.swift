import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Remittance
import Synchronization
import Testing

/// Issue 25: the Thunes-style payout adapter (quotation → transaction → confirm) against a stand-in on a real socket,
/// and end to end: a tenant routes cash pickup to it, an order funded by a signed funding callback is paid when the
/// partner's signed status callback arrives at the tenant's address; forged, stale and repeated callbacks change nothing.
@Suite("Quotation payout partner")
struct QuotationPartnerTests {
    func instruction(_ name: String, method: String = "cash_pickup", minor: Int64 = 65_000, callback: String? = nil) -> PayoutInstruction {
        PayoutInstruction(
            reference: UUID().uuidString.lowercased(), corridor: "CAD-XAF", amount: Money(minorUnits: minor, currency: Currency(code: "XAF")!),
            recipient: Recipient(name: name, method: method, country: "CM", msisdn: nil, mobileOperator: nil, bankCode: nil, accountNumber: nil,
                                 idType: "national_id", idNumber: "CM-99887766"),
            sender: PayoutSender(name: "Awa Ndiaye", country: "CA"), callbackURL: callback)
    }

    func partner(_ port: Int, credential: String = QuotationPartnerStandIn.credential, timeout: TimeAmount = .seconds(15), attempts: Int = 2)
        -> QuotationPayoutPartner
    {
        QuotationPayoutPartner(
            name: "thx", methods: ["cash_pickup", "bank_deposit"], baseURL: "http://127.0.0.1:\(port)", credential: credential,
            payers: ["CAD-XAF/cash_pickup": 4521], timeout: timeout, attempts: attempts)
    }

    @Test("paid, declined, refused, 5xx tried again, a timeout unknown and then found, a half-made payout finished, never twice")
    func outcomes() async throws {
        let standIn = QuotationPartnerStandIn()
        try await standIn.application.test(.live) { client in
            defer { standIn.open() }
            let port = client.port!
            let thx = partner(port)
            var errors: [String] = []

            // Paid: quotation for exactly the order's amount, transaction with sender and beneficiary, confirmed.
            let paid = instruction("Ada Bello", callback: "https://t1.cu.example/v1/webhooks/payouts/thx")
            guard case .paid(let transaction) = try await thx.disburse(paid) else { Issue.record("pays"); return }
            #expect(transaction == String(try #require(standIn.transaction(paid.reference)).id))
            let sentBody = try #require(standIn.state.withLock { $0.bodies.last })
            let sent = try #require(try JSONSerialization.jsonObject(with: sentBody) as? [String: Any])
            #expect((sent["beneficiary"] as? [String: String]) == [
                "firstname": "Ada", "lastname": "Bello", "country_iso_code": "CMR", "id_type": "national_id", "id_number": "CM-99887766"])
            #expect((sent["sender"] as? [String: String]) == ["firstname": "Awa", "lastname": "Ndiaye", "country_iso_code": "CAN"])
            #expect(sent["callback_url"] as? String == "https://t1.cu.example/v1/webhooks/payouts/thx" && sent["external_id"] as? String == paid.reference)
            let quotedBody = try #require(standIn.state.withLock { $0.quotations[paid.reference]?.body })
            let quoted = try #require(try JSONSerialization.jsonObject(with: quotedBody) as? [String: Any])
            #expect((quoted["destination"] as? [String: Any])?["amount"] as? Int == 65_000, "XAF has no minor digits: 65000 XAF")
            // Asked again (a retry after a lost answer): read back, nothing created.
            let before = standIn.requests("POST quotations")
            #expect(try await thx.disburse(paid) == .paid(transaction: transaction))
            #expect(standIn.requests("POST quotations") == before)

            // Declined at confirmation; refused at creation (nothing paid under the reference either way).
            if case .declined(let reason) = try await thx.disburse(instruction("Bea Declined")) { #expect(reason.contains("DECLINED")) } else {
                Issue.record("declined")
            }
            if case .declined(let reason) = try await thx.disburse(instruction("Cy Refuse")) { #expect(reason.contains("Beneficiary invalid (1006003)")) } else {
                Issue.record("refused")
            }
            // No payer for the method: declined before any call.
            if case .declined(let reason) = try await thx.disburse(instruction("Di Bello", method: "bank_deposit")) {
                #expect(reason.contains("no payer"))
            } else {
                Issue.record("no payer")
            }
            // A quotation that would pay the recipient another amount is declined, not confirmed.
            standIn.state.withLock { $0.shortQuote = true }
            if case .declined(let reason) = try await thx.disburse(instruction("Ed Bello")) { #expect(reason.contains("quoted the recipient")) } else {
                Issue.record("short quote")
            }
            standIn.state.withLock { $0.shortQuote = false }

            // A 503 is tried again.
            standIn.fail("POST transactions", times: 1)
            let flaky = instruction("Fay Bello")
            if case .paid = try await thx.disburse(flaky) {} else { Issue.record("a 503 is tried again") }
            #expect(standIn.requests("POST transactions") >= 2)

            // Confirmation never answered (every try a 503): the outcome is unknown; the next ask finds the created
            // transaction by its external id and confirms it. One transaction, one payout.
            standIn.fail("POST confirm", times: 2)
            let halfMade = instruction("Gil Bello")
            do {
                _ = try await thx.disburse(halfMade)
                Issue.record("an unanswered confirmation is an unknown outcome")
            } catch { errors.append("\(error)") }
            #expect(standIn.transaction(halfMade.reference)?.status == "10000")
            if case .paid = try await thx.disburse(halfMade) {} else { Issue.record("finished on the next ask") }
            #expect(standIn.state.withLock { $0.transactions.values.filter { $0.external == halfMade.reference }.count } == 1)

            // A partner that does not answer within the timeout: unknown (thrown); once it answers, the quotation it
            // made is found by its external id and the payout goes on.
            standIn.state.withLock { $0.hang = true }
            let slow = instruction("Hal Bello")
            do {
                _ = try await partner(port, timeout: .milliseconds(300), attempts: 1).disburse(slow)
                Issue.record("a timeout is an unknown outcome")
            } catch { errors.append("\(error)") }
            standIn.state.withLock { $0.hang = false }
            standIn.open()
            if case .paid = try await thx.disburse(slow) {} else { Issue.record("a timed-out payout goes on") }

            // A refused credential is a failure of the partner (unknown outcome), never a decline of the payout.
            do {
                _ = try await partner(port, credential: "tk-9f2c:wrong-secret-value", attempts: 1).disburse(instruction("Ida Bello"))
                Issue.record("a refused credential throws")
            } catch { errors.append("\(error)") }
            #expect(try await thx.check() == 200)
            #expect(try await partner(port, credential: "tk-9f2c:wrong-secret-value").check() == 401)
            // Nothing said about a failure carries the credential.
            #expect(errors.count == 3)
            for error in errors {
                #expect(!error.contains(QuotationPartnerStandIn.secret) && !error.contains("wrong-secret-value") && !error.contains("dGst"), "\(error)")
            }
        }
    }

    @Test("status classes map to outcomes; names split; every country paid to has its alpha-3 code")
    func rules() throws {
        func outcome(_ status: String) throws -> PayoutOutcome? {
            try PartnerHTTPDecoding.transaction(#"{"id": 7, "status": "\#(status)", "status_message": "X", "external_id": "e"}"#).outcome
        }
        #expect(try outcome("70000") == .paid(transaction: "7"))
        for pending in ["10000", "20000", "50000", "60000"] { #expect(try outcome(pending) == .pending) }
        for declined in ["30000", "40000", "80000", "90000", "90201"] {
            if case .declined = try outcome(declined) {} else { Issue.record("\(declined) declines") }
        }
        #expect(try outcome("00000") == nil)
        for countries in RecipientRules.countries.values {
            for country in countries.keys { #expect(QuotationPayoutPartner.alpha3Code(country) != nil, "\(country)") }
        }
    }
}

enum PartnerHTTPDecoding {
    static func transaction(_ text: String) throws -> QuotationPayoutPartner.Transaction {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(QuotationPayoutPartner.Transaction.self, from: Data(text.utf8))
    }
}

extension QuotationPartnerTests {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        func add(_ line: String) { all.withLock { $0.append(line) } }
    }

    @Test("end to end: funded by a signed callback, paid by a Thunes-style partner's signed status callback at the tenant's address")
    func endToEnd() async throws {
        let harness = try await Harness.get()
        let standIn = QuotationPartnerStandIn()
        let lines = Lines()
        var capturing = Logger(label: "nzila.data-plane.test") { JSONLogHandler(label: $0, write: { lines.add($0) }) }
        capturing.logLevel = .debug
        let logger = capturing
        try await standIn.application.test(.live) { api in
            defer { standIn.open() }
            let name = "thx-\(UUID().uuidString.prefix(8).lowercased())"
            try await harness.owner.statement(
                """
                INSERT INTO control.partner_connections (name, kind, base_url, credential, methods, timeout_ms, attempts, callback_secret, payers)
                VALUES (\(name), 'quotations', \("http://127.0.0.1:\(api.port!)"), 'env:NZILA_TEST_THX_KEY', ARRAY['cash_pickup'], 15000, 2,
                        'env:NZILA_TEST_THX_CALLBACK', '{"CAD-XAF/cash_pickup": 4521}')
                """, logger: harness.logger) { _ in }
            defer {
                Task { try? await harness.owner.statement("DELETE FROM control.partner_connections WHERE name = \(name)", logger: harness.logger) { _ in } }
            }
            let connections = try await PartnerConnection.all(client: harness.registry, logger: harness.logger).filter { $0.name == name }
            #expect(connections.first?.payers == ["CAD-XAF/cash_pickup": 4521] && connections.first?.callbackSecret == .environment("NZILA_TEST_THX_CALLBACK"))
            let partners = PayoutPartners.configured(
                connections, environment: ["NZILA_TEST_THX_KEY": QuotationPartnerStandIn.credential, "NZILA_TEST_THX_CALLBACK": standIn.callbackSecret],
                logger: harness.logger)
            #expect(partners.callbackSecret(name) == standIn.callbackSecret && partners.callbackSecret("sandbox-cash") == nil)

            try await harness.withPlanes(dataLogger: logger, partners: partners) { planes in
                let f = try await planes.provisionFixture(prefix: "thx")
                let other = try await planes.provisionFixture(prefix: "thy")
                let path = "/v1/tenants/\(f.slug)/config"
                let current = try await planes.control(.get, path, token: f.staffToken)
                var config = try #require(current.json["config"] as? [String: Any])
                config["payouts"] = ["routes": [["corridor": "CAD-XAF", "method": "cash_pickup", "partners": [name, "sandbox-cash"]]]]
                let saved = try await planes.control(
                    .put, path, token: f.staffToken, json: ["config": config, "reason": "Cash pickup through our partner"],
                    headers: [HTTPField.Name("If-Match")!: current.headers[HTTPField.Name("ETag")!] ?? ""])
                #expect(saved.status == .ok, "\(saved.text)")

                // Placed to be funded by the provider's callback (Interac-style), then funded by it.
                func place(_ recipient: String) async throws -> String {
                    let placed = try await planes.remit(f, corridor: "CAD-XAF", method: "cash_pickup", name: recipient, funding: "webhook")
                    #expect(placed.status == .created && placed.json["state"] as? String == "awaiting_funding", "\(placed.text)")
                    let id = try #require(placed.json["id"] as? String)
                    let total = try #require((placed.json["total_debit"] as? [String: Any])?["amount"] as? Int)
                    let secret = planes.data.webhookSecret(tenant: try await planes.tenantRef(f), provider: "interac")
                    let raw = try JSONSerialization.data(withJSONObject: ["event_id": "evt-\(id)", "remittance_id": id, "amount": total, "currency": "CAD"])
                    let funded = try await Planes.send(
                        planes.dp, .post, "/v1/webhooks/funding/interac", tenant: f.slug, raw: raw,
                        headers: [.contentType: "application/json",
                                  FundingWebhookRoutes.signatureHeader: WebhookSignature.header(secret: secret, timestamp: Int64(Date().timeIntervalSince1970), body: raw)])
                    #expect(funded.json["outcome"] as? String == "funded", "\(funded.text)")
                    try await planes.drain(f)
                    return id
                }

                // The partner submits the payout and answers later: the order waits, disbursing, with the callback
                // address at the tenant's host.
                let id = try await place("Ada Later")
                #expect(try await planes.order(f, id)["state"] as? String == "disbursing")
                let transaction = try #require(standIn.transaction(id))
                let url = try #require(transaction.callbackURL.flatMap(URL.init(string:)))
                #expect(url.host == "\(f.slug).localhost" && url.path == "/v1/webhooks/payouts/\(name)", "\(url)")
                let port = planes.dp.port!

                // Forged (another secret), unsigned, stale: refused, nothing changes.
                let forged = try await standIn.complete(id, paid: true, port: port, secret: "not-the-callback-secret")
                #expect(forged.0 == 401, "\(forged.1)")
                let unsigned = try await standIn.post(forged.2, to: url, port: port, secret: "", signed: false)
                #expect(unsigned.0 == 401)
                let stale = try await standIn.complete(id, paid: true, port: port, at: Date().addingTimeInterval(-600))
                #expect(stale.0 == 401 && stale.1.contains("5-minute window"), "\(stale.1)")
                // The same callback at another tenant's address finds no such order there.
                let elsewhere = URL(string: "http://\(other.slug).localhost/v1/webhooks/payouts/\(name)")!
                let crossed = try await standIn.post(forged.2, to: elsewhere, port: port, secret: standIn.callbackSecret)
                #expect(crossed.0 == 200 && crossed.1.contains("unknown-remittance"), "\(crossed.1)")
                #expect(try await planes.order(f, id)["state"] as? String == "disbursing")

                // The real callback: delivered, with the partner's transaction as its reference.
                let completed = try await standIn.complete(id, paid: true, port: port)
                #expect(completed.0 == 200 && completed.1.contains(#""outcome":"paid""#) && completed.1.contains(#""state":"delivered""#), "\(completed.1)")
                let order = try await planes.order(f, id)
                #expect(order["state"] as? String == "delivered")
                // Delivered again (the partner retries): a duplicate, nothing else.
                let replayed = try await standIn.post(completed.2, to: url, port: port, secret: standIn.callbackSecret)
                #expect(replayed.0 == 200 && replayed.1.contains("duplicate"), "\(replayed.1)")

                // Declined by callback: the next partner of the tenant's list (the sandbox) pays it.
                let declined = try await place("Bea Later")
                let refusal = try await standIn.complete(declined, paid: false, port: port)
                #expect(refusal.0 == 200 && refusal.1.contains(#""outcome":"declined""#), "\(refusal.1)")
                try await planes.drain(f)
                #expect(try await planes.order(f, declined)["state"] as? String == "delivered")
                let tried = try await planes.session(f).run { db in
                    try await db.query(
                        "SELECT partner || ':' || status FROM partner_attempts WHERE remittance_id = \(UUID(uuidString: declined)!) ORDER BY attempt"
                    ).all(String.self)
                }
                #expect(tried == ["\(name):failed", "sandbox-cash:succeeded"], "\(tried)")

                // Polling alone pays too (no callback needed): the partner completes at confirmation.
                let polled = try await place("Cy Bello")
                #expect(try await planes.order(f, polled)["state"] as? String == "delivered")

                // A callback for a partner without a callback secret, or with no such partner: not found.
                let sandbox = try await standIn.post(completed.2, to: URL(string: "http://\(f.slug).localhost/v1/webhooks/payouts/sandbox-cash")!, port: port, secret: "x")
                #expect(sandbox.0 == 404, "\(sandbox.1)")
            }
        }
        // The credential and the callback secret never reach the log, in the clear or encoded.
        let log = lines.all.withLock { $0.joined(separator: "\n") }
        #expect(!log.isEmpty)
        for secret in [QuotationPartnerStandIn.secret, standIn.callbackSecret, Data(QuotationPartnerStandIn.credential.utf8).base64EncodedString()] {
            #expect(!log.contains(secret), "\(secret) logged")
        }
    }
}
