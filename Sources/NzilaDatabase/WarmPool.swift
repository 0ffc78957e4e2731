import Foundation
import Logging
import NzilaCore
import PostgresNIO
import ServiceLifecycle

/// Keeps provisioning and rollouts from racing. Every transaction that creates a tenant schema (a
/// tenant or a warm schema) enters the barrier first: a shared transaction-level advisory lock, then,
/// in a later statement (so its snapshot is taken with the lock held), a check that the fleet is not
/// already at a tenant version newer than this build ships. A rollout's last pass takes the lock
/// exclusively: it waits for schemas being created to commit, migrates them, and — if it covered the
/// whole fleet — records the fleet's version before letting provisioning go on. So a schema created
/// during a rollout ends at the latest version, and a build older than the fleet creates none
/// afterwards (a newer server does).
public enum ProvisioningBarrier {
    static let key = "nzila.provisioning"

    /// Statement one of a transaction that creates a tenant schema.
    public static let enterSQL = "pg_advisory_xact_lock_shared(hashtext('\(key)'))"
    /// A later statement's expression: the tenant version the last full rollout brought the fleet to.
    public static let knownVersionSQL = "(SELECT coalesce(max(tenant_schema_version), 0) FROM control.fleet_version)"

    /// The database expects tenant schemas newer than this build can create.
    public struct Behind: Error, CustomStringConvertible, Equatable {
        public let known: Int
        public let shipped: Int
        public init(known: Int, shipped: Int) {
            self.known = known
            self.shipped = shipped
        }
        public var description: String {
            "the fleet's tenant schemas are at version \(known) and this build ships \(shipped): a newer build creates tenant schemas"
        }
    }

    /// The exclusive side, on the rollout's own direct connection (a session lock).
    static func close(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_lock(hashtext(\(key)))", logger: logger)
    }

    /// Records the fleet's version; called with the barrier closed, after the rollout's last pass.
    static func recordFleetVersion(_ version: Int, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO control.fleet_version (tenant_schema_version) VALUES (\(version))
            ON CONFLICT (singleton) DO UPDATE SET tenant_schema_version = EXCLUDED.tenant_schema_version, updated_at = clock_timestamp()
            WHERE control.fleet_version.tenant_schema_version < EXCLUDED.tenant_schema_version
            """, logger: logger)
    }
}

/// The warm pool: tenant schemas built ahead of demand at this build's version, each pinned to the id
/// of the tenant it will become (`control.warm_schemas`, Migrations/control/0012). Provisioning claims
/// one in its own transaction (`claim`), which turns a ~40-statement build into two renames and a
/// registry row. As a service it tops the pool up to `size` whenever it falls short, one schema per
/// transaction; rollouts migrate unclaimed schemas like tenants.
public struct WarmPool: Service {
    let client: PostgresClient
    let migrator: Migrator
    public let size: Int
    let interval: Duration
    let logger: Logger

    public init(client: PostgresClient, migrator: Migrator, size: Int, interval: Duration = .seconds(1), logger: Logger) {
        precondition(size >= 0, "a pool size is not negative")
        self.client = client
        self.migrator = migrator
        self.size = size
        self.interval = interval
        self.logger = logger
    }

    static let refillLockKey = "nzila.warm.refill"

    /// Builds schemas until the pool holds `size` at this build's version; returns how many it built.
    /// Another control plane refilling at the same time makes this one stop at once.
    @discardableResult
    public func refill() async throws -> Int {
        var built = 0
        while try await buildOne() { built += 1 }
        return built
    }

    /// One warm schema in one transaction, if the pool is short and no other process is refilling.
    func buildOne() async throws -> Bool {
        let latest = migrator.catalog.latestTenantVersion
        return try await client.transaction(logger: logger) { connection in
            let mine = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(hashtext(\(Self.refillLockKey))) FROM (SELECT \(unescaped: ProvisioningBarrier.enterSQL)) AS barrier",
                logger: logger
            ).first(Bool.self)
            guard mine == true else { return false }
            let state = try await connection.query(
                """
                SELECT (SELECT count(*)::int FROM control.warm_schemas WHERE schema_version = \(latest)), \(unescaped: ProvisioningBarrier.knownVersionSQL)
                """, logger: logger
            ).first((Int, Int).self)
            guard let (ready, known) = state, ready < size, known <= latest else { return false }
            let id = UUID()
            let names = TenantSchemaNames(warm: id)
            try await migrator.migrateTenantSchema(connection, names: names, tenantID: id, fromVersion: 0, prelude: Migrator.creation(of: names))
            try await connection.query(
                """
                INSERT INTO control.warm_schemas (id, schema_name, role_name, schema_version)
                VALUES (\(id), \(names.schema), \(names.role), \(latest))
                """, logger: logger)
            return true
        }
    }

    /// Inside a provisioning transaction that has entered the barrier: takes the oldest warm schema at
    /// this build's version (skipping any a rollout or another claim holds), renames its schema and
    /// role to the tenant's, re-pins its functions' `search_path`, and leaves the transaction's
    /// search_path and `app.tenant_id` on it, as a build would. Returns the tenant id the schema is
    /// pinned to, or nil when the pool has none. Rolled back, the schema is back in the pool untouched.
    public static func claim(as slug: TenantSlug, catalog: SQLCatalog, on connection: PostgresConnection, logger: Logger) async throws -> UUID? {
        let row = try await connection.query(
            """
            DELETE FROM control.warm_schemas WHERE id = (
                SELECT id FROM control.warm_schemas WHERE schema_version = \(catalog.latestTenantVersion)
                ORDER BY schema_version, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, schema_name
            """, logger: logger
        ).first((UUID, String).self)
        guard let (id, schema) = row, let warm = TenantSchemaNames(warmSchema: schema) else { return nil }
        let tenant = TenantSchemaNames(slug)
        let statements =
            ["ALTER SCHEMA \(warm.schema) RENAME TO \(tenant.schema)", "ALTER ROLE \(warm.role) RENAME TO \(tenant.role)"]
            + catalog.tenantFunctions.map { "ALTER FUNCTION \(tenant.schema).\($0) SET search_path = \(tenant.schema)" }
            + ["PERFORM set_config('search_path', '\(tenant.schema)', true), set_config('app.tenant_id', '\(id.uuidString)', true)"]
        try await connection.query(PostgresQuery(unsafeSQL: SQLScript.anonymousBlock(statements)), logger: logger)
        return id
    }

    /// Unclaimed schemas per version.
    public static func counts(_ client: PostgresClient, logger: Logger) async throws -> [(version: Int, schemas: Int)] {
        try await client.statement(
            """
            SELECT w.schema_version, count(*)::int FROM (SELECT to_regclass('control.warm_schemas') IS NOT NULL AS present) p,
                LATERAL (SELECT schema_version FROM control.warm_schemas WHERE p.present) w GROUP BY 1 ORDER BY 1
            """, logger: logger
        ) { try await $0.all((Int, Int).self) }.map { (version: $0.0, schemas: $0.1) }
    }

    public func run() async throws {
        guard size > 0 else {
            // Nothing to keep warm; stay up like the other services until shutdown.
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let built = try await refill()
                    if built > 0 { logger.debug("warm pool refilled", metadata: ["built": "\(built)"]) }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("warm pool refill failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
