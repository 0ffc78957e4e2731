import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO
import ServiceLifecycle

/// Fires members' price alerts as quotes arrive: woken by market ingestion when it stores quotes
/// (and every few seconds, and at each test-clock move).
///
/// A sweep reads the platform's alert index joined with the stored quotes — one query over every
/// tenant — and opens only the tenants with an armed alert whose side of its level the current quote
/// changes. In each, one transaction: the alerts locked, `PriceAlerts.evaluate` on each against the
/// quote the sweep read (a quote no newer than the one the alert saw is skipped, so two planes
/// never fire one crossing twice), then one statement records every alert's new side and last
/// price, marks those that fired `triggered` and writes their `trading.alert_triggered.v1` events
/// (to the member's stream, and a notification per their preferences).
public final class AlertWatcher: Service, Sendable {
    let ticks: SweepTicks
    let client: PostgresClient
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let width: Int
    let logger: Logger

    public init(
        client: PostgresClient, tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        clockMoves: AsyncStream<Void>?, interval: Duration, width: Int = 8, logger: Logger
    ) {
        self.client = client
        self.tenants = tenants
        self.session = session
        self.width = max(1, width)
        self.ticks = SweepTicks(interval: interval, clockMoves: clockMoves)
        self.logger = logger
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
    }

    /// Asks for a sweep now (new quotes were stored).
    public func wake() { ticks.now() }

    /// What a sweep did: alerts whose side changed, and how many fired.
    public struct Sweep: Sendable, Equatable {
        public var changed = 0
        public var fired = 0
    }

    @discardableResult
    public func sweep() async -> Sweep {
        await sweep(only: nil)
    }

    /// One tenant's alerts against the stored quotes now (tests).
    @discardableResult
    public func drain(_ tenant: TenantRef) async -> Sweep {
        await sweep(only: tenant)
    }

    func sweep(only: TenantRef?) async -> Sweep {
        let all: [TenantRef]
        let due: [AlertIndexStore.Due]
        let quotes: [String: Quote]
        do {
            if let only { all = [only] } else { all = try await tenants() }
            (due, quotes) = try await AlertIndexStore.due(client: client, tenant: only?.id.rawValue, logger: logger)
        } catch {
            logger.warning("alert watcher could not read its index", metadata: ["error": "\(String(reflecting: error))"])
            return Sweep()
        }
        let byTenant = Dictionary(grouping: due, by: \.tenant)
        let work = all.compactMap { tenant in byTenant[tenant.id.rawValue].map { (tenant, $0.map(\.alert)) } }
        return await concurrently(work, width: width) { tenant, ids in await self.work(tenant, ids, quotes) }.reduce(into: Sweep()) { total, done in
            total.changed += done.changed
            total.fired += done.fired
        }
    }

    func work(_ tenant: TenantRef, _ ids: [UUID], _ quotes: [String: Quote]) async -> Sweep {
        do {
            return try await session(tenant).run { db -> Sweep in
                let store = WatchStore(db)
                let seen: [WatchStore.Seen] = try await store.lockArmed(ids).compactMap { alert in
                    guard let quote = quotes[alert.symbol], quote.seq > alert.seenSeq else { return nil }
                    return WatchStore.Seen(
                        alert: alert, quote: quote, outcome: PriceAlerts.evaluate(alert.condition, level: alert.level, wasBeyond: alert.beyond, price: quote.last))
                }
                try await store.record(seen)
                return Sweep(changed: seen.filter { $0.outcome != .unchanged }.count, fired: seen.filter { $0.outcome == .fires }.count)
            }
        } catch {
            if !(Task.isCancelled || Task.isShuttingDownGracefully) {
                logger.warning("alert watcher failed for a tenant; the next sweep retries", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
            }
            return Sweep()
        }
    }
}
