import Foundation
import Logging
import NzilaCore
import PostgresNIO
import ServiceLifecycle

/// Deletes Idempotency-Key records older than their retention (24 h by default, as API.md's minimum)
/// from `control` and from every tenant schema, one tenant transaction at a time, and with them what
/// else only grows: expired refresh tokens and access-token revocations, and stale failed-login
/// counts. Runs as the owner on a direct connection; as a service it repeats every `intervalSeconds`
/// until shutdown.
///
/// Idempotency keys are judged by the database's clock, as they are stamped by it (`created_at`
/// defaults to `clock_timestamp()`): their 24 hours are storage retention, and a test clock moved
/// forward must not purge a key made a second ago. Token expiries and failed-login windows were written
/// from the platform clock, so they are judged by it (bound).
public struct IdempotencyPurger: Service {
    let client: PostgresClient
    let clock: Clock
    let retentionHours: Int
    let intervalSeconds: Int
    let logger: Logger

    public init(client: PostgresClient, clock: Clock, retentionHours: Int = 24, intervalSeconds: Int = 3600, logger: Logger) {
        precondition(retentionHours >= 24, "keys live at least 24 hours")
        self.client = client
        self.clock = clock
        self.retentionHours = retentionHours
        self.intervalSeconds = intervalSeconds
        self.logger = logger
    }

    /// One pass; returns how many records it deleted.
    @discardableResult
    public func purgeOnce() async throws -> Int {
        let cutoff = "\(retentionHours) hours"
        let now = clock.now()
        var deleted: Int = try await client.statement(
            "WITH gone AS (DELETE FROM control.idempotency_keys WHERE created_at < clock_timestamp() - \(cutoff)::interval RETURNING 1) SELECT count(*)::int FROM gone",
            logger: logger
        ) { try await $0.first(Int.self) ?? 0 }
        // Revoked access tokens matter only until they would have expired; spent refresh tokens and
        // failed-login counts only while they can still mean something.
        for sql: PostgresQuery in [
            "WITH gone AS (DELETE FROM control.revoked_tokens WHERE expires_at < \(now) RETURNING 1) SELECT count(*)::int FROM gone",
            "WITH gone AS (DELETE FROM control.refresh_tokens WHERE expires_at < \(now) RETURNING 1) SELECT count(*)::int FROM gone",
            Self.staleFailures("control.login_failures", now: now),
        ] {
            deleted += try await client.statement(sql, logger: logger) { try await $0.first(Int.self) ?? 0 }
        }
        let tenants = try await client.statement("SELECT id, slug FROM control.tenants WHERE purged_at IS NULL ORDER BY slug", logger: logger) {
            try await $0.all((UUID, String).self)
        }
        for (id, slug) in tenants {
            guard let tenant = try? TenantSlug(slug) else { continue }
            // One tenant's failure (a schema not yet migrated) must not stop the others' purge.
            do {
                deleted += try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "SELECT set_config('search_path', \(tenant.schemaName), true), set_config('app.tenant_id', \(id.uuidString), true)",
                    logger: logger)
                var count = 0
                for sql: PostgresQuery in [
                    "WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < clock_timestamp() - \(cutoff)::interval RETURNING 1) SELECT count(*)::int FROM gone",
                    "WITH gone AS (DELETE FROM refresh_tokens WHERE expires_at < \(now) RETURNING 1) SELECT count(*)::int FROM gone",
                    Self.staleFailures("login_failures", now: now),
                ] {
                    count += try await connection.query(sql, logger: logger).first(Int.self) ?? 0
                }
                return count
                }
            } catch {
                logger.warning("idempotency purge skipped a tenant", metadata: ["tenant": "\(slug)", "error": "\(String(reflecting: error))"])
            }
        }
        return deleted
    }

    /// Failed-login rows past their window and not locked: they no longer count.
    static func staleFailures(_ table: String, now: Date) -> PostgresQuery {
        """
        WITH gone AS (DELETE FROM \(unescaped: table)
            WHERE last_failure_at < \(now) - \(LoginThrottle.windowSeconds) * interval '1 second' AND (locked_until IS NULL OR locked_until < \(now))
            RETURNING 1)
        SELECT count(*)::int FROM gone
        """
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let deleted = try await purgeOnce()
                    if deleted > 0 { logger.info("purged idempotency keys", metadata: ["deleted": "\(deleted)"]) }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("idempotency purge failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: .seconds(intervalSeconds))
            }
        }
    }
}
