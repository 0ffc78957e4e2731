import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The SQL of offboarding: the tenant's move to offboarded, and the record of its export.
struct OffboardStore: Sendable {
    let client: PostgresClient
    /// The platform clock: `offboarded_at` is business time (purge retention is counted from it).
    let clock: NzilaCore.Clock
    let logger: Logger

    /// Marks the tenant offboarded and audits it, in one transaction under its registry row lock;
    /// returns its id and the status it had. A tenant offboarded earlier without an export passes
    /// unchanged (its export is retried); one with an export is refused.
    func markOffboarded(_ slug: TenantSlug, reason: String, actor: AuditActor) async throws -> (UUID, String) {
        try await client.withTransaction(logger: logger) { connection -> (UUID, String) in
            guard
                let (id, status, exported) = try await connection.query(
                    """
                    SELECT id, status, EXISTS (SELECT 1 FROM control.tenant_exports e WHERE e.tenant_id = t.id)
                    FROM control.tenants t WHERE slug = \(slug.value) FOR UPDATE
                    """, logger: logger
                ).first((UUID, String, Bool).self)
            else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
            if status == TenantStatus.offboarded.rawValue {
                guard !exported else { throw Problem.invalidTransition("The tenant is already offboarded and exported.") }
                return (id, status)
            }
            try await connection.query(
                "UPDATE control.tenants SET status = 'offboarded', offboarded_at = \(self.clock.now()), updated_at = clock_timestamp() WHERE id = \(id)",
                logger: logger)
            try await AuditStore(client: client, logger: logger).record(
                actor, action: "tenant.offboard", target: "tenant:\(slug.value)", tenant: id,
                detail: ["before": ["status": status], "after": ["status": TenantStatus.offboarded.rawValue], "reason": reason], on: connection)
            return (id, status)
        }
    }

    /// Records the tenant's export and audits it, in one transaction.
    func recordExport(
        tenant id: UUID, slug: TenantSlug, archive: TenantArchive, manifest: TenantArchive.Manifest, manifestHash: String, rows: Int, actor: AuditActor
    ) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO control.tenant_exports (id, tenant_id, path, manifest_sha256, tables, rows)
                VALUES (\(UUID()), \(id), \(archive.folder.path), \(manifestHash), \(manifest.tables.count), \(rows))
                """, logger: logger)
            try await AuditStore(client: client, logger: logger).record(
                actor, action: "tenant.export", target: "tenant:\(slug.value)", tenant: id,
                detail: ["after": ["path": archive.folder.path, "manifest_sha256": manifestHash, "rows": rows]], on: connection)
        }
    }
}

extension ControlPlane {
    var offboardStore: OffboardStore { OffboardStore(client: client, clock: clock, logger: logger) }
}
