import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NzilaCore
import Synchronization

/// Stand-ins for the funding providers' APIs, on one real socket: an Interac e-Transfer request-money API
/// (`POST /v1/money-requests`, JSON, Bearer key) and Stripe's PaymentIntents (`POST /v1/payment_intents`, form-encoded,
/// Bearer secret key). Both honour `Idempotency-Key` as the real ones do (the same key answers the first result), and
/// both send their events signed as the provider signs them (`Nzila-Signature` for Interac, `Stripe-Signature`).
final class FundingProviderStandIn: Sendable {
    static let interacKey = "ik-3c9a01"
    static let stripeKey = "sk_test_51Nz9x"
    let interacSecret = "whsec-interac-77a2"
    let stripeSecret = "whsec_stripe_4be1"

    struct Request: Sendable {
        let id: String
        let reference: String
        let amount: String
        let currency: String
        let callbackURL: String?
        let body: String
    }

    struct State {
        var byKey: [String: Request] = [:]
        var requests: [String: Int] = [:]
        /// The next requests to these paths answer 503.
        var failing: [String: Int] = [:]
        /// Requests to these paths are refused (400).
        var refusing: Set<String> = []
        var next = 100
    }

    let state = Mutex(State())

    func requests(_ path: String) -> Int { state.withLock { $0.requests[path, default: 0] } }
    func request(_ reference: String) -> Request? { state.withLock { $0.byKey.values.first { $0.reference == reference } } }

    var application: some ApplicationProtocol {
        let router = Router()
        router.post("/v1/money-requests") { request, _ -> Response in
            try await self.handle(request, path: "/v1/money-requests", key: Self.interacKey) { raw, id in
                let body = try JSONSerialization.jsonObject(with: raw) as? [String: Any] ?? [:]
                let amount = body["amount"] as? [String: Any] ?? [:]
                let made = Request(
                    id: "mr_\(id)", reference: body["reference"] as? String ?? "", amount: "\(amount["value"] ?? "")",
                    currency: amount["currency"] as? String ?? "", callbackURL: body["callback_url"] as? String, body: String(decoding: raw, as: UTF8.self))
                return (made, ["id": made.id, "status": "pending", "payment_url": "https://etransfer.example/pay/\(made.id)"])
            }
        }
        router.post("/v1/payment_intents") { request, _ -> Response in
            try await self.handle(request, path: "/v1/payment_intents", key: Self.stripeKey) { raw, id in
                var form: [String: String] = [:]
                for pair in String(decoding: raw, as: UTF8.self).split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                    if parts.count == 2 { form[parts[0]] = parts[1] }
                }
                let made = Request(
                    id: "pi_\(id)", reference: form["metadata[remittance_id]"] ?? "", amount: form["amount"] ?? "", currency: form["currency"] ?? "",
                    callbackURL: nil, body: String(decoding: raw, as: UTF8.self))
                return (made, ["id": made.id, "object": "payment_intent", "amount": Int(made.amount) ?? 0, "currency": made.currency,
                               "status": "requires_payment_method", "client_secret": "\(made.id)_secret_x7Yz"])
            }
        }
        router.get("/v1/balance") { request, _ -> Response in
            request.headers[.authorization] == "Bearer \(Self.stripeKey)" ? Self.json(200, ["object": "balance"]) : Self.json(401, ["error": ["type": "invalid_request_error"]])
        }
        router.get("/v1/accounts") { request, _ -> Response in
            request.headers[.authorization] == "Bearer \(Self.interacKey)" ? Self.json(200, ["accounts": []]) : Self.json(401, ["error": "unauthorized"])
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func handle(
        _ request: Request_, path: String, key: String, make: (Data, Int) throws -> (Request, [String: Any])
    ) async throws -> Response {
        guard request.headers[.authorization] == "Bearer \(key)" else { return Self.json(401, ["error": "unauthorized"]) }
        let raw = Data(buffer: try await request.body.collect(upTo: 1 << 16))
        let idempotency = request.headers[HTTPField.Name("Idempotency-Key")!] ?? UUID().uuidString
        enum Plan { case fail, refuse, answer(Int) }
        let plan = state.withLock { state -> Plan in
            state.requests[path, default: 0] += 1
            if let left = state.failing[path], left > 0 {
                state.failing[path] = left - 1
                return .fail
            }
            if state.refusing.contains(path) { return .refuse }
            state.next += 1
            return .answer(state.next)
        }
        switch plan {
        case .fail: return Self.json(503, ["error": "unavailable"])
        case .refuse: return Self.json(400, ["error": ["type": "invalid_request_error", "message": "refused"]])
        case .answer(let id):
            let (made, answer) = try make(raw, id)
            // The same idempotency key answers the first request's result.
            let first = state.withLock { state -> Request in
                if let known = state.byKey[idempotency] { return known }
                state.byKey[idempotency] = made
                return made
            }
            if first.id != made.id {
                let (_, again) = try make(Data(first.body.utf8), Int(first.id.split(separator: "_").last ?? "") ?? 0)
                return Self.json(200, again)
            }
            return Self.json(200, answer)
        }
    }

    typealias Request_ = Hummingbird.Request

    /// Interac's event that the money request was deposited (or `type`), signed with `secret`, posted to `url` on this
    /// machine at `port` with the URL's host as Host.
    func interacEvent(
        _ made: Request, type: String = "money_request.deposited", amount: String? = nil, id: String? = nil, port: Int, url: URL, secret: String? = nil,
        at time: Date = Date()
    ) async throws -> (Int, String) {
        let body: [String: Any] = [
            "event_id": id ?? "evt_\(made.id)_\(type)", "type": type,
            "request": ["id": made.id, "reference": made.reference, "status": "deposited",
                        "amount": ["value": NSDecimalNumber(string: amount ?? made.amount), "currency": made.currency]],
        ]
        let raw = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return try await post(raw, header: "Nzila-Signature", secret: secret ?? interacSecret, port: port, url: url, at: time)
    }

    /// Stripe's event about a PaymentIntent, signed as Stripe signs (`Stripe-Signature`).
    func stripeEvent(
        _ made: Request, type: String = "payment_intent.succeeded", amount: Int? = nil, id: String? = nil, port: Int, url: URL, secret: String? = nil,
        at time: Date = Date()
    ) async throws -> (Int, String) {
        let body: [String: Any] = [
            "id": id ?? "evt_\(made.id)_\(type)", "object": "event", "type": type, "api_version": "2024-06-20", "livemode": false,
            "data": ["object": ["id": made.id, "object": "payment_intent", "amount": amount ?? Int(made.amount) ?? 0, "currency": made.currency,
                                "status": "succeeded", "metadata": ["remittance_id": made.reference]]],
        ]
        let raw = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return try await post(raw, header: "Stripe-Signature", secret: secret ?? stripeSecret, port: port, url: url, at: time)
    }

    func post(_ raw: Data, header: String, secret: String, port: Int, url: URL, at time: Date) async throws -> (Int, String) {
        try await StandIns.post(raw, to: url, port: port, header: header, secret: secret, at: time)
    }

    static func json(_ status: Int, _ object: Any) -> Response { StandIns.json(status, object) }
}
