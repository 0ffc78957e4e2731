import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// Applies the shipped migrations: the global ones (control, reference) and each tenant schema's.
/// Runs as `nzila_owner` on a direct connection (advisory locks do not survive a transaction pooler).
public struct Migrator: Sendable {
    public let catalog: SQLCatalog
    public let logger: Logger

    /// Serialises concurrent migrators across processes.
    static let lockKey: Int64 = 0x6e7a_696c_615f_6d67

    public init(catalog: SQLCatalog, logger: Logger) {
        self.catalog = catalog
        self.logger = logger
    }

    public struct Drift: Error, CustomStringConvertible, Equatable {
        public let migration: String
        public init(migration: String) { self.migration = migration }
        public var description: String { "applied migration \(migration) was edited after it ran; write a new migration instead" }
    }

    /// A global migration's state.
    public struct GlobalStatus: Sendable {
        public let migration: Migration
        public let applied: Bool
    }

    /// Applies pending control and reference migrations in one transaction; returns what it applied.
    /// It also records the checksum of every tenant migration this build ships, the first time it
    /// sees it, and refuses to run if one already recorded has changed: tenant schemas may already
    /// hold the old text, and a rollout would never apply the new one to them.
    @discardableResult
    public func applyGlobal(_ client: PostgresClient) async throws -> [Migration] {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Migrator.lockKey))", logger: logger)
            let applied = try await appliedGlobal(connection)
            var done: [Migration] = []
            for migration in catalog.migrations(.control) + catalog.migrations(.reference) {
                if let checksum = applied["\(migration.kind.rawValue)/\(migration.version)"] {
                    guard checksum == migration.checksum else { throw Drift(migration: migration.name) }
                    continue
                }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO control.schema_migrations (kind, version, name, checksum)
                    VALUES (\(migration.kind.rawValue), \(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: logger)
                done.append(migration)
            }
            let released = try await appliedGlobal(connection)
            for migration in catalog.migrations(.tenant) {
                if let checksum = released["tenant/\(migration.version)"] {
                    guard checksum == migration.checksum else { throw Drift(migration: "tenant/\(migration.name)") }
                    continue
                }
                try await connection.query(
                    """
                    INSERT INTO control.schema_migrations (kind, version, name, checksum)
                    VALUES ('tenant', \(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: logger)
            }
            return done
        }
    }

    /// Which global migrations have been applied.
    public func globalStatus(_ client: PostgresClient) async throws -> [GlobalStatus] {
        let applied = try await client.withConnection { try await appliedGlobal($0) }
        return (catalog.migrations(.control) + catalog.migrations(.reference)).map {
            GlobalStatus(migration: $0, applied: applied["\($0.kind.rawValue)/\($0.version)"] != nil)
        }
    }

    func appliedGlobal(_ connection: PostgresConnection) async throws -> [String: String] {
        let exists = try await connection.query("SELECT to_regclass('control.schema_migrations') IS NOT NULL", logger: logger)
            .first(Bool.self) ?? false
        guard exists else { return [:] }
        var applied: [String: String] = [:]
        for (kind, version, checksum) in try await connection.query(
            "SELECT kind, version, checksum FROM control.schema_migrations", logger: logger
        ).all((String, Int, String).self) {
            applied["\(kind)/\(version)"] = checksum
        }
        return applied
    }

    /// Builds or upgrades one tenant schema inside the caller's transaction: default privileges (so
    /// new tables are granted as they are created), the tenant migrations after `fromVersion`, then the
    /// RLS policy on the tables those migrations create (every table for a new schema, or when a
    /// migration is marked `-- nzila:reapply-rls`) and the grants. Provisioning calls it with version 0.
    /// `prelude` runs first in the same block (provisioning creates the role and schema there).
    /// All of it goes to the server as one anonymous block: one round trip instead of one per statement,
    /// as the provisioning floor sends its script in one message.
    public func migrateTenantSchema(
        _ connection: PostgresConnection, names: TenantSchemaNames, tenantID: UUID, fromVersion: Int, toVersion: Int? = nil, prelude: [String] = [],
        afterStep: (TenantSchemaStep) throws -> Void = { _ in }
    ) async throws {
        // The settings stay for the rest of the caller's transaction (set_config(…, true) is
        // transaction-local, not block-local); the values are validated names and a formatted UUID.
        let enter = "PERFORM set_config('search_path', '\(names.schema)', true), set_config('app.tenant_id', '\(tenantID.uuidString)', true)"
        let pending = catalog.migrations(.tenant).filter { $0.version > fromVersion && $0.version <= (toVersion ?? Int.max) }
        // A new schema gets the policy on every table; an upgrade only on the tables it creates, so it
        // does not take an ACCESS EXCLUSIVE lock on every table of a live tenant for nothing.
        let protected = fromVersion == 0 || pending.contains(where: \.reappliesRLS) ? catalog.tenantTables : SQLCatalog.tables(createdBy: pending)
        let statements = prelude + [enter] + catalog.defaultPrivileges(for: names) + pending.flatMap(\.transactionalStatements)
            + catalog.rlsStatements(for: protected) + catalog.grants(for: names)
        try await connection.query(PostgresQuery(unsafeSQL: SQLScript.anonymousBlock(statements)), logger: logger)
        try afterStep(.tables)
        try afterStep(.policies)
        try afterStep(.grants)
    }

    /// The prelude that creates a tenant schema's NOLOGIN role and the schema itself.
    public static func creation(of names: TenantSchemaNames) -> [String] {
        ["CREATE ROLE \(names.role) NOLOGIN", "CREATE SCHEMA \(names.schema) AUTHORIZATION nzila_owner"]
    }

    /// Points inside `migrateTenantSchema` where provisioning's failure-injection tests stop.
    public enum TenantSchemaStep: Sendable { case tables, policies, grants }

    /// A tenant whose schema is behind the shipped migrations.
    public struct TenantVersion: Sendable {
        public let id: UUID
        /// The tenant's slug, or `warm:<schema>` for an unclaimed warm schema.
        public let slug: String
        public let version: Int
        /// Nil if the registry holds a name that does not validate.
        public let names: TenantSchemaNames?
        public let isWarm: Bool

        init(id: UUID, slug: String, version: Int) {
            self.id = id
            self.slug = slug
            self.version = version
            self.names = (try? TenantSlug(slug)).map(TenantSchemaNames.init)
            self.isWarm = false
        }

        init(warm id: UUID, schema: String, version: Int) {
            self.id = id
            self.slug = "warm:" + schema
            self.version = version
            self.names = TenantSchemaNames(warmSchema: schema)
            self.isWarm = true
        }

        /// The registry table that records its version.
        var registryTable: String { isWarm ? "control.warm_schemas" : "control.tenants" }
    }

    /// Every unclaimed warm schema, oldest first (none before the migration that adds the pool).
    public func warmVersions(_ client: PostgresClient) async throws -> [TenantVersion] {
        try await client.statement(
            """
            SELECT w.id, w.schema_name, w.schema_version FROM (SELECT to_regclass('control.warm_schemas') IS NOT NULL AS present) p,
                LATERAL (SELECT * FROM control.warm_schemas WHERE p.present ORDER BY created_at, id) w
            """, logger: logger
        ) { try await $0.all((UUID, String, Int).self) }.map { TenantVersion(warm: $0.0, schema: $0.1, version: $0.2) }
    }

    /// Every tenant that still has a schema (a purged tenant has none). `purged_at` is read through
    /// `to_jsonb` so this also works before the migration that adds it has been applied.
    public func tenantVersions(_ client: PostgresClient) async throws -> [TenantVersion] {
        try await client.statement(
            "SELECT id, slug, schema_version FROM control.tenants t WHERE to_jsonb(t) ->> 'purged_at' IS NULL ORDER BY slug", logger: logger
        ) { try await $0.all((UUID, String, Int).self) }.map { TenantVersion(id: $0.0, slug: $0.1, version: $0.2) }
    }

    /// Brings every tenant schema (or only the named ones) to the latest version, one transaction per
    /// tenant, so one failing tenant leaves the others migrated and itself untouched. Returns the slugs
    /// it upgraded.
    @discardableResult
    public func applyTenants(_ client: PostgresClient, only slugs: Set<String>? = nil) async throws -> [String] {
        let latest = catalog.latestTenantVersion
        var upgraded: [String] = []
        for tenant in try await tenantVersions(client) where tenant.version < latest && (slugs?.contains(tenant.slug) ?? true) {
            let names = TenantSchemaNames(try TenantSlug(tenant.slug))
            try await client.withTransaction(logger: logger) { connection in
                let current = try await connection.query(
                    "SELECT schema_version FROM control.tenants WHERE id = \(tenant.id) FOR UPDATE", logger: logger
                ).first(Int.self) ?? latest
                guard current < latest else { return }
                try await migrateTenantSchema(connection, names: names, tenantID: tenant.id, fromVersion: current)
                try await connection.query(
                    "UPDATE control.tenants SET schema_version = \(latest), updated_at = clock_timestamp() WHERE id = \(tenant.id)",
                    logger: logger)
            }
            upgraded.append(tenant.slug)
        }
        return upgraded
    }
}
