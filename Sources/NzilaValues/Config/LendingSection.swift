import Foundation

/// `lending`: the credit union's lending policy (issue 19). Optional; without it the defaults hold.
///
/// ```json
/// {"approve_at": 640, "decline_below": 560, "rate_cap_bps": 3000}
/// ```
///
/// - `approve_at`, `decline_below`: the scorecard's cut-offs (300–900). A score at or above
///   `approve_at` is approved, below `decline_below` declined, and referred to staff between.
/// - `rate_cap_bps`: the credit union's own cap on the cost of credit (APR, interest and every fee),
///   in basis points. It may only be lower than the platform's (the Criminal Code's 35.00%, 3,500):
///   a higher one is refused here, and the lower of the two always applies.
public struct LendingSection: ConfigSection, Equatable {
    public static let key = "lending"

    public let approveAt: Int?
    public let declineBelow: Int?
    public let rateCapBps: Int?

    public init(approveAt: Int?, declineBelow: Int?, rateCapBps: Int?) {
        self.approveAt = approveAt
        self.declineBelow = declineBelow
        self.rateCapBps = rateCapBps
    }

    /// The defaults: approve from 640 (about 60:1 odds), decline below 560 (about 17:1), no own cap.
    public static let none = LendingSection(approveAt: nil, declineBelow: nil, rateCapBps: nil)
    public static let defaultApproveAt = 640
    public static let defaultDeclineBelow = 560
    /// The Criminal Code's cap (s. 347, since 2025-01-01): 35% APR, every fee and charge included.
    public static let legalCapBps = 3_500

    public var approveCutoff: Int { approveAt ?? Self.defaultApproveAt }
    public var declineCutoff: Int { declineBelow ?? min(Self.defaultDeclineBelow, approveCutoff) }

    /// The cap that applies: the lowest of the law's, the platform's and the credit union's.
    public func capBps(platform: Int) -> Int {
        min(Self.legalCapBps, platform, rateCapBps ?? Self.legalCapBps)
    }

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let section = check.object(value, at: path, required: [], optional: ["approve_at", "decline_below", "rate_cap_bps"]) else { return }
        let approve = ConfigChecker.present(section["approve_at"]).flatMap { check.integer($0, at: "\(path).approve_at", in: 300...900) }
        let decline = ConfigChecker.present(section["decline_below"]).flatMap { check.integer($0, at: "\(path).decline_below", in: 300...900) }
        // Without decline_below, the default follows a lower approve_at down (declineCutoff).
        let effectiveDecline = decline ?? min(Int64(defaultDeclineBelow), approve ?? Int64(defaultApproveAt))
        if let approve = approve ?? (decline != nil ? Int64(defaultApproveAt) : nil), effectiveDecline > approve {
            check.fail("\(path).decline_below", "must be at most approve_at (\(approve)); scores between the two are referred to staff")
        }
        if let cap = ConfigChecker.present(section["rate_cap_bps"]) {
            check.integer(cap, at: "\(path).rate_cap_bps", in: 0...Int64(legalCapBps))
        }
    }
}
