import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The SQL of the tenant registry (`control.tenants`): lookups, the list and status changes.
struct TenantStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let tenantColumns = "id, slug, name, status, template, schema_version, pool_group, created_at"

    func tenant(_ slug: TenantSlug) async throws -> TenantRecord? {
        try await client.statement(
            "SELECT \(unescaped: Self.tenantColumns) FROM control.tenants WHERE slug = \(slug.value)", logger: logger
        ) { try await $0.first((UUID, String, String, String, String, Int, Int, Date).self) }.map { try TenantRecord(row: $0) }
    }

    /// A page of tenants, newest first.
    func list(_ page: PageRequest) async throws -> Page<TenantRecord> {
        let after = page.after
        let rows = try await client.statement(
            """
            SELECT \(unescaped: Self.tenantColumns), (extract(epoch FROM created_at) * 1000000)::int8 FROM control.tenants
            WHERE \(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID()))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """, logger: logger
        ) { try await $0.all((UUID, String, String, String, String, Int, Int, Date, Int64).self) }
        return try page.page(
            of: rows, item: { try TenantRecord(row: ($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7)) },
            cursor: { PageCursor(position: $0.8, id: $0.0) })
    }

    /// The id and status of the tenant `slug` names; nil when there is none.
    func idAndStatus(_ slug: TenantSlug) async throws -> (UUID, String)? {
        try await client.statement("SELECT id, status FROM control.tenants WHERE slug = \(slug.value)", logger: logger, {
            try await $0.first((UUID, String).self)
        })
    }

    /// Moves the tenant under its registry row lock and audits it, in one transaction; the registry's
    /// trigger announces the change to every data plane at COMMIT.
    func changeStatus(_ slug: TenantSlug, _ action: TenantLifecycle.Action, reason: String, actor: AuditActor) async throws -> TenantRecord {
        try await client.withTransaction(logger: logger) { connection in
            guard
                let found = try await connection.query(
                    "SELECT status, id FROM control.tenants WHERE slug = \(slug.value) FOR UPDATE", logger: logger
                ).first((String, UUID).self)
            else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
            let (stored, id) = found
            let current = try TenantStatus.stored(stored)
            let target = try TenantLifecycle.apply(action, to: current)
            let row = try await connection.query(
                """
                WITH audit AS (
                    INSERT INTO control.audit_log (actor, actor_role, tenant_id, request_id, action, target, detail)
                    VALUES (\(actor.id), \(actor.role.rawValue), \(id), \(actor.requestID), \("tenant.\(action.rawValue)"), \("tenant:\(slug.value)"),
                            jsonb_build_object('before', jsonb_build_object('status', \(current.rawValue)::text),
                                               'after', jsonb_build_object('status', \(target.rawValue)::text), 'reason', \(reason)::text)))
                UPDATE control.tenants SET status = \(target.rawValue), updated_at = clock_timestamp() WHERE slug = \(slug.value)
                RETURNING \(unescaped: Self.tenantColumns)
                """, logger: logger
            ).first((UUID, String, String, String, String, Int, Int, Date).self)
            guard let row else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
            return try TenantRecord(row: row)
        }
    }
}

extension TenantRecord {
    init(row: (UUID, String, String, String, String, Int, Int, Date)) throws {
        self.init(
            id: TenantID(row.0), slug: row.1, name: row.2, status: try .stored(row.3), template: row.4, schemaVersion: row.5, poolGroup: row.6, createdAt: row.7)
    }
}

extension Problem {
    /// A 409 `invalid-transition` for a tenant whose state refuses the change (offboarded is final).
    static func invalidTransition(_ detail: String) -> Problem {
        Problem(.conflict, "invalid-transition", "Invalid transition", detail: detail)
    }
}

extension ControlPlane {
    var tenantStore: TenantStore { TenantStore(client: client, logger: logger) }
}
