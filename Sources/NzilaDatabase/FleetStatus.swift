import Foundation
import Logging
import PostgresNIO

/// What `nzila migrate status`, `nzila keys list`, `nzila doctor` and the console's fleet pages read
/// about the fleet, in one place: the tenants a rollout could not migrate, the signing keys (never
/// their private halves), and the doctor's checks that need only the owner's connection.
public enum FleetStatus {
    public struct MigrationFailure: Sendable {
        public let slug: String
        public let schemaVersion: Int
        /// The version the rollout could not bring the tenant to.
        public let target: Int
        public let attempts: Int
        public let failedAt: Date
        public let error: String
    }

    /// Tenants still below the version a rollout failed to reach, newest failure first.
    public static func migrationFailures(_ client: PostgresClient, logger: Logger) async throws -> [MigrationFailure] {
        let present = try await client.statement("SELECT to_regclass('control.tenant_migration_failures') IS NOT NULL", logger: logger) {
            try await $0.first(Bool.self) ?? false
        }
        guard present else { return [] }
        return try await client.statement(
            """
            SELECT t.slug, t.schema_version, f.version, f.attempts, f.failed_at, f.error FROM control.tenant_migration_failures f
            JOIN control.tenants t ON t.id = f.tenant_id WHERE t.schema_version < f.version ORDER BY f.failed_at DESC
            """, logger: logger
        ) { try await $0.all((String, Int, Int, Int, Date, String).self) }.map {
            MigrationFailure(slug: $0.0, schemaVersion: $0.1, target: $0.2, attempts: $0.3, failedAt: $0.4, error: $0.5)
        }
    }

    public struct SigningKey: Sendable {
        public enum State: String, Sendable { case active, retiring, retired }
        public let kid: String
        public let active: Bool
        public let createdAt: Date
        public let retiredAt: Date?

        /// Active, retiring (retired but still published, so tokens it signed verify), or retired;
        /// `publishedUntil` is when a retired key leaves the JWKS.
        public func state(at now: Date, tokenLifetimeSeconds: Int) -> State {
            if active { return .active }
            guard let until = publishedUntil(tokenLifetimeSeconds: tokenLifetimeSeconds) else { return .retired }
            return until > now ? .retiring : .retired
        }

        public func publishedUntil(tokenLifetimeSeconds: Int) -> Date? {
            retiredAt.map { $0.addingTimeInterval(TimeInterval(KeyRing.publishedSeconds(tokenLifetimeSeconds: tokenLifetimeSeconds))) }
        }
    }

    /// Every signing key, oldest first: its id and times, never its private half.
    public static func signingKeys(_ client: PostgresClient, logger: Logger) async throws -> [SigningKey] {
        try await client.statement("SELECT kid, active, created_at, retired_at FROM control.signing_keys ORDER BY created_at", logger: logger) {
            try await $0.all((String, Bool, Date, Date?).self)
        }.map { SigningKey(kid: $0.0, active: $0.1, createdAt: $0.2, retiredAt: $0.3) }
    }
}

extension Doctor {
    /// The doctor's checks that need only the owner's connection to PostgreSQL: the clocks, the
    /// server's settings for a schema per tenant, the roles, and forced row-level security on every
    /// tenant table. (PgBouncer's settings and schema drift need more: `nzila doctor` adds them.)
    public static func examineDatabase(_ owner: PostgresClient, logger: Logger) async throws -> [Finding] {
        var findings: [Finding] = []
        let (version, locks, fsync, tenants, now) = try await owner.statement(
            """
            SELECT current_setting('server_version_num')::int, current_setting('max_locks_per_transaction'), current_setting('fsync'),
                   (SELECT count(*)::int FROM control.tenants WHERE purged_at IS NULL), extract(epoch FROM clock_timestamp())::float8
            """, logger: logger
        ) { try await $0.first((Int, String, String, Int, Double).self)! }
        // The machine's own clock against the database's: a skew check, not a business decision.
        findings += clock(databaseSeconds: now, localSeconds: Date().timeIntervalSince1970)
        findings += postgres(versionNum: version, settings: ["max_locks_per_transaction": locks, "fsync": fsync], tenants: tenants)
        findings += roles(try await owner.statement(
            "SELECT rolname::text, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'nzila_app' OR rolname LIKE 't\\_%\\_app'",
            logger: logger) { try await $0.all((String, Bool, Bool, Bool).self) }.map { (name: $0.0, superuser: $0.1, bypassRLS: $0.2, canLogin: $0.3) })
        findings += rls(try await tenantTables(owner, logger: logger))
        return findings
    }
}
