import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle

/// Listens for the registry's tenant changes (Migrations/control/0004: `nzila_tenants`, payload the
/// slug) on a direct connection to PostgreSQL — PgBouncer in transaction mode cannot carry LISTEN —
/// and drops the directory's entries for each changed tenant, so every data-plane instance sees a
/// suspension or a new domain in milliseconds. A heartbeat notices a dead connection within about
/// two seconds; while the feed is down the directory falls back to its one-second cache lifetime,
/// and it reconnects with backoff.
public struct TenantChangeFeed: Service {
    public static let channel = "nzila_tenants"
    /// Revoked access tokens (Migrations/control/0010), payload the token's SHA-256 in hex.
    public static let revocations = "nzila_revocations"

    let url: DatabaseURL
    let directory: TenantDirectory
    let verifier: TokenVerifier?
    let logger: Logger
    let heartbeatSeconds: Double
    /// Under `nzila dev --test-clock`: the platform clock, which follows the stack's test clock
    /// (`TestClockRegistry`): adopted on connect, on each move announced, and on each heartbeat.
    let testClock: MovableClock?
    /// The first reconnect's pause (doubling to 5 s): a test makes it long to prove shutdown does not wait it out.
    let initialBackoffSeconds: Double
    /// The platform clock: revocations of tokens already expired by it are not loaded.
    let clock: Clock
    /// Other announcements this connection hears for the plane, by channel (`nzila_quotes` wakes the
    /// price broadcast), each called on every notification of its channel and once on connect.
    let wakes: [String: @Sendable () -> Void]

    public init(
        url: DatabaseURL, directory: TenantDirectory, verifier: TokenVerifier? = nil, clock: Clock, testClock: MovableClock? = nil, logger: Logger,
        heartbeatSeconds: Double = 1, initialBackoffSeconds: Double = 0.1, wakes: [String: @Sendable () -> Void] = [:]
    ) {
        self.wakes = wakes
        self.initialBackoffSeconds = initialBackoffSeconds
        self.clock = clock
        self.url = url
        self.directory = directory
        self.verifier = verifier
        self.testClock = testClock
        self.logger = logger
        self.heartbeatSeconds = heartbeatSeconds
    }

    struct Closed: Error {}

    /// Runs until cancelled or, under a ServiceGroup, until graceful shutdown begins.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var backoff = initialBackoffSeconds
            while !Task.isCancelled {
                do {
                    try await listenUntilLost { backoff = initialBackoffSeconds }
                } catch is CancellationError {
                    break
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("tenant change feed lost; cache lifetime back to the fallback", metadata: ["error": "\(String(reflecting: error))"])
                }
                directory.feed(connected: false)
                try? await Task.sleep(for: .seconds(backoff))
                backoff = min(backoff * 2, max(5, initialBackoffSeconds))
            }
        }
        directory.feed(connected: false)
    }

    /// One connection's life: LISTEN, then forget each announced tenant until the connection or its
    /// heartbeat fails.
    func listenUntilLost(onConnected: () -> Void) async throws {
        let connection = try await url.connect(applicationName: "nzila-tenant-feed", logger: logger)
        do {
            let notifications = try await connection.listen(Self.channel)
            let revoked = try await connection.listen(Self.revocations)
            let clockMoves = testClock == nil ? nil : try await connection.listen(TestClockRegistry.channel)
            var woken: [(PostgresNotificationSequence, @Sendable () -> Void)] = []
            for (channel, wake) in wakes.sorted(by: { $0.key < $1.key }) { woken.append((try await connection.listen(channel), wake)) }
            if let testClock { testClock.adopt(offsetMicroseconds: try await TestClockRegistry.offset(connection, logger: logger)) }
            if let verifier {
                // Revocations made while the feed was down come from the table.
                let digests = try await connection.query(
                    "SELECT token_sha256 FROM control.revoked_tokens WHERE expires_at > \(clock.now())", logger: logger
                ).all(Data.self)
                verifier.setRevoked(Set(digests))
            }
            directory.feed(connected: true)
            onConnected()
            logger.info("tenant change feed connected")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await notification in notifications { directory.forget(slug: notification.payload) }
                    throw Closed()
                }
                group.addTask {
                    for try await notification in revoked {
                        if let digest = Data(hex: notification.payload) { verifier?.revoke(digest: digest) }
                    }
                    throw Closed()
                }
                for (notifications, wake) in woken {
                    // What was announced while nobody listened, then each announcement.
                    wake()
                    group.addTask {
                        for try await _ in notifications { wake() }
                        throw Closed()
                    }
                }
                if let clockMoves, let testClock {
                    group.addTask {
                        for try await move in clockMoves {
                            if let offset = Int64(move.payload) { testClock.adopt(offsetMicroseconds: offset) }
                        }
                        throw Closed()
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .seconds(heartbeatSeconds))
                        try await withDeadline(seconds: heartbeatSeconds * 2, onTimeout: Closed()) {
                            if let testClock {
                                // The heartbeat doubles as the clock's fallback: a lost NOTIFY costs at most one beat.
                                testClock.adopt(offsetMicroseconds: try await TestClockRegistry.offset(connection, logger: logger))
                            } else {
                                _ = try await connection.query("SELECT 1", logger: logger).first(Int32.self)
                            }
                        }
                    }
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
