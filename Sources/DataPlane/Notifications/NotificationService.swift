import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Tells members what happened (a worker of the data plane). Per tenant it reads the events the
/// relay published after its cursor, plans the messages they call for (`NotificationRules`, the
/// member's devices and choices, the tenant's templates), then sends what is due through the
/// channel's provider — or records it, in the sandbox. Woken by the relay after each publication,
/// by every move of a test clock, and every `sweepInterval`.
public final class NotificationService: Service, Sendable {
    public struct Settings: Sendable {
        public var sweepInterval: Duration = .seconds(10)
        /// Events read per planning round, messages sent at once per round.
        public var planBatch = 200
        public var sendBatch = 16
        public var concurrency = 4
        /// The tenants this service serves; nil: every one (see `EventRelay.Settings.only`).
        public var only: (@Sendable (TenantID) -> Bool)?

        public init() {}
    }

    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let secrets: SecretBox
    let notifiers: Notifiers
    let ticks: SweepTicks
    let pumps: PublishPumps
    let settings: Settings
    let logger: Logger

    init(
        tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession, secrets: SecretBox,
        notifiers: Notifiers, clock: Clock, settings: Settings, logger: Logger
    ) {
        self.tenants = tenants
        self.session = session
        self.secrets = secrets
        self.notifiers = notifiers
        self.ticks = SweepTicks(interval: settings.sweepInterval, clockMoves: clock.movable?.moves())
        self.pumps = PublishPumps(concurrency: settings.concurrency)
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
    }

    /// The relay published events of `tenant`.
    public func wake(_ tenant: TenantRef) {
        guard settings.only?(tenant.id) ?? true else { return }
        pumps.wake(tenant) { await self.drain($0) }
    }

    func sweep() async {
        var all: [TenantRef]
        do { all = try await tenants() } catch {
            logger.warning("notifications could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        if let only = settings.only { all = all.filter { only($0.id) } }
        for tenant in all where !Task.isCancelled && !Task.isShuttingDownGracefully { await drain(tenant) }
    }

    /// Plans from every new event of `tenant`, then sends every due message.
    public func drain(_ tenant: TenantRef) async {
        let store = { (db: TenantDB) in NotificationStore(db: db, secrets: self.secrets) }
        do {
            // One transaction when little is new (every idle sweep): the tenant's words, a round of
            // planning and, when that caught up, the first claim of messages to send.
            let (section, name, first, firstClaim) = try await session(tenant).run { db in
                let section = try await db.section(NotificationsSection.self) ?? .none
                let name = try await db.section(BrandingSection.self)?.displayName ?? tenant.slug.value
                let round = try await store(db).plan(limit: settings.planBatch, creditUnion: name, section: section)
                let more = round?.read == settings.planBatch
                return (section, name, more, more ? [] : try await store(db).claim(limit: settings.sendBatch))
            }
            var (more, claimed) = (first, firstClaim)
            let claimedAlready = !more
            for _ in 0..<1_000 where more && !Task.isCancelled && !Task.isShuttingDownGracefully {
                let round = try await session(tenant).run { db -> (read: Int, planned: Int)? in
                    try await store(db).plan(limit: settings.planBatch, creditUnion: name, section: section)
                }
                more = round?.read == settings.planBatch
            }
            for round in 0..<1_000 where !Task.isCancelled && !Task.isShuttingDownGracefully {
                if round > 0 || !claimedAlready { claimed = try await session(tenant).run { try await store($0).claim(limit: settings.sendBatch) } }
                if claimed.isEmpty { break }
                let batch = claimed
                await withTaskGroup(of: Void.self) { group in
                    for message in batch { group.addTask { await self.send(message, tenant: tenant, sender: name) } }
                }
            }
        } catch {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            logger.warning("notifications could not run for a tenant; the next sweep retries", metadata: [
                "tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))",
            ])
        }
    }

    func send(_ message: NotificationStore.Claimed, tenant: TenantRef, sender: String) async {
        let store = { (db: TenantDB) in NotificationStore(db: db, secrets: self.secrets) }
        do {
            guard let address = message.address else {
                try await session(tenant).run { try await store($0).undeliverable(message) }
                return
            }
            let notifier = notifiers.notifier(message.channel, platform: message.platform)
            let outcome = await notifier.send(
                OutboundNotification(
                    channel: message.channel, to: address, title: message.title, body: message.body,
                    data: ["event_type": message.eventType, "event_seq": String(message.eventSeq)], sender: sender))
            Observability.count("nzila_notifications_total", [("channel", message.channel.rawValue), ("provider", notifier.name)])
            try await session(tenant).run { try await store($0).record(message, provider: notifier.name, outcome: outcome) }
        } catch {
            // The lease runs out and the message is tried again.
            logger.warning("notifications could not record a send", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
        }
    }
}
