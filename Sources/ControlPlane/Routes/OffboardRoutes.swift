import Foundation
import Hummingbird
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension ControlPlane {
    /// What `POST /v1/tenants/{slug}/offboard` answers.
    struct OffboardAnswer: Codable, Sendable {
        struct Export: Codable, Sendable {
            let path: String
            let manifestSha256: String
            let tables: Int
            let rows: Int
        }
        let tenant: String
        let status: String
        let previousStatus: String
        let export: Export
    }

    func addOffboardRoutes(_ routes: ControlRoutes) {
        routes.route(.post, "/v1/tenants/{slug}/offboard", "Offboard a tenant: refuse it on the data plane, then export everything it has (platform admins)", access: .staff(.manageTenants), body: ReasonBody.self, answer: OffboardAnswer.self, use: { request, context in
                let principal = context.principal
                let slug = try TenantRoutesInput.slug(context)
                let body = try await request.decodeStrict(ReasonBody.self)
                let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
                guard (1...500).contains(reason.count) else { throw Problem.validation(field: "reason", "must be 1 to 500 characters") }
                return Response.jsonData(try await self.offboard(slug, reason: reason, actor: AuditActor(principal, request: request)))
            })
    }

    /// Marks the tenant offboarded (the data plane refuses it from the change feed on), then exports
    /// it and records the export. A tenant offboarded earlier whose export failed can be offboarded
    /// again to retry the export; one with an export is final.
    func offboard(_ slug: TenantSlug, reason: String, actor: AuditActor) async throws -> Data {
        let (id, before) = try await offboardStore.markOffboarded(slug, reason: reason, actor: actor)
        let (archive, manifest, manifestHash) = try await TenantArchive.export(
            tenant: id, slug: slug, tables: provisioner.migrator.catalog.tenantTables, into: settings.exportDirectory, client: client, logger: logger)
        let rows = manifest.tables.reduce(0) { $0 + $1.rows }
        try await offboardStore.recordExport(
            tenant: id, slug: slug, archive: archive, manifest: manifest, manifestHash: manifestHash, rows: rows, actor: actor)
        return try JSONEncoder.api.encode(OffboardAnswer(
            tenant: slug.value, status: TenantStatus.offboarded.rawValue, previousStatus: before,
            export: .init(path: archive.folder.path, manifestSha256: manifestHash, tables: manifest.tables.count, rows: rows)))
    }
}
