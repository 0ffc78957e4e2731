import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// `nzila migrate drift`: compares each tenant schema's catalogue — tables, columns with types,
/// nullability and defaults, indexes, constraints, triggers, RLS flags and policies, table grants —
/// with what the shipped migrations produce, and names every difference. The reference is built by
/// running provisioning's own schema step in a transaction that is rolled back, so it is exactly
/// what a new tenant would get from this build.
public struct DriftCheck: Sendable {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable { case missing, unexpected, changed }
        public let tenant: String
        public let kind: Kind
        /// "column members.nickname", "index members_created", "rls holds", …
        public let object: String
        public let expected: String?
        public let actual: String?

        public var description: String {
            switch kind {
            case .missing: return "\(tenant): missing \(object) (expected \(expected ?? ""))"
            case .unexpected: return "\(tenant): unexpected \(object) (\(actual ?? ""))"
            case .changed: return "\(tenant): \(object) is \(actual ?? "") but the migrations give \(expected ?? "")"
            }
        }
    }

    let migrator: Migrator
    let logger: Logger

    public init(migrator: Migrator, logger: Logger) {
        self.migrator = migrator
        self.logger = logger
    }

    /// The catalogue of one schema as (object, definition) — functions with their settings (a function
    /// whose search_path names another schema is drift) —, with the schema, role and tenant id
    /// replaced by placeholders so two tenants' catalogues compare equal. Call it inside a
    /// transaction: it pins search_path (the catalogue functions qualify names by it) for that
    /// transaction only.
    static func fingerprint(schema: String, role: String, tenantID: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> [String: String]
    {
        try await connection.query("SELECT set_config('search_path', 'pg_catalog', true)", logger: logger)
        let rows = try await connection.query(
            """
            WITH s AS (SELECT \(schema)::regnamespace AS ns),
            items (object, definition) AS (
                SELECT 'table ' || c.relname, 'rls ' || c.relrowsecurity || ', forced ' || c.relforcerowsecurity
                FROM pg_class c, s WHERE c.relnamespace = s.ns AND c.relkind IN ('r', 'p')
                UNION ALL
                SELECT 'column ' || c.relname || '.' || a.attname,
                       format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN s ON c.relnamespace = s.ns
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                UNION ALL
                SELECT 'index ' || i.relname, pg_get_indexdef(i.oid)
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN s ON c.relnamespace = s.ns
                UNION ALL
                SELECT 'constraint ' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
                FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN s ON c.relnamespace = s.ns
                UNION ALL
                SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                       coalesce(array_to_string(p.proconfig, ', '), 'no settings') || ', body ' || md5(p.prosrc)
                FROM pg_proc p JOIN s ON p.pronamespace = s.ns
                UNION ALL
                SELECT 'trigger ' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN s ON c.relnamespace = s.ns WHERE NOT t.tgisinternal
                UNION ALL
                SELECT 'policy ' || p.tablename || '.' || p.policyname,
                       p.cmd || ' using ' || coalesce(p.qual, '') || ' check ' || coalesce(p.with_check, '') || ' to ' || array_to_string(p.roles, ',')
                FROM pg_policies p WHERE p.schemaname = \(schema)
                UNION ALL
                SELECT 'grant ' || g.table_name || ' to ' || g.grantee, string_agg(g.privilege_type, ', ' ORDER BY g.privilege_type)
                FROM information_schema.role_table_grants g WHERE g.table_schema = \(schema) AND g.grantee <> 'nzila_owner'
                GROUP BY g.table_name, g.grantee)
            SELECT object, replace(replace(replace(replace(definition, \(schema) || '.', '<schema>.'), 'search_path=' || \(schema), 'search_path=<schema>'),
                                   \(role), '<role>'), \(tenantID.uuidString.lowercased()), '<tenant>')
            FROM items
            """, logger: logger
        ).all((String, String).self)
        var result: [String: String] = [:]
        for (object, definition) in rows {
            result[object.replacingOccurrences(of: role, with: "<role>")] = definition
        }
        return result
    }

    /// What a new tenant gets from this build: provisioning's schema step in a transaction that is
    /// rolled back, fingerprinted before the rollback.
    public func reference(client: PostgresClient) async throws -> [String: String] {
        let slug = try TenantSlug("zz_drift_reference")
        let id = UUID()
        return try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                try await migrator.migrateTenantSchema(
                    connection, names: TenantSchemaNames(slug), tenantID: id, fromVersion: 0, prelude: Migrator.creation(of: TenantSchemaNames(slug)))
                let print = try await Self.fingerprint(schema: slug.schemaName, role: slug.roleName, tenantID: id, on: connection, logger: logger)
                try await connection.query("ROLLBACK", logger: logger)
                return print
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Every difference between each tenant at the latest version (or the named ones), and
    /// each unclaimed warm schema at that version (named `warm:<schema>`), and the reference; tenants behind are not compared (they are a rollout's business, not drift).
    public func check(client: PostgresClient, only: Set<String>? = nil) async throws -> (compared: [String], findings: [Finding]) {
        let expected = try await reference(client: client)
        let latest = migrator.catalog.latestTenantVersion
        var compared: [String] = []
        var findings: [Finding] = []
        // Unclaimed warm schemas too: a claim hands one to a tenant as it is.
        let schemas = try await migrator.tenantVersions(client) + migrator.warmVersions(client)
        for tenant in schemas where tenant.version == latest && (only?.contains(tenant.slug) ?? true) {
            guard let names = tenant.names else { continue }
            let actual = try await client.withTransaction(logger: logger) { connection in
                try await Self.fingerprint(schema: names.schema, role: names.role, tenantID: tenant.id, on: connection, logger: logger)
            }
            compared.append(tenant.slug)
            for object in Set(expected.keys).union(actual.keys).sorted() {
                switch (expected[object], actual[object]) {
                case (let want?, nil): findings.append(Finding(tenant: tenant.slug, kind: .missing, object: object, expected: want, actual: nil))
                case (nil, let got?): findings.append(Finding(tenant: tenant.slug, kind: .unexpected, object: object, expected: nil, actual: got))
                case (let want?, let got?) where want != got:
                    findings.append(Finding(tenant: tenant.slug, kind: .changed, object: object, expected: want, actual: got))
                default: break
                }
            }
        }
        return (compared, findings)
    }
}
