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

/// A version as the configuration routes answer it: the summary's keys (absent when nil), the
/// tenant and the document, in one object.
struct ConfigVersionAnswer: Codable, Sendable {
    let summary: ConfigVersionSummary
    let tenant: String
    let config: JSONValue

    enum CodingKeys: String, CodingKey { case tenant, config }

    init(_ summary: ConfigVersionSummary, tenant: String, config: JSONValue) {
        self.summary = summary
        self.tenant = tenant
        self.config = config
    }

    init(from decoder: any Decoder) throws {
        summary = try ConfigVersionSummary(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tenant = try container.decode(String.self, forKey: .tenant)
        config = try container.decode(JSONValue.self, forKey: .config)
    }

    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tenant, forKey: .tenant)
        try container.encode(config, forKey: .config)
    }
}

/// A whole version: its summary and the document (an arbitrary JSON object, kept as its bytes).
struct ConfigVersion: Sendable {
    let summary: ConfigVersionSummary
    let config: Data

    var document: Any { (try? JSONSerialization.jsonObject(with: config)) ?? [:] }

    /// `{tenant, version, …, config}` as the API shows it (keys sorted).
    func body(tenant slug: String) throws -> Data {
        try JSONEncoder.api.encode(ConfigVersionAnswer(summary, tenant: slug, config: try JSONValue.parse(config)))
    }

    /// The strong validator of this version.
    var etag: String { "\"\(summary.version)\"" }
}
