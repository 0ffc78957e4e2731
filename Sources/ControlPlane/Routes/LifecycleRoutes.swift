import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

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
                return try Response.json(try await self.tenantStore.changeStatus(slug, action, reason: reason, actor: AuditActor(principal, request: request)))
            })
        }
    }
}
