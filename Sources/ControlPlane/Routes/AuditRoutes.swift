import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// `GET /v1/audit`: the append-only audit log, newest first, filtered by tenant, actor, action and
/// time. Platform admins read all of it; a tenant's admins and auditors read their own tenant's.
extension ControlPlane {
    /// What `GET /v1/audit` answers (written as dictionaries): a page of entries, `next_cursor`
    /// always present (null on the last page). It documents the route.
    struct AuditPage: Decodable, Sendable {
        struct Entry: Decodable, Sendable {
            let id: Int64
            let at: Date
            let tenant: String?
            let actorID: UUID?
            let actorRole: String?
            let action: String
            let target: String
            let requestID: String?
            /// Before/after and the like: a JSON object of the action's own.
            let detail: [String: JSONValue]
        }
        let data: [Entry]
        let nextCursor: String?
    }

    func addAuditRoutes(_ routes: ControlRoutes) {
        routes.route(.get, "/v1/audit", "The audit log, newest first (?tenant=&actor=&action=&since=)", access: AuditAccess.read, answer: AuditPage.self, use: { request, context in
            let principal = context.principal
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            var errors: [FieldError] = []
            var tenantSlug = query["tenant"]
            if principal.role != .platformAdmin {
                guard tenantSlug == nil || tenantSlug == principal.tenant else {
                    throw Problem.forbidden("You may read only your own credit union's audit log.")
                }
                tenantSlug = principal.tenant
            }
            if let raw = tenantSlug, (try? TenantSlug(raw)) == nil { errors.append(FieldError(field: "tenant", message: "must be a tenant slug")) }
            let actor = query["actor"].map { UUID(uuidString: $0) }
            if case .some(nil) = actor { errors.append(FieldError(field: "actor", message: "must be a user id (UUID)")) }
            let action = query["action"]
            if let action, !(1...200).contains(action.count) { errors.append(FieldError(field: "action", message: "must be 1 to 200 characters")) }
            let since = query["since"].map { text in
                (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
            }
            if case .some(nil) = since { errors.append(FieldError(field: "since", message: "must be an RFC 3339 time")) }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            let rows = try await self.auditStore.list(tenantSlug: tenantSlug, actor: actor, action: action, since: since, page: page)
            let shown = rows.prefix(page.limit).map { row -> [String: Any] in
                [
                    "id": row.0, "at": row.1.rfc3339, "tenant": row.2 ?? NSNull(), "actor_id": row.3?.lowercased ?? NSNull(),
                    "actor_role": row.4 ?? NSNull(), "action": row.5, "target": row.6, "request_id": row.7 ?? NSNull(),
                    "detail": (try? JSONSerialization.jsonObject(with: Data(row.8.utf8))) ?? [:],
                ]
            }
            let next: Any = rows.count > page.limit ? PageCursor(position: rows[page.limit - 1].0, id: AuditStore.nilUUID).encoded : NSNull()
            return Response.jsonData(try TenantConfig.data(["data": shown, "next_cursor": next]))
        })
    }
}
