import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension ControlPlane {
    struct CreateTenantBody: StrictBody {
        static let fields: Set<String> = ["slug", "name", "template"]
        let slug: String
        let name: String
        let template: String?
    }

    func addTenantRoutes(_ routes: ControlRoutes) {
        routes.route(.post, "/v1/tenants", "Provision a tenant", access: .staff(.manageTenants), idempotent: true, body: CreateTenantBody.self, answer: TenantRecord.self, use: { request, context in
            try await self.createTenant(request, principal: context.principal)
        })
        routes.route(.get, "/v1/tenants", "List tenants, newest first", access: .staff(.manageTenants), answer: Page<TenantRecord>.self, use: { request, context in
            return try await self.listTenants(try PageRequest(query: request.queryDictionary))
        })
        routes.route(.get, "/v1/tenants/{slug}", "Get one tenant", access: .staff(.readTenant), answer: TenantRecord.self, use: { _, context in
            let slug = try TenantRoutesInput.slug(context)
            // Staff see their own tenant; the gate answers anyone else with the 404 of a missing one.
            guard let record = try await self.tenantStore.tenant(slug) else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
            return try Response.json(record)
        })
    }

    func createTenant(_ request: Request, principal: Principal) async throws -> Response {
        let raw = try await request.jsonBody()
        let body = try decodeStrictJSON(CreateTenantBody.self, from: raw)
        var errors: [FieldError] = []
        var slug: TenantSlug?
        do { slug = try TenantSlug(body.slug) } catch {
            errors.append(
                FieldError(
                    field: "slug",
                    message: error == .reserved ? "is a reserved word" : "must match ^[a-z][a-z0-9_]{2,39}$"))
        }
        let name = Validate.name(body.name, field: "name").get(into: &errors)
        var template: TenantTemplate?
        if let name {
            do { template = try TenantTemplate.load(named: body.template ?? "default", from: settings.projectRoot, tenantName: name) } catch {
                errors.append(FieldError(field: "template", message: error.description))
            }
        }
        guard errors.isEmpty, let slug, let name, let template else { throw Problem.validation(errors) }
        let key = try IdempotencyGate.key(from: request)
        let scope = "\(principal.id.uuidString.lowercased()) POST /v1/tenants"
        return try await client.withTransaction(logger: logger) { connection in
            if let replay = try await IdempotencyGate.control.claim(scope: scope, key: key, body: raw, on: connection, logger: logger) {
                return replay.response
            }
            let id = UUID()
            let record = try await provisioner.provision(
                id: id, slug: slug, name: name, template: template, actor: AuditActor(principal, request: request), on: connection, logger: logger)
            let data = try JSONEncoder.api.encode(record)
            try await IdempotencyGate.control.record(scope: scope, key: key, status: 201, body: data, on: connection, logger: logger)
            return Response.jsonData(data, status: .created, headers: [.location: "/v1/tenants/\(slug.value)"])
        }
    }

    func listTenants(_ page: PageRequest) async throws -> Response {
        try Response.json(try await tenantStore.list(page))
    }
}
