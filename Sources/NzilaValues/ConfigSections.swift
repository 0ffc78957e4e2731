import Foundation

/// A section of a tenant's configuration (`tenant_config`, one row per section) as the planes read
/// it: the JSON the control plane validated, decoded into a type (snake_case keys), never read by
/// string keys. Unknown keys are ignored, so a newer control plane may add one before every plane
/// reads it. The control plane also decodes every section it accepts with these same types, so a
/// configuration the data plane cannot read is refused when it is written, not when it is used.
public protocol ConfigSection: Decodable, Sendable {
    /// The section's name: its key in the configuration document and in `tenant_config`.
    static var key: String { get }
}

extension ConfigSection {
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

/// `fees`: the FX spread and the remittance fee lines (Remittance quotes with them; the Ledger's
/// conversions take the spread).
public struct FeesSection: ConfigSection, Equatable {
    public static let key = "fees"
    public let fxSpreadBps: Int
    public let corridors: [Line]

    /// A corridor and payout method the credit union offers, with one band or bands by send amount.
    public struct Line: Decodable, Sendable, Equatable {
        public let corridor: String
        public let method: String
        public let fixedMinor: Int64?
        public let bps: Int?
        public let minMinor: Int64?
        public let maxMinor: Int64?
        public let bands: [Band]?
    }

    public struct Band: Decodable, Sendable, Equatable {
        public let fromMinor: Int64
        public let fixedMinor: Int64
        public let bps: Int
        public let minMinor: Int64
        public let maxMinor: Int64
    }

    public func line(corridor: String, method: String) -> Line? {
        corridors.first { $0.corridor == corridor && $0.method == method }
    }
}

/// `kyc_limits`: each tier's rolling send limits in CAD minor units (null: the platform maximum).
public struct KYCLimitsSection: ConfigSection, Equatable {
    public static let key = "kyc_limits"
    public let currency: String
    /// By tier, "1" to "4".
    public let tiers: [String: Tier]

    public struct Tier: Decodable, Sendable, Equatable {
        public let monthlySendMinor: Int64?
        public let dailySendMinor: Int64?
    }
}

/// `compliance` (optional): screening thresholds and AML rule thresholds, never looser than the platform's.
public struct ComplianceSection: ConfigSection, Equatable {
    public static let key = "compliance"
    public let screening: Screening?
    public let aml: AML?

    public struct Screening: Decodable, Sendable, Equatable {
        public let reviewBps: Int
        public let blockBps: Int
    }

    public struct AML: Decodable, Sendable, Equatable {
        public let maxTransfersPerHour: Int?
        public let largeTransferMinor: Int64?
        public let newDeviceMinor: Int64?
        public let structuringThresholdMinor: Int64?
    }
}

/// `rate_limits` (optional): a tenant's lower request rates (the platform's are the ceiling).
public struct RateLimitsSection: ConfigSection, Equatable {
    public static let key = "rate_limits"
    public let tenantPerSecond: Int?
    public let tenantBurst: Int?
    public let memberPerSecond: Int?
    public let memberBurst: Int?
    public let addressPerSecond: Int?
    public let addressBurst: Int?
}

/// Every section a plane reads, for the control plane to check a document against.
public let readableConfigSections: [any ConfigSection.Type] = [FeesSection.self, KYCLimitsSection.self, ComplianceSection.self, RateLimitsSection.self]
