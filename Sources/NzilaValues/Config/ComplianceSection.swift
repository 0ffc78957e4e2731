import Foundation

/// `compliance` (optional): screening thresholds and AML rule thresholds, never looser than the platform's.
public struct ComplianceSection: ConfigSection, Equatable {
    public static let key = "compliance"
    public let screening: Screening?
    public let aml: AML?
    public let risk: Risk?

    /// The customer risk rating's lists, added to the platform's (FATF's call-for-action countries, cash-intensive
    /// trades), and from what amount a high-risk member's remittance needs tier 4 (never above the platform's 1,000.00 CAD).
    public struct Risk: Decodable, Sendable, Equatable {
        public let highRiskCountries: [String]?
        public let highRiskOccupations: [String]?
        public let eddFromMinor: Int64?
    }

    public struct Screening: Decodable, Sendable, Equatable {
        public let reviewBps: Int
        public let blockBps: Int
    }

    public struct AML: Decodable, Sendable, Equatable {
        public let maxTransfersPerHour: Int?
        public let largeTransferMinor: Int64?
        public let newDeviceMinor: Int64?
        public let structuringThresholdMinor: Int64?
        /// The fraud model's probability, in basis points, from which a transfer is held for review.
        public let fraudHoldBps: Int?
    }

    /// Screening thresholds (basis points of the match score) and AML rule thresholds: a tenant may be
    /// stricter than the platform (review sooner, hold smaller or fewer transfers), never looser.
    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let compliance = check.object(value, at: path, required: [], optional: ["screening", "aml", "risk"]) else { return }
        if let risk = ConfigChecker.present(compliance["risk"]),
            let object = check.object(risk, at: "\(path).risk", required: [], optional: ["high_risk_countries", "high_risk_occupations", "edd_from_minor"])
        {
            for (key, pattern, what) in [
                ("high_risk_countries", #"^[A-Z]{2}$"#, "ISO 3166 alpha-2 country codes"),
                ("high_risk_occupations", #"^[a-z][a-z_]{1,39}$"#, "occupation codes (lower-case letters and underscores)"),
            ] where object[key] != nil {
                guard let list = object[key] as? [Any], list.count <= 250,
                    list.allSatisfy({ ($0 as? String)?.range(of: pattern, options: .regularExpression) != nil })
                else {
                    check.fail("\(path).risk.\(key)", "must be a list of at most 250 \(what)")
                    continue
                }
            }
            if object["edd_from_minor"] != nil { check.integer(object["edd_from_minor"], at: "\(path).risk.edd_from_minor", in: 1...100_000) }
        }
        if let screening = ConfigChecker.present(compliance["screening"]),
            let object = check.object(screening, at: "\(path).screening", required: ["review_bps", "block_bps"], optional: [])
        {
            if let review = check.integer(object["review_bps"], at: "\(path).screening.review_bps", in: 7_000...9_000) {
                check.integer(object["block_bps"], at: "\(path).screening.block_bps", in: (review + 1)...9_900)
            }
        }
        if let aml = ConfigChecker.present(compliance["aml"]),
            let object = check.object(
                aml, at: "\(path).aml", required: [],
                optional: ["max_transfers_per_hour", "large_transfer_minor", "new_device_minor", "structuring_threshold_minor", "fraud_hold_bps"])
        {
            for (key, maximum) in [("max_transfers_per_hour", Int64(5)), ("large_transfer_minor", 500_000), ("new_device_minor", 100_000),
                                   ("structuring_threshold_minor", 1_000_000)] where object[key] != nil {
                check.integer(object[key], at: "\(path).aml.\(key)", in: 1...maximum)
            }
            // The model scores every transfer; it holds one only from the probability a tenant sets, once it has
            // watched the scores (shadow mode until then).
            if object["fraud_hold_bps"] != nil { check.integer(object["fraud_hold_bps"], at: "\(path).aml.fraud_hold_bps", in: 1_000...9_900) }
        }
    }
}
