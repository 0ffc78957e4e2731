import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The SQL of a tenant's own hostnames (`control.tenant_domains`), each change audited.
struct DomainStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// The tenant's hostnames, in order.
    func hostnames(of tenant: ConfigTenant) async throws -> [String] {
        try await self.client.statement(
            "SELECT hostname FROM control.tenant_domains WHERE tenant_id = \(tenant.id) ORDER BY hostname", logger: self.logger
        ) { try await $0.all(String.self) }
    }

    /// Adds the hostname and audits it, in one transaction; false when it is already in use.
    func add(_ host: String, to tenant: ConfigTenant, actor: AuditActor) async throws -> Bool {
        try await self.client.withTransaction(logger: self.logger) { connection -> Bool in
            let inserted = try await connection.query(
                "INSERT INTO control.tenant_domains (hostname, tenant_id) VALUES (\(host), \(tenant.id)) ON CONFLICT DO NOTHING RETURNING 1",
                logger: self.logger
            ).first(Int.self) != nil
            if inserted {
                try await AuditStore(client: self.client, logger: self.logger).record(
                    actor, action: "domain.add", target: "domain:\(host)", tenant: tenant.id, detail: ["after": ["hostname": host]], on: connection)
            }
            return inserted
        }
    }

    /// Removes the tenant's hostname and audits it, in one transaction; false when it has no such hostname.
    func remove(_ host: String, from tenant: ConfigTenant, actor: AuditActor) async throws -> Bool {
        try await self.client.withTransaction(logger: self.logger) { connection -> Bool in
            let deleted = try await connection.query(
                "DELETE FROM control.tenant_domains WHERE hostname = \(host) AND tenant_id = \(tenant.id) RETURNING 1", logger: self.logger
            ).first(Int.self) != nil
            if deleted {
                try await AuditStore(client: self.client, logger: self.logger).record(
                    actor, action: "domain.remove", target: "domain:\(host)", tenant: tenant.id, detail: ["before": ["hostname": host]], on: connection)
            }
            return deleted
        }
    }
}

extension ControlPlane {
    var domainStore: DomainStore { DomainStore(client: client, logger: logger) }
}
