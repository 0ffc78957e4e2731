import Foundation
import NzilaValues
import Testing
@testable import Trading

/// The leaderboard's periods, risk score and entries, as pure rules.
@Suite("Leaderboard rules")
struct LeaderboardRuleTests {
    static func day(_ text: String) -> Day { Day(text)! }

    @Test("period boundaries: a week, a month (clamped to the month's end), three months, the year's start, the opening")
    func boundaries() {
        let asOf = Self.day("2027-05-31")
        #expect(Leaderboard.boundary(.week, asOf: asOf) == Self.day("2027-05-24"))
        #expect(Leaderboard.boundary(.month, asOf: asOf) == Self.day("2027-04-30"))
        #expect(Leaderboard.boundary(.quarter, asOf: asOf) == Self.day("2027-02-28"))
        #expect(Leaderboard.boundary(.ytd, asOf: asOf) == Self.day("2026-12-31"))
        #expect(Leaderboard.boundary(.month, asOf: Self.day("2027-01-15")) == Self.day("2026-12-15"))
        #expect(Leaderboard.boundary(.all, asOf: asOf) == nil)
    }

    @Test("a period starts from the last value on or before its boundary, else from the opening's cash")
    func values() {
        let days = ["2027-05-20", "2027-05-21", "2027-05-24", "2027-05-25", "2027-05-31"].map(Self.day)
        let values: [Int64] = [100, 110, 120, 130, 140]
        let opened = SnapshotRuleTests.at("2027-05-20T12:00:00Z")  // a Thursday: its first snapshot is that day's
        #expect(Leaderboard.values(.week, asOf: Self.day("2027-05-31"), days: days, values: values, startingCash: 90, openedAt: opened) == [120, 130, 140])
        #expect(Leaderboard.values(.month, asOf: Self.day("2027-05-31"), days: days, values: values, startingCash: 90, openedAt: opened) == [90, 100, 110, 120, 130, 140])
        #expect(Leaderboard.values(.all, asOf: Self.day("2027-05-21"), days: days, values: values, startingCash: 90, openedAt: opened) == [90, 100, 110])
        #expect(Leaderboard.values(.week, asOf: Self.day("2027-05-31"), days: [Self.day("2027-05-24")], values: [5], startingCash: 9, openedAt: opened) == nil)
        // Opened in January, snapshots only from May 20 (taken since): a month back is not known; `all` runs from the first.
        let early = SnapshotRuleTests.at("2027-01-04T12:00:00Z")
        #expect(Leaderboard.values(.month, asOf: Self.day("2027-05-31"), days: days, values: values, startingCash: 90, openedAt: early) == nil)
        #expect(Leaderboard.values(.all, asOf: Self.day("2027-05-31"), days: days, values: values, startingCash: 90, openedAt: early) == values)
    }

    @Test("risk score: the volatility band of the last three months, plus one for a holding of half the value, two from 80%")
    func risk() {
        let calm = (0...40).map { Int64(1_000_000 + $0) }
        #expect(Leaderboard.riskScore(values: calm, largestHolding: 0) == 1)
        #expect(Leaderboard.riskScore(values: calm, largestHolding: calm.last! / 2) == 2)
        #expect(Leaderboard.riskScore(values: calm, largestHolding: calm.last! * 9 / 10) == 3)
        // ±3% a day: about 48% a year, the ninth band.
        let wild = (0...40).map { Int64($0 % 2 == 0 ? 1_000_000 : 1_030_000) }
        #expect(Leaderboard.riskScore(values: wild, largestHolding: 0) == 9)
        #expect(Leaderboard.riskScore(values: wild, largestHolding: 1_030_000) == 10, "capped at 10")
        #expect(Leaderboard.riskScore(values: [1_000_000], largestHolding: 0) == 1, "nothing measured yet")
    }

    @Test("entries: one per period with a return, the figures empyrical's with rf 0")
    func entries() throws {
        let days = ["2027-05-24", "2027-05-25", "2027-05-26"].map(Self.day)
        let entries = Leaderboard.entries(
            days: days, values: [1_010_000, 990_000, 1_050_000], startingCash: 1_000_000, openedAt: SnapshotRuleTests.at("2027-05-24T12:00:00Z"), largestHolding: 0)
        #expect(entries.map(\.period) == Leaderboard.Period.allCases)
        let all = try #require(entries.last)
        let figures = try PortfolioAnalytics.figures(values: [1_000_000, 1_010_000, 990_000, 1_050_000], riskFreeAnnual: 0)
        #expect(all.days == 3 && all.periodReturn == figures.periodReturn && all.sharpe == figures.sharpe && all.maxDrawdown == figures.maxDrawdown)
    }
}
