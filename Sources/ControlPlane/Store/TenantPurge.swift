import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension TenantLifecycleTools {
    /// Drops the tenant's schema and role, only if it is offboarded, its offboarding is older than
    /// `retentionDays`, and its latest export exists on disk and verifies against the checksum
    /// recorded when it was written. The registry row, configuration history, exports and audit
    /// rows stay. Returns the export it relied on.
    public func purge(_ slug: TenantSlug, retentionDays: Int, actor: String) async throws -> URL {
        let now = clock.now()
        return try await client.transaction(logger: logger) { connection in
            guard
                let (id, status, age, purged) = try await connection.query(
                    """
                    SELECT id, status, coalesce(extract(epoch FROM \(now)::timestamptz - offboarded_at), 0)::float8 / 86400, purged_at IS NOT NULL
                    FROM control.tenants WHERE slug = \(slug.value) FOR UPDATE
                    """, logger: logger
                ).first((UUID, String, Double, Bool).self)
            else { throw Refusal.notFound(slug.value) }
            guard status == TenantStatus.offboarded.rawValue else { throw Refusal.notOffboarded(slug.value) }
            guard !purged else { throw Refusal.alreadyPurged(slug.value) }
            guard age >= Double(retentionDays) else { throw Refusal.retention(slug.value, remainingDays: Int((Double(retentionDays) - age).rounded(.up))) }
            guard
                let (path, manifestHash) = try await connection.query(
                    "SELECT path, manifest_sha256 FROM control.tenant_exports WHERE tenant_id = \(id) ORDER BY created_at DESC LIMIT 1", logger: logger
                ).first((String, String).self)
            else { throw Refusal.noExport(slug.value) }
            let folder = URL(fileURLWithPath: path, isDirectory: true)
            do throws(TenantArchive.Failure) { _ = try TenantArchive(folder: folder).verify(expectedManifest: manifestHash) } catch {
                throw Refusal.export(error.description)
            }
            try await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(slug.schemaName) CASCADE"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "DROP ROLE \(slug.roleName)"), logger: logger)
            try await connection.query(
                "UPDATE control.tenants SET purged_at = clock_timestamp(), updated_at = clock_timestamp() WHERE id = \(id)", logger: logger)
            try await connection.query("DELETE FROM control.tenant_domains WHERE tenant_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM trading_index.working_orders WHERE tenant_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM trading_index.alerts WHERE tenant_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM trading_index.copies WHERE tenant_id = \(id)", logger: logger)
            try await connection.query(
                """
                INSERT INTO control.audit_log (actor_role, tenant_id, action, target, detail)
                VALUES ('operator', \(id), 'tenant.purge', \("tenant:\(slug.value)"),
                        jsonb_build_object('export', \(path)::text, 'manifest_sha256', \(manifestHash)::text, 'by', \(actor)::text))
                """, logger: logger)
            return folder
        }
    }
}
