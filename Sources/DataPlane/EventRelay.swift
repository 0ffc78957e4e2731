import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The delivery side of the outbox, run by every data plane:
///
/// - **Publishing**: after every COMMIT of this process that wrote events (`OutboxWake`), it numbers
///   that tenant's new events (`EventLog.publish`: one relay per tenant at a time whatever the
///   number of planes, under the tenant's relay row lock) and announces the new last seq on
///   `nzila_events`. A plane that `publishes` (one with workers) also sweeps every active tenant
///   every `sweepInterval`: what a plane that died after its COMMIT left unnumbered.
/// - **Fan-out**: every plane hears `nzila_events` and hands the announcement to its `EventHub`,
///   which feeds its own live streams; the sweep also asks each listened tenant's last seq.
/// - **Credentials**: the hub's streams are checked every `credentialCheckSeconds` and at each move
///   of a test clock: an expired or revoked token closes its stream.
/// - **Retention**: published events older than `retentionDays` (business time) are purged by the
///   sweep: the window in which a stream can `resume`.
///
/// LISTEN needs a direct connection (PgBouncer in transaction mode cannot carry it): `url`. Without
/// one, the sweep alone fans out, every `sweepInterval`.
public struct EventRelay: Service {
    public static let publishedChannel = "nzila_events"

    public struct Settings: Sendable {
        /// Sweep every tenant for events left unnumbered (and purge past retention); off on a plane
        /// without workers, which still numbers what it writes itself.
        public var publishes = true
        public var sweepInterval: Duration = .seconds(10)
        public var credentialCheckSeconds: Double = 5
        public var retentionDays = 7
        /// Events numbered per statement.
        public var batch = 500
        /// Tenants published at once after wake-ups.
        public var concurrency = 4
        /// The tenants this relay numbers; nil: every one (production, where every plane runs on the
        /// one platform clock). The test suite runs many stacks, each on its own clock, against one
        /// database: each relays only the tenants it made, so no event is stamped by another's clock.
        public var only: (@Sendable (TenantID) -> Bool)?

        public init() {}
    }

    let url: DatabaseURL?
    let hub: EventHub
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let clock: Clock
    let clockMoves: AsyncStream<Void>?
    let verifier: TokenVerifier
    let settings: Settings
    let logger: Logger
    let pumps: PublishPumps
    let purges = RetentionPurges()
    /// When to sweep, and when to check the streams' credentials (also at each move of a test clock).
    let sweepTicks: SweepTicks
    let credentialTicks: SweepTicks
    /// Deliveries were queued for this tenant's webhooks.
    let queued: @Sendable (TenantRef) -> Void
    /// Events of this tenant were numbered (notifications read them).
    let published: @Sendable (TenantRef) -> Void

    init(
        url: DatabaseURL?, hub: EventHub, tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        clock: Clock, clockMoves: AsyncStream<Void>?, verifier: TokenVerifier, settings: Settings, logger: Logger,
        queued: @escaping @Sendable (TenantRef) -> Void = { _ in }, published: @escaping @Sendable (TenantRef) -> Void = { _ in }
    ) {
        self.queued = queued
        self.published = published
        self.url = url
        self.hub = hub
        self.tenants = tenants
        self.session = session
        self.clock = clock
        self.clockMoves = clockMoves
        self.verifier = verifier
        self.settings = settings
        self.logger = logger
        self.pumps = PublishPumps(concurrency: settings.concurrency)
        self.sweepTicks = SweepTicks(interval: settings.sweepInterval, clockMoves: nil)
        self.credentialTicks = SweepTicks(interval: .milliseconds(Int64(settings.credentialCheckSeconds * 1_000)), clockMoves: clockMoves)
    }

    public func run() async throws {
        let listening = OutboxWake.listen { [self] tenant in
            guard settings.only?(tenant.id) ?? true else { return }
            pumps.wake(tenant) { await publish($0) }
        }
        defer { OutboxWake.stopListening(listening) }
        await withTaskGroup(of: Void.self) { group in
            if let url { group.addTask { await listen(url) } }
            group.addTask { await sweepTicks.run { await sweep() } }
            group.addTask { await credentialTicks.run { hub.checkCredentials(now: clock.now(), isRevoked: verifier.isRevoked) } }
            try? await gracefulShutdown()
            hub.closeAll()
            group.cancelAll()
        }
    }

    // MARK: publishing

    /// Numbers every unsequenced event of `tenant`, batch by batch. Returns the last seq (nil when
    /// the tenant could not be reached: the sweep tries again).
    @discardableResult
    func publish(_ tenant: TenantRef) async -> Int64? {
        var last: Int64?
        for _ in 0..<1_000 {
            do {
                guard let (count, lastSeq, deliveries) = try await session(tenant).run({ try await EventLog($0).publish(limit: settings.batch, channel: Self.publishedChannel) })
                else { return last }
                last = lastSeq
                if deliveries > 0 { queued(tenant) }
                if count > 0 { published(tenant) }
                if count > 0 { Observability.count("nzila_events_published_total", [], by: count) }
                if count < settings.batch { return last }
            } catch {
                // Stopping (a plane shutting down) is not a failure to report.
                if Task.isCancelled || Task.isShuttingDownGracefully { return last }
                logger.warning("event relay could not publish; the sweep retries", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
                return last
            }
        }
        return last
    }

    // MARK: the listening connection

    func listen(_ url: DatabaseURL) async {
        var backoff = 0.1
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let connection = try await url.connect(applicationName: "nzila-event-relay", logger: logger)
                do {
                    let published = try await connection.listen(Self.publishedChannel)
                    backoff = 0.1
                    logger.info("event relay listening")
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await note in published {
                                let parts = note.payload.split(separator: ":")
                                if parts.count == 2, let id = UUID(uuidString: String(parts[0])), let seq = Int64(parts[1]) {
                                    hub.announced(tenant: TenantID(id), lastSeq: seq)
                                }
                            }
                            throw TenantChangeFeed.Closed()
                        }
                        // What was written while nobody listened.
                        group.addTask { await sweep() }
                        // The connection's health, on the machine's clock (as the change feed's heartbeat).
                        group.addTask {
                            while true {
                                try await Task.sleep(for: .seconds(1))
                                try await withDeadline(seconds: 2, onTimeout: TenantChangeFeed.Closed()) {
                                    _ = try await connection.query("SELECT 1", logger: logger).first(Int32.self)
                                }
                            }
                        }
                        defer { group.cancelAll() }
                        _ = try await group.next()
                        _ = try await group.next()
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("event relay lost its listening connection; the sweep covers until it is back", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(backoff))
            backoff = min(backoff * 2, 5)
        }
    }

    // MARK: the sweep

    /// Every active tenant: publish what is waiting, purge what is past retention; then ask each
    /// listened tenant's last seq.
    func sweep() async {
        if settings.publishes {
            var all: [TenantRef]
            do { all = try await tenants() } catch {
                logger.warning("event relay could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
                return
            }
            if let only = settings.only { all = all.filter { only($0.id) } }
            let before = clock.now().addingTimeInterval(-Double(settings.retentionDays) * 86_400)
            for tenant in all where !Task.isCancelled && !Task.isShuttingDownGracefully {
                await publish(tenant)
                if purges.due(tenant.id, now: clock.now()) {
                    _ = try? await session(tenant).run { try await EventLog($0).purge(publishedBefore: before, limit: 10_000) }
                }
            }
        }
        for tenant in hub.listening where !Task.isCancelled {
            if let last = try? await session(tenant).run({ try await EventLog($0).bounds().last }) {
                hub.announced(tenant: tenant.id, lastSeq: last)
            }
        }
    }

}

/// Retention purges, per tenant at most once an hour of the platform clock in this process (the
/// first sweep of a process purges every tenant): a sweep every 10 s would otherwise spend a
/// transaction per tenant on finding nothing old enough, and retention is counted in days. A clock
/// stepped back purges again at once.
final class RetentionPurges: Sendable {
    let every: TimeInterval
    let last = Mutex<[TenantID: Date]>([:])

    init(every: TimeInterval = 3_600) { self.every = every }

    /// Whether `tenant` is due a purge at `now` (and, if so, it counts as purged now).
    func due(_ tenant: TenantID, now: Date) -> Bool {
        last.withLock { last in
            if let at = last[tenant], now >= at, now.timeIntervalSince(at) < every { return false }
            last[tenant] = now
            return true
        }
    }
}

/// Per-tenant work after wake-ups (the relay's publishing, the webhook dispatcher's and the
/// notifier's drains): at most one run per tenant (a wake-up during a
/// run makes it go round once more), at most `concurrency` tenants at once (the rest queue).
final class PublishPumps: Sendable {
    struct State {
        var running: Set<TenantID> = []
        var again: Set<TenantID> = []
        var queued: [TenantRef] = []
    }

    let state = Mutex(State())
    let concurrency: Int

    init(concurrency: Int) { self.concurrency = max(1, concurrency) }

    func wake(_ tenant: TenantRef, _ publish: @escaping @Sendable (TenantRef) async -> Void) {
        let start = state.withLock { state -> Bool in
            if state.running.contains(tenant.id) {
                state.again.insert(tenant.id)
                return false
            }
            if state.running.count >= concurrency {
                if !state.queued.contains(where: { $0.id == tenant.id }) { state.queued.append(tenant) }
                return false
            }
            state.running.insert(tenant.id)
            return true
        }
        if start { Task { await run(tenant, publish) } }
    }

    func run(_ first: TenantRef, _ publish: @escaping @Sendable (TenantRef) async -> Void) async {
        var tenant = first
        while true {
            await publish(tenant)
            let next = state.withLock { state -> TenantRef? in
                if state.again.remove(tenant.id) != nil { return tenant }
                state.running.remove(tenant.id)
                while let queued = state.queued.first {
                    state.queued.removeFirst()
                    if state.running.contains(queued.id) {
                        state.again.insert(queued.id)
                        continue
                    }
                    state.running.insert(queued.id)
                    return queued
                }
                return nil
            }
            guard let next else { return }
            tenant = next
        }
    }
}
