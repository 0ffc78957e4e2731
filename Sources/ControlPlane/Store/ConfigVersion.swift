import Foundation
import NzilaCore

/// The tenant a configuration route names, as the registry holds it.
struct ConfigTenant: Sendable {
    let id: UUID
    let slug: TenantSlug
    let status: String
}

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
