import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Delivers tenants' queued webhook deliveries (a worker of the data plane). Woken by the relay when
/// it queues deliveries for a tenant, by every move of a test clock, and every `sweepInterval`
/// (the retries that came due). Per tenant it claims a batch of due deliveries (skip-locked and
/// leased, so two planes never send one at once), sends them concurrently, records each outcome in
/// its own transaction, and claims again until nothing is due.
public final class WebhookDispatcher: Service, Sendable {
    public struct Settings: Sendable {
        public var sweepInterval: Duration = .seconds(10)
        /// Deliveries claimed (and sent at once) per round, per tenant.
        public var batch = 16
        /// Tenants drained at once after wake-ups.
        public var concurrency = 4
        /// Finished deliveries are kept this long for `GET …/deliveries`.
        public var retentionDays = 30
        /// Development only: deliveries may go to loopback addresses, over http:// too.
        public var allowLoopback = false
        /// The tenants this dispatcher serves; nil: every one (see `EventRelay.Settings.only`).
        public var only: (@Sendable (TenantID) -> Bool)?
        /// Name resolution for deliveries; nil: the system's. Tests give their own DNS answers (a name
        /// that resolves to a metadata address) here.
        public var resolver: (@Sendable (String, Int) async throws -> [NetworkAddress])?

        public init() {}
    }

    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let secrets: SecretBox
    let clock: Clock
    let ticks: SweepTicks
    let sender: WebhookSender
    let pumps: PublishPumps
    let purges = RetentionPurges()
    let settings: Settings
    let random: @Sendable () -> Double
    let logger: Logger

    init(
        tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession, secrets: SecretBox,
        clock: Clock, settings: Settings, logger: Logger, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.tenants = tenants
        self.session = session
        self.secrets = secrets
        self.clock = clock
        self.ticks = SweepTicks(interval: settings.sweepInterval, clockMoves: clock.movable?.moves())
        self.sender = WebhookSender(allowLoopback: settings.allowLoopback, resolver: settings.resolver, logger: logger)
        self.pumps = PublishPumps(concurrency: settings.concurrency)
        self.settings = settings
        self.random = random
        self.logger = logger
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
        await sender.shutdown()
    }

    /// Deliveries were queued for `tenant`: send them now.
    public func wake(_ tenant: TenantRef) {
        pumps.wake(tenant) { await self.drain($0) }
    }

    /// Every active tenant: what is due, then (hourly) what is past retention.
    func sweep() async {
        var all: [TenantRef]
        do { all = try await tenants() } catch {
            logger.warning("webhook dispatcher could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        if let only = settings.only { all = all.filter { only($0.id) } }
        let before = clock.now().addingTimeInterval(-Double(settings.retentionDays) * 86_400)
        for tenant in all where !Task.isCancelled && !Task.isShuttingDownGracefully {
            await drain(tenant)
            if purges.due(tenant.id, now: clock.now()) {
                _ = try? await session(tenant).run { try await WebhookStore(db: $0, secrets: secrets).purge(finishedBefore: before, limit: 1_000) }
            }
        }
    }

    /// Sends every due delivery of `tenant`, a batch at a time.
    public func drain(_ tenant: TenantRef) async {
        for _ in 0..<1_000 where !Task.isCancelled && !Task.isShuttingDownGracefully {
            let claimed: [WebhookStore.Claimed]
            do {
                claimed = try await session(tenant).run { try await WebhookStore(db: $0, secrets: secrets).claim(limit: settings.batch) }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("webhook dispatcher could not claim deliveries", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
                return
            }
            if claimed.isEmpty { return }
            await withTaskGroup(of: Void.self) { group in
                for delivery in claimed { group.addTask { await self.deliver(delivery, tenant: tenant) } }
            }
        }
    }

    /// One attempt: sign, send, record.
    func deliver(_ delivery: WebhookStore.Claimed, tenant: TenantRef) async {
        let started = clock.now()
        let body = Data(delivery.body.utf8)
        let outcome: WebhookSender.Outcome
        if delivery.secrets.isEmpty {
            outcome = WebhookSender.Outcome(statusCode: nil, error: "the signing secret cannot be opened: rotate it", milliseconds: 0)
        } else if let url = URL(string: delivery.url) {
            outcome = await sender.send(url: url, body: body, headers: [
                ("Content-Type", "application/json"),
                ("User-Agent", "Nzila-Webhooks/1"),
                ("Nzila-Event-Id", delivery.eventID.lowercased),
                ("Nzila-Event-Type", delivery.eventType),
                ("Nzila-Signature", WebhookSignature.header(secrets: delivery.secrets, timestamp: Int64(started.timeIntervalSince1970.rounded(.down)), body: body)),
            ])
        } else {
            outcome = WebhookSender.Outcome(statusCode: nil, error: "the endpoint URL does not parse", milliseconds: 0)
        }
        Observability.count("nzila_webhook_attempts_total", [("outcome", outcome.succeeded ? "succeeded" : "failed")])
        Observability.record("nzila_webhook_attempt_seconds", seconds: Double(outcome.milliseconds) / 1_000)
        do {
            let disabled = try await session(tenant).run {
                try await WebhookStore(db: $0, secrets: secrets).record(delivery, at: started, outcome: outcome, random: random())
            }
            if disabled {
                logger.warning("webhook endpoint disabled after failing for 3 days", metadata: ["tenant": "\(tenant.slug)", "endpoint": "\(delivery.endpoint)"])
            }
        } catch {
            // The lease runs out and the delivery is tried again: at least once, never lost.
            logger.warning("webhook dispatcher could not record an attempt", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
        }
    }
}
