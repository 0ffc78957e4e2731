import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A tenant's own hostnames (`bank.umoja.ca`), unique across tenants; the data plane resolves them
/// within milliseconds of a change (the registry's change feed).
public enum Hostname {
    /// A lower-case DNS name of at least two labels, each 1–63 letters, digits or inner hyphens.
    public static func validate(_ raw: String) -> String? {
        let host = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
        guard host.count <= 253, host.range(of: "^(\(label)\\.)+[a-z]{2,63}$", options: .regularExpression) != nil else { return nil }
        return host
    }
}

extension ControlPlane {
    struct DomainBody: StrictBody {
        static let fields: Set<String> = ["hostname"]
        let hostname: String
    }

    /// What the domain routes answer (written as dictionaries); they document the routes.
    struct DomainRecord: Decodable, Sendable {
        let hostname: String
        let tenant: String
    }

    struct DomainList: Decodable, Sendable {
        struct Entry: Decodable, Sendable {
            let hostname: String
        }
        let data: [Entry]
    }

    func addDomainRoutes(_ routes: ControlRoutes) {
        routes.route(.get, "/v1/tenants/{slug}/domains", "The tenant's own hostnames", access: .staff(.readConfig), answer: DomainList.self, use: { _, context in
            let tenant = try await self.configTenant(context, writing: false)
            let hosts = try await self.client.statement(
                "SELECT hostname FROM control.tenant_domains WHERE tenant_id = \(tenant.id) ORDER BY hostname", logger: self.logger
            ) { try await $0.all(String.self) }
            return Response.jsonData(try TenantConfig.data(["data": hosts.map { ["hostname": $0] }]))
        })
        routes.route(.post, "/v1/tenants/{slug}/domains", "Add a hostname the data plane serves the tenant at", access: .staff(.writeConfig), body: DomainBody.self, answer: DomainRecord.self, use: { request, context in
            let principal = context.principal
            let tenant = try await self.configTenant(context, writing: true)
            let body = try await request.decodeStrict(DomainBody.self)
            guard let host = Hostname.validate(body.hostname) else { throw Problem.validation(field: "hostname", "must be a DNS name such as bank.umoja.ca") }
            let actor = AuditActor(principal, request: request)
            let added = try await self.client.withTransaction(logger: self.logger) { connection -> Bool in
                let inserted = try await connection.query(
                    "INSERT INTO control.tenant_domains (hostname, tenant_id) VALUES (\(host), \(tenant.id)) ON CONFLICT DO NOTHING RETURNING 1",
                    logger: self.logger
                ).first(Int.self) != nil
                if inserted {
                    try await self.audit(actor, action: "domain.add", target: "domain:\(host)", tenant: tenant.id, detail: ["after": ["hostname": host]], on: connection)
                }
                return inserted
            }
            guard added else { throw Problem.conflict("domain-taken", "The hostname \(host) is already in use.") }
            return Response.jsonData(
                try TenantConfig.data(["hostname": host, "tenant": tenant.slug.value]), status: .created,
                headers: [.location: "/v1/tenants/\(tenant.slug.value)/domains/\(host)"])
        })
        routes.route(.delete, "/v1/tenants/{slug}/domains/{hostname}", "Remove a hostname", access: .staff(.writeConfig), use: { request, context in
            let principal = context.principal
            let tenant = try await self.configTenant(context, writing: true)
            guard let host = context.parameters.get("hostname").flatMap(Hostname.validate) else { throw Problem.notFound("Domain") }
            let actor = AuditActor(principal, request: request)
            let removed = try await self.client.withTransaction(logger: self.logger) { connection -> Bool in
                let deleted = try await connection.query(
                    "DELETE FROM control.tenant_domains WHERE hostname = \(host) AND tenant_id = \(tenant.id) RETURNING 1", logger: self.logger
                ).first(Int.self) != nil
                if deleted {
                    try await self.audit(actor, action: "domain.remove", target: "domain:\(host)", tenant: tenant.id, detail: ["before": ["hostname": host]], on: connection)
                }
                return deleted
            }
            guard removed else { throw Problem.notFound("Domain \(host)") }
            return Response(status: .noContent)
        })
    }
}
