import Foundation

/// A section of a tenant's configuration (`tenant_config`, one row per section): its key, whether a
/// configuration must have it, the rules its JSON must meet and the type the planes read it as
/// (snake_case keys), never by string keys. One declaration serves both planes: the control plane
/// checks a document with `check` and then decodes each section with the same type the data plane
/// reads it with, so a configuration a plane could not read is refused when it is written, not when
/// a request meets it. Unknown keys are refused by `check` and ignored by decoding, so a newer
/// control plane may add one before every plane reads it.
public protocol ConfigSection: Decodable, Sendable {
    /// The section's name: its key in the configuration document and in `tenant_config`.
    static var key: String { get }
    /// Whether every configuration has it (else the platform's defaults apply without it).
    static var isRequired: Bool { get }
    /// Every rule `value` (the section's JSON, as `JSONSerialization` reads it) breaks, at `path`.
    static func check(_ value: Any, at path: String, into check: inout ConfigChecker)
}

extension ConfigSection {
    public static var isRequired: Bool { false }

    /// The section from its stored JSON; nil when absent. Throws when it does not have the type's
    /// shape (the control plane never lets such a section in).
    public static func decode(_ json: String?) throws -> Self? {
        guard let json else { return nil }
        return try decode(Data(json.utf8))
    }

    public static func decode(_ json: Data) throws -> Self {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Self.self, from: json)
    }
}

/// Every section a configuration may have, in the order a document is checked.
public enum ConfigSections {
    public static let all: [any ConfigSection.Type] = [
        BrandingSection.self, DomainsSection.self, FeesSection.self, KYCLimitsSection.self, ComplianceSection.self, RateLimitsSection.self, TontineSection.self, LendingSection.self,
        NotificationsSection.self, TradingSection.self, PayoutsSection.self, FundingSection.self, IdentitySection.self,
    ]
    public static var required: [String] { all.filter { $0.isRequired }.map { $0.key } }
    public static var optional: [String] { all.filter { !$0.isRequired }.map { $0.key } }
}
