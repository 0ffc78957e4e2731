import Foundation
import Ledger
import NzilaValues

/// A paper account's value in CAD at the end of a trading day, the series the analytics and the
/// leaderboards read.
///
/// - **Trading days** are Monday to Friday (the simulator models no public holidays, as the
///   sessions do not).
/// - **The cutoff** of day D is D 23:00 UTC: after the close of every exchange listed (New York's
///   16:00 is 21:00 UTC in winter) and before the first opens again (Johannesburg's 09:00 is 07:00
///   UTC), so no fill falls between a day's last trade and its snapshot.
/// - **The value** is the account as it stood at the cutoff: its cash now less what each fill since
///   then moved (a buy's CAD and fee back, a sell's proceeds less fee out), its holdings now less
///   those fills' shares; so a snapshot taken late, or of a missed day, is the same as one taken on
///   time. Each holding is marked at the **day's last price** — the close of the exchange's bar for
///   that day, else the latest bar before it, else the stored quote's last trade — converted to CAD
///   at the **mid rate stored when the snapshot is taken** (the platform keeps no rate history),
///   both roundings down as in `GET /v1/trading/positions`: the instrument's minor unit, then the
///   CAD cent. Cash is exact.
/// - **Missed days** are caught up, at most `catchUpDays` trading days back; a plane down longer
///   leaves a gap, and the analytics' returns then span it.
public enum PortfolioSnapshot {
    public static let cutoffSeconds = 23 * 3_600
    public static let catchUpDays = 10

    public static func cutoff(_ day: Day) -> Date { day.startUTC.addingTimeInterval(TimeInterval(cutoffSeconds)) }

    /// Monday is 0, Sunday 6 (1970-01-01 was a Thursday).
    public static func weekday(_ day: Day) -> Int { ((day.ordinal + 3) % 7 + 7) % 7 }

    public static func isTradingDay(_ day: Day) -> Bool { weekday(day) < 5 }

    /// The last trading day whose cutoff has passed at `now`.
    public static func latestDue(at now: Date) -> Day? {
        guard var day = Day(utc: now) else { return nil }
        if now < cutoff(day) { day = day.adding(days: -1) ?? day }
        while !isTradingDay(day) { day = day.adding(days: -1) ?? day }
        return day
    }

    public static func previousTradingDay(_ day: Day) -> Day {
        var d = day.adding(days: -1) ?? day
        while !isTradingDay(d) { d = d.adding(days: -1) ?? d }
        return d
    }

    /// The trading days after `after` (exclusive) through `through`, the newest `limit` of them,
    /// oldest first.
    public static func tradingDays(after: Day?, through: Day, limit: Int = catchUpDays) -> [Day] {
        var days: [Day] = []
        var d = through
        while days.count < limit, after.map({ d > $0 }) ?? true {
            if isTradingDay(d) { days.append(d) }
            guard let previous = d.adding(days: -1) else { break }
            d = previous
        }
        return days.reversed()
    }

    /// A fill made after some cutoff, as far as the account's value is concerned.
    public struct LaterFill: Sendable, Equatable {
        public let symbol: String
        public let side: OrderSide
        public let qty: Int64
        public let cadMinor: Int64
        public let feeMinor: Int64
        public let at: Date

        public init(symbol: String, side: OrderSide, qty: Int64, cadMinor: Int64, feeMinor: Int64, at: Date) {
            self.symbol = symbol
            self.side = side
            self.qty = qty
            self.cadMinor = cadMinor
            self.feeMinor = feeMinor
            self.at = at
        }
    }

    /// Cash and holdings at `instant`, from today's and the fills made after it.
    public static func asOf(_ instant: Date, cash: Int64, holdings: [String: Int64], fills: [LaterFill]) -> (cash: Int64, holdings: [String: Int64]) {
        var cash = cash
        var holdings = holdings
        for fill in fills where fill.at > instant {
            switch fill.side {
            case .buy:
                cash += fill.cadMinor + fill.feeMinor
                holdings[fill.symbol, default: 0] -= fill.qty
            case .sell:
                cash -= fill.cadMinor - fill.feeMinor
                holdings[fill.symbol, default: 0] += fill.qty
            }
        }
        return (cash, holdings.filter { $0.value != 0 })
    }

    /// A holding's mark: its instrument, the day's last price and the mid rate to CAD.
    public struct Mark: Sendable {
        public let instrument: Instrument
        public let price: Price
        public let rate: FXRate

        public init(instrument: Instrument, price: Price, rate: FXRate) {
            self.instrument = instrument
            self.price = price
            self.rate = rate
        }
    }

    /// The CAD value of holdings, each rounded down to its currency's minor unit then to the cent;
    /// the largest one's; `unpriced`: the symbols with no mark (valued at nothing, and said).
    public static func holdingsValue(_ holdings: [String: Int64], marks: (String) -> Mark?) -> (cadMinor: Int64, largest: Int64, unpriced: [String]) {
        var total: Int64 = 0
        var largest: Int64 = 0
        var unpriced: [String] = []
        for (symbol, qty) in holdings.sorted(by: { $0.key < $1.key }) where qty > 0 {
            guard let mark = marks(symbol), let minor = mark.instrument.notionalMinor(mark.price, qty: qty, rounding: .down) else {
                unpriced.append(symbol)
                continue
            }
            let value = OrderRules.toCAD(minor, from: mark.instrument.currency, rate: mark.rate, rounding: .down)
            total += value
            largest = max(largest, value)
        }
        return (total, largest, unpriced)
    }
}

extension PortfolioSnapshot {
    /// Where a window's series starts.
    public enum StartSource: String, Sendable, Codable {
        /// The account's snapshot of the trading day before the window's first.
        case snapshot
        /// No snapshot before the window and the account's history complete from its opening: the
        /// starting cash, dated the last cutoff before the opening (the benchmark's start).
        case opening
        /// No snapshot before the window, and the account's snapshots begin after its first trading
        /// day (it opened before snapshots were taken, or a plane was down longer than the catch-up):
        /// the window starts at its first snapshot, whose own return is unknown.
        case firstSnapshot = "first_snapshot"
    }

    /// The first trading day whose cutoff follows the opening: the account's first snapshot when its
    /// history is complete.
    public static func firstDay(openedAt: Date) -> Day? {
        guard var day = latestDue(at: openedAt)?.adding(days: 1) else { return nil }
        while !isTradingDay(day) { day = day.adding(days: 1) ?? day }
        return day
    }

    /// A window's values, oldest first: the starting value (its day and where it comes from), then
    /// each snapshot after it. Nil without at least one return.
    public struct Series: Sendable, Equatable {
        public let days: [Day]
        public let values: [Int64]
        public let start: StartSource
    }

    public static func series(prior: (day: Day, value: Int64)?, window: [(day: Day, value: Int64)], startingCash: Int64, openedAt: Date) -> Series? {
        guard let first = window.first else { return nil }
        let series: Series
        if let prior {
            series = Series(days: [prior.day] + window.map(\.day), values: [prior.value] + window.map(\.value), start: .snapshot)
        } else if first.day == firstDay(openedAt: openedAt), let opened = latestDue(at: openedAt) {
            series = Series(days: [opened] + window.map(\.day), values: [startingCash] + window.map(\.value), start: .opening)
        } else {
            series = Series(days: window.map(\.day), values: window.map(\.value), start: .firstSnapshot)
        }
        return series.values.count >= 2 ? series : nil
    }
}
