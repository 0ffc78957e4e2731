import Foundation

/// The id of one kind of thing (`MemberID`, `AccountID`, …): a UUID that cannot be mixed up with
/// another kind's at compile time, and that is written as the API writes every id, in lower case
/// (RFC 9562), in JSON, in paths and in logs. Records and flows carry these from the store up; a
/// `String` id exists only in a DTO at the route edge.
public struct Identifier<Tag>: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, LosslessStringConvertible, UUIDIdentifier {
    public let rawValue: UUID

    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public init(rawValue: UUID) { self.rawValue = rawValue }

    /// Parses an id from text (any case); nil when it is not a UUID.
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        rawValue = uuid
    }

    public var description: String { rawValue.lowercased }

    /// Byte order, as PostgreSQL orders `uuid` (locks are taken in this order).
    public static func < (lhs: Self, rhs: Self) -> Bool {
        withUnsafeBytes(of: lhs.rawValue.uuid) { left in
            withUnsafeBytes(of: rhs.rawValue.uuid) { right in left.lexicographicallyPrecedes(right) }
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a UUID"))
        }
        rawValue = uuid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue.lowercased)
    }
}

/// Marks id types, so a schema describes them as `{"type": "string", "format": "uuid"}`.
public protocol UUIDIdentifier: SchemaPlaceholder {}

extension Identifier {
    public static var schemaPlaceholder: Self { Self(UUID()) }
}

/// A value a schema reader may hand back while it reads the type that holds it, for types whose
/// decoding refuses the blank placeholders (an empty string is not a UUID, a currency or a slug).
public protocol SchemaPlaceholder {
    static var schemaPlaceholder: Self { get }
}

/// Tags that keep ids of different things from being mixed up at compile time.
public enum TenantTag {}
public enum MemberTag {}
public enum AccountTag {}
public enum UserTag {}
public enum JournalTag {}
public enum HoldTag {}
public enum RemittanceTag {}
public enum QuoteTag {}
public enum CaseTag {}

public typealias TenantID = Identifier<TenantTag>
public typealias MemberID = Identifier<MemberTag>
public typealias AccountID = Identifier<AccountTag>
public typealias UserID = Identifier<UserTag>
public typealias JournalID = Identifier<JournalTag>
public typealias HoldID = Identifier<HoldTag>
public typealias RemittanceID = Identifier<RemittanceTag>
public typealias QuoteID = Identifier<QuoteTag>
/// A compliance case: other domains name the case that holds their order.
public typealias CaseID = Identifier<CaseTag>

extension UUID {
    /// The lower-case form RFC 9562 asks for in output; every id the API returns uses it. Written from
    /// the bytes (Foundation's `uuidString` goes through sprintf, then `lowercased()` through Unicode
    /// case mapping: both on every request's path).
    public var lowercased: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var at = 0
                digits.withUTF8Buffer { hex in
                    for index in 0..<16 {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            out[at] = UInt8(ascii: "-")
                            at += 1
                        }
                        out[at] = hex[Int(bytes[index] >> 4)]
                        out[at + 1] = hex[Int(bytes[index] & 0x0f)]
                        at += 2
                    }
                }
                return at
            }
        }
    }
}

extension Date {
    /// RFC 3339 UTC with milliseconds, as API.md asks for every time.
    public var rfc3339: String {
        var style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        style.timeZone = TimeZone(identifier: "UTC")!
        return self.formatted(style)
    }
}

/// The moment a journal is posted, stamped by the data plane in whole milliseconds so the response it
/// encodes now (and stores under the Idempotency-Key) shows exactly the time a later read of the
/// `timestamptz` shows. It is bound as an integer, because a bound `Date` is truncated to
/// microseconds on its way to PostgreSQL and could land a millisecond early.
public struct PostingTime: Sendable, Equatable {
    /// Microseconds since 2000-01-01 UTC, PostgreSQL's own epoch; a multiple of 1,000.
    public let microsecondsSince2000: Int64

    public init(_ date: Date) {
        let milliseconds = ((date.timeIntervalSince1970 - 946_684_800) * 1000).rounded(.down)
        microsecondsSince2000 = Int64(milliseconds) * 1000
    }

    /// The same value a `timestamptz` read back decodes to, bit for bit.
    public var date: Date {
        Date(timeInterval: Double(microsecondsSince2000) / 1_000_000, since: Date(timeIntervalSince1970: 946_684_800))
    }
}
