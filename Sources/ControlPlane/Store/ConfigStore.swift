import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The SQL of a tenant's configuration versions (`control.tenant_config_versions`) and the writes
/// that make one current.
struct ConfigStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let versionColumns = "version, created_at, created_by, author_role, reason, rolled_back_from, config::text"
    typealias VersionRow = (Int, Date, UUID?, String?, String, Int?, String)

    static func version(from row: VersionRow) -> ConfigVersion {
        ConfigVersion(
            summary: ConfigVersionSummary(
                version: row.0, createdAt: row.1, createdBy: row.2?.lowercased, authorRole: row.3, reason: row.4, rolledBackFrom: row.5),
            config: Data(row.6.utf8))
    }

    /// The current version (`number` nil) or the numbered one; nil when there is none.
    func version(of tenant: UUID, number: Int?) async throws -> ConfigVersion? {
        let row = try await client.statement(
            """
            SELECT \(unescaped: Self.versionColumns) FROM control.tenant_config_versions
            WHERE tenant_id = \(tenant) AND (\(number == nil) OR version = \(number ?? 0)) ORDER BY version DESC LIMIT 1
            """, logger: logger
        ) { try await $0.first(VersionRow.self) }
        return row.map { Self.version(from: $0) }
    }

    /// A page of the tenant's versions, newest first.
    func versions(of tenant: ConfigTenant, page: PageRequest) async throws -> Page<ConfigVersionSummary> {
        let rows = try await self.client.statement(
            """
            SELECT \(unescaped: Self.versionColumns) FROM control.tenant_config_versions
            WHERE tenant_id = \(tenant.id) AND version < \(page.after?.position ?? Int64(Int32.max)) ORDER BY version DESC LIMIT \(page.limit + 1)
            """, logger: self.logger
        ) { try await $0.all(VersionRow.self) }
        return page.page(of: rows, item: { Self.version(from: $0).summary }, cursor: { PageCursor(position: Int64($0.0), id: tenant.id) })
    }

    /// The partner names a document's `payouts` routes give, with their paths.
    static func partnerNames(_ document: Any) -> [(path: String, name: String, kinds: Set<String>)] {
        let object = document as? [String: Any]
        var names: [(path: String, name: String, kinds: Set<String>)] = []
        let routes = (object?[PayoutsSection.key] as? [String: Any])?["routes"] as? [Any] ?? []
        for (r, route) in routes.enumerated() {
            for (p, partner) in (((route as? [String: Any])?["partners"] as? [Any]) ?? []).enumerated() {
                if let name = partner as? String { names.append(("config.payouts.routes[\(r)].partners[\(p)]", name, ["transfers", "quotations"])) }
            }
        }
        for (way, name) in (object?[FundingSection.key] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let name = name as? String, let kind = FundingSection.kinds[way] { names.append(("config.funding.\(way)", name, [kind])) }
        }
        if let name = (object?[IdentitySection.key] as? [String: Any])?["connection"] as? String {
            names.append(("config.identity.connection", name, ["identity"]))
        }
        return names
    }

    /// Writes a new version if `expected` is still current, in one transaction under the registry
    /// row's lock: the version, the registry's enabled domains, the tenant schema's `tenant_config`
    /// rows and an audit entry with what changed. A document equal to the current one changes
    /// nothing (unless `always`, for a rollback).
    func write(
        _ tenant: ConfigTenant, expected: Int?, document: Any, reason: String, actor: AuditActor, rolledBackFrom: Int?, always: Bool = false
    ) async throws -> ConfigVersion {
        let config = String(decoding: try TenantConfig.data(document), as: UTF8.self)
        return try await client.withTransaction(logger: logger) { connection in
            guard
                let status = try await connection.query(
                    """
                    SELECT status FROM control.tenants, set_config('app.tenant_id', \(tenant.id.uuidString), true)
                    WHERE id = \(tenant.id) FOR UPDATE OF tenants
                    """, logger: logger
                ).first(String.self)
            else { throw Problem.tenantNotFound("Tenant \(tenant.slug.value) was not found.") }
            guard status != TenantStatus.offboarded.rawValue else { throw Problem.invalidTransition("The tenant is offboarded; its configuration is frozen.") }
            guard
                let currentRow = try await connection.query(
                    """
                    SELECT \(unescaped: Self.versionColumns) FROM control.tenant_config_versions
                    WHERE tenant_id = \(tenant.id) ORDER BY version DESC LIMIT 1
                    """, logger: logger
                ).first(VersionRow.self)
            else { throw Problem.notFound("Configuration of \(tenant.slug.value)") }
            let current = Self.version(from: currentRow)
            if let expected, expected != current.summary.version {
                throw Problem(
                    .preconditionFailed, "precondition-failed", "Configuration changed",
                    detail: "Version \(current.summary.version) is current, not \(expected); read it again and reapply your change.")
            }
            let changes = ConfigChange.between(current.document, document)
            if changes.isEmpty && !always { return current }
            // A payout partner the new version brings in must exist: a misspelt one would fail and refund every order of
            // its corridor. Names the current version has (at the same place) are not checked again, so a connection removed
            // from the registry later does not block an unrelated change.
            // A funding provider must be a connection of the kind its way to pay needs.
            let known = Set(Self.partnerNames(current.document).map { "\($0.path)=\($0.name)" })
            let introduced = Self.partnerNames(document).filter {
                !known.contains("\($0.path)=\($0.name)") && !($0.kinds.contains("transfers") && PayoutsSection.builtIn.contains($0.name))
            }
            if !introduced.isEmpty {
                var registered: [String: (kind: String, tenants: [String]?)] = [:]
                let rows = try await connection.query(
                    "SELECT name, kind, tenants FROM control.partner_connections WHERE name = ANY(\(introduced.map(\.name)))", logger: logger)
                for try await (name, kind, tenants) in rows.decode((String, String, [String]?).self) { registered[name] = (kind, tenants) }
                let wrong = introduced.compactMap { entry -> FieldError? in
                    guard let found = registered[entry.name] else {
                        return FieldError(field: entry.path, message: "names no partner connection (nzila partners list shows them)")
                    }
                    // Another credit union's own account (its card payments, its identity checks) is not this one's.
                    if let tenants = found.tenants, !tenants.contains(tenant.slug.value) {
                        return FieldError(field: entry.path, message: "names a partner connection this credit union may not use")
                    }
                    return entry.kinds.contains(found.kind)
                        ? nil : FieldError(field: entry.path, message: "names a \(found.kind) connection, not a \(entry.kinds.sorted().joined(separator: " or ")) one")
                }
                if !wrong.isEmpty { throw Problem.validation(wrong) }
            }
            let next = current.summary.version + 1
            let summary = changes.prefix(50).map { "\($0.path) \($0.kind.rawValue)" }
            let row = try await connection.query(
                """
                WITH version AS (
                    INSERT INTO control.tenant_config_versions (tenant_id, version, config, created_by, author_role, reason, rolled_back_from)
                    VALUES (\(tenant.id), \(next), \(config)::jsonb, \(actor.id), \(actor.role.rawValue), \(reason), \(rolledBackFrom))
                    RETURNING \(unescaped: Self.versionColumns)),
                registry AS (
                    UPDATE control.tenants SET updated_at = clock_timestamp(),
                        enabled_domains = ARRAY(SELECT jsonb_array_elements_text(\(config)::jsonb -> 'domains'))
                    WHERE id = \(tenant.id)),
                own AS (
                    INSERT INTO \(unescaped: tenant.slug.schemaName).tenant_config AS c (key, value, version)
                    SELECT n.key, n.value, \(next) FROM jsonb_each(\(config)::jsonb) AS n(key, value)
                    ON CONFLICT (tenant_id, key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, updated_at = clock_timestamp()),
                -- An optional section the new version leaves out goes (the platform defaults apply again).
                dropped AS (
                    DELETE FROM \(unescaped: tenant.slug.schemaName).tenant_config c
                    WHERE NOT (\(config)::jsonb ? c.key)),
                audit AS (
                    INSERT INTO control.audit_log (actor, actor_role, tenant_id, request_id, action, target, detail)
                    VALUES (\(actor.id), \(actor.role.rawValue), \(tenant.id), \(actor.requestID),
                            \(rolledBackFrom == nil ? "config.update" : "config.rollback"), \("tenant:\(tenant.slug.value)"),
                            jsonb_build_object('before', \(current.summary.version), 'after', \(next), 'reason', \(reason)::text,
                                               'rolled_back_from', \(rolledBackFrom)::int, 'changes', \(summary)::text[])))
                SELECT * FROM version
                """, logger: logger
            ).first(VersionRow.self)
            guard let row else { throw Problem.internalError }
            return Self.version(from: row)
        }
    }
}

extension ControlPlane {
    var configStore: ConfigStore { ConfigStore(client: client, logger: logger) }
}
