@testable import NzilaCore
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

    @Test("an operation past its deadline gets the timeout error within a tick, and is cancelled")
    func late() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(20))
        let started = ContinuousClock.now
        await #expect(throws: Late.self) {
            try await watch.run(seconds: 0.1, onTimeout: Late()) { () async throws -> Int in
                let (never, continuation) = AsyncStream.makeStream(of: Void.self)
                for await _ in never {}  // nothing is ever sent: ends when the deadline cancels it
                withExtendedLifetime(continuation) {}
                try Task.checkCancellation()
                return 1
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(100) && elapsed < .seconds(5), "\(elapsed)")
        #expect(watch.pending == 0)
    }
}
