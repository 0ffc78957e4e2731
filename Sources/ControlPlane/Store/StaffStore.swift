import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The SQL of staff users (`control.users`): logins, roles and new accounts.
struct StaffStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Id, password hash, role and tenant slug of the user with this email, on the login's connection.
    func credentials(email: String, on connection: PostgresConnection) async throws -> (UUID, String, String, String?)? {
        try await connection.query(
            """
            SELECT u.id, u.password_hash, u.role, t.slug FROM control.users u
            LEFT JOIN control.tenants t ON t.id = u.tenant_id WHERE u.email = \(email)
            """, logger: logger
        ).first((UUID, String, String, String?).self)
    }

    /// The user's role and tenant slug; nil when there is no such user.
    func roleAndTenant(of userID: UUID) async throws -> (String, String?)? {
        try await client.statement(
            "SELECT u.role, t.slug FROM control.users u LEFT JOIN control.tenants t ON t.id = u.tenant_id WHERE u.id = \(userID)",
            logger: logger, { try await $0.first((String, String?).self) })
    }

    /// Creates a staff user of the tenant `slug` and audits it, in one transaction; returns when it
    /// was created, nil when there is no such tenant (409 `email-taken` when the email is in use).
    func create(id: UUID, email: String, hash: String, role: Role, slug: TenantSlug, actor: AuditActor) async throws -> Date? {
        try await client.withTransaction(logger: logger) { connection -> Date? in
            guard let tenantID = try await connection.query("SELECT id FROM control.tenants WHERE slug = \(slug.value)", logger: logger)
                .first(UUID.self)
            else { return nil }
            let createdAt = try await connection.query(
                """
                INSERT INTO control.users (id, email, password_hash, role, tenant_id)
                VALUES (\(id), \(email), \(hash), \(role.rawValue), \(tenantID)) ON CONFLICT (email) DO NOTHING RETURNING created_at
                """, logger: logger
            ).first(Date.self)
            guard let createdAt else { throw Problem.conflict("email-taken", "A user with email \(email) already exists.") }
            try await AuditStore(client: client, logger: logger).record(
                actor, action: "staff.create", target: "user:\(id.lowercased)", tenant: tenantID,
                detail: ["after": ["email": email, "role": role.rawValue]], on: connection)
            return createdAt
        }
    }
}

extension ControlPlane {
    var staffStore: StaffStore { StaffStore(client: client, logger: logger) }
}
