import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The steps of provisioning, in order; all of them run in one transaction.
public enum ProvisioningStep: String, CaseIterable, Sendable {
    case role, schema, tables, policies, grants, registry, config, ledgerAccounts
}

/// A tenant as the registry records it and the API returns it.
public struct TenantRecord: Codable, Sendable, Equatable {
    public let id: String
    public let slug: String
    public let name: String
    public let status: String
    public let template: String
    public let schemaVersion: Int
    public let poolGroup: Int
    public let createdAt: Date
}

/// Creates a tenant inside the caller's transaction: NOLOGIN role, schema, tables at the current
/// migration version, forced RLS, grants, registry row, configuration from the template and the
/// credit union's own ledger accounts. PostgreSQL DDL is transactional, so a failure at any step
/// leaves no role, schema or row behind.
public struct Provisioner: Sendable {
    let migrator: Migrator
    let poolGroups: Int
    /// Called after each step; tests throw from it to prove a failure anywhere leaves nothing.
    let afterStep: @Sendable (ProvisioningStep) throws -> Void

    /// The credit union's own accounts, one set per ledger currency.
    public static let systemAccountKinds = [
        "cash", "fee_income", "fx_spread_income", "remittance_clearing", "tontine_pool", "loans_receivable", "partner_settlement",
    ]

    public init(migrator: Migrator, poolGroups: Int, afterStep: @escaping @Sendable (ProvisioningStep) throws -> Void = { _ in }) {
        precondition(poolGroups >= 1, "at least one pool group")
        self.migrator = migrator
        self.poolGroups = poolGroups
        self.afterStep = afterStep
    }

    public func provision(
        id: UUID, slug: TenantSlug, name: String, template: TenantTemplate, actor: AuditActor? = nil, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> TenantRecord {
        try await refuseTakenSlug(slug, on: connection, logger: logger)
        // Role, schema, tables, policies and grants are one statement (one round trip); identifiers come
        // from a validated TenantSlug only. The failure hooks still run in step order after it.
        let prelude = ["CREATE ROLE \(slug.roleName) NOLOGIN", "CREATE SCHEMA \(slug.schemaName) AUTHORIZATION nzila_owner"]
        try await migrator.migrateTenantSchema(connection, slug: slug, tenantID: id, fromVersion: 0, prelude: prelude) { step in
            switch step {
            case .tables:
                try afterStep(.role)
                try afterStep(.schema)
                try afterStep(.tables)
            case .policies: try afterStep(.policies)
            case .grants: try afterStep(.grants)
            }
        }
        let record = try await insertRegistryConfigAndAccounts(
            id: id, slug: slug, name: name, template: template, actor: actor, on: connection, logger: logger)
        try afterStep(.registry)
        try afterStep(.config)
        try afterStep(.ledgerAccounts)
        return record
    }

    /// A slug is taken if the registry has it, or if a role or schema of that name exists anyway.
    func refuseTakenSlug(_ slug: TenantSlug, on connection: PostgresConnection, logger: Logger) async throws {
        // The lock, taken in the FROM clause so it is held before the checks run, serialises two
        // provisionings of one slug under different Idempotency-Keys.
        let taken = try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM control.tenants WHERE slug = \(slug.value))
                OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(slug.roleName))
                OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = \(slug.schemaName))
            FROM (SELECT pg_advisory_xact_lock(hashtext('nzila.tenant.' || \(slug.value)))) AS serialised
            """, logger: logger
        ).first(Bool.self) ?? true
        if taken { throw Problem.conflict("tenant-exists", "A tenant with slug \(slug.value) already exists.") }
    }

    /// One statement writes the registry row, the configuration (the tenant's own rows and version 1
    /// in `control`), the credit union's ledger accounts and the audit entry, so these steps cost one
    /// round trip.
    /// The pool group is the least-loaded one, which keeps each PgBouncer pool's set of tenants (and
    /// so each backend's relation cache) small; see research/tenant-scale.md.
    func insertRegistryConfigAndAccounts(
        id: UUID, slug: TenantSlug, name: String, template: TenantTemplate, actor: AuditActor?, on connection: PostgresConnection, logger: Logger
    ) async throws -> TenantRecord {
        let version = migrator.catalog.latestTenantVersion
        var sections: [String: Any] = [:]
        for (key, data) in template.sections { sections[key] = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) }
        let sectionsJSON = String(decoding: try JSONSerialization.data(withJSONObject: sections, options: [.sortedKeys]), as: UTF8.self)
        let combined = String(decoding: template.combinedJSON, as: UTF8.self)
        let currencies = template.ledgerCurrencies.map(\.code)
        let row = try await connection.query(
            """
            WITH registry AS (
                INSERT INTO control.tenants (id, slug, name, template, schema_name, role_name, pool_group, schema_version, enabled_domains)
                SELECT \(id), \(slug.value), \(name), \(template.name), \(slug.schemaName), \(slug.roleName), g, \(version), \(template.domains)
                FROM generate_series(0, \(poolGroups - 1)) AS g
                ORDER BY (SELECT count(*) FROM control.tenants t WHERE t.pool_group = g), g LIMIT 1
                RETURNING pool_group, created_at),
            versions AS (
                INSERT INTO control.tenant_config_versions (tenant_id, version, config, created_by, author_role, reason)
                VALUES (\(id), 1, \(combined)::jsonb, \(actor?.id), 'platform_admin', \("Provisioned from template \(template.name)"))),
            config AS (
                INSERT INTO tenant_config (key, value) SELECT key, value FROM jsonb_each(\(sectionsJSON)::jsonb)),
            ledger AS (
                INSERT INTO accounts (id, kind, currency, floor_minor, name)
                SELECT gen_random_uuid(), kind, currency, NULL, initcap(replace(kind, '_', ' ')) || ' ' || currency
                FROM unnest(\(Provisioner.systemAccountKinds)::text[]) AS kind CROSS JOIN unnest(\(currencies)::text[]) AS currency),
            audit AS (
                INSERT INTO control.audit_log (actor, actor_role, tenant_id, request_id, action, target, detail)
                VALUES (\(actor?.id), \(actor?.role.rawValue), \(id), \(actor?.requestID), 'tenant.create', 'tenant:' || \(slug.value),
                        jsonb_build_object('after', jsonb_build_object('slug', \(slug.value)::text, 'name', \(name)::text, 'template', \(template.name)::text))))
            SELECT pool_group, created_at FROM registry
            """, logger: logger
        ).first((Int, Date).self)
        guard let (group, createdAt) = row else { throw Problem.internalError }
        return TenantRecord(
            id: id.lowercased, slug: slug.value, name: name, status: "active", template: template.name, schemaVersion: version,
            poolGroup: group, createdAt: createdAt)
    }
}
