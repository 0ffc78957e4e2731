import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// One version of a tenant's configuration, without the document itself.
struct ConfigVersionSummary: Codable, Sendable {
    let version: Int
    let createdAt: Date
    let createdBy: String?
    let authorRole: String?
    let reason: String
    let rolledBackFrom: Int?
}

/// A whole version: its summary and the document (an arbitrary JSON object, kept as its bytes).
struct ConfigVersion: Sendable {
    let summary: ConfigVersionSummary
    let config: Data

    var document: Any { (try? JSONSerialization.jsonObject(with: config)) ?? [:] }

    /// `{tenant, version, …, config}` as the API shows it.
    func body(tenant slug: String) throws -> Data {
        guard var object = try JSONSerialization.jsonObject(with: try JSONEncoder.api.encode(summary)) as? [String: Any] else { return Data() }
        object["tenant"] = slug
        object["config"] = document
        return try TenantConfig.data(object)
    }

    /// The strong validator of this version.
    var etag: String { "\"\(summary.version)\"" }
}

extension HTTPField.Name {
    static let ifMatch = HTTPField.Name("If-Match")!
    static let eTag = HTTPField.Name("ETag")!
}

/// `GET/PUT /v1/tenants/{slug}/config`, its versions, diff and rollback. Every change is a new
/// immutable version (author, role, time, reason), written with the registry's enabled domains and
/// the tenant schema's own `tenant_config` rows in one transaction, so the data plane reads the new
/// values at once (and hears of the domains through the registry's change feed). Writes need
/// `If-Match` with the current version (API.md: 428 without, 412 when stale).
extension ControlPlane {
    struct ConfigTenant: Sendable {
        let id: UUID
        let slug: TenantSlug
        let status: String
    }

    func addConfigRoutes(_ routes: ControlRoutes) {
        routes.route(.get, "/v1/tenants/{slug}/config", "The tenant's current configuration, with its ETag", access: .staff(.readConfig), answer: ConfigVersionAnswer.self, use: { _, context in
            let tenant = try await self.configTenant(context, writing: false)
            let current = try await self.configVersion(of: tenant.id, number: nil)
            return Response.jsonData(try current.body(tenant: tenant.slug.value), headers: [.eTag: current.etag])
        })
        routes.route(.put, "/v1/tenants/{slug}/config", "Replace the configuration (If-Match and a reason required)", access: .staff(.writeConfig), body: ConfigBody.self, answer: ConfigVersionAnswer.self, use: { request, context in
            let principal = context.principal
            let tenant = try await self.configTenant(context, writing: true)
            let expected = try Self.ifMatch(request)
            let (document, reason) = try Self.configBody(try await request.jsonBody())
            let written = try await self.writeConfig(tenant, expected: expected, document: document, reason: reason, actor: AuditActor(principal, request: request), rolledBackFrom: nil)
            return Response.jsonData(try written.body(tenant: tenant.slug.value), headers: [.eTag: written.etag])
        })
        routes.route(.get, "/v1/tenants/{slug}/config/versions", "Every configuration version, newest first", access: .staff(.readConfig), answer: Page<ConfigVersionSummary>.self, use: { request, context in
            let tenant = try await self.configTenant(context, writing: false)
            let page = try PageRequest(query: request.queryDictionary)
            let rows = try await self.client.statement(
                """
                SELECT \(unescaped: Self.versionColumns) FROM control.tenant_config_versions
                WHERE tenant_id = \(tenant.id) AND version < \(page.after?.position ?? Int64(Int32.max)) ORDER BY version DESC LIMIT \(page.limit + 1)
                """, logger: self.logger
            ) { try await $0.all(VersionRow.self) }
            return try Response.json(
                page.page(of: rows, item: { Self.version(from: $0).summary }, cursor: { PageCursor(position: Int64($0.0), id: tenant.id) }))
        })
        routes.route(.get, "/v1/tenants/{slug}/config/versions/{version}", "One configuration version", access: .staff(.readConfig), answer: ConfigVersionAnswer.self, use: { _, context in
            let tenant = try await self.configTenant(context, writing: false)
            guard let number = context.parameters.get("version").flatMap(Int.init), number > 0 else { throw Problem.notFound("Configuration version") }
            return Response.jsonData(try await self.configVersion(of: tenant.id, number: number).body(tenant: tenant.slug.value))
        })
        routes.route(.get, "/v1/tenants/{slug}/config/diff", "What changed between two versions (?from=&to=)", access: .staff(.readConfig), answer: ConfigDiff.self, use: { request, context in
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
        routes.route(.post, "/v1/tenants/{slug}/config/rollback", "A new version equal to an older one (If-Match and a reason required)", access: .staff(.writeConfig), body: RollbackBody.self, answer: ConfigVersionAnswer.self, use: { request, context in
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
            let written = try await self.writeConfig(
                tenant, expected: expected, document: target.document, reason: reason, actor: AuditActor(principal, request: request),
                rolledBackFrom: body.version, always: true)
            return Response.jsonData(try written.body(tenant: tenant.slug.value), headers: [.eTag: written.etag])
        })
    }

    struct RollbackBody: StrictBody {
        static let fields: Set<String> = ["version", "reason"]
        let version: Int
        let reason: String
    }

    /// The body `PUT …/config` reads (`configBody` parses it by hand, so the document stays as it
    /// was sent); it documents the route.
    struct ConfigBody: Decodable, Sendable {
        /// The whole configuration document (a JSON object `TenantConfig.problems` checks).
        let config: JSONValue
        let reason: String
    }

    /// A version as `ConfigVersion.body(tenant:)` writes it: the summary's keys (absent when nil),
    /// the tenant and the document. It documents the routes.
    struct ConfigVersionAnswer: Decodable, Sendable {
        let version: Int
        let createdAt: Date
        let createdBy: String?
        let authorRole: String?
        let reason: String
        let rolledBackFrom: Int?
        let tenant: String
        let config: JSONValue
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

    static let versionColumns = "version, created_at, created_by, author_role, reason, rolled_back_from, config::text"
    typealias VersionRow = (Int, Date, UUID?, String?, String, Int?, String)

    static func version(from row: VersionRow) -> ConfigVersion {
        ConfigVersion(
            summary: ConfigVersionSummary(
                version: row.0, createdAt: row.1, createdBy: row.2?.lowercased, authorRole: row.3, reason: row.4, rolledBackFrom: row.5),
            config: Data(row.6.utf8))
    }

    /// The tenant a configuration route names, if the caller may use it: platform admins any; a
    /// tenant's staff read their own, and only its tenant admins write. Others' tenants look missing.
    func configTenant(_ context: StaffRequestContext, writing: Bool) async throws -> ConfigTenant {
        let slug = try TenantRoutesInput.slug(context)
        guard
            let row = try await client.statement("SELECT id, status FROM control.tenants WHERE slug = \(slug.value)", logger: logger, {
                try await $0.first((UUID, String).self)
            })
        else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
        return ConfigTenant(id: row.0, slug: slug, status: row.1)
    }

    /// The current version (`number` nil) or the numbered one; 404 when there is none.
    func configVersion(of tenant: UUID, number: Int?) async throws -> ConfigVersion {
        let row = try await client.statement(
            """
            SELECT \(unescaped: Self.versionColumns) FROM control.tenant_config_versions
            WHERE tenant_id = \(tenant) AND (\(number == nil) OR version = \(number ?? 0)) ORDER BY version DESC LIMIT 1
            """, logger: logger
        ) { try await $0.first(VersionRow.self) }
        guard let row else { throw Problem.notFound("Configuration version \(number.map(String.init) ?? "current")") }
        return Self.version(from: row)
    }

    /// The version `If-Match` names: 428 without one, `*` for any.
    static func ifMatch(_ request: Request) throws -> Int? {
        guard let raw = request.headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            throw Problem(
                .preconditionRequired, "precondition-required", "If-Match required",
                detail: "Send If-Match with the ETag of the configuration you edited (GET …/config).")
        }
        if raw == "*" { return nil }
        let tag = raw.hasPrefix("W/") ? String(raw.dropFirst(2)) : raw
        guard tag.count > 2, tag.first == "\"", tag.last == "\"", let version = Int(tag.dropFirst().dropLast()) else {
            throw Problem.badRequest("invalid-if-match", "If-Match must be the ETag of a configuration version, such as \"3\".")
        }
        return version
    }

    static func reason(_ raw: String, into errors: inout [FieldError]) -> String? {
        let reason = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(reason.count) else {
            errors.append(FieldError(field: "reason", message: "must be 1 to 500 characters"))
            return nil
        }
        return reason
    }

    /// `{config, reason}`, strictly: unknown fields refused, every bad configuration field named.
    static func configBody(_ data: Data) throws -> (Any, String) {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw Problem.badRequest("malformed-json", "The body is not a JSON object.")
        }
        var errors: [FieldError] = []
        for key in object.keys.sorted() where !["config", "reason"].contains(key) {
            errors.append(FieldError(field: key, message: "is not a known field"))
        }
        let reason = (object["reason"] as? String).flatMap { Self.reason($0, into: &errors) }
        if object["reason"] as? String == nil { errors.append(FieldError(field: "reason", message: "is required")) }
        if let document = object["config"] {
            errors += TenantConfig.problems(document).map { FieldError(field: "config.\($0.field)", message: $0.message) }
        } else {
            errors.append(FieldError(field: "config", message: "is required"))
        }
        guard errors.isEmpty, let document = object["config"], let reason else { throw Problem.validation(errors) }
        return (document, reason)
    }

    /// Writes a new version if `expected` is still current, in one transaction under the registry
    /// row's lock: the version, the registry's enabled domains, the tenant schema's `tenant_config`
    /// rows and an audit entry with what changed. A document equal to the current one changes
    /// nothing (unless `always`, for a rollback).
    func writeConfig(
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
            guard status != "offboarded" else { throw invalidTransition("The tenant is offboarded; its configuration is frozen.") }
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

    func invalidTransition(_ detail: String) -> Problem {
        Problem(.conflict, "invalid-transition", "Invalid transition", detail: detail)
    }
}
