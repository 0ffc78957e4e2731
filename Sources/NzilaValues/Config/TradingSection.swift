import Foundation

/// `trading` (optional): paper trading's terms (issue 21). Without it the defaults hold.
///
/// ```json
/// {"starting_cash_minor": 10000000, "commission": {"bps": 10, "min_minor": 100}, "market_buffer_bps": 500, "risk_free_bps": 225}
/// ```
///
/// - `starting_cash_minor`: the paper cash a member's account opens with, in CAD cents (default
///   10,000,000: 100,000.00 CAD; 0 to 1,000,000,000).
/// - `commission`: what each fill costs, in basis points of its CAD value (rounded up to the cent)
///   with a minimum per fill, both in CAD (default none: 0 and 0). Fees are paper cash, reported apart
///   from the position's cost.
/// - `market_buffer_bps`: what a market or stop buy reserves beyond the ask, since it fills at
///   whatever price comes (default 500: 5%).
/// - `risk_free_bps`: the annual risk-free rate the portfolio analytics measure excess returns
///   against (Sharpe, Sortino, alpha), in basis points (default 0, as empyrical's and quantstats'
///   own default; 225 is 2.25%; 0 to 2,000), made daily as (1 + rf)^(1/252) − 1.
public struct TradingSection: ConfigSection, Equatable {
    public static let key = "trading"

    public struct Commission: Codable, Equatable, Sendable {
        public let bps: Int
        public let minMinor: Int64

        public init(bps: Int, minMinor: Int64) {
            self.bps = bps
            self.minMinor = minMinor
        }
    }

    public let startingCashMinor: Int64?
    public let commission: Commission?
    public let marketBufferBps: Int?
    public let riskFreeBps: Int?

    public init(startingCashMinor: Int64?, commission: Commission?, marketBufferBps: Int?, riskFreeBps: Int? = nil) {
        self.startingCashMinor = startingCashMinor
        self.commission = commission
        self.marketBufferBps = marketBufferBps
        self.riskFreeBps = riskFreeBps
    }

    public static let none = TradingSection(startingCashMinor: nil, commission: nil, marketBufferBps: nil)
    public static let defaultStartingCashMinor: Int64 = 10_000_000
    public static let defaultMarketBufferBps = 500

    public var startingCash: Int64 { startingCashMinor ?? Self.defaultStartingCashMinor }
    public var marketBuffer: Int { marketBufferBps ?? Self.defaultMarketBufferBps }
    /// The annual risk-free rate as a fraction (a ratio for analytics, not money).
    public var riskFreeAnnual: Double { Double(riskFreeBps ?? 0) / 10_000 }

    /// The commission on a fill worth `cadMinor`: bps of it rounded up to the cent, at least the minimum.
    public func commission(onCADMinor cadMinor: Int64) -> Int64 {
        guard let commission else { return 0 }
        let product = cadMinor.magnitude * UInt64(commission.bps)
        let fee = Int64((product + 9_999) / 10_000)
        return max(fee, commission.minMinor)
    }

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let section = check.object(value, at: path, required: [], optional: ["starting_cash_minor", "commission", "market_buffer_bps", "risk_free_bps"]) else { return }
        if let cash = ConfigChecker.present(section["starting_cash_minor"]) {
            check.integer(cash, at: "\(path).starting_cash_minor", in: 0...1_000_000_000)
        }
        if let raw = ConfigChecker.present(section["commission"]),
            let commission = check.object(raw, at: "\(path).commission", required: ["bps", "min_minor"], optional: [])
        {
            check.integer(commission["bps"], at: "\(path).commission.bps", in: 0...100)
            check.integer(commission["min_minor"], at: "\(path).commission.min_minor", in: 0...10_000)
        }
        if let buffer = ConfigChecker.present(section["market_buffer_bps"]) {
            check.integer(buffer, at: "\(path).market_buffer_bps", in: 0...5_000)
        }
        if let rate = ConfigChecker.present(section["risk_free_bps"]) {
            check.integer(rate, at: "\(path).risk_free_bps", in: 0...2_000)
        }
    }
}
