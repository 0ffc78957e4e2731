import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The moves of a tenant's life: active ⇄ suspended; offboarded is final (issue 5's offboarding).
public enum TenantLifecycle {
    public enum Action: String, Sendable {
        case suspend, resume

        var target: String { self == .suspend ? "suspended" : "active" }
    }

    /// The status after `action`, or the problem that refuses it.
    public static func apply(_ action: Action, to current: String) throws(Problem) -> String {
        switch (action, current) {
        case (.suspend, "active"), (.resume, "suspended"):
            return action.target
        default:
            throw Problem(
                .conflict, "invalid-transition", "Invalid transition",
                detail: current == "offboarded" ? "The tenant is offboarded; that is final." : "The tenant is already \(current).")
        }
    }
}

extension ControlPlane {
    struct ReasonBody: StrictBody {
        static let fields: Set<String> = ["reason"]
        let reason: String
    }

    func addLifecycleRoutes(_ routes: ControlRoutes) {
        for action in [TenantLifecycle.Action.suspend, .resume] {
            let summary = action == .suspend
                ? "Suspend a tenant: the data plane refuses its requests (403) within about a second"
                : "Resume a suspended tenant"
            routes.route(.post, "/v1/tenants/{slug}/\(action.rawValue)", summary, access: .staff(.manageTenants), body: ReasonBody.self, answer: TenantRecord.self, use: { request, context in
                let principal = context.principal
                let slug = try TenantRoutesInput.slug(context)
                let body = try await request.decodeStrict(ReasonBody.self)
                let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
                guard (1...500).contains(reason.count) else { throw Problem.validation(field: "reason", "must be 1 to 500 characters") }
                return try Response.json(try await self.changeStatus(slug, action, reason: reason, actor: AuditActor(principal, request: request)))
            })
        }
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
            let (current, id) = found
            let target = try TenantLifecycle.apply(action, to: current)
            let row = try await connection.query(
                """
                WITH audit AS (
                    INSERT INTO control.audit_log (actor, actor_role, tenant_id, request_id, action, target, detail)
                    VALUES (\(actor.id), \(actor.role.rawValue), \(id), \(actor.requestID), \("tenant.\(action.rawValue)"), \("tenant:\(slug.value)"),
                            jsonb_build_object('before', jsonb_build_object('status', \(current)::text),
                                               'after', jsonb_build_object('status', \(target)::text), 'reason', \(reason)::text)))
                UPDATE control.tenants SET status = \(target), updated_at = clock_timestamp() WHERE slug = \(slug.value)
                RETURNING \(unescaped: Self.tenantColumns)
                """, logger: logger
            ).first((UUID, String, String, String, String, Int, Int, Date).self)
            guard let row else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
            return try TenantRecord(row: row)
        }
    }
}
