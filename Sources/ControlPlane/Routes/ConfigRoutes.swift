import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// `GET/PUT /v1/tenants/{slug}/config`, its versions, diff and rollback. Every change is a new
/// immutable version (author, role, time, reason), written with the registry's enabled domains and
/// the tenant schema's own `tenant_config` rows in one transaction, so the data plane reads the new
/// values at once (and hears of the domains through the registry's change feed). Writes need
/// `If-Match` with the current version (API.md: 428 without, 412 when stale).
extension ControlPlane {
    func addConfigRoutes(_ routes: ControlRoutes) {
        routes.route(.get, "/v1/tenants/{slug}/config", "The tenant's current configuration, with its ETag", access: ConfigAccess.read, answer: ConfigVersionAnswer.self, use: { _, context in
            let tenant = try await self.configTenant(context, writing: false)
            let current = try await self.configVersion(of: tenant.id, number: nil)
            return Response.jsonData(try current.body(tenant: tenant.slug.value), headers: [.eTag: current.etag])
        })
        routes.route(.put, "/v1/tenants/{slug}/config", "Replace the configuration (If-Match and a reason required)", access: ConfigAccess.write, body: ConfigBody.self, answer: ConfigVersionAnswer.self, use: { request, context in
            let principal = context.principal
            let tenant = try await self.configTenant(context, writing: true)
            let expected = try Self.ifMatch(request)
            let (document, reason) = try Self.configBody(try await request.jsonBody())
            let written = try await self.configStore.write(tenant, expected: expected, document: document, reason: reason, actor: AuditActor(principal, request: request), rolledBackFrom: nil)
            return Response.jsonData(try written.body(tenant: tenant.slug.value), headers: [.eTag: written.etag])
        })
        routes.route(.get, "/v1/tenants/{slug}/config/versions", "Every configuration version, newest first", access: ConfigAccess.read, answer: Page<ConfigVersionSummary>.self, use: { request, context in
            let tenant = try await self.configTenant(context, writing: false)
            let page = try PageRequest(query: request.queryDictionary)
            return try Response.json(try await self.configStore.versions(of: tenant, page: page))
        })
        routes.route(.get, "/v1/tenants/{slug}/config/versions/{version}", "One configuration version", access: ConfigAccess.read, answer: ConfigVersionAnswer.self, use: { _, context in
            let tenant = try await self.configTenant(context, writing: false)
            guard let number = context.parameters.get("version").flatMap(Int.init), number > 0 else { throw Problem.notFound("Configuration version") }
            return Response.jsonData(try await self.configVersion(of: tenant.id, number: number).body(tenant: tenant.slug.value))
        })
        routes.route(.get, "/v1/tenants/{slug}/config/diff", "What changed between two versions (?from=&to=)", access: ConfigAccess.read, answer: ConfigDiff.self, use: { request, context in
            let tenant = try await self.configTenant(context, writing: false)
            let query = request.queryDictionary
            var errors: [FieldError] = []
            let from = query["from"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
            let to = query["to"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
            if from == nil { errors.append(FieldError(field: "from", message: "must be a version number")) }
            if to == nil { errors.append(FieldError(field: "to", message: "must be a version number")) }
            guard errors.isEmpty, let from, let to else { throw Problem.validation(errors) }
            let old = try await self.configVersion(of: tenant.id, number: from)
            let new = try await self.configVersion(of: tenant.id, number: to)
            let changes: [[String: Any]] = ConfigChange.between(old.document, new.document).map { change in
                var line: [String: Any] = ["path": change.path, "kind": change.kind.rawValue]
                line["before"] = change.before.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) } ?? NSNull()
                line["after"] = change.after.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) } ?? NSNull()
                return line
            }
            return Response.jsonData(try TenantConfig.data(["tenant": tenant.slug.value, "from": from, "to": to, "changes": changes]))
        })
        routes.route(.post, "/v1/tenants/{slug}/config/rollback", "A new version equal to an older one (If-Match and a reason required)", access: ConfigAccess.write, body: RollbackBody.self, answer: ConfigVersionAnswer.self, use: { request, context in
            let principal = context.principal
            let tenant = try await self.configTenant(context, writing: true)
            let expected = try Self.ifMatch(request)
            let body = try decodeStrictJSON(RollbackBody.self, from: try await request.jsonBody())
            var errors: [FieldError] = []
            if body.version < 1 { errors.append(FieldError(field: "version", message: "must be a version number")) }
            let reason = Self.reason(body.reason, into: &errors)
            guard errors.isEmpty, let reason else { throw Problem.validation(errors) }
            let target: ConfigVersion
            do { target = try await self.configVersion(of: tenant.id, number: body.version) } catch let problem as Problem where problem.status == .notFound {
                throw Problem.validation(field: "version", "names no version of this tenant's configuration")
            }
            let problems = TenantConfig.problems(target.document)
            guard problems.isEmpty else {
                throw Problem.validation(problems.map { FieldError(field: "config.\($0.field)", message: "\($0.message) (version \(body.version) breaks today's rules)") })
            }
            let written = try await self.configStore.write(
                tenant, expected: expected, document: target.document, reason: reason, actor: AuditActor(principal, request: request),
                rolledBackFrom: body.version, always: true)
            return Response.jsonData(try written.body(tenant: tenant.slug.value), headers: [.eTag: written.etag])
        })
    }

    /// What `GET …/config/diff` answers (written as dictionaries); it documents the route.
    struct ConfigDiff: Decodable, Sendable {
        struct Change: Decodable, Sendable {
            let path: String
            let kind: ConfigChange.Kind
            /// The value before and after, null when absent.
            let before: JSONValue
            let after: JSONValue
        }
        let tenant: String
        let from: Int
        let to: Int
        let changes: [Change]
    }

    /// The tenant a configuration route names, if the caller may use it: platform admins any; a
    /// tenant's staff read their own, and only its tenant admins write. Others' tenants look missing.
    func configTenant(_ context: StaffRequestContext, writing: Bool) async throws -> ConfigTenant {
        let slug = try TenantRoutesInput.slug(context)
        guard let row = try await tenantStore.idAndStatus(slug) else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
        return ConfigTenant(id: row.0, slug: slug, status: row.1)
    }

    /// The current version (`number` nil) or the numbered one; 404 when there is none.
    func configVersion(of tenant: UUID, number: Int?) async throws -> ConfigVersion {
        guard let version = try await configStore.version(of: tenant, number: number) else {
            throw Problem.notFound("Configuration version \(number.map(String.init) ?? "current")")
        }
        return version
    }
}
