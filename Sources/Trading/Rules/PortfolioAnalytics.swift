import Foundation

/// Risk and return of a paper account from its daily values, with the conventions of empyrical
/// (Quantopian's, maintained as `empyrical-reloaded`; pyfolio and quantstats build on the same
/// definitions), followed exactly and pinned by tests against vectors that library computed
/// (`ops/vectors/analytics.py`).
///
/// These are ratios reported to a member, computed in binary floating point from exact integer
/// values; no money is moved or stored from them. The values themselves stay integer CAD cents.
///
/// With values V₀…Vₙ (V₀ the starting value: the snapshot before the window, or the account's
/// starting cash when it opened inside it) and the benchmark's closes B₀…Bₙ on the same days:
/// - **daily returns are simple**: rₜ = Vₜ ÷ Vₜ₋₁ − 1 (n of them);
/// - **period return** = Π(1 + rₜ) − 1 (empyrical's `cum_returns_final`), always shown;
/// - **annual return** = (Π(1 + rₜ))^(1 ÷ (n ÷ 252)) − 1, shown only from `minimumAnnualisedDays`
///   (20) returns: annualising a few days says nothing;
/// - **annual volatility** = sample standard deviation (divisor n − 1) × √252;
/// - **Sharpe** = mean(r − rf) ÷ std(r − rf, n − 1) × √252, with rf the tenant's annual risk-free
///   rate per day, (1 + rf)^(1/252) − 1;
/// - **Sortino** = mean(r − rf) × 252 ÷ (√(mean(min(0, r − rf)²)) × √252): the downside deviation
///   averages over **all** n observations (the days above rf count as zeros), rf the same daily
///   rate as Sharpe's;
/// - **max drawdown** = min over t of (Vₜ − maxₛ≤ₜ Vₛ) ÷ maxₛ≤ₜ Vₛ, the running peak **including V₀**
///   (a fall on the first day counts); zero or negative;
/// - **beta** = cov(r, b) ÷ var(b) with bₜ the benchmark's simple daily returns (population moments,
///   the divisor cancels; rf, a constant, does not change it);
/// - **alpha**, compounded as empyrical's: (1 + mean(r − rf − β(b − rf)))^252 − 1.
///
/// A figure that is undefined (a volatility of one return, a Sharpe with no dispersion, a Sortino
/// with no day below rf, a beta against a flat benchmark) is nil, never infinite or NaN. Sums are
/// compensated (Neumaier), so they are at least as exact as numpy's pairwise sums; figures agree
/// with empyrical's to 1e-9 relative.
public enum PortfolioAnalytics {
    public static let tradingDaysPerYear = 252.0
    /// Returns needed before an annual return is shown.
    public static let minimumAnnualisedDays = 20

    public struct Figures: Sendable, Equatable {
        /// Number of daily returns (values − 1).
        public var days: Int
        public var periodReturn: Double
        public var annualReturn: Double?
        public var annualVolatility: Double?
        public var sharpe: Double?
        public var sortino: Double?
        public var maxDrawdown: Double
        /// Against the benchmark, when one is given.
        public var benchmarkPeriodReturn: Double?
        public var beta: Double?
        public var alpha: Double?
    }

    public enum Refusal: Error, Equatable {
        /// Fewer than two values: no return to speak of.
        case tooFewValues
        /// A value of zero or below: returns are undefined after it.
        case nonPositiveValue(index: Int)
        /// The benchmark's closes do not pair one to one with the values.
        case benchmarkMismatch(values: Int, benchmark: Int)
    }

    /// The daily risk-free rate from an annual one: (1 + annual)^(1/252) − 1.
    public static func dailyRiskFree(annual: Double) -> Double {
        pow(1 + annual, 1 / tradingDaysPerYear) - 1
    }

    /// Simple returns between consecutive values.
    public static func returns(_ values: [Int64]) throws -> [Double] {
        guard values.count >= 2 else { throw Refusal.tooFewValues }
        if let bad = values.firstIndex(where: { $0 <= 0 }) { throw Refusal.nonPositiveValue(index: bad) }
        return (1..<values.count).map { Double(values[$0]) / Double(values[$0 - 1]) - 1 }
    }

    public static func figures(values: [Int64], benchmark: [Int64]? = nil, riskFreeAnnual: Double) throws -> Figures {
        let r = try returns(values)
        let n = r.count
        let rf = dailyRiskFree(annual: riskFreeAnnual)
        let growth = r.reduce(1.0) { $0 * (1 + $1) }
        var figures = Figures(days: n, periodReturn: growth - 1, maxDrawdown: maxDrawdown(values))
        if n >= minimumAnnualisedDays {
            figures.annualReturn = pow(growth, 1 / (Double(n) / tradingDaysPerYear)) - 1
        }
        let excess = r.map { $0 - rf }
        if n >= 2 {
            figures.annualVolatility = sampleStandardDeviation(r) * tradingDaysPerYear.squareRoot()
            let dispersion = sampleStandardDeviation(excess)
            if dispersion > 0 { figures.sharpe = mean(excess) / dispersion * tradingDaysPerYear.squareRoot() }
            let downside = mean(excess.map { min(0, $0) * min(0, $0) }).squareRoot() * tradingDaysPerYear.squareRoot()
            if downside > 0 { figures.sortino = mean(excess) * tradingDaysPerYear / downside }
        }
        if let benchmark {
            guard benchmark.count == values.count else { throw Refusal.benchmarkMismatch(values: values.count, benchmark: benchmark.count) }
            let b = try returns(benchmark)
            figures.benchmarkPeriodReturn = b.reduce(1.0) { $0 * (1 + $1) } - 1
            let centred = b.map { $0 - mean(b) }
            let variance = mean(centred.map { $0 * $0 })
            if variance >= 1e-30 {
                let beta = mean(zip(centred, r).map { $0 * $1 }) / variance
                figures.beta = beta
                figures.alpha = pow(mean(zip(r, b).map { ($0 - rf) - beta * ($1 - rf) }) + 1, tradingDaysPerYear) - 1
            }
        }
        return figures
    }

    /// The deepest fall from a running peak, the peak including the first value; 0 if none.
    public static func maxDrawdown(_ values: [Int64]) -> Double {
        guard var peak = values.first else { return 0 }
        var deepest = 0.0
        for value in values {
            peak = max(peak, value)
            deepest = min(deepest, (Double(value) - Double(peak)) / Double(peak))
        }
        return deepest
    }

    /// Neumaier's compensated sum.
    static func sum(_ xs: [Double]) -> Double {
        var total = 0.0, compensation = 0.0
        for x in xs {
            let t = total + x
            compensation += abs(total) >= abs(x) ? (total - t) + x : (x - t) + total
            total = t
        }
        return total + compensation
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : sum(xs) / Double(xs.count) }

    /// Standard deviation with divisor n − 1 (numpy's `ddof=1`).
    static func sampleStandardDeviation(_ xs: [Double]) -> Double {
        guard xs.count >= 2 else { return 0 }
        let m = mean(xs)
        return (sum(xs.map { ($0 - m) * ($0 - m) }) / Double(xs.count - 1)).squareRoot()
    }
}
