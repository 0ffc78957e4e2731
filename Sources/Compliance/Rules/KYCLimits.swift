import Foundation
import NzilaValues

/// A tier's send limits in CAD minor units (nil: none), from the tenant's `kyc_limits`
/// configuration (validated by the control plane never to pass the platform maxima), else the
/// platform maxima of DOMAIN.md.
public struct KYCLimits: Sendable, Equatable {
    public let monthlyMinor: Int64?
    public let dailyMinor: Int64?

    public init(monthlyMinor: Int64?, dailyMinor: Int64?) {
        self.monthlyMinor = monthlyMinor
        self.dailyMinor = dailyMinor
    }

    /// DOMAIN.md's maxima (`KYCTierMaxima`), with no daily limit.
    public static func platformMaximum(tier: Int) -> KYCLimits {
        KYCLimits(monthlyMinor: KYCTierMaxima.monthlySendMinor(tier: tier), dailyMinor: nil)
    }

    /// From the `kyc_limits` section; whatever it does not say is the platform maximum, and a value
    /// above the maximum (never accepted by the control plane) is clamped to it.
    public static func from(_ section: KYCLimitsSection?, tier: Int) -> KYCLimits {
        let maximum = platformMaximum(tier: tier)
        guard let line = section?.tiers[String(tier)] else { return maximum }
        func value(_ number: Int64?, cap: Int64?) -> Int64? {
            guard let number else { return cap }
            return cap.map { min($0, number) } ?? number
        }
        return KYCLimits(monthlyMinor: value(line.monthlySendMinor, cap: maximum.monthlyMinor), dailyMinor: value(line.dailySendMinor, cap: nil))
    }
}
