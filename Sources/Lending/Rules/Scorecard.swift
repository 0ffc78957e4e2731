import Foundation
import NzilaValues

/// The credit score of an application: a documented points scorecard, pure and explained.
///
/// **Scaling.** 600 points stand for odds of 30 good to 1 bad, and every 50 points double the
/// odds: odds(score) = 30 × 2^((score − 600) / 50). Each attribute of each factor moves the odds by
/// a stated number of doublings d, worth exactly 50 × d points, so the score is 600 plus the
/// factors' points (integers, no logarithm computed), clamped to 300–900.
///
/// | factor | attribute → points |
/// | --- | --- |
/// | tenure with the credit union | < 3 months −50 · 3–11 −20 · 12–35 +15 · 36+ +40 |
/// | average balance, 90 days (CAD) | < 100 −40 · 100–999.99 −10 · 1,000–4,999.99 +15 · 5,000+ +35 |
/// | earlier loans | none 0 · all paid on time +50 · late up to 30 days −20 · ever 31+ days late or written off −100 |
/// | tontine on-time ratio | no record 0 · 95%+ +40 · 80–94.99% +10 · 50–79.99% −30 · < 50% −70 |
/// | KYC tier | 1 −20 · 2 0 · 3 +10 · 4 +20 |
///
/// The tenant's `lending` section sets the cut-offs: approve at or above one, decline below the
/// other, refer to staff between. Reasons (at most four) name the factors that moved the score most
/// in the decision's direction — for a decline or referral the ones that lowered it, so a decline
/// always says which factors — each with its attribute and points.
public enum Scorecard {
    public static let basePoints = 600
    public static let pointsToDouble = 50
    public static let range = 300...900

    /// What an earlier loan record says.
    public enum LoanHistory: String, Sendable, Codable, CaseIterable {
        case none
        case onTime = "on_time"
        case lateUpTo30 = "late_up_to_30"
        case seriouslyLate = "seriously_late"
    }

    public struct Inputs: Sendable, Equatable, Codable {
        public let tenureMonths: Int
        public let averageBalance90DaysMinor: Int64
        public let loanHistory: LoanHistory
        /// The tontine record's on-time ratio in basis points; nil without a record.
        public let tontineOnTimeBps: Int?
        public let kycTier: Int

        public init(tenureMonths: Int, averageBalance90DaysMinor: Int64, loanHistory: LoanHistory, tontineOnTimeBps: Int?, kycTier: Int) {
            self.tenureMonths = tenureMonths
            self.averageBalance90DaysMinor = averageBalance90DaysMinor
            self.loanHistory = loanHistory
            self.tontineOnTimeBps = tontineOnTimeBps
            self.kycTier = kycTier
        }
    }

    public enum Factor: String, Sendable, Codable, CaseIterable {
        case tenure, averageBalance = "average_balance", loanHistory = "loan_history", tontine = "tontine_on_time", kycTier = "kyc_tier"
    }

    /// One factor's contribution: its attribute in words and its points.
    public struct Line: Sendable, Equatable, Codable {
        public let factor: Factor
        public let attribute: String
        public let points: Int
    }

    public enum Decision: String, Sendable, Codable, CaseIterable {
        case approved, referred, declined
    }

    public struct Result: Sendable, Equatable, Codable {
        public let score: Int
        public let lines: [Line]
        public let decision: Decision
        /// At most four, most telling first.
        public let reasons: [Line]
    }

    /// Each factor's line for `inputs`.
    public static func lines(_ inputs: Inputs) -> [Line] {
        let tenure: (String, Int) = switch inputs.tenureMonths {
        case ..<3: ("under 3 months", -50)
        case 3...11: ("3 to 11 months", -20)
        case 12...35: ("12 to 35 months", 15)
        default: ("36 months or more", 40)
        }
        let balance: (String, Int) = switch inputs.averageBalance90DaysMinor {
        case ..<10_000: ("under 100 CAD", -40)
        case 10_000..<100_000: ("100 to 999.99 CAD", -10)
        case 100_000..<500_000: ("1,000 to 4,999.99 CAD", 15)
        default: ("5,000 CAD or more", 35)
        }
        let history: (String, Int) = switch inputs.loanHistory {
        case .none: ("no earlier loan", 0)
        case .onTime: ("every earlier loan paid on time", 50)
        case .lateUpTo30: ("an earlier loan up to 30 days late", -20)
        case .seriouslyLate: ("an earlier loan 31 or more days late, or written off", -100)
        }
        let tontine: (String, Int) = switch inputs.tontineOnTimeBps {
        case nil: ("no tontine record", 0)
        case let bps? where bps >= 9_500: ("95% or more of contributions on time", 40)
        case let bps? where bps >= 8_000: ("80% to 94.99% on time", 10)
        case let bps? where bps >= 5_000: ("50% to 79.99% on time", -30)
        default: ("under 50% on time", -70)
        }
        let kyc: (String, Int) = switch inputs.kycTier {
        case ...1: ("tier 1 (basic)", -20)
        case 2: ("tier 2 (standard)", 0)
        case 3: ("tier 3 (enhanced)", 10)
        default: ("tier 4 (premium)", 20)
        }
        return [
            Line(factor: .tenure, attribute: tenure.0, points: tenure.1), Line(factor: .averageBalance, attribute: balance.0, points: balance.1),
            Line(factor: .loanHistory, attribute: history.0, points: history.1), Line(factor: .tontine, attribute: tontine.0, points: tontine.1),
            Line(factor: .kycTier, attribute: kyc.0, points: kyc.1),
        ]
    }

    /// The score, the decision against the tenant's cut-offs and the reasons.
    public static func score(_ inputs: Inputs, approveAt: Int, declineBelow: Int) throws(RuleError) -> Result {
        guard range.contains(approveAt), range.contains(declineBelow), declineBelow <= approveAt else {
            throw RuleError.invalid(field: "lending.cutoffs", "must be within 300 to 900, the decline cut-off at most the approval one")
        }
        let lines = lines(inputs)
        let raw = basePoints + lines.reduce(0) { $0 + $1.points }
        let score = min(max(raw, range.lowerBound), range.upperBound)
        let decision: Decision = score >= approveAt ? .approved : score < declineBelow ? .declined : .referred
        // Stable order: by how far the line moved the score in the decision's direction, then by factor.
        let order = Factor.allCases
        func rank(_ a: Line, _ b: Line, up: Bool) -> Bool {
            a.points != b.points ? (up ? a.points > b.points : a.points < b.points) : order.firstIndex(of: a.factor)! < order.firstIndex(of: b.factor)!
        }
        var telling: [Line]
        if decision == .approved {
            telling = lines.filter { $0.points > 0 }.sorted { rank($0, $1, up: true) }
        } else {
            telling = lines.filter { $0.points < 0 }.sorted { rank($0, $1, up: false) }
            // A cut-off above the base can decline with nothing negative: the weakest factors say why.
            if telling.isEmpty { telling = lines.sorted { rank($0, $1, up: false) } }
        }
        return Result(score: score, lines: lines, decision: decision, reasons: Array(telling.prefix(4)))
    }
}
