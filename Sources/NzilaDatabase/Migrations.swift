import Crypto
import Foundation
import NzilaCore

/// One ordered SQL file of `Migrations/<kind>/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case control, reference, tenant
    }

    public let kind: Kind
    public let version: Int
    public let name: String
    public let sql: String

    public init(kind: Kind, version: Int, name: String, sql: String) {
        self.kind = kind
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the file, recorded when applied so a later edit of an applied file is caught.
    public var checksum: String { Data(SHA256.hash(data: Data(sql.utf8))).hexString }

    public var statements: [String] { SQLScript.statements(sql) }

    /// A tenant migration whose first line is `-- nzila:no-transaction` (for `CREATE INDEX
    /// CONCURRENTLY`): a rollout runs its statements one by one outside any transaction on existing
    /// tenants, recovering from an interrupted build; a new tenant's empty tables get them inside
    /// provisioning's transaction, without CONCURRENTLY.
    public var isNonTransactional: Bool { sql.hasPrefix("-- nzila:no-transaction") }
    /// A migration that changes the RLS policy itself marks this, so a rollout reapplies the policy
    /// to every tenant table; otherwise only the tables a rollout creates get it.
    public var reappliesRLS: Bool { sql.contains("-- nzila:reapply-rls") }

    /// The statements as they run inside a transaction (CONCURRENTLY dropped: it cannot run there,
    /// and is not needed on tables nobody else uses yet).
    public var transactionalStatements: [String] {
        guard isNonTransactional else { return statements }
        return statements.map {
            $0.replacingOccurrences(of: #"(?i)\bINDEX\s+CONCURRENTLY\b"#, with: "INDEX", options: .regularExpression)
        }
    }
}

/// The SQL the project ships: migrations, policies and grants, read once at start-up.
public struct SQLCatalog: Sendable {
    public let migrations: [Migration.Kind: [Migration]]
    public let rlsPolicy: String
    public let defaultPrivilegesTemplate: String
    public let grantsTemplate: String

    public enum LoadError: Error, CustomStringConvertible {
        case missing(String)
        case badName(String)

        public var description: String {
            switch self {
            case .missing(let path): return "missing \(path); run from the project folder or set NZILA_HOME"
            case .badName(let name): return "migration file \(name) is not named NNNN_name.sql"
            }
        }
    }

    /// A catalog with other migrations, for tests and tools that stage a change.
    public init(migrations: [Migration.Kind: [Migration]], rlsPolicy: String, defaultPrivilegesTemplate: String, grantsTemplate: String) {
        self.migrations = migrations
        self.rlsPolicy = rlsPolicy
        self.defaultPrivilegesTemplate = defaultPrivilegesTemplate
        self.grantsTemplate = grantsTemplate
    }

    /// A copy with other migrations of one kind, for tests and tools that stage a change.
    public func replacing(_ kind: Migration.Kind, with list: [Migration]) -> SQLCatalog {
        var all = migrations
        all[kind] = list
        return SQLCatalog(
            migrations: all, rlsPolicy: rlsPolicy, defaultPrivilegesTemplate: defaultPrivilegesTemplate, grantsTemplate: grantsTemplate)
    }

    public init(root: URL) throws {
        var migrations: [Migration.Kind: [Migration]] = [:]
        for kind in Migration.Kind.allCases {
            let folder = root.appendingPathComponent("Migrations").appendingPathComponent(kind.rawValue)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { throw LoadError.missing(folder.path) }
            migrations[kind] = try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
                guard let version = Int(name.prefix { $0.isNumber }), version > 0 else { throw LoadError.badName(name) }
                let sql = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                return Migration(kind: kind, version: version, name: String(name.dropLast(4)), sql: sql)
            }
        }
        self.migrations = migrations
        let policies = root.appendingPathComponent("policies")
        func read(_ name: String) throws -> String {
            guard let text = try? String(contentsOf: policies.appendingPathComponent(name), encoding: .utf8) else {
                throw LoadError.missing(policies.appendingPathComponent(name).path)
            }
            return text
        }
        self.rlsPolicy = try read("tenant_rls.sql")
        self.defaultPrivilegesTemplate = try read("tenant_default_privileges.sql")
        self.grantsTemplate = try read("tenant_grants.sql")
    }

    public func migrations(_ kind: Migration.Kind) -> [Migration] { migrations[kind] ?? [] }

    /// The version a freshly provisioned tenant schema is at.
    public var latestTenantVersion: Int { migrations(.tenant).last?.version ?? 0 }

    /// Every table the tenant migrations create, in order: the tables the RLS policy is applied to.
    public var tenantTables: [String] { Self.tables(createdBy: migrations(.tenant)) }

    /// The tables `migrations` create, in order.
    public static func tables(createdBy migrations: [Migration]) -> [String] {
        let pattern = /(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)\s*\(/
        var tables: [String] = []
        for statement in migrations.flatMap(\.statements) {
            if let match = statement.firstMatch(of: pattern), !tables.contains(String(match.1)) { tables.append(String(match.1)) }
        }
        return tables
    }

    /// The forced-RLS block for every tenant table; the names come from our own migration files.
    public var rlsStatements: [String] { rlsStatements(for: tenantTables) }

    /// The forced-RLS block for some tenant tables (none: no statement).
    public func rlsStatements(for tables: [String]) -> [String] {
        guard !tables.isEmpty else { return [] }
        let list = "ARRAY[" + tables.map { "'\($0)'" }.joined(separator: ", ") + "]::text[]"
        return SQLScript.statements(rlsPolicy.replacingOccurrences(of: "{{tables}}", with: list))
    }

    /// The grants for one tenant schema, its identifiers coming from a validated slug or warm id only.
    public func grants(for names: TenantSchemaNames) -> [String] { Self.fill(grantsTemplate, names) }

    /// The default privileges that grant each new table of the tenant's schema to its role.
    public func defaultPrivileges(for names: TenantSchemaNames) -> [String] { Self.fill(defaultPrivilegesTemplate, names) }

    static func fill(_ template: String, _ names: TenantSchemaNames) -> [String] {
        SQLScript.statements(template.replacingOccurrences(of: "{{schema}}", with: names.schema).replacingOccurrences(of: "{{role}}", with: names.role))
    }

    /// The functions the tenant migrations create and do not drop, as `name(argument types)`. They
    /// pin `search_path` to their schema by name (`SET search_path FROM CURRENT`), so renaming a warm
    /// schema into a tenant's re-pins each of them.
    public var tenantFunctions: [String] {
        let create = /(?i)CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([a-z_][a-z0-9_]*\s*\([^)]*\))/
        let drop = /(?i)DROP\s+FUNCTION\s+(?:IF\s+EXISTS\s+)?([a-z_][a-z0-9_]*\s*\([^)]*\))/
        // Keyed without whitespace, so `f(a int)` and `f( a int )` are one function.
        var functions: [(key: String, signature: String)] = []
        for statement in migrations(.tenant).flatMap(\.statements) {
            if let match = statement.firstMatch(of: create) {
                let key = String(match.1).filter { !$0.isWhitespace }
                if !functions.contains(where: { $0.key == key }) { functions.append((key, String(match.1))) }
            } else if let match = statement.firstMatch(of: drop) {
                let key = String(match.1).filter { !$0.isWhitespace }
                functions.removeAll { $0.key == key }
            }
        }
        return functions.map(\.signature)
    }
}
