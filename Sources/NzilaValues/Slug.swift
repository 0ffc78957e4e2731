import Foundation

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

/// The PostgreSQL schema and role of one tenant schema: a tenant's `t_<slug>` and `t_<slug>_app`, or
/// an unclaimed warm schema's `nzila_warm_<32 hex>` and `nzila_warm_<32 hex>_app` (the hex is the id
/// of the tenant it will become). Both come from validated values only, so they are safe SQL identifiers;
/// the two shapes cannot collide (a slug never makes a name starting with `nzila_`).
public struct TenantSchemaNames: Hashable, Sendable, CustomStringConvertible {
    public let schema: String
    public let role: String

    public init(_ slug: TenantSlug) {
        schema = slug.schemaName
        role = slug.roleName
    }

    /// The warm schema pinned to tenant id `id`.
    public init(warm id: UUID) {
        schema = "nzila_warm_" + id.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        role = schema + "_app"
    }

    /// A warm schema's names read back from the registry, if they have the warm shape.
    public init?(warmSchema name: String) {
        let hex = name.utf8.dropFirst("nzila_warm_".utf8.count)
        guard name.hasPrefix("nzila_warm_"), hex.count == 32,
            hex.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        else { return nil }
        schema = name
        role = name + "_app"
    }

    public var description: String { schema }
}

extension TenantSlug: SchemaPlaceholder {
    public static var schemaPlaceholder: TenantSlug { try! TenantSlug("placeholder") }
}
