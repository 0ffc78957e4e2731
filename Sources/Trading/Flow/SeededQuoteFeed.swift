import Foundation
import NzilaValues
import Synchronization

/// A day's bar: open, high, low, close and volume, in the exchange's calendar.
public struct DailyBar: Sendable, Equatable {
    public let symbol: String
    public let day: Day
    public let open: Price
    public let high: Price
    public let low: Price
    public let close: Price
    public let volume: Int64

    public init(symbol: String, day: Day, open: Price, high: Price, low: Price, close: Price, volume: Int64) {
        self.symbol = symbol
        self.day = day
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// Where quotes come from: the seeded simulation (the default) or a provider's API.
public protocol QuoteFeed: Sendable {
    /// Each instrument's quote at `now` (an instrument the source has nothing for is left out).
    func quotes(_ instruments: [Instrument], at now: Date) async throws -> [Quote]
    /// Daily bars of the sessions that closed in `days` (exchange calendar), oldest first.
    func dailyBars(_ instrument: Instrument, days: ClosedRange<Day>, at now: Date) async throws -> [DailyBar]
    /// The reference price (the previous session's close) of the session in progress at `now`, or of
    /// the next: what its price band is around. Nil when the source cannot say.
    func reference(_ instrument: Instrument, at now: Date) async throws -> Price?
}

/// `FeedProcess` as a `QuoteFeed`: it walks each instrument's daily closes from the epoch (a draw
/// a day, remembered), and computes a day's 15-second steps when asked, keeping the latest day's,
/// so a quote costs a lookup once the walk has caught up.
public final class SeededQuoteFeed: QuoteFeed, Sendable {
    /// The first day of every walk (the first weekday on or after it, per exchange).
    public static let epoch = Day(year: 2026, month: 1, day: 1)!

    let seed: String
    struct Walk {
        /// Close of each trading day walked, by day number.
        var closes: [Int: Price] = [:]
        /// The four days' steps asked for last: today's quotes and yesterday's bar, which the first
        /// tick after a close asks for together (four, as planes sharing the feed may be on different days).
        var recent: [(day: Int, steps: [FeedProcess.Step])] = []
        /// Each closed session's bar once computed (a bar never changes once its session has closed).
        var bars: [Int: DailyBar] = [:]
    }
    let walks = Mutex<[String: Walk]>([:])

    public init(seed: String) { self.seed = seed }

    static let bySeed = Mutex<[String: SeededQuoteFeed]>([:])

    /// One feed per seed in a process: the simulation is deterministic, so planes that share a process (the
    /// test suite's, or several planes in one server) share its walked closes instead of each walking them again.
    public static func shared(seed: String) -> SeededQuoteFeed {
        bySeed.withLock { feeds in
            if let feed = feeds[seed] { return feed }
            let feed = SeededQuoteFeed(seed: seed)
            feeds[seed] = feed
            return feed
        }
    }

    /// The simulation is CPU work (a day's path is some 1,440 steps): it gives way to other tasks between
    /// instruments, so a first tick or a backfill never holds one of the few threads of the task pool for long.
    public func quotes(_ instruments: [Instrument], at now: Date) async throws -> [Quote] {
        var quotes: [Quote] = []
        quotes.reserveCapacity(instruments.count)
        for instrument in instruments {
            quotes.append(quote(instrument, at: now))
            await Task.yield()
        }
        return quotes
    }

    public func dailyBars(_ instrument: Instrument, days: ClosedRange<Day>, at now: Date) async throws -> [DailyBar] {
        let today = Self.localDay(instrument.session, now)
        var bars: [DailyBar] = []
        var day = max(days.lowerBound.ordinal, Self.epoch.ordinal)
        while day <= days.upperBound.ordinal {
            // Only sessions that have closed.
            if Self.isTradingDay(day), day < today || (day == today && !instrument.session.isOpen(at: now) && Self.afterClose(instrument.session, now)) {
                if let known = walks.withLock({ $0[instrument.symbol]?.bars[day] }) {
                    bars.append(known)
                } else {
                    let steps = path(instrument, day: day)
                    let lasts = steps.map(\.last)
                    let bar = DailyBar(
                        symbol: instrument.symbol, day: Day(ordinal: day)!, open: lasts.first!, high: lasts.max()!, low: lasts.min()!, close: lasts.last!,
                        volume: steps.reduce(0) { $0 + min($1.bidSize, $1.askSize) })
                    walks.withLock { $0[instrument.symbol, default: Walk()].bars[day] = bar }
                    bars.append(bar)
                    await Task.yield()
                }
            }
            day += 1
        }
        return bars
    }

    /// The quote at `now`: the step in progress, or the last close before it.
    public func quote(_ instrument: Instrument, at now: Date) -> Quote {
        let session = instrument.session
        let today = Self.localDay(session, now)
        let open = session.sessionOf(day: now)?.open ?? now
        if Self.isTradingDay(today), now >= open, today >= Self.firstDay {
            let steps = path(instrument, day: today)
            let index = min(steps.count - 1, Int(now.timeIntervalSince(open)) / FeedProcess.stepSeconds)
            return Self.quote(instrument, steps[index], day: today, index: index, at: open.addingTimeInterval(Double(index * FeedProcess.stepSeconds)))
        }
        // Before the open, or no session today: the previous session's close.
        var day = today - 1
        while !Self.isTradingDay(day) { day -= 1 }
        guard day >= Self.firstDay else {
            let p = instrument.floorToGrid(instrument.simulation.startPrice)
            return Quote(symbol: instrument.symbol, seq: 0, at: now, bid: p, bidSize: 0, ask: instrument.step(p, ticks: 1), askSize: 0, last: p)
        }
        let steps = path(instrument, day: day)
        let closeAt = (session.sessionOf(day: now.addingTimeInterval(Double(day - today) * 86_400))?.close ?? now).addingTimeInterval(-Double(FeedProcess.stepSeconds))
        return Self.quote(instrument, steps[steps.count - 1], day: day, index: steps.count - 1, at: closeAt)
    }

    /// The reference price (the previous session's close) of the session in progress at `now`, or
    /// of the next one: what that session's price band is around, and what an order placed now is
    /// checked against.
    public func reference(_ instrument: Instrument, at now: Date) -> Price? { reference(of: instrument, at: now) }

    public func reference(of instrument: Instrument, at now: Date) -> Price {
        referenceOf(instrument, day: Self.localDay(instrument.session, instrument.session.currentOrNext(at: now).open))
    }

    static func quote(_ instrument: Instrument, _ step: FeedProcess.Step, day: Int, index: Int, at: Date) -> Quote {
        Quote(
            symbol: instrument.symbol, seq: Int64(day) * 10_000 + Int64(index) + 1, at: at, bid: step.bid, bidSize: step.bidSize, ask: step.ask,
            askSize: step.askSize, last: step.last)
    }

    static var firstDay: Int {
        var day = epoch.ordinal
        while !isTradingDay(day) { day += 1 }
        return day
    }

    /// Monday to Friday (day 0, 1970-01-01, was a Thursday).
    static func isTradingDay(_ day: Int) -> Bool {
        let weekday = ((day % 7) + 7 + 3) % 7  // 0 = Monday
        return weekday < 5
    }

    static func localDay(_ session: ExchangeSession, _ now: Date) -> Int {
        Day(session.localDay(now))?.ordinal ?? Int(now.timeIntervalSince1970 / 86_400)
    }

    static func afterClose(_ session: ExchangeSession, _ now: Date) -> Bool {
        guard let today = session.sessionOf(day: now) else { return false }
        return now >= today.close
    }

    /// The close of trading day `day`, walking the daily closes from the last one known (or the epoch).
    func close(_ instrument: Instrument, day: Int) -> Price {
        var walk = walks.withLock { $0[instrument.symbol] } ?? Walk()
        if let known = walk.closes[day] { return known }
        var reference = instrument.simulation.startPrice
        var current = Self.firstDay
        if let earlier = walk.closes.keys.filter({ $0 < day }).max(), let close = walk.closes[earlier] {
            reference = close
            current = earlier + 1
        }
        while current <= day {
            if Self.isTradingDay(current) {
                reference = FeedProcess.close(instrument, seed: seed, day: current, reference: reference)
                walk.closes[current] = reference
            }
            current += 1
        }
        // Only the closes go back: planes sharing the feed may have kept other days' steps and bars meanwhile.
        let walked = walk.closes
        walks.withLock { $0[instrument.symbol, default: Walk()].closes.merge(walked) { kept, _ in kept } }
        return reference
    }

    /// The close before trading day `day` (its reference price).
    func referenceOf(_ instrument: Instrument, day: Int) -> Price {
        var previous = day - 1
        while !Self.isTradingDay(previous) { previous -= 1 }
        return previous >= Self.firstDay ? close(instrument, day: previous) : instrument.floorToGrid(instrument.simulation.startPrice)
    }

    /// Every step of trading day `day` (the four latest asked for are kept).
    func path(_ instrument: Instrument, day: Int) -> [FeedProcess.Step] {
        if let kept = walks.withLock({ $0[instrument.symbol]?.recent.first { $0.day == day } }) { return kept.steps }
        let steps = FeedProcess.day(instrument, seed: seed, day: day, reference: referenceOf(instrument, day: day), close: close(instrument, day: day))
        walks.withLock { walks in
            var recent = walks[instrument.symbol, default: Walk()].recent.filter { $0.day != day }
            recent.insert((day, steps), at: 0)
            walks[instrument.symbol, default: Walk()].recent = Array(recent.prefix(4))
        }
        return steps
    }
}
