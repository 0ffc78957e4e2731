import Foundation
import Synchronization

/// The platform clock: the one source of business time. Rules take `now`; stores bind it into SQL;
/// nothing deciding business time reads `Date()` or PostgreSQL's `now()`. Injected, so the tests and
/// `nzila dev --test-clock` run the platform on a `MovableClock`.
public struct Clock: Sendable {
    public var now: @Sendable () -> Date
    /// Set when the clock can move: services that run due work subscribe to its moves.
    public let movable: MovableClock?

    public init(now: @escaping @Sendable () -> Date) {
        self.now = now
        self.movable = nil
    }

    /// The machine's clock (production).
    public static let system = Clock { Date() }

    /// A clock the tests and `nzila dev --test-clock` move.
    public static func movable(_ clock: MovableClock) -> Clock { Clock(clock) }

    private init(_ clock: MovableClock) {
        self.now = { clock.now() }
        self.movable = clock
    }
}

/// A clock that runs at the machine's pace from an offset, or stands still (`frozen`), and only ever
/// moves forward when told, like Stripe's test clocks. Each move is announced to its subscribers,
/// which wake the workers so what became due runs at once (expired holds, unfunded remittances).
public final class MovableClock: Sendable {
    struct State {
        /// Microseconds added to the machine's clock.
        var offsetMicroseconds: Int64
        /// When set, time stands still here (the offset is then unused).
        var frozenAt: Date?
        var subscribers: [UUID: AsyncStream<Void>.Continuation] = [:]
    }

    let state: Mutex<State>
    /// The machine's clock: injectable so the clock's own tests need no waiting either.
    let machine: @Sendable () -> Date

    /// A clock that runs from `offsetSeconds` ahead of the machine's, or stands still at `frozenAt`.
    public init(offsetSeconds: Double = 0, frozenAt: Date? = nil, machine: @escaping @Sendable () -> Date = { Date() }) {
        state = Mutex(State(offsetMicroseconds: Int64((offsetSeconds * 1_000_000).rounded(.towardZero)), frozenAt: frozenAt))
        self.machine = machine
    }

    /// The platform's time.
    public func now() -> Date {
        let (offset, frozen) = state.withLock { ($0.offsetMicroseconds, $0.frozenAt) }
        if let frozen { return frozen }
        return machine().addingTimeInterval(Double(offset) / 1_000_000)
    }

    /// Seconds the clock is ahead of the machine's (for a frozen clock: at this moment).
    public var offsetSeconds: Double {
        let (offset, frozen) = state.withLock { ($0.offsetMicroseconds, $0.frozenAt) }
        if let frozen { return frozen.timeIntervalSince(machine()) }
        return Double(offset) / 1_000_000
    }

    public var offsetMicroseconds: Int64 { state.withLock { $0.offsetMicroseconds } }
    public var isFrozen: Bool { state.withLock { $0.frozenAt != nil } }

    /// The most a single move may take (ten years): a typo must not fling the platform into the future.
    public static let maximumAdvanceSeconds: Double = 10 * 366 * 86_400

    /// Moves the clock forward by `seconds` (> 0, at most `maximumAdvanceSeconds`) and announces it.
    public func advance(seconds: Double) {
        precondition(seconds > 0 && seconds <= Self.maximumAdvanceSeconds, "the clock moves forward, by a bounded step")
        let micros = Int64((seconds * 1_000_000).rounded(.towardZero))
        announce {
            if let frozen = $0.frozenAt {
                $0.frozenAt = frozen.addingTimeInterval(Double(micros) / 1_000_000)
            } else {
                $0.offsetMicroseconds += micros
            }
        }
    }

    /// Takes the offset another process announced (the registry's `control.test_clock`); a value
    /// behind this one is ignored, so a late notification cannot move the clock back.
    public func adopt(offsetMicroseconds: Int64) {
        guard state.withLock({ $0.frozenAt == nil && offsetMicroseconds > $0.offsetMicroseconds }) else { return }
        announce { $0.offsetMicroseconds = max($0.offsetMicroseconds, offsetMicroseconds) }
    }

    /// A stream that yields after each move (the newest one only, if the reader is behind); it ends
    /// when the reader's task ends the iteration.
    public func moves() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        state.withLock { $0.subscribers[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) } }
        return stream
    }

    private func announce(_ change: (inout State) -> Void) {
        let subscribers = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            change(&state)
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield() }
    }
}
