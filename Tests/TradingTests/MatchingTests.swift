import Foundation
import NzilaValues
import Testing
@testable import Trading

/// Fills, positions, sessions and the seeded feed, as pure rules.
@Suite("Matching, positions, sessions and the feed")
struct MatchingTests {
    static func p(_ text: String) -> Price { Price(text)! }
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func quote(_ seq: Int64, bid: String, bidSize: Int64 = 500, ask: String, askSize: Int64 = 500, last: String? = nil) -> Quote {
        Quote(symbol: "RY", seq: seq, at: t0.addingTimeInterval(Double(seq) * 15), bid: p(bid), bidSize: bidSize, ask: p(ask), askSize: askSize, last: p(last ?? bid))
    }

    static func order(_ side: OrderSide, _ type: OrderType, _ qty: Int64, limit: String? = nil, stop: String? = nil) -> WorkingOrder {
        WorkingOrder(id: UUID(), side: side, type: type, qty: qty, limit: limit.map(p), stop: stop.map(p))
    }

    @Test("a market order takes the shown size at the ask, the rest at later quotes; never twice on one quote")
    func marketPartial() {
        let buy = Self.order(.buy, .market, 1_200)
        let first = Matching.match([buy], against: Self.quote(1, bid: "10.00", ask: "10.02", askSize: 500))
        #expect(first.fills.map(\.qty) == [500] && first.fills.first?.price == Self.p("10.02"))
        #expect(first.orders[0].filledQty == 500 && first.orders[0].leavesQty == 700)
        let again = Matching.match(first.orders, against: Self.quote(1, bid: "10.00", ask: "10.02", askSize: 500))
        #expect(again.fills.isEmpty, "the same quote again fills nothing")
        let second = Matching.match(first.orders, against: Self.quote(2, bid: "10.01", ask: "10.03", askSize: 900))
        #expect(second.fills.map(\.qty) == [700] && second.fills.first?.price == Self.p("10.03") && second.orders[0].leavesQty == 0)
    }

    @Test("orders of one book share a quote's shown size oldest first")
    func timePriority() {
        let (a, b) = (Self.order(.buy, .market, 300), Self.order(.buy, .limit, 300, limit: "10.05"))
        let result = Matching.match([a, b], against: Self.quote(1, bid: "10.00", ask: "10.02", askSize: 400))
        #expect(result.fills.map(\.qty) == [300, 100] && result.fills.map(\.order) == [a.id, b.id])
    }

    @Test("a limit buy fills when the ask is at or below it, at the ask; a limit sell when the bid is at or above it, at the bid")
    func limits() {
        let buy = Self.order(.buy, .limit, 100, limit: "10.00")
        #expect(Matching.match([buy], against: Self.quote(1, bid: "9.99", ask: "10.01")).fills.isEmpty)
        #expect(Matching.match([buy], against: Self.quote(2, bid: "9.97", ask: "9.98")).fills.first?.price == Self.p("9.98"), "the better of the two")
        let sell = Self.order(.sell, .limit, 100, limit: "10.00")
        #expect(Matching.match([sell], against: Self.quote(1, bid: "9.99", ask: "10.01")).fills.isEmpty)
        #expect(Matching.match([sell], against: Self.quote(2, bid: "10.00", ask: "10.02")).fills.first?.price == Self.p("10.00"))
    }

    @Test("a stop elects when the last trade reaches it and fills as market; a gap fills at the quote beyond, never at the stale stop")
    func stops() {
        let sell = Self.order(.sell, .stop, 100, stop: "9.50")
        let above = Matching.match([sell], against: Self.quote(1, bid: "9.60", ask: "9.62", last: "9.61"))
        #expect(above.fills.isEmpty && !above.orders[0].elected)
        let gap = Matching.match(above.orders, against: Self.quote(2, bid: "9.10", ask: "9.14", last: "9.12"))
        #expect(gap.orders[0].elected && gap.fills.first?.price == Self.p("9.10"), "filled at the bid beyond the stop: \(gap.fills)")
        let buy = Self.order(.buy, .stop, 100, stop: "10.50")
        let up = Matching.match([buy], against: Self.quote(1, bid: "10.60", ask: "10.64", last: "10.62"))
        #expect(up.fills.first?.price == Self.p("10.64"))
    }

    @Test("a stop-limit elected works as a limit: no fill beyond its limit, a fill once the market comes back")
    func stopLimits() {
        let sell = Self.order(.sell, .stopLimit, 100, limit: "9.40", stop: "9.50")
        let gap = Matching.match([sell], against: Self.quote(1, bid: "9.10", ask: "9.14", last: "9.12"))
        #expect(gap.orders[0].elected && gap.fills.isEmpty, "elected, but the bid is below its limit")
        let back = Matching.match(gap.orders, against: Self.quote(2, bid: "9.45", ask: "9.47", last: "9.46"))
        #expect(back.fills.first?.price == Self.p("9.45"))
        #expect(Trigger(sell) == .sellStop(Self.p("9.50")) && Trigger(gap.orders[0]) == .sellLimit(Self.p("9.40")), "an elected stop-limit is a limit")
    }

    @Test("each order's trigger says which quotes concern it, without the order")
    func triggers() {
        let book = [
            Self.order(.buy, .limit, 100, limit: "9.90"), Self.order(.sell, .limit, 100, limit: "10.30"),
            Self.order(.sell, .stop, 100, stop: "9.00"), Self.order(.buy, .stop, 100, stop: "11.00"),
        ]
        let triggers = book.compactMap(Trigger.init)
        #expect(triggers == [.buyLimit(Self.p("9.90")), .sellLimit(Self.p("10.30")), .sellStop(Self.p("9.00")), .buyStop(Self.p("11.00"))])
        func concerned(_ quote: Quote) -> [Bool] { triggers.map { Matching.concerns($0, quote) } }
        #expect(concerned(Self.quote(1, bid: "10.00", ask: "10.02", last: "10.01")) == [false, false, false, false])
        #expect(concerned(Self.quote(2, bid: "9.88", ask: "9.90", last: "9.89")) == [true, false, false, false])
        #expect(concerned(Self.quote(3, bid: "10.30", ask: "10.32", last: "10.31")) == [false, true, false, false])
        #expect(concerned(Self.quote(4, bid: "8.98", ask: "9.02", last: "9.00")) == [true, false, true, false])
        #expect(concerned(Self.quote(5, bid: "11.00", ask: "11.02", last: "11.01")) == [false, true, false, true])
        #expect(Trigger(Self.order(.buy, .market, 100)) == .any && Matching.concerns(.any, Self.quote(6, bid: "10.00", ask: "10.02")))
        var elected = Self.order(.buy, .stop, 100, stop: "11.00")
        elected.elected = true
        #expect(Trigger(elected) == .any, "an elected stop trades at any price")
        var done = Self.order(.buy, .limit, 100, limit: "9.90")
        done.filledQty = 100
        #expect(Trigger(done) == nil)
        // Whatever a quote fills, it concerns: no order fills against a quote its trigger says leaves it alone.
        for (n, quote) in [Self.quote(7, bid: "9.85", ask: "9.95", last: "9.90"), Self.quote(8, bid: "10.40", ask: "10.44", last: "10.42")].enumerated() {
            let filled = Set(Matching.match(book, against: quote).fills.map(\.order))
            for order in book where filled.contains(order.id) { #expect(Matching.concerns(Trigger(order)!, quote), "quote \(n)") }
        }
    }

    @Test("average cost and realised P&L: buy 100 @ 10.00, 50 @ 13.00 → 11.00; sell 80 @ 12.00 → +80.00; 70 left at 12.50 → +105.00")
    func positions() throws {
        var position = Position().buying(100, at: Self.p("10.00"), cadMinor: 100_000).buying(50, at: Self.p("13.00"), cadMinor: 65_000)
        #expect(position.averageCost == Self.p("11.00") && position.qty == 150)
        position = try position.selling(80, at: Self.p("12.00"), cadMinor: 96_000)
        #expect(position.realisedE4 == Self.p("80.00").e4 && position.realisedCADMinor == 8_000)
        #expect(position.qty == 70 && position.averageCost == Self.p("11.00"))
        #expect(position.marked(at: Self.p("12.50")).unrealisedE4 == Self.p("105.00").e4 && position.marked(at: Self.p("12.50")).valueE4 == Self.p("875.00").e4)
        #expect(throws: Position.Refusal.oversold(held: 70, selling: 71)) { try position.selling(71, at: Self.p("12.00"), cadMinor: 0) }
        // Selling out removes the basis to the last unit, whatever the rounding on the way.
        var thirds = Position().buying(3, at: Self.p("10.0001"), cadMinor: 3_001)
        thirds = try thirds.selling(1, at: Self.p("10.0001"), cadMinor: 1_000)
        thirds = try thirds.selling(2, at: Self.p("10.0001"), cadMinor: 2_001)
        #expect(thirds.basisE4 == 0 && thirds.basisCADMinor == 0 && thirds.realisedE4 == 0 && thirds.realisedCADMinor == 0)
    }

    @Test("sessions in each exchange's zone: Toronto's daylight saving, Lagos without; a day order placed after Friday's close expires at Monday's")
    func sessions() throws {
        let toronto = try #require(ExchangeSession(timeZone: "America/Toronto", open: 570, close: 960))
        let iso = ISO8601DateFormatter()
        // 2027-01-15 is a Friday: EST (UTC−5), so 09:30 is 14:30Z.
        #expect(!toronto.isOpen(at: iso.date(from: "2027-01-15T14:29:59Z")!) && toronto.isOpen(at: iso.date(from: "2027-01-15T14:30:00Z")!))
        #expect(!toronto.isOpen(at: iso.date(from: "2027-01-15T21:00:00Z")!))
        // July: EDT (UTC−4), 09:30 is 13:30Z.
        #expect(toronto.isOpen(at: iso.date(from: "2027-07-15T13:30:00Z")!))
        #expect(toronto.dayOrderExpiry(placedAt: iso.date(from: "2027-01-15T15:00:00Z")!) == iso.date(from: "2027-01-15T21:00:00Z")!)
        #expect(toronto.dayOrderExpiry(placedAt: iso.date(from: "2027-01-15T21:30:00Z")!) == iso.date(from: "2027-01-18T21:00:00Z")!, "after Friday's close: Monday's")
        #expect(toronto.dayOrderExpiry(placedAt: iso.date(from: "2027-01-16T12:00:00Z")!) == iso.date(from: "2027-01-18T21:00:00Z")!, "on Saturday: Monday's")
        let lagos = try #require(ExchangeSession(timeZone: "Africa/Lagos", open: 600, close: 870))
        #expect(lagos.isOpen(at: iso.date(from: "2027-07-15T09:00:00Z")!) && !lagos.isOpen(at: iso.date(from: "2027-07-15T13:30:00Z")!))
        #expect(lagos.localDay(iso.date(from: "2027-07-15T23:30:00Z")!) == "2027-07-16")
        #expect(ExchangeSession(timeZone: "Mars/Olympus", open: 600, close: 870) == nil && ExchangeSession(timeZone: "Africa/Lagos", open: 900, close: 600) == nil)
    }

    @Test("the seeded feed: the same seed replays exactly; every price on the grid, inside the day's band, the bid below the ask, sizes in board lots")
    func feed() throws {
        let ngx = TradingRuleTests.ngx
        let close = FeedProcess.close(ngx, seed: "s1", day: 20_500, reference: Self.p("480"))
        #expect(close == FeedProcess.close(ngx, seed: "s1", day: 20_500, reference: Self.p("480")) && ngx.isOnGrid(close))
        let a = FeedProcess.day(ngx, seed: "s1", day: 20_500, reference: Self.p("480"), close: close)
        #expect(a == FeedProcess.day(ngx, seed: "s1", day: 20_500, reference: Self.p("480"), close: close))
        #expect(a != FeedProcess.day(ngx, seed: "s2", day: 20_500, reference: Self.p("480"), close: close))
        #expect(a.last?.last == close, "the day ends on its close")
        #expect(a.count == FeedProcess.steps(ngx.session) && a.count == 1_040)
        let band = try #require(ngx.band(reference: Self.p("480")))
        for step in a {
            #expect(ngx.isOnGrid(step.last) && ngx.isOnGrid(step.bid) && ngx.isOnGrid(step.ask))
            #expect(band.contains(step.last) && band.contains(step.bid) && band.contains(step.ask) && step.bid < step.ask)
            #expect(step.bidSize >= 1 && step.askSize >= 1 && step.bidSize <= 10 && step.askSize <= 10)
        }
        #expect(Set(a.map(\.last)).count > 10, "it moves")
        // TSX sizes come in board lots of 100.
        let tsx = FeedProcess.day(TradingRuleTests.tsx, seed: "s1", day: 20_500, reference: Self.p("150"), close: Self.p("151.20"))
        #expect(tsx.allSatisfy { $0.bidSize % 100 == 0 && $0.askSize % 100 == 0 })
        #expect(FeedProcess.isqrt(393_120_000_000) == 626_992 && FeedProcess.isqrt(0) == 0 && FeedProcess.isqrt(1) == 1)
    }

    @Test("the feed's quote at a time: the step in progress, the previous close before the open; the same time, the same quote")
    func feedQuotes() {
        let feed = SeededQuoteFeed(seed: "demo")
        let other = SeededQuoteFeed(seed: "demo")
        let iso = ISO8601DateFormatter()
        let ngx = TradingRuleTests.ngx
        let noon = iso.date(from: "2026-03-04T11:00:00Z")!  // Wednesday 12:00 in Lagos
        #expect(feed.quote(ngx, at: noon) == other.quote(ngx, at: noon))
        let before = feed.quote(ngx, at: iso.date(from: "2026-03-04T08:00:00Z")!)
        let lastNight = feed.quote(ngx, at: iso.date(from: "2026-03-03T20:00:00Z")!)
        #expect(before.last == lastNight.last && before.seq == lastNight.seq, "before the open: yesterday's close")
        #expect(feed.reference(of: ngx, at: noon) == lastNight.last)
        let later = feed.quote(ngx, at: noon.addingTimeInterval(15))
        #expect(later.seq == feed.quote(ngx, at: noon).seq + 1)
    }
}
