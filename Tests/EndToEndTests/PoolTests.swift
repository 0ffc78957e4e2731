import Foundation
import Synchronization
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Connection pool")
struct PoolTests {
    /// postgres-nio 1.33.2's `PostgresClient.query` can keep the lease of a statement that failed after
    /// describing its rows (see `PostgresClient.statement`); a small pool then hangs once its connections have
    /// all leaked. `statement` must give the connection back every time.
    @Test("a statement that fails while executing gives its connection back to the pool")
    func failedStatementsReleaseTheirConnection() async throws {
        let harness = try await Harness.get()
        let client = harness.directURL.makeClient(maximumConnections: 2, applicationName: "nzila-tests-pool", logger: harness.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            // Busy threads beside the NIO and task threads, so the scheduler preempts them often.
            let spinning = Spinners(count: 4)
            defer { spinning.stop() }
            try await withDeadline(seconds: 90, onTimeout: Problem.deadlineExceeded) {
                // Many tasks at once, so a task is often descheduled between sending its statement and
                // attaching to the reply: the window in which the leak happens.
                let states = try await withThrowingTaskGroup(of: [String?].self) { tasks in
                    for _ in 0..<64 {
                        tasks.addTask {
                            var states: [String?] = []
                            for _ in 0..<100 {
                                do {
                                    // Planned and described fine; the division by zero comes when the row is computed.
                                    _ = try await client.statement("SELECT x / (x - 1) FROM generate_series(1, 1) x", logger: harness.logger) {
                                        try await $0.first(Int32.self)
                                    }
                                    states.append(nil)
                                } catch { states.append(DatabaseErrors.sqlState(error)) }
                            }
                            return states
                        }
                    }
                    return try await tasks.reduce(into: []) { $0 += $1 }
                }
                #expect(states.count == 6_400 && states.allSatisfy { $0 == "22012" }, "\(Set(states.map { $0 ?? "none" }))")
                let alive = try await client.statement("SELECT 1", logger: harness.logger) { try await $0.first(Int32.self) }
                #expect(alive == 1)
            }
        }
    }
}

/// Threads that burn CPU until stopped.
final class Spinners: Sendable {
    let running = Atomic<Bool>(true)

    init(count: Int) {
        for _ in 0..<count {
            Thread.detachNewThread { [self] in
                var x = 0
                while running.load(ordering: .relaxed) { x &+= 1 }
                _ = x
            }
        }
    }

    func stop() { running.store(false, ordering: .relaxed) }
}
