import Foundation
import NzilaValues

/// The leaderboard's periods and risk score, as pure rules. Figures come from the daily snapshots
/// (`PortfolioSnapshot`) with the analytics' conventions (`PortfolioAnalytics`, rf = 0 so members of
/// different credit unions' settings compare alike).
public enum Leaderboard {
    public enum Period: String, Sendable, Codable, CaseIterable {
        case week = "1w", month = "1m", quarter = "3m", ytd, all
    }

    /// The last day a period's starting value may be from, for figures as of `asOf`: a week, a
    /// month, three months before it (the same day of the month, or the month's last), the last day
    /// of the previous year; nil for `all` (from the opening).
    public static func boundary(_ period: Period, asOf: Day) -> Day? {
        switch period {
        case .week: return asOf.adding(days: -7)
        case .month: return monthsBefore(asOf, 1)
        case .quarter: return monthsBefore(asOf, 3)
        case .ytd: return Day(year: asOf.year - 1, month: 12, day: 31)
        case .all: return nil
        }
    }

    static func monthsBefore(_ day: Day, _ months: Int) -> Day? {
        let index = day.year * 12 + (day.month - 1) - months
        let (year, month) = (index / 12, index % 12 + 1)
        return Day(year: year, month: month, day: min(day.day, Day.length(of: month, in: year)))
    }

    /// A period's values: the start (the last snapshot on or before the boundary; else, when the
    /// account's history is complete from its opening, the starting cash; else, for `all` only, its
    /// first snapshot) and every snapshot after it; nil without a return to measure, or when the
    /// history does not reach back to the period's start.
    public static func values(_ period: Period, asOf: Day, days: [Day], values: [Int64], startingCash: Int64, openedAt: Date) -> [Int64]? {
        let through = days.firstIndex { $0 > asOf } ?? days.count
        let (d, v) = (Array(days[..<through]), Array(values[..<through]))
        guard let firstDay = d.first else { return nil }
        let complete = firstDay == PortfolioSnapshot.firstDay(openedAt: openedAt)
        let boundary = boundary(period, asOf: asOf)
        var series: [Int64]
        if let boundary, let start = d.lastIndex(where: { $0 <= boundary }) {
            series = Array(v[start...])
        } else if complete {
            series = [startingCash] + v
        } else if boundary == nil {
            series = v
        } else {
            return nil
        }
        return series.count >= 2 ? series : nil
    }

    /// Annualised volatility bands: a score of 1 up to 2%, then 5, 10, 15, 20, 25, 30, 40 and 55%
    /// (10 above it).
    public static let volatilityBands: [Double] = [0.02, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.55]
    /// Returns the risk score's volatility is measured over (about three months).
    public static let riskWindow = 63

    /// The 1–10 risk score: the band of the annualised volatility of the last `riskWindow` daily
    /// returns (sample deviation × √252; none measured yet counts as 0), one more when the largest
    /// holding is half the account's value or more, two more from 80%; at most 10.
    public static func riskScore(values: [Int64], largestHolding: Int64) -> Int {
        let recent = Array(values.suffix(riskWindow + 1))
        let volatility = (try? PortfolioAnalytics.figures(values: recent, riskFreeAnnual: 0))?.annualVolatility ?? 0
        var score = 1 + volatilityBands.filter { volatility > $0 }.count
        if let last = values.last, last > 0 {
            let share = Double(largestHolding) / Double(last)
            if share >= 0.8 { score += 2 } else if share >= 0.5 { score += 1 }
        }
        return min(10, max(1, score))
    }

    /// One account's row for a period.
    public struct Entry: Sendable, Equatable {
        public let period: Period
        public let days: Int
        public let periodReturn: Double
        public let annualVolatility: Double?
        public let sharpe: Double?
        public let maxDrawdown: Double
        public let riskScore: Int
    }

    /// Every period's entry for an account as of its newest snapshot.
    public static func entries(days: [Day], values: [Int64], startingCash: Int64, openedAt: Date, largestHolding: Int64) -> [Entry] {
        guard let asOf = days.last else { return [] }
        let risk = riskScore(values: values, largestHolding: largestHolding)
        return Period.allCases.compactMap { period in
            guard let series = Self.values(period, asOf: asOf, days: days, values: values, startingCash: startingCash, openedAt: openedAt),
                let f = try? PortfolioAnalytics.figures(values: series, riskFreeAnnual: 0)
            else { return nil }
            return Entry(
                period: period, days: f.days, periodReturn: f.periodReturn, annualVolatility: f.annualVolatility, sharpe: f.sharpe, maxDrawdown: f.maxDrawdown,
                riskScore: risk)
        }
    }
}
