import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NzilaCore
import NzilaPartners

/// What a funding provider is asked for: money for an order, from the member who placed it. `reference` is the order id,
/// sent as the provider's idempotency key, so asking again after a crash or a timeout returns the first request.
public struct FundingRequest: Sendable, Equatable {
    public let reference: String
    public let amount: Money
    public let payerName: String
    public let payerEmail: String?
    /// When the order stops waiting for its money (the request should expire with it).
    public let expiresAt: Date
    /// Where the provider posts its events for this tenant (nil: none configured).
    public let callbackURL: String?

    public init(reference: String, amount: Money, payerName: String, payerEmail: String?, expiresAt: Date, callbackURL: String?) {
        self.reference = reference
        self.amount = amount
        self.payerName = payerName
        self.payerEmail = payerEmail
        self.expiresAt = expiresAt
        self.callbackURL = callbackURL
    }
}

/// What the member needs to pay: the provider's reference, and a payment link (Interac) or a client secret (a card
/// PaymentIntent, confirmed by the member's app with the provider's SDK).
public struct FundingAnswer: Sendable, Equatable {
    public let reference: String
    public let url: String?
    public let clientSecret: String?
}

/// A provider's event about an order's money, verified: the money arrived (`paid`), or the provider gave up.
public struct FundingEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case paid, failed, other }
    public let id: String
    public let kind: Kind
    public let order: UUID?
    public let amountMinor: Int64?
    public let currency: String?

    public init(id: String, kind: Kind, order: UUID?, amountMinor: Int64?, currency: String?) {
        self.id = id
        self.kind = kind
        self.order = order
        self.amountMinor = amountMinor
        self.currency = currency
    }
}

/// A provider that takes money in for orders, and whose events say when it arrived.
public protocol FundingProvider: PartnerCheck {
    var name: String { get }
    /// How members pay through it: `interac` or `card`.
    var funding: String { get }
    func request(_ request: FundingRequest) async throws -> FundingAnswer
    /// The event in a webhook's raw body, if its signature (in `headers`, checked against `secret` at `nowSeconds`) is good.
    func event(headers: [String: String], body: Data, secret: String, nowSeconds: Int64) throws -> FundingEvent
}

/// An Interac e-Transfer request-money API, in the shape the Canadian banks' business APIs give it:
/// `POST {base}/v1/money-requests` (Bearer key, `Idempotency-Key`) with the amount in major units, the payer's name and
/// email, the expiry and the callback URL, answered with the request's `id`, `status` and `payment_url`; the provider
/// posts `money_request.deposited` (or `.expired`, `.declined`) events signed `Nzila-Signature` with the connection's
/// callback secret: `{"event_id", "type", "request": {"id", "reference", "amount": {"value", "currency"}}}`.
public struct InteracRequestProvider: FundingProvider {
    public let name: String
    public let funding = "interac"
    let baseURL: String
    let http: PartnerHTTP

    public init(name: String, baseURL: String, apiKey: String, timeout: TimeAmount = .seconds(10), attempts: Int = 3, client: HTTPClient = .shared) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = PartnerHTTP(name: name, authorization: "Bearer \(apiKey)", timeout: timeout, attempts: attempts, client: client)
    }

    struct Created: Decodable {
        let id: String
        let paymentUrl: String?
    }

    struct Event: Decodable {
        struct Request: Decodable {
            struct Amount: Decodable {
                let value: Decimal
                let currency: String
            }

            let id: String
            let reference: String
            let amount: Amount
        }

        let eventId: String
        let type: String
        let request: Request
    }

    public func request(_ request: FundingRequest) async throws -> FundingAnswer {
        var payer: [String: String] = ["name": request.payerName]
        payer["email"] = request.payerEmail
        var body: [String: Any] = [
            "reference": request.reference, "payer": payer,
            "amount": ["value": NSDecimalNumber(string: request.amount.formatted), "currency": request.amount.currency.code] as [String: Any],
            "expires_at": request.expiresAt.rfc3339, "memo": "Remittance \(request.reference.prefix(8))",
        ]
        body["callback_url"] = request.callbackURL
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let (status, answer) = try await http.call(.POST, "\(baseURL)/v1/money-requests", body: data, idempotencyKey: request.reference)
        // What the order stores must fit its columns (reference ≤ 200, link ≤ 2000): anything else is not an answer.
        guard (200..<300).contains(status), let created = try? PartnerHTTP.decoder.decode(Created.self, from: answer),
            (1...200).contains(created.id.count), (created.paymentUrl?.count ?? 1) <= 2000
        else {
            throw FundingRefused(description: "\(name) refused the money request (HTTP \(status))")
        }
        return FundingAnswer(reference: created.id, url: created.paymentUrl, clientSecret: nil)
    }

    public func event(headers: [String: String], body: Data, secret: String, nowSeconds: Int64) throws -> FundingEvent {
        if let refusal = WebhookSignature.verify(header: headers["nzila-signature"], secret: secret, body: body, nowSeconds: nowSeconds) { throw refusal }
        guard let event = try? PartnerHTTP.decoder.decode(Event.self, from: body) else {
            throw Problem.validation(field: "request", "must be a money request event with event_id, type and request")
        }
        let kind: FundingEvent.Kind = switch event.type {
        case "money_request.deposited": .paid
        case "money_request.expired", "money_request.declined", "money_request.cancelled": .failed
        default: .other
        }
        let currency = Currency(code: event.request.amount.currency)
        let amount = currency.flatMap { try? Money.parse(NSDecimalNumber(decimal: event.request.amount.value).stringValue, currency: $0) }
        return FundingEvent(
            id: event.eventId, kind: kind, order: UUID(uuidString: event.request.reference), amountMinor: amount?.minorUnits,
            currency: event.request.amount.currency)
    }

    public func check() async throws -> Int {
        try await http.call(.GET, "\(baseURL)/v1/accounts", body: nil).status
    }
}

/// Stripe's PaymentIntents API for cards: `POST {base}/v1/payment_intents` form-encoded (`amount` in minor units,
/// `currency`, `metadata[remittance_id]`, `automatic_payment_methods[enabled]`), with the secret key as Bearer and the
/// order id as `Idempotency-Key`, answered with the intent's `id` and `client_secret`; the member's app confirms the card
/// with the client secret. Stripe posts `payment_intent.succeeded` (or `.payment_failed`, `.canceled`) events signed
/// with the endpoint's signing secret: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, verified with
/// a 5-minute tolerance and a constant-time comparison, as Stripe's libraries do.
public struct StripePaymentIntentsProvider: FundingProvider {
    public let name: String
    public let funding = "card"
    let baseURL: String
    let http: PartnerHTTP

    public init(name: String, baseURL: String, secretKey: String, timeout: TimeAmount = .seconds(10), attempts: Int = 3, client: HTTPClient = .shared) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = PartnerHTTP(name: name, authorization: "Bearer \(secretKey)", timeout: timeout, attempts: attempts, client: client)
    }

    struct Intent: Decodable {
        let id: String
        let clientSecret: String?
    }

    /// A PaymentIntent as an event carries it.
    struct IntentObject: Decodable, Sendable {
        let id: String
        let amount: Int64?
        let currency: String?
        let metadata: [String: String]?
    }

    public func request(_ request: FundingRequest) async throws -> FundingAnswer {
        let fields: [(String, String)] = [
            ("amount", String(request.amount.minorUnits)), ("currency", request.amount.currency.code.lowercased()),
            ("automatic_payment_methods[enabled]", "true"), ("description", "Remittance \(request.reference.prefix(8))"),
            ("metadata[remittance_id]", request.reference),
        ] + (request.payerEmail.map { [("receipt_email", $0)] } ?? [])
        let form = fields.map { "\(PartnerHTTP.formEscape($0.0))=\(PartnerHTTP.formEscape($0.1))" }.joined(separator: "&")
        let (status, answer) = try await http.call(
            .POST, "\(baseURL)/v1/payment_intents", body: Data(form.utf8), idempotencyKey: request.reference, contentType: "application/x-www-form-urlencoded")
        guard (200..<300).contains(status), let intent = try? PartnerHTTP.decoder.decode(Intent.self, from: answer), (1...200).contains(intent.id.count)
        else {
            throw FundingRefused(description: "\(name) refused the payment intent (HTTP \(status))")
        }
        return FundingAnswer(reference: intent.id, url: nil, clientSecret: intent.clientSecret)
    }

    public func event(headers: [String: String], body: Data, secret: String, nowSeconds: Int64) throws -> FundingEvent {
        let event = try StripeEvent<IntentObject>.verified(headers: headers, body: body, secret: secret, nowSeconds: nowSeconds)
        let kind: FundingEvent.Kind = switch event.type {
        case "payment_intent.succeeded": .paid
        case "payment_intent.payment_failed", "payment_intent.canceled": .failed
        default: .other
        }
        let object = event.data.object
        return FundingEvent(
            id: event.id, kind: kind, order: object.metadata?["remittance_id"].flatMap(UUID.init(uuidString:)), amountMinor: object.amount,
            currency: object.currency?.uppercased())
    }

    public func check() async throws -> Int {
        try await http.call(.GET, "\(baseURL)/v1/balance", body: nil).status
    }
}

/// A funding provider refused to create the request (a 4xx): the worker tries again later, until the order's funding
/// window closes and it is cancelled.
public struct FundingRefused: Error, CustomStringConvertible {
    public let description: String
}
