import Foundation
import Tagged

/// Tags that keep ids of different things from being mixed up at compile time.
public enum TenantTag {}
public enum MemberTag {}
public enum AccountTag {}
public enum UserTag {}

public typealias TenantID = Tagged<TenantTag, UUID>
public typealias MemberID = Tagged<MemberTag, UUID>
public typealias AccountID = Tagged<AccountTag, UUID>
public typealias UserID = Tagged<UserTag, UUID>

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
