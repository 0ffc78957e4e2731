import Foundation

/// `kyc_limits`: each tier's rolling send limits in CAD minor units (null: the platform maximum).
public struct KYCLimitsSection: ConfigSection, Equatable {
    public static let key = "kyc_limits"

    public static let isRequired = true

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let kyc = check.object(value, at: path, required: ["currency", "tiers"], optional: []) else { return }
        if kyc["currency"] as? String != "CAD" { check.fail("\(path).currency", "must be CAD, the currency of the platform maxima") }
        if let tiers = check.object(kyc["tiers"], at: "\(path).tiers", required: ["1", "2", "3", "4"], optional: []) {
            for tier in ["1", "2", "3", "4"] { checkTier(tiers[tier], tier: tier, at: "\(path).tiers.\(tier)", into: &check) }
        }
    }
    public let currency: String
    /// By tier, "1" to "4".
    public let tiers: [String: Tier]

    public struct Tier: Decodable, Sendable, Equatable {
        public let monthlySendMinor: Int64?
        public let dailySendMinor: Int64?
    }

    /// A tier's rolling 30-day and 24-hour send limits: never above the platform maximum (a tenant may
    /// be stricter, never looser), the daily one never above the monthly one; null is unlimited only
    /// where the platform allows it (the daily limit may always be null: no daily limit).
    static func checkTier(_ value: Any?, tier: String, at path: String, into check: inout ConfigChecker) {
        guard let limits = check.object(value, at: path, required: ["monthly_send_minor", "daily_send_minor"], optional: []) else { return }
        let maximum = Int(tier).flatMap(KYCTierMaxima.monthlySendMinor(tier:))
        var monthly: Int64?
        if limits["monthly_send_minor"] is NSNull {
            if let maximum { check.fail("\(path).monthly_send_minor", "must be at most the platform maximum \(maximum), not unlimited") }
        } else {
            monthly = check.integer(limits["monthly_send_minor"], at: "\(path).monthly_send_minor", in: 0...(maximum ?? Int64.max))
        }
        if !(limits["daily_send_minor"] is NSNull),
            let daily = check.integer(limits["daily_send_minor"], at: "\(path).daily_send_minor", in: 0...(maximum ?? Int64.max)),
            let monthly, daily > monthly
        {
            check.fail("\(path).daily_send_minor", "must be at most the tier's monthly limit")
        }
    }
}
