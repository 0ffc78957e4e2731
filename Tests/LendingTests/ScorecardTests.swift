import Foundation
import Lending
import NzilaValues
import Testing

@Suite("Credit scorecard")
struct ScorecardTests {
    typealias Inputs = Scorecard.Inputs

    @Test("600 points at the base; each line's points add up; 50 points are one doubling of the odds")
    func points() throws {
        let neutral = Inputs(tenureMonths: 12, averageBalance90DaysMinor: 50_000, loanHistory: .none, tontineOnTimeBps: nil, kycTier: 2)
        let result = try Scorecard.score(neutral, approveAt: 640, declineBelow: 560)
        #expect(result.lines.map(\.points) == [15, -10, 0, 0, 0] && result.score == 605 && result.decision == .referred)
        #expect(result.reasons.map(\.factor) == [.averageBalance])
    }

    @Test("a long, on-time member with a good tontine record is approved, with the positive factors as reasons, most telling first")
    func approved() throws {
        let member = Inputs(tenureMonths: 48, averageBalance90DaysMinor: 600_000, loanHistory: .onTime, tontineOnTimeBps: 10_000, kycTier: 3)
        let result = try Scorecard.score(member, approveAt: 640, declineBelow: 560)
        #expect(result.score == 600 + 40 + 35 + 50 + 40 + 10 && result.decision == .approved)
        #expect(result.reasons.map(\.factor) == [.loanHistory, .tenure, .tontine, .averageBalance], "at most four")
    }

    @Test("a thin-file newcomer is saved by a tontine record: the record alone moves a referral to an approval")
    func tontineCounts() throws {
        let newcomer = Inputs(tenureMonths: 14, averageBalance90DaysMinor: 150_000, loanHistory: .none, tontineOnTimeBps: nil, kycTier: 2)
        let without = try Scorecard.score(newcomer, approveAt: 640, declineBelow: 560)
        let with = try Scorecard.score(
            Inputs(tenureMonths: 14, averageBalance90DaysMinor: 150_000, loanHistory: .none, tontineOnTimeBps: 9_600, kycTier: 2), approveAt: 640,
            declineBelow: 560)
        #expect(without.decision == .referred && with.decision == .approved && with.score - without.score == 40)
    }

    @Test("a decline names the factors that lowered the score, worst first, never the score alone")
    func declined() throws {
        let risky = Inputs(tenureMonths: 1, averageBalance90DaysMinor: 2_000, loanHistory: .seriouslyLate, tontineOnTimeBps: 3_000, kycTier: 1)
        let result = try Scorecard.score(risky, approveAt: 640, declineBelow: 560)
        #expect(result.score == 600 - 50 - 40 - 100 - 70 - 20 && result.decision == .declined)
        #expect(result.reasons.map(\.points) == [-100, -70, -50, -40] && result.reasons.allSatisfy { !$0.attribute.isEmpty })
        // A cut-off above the base declines a neutral file: the weakest factors still say why.
        let neutral = Inputs(tenureMonths: 12, averageBalance90DaysMinor: 150_000, loanHistory: .none, tontineOnTimeBps: nil, kycTier: 2)
        let strict = try Scorecard.score(neutral, approveAt: 700, declineBelow: 650)
        #expect(strict.decision == .declined && !strict.reasons.isEmpty)
    }

    @Test("attribute edges, and cut-offs outside 300–900 or crossed are refused")
    func edges() throws {
        func points(_ factor: Scorecard.Factor, _ inputs: Inputs) -> Int { Scorecard.lines(inputs).first { $0.factor == factor }!.points }
        let base = Inputs(tenureMonths: 2, averageBalance90DaysMinor: 9_999, loanHistory: .lateUpTo30, tontineOnTimeBps: 4_999, kycTier: 4)
        #expect(points(.tenure, base) == -50 && points(.averageBalance, base) == -40 && points(.tontine, base) == -70 && points(.kycTier, base) == 20)
        let next = Inputs(tenureMonths: 3, averageBalance90DaysMinor: 10_000, loanHistory: .lateUpTo30, tontineOnTimeBps: 5_000, kycTier: 3)
        #expect(points(.tenure, next) == -20 && points(.averageBalance, next) == -10 && points(.tontine, next) == -30 && points(.loanHistory, next) == -20)
        let top = Inputs(tenureMonths: 36, averageBalance90DaysMinor: 500_000, loanHistory: .onTime, tontineOnTimeBps: 9_500, kycTier: 2)
        #expect(points(.tenure, top) == 40 && points(.averageBalance, top) == 35 && points(.tontine, top) == 40)
        #expect(throws: RuleError.self) { try Scorecard.score(top, approveAt: 950, declineBelow: 560) }
        #expect(throws: RuleError.self) { try Scorecard.score(top, approveAt: 600, declineBelow: 650) }
    }
}
