import Foundation
import NzilaCore

/// What tenant webhooks promise, as pure rules: which URLs an endpoint may have, which event types
/// it may ask for, when a failed delivery is tried again, when it is given up, and which network
/// addresses a delivery may reach (docs/EVENTS.md, Webhooks).
public enum WebhookRules {
    /// A delivery's whole exchange (connect, send, answer) must finish within this.
    public static let timeoutSeconds: Int64 = 10
    /// A delivery is retried for this long after its event, then dead-lettered.
    public static let retryWindow: TimeInterval = 3 * 86_400
    /// An endpoint failing without a success for this long is disabled.
    public static let disableAfter: TimeInterval = 3 * 86_400
    /// After a rotation the previous secret still signs for this long.
    public static let previousSecretGrace: TimeInterval = 86_400
    /// A claimed delivery is someone else's for this long (more than the timeout), on the database's
    /// clock: a plane that died mid-delivery leaves it to another after the lease.
    public static let leaseSeconds: TimeInterval = 60
    /// The first retry waits about this; each next one twice as long, at most `maximumDelay`.
    public static let firstDelay: TimeInterval = 30
    public static let maximumDelay: TimeInterval = 12 * 3_600

    /// The wait after failed attempt `attempt` (1 for the first): 30 s × 2^(attempt − 1), at most
    /// 12 h, with "equal jitter" — half of it fixed, half drawn from `random` in [0, 1) — so a burst
    /// of failures does not come back as a burst. Over 3 days that is 16 to 23 attempts (11 in the
    /// first 9 to 17 hours, then one every 6 to 12 hours).
    public static func retryDelay(afterAttempt attempt: Int, random: Double) -> TimeInterval {
        let exponent = Double(min(max(attempt, 1) - 1, 30))
        let delay = min(firstDelay * pow(2, exponent), maximumDelay)
        return delay / 2 + delay / 2 * min(max(random, 0), 1)
    }

    /// What becomes of a delivery whose attempt failed at `now`: tried again at the date given, or
    /// dead when that would fall after its retry window.
    public enum AfterFailure: Equatable, Sendable {
        case retry(at: Date)
        case dead
    }

    public static func afterFailure(attempt: Int, queuedAt: Date, now: Date, random: Double) -> AfterFailure {
        let next = now.addingTimeInterval(retryDelay(afterAttempt: attempt, random: random))
        return next.timeIntervalSince(queuedAt) > retryWindow ? .dead : .retry(at: next)
    }

    /// Whether an endpoint that has failed since `failingSince` is now disabled.
    public static func shouldDisable(failingSince: Date, now: Date) -> Bool {
        now.timeIntervalSince(failingSince) >= disableAfter
    }

    /// Whether an event type is wanted by an endpoint's list: the type itself, `<domain>.*`, or `*`.
    /// (`EventLog.publish` applies the same rule in SQL.)
    public static func wants(_ patterns: [String], type: String) -> Bool {
        let domain = type.prefix { $0 != "." }
        return patterns.contains { $0 == "*" || $0 == type || $0 == "\(domain).*" }
    }

    /// An endpoint's event-type list: 1 to 64 entries, each a known type, `<domain>.*` of a known
    /// domain, or `*`. Returns them de-duplicated, in the order given.
    public static func validate(eventTypes: [String], known: Set<String>) throws(Problem) -> [String] {
        guard (1...64).contains(eventTypes.count) else { throw Problem.validation(field: "event_types", "must list 1 to 64 event types") }
        let domains = Set(known.map { String($0.prefix { $0 != "." }) })
        var seen: [String] = []
        for type in eventTypes where !seen.contains(type) {
            let ok = type == "*" || known.contains(type) || (type.hasSuffix(".*") && domains.contains(String(type.dropLast(2))))
            guard ok else {
                throw Problem.validation(field: "event_types", "\(type.prefix(80)) is not an event type (see Schemas/events/), a <domain>.* or *")
            }
            seen.append(type)
        }
        return seen
    }

    /// An endpoint URL: `https://` with a host, no user or password, at most 2,048 characters;
    /// `http://` only to a loopback host, and only where `allowLoopback` (development).
    public static func validate(url text: String, allowLoopback: Bool) throws(Problem) -> URL {
        func refuse(_ message: String) -> Problem { Problem.validation(field: "url", message) }
        guard text.count <= 2_048, let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, let url = components.url
        else { throw refuse("must be an absolute URL") }
        guard components.user == nil, components.password == nil else { throw refuse("must not carry a user name or password") }
        guard components.fragment == nil else { throw refuse("must not have a fragment") }
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let loopbackHost = bare.lowercased() == "localhost" || NetworkAddress(bare).map { $0.isLoopback } ?? false
        switch scheme {
        case "https": break
        case "http" where allowLoopback && loopbackHost: break
        default: throw refuse("must use https://")
        }
        if let literal = NetworkAddress(bare), !literal.isDeliverable(allowLoopback: allowLoopback) {
            throw refuse("must not point at a loopback, private, link-local or reserved address")
        }
        if !allowLoopback && (loopbackHost || bare.lowercased().hasSuffix(".localhost")) { throw refuse("must not point at this machine") }
        return url
    }
}

/// An IPv4 or IPv6 address as bytes, and whether a webhook may reach it: never loopback (unless
/// development allows it), private, shared (CGNAT), link-local (cloud metadata lives there),
/// unique-local, multicast, documentation or reserved ranges — checked on every address a name
/// resolves to, at delivery time.
public struct NetworkAddress: Equatable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a textual IPv4 (dotted quad) or IPv6 address.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var isV4: Bool { bytes.count == 4 }

    public var description: String {
        if isV4 { return bytes.map(String.init).joined(separator: ".") }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        return String(cString: buffer)
    }

    /// The IPv4 address an IPv6 one carries (v4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`,
    /// v4-compatible `::a.b.c.d`), which is what it reaches.
    var embeddedV4: NetworkAddress? {
        guard !isV4 else { return nil }
        let head = Array(bytes[0..<12])
        let mapped = head == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
        let nat64 = head == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]
        let compatible = head == [UInt8](repeating: 0, count: 12) && bytes[12..<16] != [0, 0, 0, 0] && bytes[12..<16] != [0, 0, 0, 1]
        return mapped || nat64 || compatible ? NetworkAddress(bytes: Array(bytes[12..<16])) : nil
    }

    func within(_ prefix: [UInt8], bits: Int) -> Bool {
        guard prefix.count == bytes.count else { return false }
        var left = bits
        for (mine, theirs) in zip(bytes, prefix) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            if mine & mask != theirs & mask { return false }
            left -= 8
        }
        return true
    }

    public var isLoopback: Bool {
        if let v4 = embeddedV4 { return v4.isLoopback }
        return isV4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// IPv4 ranges no webhook may reach (RFC 6890 special-purpose registry, less the global ones).
    static let blockedV4: [([UInt8], Int)] = [
        ([0, 0, 0, 0], 8), ([10, 0, 0, 0], 8), ([100, 64, 0, 0], 10), ([127, 0, 0, 0], 8), ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12), ([192, 0, 0, 0], 24), ([192, 0, 2, 0], 24), ([192, 88, 99, 0], 24), ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15), ([198, 51, 100, 0], 24), ([203, 0, 113, 0], 24), ([224, 0, 0, 0], 4), ([240, 0, 0, 0], 4),
    ]
    /// IPv6: unspecified and loopback (checked apart), unique-local (fd00:ec2::254, a metadata
    /// address, is one), link-local, site-local, multicast, documentation, discard, ORCHID, 6to4.
    static let blockedV6: [([UInt8], Int)] = [
        ([0xFC] + [UInt8](repeating: 0, count: 15), 7), ([0xFE, 0x80] + [UInt8](repeating: 0, count: 14), 10),
        ([0xFE, 0xC0] + [UInt8](repeating: 0, count: 14), 10), ([0xFF] + [UInt8](repeating: 0, count: 15), 8),
        ([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 12), 32), ([0x01, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8), 64),
        ([0x20, 0x01, 0, 0x10] + [UInt8](repeating: 0, count: 12), 28), ([0x20, 0x02] + [UInt8](repeating: 0, count: 14), 16),
    ]

    /// Whether a delivery may connect here.
    public func isDeliverable(allowLoopback: Bool) -> Bool {
        if isLoopback { return allowLoopback }
        if let v4 = embeddedV4 { return v4.isDeliverable(allowLoopback: allowLoopback) }
        if isV4 { return !Self.blockedV4.contains { within($0.0, bits: $0.1) } && bytes != [255, 255, 255, 255] }
        if bytes == [UInt8](repeating: 0, count: 16) { return false }
        return !Self.blockedV6.contains { within($0.0, bits: $0.1) }
    }
}
