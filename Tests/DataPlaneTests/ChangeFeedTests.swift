import DataPlane
import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle
import NzilaTestSupport
import Testing

@Suite("Tenant change feed")
struct ChangeFeedTests {
    @Test("the feed ends on graceful shutdown, even while it keeps failing to connect, and leaves the cache on its short lifetime")
    func endsOnGracefulShutdown() async throws {
        let logger = Logger(label: "test")
        let unreachable = DatabaseURL("postgres://nzila_app:x@127.0.0.1:1/nzila")!
        let directory = TenantDirectory(client: unreachable.makeClient(maximumConnections: 1, applicationName: "test", logger: logger), logger: logger)
        // After its first failure it would wait an hour to reconnect: only a shutdown that cuts the wait short ends it in time.
        let feed = TenantChangeFeed(url: unreachable, directory: directory, clock: .system, logger: logger, initialBackoffSeconds: 3_600)
        let group = ServiceGroup(configuration: .init(services: [feed], logger: logger))
        struct Hung: Error {}
        // A safety net: a feed that ignored the shutdown would never return.
        try await withDeadline(seconds: 60, onTimeout: Hung()) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // Shut down once it has failed to connect, so it is in its reconnect wait.
                _ = try await eventually { directory.feedLossCount >= 1 }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        #expect(directory.feedLossCount >= 1)
        #expect(!directory.isFeedConnected)
    }
}
