import Foundation
import NzilaValues

/// A member's AML risk rating (low / medium / high) from documented factors, with every reason kept (FINTRAC's
/// risk-based approach: the rating is explained to staff and to an examiner). Pure: the caller brings the factors.
///
/// Factors and their weight (points; 30 or more is medium, 60 or more is high):
/// - **PEP**: a foreign politically exposed person, or a family member or close associate of one, is high whatever else
///   (FINTRAC: enhanced due diligence always). A domestic PEP or the head of an international organisation (or their
///   family or associate): 40. A possible match on the PEP list at the newest screening counts as declared until staff
///   clear it (release the screening case).
/// - **Residence** in a country on the credit union's high-risk list: 40.
/// - **Recipients**: some of the last 180 days' remittances to high-risk countries: 20; half or more: 35.
/// - **Occupation** on the high-risk list (cash-intensive and value-dense trades): 20; not declared: 10.
/// - **Volumes**: the last 30 days' sends over twice the monthly amount the member declared: 25; over five times: 40.
///   Nothing declared and over 3,000.00 CAD sent in 30 days: 10.
/// - **Screening history**: each name of the member that screening found resembling a list entry in the last year,
///   unless staff cleared it (released the screening case): 15, at most 30.
public enum CustomerRisk {
    public enum Level: String, Sendable, Codable, CaseIterable, Comparable {
        case low, medium, high

        var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
    }

    /// A politically exposed person's kind (FINTRAC's categories), as declared or found.
    public enum PEP: String, Sendable, Codable, CaseIterable {
        case none, domestic, foreign
        case internationalOrg = "international_org"
    }

    public struct Factors: Sendable, Equatable {
        public var pep: PEP
        /// A family member or close associate of a PEP of kind `pep`.
        public var pepAssociate: Bool
        /// Screening found the member resembling an entry of the PEP list (not cleared by staff).
        public var pepListMatch: Bool
        public var residenceCountry: String?
        public var occupation: String?
        public var expectedMonthlyMinor: Int64?
        /// CAD minor units sent in the last 30 days.
        public var sentLast30DaysMinor: Int64
        /// Destination countries of the last 180 days' remittances, one entry per remittance.
        public var recipientCountries: [String]
        /// Names of the member that screening found resembling a list entry, not cleared by staff.
        public var screeningReviews: Int

        public init(
            pep: PEP = .none, pepAssociate: Bool = false, pepListMatch: Bool = false, residenceCountry: String? = nil, occupation: String? = nil,
            expectedMonthlyMinor: Int64? = nil, sentLast30DaysMinor: Int64 = 0, recipientCountries: [String] = [], screeningReviews: Int = 0
        ) {
            self.pep = pep
            self.pepAssociate = pepAssociate
            self.pepListMatch = pepListMatch
            self.residenceCountry = residenceCountry
            self.occupation = occupation
            self.expectedMonthlyMinor = expectedMonthlyMinor
            self.sentLast30DaysMinor = sentLast30DaysMinor
            self.recipientCountries = recipientCountries
            self.screeningReviews = screeningReviews
        }
    }

    /// The credit union's lists (its `compliance.risk` section) over the platform's defaults.
    public struct Policy: Sendable, Equatable {
        public var highRiskCountries: Set<String>
        public var highRiskOccupations: Set<String>
        /// A high-risk member's remittance of this much (CAD minor units) or more needs tier 4 (EDD) evidence.
        public var eddFromMinor: Int64

        /// FATF's "high-risk jurisdictions subject to a call for action".
        public static let defaultCountries: Set<String> = ["KP", "IR", "MM"]
        /// Cash-intensive and value-dense trades.
        public static let defaultOccupations: Set<String> = [
            "money_services", "casino", "precious_metals_dealer", "cash_intensive_business", "arms_dealer", "virtual_currency_dealer",
        ]

        public init(highRiskCountries: Set<String> = defaultCountries, highRiskOccupations: Set<String> = defaultOccupations, eddFromMinor: Int64 = 100_000) {
            self.highRiskCountries = highRiskCountries
            self.highRiskOccupations = highRiskOccupations
            self.eddFromMinor = eddFromMinor
        }
    }

    public struct Reason: Sendable, Codable, Equatable {
        public let factor: String
        public let points: Int
        public let explanation: String
    }

    public struct Rating: Sendable, Codable, Equatable {
        public let level: Level
        public let score: Int
        public let reasons: [Reason]

        public init(level: Level, score: Int, reasons: [Reason]) {
            self.level = level
            self.score = score
            self.reasons = reasons
        }
    }

    public static let mediumFrom = 30
    public static let highFrom = 60

    public static func rate(_ factors: Factors, policy: Policy) -> Rating {
        var reasons: [Reason] = []
        var floor = Level.low
        let pepLabel: [PEP: String] = [.domestic: "a domestic PEP", .foreign: "a foreign PEP", .internationalOrg: "the head of an international organisation"]
        if factors.pep == .foreign {
            floor = .high
            let who = factors.pepAssociate ? "a family member or close associate of a foreign PEP" : "a foreign PEP"
            reasons.append(Reason(factor: "pep", points: highFrom, explanation: "The member is \(who): enhanced due diligence always."))
        } else if factors.pep != .none, let label = pepLabel[factors.pep] {
            let who = factors.pepAssociate ? "a family member or close associate of \(label)" : label
            reasons.append(Reason(factor: "pep", points: 40, explanation: "The member is \(who)."))
        } else if factors.pepListMatch {
            reasons.append(Reason(factor: "pep", points: 40, explanation: "Screening found the member resembling an entry of the PEP list, not cleared."))
        }
        if let country = factors.residenceCountry, policy.highRiskCountries.contains(country) {
            reasons.append(Reason(factor: "residence", points: 40, explanation: "The member lives in \(country), on the high-risk list."))
        }
        let risky = factors.recipientCountries.filter { policy.highRiskCountries.contains($0) }
        if !risky.isEmpty {
            let half = risky.count * 2 >= factors.recipientCountries.count
            let countries = Set(risky).sorted().joined(separator: ", ")
            reasons.append(Reason(
                factor: "recipients", points: half ? 35 : 20,
                explanation: "\(risky.count) of the last 180 days' \(factors.recipientCountries.count) remittances went to high-risk countries (\(countries))."))
        }
        if let occupation = factors.occupation {
            if policy.highRiskOccupations.contains(occupation) {
                reasons.append(Reason(factor: "occupation", points: 20, explanation: "The member's occupation (\(occupation)) is on the high-risk list."))
            }
        } else {
            reasons.append(Reason(factor: "occupation", points: 10, explanation: "The member's occupation is not on file."))
        }
        let sent = factors.sentLast30DaysMinor
        if let expected = factors.expectedMonthlyMinor {
            // Whole-number comparisons: no rounding anywhere.
            if sent > 5 * expected {
                reasons.append(Reason(factor: "volume", points: 40, explanation: "\(AMLFlag.cad(sent)) CAD sent in 30 days: over five times the \(AMLFlag.cad(expected)) CAD declared."))
            } else if sent > 2 * expected {
                reasons.append(Reason(factor: "volume", points: 25, explanation: "\(AMLFlag.cad(sent)) CAD sent in 30 days: over twice the \(AMLFlag.cad(expected)) CAD declared."))
            }
        } else if sent > 300_000 {
            reasons.append(Reason(factor: "volume", points: 10, explanation: "\(AMLFlag.cad(sent)) CAD sent in 30 days with no expected volume on file."))
        }
        if factors.screeningReviews > 0 {
            reasons.append(Reason(
                factor: "screening", points: min(30, 15 * factors.screeningReviews),
                explanation: "\(factors.screeningReviews) screening(s) of the member needed review."))
        }
        let score = reasons.reduce(0) { $0 + $1.points }
        let byScore: Level = score >= highFrom ? .high : score >= mediumFrom ? .medium : .low
        return Rating(level: max(byScore, floor), score: score, reasons: reasons)
    }
}
