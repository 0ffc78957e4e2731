import Hummingbird
import Synchronization

/// Gives up on work that outlives `seconds`: the work is cancelled (a pending database lease is
/// released) and the caller gets `onTimeout`'s error instead of waiting on a dead database forever.
public func withDeadline<Result: Sendable>(
    seconds: Double, onTimeout: @autoclosure @escaping @Sendable () -> any Error, _ work: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw onTimeout()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Answers 503 when a request takes longer than its deadline, typically because the database is
/// unreachable, instead of holding the client's connection open indefinitely.
///
/// Every request races its handler against a `DeadlineWatch` waiter rather than a `Task.sleep`: on
/// Linux each sleep is a libdispatch timer armed and cancelled through the dispatch manager thread,
/// which cost about 8% of the data plane's CPU on a cheap read. One shared ticker expires waiters
/// instead, a quarter of a second late at most on a deadline of seconds.
public struct DeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let seconds: Double
    let watch: DeadlineWatch

    public init(seconds: Double = 15, watch: DeadlineWatch = .shared) {
        self.seconds = seconds
        self.watch = watch
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await withoutActuallyEscaping(next) { next in
            let call = UnsafeTransfer((next, request, context))
            return try await watch.run(seconds: seconds, onTimeout: Problem.deadlineExceeded) {
                try await call.value.0(call.value.1, call.value.2)
            }
        }
    }
}

/// Deadlines for many concurrent operations, expired by one ticker task instead of a timer each.
public final class DeadlineWatch: Sendable {
    public static let shared = DeadlineWatch()

    enum Waiter {
        case waiting(CheckedContinuation<Void, any Error>, ContinuousClock.Instant)
        /// Cancelled before its continuation was registered: registering resumes at once. (A cancel
        /// that races an expiry leaves one too, never registered: the ticker drops it after a while.)
        case cancelled(ContinuousClock.Instant)
    }

    let waiters = Mutex<(next: UInt64, all: [UInt64: Waiter])>((0, [:]))

    /// Starts the ticker; it stops once the watch is gone (the shared one lives as long as the process).
    public init(tick: Duration = .milliseconds(250)) {
        Task.detached { [weak self] in
            while self?.expire(now: .now) != nil { try? await Task.sleep(for: tick) }
        }
    }

    /// Waiters not yet expired or cancelled (for tests).
    public var pending: Int { waiters.withLock { $0.all.count } }

    /// `work`'s result, or `onTimeout()` thrown once `seconds` have passed (the work is then cancelled).
    public func run<Result: Sendable>(
        seconds: Double, onTimeout: @autoclosure @escaping @Sendable () -> any Error, _ work: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await self.wait(until: deadline)
                throw onTimeout()
            }
            defer { group.cancelAll() }
            return try await group.next()!!
        }
    }

    /// Returns at `deadline` (within a tick), or throws CancellationError if cancelled first.
    func wait(until deadline: ContinuousClock.Instant) async throws {
        let id = waiters.withLock { state -> UInt64 in
            state.next &+= 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelledAlready = waiters.withLock { state -> Bool in
                    if case .cancelled? = state.all.removeValue(forKey: id) { return true }
                    state.all[id] = .waiting(continuation, deadline)
                    return false
                }
                if cancelledAlready { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiting = waiters.withLock { state -> CheckedContinuation<Void, any Error>? in
                switch state.all.removeValue(forKey: id) {
                case .waiting(let continuation, _)?: return continuation
                case .cancelled?, nil:
                    state.all[id] = .cancelled(.now)
                    return nil
                }
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    /// Resumes every waiter whose deadline has passed.
    func expire(now: ContinuousClock.Instant) {
        let due = waiters.withLock { state -> [CheckedContinuation<Void, any Error>] in
            var due: [CheckedContinuation<Void, any Error>] = []
            for (id, waiter) in state.all {
                switch waiter {
                case .waiting(let continuation, let deadline) where deadline <= now:
                    due.append(continuation)
                    state.all.removeValue(forKey: id)
                case .cancelled(let at) where now - at > .seconds(10):
                    state.all.removeValue(forKey: id)
                default:
                    break
                }
            }
            return due
        }
        for continuation in due { continuation.resume() }
    }
}

/// Carries a non-Sendable value into a child task that the caller awaits before returning.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension Problem {
    public static let deadlineExceeded = Problem(
        .serviceUnavailable, "deadline-exceeded", "Service unavailable", detail: "The request did not finish in time; retry later.")
}
