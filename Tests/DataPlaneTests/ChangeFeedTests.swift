import DataPlane
import Foundation
import Logging
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle
import Testing

@Suite("Tenant change feed")
struct ChangeFeedTests {
    @Test("the feed ends on graceful shutdown, even while it keeps failing to connect, and leaves the cache on its short lifetime")
    func endsOnGracefulShutdown() async throws {
        let logger = Logger(label: "test")
        let unreachable = DatabaseURL("postgres://nzila_app:x@127.0.0.1:1/nzila")!
        let directory = TenantDirectory(client: unreachable.makeClient(maximumConnections: 1, applicationName: "test", logger: logger), logger: logger)
        let feed = TenantChangeFeed(url: unreachable, directory: directory, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [feed], logger: logger))
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(300))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(!directory.isFeedConnected)
    }
}
