/// A validated tenant slug: `^[a-z][a-z0-9_]{2,39}$` and not a reserved word. Because it is checked here,
/// the schema `t_<slug>` and role `t_<slug>_app` built from it are safe SQL identifiers.
public struct TenantSlug: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    /// Words that would collide with platform hostnames, schemas or roles, or mislead users.
    public static let reserved: Set<String> = [
        "admin", "api", "app", "auth", "control", "data", "default", "demo_template", "dev", "help", "internal",
        "login", "nzila", "pg_catalog", "platform", "postgres", "public", "reference", "root", "staff", "status",
        "support", "system", "test_template", "www", "information_schema",
    ]

    public enum Invalid: Error, Equatable, Sendable {
        case format
        case reserved
    }

    public init(_ value: String) throws(Invalid) {
        guard TenantSlug.hasValidShape(value) else { throw .format }
        guard !TenantSlug.reserved.contains(value) else { throw .reserved }
        self.value = value
    }

    static func hasValidShape(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard (3...40).contains(bytes.count), let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else {
            return false
        }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }

    /// The tenant's PostgreSQL schema.
    public var schemaName: String { "t_\(value)" }
    /// The tenant's NOLOGIN role, granted to the data plane login.
    public var roleName: String { "t_\(value)_app" }
    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid slug"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
