import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Takes each paper account's daily value (`PortfolioSnapshot`), on the platform clock: every few
/// minutes, at each test-clock move, and when market ingestion stores bars.
///
/// A sweep finds the last trading day whose cutoff (23:00 UTC) has passed. It waits for that day's
/// bars (the first ingestion tick after the cutoff stores them; an hour past the cutoff it goes on
/// with the latest bars before the day), reads the market once for every tenant (instruments,
/// quotes, mid rates, the closes of the days to take), then, several tenants at a time, in one
/// transaction per tenant: one statement reads the accounts that lack the day (cash and holdings
/// now, the fills since the oldest day it may catch up), the values are computed in Swift, and one
/// statement writes them (a row another plane wrote first is left alone). A tenant done for the day
/// is not opened again until the next one.
public final class PortfolioSnapshotter: Service, Sendable {
    let ticks: SweepTicks
    let client: PostgresClient
    let clock: NzilaCore.Clock
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let width: Int
    let logger: Logger
    /// The last day each tenant was found complete.
    let done = Mutex<[TenantID: Day]>([:])

    /// How long past a day's cutoff the sweep waits for that day's bars before valuing with older ones.
    public static let barsGrace: TimeInterval = 3_600

    public init(
        client: PostgresClient, clock: NzilaCore.Clock, tenants: @escaping @Sendable () async throws -> [TenantRef],
        session: @escaping @Sendable (TenantRef) -> TenantSession, clockMoves: AsyncStream<Void>?, interval: Duration, width: Int = 8, logger: Logger
    ) {
        self.client = client
        self.clock = clock
        self.tenants = tenants
        self.session = session
        self.width = max(1, width)
        self.ticks = SweepTicks(interval: interval, clockMoves: clockMoves)
        self.logger = logger
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
    }

    /// Asks for a sweep now (market ingestion stored bars).
    public func wake() { ticks.now() }

    /// What a sweep did.
    public struct Sweep: Sendable, Equatable {
        public var day: Day?
        public var tenants = 0
        public var snapshots = 0
        public var seconds = 0.0
        /// The day's bars were not stored yet: nothing was taken.
        public var waitingForBars = false
    }

    /// The market a sweep values with, read once for every tenant.
    struct Market: Sendable {
        var instruments: [String: Instrument] = [:]
        var lastTrades: [String: Price] = [:]
        var rates: [Currency: FXRate] = [:]
        var closes: [Day: [String: Price]] = [:]

        func mark(_ symbol: String, on day: Day) -> PortfolioSnapshot.Mark? {
            guard let instrument = instruments[symbol], let rate = rates[instrument.currency],
                let price = closes[day]?[symbol] ?? lastTrades[symbol]
            else { return nil }
            return PortfolioSnapshot.Mark(instrument: instrument, price: price, rate: rate)
        }
    }

    @discardableResult
    public func sweep() async -> Sweep {
        let started = ContinuousClock.now
        let now = clock.now()
        guard let day = PortfolioSnapshot.latestDue(at: now) else { return Sweep() }
        var result = Sweep(day: day)
        do {
            let all = try await tenants()
            let work = done.withLock { done in all.filter { done[$0.id] != day } }
            guard !work.isEmpty else { return result }
            guard try await barsStored(day, now: now) else {
                result.waitingForBars = true
                return result
            }
            let days = PortfolioSnapshot.tradingDays(after: nil, through: day)
            let market = try await self.market(days: days)
            let since = PortfolioSnapshot.cutoff(days.first ?? day)
            let counts = await concurrently(work, width: width) { tenant in await self.take(tenant, day: day, since: since, market: market) }.compactMap { $0 }
            result.tenants = counts.count
            result.snapshots = counts.reduce(0, +)
        } catch {
            logger.warning("portfolio snapshots could not read the market", metadata: ["error": "\(String(reflecting: error))"])
        }
        result.seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        Observability.record("nzila_trading_snapshot_seconds", seconds: result.seconds)
        return result
    }

    /// One tenant's snapshots due now (tests and the CLI): the number written, nil while the day's
    /// bars are awaited or when it failed.
    public func drain(_ tenant: TenantRef) async -> Int? {
        let now = clock.now()
        guard let day = PortfolioSnapshot.latestDue(at: now) else { return nil }
        do {
            guard try await barsStored(day, now: now) else { return nil }
            let days = PortfolioSnapshot.tradingDays(after: nil, through: day)
            return await take(tenant, day: day, since: PortfolioSnapshot.cutoff(days.first ?? day), market: try await market(days: days))
        } catch {
            logger.warning("portfolio snapshots could not read the market", metadata: ["error": "\(String(reflecting: error))"])
            return nil
        }
    }

    /// Whether the day's bars are in: market ingestion stores quotes and the bars of every session
    /// closed so far in one transaction, so a quote stored after the day's cutoff (when every
    /// exchange has closed) says the day's bars are stored. After the grace, values with the latest
    /// bars before the day.
    func barsStored(_ day: Day, now: Date) async throws -> Bool {
        if now >= PortfolioSnapshot.cutoff(day).addingTimeInterval(Self.barsGrace) { return true }
        let newest: Date?? = try await client.statement("SELECT max(quoted_at) FROM reference.quotes", logger: logger) {
            try await $0.first(Date?.self)
        }
        return (newest ?? nil).map { $0 >= PortfolioSnapshot.cutoff(day) } ?? false
    }

    func market(days: [Day]) async throws -> Market {
        var market = Market()
        for instrument in try await MarketReference.instruments(client: client, logger: logger) { market.instruments[instrument.symbol] = instrument }
        for (instrument, stored) in try await MarketReference.quotes(nil, client: client, logger: logger) {
            market.lastTrades[instrument.symbol] = stored.quote.last
        }
        market.rates = try await MarketReference.ratesToCAD(client: client, logger: logger)
        market.rates[.cad] = FXRate(scaled: FXRate.scale)
        market.closes = try await MarketReference.closes(on: days, client: client, logger: logger)
        return market
    }

    /// One tenant's snapshots of `day` and the days its accounts missed; nil when it failed.
    func take(_ tenant: TenantRef, day: Day, since: Date, market: Market) async -> Int? {
        do {
            let written = try await session(tenant).run { db -> Int in
                let store = SnapshotStore(db)
                let rows = try await store.pending(day: day, since: since).flatMap { Self.rows($0, through: day, market: market) }
                let written = try await store.insert(rows)
                // The leaderboard's figures follow each day taken.
                if written > 0 { try await LeaderboardStore(db).refresh(asOf: day) }
                // Competitions whose final day this was (or before) and that have ended are frozen.
                try await CompetitionStore(db).freeze(through: day)
                return written
            }
            done.withLock { $0[tenant.id] = day }
            return written
        } catch {
            if !(Task.isCancelled || Task.isShuttingDownGracefully) {
                logger.warning("portfolio snapshots failed for a tenant; the next sweep retries", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
            }
            return nil
        }
    }

    /// The rows one account lacks, through `day`: the trading days after its newest snapshot (or
    /// after the last cutoff before it opened), at most `catchUpDays` of them.
    static func rows(_ account: SnapshotStore.Pending, through day: Day, market: Market) -> [SnapshotStore.Row] {
        let opened = PortfolioSnapshot.latestDue(at: account.openedAt)
        let after = [account.lastDay, opened].compactMap { $0 }.max()
        return PortfolioSnapshot.tradingDays(after: after, through: day).compactMap { d in
            let cutoff = PortfolioSnapshot.cutoff(d)
            guard cutoff >= account.openedAt else { return nil }
            let (cash, holdings) = PortfolioSnapshot.asOf(cutoff, cash: account.cash, holdings: account.holdings, fills: account.fills)
            let (value, largest, unpriced) = PortfolioSnapshot.holdingsValue(holdings) { market.mark($0, on: d) }
            return SnapshotStore.Row(account: account.account, day: d, cash: cash, holdings: value, largest: largest, unpriced: unpriced)
        }
    }
}
