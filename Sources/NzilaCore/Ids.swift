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

/// The time source, injected so rules and tests never read the wall clock themselves.
public struct Clock: Sendable {
    public var now: @Sendable () -> Date
    public init(now: @escaping @Sendable () -> Date) { self.now = now }
    public static let system = Clock { Date() }
}

extension UUID {
    /// The lower-case form RFC 9562 asks for in output; every id the API returns uses it.
    public var lowercased: String { uuidString.lowercased() }
}

extension Date {
    /// RFC 3339 UTC with milliseconds, as API.md asks for every time.
    public var rfc3339: String {
        var style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        style.timeZone = TimeZone(identifier: "UTC")!
        return self.formatted(style)
    }
}
