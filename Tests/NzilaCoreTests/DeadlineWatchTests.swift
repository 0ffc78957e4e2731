@testable import NzilaCore
import Synchronization
import Testing

@Suite("Request deadlines")
struct DeadlineWatchTests {
    struct Late: Error {}
    struct Own: Error {}

    @Test("a quick operation returns its value and leaves no waiter; its own error comes back as thrown")
    func quick() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(20))
        let value = try await watch.run(seconds: 5, onTimeout: Late()) { 42 }
        #expect(value == 42)
        await #expect(throws: Own.self) { try await watch.run(seconds: 5, onTimeout: Late()) { () async throws -> Int in throw Own() } }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<500 { group.addTask { try await watch.run(seconds: 5, onTimeout: Late()) { index } } }
            let sum = try await group.reduce(0, +)
            #expect(sum == (0..<500).reduce(0, +))
        }
        #expect(watch.pending == 0, "cancelled waiters are removed, even when cancelled before they registered")
    }

    @Test("an operation that never ends gets the timeout error, not before its deadline, and is cancelled")
    func late() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(20))
        let cancelled = Mutex(false)
        let started = ContinuousClock.now
        await #expect(throws: Late.self) {
            try await watch.run(seconds: 0.1, onTimeout: Late()) { () async throws -> Int in
                let (never, continuation) = AsyncStream.makeStream(of: Void.self)
                for await _ in never {}  // nothing is ever sent: ends when the deadline cancels it
                withExtendedLifetime(continuation) {}
                cancelled.withLock { $0 = Task.isCancelled }
                return 1
            }
        }
        let elapsed = ContinuousClock.now - started
        // It never ends by itself, so the error is the deadline's; how late it came is the machine's business.
        #expect(elapsed >= .milliseconds(100), "\(elapsed)")
        #expect(cancelled.withLock { $0 }, "the operation was cancelled")
        #expect(watch.pending == 0)
    }
}
