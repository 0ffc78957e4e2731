import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO
import ServiceLifecycle

/// Mirrors copied leaders' fills and watches copies between them: woken by the matcher when it
/// writes fills, by market ingestion when it stores quotes, every few seconds, and at each
/// test-clock move. One query on the platform's copy index names the tenants with a copy not yet
/// settled. In each, one read takes the leader fills the matcher queued and the copies not yet
/// settled; then every step runs in its own short transaction, taking its locks as the matcher
/// does (orders, then accounts), so the guard never holds one copy's locks while it waits on
/// another's:
///
/// - each queued leader order is **mirrored** to each active copy of its leader (`CopyTrader.mirror`),
///   then the queue entries read are removed;
/// - an **active** copy whose leader is no longer copyable becomes `leader_left` (the follower is
///   told; its positions stay theirs);
/// - an active or `leader_left` copy whose equity has fallen to its **stop loss** stops: its working
///   orders canceled, everything sold at market (a copy with a holding that has no price is not
///   judged until it has one);
/// - a **stopped** copy winds down (`CopyTrader.wind`) and settles once it holds nothing it can sell.
public final class CopyGuard: Service, Sendable {
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

    /// What a sweep did.
    public struct Sweep: Sendable, Equatable {
        public var mirrored = 0
        public var leaderLeft = 0
        public var stopLosses = 0
        public var settled = 0
    }

    @discardableResult
    public func sweep() async -> Sweep { await sweep(only: nil) }

    /// One tenant's copies now (tests).
    @discardableResult
    public func drain(_ tenant: TenantRef) async -> Sweep { await sweep(only: tenant) }

    func sweep(only: TenantRef?) async -> Sweep {
        let work: [TenantRef]
        do {
            let due = try await CopyIndexStore.tenants(client: client, tenant: only?.id.rawValue, logger: logger)
            guard !due.isEmpty else { return Sweep() }
            let all: [TenantRef]
            if let only { all = [only] } else { all = try await tenants() }
            work = all.filter { due.contains($0.id.rawValue) }
        } catch {
            logger.warning("copy guard could not read its index", metadata: ["error": "\(String(reflecting: error))"])
            return Sweep()
        }
        return await concurrently(work, width: width) { tenant in await self.guardCopies(tenant) }.reduce(into: Sweep()) { total, done in
            total.mirrored += done.mirrored
            total.leaderLeft += done.leaderLeft
            total.stopLosses += done.stopLosses
            total.settled += done.settled
        }
    }

    func guardCopies(_ tenant: TenantRef) async -> Sweep {
        var sweep = Sweep()
        let session = session(tenant)
        do {
            let (queued, copies) = try await session.run { db in
                (try await CopyStore(db).queuedFills(), try await CopyStore(db).unsettled())
            }
            for leaderOrder in queued.orders {
                let (found, leaderEquity) = try await session.run { db -> (TradingOrder?, Int64?) in
                    guard let order = try await TradingStore(db).order(leaderOrder, member: nil) else { return (nil, nil) }
                    return (order, order.side == .buy ? try await CopyTrader.leaderEquity(db, order: order) : nil)
                }
                guard let order = found else { continue }
                for copy in copies where copy.leaderId == order.memberId && copy.state == .active {
                    try await session.run { db in try await CopyTrader.mirror(db, copy: copy, order: order, leaderEquity: leaderEquity, now: db.now) }
                    sweep.mirrored += 1
                }
            }
            if let through = queued.through { try await session.run { try await CopyStore($0).dequeueFills(through: through) } }
            for copy in copies {
                sweep = try await session.run { db -> Sweep in
                    var sweep = sweep
                    let store = CopyStore(db)
                    guard var copy = try await store.copy(copy.id, follower: nil), copy.settledAt == nil else { return sweep }
                    if copy.state == .active, try await !(LeaderboardStore(db).profile(member: copy.leaderId)?.copyable ?? false) {
                        guard let left = try await store.transition(copy, to: .leaderLeft, reason: nil, closePositions: false, detail: "the leader is no longer copyable")
                        else { return sweep }
                        copy = left
                        sweep.leaderLeft += 1
                        return sweep
                    }
                    switch copy.state {
                    case .active, .leaderLeft:
                        guard let account = try await TradingStore(db).account(copy.accountId, lock: false),
                            let equity = try await CopyTrader.equity(db, account: account),
                            CopyTrading.stopLossHit(equity: equity, allocated: copy.amount.minorUnits, stopLossPct: copy.stopLossPct)
                        else { return sweep }
                        let detail = "stop loss: equity \(Money(minorUnits: equity, currency: .cad).formatted) CAD, \(copy.stopLossPct)% below \(copy.amount.formatted) CAD or more"
                        if try await CopyTrader.stop(db, copy: copy, reason: .stopLoss, closePositions: true, detail: detail, now: db.now) != nil { sweep.stopLosses += 1 }
                    case .stopped:
                        try await CopyTrader.wind(db, copy: copy, now: db.now)
                        if try await store.copy(copy.id, follower: nil)?.settledAt != nil { sweep.settled += 1 }
                    }
                    return sweep
                }
            }
        } catch {
            if !(Task.isCancelled || Task.isShuttingDownGracefully) {
                logger.warning("copy guard failed for a tenant; the next sweep retries", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
            }
        }
        return sweep
    }
}
