import Crypto
import Foundation
import NzilaValues

/// The seeded simulated market: a documented random process per instrument, in integers only, so
/// a quote is a function of (seed, instrument, time) and any run replays exactly, on any machine.
///
/// Time runs in **steps of 15 s** of each exchange's session (6½ hours on TSX: 1,560 steps). Day by
/// day from the feed's epoch (the first weekday on or after 2026-01-01, local to the exchange),
/// the walk starts from the previous day's close (the instrument's `startPrice` on the first day),
/// which is also the day's **reference price** for its price band. At each step, from a SplitMix64
/// generator seeded with SHA-256("nzila-feed|seed|symbol|day"):
///
/// 1. a return r in parts per million, the sum of four uniform draws in [−a, a], with
///    a = σ_step × 866 ÷ 1,000 (so r's standard deviation is σ_step), and
///    σ_step = volatility × 100 × 1,000 ÷ ⌊√(252 × steps × 10⁶)⌋ (annual volatility spread over the
///    year's steps);
/// 2. the target price p × (1 + r ÷ 10⁶), truncated to the ten-thousandth, then put on the tick grid
///    by **stochastic rounding** (up with probability equal to how far it lies above the grid price
///    below it), so small moves on a coarse grid still happen, on average, at the right size;
/// 3. the result held inside the day's band (where the exchange has one) and never below one tick;
///    that is the step's **last trade**;
/// 4. a spread of s ticks, s uniform in 1…`spreadTicks`: the bid s÷2 ticks below the last, the ask s
///    ticks above the bid (both held in the band: at a limit the book is one-sided by a tick);
/// 5. sizes shown at the bid and the ask, each a board lot × (uniform in 1…`depthLots`).
///
/// The day's close is its last step's last trade. Before the open (or on a weekend) the quote is
/// the previous close's; after the close, the close's. Index instruments move the same way (their
/// "sizes" mean nothing and nobody trades them).
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

    /// Every step of `instrument`'s day number `day` (days since 1970-01-01 in the exchange's
    /// calendar), starting from `reference` (the previous close).
    public static func day(_ instrument: Instrument, seed: String, day: Int, reference: Price) -> [Step] {
        let steps = steps(instrument.session)
        var random = Generator(seed: seed, symbol: instrument.symbol, day: day)
        let sigma = sigmaPerStepPPM(volatilityBps: instrument.simulation.volatilityBps, steps: steps)
        let a = max(1, sigma * 866 / 1_000)
        let band = instrument.band(reference: reference)
        let firstTick = instrument.tick(at: Price(e4: 1))
        func hold(_ p: Price) -> Price {
            var p = max(p, firstTick)
            if let band { p = min(max(p, band.lowerBound), band.upperBound) }
            return p
        }
        var last = hold(instrument.floorToGrid(reference))
        var path: [Step] = []
        path.reserveCapacity(steps)
        for _ in 0..<steps {
            var r: Int64 = 0
            for _ in 0..<4 { r += random.inRange(-a, a) }
            let target = Price(e4: max(1, last.e4 + last.e4 * r / 1_000_000))
            let below = instrument.floorToGrid(target)
            let above = instrument.ceilToGrid(target)
            var next = below
            if above > below, random.below(UInt64(above.e4 - below.e4)) < UInt64(target.e4 - below.e4) { next = above }
            last = hold(next)
            let spread = Int(random.inRange(1, Int64(max(1, instrument.simulation.spreadTicks))))
            var bid = hold(instrument.step(last, ticks: -(spread / 2)))
            var ask = hold(instrument.step(bid, ticks: spread))
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
