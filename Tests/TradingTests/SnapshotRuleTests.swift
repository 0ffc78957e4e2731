import Foundation
import Ledger
import NzilaValues
import Testing
@testable import Trading

/// The daily snapshot's calendar, its reconstruction of a past cutoff from later fills, its marks
/// and the series the analytics read.
@Suite("Portfolio snapshots")
struct SnapshotRuleTests {
    static func day(_ text: String) -> Day { Day(text)! }
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("trading days are weekdays; the cutoff is 23:00 UTC; the due day and catch-up days")
    func calendar() {
        #expect(PortfolioSnapshot.weekday(Self.day("2027-03-03")) == 2)  // a Wednesday
        #expect(PortfolioSnapshot.cutoff(Self.day("2027-03-03")) == Self.at("2027-03-03T23:00:00Z"))
        #expect(PortfolioSnapshot.latestDue(at: Self.at("2027-03-03T22:59:59Z")) == Self.day("2027-03-02"))
        #expect(PortfolioSnapshot.latestDue(at: Self.at("2027-03-03T23:00:00Z")) == Self.day("2027-03-03"))
        // Saturday, Sunday and Monday before the cutoff: Friday's.
        for t in ["2027-03-06T12:00:00Z", "2027-03-07T23:30:00Z", "2027-03-08T22:00:00Z"] {
            #expect(PortfolioSnapshot.latestDue(at: Self.at(t)) == Self.day("2027-03-05"), "\(t)")
        }
        #expect(PortfolioSnapshot.previousTradingDay(Self.day("2027-03-08")) == Self.day("2027-03-05"))
        #expect(PortfolioSnapshot.tradingDays(after: Self.day("2027-03-03"), through: Self.day("2027-03-09")).map(\.description)
            == ["2027-03-04", "2027-03-05", "2027-03-08", "2027-03-09"])
        // At most ten, the newest.
        let many = PortfolioSnapshot.tradingDays(after: nil, through: Self.day("2027-03-31"))
        #expect(many.count == 10 && many.first == Self.day("2027-03-18") && many.last == Self.day("2027-03-31"))
    }

    @Test("cash and holdings at a past cutoff: now's, less each later fill")
    func reconstruction() {
        let cutoff = Self.at("2027-03-03T23:00:00Z")
        let fills = [
            PortfolioSnapshot.LaterFill(symbol: "RY", side: .buy, qty: 100, cadMinor: 1_500_000, feeMinor: 100, at: Self.at("2027-03-04T15:00:00Z")),
            PortfolioSnapshot.LaterFill(symbol: "DANGCEM", side: .sell, qty: 40, cadMinor: 16_000, feeMinor: 100, at: Self.at("2027-03-04T10:00:00Z")),
            // Before the cutoff: already in the day's state.
            PortfolioSnapshot.LaterFill(symbol: "DANGCEM", side: .buy, qty: 50, cadMinor: 20_000, feeMinor: 0, at: Self.at("2027-03-03T12:00:00Z")),
        ]
        let (cash, holdings) = PortfolioSnapshot.asOf(cutoff, cash: 8_000_000, holdings: ["RY": 100, "DANGCEM": 10], fills: fills)
        #expect(cash == 8_000_000 + 1_500_100 - 15_900)
        #expect(holdings == ["DANGCEM": 50], "RY bought after the cutoff is gone; the DANGCEM sold after it is back")
    }

    @Test("holdings are marked down to the minor unit then the cent; a symbol without a mark is said")
    func marks() {
        let ngx = TradingRuleTests.ngx
        let jse = TradingRuleTests.jse
        let rate = FXRate(decimal: "0.000884")!
        let zar = FXRate(decimal: "0.0755")!
        let marks: [String: PortfolioSnapshot.Mark] = [
            "DANGCEM": .init(instrument: ngx, price: Price("480.05")!, rate: rate),
            "NPN": .init(instrument: jse, price: Price("128001")!, rate: zar),
        ]
        let (value, largest, unpriced) = PortfolioSnapshot.holdingsValue(["DANGCEM": 333, "NPN": 7, "GONE": 5]) { marks[$0] }
        // DANGCEM: 333 × ₦480.05 = ₦159,856.65 = 15,985,665 kobo × 0.000884 = 14,131.32 CAD cents, down → 14,131.
        // NPN: 7 × 128,001 ZAc = 896,007 ZAc (cents) × 0.0755 = 67,648.53 CAD cents, down → 67,648.
        #expect(value == 14_131 + 67_648 && largest == 67_648)
        #expect(unpriced == ["GONE"])
    }

    @Test("a window starts from the snapshot before it, else from the opening's starting cash")
    func series() {
        let window = [(day: Self.day("2027-03-04"), value: Int64(10_100_000)), (day: Self.day("2027-03-05"), value: Int64(9_900_000))]
        let opened = PortfolioSnapshot.series(prior: nil, window: window, startingCash: 10_000_000, openedAt: Self.at("2027-03-04T12:00:00Z"))
        #expect(opened == .init(days: [Self.day("2027-03-03"), Self.day("2027-03-04"), Self.day("2027-03-05")], values: [10_000_000, 10_100_000, 9_900_000], start: .opening))
        let later = PortfolioSnapshot.series(prior: (Self.day("2027-03-03"), 10_050_000), window: window, startingCash: 10_000_000, openedAt: Self.at("2027-03-01T12:00:00Z"))
        #expect(later?.values.first == 10_050_000 && later?.start == .snapshot)
        #expect(PortfolioSnapshot.series(prior: nil, window: [], startingCash: 1, openedAt: Self.at("2027-03-01T12:00:00Z")) == nil)
        // Opened long before its first snapshot (before snapshots were taken): the window starts at that snapshot, whose
        // own return is unknown, never at the opening's cash.
        let late = PortfolioSnapshot.series(prior: nil, window: window, startingCash: 10_000_000, openedAt: Self.at("2026-11-02T12:00:00Z"))
        #expect(late == .init(days: [Self.day("2027-03-04"), Self.day("2027-03-05")], values: [10_100_000, 9_900_000], start: .firstSnapshot))
        #expect(PortfolioSnapshot.firstDay(openedAt: Self.at("2027-03-05T23:30:00Z")) == Self.day("2027-03-08"))
    }

    @Test("an account's missing days: from its opening or newest snapshot, through the due day, valued as they stood")
    func rows() {
        var market = PortfolioSnapshotter.Market()
        market.instruments["DANGCEM"] = TradingRuleTests.ngx
        market.rates[TradingRuleTests.ngx.currency] = FXRate(decimal: "0.001")!
        market.closes[Self.day("2027-03-04")] = ["DANGCEM": Price("500")!]
        market.lastTrades["DANGCEM"] = Price("400")!
        let account = SnapshotStore.Pending(
            account: TradingAccountID(UUID()), cash: 9_000_000, openedAt: Self.at("2027-03-03T12:00:00Z"), lastDay: nil, holdings: ["DANGCEM": 1_000],
            fills: [PortfolioSnapshot.LaterFill(symbol: "DANGCEM", side: .buy, qty: 1_000, cadMinor: 500_000, feeMinor: 0, at: Self.at("2027-03-05T10:00:00Z"))])
        let rows = PortfolioSnapshotter.rows(account, through: Self.day("2027-03-05"), market: market)
        #expect(rows.map(\.day.description) == ["2027-03-03", "2027-03-04", "2027-03-05"])
        // Before Friday's buy: cash only.
        #expect(rows[0].cash == 9_500_000 && rows[0].holdings == 0 && rows[1].holdings == 0)
        // Friday: 1,000 shares at the last trade (no bar that day) = ₦400,000 = 40,000,000 kobo × 0.001 = 40,000 cents.
        #expect(rows[2].cash == 9_000_000 && rows[2].holdings == 40_000 && rows[2].unpriced.isEmpty)
        let caughtUp = SnapshotStore.Pending(account: account.account, cash: 1, openedAt: account.openedAt, lastDay: Self.day("2027-03-04"), holdings: [:], fills: [])
        #expect(PortfolioSnapshotter.rows(caughtUp, through: Self.day("2027-03-05"), market: market).map(\.day.description) == ["2027-03-05"])
    }
}
