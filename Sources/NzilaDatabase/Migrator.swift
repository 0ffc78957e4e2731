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
    /// RLS policy and grants again (new tables get them too). Provisioning calls it with version 0.
    /// `prelude` runs first in the same block (provisioning creates the role and schema there).
    /// All of it goes to the server as one anonymous block: one round trip instead of one per statement,
    /// as the provisioning floor sends its script in one message.
    public func migrateTenantSchema(
        _ connection: PostgresConnection, slug: TenantSlug, tenantID: UUID, fromVersion: Int, toVersion: Int? = nil, prelude: [String] = [],
        afterStep: (TenantSchemaStep) throws -> Void = { _ in }
    ) async throws {
        // The settings stay for the rest of the caller's transaction (set_config(…, true) is
        // transaction-local, not block-local); the values are a validated slug and a formatted UUID.
        let enter = "PERFORM set_config('search_path', '\(slug.schemaName)', true), set_config('app.tenant_id', '\(tenantID.uuidString)', true)"
        let statements = prelude + [enter] + catalog.defaultPrivileges(for: slug)
            + catalog.migrations(.tenant).filter { $0.version > fromVersion && $0.version <= (toVersion ?? Int.max) }.flatMap(\.transactionalStatements)
            + catalog.rlsStatements + catalog.grants(for: slug)
        try await connection.query(PostgresQuery(unsafeSQL: SQLScript.anonymousBlock(statements)), logger: logger)
        try afterStep(.tables)
        try afterStep(.policies)
        try afterStep(.grants)
    }

    /// Points inside `migrateTenantSchema` where provisioning's failure-injection tests stop.
    public enum TenantSchemaStep: Sendable { case tables, policies, grants }

    /// A tenant whose schema is behind the shipped migrations.
    public struct TenantVersion: Sendable {
        public let id: UUID
        public let slug: String
        public let version: Int
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
            let slug = try TenantSlug(tenant.slug)
            try await client.withTransaction(logger: logger) { connection in
                let current = try await connection.query(
                    "SELECT schema_version FROM control.tenants WHERE id = \(tenant.id) FOR UPDATE", logger: logger
                ).first(Int.self) ?? latest
                guard current < latest else { return }
                try await migrateTenantSchema(connection, slug: slug, tenantID: tenant.id, fromVersion: current)
                try await connection.query(
                    "UPDATE control.tenants SET schema_version = \(latest), updated_at = clock_timestamp() WHERE id = \(tenant.id)",
                    logger: logger)
            }
            upgraded.append(tenant.slug)
        }
        return upgraded
    }
}
