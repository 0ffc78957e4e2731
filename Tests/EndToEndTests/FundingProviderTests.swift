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
import Testing

/// Issue 25: funding through the credit union's providers. The Interac request-money and Stripe PaymentIntents adapters
/// against stand-ins on a real socket; end to end, an order funded by an Interac deposit event and paid by a Thunes-style
/// partner, and one funded by a card (`payment_intent.succeeded`, Stripe's signature scheme); forged, stale, repeated and
/// wrong-amount events change nothing.
@Suite("Funding providers")
struct FundingProviderTests {
    func request(_ minor: Int64 = 12_345, email: String? = "awa@example.com") -> FundingRequest {
        FundingRequest(
            reference: UUID().uuidString.lowercased(), amount: Money(minorUnits: minor, currency: .cad), payerName: "Awa Ndiaye", payerEmail: email,
            expiresAt: Date(timeIntervalSince1970: 1_800_000_000), callbackURL: "https://t1.cu.example/v1/webhooks/funding-providers/interac-cu")
    }

    @Test("requests made once per order, 5xx tried again, refusals and timeouts thrown; events verified as each provider signs")
    func adapters() async throws {
        let standIn = FundingProviderStandIn()
        try await standIn.application.test(.live) { client in
            let base = "http://127.0.0.1:\(client.port!)"
            let interac = InteracRequestProvider(name: "interac-cu", baseURL: base, apiKey: FundingProviderStandIn.interacKey, timeout: .seconds(15), attempts: 2)
            let stripe = StripePaymentIntentsProvider(name: "stripe-cu", baseURL: base, secretKey: FundingProviderStandIn.stripeKey, timeout: .seconds(15), attempts: 2)
            var errors: [String] = []

            // Interac: the request in major units, the payer and the callback; asked again, the same request.
            let ask = request()
            let made = try await interac.request(ask)
            #expect(made.reference.hasPrefix("mr_") && made.url == "https://etransfer.example/pay/\(made.reference)" && made.clientSecret == nil)
            let sent = try #require(standIn.request(ask.reference))
            #expect(sent.amount == "123.45" && sent.currency == "CAD" && sent.callbackURL == ask.callbackURL, "\(sent)")
            #expect(sent.body.contains(#""email":"awa@example.com""#) && sent.body.contains(#""expires_at":"2027-01-15T08:00:00"#), "\(sent.body)")
            #expect(try await interac.request(ask) == made, "the order id is the idempotency key")

            // Stripe: form-encoded, amount in minor units, the order in metadata; the client secret comes back.
            let card = request(5_000)
            let intent = try await stripe.request(card)
            #expect(intent.reference.hasPrefix("pi_") && intent.clientSecret == "\(intent.reference)_secret_x7Yz")
            let form = try #require(standIn.request(card.reference)).body
            #expect(form.contains("amount=5000") && form.contains("currency=cad") && form.contains("metadata%5Bremittance_id%5D=\(card.reference)"), "\(form)")
            #expect(try await stripe.request(card) == intent)

            // A 503 is tried again; a refusal and an unreachable provider are thrown, never with the key.
            standIn.state.withLock { $0.failing["/v1/payment_intents"] = 1 }
            #expect(try await stripe.request(request()).reference.hasPrefix("pi_"))
            standIn.state.withLock { _ = $0.refusing.insert("/v1/money-requests") }
            do { _ = try await interac.request(request()); Issue.record("a refusal throws") } catch { errors.append("\(error)") }
            standIn.state.withLock { _ = $0.refusing.remove("/v1/money-requests") }
            let nowhere = StripePaymentIntentsProvider(name: "stripe-cu", baseURL: "http://127.0.0.1:1", secretKey: FundingProviderStandIn.stripeKey, timeout: .seconds(1), attempts: 2)
            do { _ = try await nowhere.request(request()); Issue.record("unreachable throws") } catch { errors.append("\(error)") }
            let stripeCheck = try await stripe.check()
            let interacCheck = try await interac.check()
            #expect(stripeCheck == 200 && interacCheck == 200)
            let wrongKey = StripePaymentIntentsProvider(name: "stripe-cu", baseURL: base, secretKey: "sk_test_wrong", attempts: 1)
            #expect(try await wrongKey.check() == 401)
            for error in errors { #expect(!error.contains(FundingProviderStandIn.stripeKey) && !error.contains(FundingProviderStandIn.interacKey), "\(error)") }
        }

        // Events, verified with each provider's header and secret.
        let now = Int64(Date().timeIntervalSince1970)
        let order = UUID()
        let stripe = StripePaymentIntentsProvider(name: "stripe-cu", baseURL: "https://api.stripe.example", secretKey: "sk")
        let body = Data(#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":5000,"currency":"cad","metadata":{"remittance_id":"\#(order.uuidString)"}}}}"#.utf8)
        let signed = WebhookSignature.header(secret: "whsec_x", timestamp: now, body: body)
        let event = try stripe.event(headers: ["stripe-signature": signed], body: body, secret: "whsec_x", nowSeconds: now)
        #expect(event == FundingEvent(id: "evt_1", kind: .paid, order: order, amountMinor: 5_000, currency: "CAD"))
        #expect(throws: WebhookSignature.Refusal.mismatch) { try stripe.event(headers: ["stripe-signature": signed], body: body, secret: "whsec_other", nowSeconds: now) }
        #expect(throws: WebhookSignature.Refusal.missing) { try stripe.event(headers: ["nzila-signature": signed], body: body, secret: "whsec_x", nowSeconds: now) }
        #expect(throws: WebhookSignature.Refusal.outsideWindow) {
            try stripe.event(headers: ["stripe-signature": signed], body: body, secret: "whsec_x", nowSeconds: now + 301)
        }
        let interac = InteracRequestProvider(name: "interac-cu", baseURL: "https://api.interac.example", apiKey: "k")
        let deposit = Data(#"{"event_id":"e1","type":"money_request.deposited","request":{"id":"mr_1","reference":"\#(order.uuidString)","amount":{"value":50.05,"currency":"CAD"}}}"#.utf8)
        let interacEvent = try interac.event(
            headers: ["nzila-signature": WebhookSignature.header(secret: "s", timestamp: now, body: deposit)], body: deposit, secret: "s", nowSeconds: now)
        #expect(interacEvent == FundingEvent(id: "e1", kind: .paid, order: order, amountMinor: 5_005, currency: "CAD"))
        #expect(PartnerHTTP.formEscape("a b&c=d[é]") == "a%20b%26c%3Dd%5B%C3%A9%5D")
    }

    @Test("end to end: Interac-funded and paid by a Thunes-style partner; card-funded by payment_intent.succeeded; bad events change nothing")
    func endToEnd() async throws {
        let harness = try await Harness.get()
        let funding = FundingProviderStandIn()
        let payout = QuotationPartnerStandIn()
        try await funding.application.test(.live) { fundingAPI in
            try await payout.application.test(.live) { payoutAPI in
                defer { payout.open() }
                let suffix = UUID().uuidString.prefix(8).lowercased()
                let (interacName, stripeName, thunesName) = ("interac-\(suffix)", "stripe-\(suffix)", "thx-\(suffix)")
                try await harness.owner.statement(
                    """
                    INSERT INTO control.partner_connections (name, kind, base_url, credential, methods, timeout_ms, attempts, callback_secret, payers)
                    VALUES (\(interacName), 'money-requests', \("http://127.0.0.1:\(fundingAPI.port!)"), 'env:NZILA_TEST_INTERAC_KEY', '{}', 15000, 2,
                            'env:NZILA_TEST_INTERAC_WHSEC', '{}'),
                           (\(stripeName), 'card-payments', \("http://127.0.0.1:\(fundingAPI.port!)"), 'env:NZILA_TEST_STRIPE_KEY', '{}', 15000, 2,
                            'env:NZILA_TEST_STRIPE_WHSEC', '{}'),
                           (\(thunesName), 'quotations', \("http://127.0.0.1:\(payoutAPI.port!)"), 'env:NZILA_TEST_THX_KEY', ARRAY['cash_pickup'], 15000, 2,
                            'env:NZILA_TEST_THX_CALLBACK', '{"CAD-XAF/cash_pickup": 4521}')
                    """, logger: harness.logger) { _ in }
                // A funding connection serves no payout method.
                await #expect(throws: (any Error).self) {
                    try await harness.owner.statement(
                        """
                        INSERT INTO control.partner_connections (name, kind, base_url, credential, methods, timeout_ms, attempts)
                        VALUES ('stripe-methods', 'card-payments', 'https://api.stripe.com', 'env:K', ARRAY['cash_pickup'], 1000, 1)
                        """, logger: harness.logger) { _ in }
                }
                let connections = try await PartnerConnection.all(client: harness.registry, logger: harness.logger).filter { $0.name.hasSuffix(suffix) }
                let partners = PayoutPartners.configured(connections, environment: [
                    "NZILA_TEST_INTERAC_KEY": FundingProviderStandIn.interacKey, "NZILA_TEST_INTERAC_WHSEC": funding.interacSecret,
                    "NZILA_TEST_STRIPE_KEY": FundingProviderStandIn.stripeKey, "NZILA_TEST_STRIPE_WHSEC": funding.stripeSecret,
                    "NZILA_TEST_THX_KEY": QuotationPartnerStandIn.credential, "NZILA_TEST_THX_CALLBACK": payout.callbackSecret,
                ], logger: harness.logger)
                #expect(partners.fundingProvider(named: interacName) != nil && partners.fundingProvider(named: stripeName) != nil)
                #expect(partners.partner(named: stripeName) == nil && partners.partner(named: thunesName) != nil)

                try await harness.withPlanes(partners: partners) { planes in
                    let f = try await planes.provisionFixture(prefix: "fpe")
                    let port = planes.dp.port!
                    // Without a funding section, Interac and cards are not offered.
                    let refused = try await planes.remit(f, funding: "interac")
                    #expect(refused.status == .unprocessableContent && refused.text.contains("does not take interac payments"), "\(refused.text)")

                    let path = "/v1/tenants/\(f.slug)/config"
                    let current = try await planes.control(.get, path, token: f.staffToken)
                    var config = try #require(current.json["config"] as? [String: Any])
                    let ifMatch: HTTPFields = [HTTPField.Name("If-Match")!: current.headers[HTTPField.Name("ETag")!] ?? ""]
                    // Another credit union's own account: refused; once the registry offers it to this tenant, accepted below.
                    try await harness.owner.statement(
                        "UPDATE control.partner_connections SET tenants = ARRAY['another_cu'] WHERE name = \(stripeName)", logger: harness.logger) { _ in }
                    config["funding"] = ["card": stripeName]
                    let notOurs = try await planes.control(.put, path, token: f.staffToken, json: ["config": config, "reason": "Funding"], headers: ifMatch)
                    #expect(notOurs.status == .unprocessableContent && notOurs.text.contains("may not use"), "\(notOurs.text)")
                    try await harness.owner.statement(
                        "UPDATE control.partner_connections SET tenants = ARRAY['another_cu', \(f.slug)] WHERE name = \(stripeName)", logger: harness.logger) { _ in }
                    // A connection of the wrong kind is refused where it is named.
                    config["funding"] = ["interac": stripeName]
                    let wrongKind = try await planes.control(.put, path, token: f.staffToken, json: ["config": config, "reason": "Funding"], headers: ifMatch)
                    #expect(wrongKind.status == .unprocessableContent && wrongKind.text.contains("config.funding.interac"), "\(wrongKind.text)")
                    config["funding"] = ["interac": interacName, "card": stripeName]
                    config["payouts"] = ["routes": [["corridor": "CAD-XAF", "method": "cash_pickup", "partners": [thunesName]]]]
                    let saved = try await planes.control(.put, path, token: f.staffToken, json: ["config": config, "reason": "Our providers"], headers: ifMatch)
                    #expect(saved.status == .ok, "\(saved.text)")

                    // Interac: the order waits for its money; the worker asks the provider for the request (after the
                    // order committed), and the member reads the payment link.
                    let placed = try await planes.remit(f, corridor: "CAD-XAF", method: "cash_pickup", name: "Ada Bello", funding: "interac")
                    #expect(placed.status == .created && placed.json["state"] as? String == "awaiting_funding", "\(placed.text)")
                    let id = try #require(placed.json["id"] as? String)
                    let total = try #require((placed.json["total_debit"] as? [String: Any])?["amount"] as? Int)
                    try await planes.drain(f)
                    let made = try #require(funding.request(id))
                    #expect(made.amount == Money(minorUnits: Int64(total), currency: .cad).formatted && made.currency == "CAD")
                    let callback = try #require(made.callbackURL.flatMap(URL.init(string:)))
                    #expect(callback.host == "\(f.slug).localhost" && callback.path == "/v1/webhooks/funding-providers/\(interacName)", "\(callback)")
                    let view = try await planes.data(.get, "/v1/remittances/\(id)/funding", token: f.members[0].token, tenant: f.slug)
                    #expect(view.json["reference"] as? String == made.id && view.json["payment_url"] as? String == "https://etransfer.example/pay/\(made.id)", "\(view.text)")
                    try await planes.drain(f)
                    #expect(funding.requests("/v1/money-requests") == 1, "asked once")

                    // Forged, stale, wrong amount: nothing moves.
                    #expect(try await funding.interacEvent(made, port: port, url: callback, secret: "whsec-forged").0 == 401)
                    #expect(try await funding.interacEvent(made, port: port, url: callback, at: Date().addingTimeInterval(-900)).0 == 401)
                    let short = try await funding.interacEvent(made, amount: "1.00", id: "evt-short", port: port, url: callback)
                    #expect(short.0 == 200 && short.1.contains("amount-mismatch"), "\(short.1)")
                    #expect(try await planes.order(f, id)["state"] as? String == "awaiting_funding")
                    // The deposit: funded, then paid out by the Thunes-style partner.
                    let deposited = try await funding.interacEvent(made, port: port, url: callback)
                    #expect(deposited.0 == 200 && deposited.1.contains(#""outcome":"funded""#), "\(deposited.1)")
                    #expect(try await funding.interacEvent(made, port: port, url: callback).1.contains("duplicate"))
                    try await planes.drain(f)
                    #expect(try await planes.order(f, id)["state"] as? String == "delivered")
                    #expect(payout.transaction(id)?.status == "70000")

                    // Card: a PaymentIntent; its client secret to the member only.
                    let card = try await planes.remit(f, funding: "card")
                    #expect(card.status == .created, "\(card.text)")
                    let cardID = try #require(card.json["id"] as? String)
                    try await planes.drain(f)
                    let intent = try #require(funding.request(cardID))
                    let mine = try await planes.data(.get, "/v1/remittances/\(cardID)/funding", token: f.members[0].token, tenant: f.slug)
                    #expect(mine.json["client_secret"] as? String == "\(intent.id)_secret_x7Yz", "\(mine.text)")
                    // At rest the client secret is sealed under the tenant's key.
                    let atRest = try await planes.session(f).run { db in
                        try await db.query("SELECT funding_secret_sealed FROM remittances WHERE id = \(UUID(uuidString: cardID)!)").first(Data.self)
                    }
                    let sealedSecret = try #require(atRest)
                    #expect(!String(decoding: sealedSecret, as: UTF8.self).contains("_secret_"))
                    let staff = try await planes.data(.get, "/v1/remittances/\(cardID)/funding", token: f.staffToken, tenant: f.slug)
                    #expect(staff.status == .ok && staff.json["client_secret"] == nil && staff.json["reference"] as? String == intent.id, "\(staff.text)")
                    let other = try await planes.data(.get, "/v1/remittances/\(cardID)/funding", token: f.members[1].token, tenant: f.slug)
                    #expect(other.status == .notFound)
                    let stripeURL = URL(string: "http://\(f.slug).localhost/v1/webhooks/funding-providers/\(stripeName)")!
                    // Signed with Interac's header instead of Stripe's, or with another secret: refused.
                    let interacHeader = try await funding.interacEvent(intent, port: port, url: stripeURL, secret: funding.stripeSecret)
                    #expect(interacHeader.0 == 401, "\(interacHeader.1)")
                    #expect(try await funding.stripeEvent(intent, port: port, url: stripeURL, secret: funding.interacSecret).0 == 401)
                    let failed = try await funding.stripeEvent(intent, type: "payment_intent.payment_failed", port: port, url: stripeURL)
                    #expect(failed.0 == 200 && failed.1.contains("payment-failed"), "\(failed.1)")
                    #expect(try await planes.order(f, cardID)["state"] as? String == "awaiting_funding")
                    let succeeded = try await funding.stripeEvent(intent, port: port, url: stripeURL)
                    #expect(succeeded.0 == 200 && succeeded.1.contains(#""outcome":"funded""#), "\(succeeded.1)")
                    try await planes.drain(f)
                    #expect(try await planes.order(f, cardID)["state"] as? String == "delivered")
                    // The Interac connection's event cannot fund the card order.
                    let crossed = try await funding.interacEvent(intent, id: "evt-crossed", port: port, url: callback)
                    #expect(crossed.1.contains("not-awaiting-funding"), "\(crossed.1)")

                    // The provider down when the order is placed: the order waits and the worker asks again 30 s later.
                    funding.state.withLock { $0.failing["/v1/payment_intents"] = 2 }
                    let later = try #require(try await planes.remit(f, funding: "card").json["id"] as? String)
                    try await planes.drain(f)
                    #expect(funding.request(later) == nil)
                    let waiting = try await planes.data(.get, "/v1/remittances/\(later)/funding", token: f.members[0].token, tenant: f.slug)
                    #expect(waiting.status == .ok && waiting.json["reference"] == nil, "\(waiting.text)")
                    planes.clock.advance(seconds: 31)
                    try await planes.drain(f)
                    #expect(funding.request(later) != nil)
                }
                try await harness.owner.statement(
                    "DELETE FROM control.partner_connections WHERE name IN (\(interacName), \(stripeName), \(thunesName))", logger: harness.logger) { _ in }
            }
        }
    }
}
