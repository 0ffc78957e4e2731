import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension ControlPlane {
    struct DomainBody: StrictBody {
        static let fields: Set<String> = ["hostname"]
        let hostname: String
    }

    /// What the domain routes answer.
    struct DomainRecord: Codable, Sendable {
        let hostname: String
        let tenant: String
    }

    struct DomainList: Codable, Sendable {
        struct Entry: Codable, Sendable {
            let hostname: String
        }
        let data: [Entry]
    }

    func addDomainRoutes(_ routes: ControlRoutes) {
        routes.route(.get, "/v1/tenants/{slug}/domains", "The tenant's own hostnames", access: .staff(.readConfig), answer: DomainList.self, use: { _, context in
            let tenant = try await self.configTenant(context, writing: false)
            let hosts = try await self.domainStore.hostnames(of: tenant)
            return try Response.json(DomainList(data: hosts.map { DomainList.Entry(hostname: $0) }))
        })
        routes.route(.post, "/v1/tenants/{slug}/domains", "Add a hostname the data plane serves the tenant at", access: .staff(.writeConfig), body: DomainBody.self, answer: DomainRecord.self, use: { request, context in
            let principal = context.principal
            let tenant = try await self.configTenant(context, writing: true)
            let body = try await request.decodeStrict(DomainBody.self)
            guard let host = Hostname.validate(body.hostname) else { throw Problem.validation(field: "hostname", "must be a DNS name such as bank.umoja.ca") }
            let actor = AuditActor(principal, request: request)
            let added = try await self.domainStore.add(host, to: tenant, actor: actor)
            guard added else { throw Problem.conflict("domain-taken", "The hostname \(host) is already in use.") }
            return try Response.json(
                DomainRecord(hostname: host, tenant: tenant.slug.value), status: .created,
                headers: [.location: "/v1/tenants/\(tenant.slug.value)/domains/\(host)"])
        })
        routes.route(.delete, "/v1/tenants/{slug}/domains/{hostname}", "Remove a hostname", access: .staff(.writeConfig), use: { request, context in
            let principal = context.principal
            let tenant = try await self.configTenant(context, writing: true)
            guard let host = context.parameters.get("hostname").flatMap(Hostname.validate) else { throw Problem.notFound("Domain") }
            let actor = AuditActor(principal, request: request)
            let removed = try await self.domainStore.remove(host, from: tenant, actor: actor)
            guard removed else { throw Problem.notFound("Domain \(host)") }
            return Response(status: .noContent)
        })
    }
}
