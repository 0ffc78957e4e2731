import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The SQL of the append-only audit log (`control.audit_log`): rows written in the caller's
/// transaction, and pages of them read back.
struct AuditStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let nilUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// An entry: id, time, tenant slug, actor, actor role, action, target, request id and detail (JSON text).
    typealias Row = (Int64, Date, String?, UUID?, String?, String, String, String?, String)

    /// One audit row in the caller's transaction; `detail` holds before/after.
    func record(_ actor: AuditActor, action: String, target: String, tenant: UUID?, detail: [String: Any], on connection: PostgresConnection) async throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys]), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO control.audit_log (actor, actor_role, tenant_id, request_id, action, target, detail)
            VALUES (\(actor.id), \(actor.role.rawValue), \(tenant), \(actor.requestID), \(action), \(target), \(json)::jsonb)
            """, logger: logger)
    }

    /// Entries newest first, up to `page.limit + 1` (one more tells that a next page exists), each
    /// filter applied when given. `actor` and `since` are validated: present means `.some(value)`.
    func list(tenantSlug: String?, actor: UUID??, action: String?, since: Date??, page: PageRequest) async throws -> [Row] {
        try await client.statement(
            """
            SELECT a.id, a.at, t.slug, a.actor, a.actor_role, a.action, a.target, a.request_id, a.detail::text
            FROM control.audit_log a LEFT JOIN control.tenants t ON t.id = a.tenant_id
            WHERE (\(tenantSlug == nil) OR t.slug = \(tenantSlug ?? ""))
              AND (\(actor == nil) OR a.actor = \((actor ?? nil) ?? Self.nilUUID))
              AND (\(action == nil) OR a.action = \(action ?? ""))
              AND (\(since == nil) OR a.at >= \((since ?? nil) ?? Date.distantPast))
              AND a.id < \(page.after?.position ?? Int64.max)
            ORDER BY a.id DESC LIMIT \(page.limit + 1)
            """, logger: self.logger
        ) { try await $0.all(Row.self) }
    }
}

extension ControlPlane {
    var auditStore: AuditStore { AuditStore(client: client, logger: logger) }
}
