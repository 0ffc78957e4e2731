import Foundation
import Hummingbird
import HummingbirdTesting
import NzilaCore
import NzilaPartners
import Remittance
import Synchronization
import Testing

/// `HTTPPayoutPartner` against a partner API served on a real socket: a stand-in for a
/// Flutterwave-style transfers API that behaves by recipient name.
@Suite("HTTP payout partner")
struct HTTPPartnerTests {
    final class Calls: Sendable {
        let counts = Mutex<[String: Int]>([:])
        func bump(_ name: String) -> Int { counts.withLock { $0[name, default: 0] += 1; return $0[name]! } }
        /// "Slow" answers only once the test opens this: the partner hangs for as long as the test needs.
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        func open() { opener.finish() }
    }

    static func partnerAPI(_ calls: Calls) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/transfers") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer test-key" else { return Self.json(401, #"{"status":"declined","reason":"bad key"}"#) }
            let body = try await request.body.collect(upTo: 1 << 16)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
            let name = (object["recipient"] as? [String: Any])?["name"] as? String ?? ""
            let reference = object["reference"] as? String ?? ""
            let count = calls.bump(name)
            switch name {
            case "Flaky" where count == 1: return Self.json(503, "{}")
            case "Seen": return Self.json(409, #"{"status":"declined","reason":"duplicate reference"}"#)
            case "Refuse": return Self.json(400, #"{"status":"declined","reason":"invalid account"}"#)
            case "Slow":
                for await _ in calls.gate {}
                return Self.json(200, #"{"status":"paid","transaction_id":"late"}"#)
            case "Wait": return Self.json(202, #"{"status":"pending"}"#)
            default: return Self.json(200, #"{"status":"paid","transaction_id":"fx-\#(reference.prefix(8))"}"#)
            }
        }
        router.get("/v1/balances") { request, _ -> Response in
            request.headers[.authorization] == "Bearer test-key"
                ? Self.json(200, #"{"status":"success","data":[{"currency":"NGN","available_balance":1000000}]}"#)
                : Self.json(401, #"{"status":"error","message":"invalid key"}"#)
        }
        router.get("/v1/transfers/{reference}") { _, context -> Response in
            Self.json(200, #"{"status":"paid","transaction_id":"fx-\#(context.parameters.get("reference") ?? "")"}"#)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func instruction(_ name: String) -> PayoutInstruction {
        PayoutInstruction(
            reference: "ref-\(UUID().uuidString.lowercased())", corridor: "CAD-KES", amount: Money(minorUnits: 150_000, currency: Currency(code: "KES")!),
            recipient: Recipient(name: name, method: "mobile_money", country: "KE", msisdn: "+254712345678", mobileOperator: "safaricom",
                                 bankCode: nil, accountNumber: nil, idType: nil, idNumber: nil))
    }

    @Test("paid, pending, declined on 4xx, 5xx retried, a known reference read back, a timeout is an unknown outcome (thrown)")
    func outcomes() async throws {
        let calls = Calls()
        try await Self.partnerAPI(calls).test(.live) { client in
            defer { calls.open() }  // never leave the stand-in's handler hanging at shutdown
            let base = "http://127.0.0.1:\(client.port!)"
            // Generous for ordinary calls (CI machines are loaded); the timeout case gets its own short one.
            let partner = HTTPPayoutPartner(name: "fx", methods: ["mobile_money"], baseURL: base, apiKey: "test-key", timeout: .seconds(15), attempts: 2)
            if case .paid(let transaction) = try await partner.disburse(instruction("Ada")) { #expect(transaction.hasPrefix("fx-")) } else { Issue.record("pays") }
            #expect(try await partner.disburse(instruction("Wait")) == .pending)
            #expect(try await partner.disburse(instruction("Refuse")) == .declined(reason: "invalid account"))
            if case .paid = try await partner.disburse(instruction("Flaky")) {} else { Issue.record("a 503 is retried") }
            #expect(calls.counts.withLock { $0["Flaky"] } == 2)
            if case .paid(let transaction) = try await partner.disburse(instruction("Seen")) { #expect(transaction.hasPrefix("fx-ref-")) } else {
                Issue.record("a 409 reads the transfer back")
            }
            let impatient = HTTPPayoutPartner(name: "fx", methods: ["mobile_money"], baseURL: base, apiKey: "test-key", timeout: .milliseconds(300), attempts: 1)
            await #expect(throws: HTTPPayoutPartner.Unavailable.self) { try await impatient.disburse(instruction("Slow")) }
            calls.open()
            let wrongKey = HTTPPayoutPartner(name: "fx", methods: ["mobile_money"], baseURL: base, apiKey: "nope", timeout: .seconds(15), attempts: 1)
            if case .declined = try await wrongKey.disburse(instruction("Ada")) {} else { Issue.record("a 401 is a refusal") }
            let nowhere = HTTPPayoutPartner(name: "fx", methods: ["mobile_money"], baseURL: "http://127.0.0.1:1", apiKey: "k", timeout: .seconds(1), attempts: 2)
            await #expect(throws: HTTPPayoutPartner.Unavailable.self) { try await nowhere.disburse(instruction("Ada")) }
        }
    }
}
