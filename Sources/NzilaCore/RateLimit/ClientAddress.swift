import Foundation
import NIOCore

/// The address a request's per-address rate limit is keyed on. The socket's peer, unless that peer is
/// a proxy the operator trusts (`NZILA_TRUSTED_PROXIES`): then the right-most address of
/// `X-Forwarded-For` that is not itself a trusted proxy, which is the one no client can forge. An
/// IPv6 client is keyed by its /64, since one subscriber is usually handed a whole /64 and could
/// otherwise rotate through it.
public enum ClientAddress {
    /// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or one address).
    public struct Network: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int

        public init?(_ text: String) {
            let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1).map(String.init)
            guard let first = parts.first, let bytes = ClientAddress.bytes(first) else { return nil }
            let bits = bytes.count * 8
            let prefix = parts.count == 2 ? Int(parts[1]) : bits
            guard let prefix, (0...bits).contains(prefix) else { return nil }
            (self.bytes, self.prefix) = (bytes, prefix)
        }

        public func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            let whole = prefix / 8
            guard address.prefix(whole) == bytes.prefix(whole) else { return false }
            let rest = prefix % 8
            guard rest > 0 else { return true }
            let mask = UInt8(0xFF << (8 - rest) & 0xFF)
            return address[whole] & mask == bytes[whole] & mask
        }
    }

    /// `NZILA_TRUSTED_PROXIES`: comma-separated networks; anything unreadable is left out (and logged by the caller).
    public static func networks(_ list: String?) -> [Network] {
        (list ?? "").split(separator: ",").compactMap { Network(String($0)) }
    }

    /// The key for a request from `peer` carrying `forwardedFor`; "unknown" when there is no address
    /// at all (a Unix socket), which shares one bucket.
    public static func key(peer: String?, forwardedFor: String?, trusted: [Network]) -> String {
        guard let peer, var bytes = bytes(peer) else { return "unknown" }
        if isTrusted(bytes, trusted), let forwardedFor {
            for hop in forwardedFor.split(separator: ",").reversed() {
                guard let hopBytes = Self.bytes(hop.trimmingCharacters(in: .whitespaces)) else { break }
                bytes = hopBytes
                if !isTrusted(hopBytes, trusted) { break }
            }
        }
        if bytes.count == 16 { return bytes.prefix(8).map { String(format: "%02x", $0) }.joined() + "::/64" }
        return bytes.map(String.init).joined(separator: ".")
    }

    static func isTrusted(_ address: [UInt8], _ trusted: [Network]) -> Bool {
        trusted.contains { $0.contains(address) }
    }

    /// The address's bytes (4 or 16), an IPv4-mapped IPv6 address as its IPv4 bytes.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes.suffix(4)) }
        return bytes
    }
}
