import Crypto
import Foundation
import NzilaValues

/// The seeded simulated market: a documented random process per instrument, in integers only, so
/// a quote is a function of (seed, instrument, time) and any run replays exactly, on any machine.
///
/// **Days.** From the feed's epoch (the first weekday on or after 2026-01-01) each trading day's
/// close is the previous close (the instrument's `startPrice` before the first day) moved by one
/// daily return, drawn from a SplitMix64 generator seeded with SHA-256("nzila-feed-day|seed|symbol|day")
/// as the sum of four uniform draws in [−a, a] parts per million, a = σ_day × 866 ÷ 1,000 (so the
/// return's standard deviation is σ_day = volatility ÷ √252), put on the tick grid by **stochastic
/// rounding** (up with probability equal to how far the target lies above the grid price below it,
/// so small moves on a coarse grid still happen, on average, at the right size) and held inside the
/// day's band. The previous close is the day's **reference price**. Walking a year of closes is a
/// few hundred draws per instrument.
///
/// **Steps.** Within a session, time runs in steps of 15 s (6½ hours: 1,560 steps). The intraday
/// path starts from the reference and ends exactly on the close: at each step, from a generator
/// seeded with SHA-256("nzila-feed|seed|symbol|day"),
///
/// 1. a return r with σ_step = volatility ÷ √(252 × steps) (the same construction), plus a pull
///    toward the close of (close − last) ÷ (steps left), the target rounded onto the grid
///    stochastically and held in the band (the last step is the close itself): the **last trade**;
/// 2. a spread of s ticks, s uniform in 1…`spreadTicks`: the bid s÷2 ticks below the last, the ask s
///    ticks above the bid (both held in the band: at a limit the book is one-sided by a tick);
/// 3. sizes shown at the bid and the ask, each a board lot × (uniform in 1…`depthLots`).
///
/// Before the open (or on a weekend) the quote is the previous close's; after the close, the
/// close's. Index instruments move the same way (their "sizes" mean nothing; nobody trades them).
public enum FeedProcess {
    public static let stepSeconds = 15

    /// One step of a day: the last trade, the bid and ask with their sizes.
    public struct Step: Sendable, Equatable {
        public let last: Price
        public let bid: Price
        public let bidSize: Int64
        public let ask: Price
        public let askSize: Int64
    }

    /// SplitMix64 (Steele, Lea, Flood 2014): small, fast and fully specified, so the same seed gives
    /// the same numbers everywhere.
    public struct Generator: Sendable {
        var state: UInt64

        public init(seed: UInt64) { state = seed }

        public init(seed: String, symbol: String, day: Int) {
            let digest = SHA256.hash(data: Data("nzila-feed|\(seed)|\(symbol)|\(day)".utf8))
            state = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }

        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// Uniform in 0..<n (n > 0), by rejection so no value is favoured.
        public mutating func below(_ n: UInt64) -> UInt64 {
            let limit = UInt64.max - UInt64.max % n
            while true {
                let x = next()
                if x < limit { return x % n }
            }
        }

        /// Uniform in lo...hi.
        public mutating func inRange(_ lo: Int64, _ hi: Int64) -> Int64 {
            lo + Int64(below(UInt64(hi - lo) + 1))
        }
    }

    /// ⌊√n⌋ for n ≥ 0, in integers (Newton's method).
    public static func isqrt(_ n: Int64) -> Int64 {
        guard n > 1 else { return max(0, n) }
        var x = n
        var y = (x + 1) / 2
        while y < x {
            x = y
            y = (x + n / x) / 2
        }
        return x
    }

    /// The session's steps: (close − open) minutes × 60 ÷ 15.
    public static func steps(_ session: ExchangeSession) -> Int { (session.close - session.open) * 60 / stepSeconds }

    /// σ per step in parts per million.
    public static func sigmaPerStepPPM(volatilityBps: Int, steps: Int) -> Int64 {
        Int64(volatilityBps) * 100 * 1_000 / max(1, isqrt(252 * Int64(steps) * 1_000_000))
    }

    /// `price` moved by a random return of standard deviation `sigmaPPM` (plus `pull`, in
    /// ten-thousandths), rounded onto the grid stochastically and held in `band` (never below one tick).
    static func move(_ instrument: Instrument, _ price: Price, sigmaPPM: Int64, pull: Int64 = 0, band: ClosedRange<Price>?, _ random: inout Generator) -> Price {
        let a = max(1, sigmaPPM * 866 / 1_000)
        var r: Int64 = 0
        for _ in 0..<4 { r += random.inRange(-a, a) }
        let target = Price(e4: max(1, price.e4 + price.e4 * r / 1_000_000 + pull))
        let below = instrument.floorToGrid(target)
        let above = instrument.ceilToGrid(target)
        var next = below
        if above > below, random.below(UInt64(above.e4 - below.e4)) < UInt64(target.e4 - below.e4) { next = above }
        return hold(instrument, next, band: band)
    }

    static func hold(_ instrument: Instrument, _ price: Price, band: ClosedRange<Price>?) -> Price {
        var p = max(price, instrument.tick(at: Price(e4: 1)))
        if let band { p = min(max(p, band.lowerBound), band.upperBound) }
        return p
    }

    /// The close of trading day `day` (days since 1970-01-01 in the exchange's calendar) after the
    /// previous close `reference`.
    public static func close(_ instrument: Instrument, seed: String, day: Int, reference: Price) -> Price {
        var random = Generator(seed: "\(seed)|day", symbol: instrument.symbol, day: day)
        let sigma = Int64(instrument.simulation.volatilityBps) * 100 * 1_000 / isqrt(252 * 1_000_000)
        return move(instrument, instrument.floorToGrid(reference), sigmaPPM: sigma, band: instrument.band(reference: reference), &random)
    }

    /// Every step of trading day `day`, from `reference` (the previous close) to `close`.
    public static func day(_ instrument: Instrument, seed: String, day: Int, reference: Price, close: Price) -> [Step] {
        let steps = steps(instrument.session)
        var random = Generator(seed: seed, symbol: instrument.symbol, day: day)
        let sigma = sigmaPerStepPPM(volatilityBps: instrument.simulation.volatilityBps, steps: steps)
        let band = instrument.band(reference: reference)
        var last = hold(instrument, instrument.floorToGrid(reference), band: band)
        var path: [Step] = []
        path.reserveCapacity(steps)
        for k in 0..<steps {
            let left = Int64(steps - k)
            last = k == steps - 1 ? close : move(instrument, last, sigmaPPM: sigma, pull: (close.e4 - last.e4) / left, band: band, &random)
            let spread = Int(random.inRange(1, Int64(max(1, instrument.simulation.spreadTicks))))
            var bid = hold(instrument, instrument.step(last, ticks: -(spread / 2)), band: band)
            var ask = hold(instrument, instrument.step(bid, ticks: spread), band: band)
            if ask <= bid {
                // Pinned at a band limit: one tick apart, inside the band when it is wide enough.
                if let band, bid >= band.upperBound { bid = instrument.step(ask, ticks: -1) } else { ask = instrument.step(bid, ticks: 1) }
            }
            let depth = Int64(max(1, instrument.simulation.depthLots))
            let bidSize = instrument.lot(at: bid) * random.inRange(1, depth)
            let askSize = instrument.lot(at: ask) * random.inRange(1, depth)
            path.append(Step(last: last, bid: bid, bidSize: bidSize, ask: ask, askSize: askSize))
        }
        return path
    }
}
