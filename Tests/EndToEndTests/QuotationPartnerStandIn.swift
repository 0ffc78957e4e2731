import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NzilaCore
import Synchronization

/// A stand-in for a Thunes-style Money Transfer API v2, served on a real socket: quotations, transactions created from
/// them and confirmed, read back by external id, and status callbacks signed (`Nzila-Signature`) and posted to the
/// `callback_url` a transaction was created with. It keeps external ids unique (error 1003001), as the real API does.
///
/// What a transaction does depends on its beneficiary's last name: `Refuse` → the transaction is refused (400);
/// `Declined` → confirming declines it (90000); `Later` → confirming submits it (50000) and it waits for the test to
/// `complete` it, which posts the callback; anything else → confirming completes it (70000).
final class QuotationPartnerStandIn: Sendable {
    static let key = "tk-9f2c"
    static let secret = "ts-51ab7e"
    static var credential: String { "\(key):\(secret)" }

    struct Transaction {
        var id: Int64
        var status: String
        var message: String
        var external: String
        var callbackURL: String?
        var lastname: String
    }

    struct State {
        var nextID: Int64 = 1_000
        var quotations: [String: (id: Int64, body: Data)] = [:]
        var transactions: [String: Transaction] = [:]
        /// Requests by "METHOD path-shape".
        var requests: [String: Int] = [:]
        /// The next requests of these shapes answer 503.
        var failing: [String: Int] = [:]
        /// Quotations answer one minor unit short.
        var shortQuote = false
        /// Quotations hang until the gate opens.
        var hang = false
        /// The transactions' request bodies, as sent.
        var bodies: [Data] = []
    }

    let state = Mutex(State())
    let (gate, opener) = AsyncStream.makeStream(of: Void.self)
    let callbackSecret: String

    init(callbackSecret: String = "cb-7d1e44") {
        self.callbackSecret = callbackSecret
    }

    func open() { opener.finish() }
    func requests(_ shape: String) -> Int { self.state.withLock { $0.requests[shape, default: 0] } }
    func fail(_ shape: String, times: Int) { self.state.withLock { $0.failing[shape] = times } }
    func transaction(_ external: String) -> Transaction? { self.state.withLock { $0.transactions[external] } }

    var application: some ApplicationProtocol {
        let router = Router()
        let api = router.group("/v2/money-transfer")
        let expected = "Basic " + Data(Self.credential.utf8).base64EncodedString()
        // Every request: the credential, the request counted, a planned 503.
        @Sendable func gatekeep(_ request: Request, _ shape: String) -> Response? {
            guard request.headers[.authorization] == expected else { return Self.errors(401, "1000401", "Unauthorized") }
            let fail = self.state.withLock { state -> Bool in
                state.requests[shape, default: 0] += 1
                guard let left = state.failing[shape], left > 0 else { return false }
                state.failing[shape] = left - 1
                return true
            }
            return fail ? Self.errors(503, "1000503", "Service unavailable") : nil
        }
        api.get("/balances") { request, _ -> Response in
            gatekeep(request, "GET balances") ?? Self.json(200, [["id": 1, "currency": "XAF", "balance": 50_000_000]])
        }
        api.post("/quotations") { request, _ -> Response in
            if let refused = gatekeep(request, "POST quotations") { return refused }
            let body = try await Self.body(request)
            if self.state.withLock({ $0.hang }) { for await _ in self.gate {} }
            let external = body["external_id"] as? String ?? ""
            let (id, short) = self.state.withLock { state -> (Int64?, Bool) in
                guard state.quotations[external] == nil else { return (nil, false) }
                state.nextID += 1
                state.quotations[external] = (state.nextID, Data())
                return (state.nextID, state.shortQuote)
            }
            guard let id else { return Self.errors(400, "1003001", "External ID already used") }
            var destination = body["destination"] as? [String: Any] ?? [:]
            if short, let amount = destination["amount"] as? NSNumber { destination["amount"] = amount.intValue - 1 }
            let quotation: [String: Any] = [
                "id": id, "external_id": external, "payer": ["id": body["payer_id"] ?? 0], "mode": body["mode"] ?? "",
                "source": body["source"] ?? [:], "destination": destination, "fee": ["currency": "CAD", "amount": 1.5],
            ]
            let data = try JSONSerialization.data(withJSONObject: quotation)
            self.state.withLock { $0.quotations[external] = (id, data) }
            return Self.json(201, data)
        }
        api.get("/quotations/{id}") { request, context -> Response in
            if let refused = gatekeep(request, "GET quotation") { return refused }
            let ref = String(context.parameters.get("id")?.dropFirst(4) ?? "")
            guard let found = self.state.withLock({ $0.quotations[ref] }) else { return Self.errors(404, "1003002", "Quotation not found") }
            return Self.json(200, found.body)
        }
        api.post("/quotations/{id}/transactions") { request, context -> Response in
            if let refused = gatekeep(request, "POST transactions") { return refused }
            let raw = Data(buffer: try await request.body.collect(upTo: 1 << 16))
            let body = try JSONSerialization.jsonObject(with: raw) as? [String: Any] ?? [:]
            let quotation = Int64(context.parameters.get("id") ?? "") ?? -1
            let callbackURL = body["callback_url"] as? String
            let external = body["external_id"] as? String ?? ""
            let lastname = (body["beneficiary"] as? [String: Any])?["lastname"] as? String ?? ""
            return self.state.withLock { state in
                state.bodies.append(raw)
                guard state.quotations.values.contains(where: { $0.id == quotation }) else { return Self.errors(404, "1003002", "Quotation not found") }
                guard state.transactions[external] == nil else { return Self.errors(400, "1003001", "External ID already used") }
                if lastname == "Refuse" { return Self.errors(400, "1006003", "Beneficiary invalid") }
                state.nextID += 1
                let created = Transaction(
                    id: state.nextID, status: "10000", message: "CREATED", external: external, callbackURL: callbackURL, lastname: lastname)
                state.transactions[external] = created
                return Self.json(201, Self.object(created))
            }
        }
        api.post("/transactions/{id}/confirm") { request, context -> Response in
            if let refused = gatekeep(request, "POST confirm") { return refused }
            let id = Int64(context.parameters.get("id") ?? "") ?? -1
            return self.state.withLock { state in
                guard let (external, found) = state.transactions.first(where: { $0.value.id == id }) else {
                    return Self.errors(404, "1003003", "Transaction not found")
                }
                var transaction = found
                if transaction.status == "10000" {
                    switch transaction.lastname {
                    case "Declined": (transaction.status, transaction.message) = ("90000", "DECLINED")
                    case "Later": (transaction.status, transaction.message) = ("50000", "SUBMITTED")
                    default: (transaction.status, transaction.message) = ("70000", "COMPLETED")
                    }
                }
                state.transactions[external] = transaction
                return Self.json(200, Self.object(transaction))
            }
        }
        api.get("/transactions/{id}") { request, context -> Response in
            if let refused = gatekeep(request, "GET transaction") { return refused }
            let ref = String(context.parameters.get("id")?.dropFirst(4) ?? "")
            guard let found = self.state.withLock({ $0.transactions[ref] }) else { return Self.errors(404, "1003003", "Transaction not found") }
            return Self.json(200, Self.object(found))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// The partner finishes a transaction waiting for it (completed, or declined) and posts the signed callback to its
    /// `callback_url`, reached on this machine at `port` with the URL's host as the Host header (how a tenant's address
    /// names the tenant). Returns the data plane's answer and the raw body sent.
    func complete(_ external: String, paid: Bool, port: Int, secret: String? = nil, at time: Date = Date()) async throws -> (Int, String, Data) {
        guard let transaction = self.state.withLock({ state -> Transaction? in
            guard var t = state.transactions[external] else { return nil }
            (t.status, t.message) = paid ? ("70000", "COMPLETED") : ("90000", "DECLINED")
            state.transactions[external] = t
            return t
        }), let url = transaction.callbackURL.flatMap(URL.init(string:)) else { throw NoCallback() }
        let raw = try JSONSerialization.data(withJSONObject: Self.object(transaction), options: [.sortedKeys])
        return try await post(raw, to: url, port: port, secret: secret ?? callbackSecret, at: time)
    }

    /// Posts a callback body as this partner does (signed unless `signed` is false): the answer and the body.
    func post(_ raw: Data, to url: URL, port: Int, secret: String, at time: Date = Date(), signed: Bool = true) async throws -> (Int, String, Data) {
        let (status, body) = try await StandIns.post(raw, to: url, port: port, header: signed ? "Nzila-Signature" : nil, secret: secret, at: time)
        return (status, body, raw)
    }

    struct NoCallback: Error {}

    static func object(_ t: Transaction) -> [String: Any] {
        ["id": t.id, "status": t.status, "status_message": t.message, "status_class": String(t.status.prefix(1)),
         "status_class_message": t.message, "external_id": t.external, "creation_date": "2026-12-07T10:00:00Z"]
    }

    static func body(_ request: Request) async throws -> [String: Any] {
        let body = try await request.body.collect(upTo: 1 << 16)
        return try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
    }

    static func json(_ status: Int, _ object: Any) -> Response { StandIns.json(status, object) }

    static func errors(_ status: Int, _ code: String, _ message: String) -> Response {
        json(status, ["errors": [["code": code, "message": message]]])
    }
}
