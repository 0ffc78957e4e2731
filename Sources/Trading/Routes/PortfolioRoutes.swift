import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

/// `GET /v1/trading/portfolio/history`: the account's value at each trading day's cutoff.
public struct PortfolioHistory: Codable, Sendable {
    public struct Start: Codable, Sendable {
        public let day: Day
        public let value: Money
        /// `snapshot` (the day before the window), `opening` (the starting cash) or `first_snapshot`
        /// (no earlier value known: the window's first snapshot).
        public let source: PortfolioSnapshot.StartSource
    }

    public struct Point: Codable, Sendable {
        public let day: Day
        public let value: Money
        public let cash: Money
        public let holdings: Money
        /// Simple return on the value before it (a ratio: 0.0123 is 1.23%); null when that value is
        /// unknown (the window's first snapshot with no start before it) or not positive.
        public let dailyReturn: Double?
        /// Compounded since the start; null once a return is unknown.
        public let cumulativeReturn: Double?
        /// Symbols held with no price to mark them (valued at nothing).
        public let unpriced: [String]
    }

    public let accountId: TradingAccountID
    public let from: Day
    public let to: Day
    public let start: Start?
    public let days: [Point]
}

/// `GET /v1/trading/portfolio/analytics`: the window's risk and return (conventions in
/// `PortfolioAnalytics` and docs/TRADING.md, "Analytics").
public struct PortfolioAnalyticsView: Codable, Sendable {
    public struct Benchmark: Codable, Sendable {
        public let symbol: String
        public let periodReturn: Double?
        public let beta: Double?
        public let alpha: Double?
        /// Days of the series with no close of the benchmark on or before them (then no figure).
        public let missingDays: [Day]
    }

    public let accountId: TradingAccountID
    public let from: Day
    public let to: Day
    /// Daily returns in the window (0 without snapshots).
    public let days: Int
    public let startDay: Day?
    public let startValue: Money?
    public let endValue: Money?
    public let periodReturn: Double?
    /// Shown from `annualisedFrom` daily returns.
    public let annualReturn: Double?
    public let annualisedFrom: Int
    public let annualVolatility: Double?
    public let sharpe: Double?
    public let sortino: Double?
    public let maxDrawdown: Double?
    /// The tenant's annual risk-free rate (`trading.risk_free_bps`), and the daily rate used.
    public let riskFreeRate: Double
    public let riskFreeDaily: Double
    public let benchmark: Benchmark?
    public let conventions: String
}

struct PortfolioRoutes {
    static let conventions = """
        Simple daily returns between consecutive values (the first against the starting value); period return = Π(1+r) − 1; \
        annual return = (Π(1+r))^(252/n) − 1 from 20 returns; volatility = sample std (n − 1) × √252; \
        Sharpe = mean(r − rf) / std(r − rf) × √252 with rf daily = (1 + annual rf)^(1/252) − 1; \
        Sortino = mean(r − rf) × 252 / (√mean(min(0, r − rf)²) × √252), downside over all days; \
        max drawdown from the running peak including the starting value; beta = cov(r, b) / var(b); \
        alpha = (1 + mean(r − rf − β(b − rf)))^252 − 1 (compounded, as empyrical). See docs/TRADING.md, Analytics.
        """

    func mount(on routes: TenantRoutes) {
        routes.route(
            .get, "/v1/trading/portfolio/history", "The paper account's value at each trading day's close (?from=&to=, YYYY-MM-DD; staff: ?member_id=)",
            access: .ownOrStaff(.readTrading), answer: PortfolioHistory.self
        ) { request, context in
            let query = request.queryDictionary
            let member = try context.subject(named: query["member_id"])
            let accountID = try TradingRoutes.accountID(query["account_id"])
            let history = try await context.session.run { db -> PortfolioHistory in
                guard let account = try await TradingStore(db).account(member: member, id: accountID) else { throw Problem.notFound("Paper account") }
                let (from, to) = try Self.window(query, opened: account.createdAt, now: db.now)
                let (prior, window) = try await SnapshotStore(db).values(account: account.id, from: from, to: to)
                // Where the window starts, and the value before each day where one is known: a return
                // is shown only from a known, positive value before it.
                var start: PortfolioHistory.Start?
                var previous: Int64?
                var growth: Double?
                if let series = Self.series(prior, window, account) ?? window.first.map({
                    PortfolioSnapshot.Series(days: [$0.day], values: [$0.value], start: .firstSnapshot)
                }) {
                    start = PortfolioHistory.Start(day: series.days[0], value: Self.cad(series.values[0]), source: series.start)
                    if series.start != .firstSnapshot { previous = series.values[0] }
                    growth = 1
                }
                let points = window.map { v in
                    var r: Double?
                    if let p = previous, p > 0 { r = Double(v.value) / Double(p) - 1 }
                    if let r { growth = growth.map { $0 * (1 + r) } } else if previous != nil { growth = nil }
                    previous = v.value
                    return PortfolioHistory.Point(
                        day: v.day, value: Self.cad(v.value), cash: Self.cad(v.cash), holdings: Self.cad(v.holdings), dailyReturn: r,
                        cumulativeReturn: growth.map { $0 - 1 }, unpriced: v.unpriced)
                }
                return PortfolioHistory(accountId: account.id, from: from, to: to, start: start, days: points)
            }
            return try Response.json(history)
        }
        routes.route(
            .get, "/v1/trading/portfolio/analytics",
            "Return and risk of the paper account over a window (?from=&to=&benchmark=<index symbol>; staff: ?member_id=), conventions in the answer",
            access: .ownOrStaff(.readTrading), answer: PortfolioAnalyticsView.self
        ) { request, context in
            let query = request.queryDictionary
            let member = try context.subject(named: query["member_id"])
            let accountID = try TradingRoutes.accountID(query["account_id"])
            let benchmarkSymbol = query["benchmark"]
            if let benchmarkSymbol, benchmarkSymbol.range(of: #"^[A-Z0-9][A-Z0-9.\-]{0,15}$"#, options: .regularExpression) == nil {
                throw Problem.validation(field: "benchmark", "must be an index symbol such as SPTSX, SPX, NGXASI, J203, NASI or BRVMC")
            }
            let view = try await context.session.run { db -> PortfolioAnalyticsView in
                guard let account = try await TradingStore(db).account(member: member, id: accountID) else { throw Problem.notFound("Paper account") }
                let (from, to) = try Self.window(query, opened: account.createdAt, now: db.now)
                if let benchmarkSymbol {
                    let instrument = try await MarketStore(db).instrument(benchmarkSymbol)
                    guard let instrument, instrument.kind == .index else {
                        throw Problem.validation(field: "benchmark", "\(benchmarkSymbol) is not an index (GET /v1/market/instruments lists them)")
                    }
                }
                let section = try await db.section(TradingSection.self) ?? .none
                let rf = section.riskFreeAnnual
                let (prior, window) = try await SnapshotStore(db).values(account: account.id, from: from, to: to)
                guard let series = Self.series(prior, window, account) else {
                    return PortfolioAnalyticsView(
                        accountId: account.id, from: from, to: to, days: 0, startDay: nil, startValue: nil, endValue: nil, periodReturn: nil, annualReturn: nil,
                        annualisedFrom: PortfolioAnalytics.minimumAnnualisedDays, annualVolatility: nil, sharpe: nil, sortino: nil, maxDrawdown: nil,
                        riskFreeRate: rf, riskFreeDaily: PortfolioAnalytics.dailyRiskFree(annual: rf),
                        benchmark: benchmarkSymbol.map { PortfolioAnalyticsView.Benchmark(symbol: $0, periodReturn: nil, beta: nil, alpha: nil, missingDays: []) },
                        conventions: Self.conventions)
                }
                var closes: [Int64]?
                var missing: [Day] = []
                if let benchmarkSymbol {
                    let byDay = try await SnapshotStore(db).closes(benchmarkSymbol, on: series.days)
                    missing = series.days.filter { byDay[$0] == nil }
                    if missing.isEmpty { closes = series.days.compactMap { byDay[$0]?.e4 } }
                }
                let figures: PortfolioAnalytics.Figures
                do {
                    figures = try PortfolioAnalytics.figures(values: series.values, benchmark: closes, riskFreeAnnual: rf)
                } catch {
                    throw RuleError(.unprocessable, "no-returns", "No returns to measure", detail: "The account's values in the window cannot make returns: \(error).")
                }
                return PortfolioAnalyticsView(
                    accountId: account.id, from: from, to: to, days: figures.days, startDay: series.days.first, startValue: Self.cad(series.values[0]),
                    endValue: series.values.last.map(Self.cad), periodReturn: figures.periodReturn, annualReturn: figures.annualReturn,
                    annualisedFrom: PortfolioAnalytics.minimumAnnualisedDays, annualVolatility: figures.annualVolatility, sharpe: figures.sharpe,
                    sortino: figures.sortino, maxDrawdown: figures.maxDrawdown, riskFreeRate: rf, riskFreeDaily: PortfolioAnalytics.dailyRiskFree(annual: rf),
                    benchmark: benchmarkSymbol.map {
                        PortfolioAnalyticsView.Benchmark(symbol: $0, periodReturn: figures.benchmarkPeriodReturn, beta: figures.beta, alpha: figures.alpha, missingDays: missing)
                    },
                    conventions: Self.conventions)
            }
            return try Response.json(view)
        }
    }

    static func cad(_ minor: Int64) -> Money { Money(minorUnits: minor, currency: .cad) }

    static func series(_ prior: SnapshotStore.Value?, _ window: [SnapshotStore.Value], _ account: TradingAccount) -> PortfolioSnapshot.Series? {
        PortfolioSnapshot.series(
            prior: prior.map { ($0.day, $0.value) }, window: window.map { ($0.day, $0.value) }, startingCash: account.startingCash.minorUnits,
            openedAt: account.createdAt)
    }

    /// `from` (default: the day the account opened) and `to` (default: today), at most ten years apart.
    static func window(_ query: [String: String], opened: Date, now: Date) throws -> (Day, Day) {
        var errors: [FieldError] = []
        let from = query["from"].map { Day($0) } ?? Day(utc: opened)
        let to = query["to"].map { Day($0) } ?? Day(utc: now)
        if from == nil { errors.append(FieldError(field: "from", message: "must be a day, YYYY-MM-DD")) }
        if to == nil { errors.append(FieldError(field: "to", message: "must be a day, YYYY-MM-DD")) }
        if let from, let to, !(0...3_653).contains(to.ordinal - from.ordinal) {
            errors.append(FieldError(field: "to", message: "must be on or after from, at most ten years later"))
        }
        guard errors.isEmpty, let from, let to else { throw Problem.validation(errors) }
        return (from, to)
    }
}
