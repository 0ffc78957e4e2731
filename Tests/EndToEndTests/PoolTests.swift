import Foundation
import Synchronization
import NzilaCore
import NzilaDatabase
import NIOCore
import NIOPosix
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
            // A safety net only (it takes about a minute beside the rest of the suite on 2 cores).
            try await withDeadline(seconds: 600, onTimeout: Problem.deadlineExceeded) {
                // Many tasks at once, each reaching the window deterministically: before reading its rows it
                // waits until every event loop has finished what it was doing, so the server's error (sent
                // with the row description, in one read) has already failed the stream when it attaches.
                let states = try await withThrowingTaskGroup(of: [String?].self) { tasks in
                    for _ in 0..<64 {
                        tasks.addTask {
                            var states: [String?] = []
                            for _ in 0..<100 {
                                do {
                                    // Planned and described fine; the division by zero comes when the row is computed.
                                    _ = try await client.statement("SELECT x / (x - 1) FROM generate_series(1, 1) x", logger: harness.logger) {
                                        try await Self.afterEveryEventLoop()
                                        return try await $0.first(Int32.self)
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

    /// Returns once every loop of the group the pools run on has run a task submitted now, i.e. has
    /// finished the read it was processing.
    static func afterEveryEventLoop() async throws {
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() { try await loop.submit {}.get() }
    }
}
