/// Whether a payout partner may be tried: it trips open when at least `threshold` of its last
/// `window` outcomes failed (and at least `minimumCalls` are known), stays open for `cooldownMs`,
/// then lets one call through (half-open): a success closes it, a failure opens it again. Pure: the
/// caller passes the time in milliseconds.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable { case closed, open(untilMs: Int64), halfOpen }

    public let window: Int
    public let minimumCalls: Int
    /// Failures out of `window` that trip it, in basis points of the calls seen (5,000 = half).
    public let thresholdBps: Int
    public let cooldownMs: Int64
    public private(set) var state: State = .closed
    /// Newest last; true = failure.
    public private(set) var outcomes: [Bool] = []

    public init(window: Int = 20, minimumCalls: Int = 5, thresholdBps: Int = 5_000, cooldownMs: Int64 = 30_000) {
        precondition(window > 0 && minimumCalls > 0 && minimumCalls <= window, "a breaker looks at a bounded, non-empty window")
        precondition((1...10_000).contains(thresholdBps), "the threshold is a share of calls")
        self.window = window
        self.minimumCalls = minimumCalls
        self.thresholdBps = thresholdBps
        self.cooldownMs = cooldownMs
    }

    /// May a call go through at `nowMs`? An open breaker past its cooldown turns half-open.
    public mutating func allows(nowMs: Int64) -> Bool {
        switch state {
        case .closed, .halfOpen: return true
        case .open(let until):
            guard nowMs >= until else { return false }
            state = .halfOpen
            return true
        }
    }

    public mutating func record(failure: Bool, nowMs: Int64) {
        if case .halfOpen = state {
            outcomes.removeAll()
            state = failure ? .open(untilMs: nowMs + cooldownMs) : .closed
            if !failure { outcomes.append(false) }
            return
        }
        outcomes.append(failure)
        if outcomes.count > window { outcomes.removeFirst(outcomes.count - window) }
        let failures = outcomes.filter { $0 }.count
        if outcomes.count >= minimumCalls, failures * 10_000 >= thresholdBps * outcomes.count {
            state = .open(untilMs: nowMs + cooldownMs)
        }
    }
}
