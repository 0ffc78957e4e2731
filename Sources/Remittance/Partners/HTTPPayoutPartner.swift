import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NzilaCore
import NzilaPartners

/// A real partner's payout API over HTTP, in the style of Flutterwave's transfers API:
/// `POST {base}/v1/transfers` with the reference, amount and recipient (Bearer API key), answered with
/// `{"status": "paid" | "pending" | "declined", "transaction_id", "reason"}`; a reference the partner
/// has seen answers 409 and is then read back with `GET {base}/v1/transfers/{reference}`. Each call
/// has a timeout; connection errors, timeouts and 5xx answers are retried with backoff, after which
/// the outcome is unknown (thrown) and the worker asks again later with the same reference.
public struct HTTPPayoutPartner: PayoutPartner, PartnerCheck {
    public let name: String
    public let methods: Set<String>
    let baseURL: String
    let http: PartnerHTTP

    public init(
        name: String, methods: Set<String>, baseURL: String, apiKey: String, timeout: TimeAmount = .seconds(10), attempts: Int = 3,
        client: HTTPClient = .shared
    ) {
        self.name = name
        self.methods = methods
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = PartnerHTTP(name: name, authorization: "Bearer \(apiKey)", timeout: timeout, attempts: attempts, client: client)
    }

    public typealias Unavailable = PartnerUnavailable

    struct Answer: Decodable {
        let status: String
        let transactionId: String?
        let reason: String?
    }

    public func disburse(_ instruction: PayoutInstruction) async throws -> PayoutOutcome {
        let r = instruction.recipient
        var recipient: [String: String] = ["name": r.name, "country": r.country, "method": r.method]
        recipient["msisdn"] = r.msisdn
        recipient["operator"] = r.mobileOperator
        recipient["bank_code"] = r.bankCode
        recipient["account_number"] = r.accountNumber
        recipient["id_type"] = r.idType
        recipient["id_number"] = r.idNumber
        let body = try JSONSerialization.data(withJSONObject: [
            "reference": instruction.reference, "amount": instruction.amount.minorUnits, "currency": instruction.amount.currency.code,
            "corridor": instruction.corridor, "recipient": recipient,
        ] as [String: Any], options: [.sortedKeys])
        let (status, answer) = try await call(.POST, "\(baseURL)/v1/transfers", body: body)
        if status == 409 {
            let (_, existing) = try await call(.GET, "\(baseURL)/v1/transfers/\(instruction.reference)", body: nil)
            return try outcome(existing)
        }
        if (400..<500).contains(status) {
            return .declined(reason: answer?.reason ?? "the partner refused the payout (HTTP \(status))")
        }
        return try outcome(answer)
    }

    func outcome(_ answer: Answer?) throws -> PayoutOutcome {
        switch answer?.status {
        case "paid": return .paid(transaction: answer?.transactionId ?? "")
        case "pending": return .pending
        case "declined": return .declined(reason: answer?.reason ?? "declined by \(name)")
        default: throw Unavailable(description: "\(name) answered with an unknown status")
        }
    }

    /// Reaches the partner's balance endpoint (`GET {base}/v1/balances`, what a health check of a payout API calls)
    /// with the same tries as a payout: its HTTP status (401 or 403: the credential is refused). Throws when the
    /// partner cannot be reached.
    public func check() async throws -> Int {
        try await call(.GET, "\(baseURL)/v1/balances", body: nil).0
    }

    /// One request with retries (`PartnerHTTP`), its answer decoded when it is one.
    func call(_ method: HTTPMethod, _ url: String, body: Data?) async throws -> (Int, Answer?) {
        let (status, data) = try await http.call(method, url, body: body)
        return (status, try? PartnerHTTP.decoder.decode(Answer.self, from: data))
    }
}
