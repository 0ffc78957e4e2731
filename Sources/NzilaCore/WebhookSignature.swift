import Crypto
import Foundation
import NzilaValues

/// `Nzila-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (API.md, Webhooks):
/// the HMAC is compared in constant time, and a timestamp outside the 5-minute window is refused, so
/// a captured request cannot be replayed later (a replay inside the window is caught by its event id).
public enum WebhookSignature {
    public static let windowSeconds: Int64 = 300

    public enum Refusal: DomainError, Equatable, Sendable {
        case missing, malformed, outsideWindow, mismatch

        public var ruleError: RuleError {
            let detail = self == .outsideWindow
                ? "The signature's timestamp is outside the 5-minute window." : "The webhook signature is missing or does not match."
            return RuleError(.unauthenticated, "unauthorized", "Unauthorized", detail: detail)
        }
    }

    /// The header value for `body` at `timestamp` (what a provider sends; tests and the demo use it).
    public static func header(secret: String, timestamp: Int64, body: Data) -> String {
        "t=\(timestamp),v1=\(mac(secret: secret, timestamp: timestamp, body: body).hexString)"
    }

    /// The header an outbound delivery carries: one `v1` per secret that signs it (the current one
    /// and, for 24 h after a rotation, the previous one), as Stripe does; a receiver that knows
    /// either secret verifies it (`verify` accepts any matching `v1`).
    public static func header(secrets: [String], timestamp: Int64, body: Data) -> String {
        (["t=\(timestamp)"] + secrets.map { "v1=\(mac(secret: $0, timestamp: timestamp, body: body).hexString)" }).joined(separator: ",")
    }

    /// An inbound webhook's signature, judged now: nil when it is good; otherwise why not. Freshness is against the
    /// machine's clock, not business time: a provider signs with the real time, and a test clock moved forward must not
    /// turn every real webhook stale.
    public static func verifyReceived(header: String?, secret: String, body: Data) -> Refusal? {
        receiving { verify(header: header, secret: secret, body: body, nowSeconds: $0) }
    }

    /// Runs a provider's own verification with the machine's time now (the same freshness rule as `verifyReceived`).
    public static func receiving<T>(_ verify: (Int64) throws -> T) rethrows -> T {
        try verify(Int64(Clock.system.now().timeIntervalSince1970))
    }

    /// nil when the signature is good; otherwise why not.
    public static func verify(header: String?, secret: String, body: Data, nowSeconds: Int64) -> Refusal? {
        guard let header else { return .missing }
        var timestamp: Int64?
        var signatures: [Data] = []
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return (.malformed) }
            switch pair[0] {
            case "t": timestamp = Int64(pair[1])
            case "v1":
                guard let bytes = Data(hex: pair[1]), bytes.count == 32 else { return (.malformed) }
                signatures.append(bytes)
            default: continue
            }
        }
        guard let timestamp, !signatures.isEmpty else { return (.malformed) }
        guard abs(nowSeconds - timestamp) <= windowSeconds else { return (.outsideWindow) }
        let expected = mac(secret: secret, timestamp: timestamp, body: body)
        // Every candidate is compared in full, so timing says nothing about which one was close.
        var matched = false
        for signature in signatures where constantTimeEquals(signature, expected) { matched = true }
        return matched ? nil : .mismatch
    }

    static func mac(secret: String, timestamp: Int64, body: Data) -> Data {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8))))
    }
}
