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
    public let id: TenantID
    public let slug: String
    public let name: String
    public let status: TenantStatus
    public let template: String
    public let schemaVersion: Int
    public let poolGroup: Int
    public let createdAt: Date
}

/// Creates a tenant inside the caller's transaction: NOLOGIN role, schema, tables at the current
/// migration version, forced RLS, grants, registry row, configuration from the template and the
/// credit union's own ledger accounts. The schema is a warm one claimed from the pool when there is
/// one (`WarmPool.claim`), else built. PostgreSQL DDL is transactional, so a failure at any step
/// leaves no role, schema or row behind, and a claimed schema goes back to the pool as it was.
public struct Provisioner: Sendable {
    let migrator: Migrator
    let poolGroups: Int
    /// Whether provisioning takes a warm schema when the pool has one (the control plane does;
    /// tests that count pool schemas exactly turn it off elsewhere).
    let claimWarmSchemas: Bool
    /// Called after each step; tests throw from it to prove a failure anywhere leaves nothing.
    let afterStep: @Sendable (ProvisioningStep) throws -> Void

    /// The credit union's own accounts, one set per ledger currency.
    public static let systemAccountKinds = [
        "cash", "fee_income", "fx_spread_income", "remittance_clearing", "tontine_guarantee", "tontine_arrears", "loans_receivable", "partner_settlement",
    ]

    public init(
        migrator: Migrator, poolGroups: Int, claimWarmSchemas: Bool = true, afterStep: @escaping @Sendable (ProvisioningStep) throws -> Void = { _ in }
    ) {
        precondition(poolGroups >= 1, "at least one pool group")
        self.migrator = migrator
        self.poolGroups = poolGroups
        self.claimWarmSchemas = claimWarmSchemas
        self.afterStep = afterStep
    }

    public func provision(
        id: UUID, slug: TenantSlug, name: String, template: TenantTemplate, actor: AuditActor? = nil, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> TenantRecord {
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            Observability.record("nzila_provisioning_duration_seconds", seconds: elapsed.inSeconds)
        }
        try await enter(slug, on: connection, logger: logger)
        let tenantID: UUID
        if claimWarmSchemas, let claimed = try await WarmPool.claim(as: slug, catalog: migrator.catalog, on: connection, logger: logger) {
            // Role, schema, tables, policies and grants came with the warm schema.
            tenantID = claimed
            for step in [ProvisioningStep.role, .schema, .tables, .policies, .grants] { try afterStep(step) }
        } else {
            // Role, schema, tables, policies and grants are one statement (one round trip); identifiers come
            // from a validated TenantSlug only. The failure hooks still run in step order after it.
            tenantID = id
            let names = TenantSchemaNames(slug)
            try await migrator.migrateTenantSchema(connection, names: names, tenantID: id, fromVersion: 0, prelude: Migrator.creation(of: names)) { step in
                switch step {
                case .tables:
                    try afterStep(.role)
                    try afterStep(.schema)
                    try afterStep(.tables)
                case .policies: try afterStep(.policies)
                case .grants: try afterStep(.grants)
                }
            }
        }
        let record = try await insertRegistryConfigAndAccounts(
            id: tenantID, slug: slug, name: name, template: template, actor: actor, on: connection, logger: logger)
        try afterStep(.registry)
        try afterStep(.config)
        try afterStep(.ledgerAccounts)
        return record
    }

    /// Enters the provisioning barrier (see `ProvisioningBarrier`) and takes the slug's lock, then, in a
    /// second statement whose snapshot sees everything committed before those locks were granted,
    /// refuses a slug that is taken (in the registry, or as a role or schema anyway) and a database
    /// that expects newer tenant schemas than this build creates.
    func enter(_ slug: TenantSlug, on connection: PostgresConnection, logger: Logger) async throws {
        // The slug lock serialises two provisionings of one slug under different Idempotency-Keys.
        try await connection.query(
            "SELECT \(unescaped: ProvisioningBarrier.enterSQL), pg_advisory_xact_lock(hashtext('nzila.tenant.' || \(slug.value)))", logger: logger)
        let state = try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM control.tenants WHERE slug = \(slug.value))
                OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(slug.roleName))
                OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = \(slug.schemaName)),
                \(unescaped: ProvisioningBarrier.knownVersionSQL)
            """, logger: logger
        ).first((Bool, Int).self)
        guard let (taken, known) = state else { throw Problem.internalError }
        if taken { throw Problem.conflict("tenant-exists", "A tenant with slug \(slug.value) already exists.") }
        let shipped = migrator.catalog.latestTenantVersion
        guard known <= shipped else {
            throw Problem(
                .serviceUnavailable, "schema-version-ahead", "Provisioning unavailable on this server",
                detail: "\(ProvisioningBarrier.Behind(known: known, shipped: shipped).description); retry, a newer server will take it.",
                headers: [.retryAfter: "5"])
        }
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
            id: TenantID(id), slug: slug.value, name: name, status: .active, template: template.name, schemaVersion: version,
            poolGroup: group, createdAt: createdAt)
    }
}
