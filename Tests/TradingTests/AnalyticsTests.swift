import Foundation
import Testing
@testable import Trading

/// Portfolio analytics against empyrical's figures on the same series (AnalyticsVectors.swift,
/// written by ops/vectors/analytics.py), and the conventions' traps one by one.
@Suite("Portfolio analytics")
struct AnalyticsTests {
    static func agrees(_ actual: Double?, _ expected: Double?) -> Bool {
        switch (actual, expected) {
        case (nil, nil): return true
        case (let a?, let e?): return e == 0 ? abs(a) <= 1e-12 : abs(a - e) <= 1e-9 * abs(e)
        default: return false
        }
    }

    @Test("every figure agrees with empyrical's to 1e-9 relative", arguments: analyticsVectors.map(\.name))
    func vectors(_ name: String) throws {
        let vector = try #require(analyticsVectors.first { $0.name == name })
        let f = try PortfolioAnalytics.figures(values: vector.values, benchmark: vector.benchmark, riskFreeAnnual: vector.riskFreeAnnual)
        #expect(f.days == vector.values.count - 1)
        let actual: [String: Double?] = [
            "period_return": f.periodReturn, "annual_return": f.annualReturn, "annual_volatility": f.annualVolatility, "sharpe": f.sharpe,
            "sortino": f.sortino, "max_drawdown": f.maxDrawdown, "benchmark_return": f.benchmarkPeriodReturn, "beta": f.beta, "alpha": f.alpha,
        ]
        for (key, expected) in vector.expected {
            #expect(Self.agrees(actual[key] ?? nil, expected), "\(name) \(key): \(String(describing: actual[key] ?? nil)) vs empyrical \(String(describing: expected))")
        }
        if vector.benchmark == nil { #expect(f.beta == nil && f.alpha == nil && f.benchmarkPeriodReturn == nil) }
    }

    @Test("the traps: n − 1, the starting value in the drawdown, rf per day, downside over all days, the 20-day window")
    func traps() throws {
        // Sample, not population, deviation: returns +1% and −1% have a sample std of √2 %.
        let f = try PortfolioAnalytics.figures(values: [10_000, 10_100, 9_999], riskFreeAnnual: 0)
        let r = [0.01, 9_999.0 / 10_100 - 1]
        let m = (r[0] + r[1]) / 2
        let sample = (((r[0] - m) * (r[0] - m) + (r[1] - m) * (r[1] - m)) / 1).squareRoot()
        #expect(Self.agrees(f.annualVolatility, sample * 252.0.squareRoot()))
        // A fall on the first day is a drawdown from the starting value.
        #expect(PortfolioAnalytics.maxDrawdown([100, 90, 95]) == -0.1)
        #expect(PortfolioAnalytics.maxDrawdown([100, 110, 121]) == 0)
        // The risk-free rate compounds to the annual one over 252 days.
        let daily = PortfolioAnalytics.dailyRiskFree(annual: 0.0225)
        #expect(abs(pow(1 + daily, 252) - 1.0225) < 1e-14)
        #expect(daily != 0.0225 / 252)
        // Sortino's downside deviation averages over every day (the up days as zeros): one down day
        // of −2% among four gives √(0.0004 ÷ 4), not 2%.
        let s = try PortfolioAnalytics.figures(values: [1_000_000, 1_010_000, 1_020_100, 999_698, 1_009_695], riskFreeAnnual: 0)
        let returns = try PortfolioAnalytics.returns([1_000_000, 1_010_000, 1_020_100, 999_698, 1_009_695])
        let downside = (returns.map { min(0, $0) * min(0, $0) }.reduce(0, +) / 4).squareRoot()
        #expect(Self.agrees(s.sortino, returns.reduce(0, +) / 4 * 252 / (downside * 252.0.squareRoot())))
        // No annual return below 20 returns; shown from 20.
        #expect(s.annualReturn == nil)
        let twenty = (0...20).map { Int64(1_000_000 + $0 * 1_000) }
        #expect(try PortfolioAnalytics.figures(values: twenty, riskFreeAnnual: 0).annualReturn != nil)
        #expect(try PortfolioAnalytics.figures(values: Array(twenty.prefix(20)), riskFreeAnnual: 0).annualReturn == nil)
    }

    @Test("undefined figures are nil; bad series are refused")
    func undefined() throws {
        let flat = try PortfolioAnalytics.figures(values: [500, 500, 500], benchmark: [7, 7, 7], riskFreeAnnual: 0)
        #expect(flat.periodReturn == 0 && flat.sharpe == nil && flat.sortino == nil && flat.beta == nil && flat.alpha == nil)
        let one = try PortfolioAnalytics.figures(values: [500, 510], riskFreeAnnual: 0)
        #expect(one.annualVolatility == nil && one.sharpe == nil && one.days == 1)
        #expect(throws: PortfolioAnalytics.Refusal.tooFewValues) { try PortfolioAnalytics.figures(values: [500], riskFreeAnnual: 0) }
        #expect(throws: PortfolioAnalytics.Refusal.nonPositiveValue(index: 1)) { try PortfolioAnalytics.figures(values: [500, 0, 3], riskFreeAnnual: 0) }
        #expect(throws: PortfolioAnalytics.Refusal.benchmarkMismatch(values: 3, benchmark: 2)) {
            try PortfolioAnalytics.figures(values: [500, 501, 502], benchmark: [1, 2], riskFreeAnnual: 0)
        }
    }
}
