import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO
import ServiceLifecycle

/// Fills working orders against the stored quotes, on the platform clock (every few seconds, at
/// once when a test clock moves).
///
/// A sweep does not open every tenant: one query on the platform's trigger index
/// (`TriggerIndexStore.due`) names the (tenant, symbol) books that the fresh quotes of the exchanges
/// in session can make trade, and the tenants with day orders past their close. Only those tenants
/// get transactions, several tenants at a time: day orders past their close expire (their
/// reservation released); then each due symbol is matched in its own transaction
/// (`Matching.match`: shown size shared oldest first, stops elected on the last trade), under a
/// per-tenant-and-symbol advisory lock (two planes never match one book at once) and the orders' row
/// locks, against the market the sweep read once for all tenants (quotes and mid rates). Each fill settles in one statement: the fill at the mid rate of the moment, the order's
/// progress and event, the account's cash (a buy rounded up, a sell down, commission apart) and the
/// position at average cost. A buy whose fill would cost more than the account can spend (a market
/// order whose price ran past its reservation) fills only what the cash allows; with nothing
/// allowed, the rest is canceled and says why.
public final class OrderMatcher: Service, Sendable {
    let ticks: SweepTicks
    let client: PostgresClient
    let clock: NzilaCore.Clock
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    /// Tenants worked on at once.
    let width: Int
    let logger: Logger
    /// Called after a sweep that wrote fills (the copy guard mirrors copied leaders' fills).
    let onFills: @Sendable () -> Void

    public init(
        client: PostgresClient, clock: NzilaCore.Clock, tenants: @escaping @Sendable () async throws -> [TenantRef],
        session: @escaping @Sendable (TenantRef) -> TenantSession, clockMoves: AsyncStream<Void>?, interval: Duration, width: Int = 4, logger: Logger,
        onFills: @escaping @Sendable () -> Void = {}
    ) {
        self.onFills = onFills
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

    /// What one sweep did: the books it found due, the tenants it opened, the fills it wrote, and
    /// how long the index read and the whole sweep took (wall time, for operators and benchmarks).
    public struct Sweep: Sendable, Equatable {
        public var due = 0
        public var tenants = 0
        public var fills = 0
        public var indexSeconds = 0.0
        public var seconds = 0.0
    }

    @discardableResult
    public func sweep() async -> Sweep {
        let started = ContinuousClock.now
        let all: [TenantRef]
        let due: [UUID: TriggerIndexStore.Due]
        let market: Market
        do {
            all = try await tenants()
            (due, market) = try await self.due(tenant: nil)
        } catch {
            logger.warning("order matcher could not read its index", metadata: ["error": "\(String(reflecting: error))"])
            return Sweep()
        }
        let indexed = ContinuousClock.now
        let work = all.compactMap { tenant in due[tenant.id.rawValue].map { (tenant, $0) } }
        var result = Sweep(due: due.values.reduce(0) { $0 + $1.symbols.count + ($1.expiring ? 1 : 0) }, tenants: work.count)
        result.indexSeconds = Self.seconds(indexed - started)
        defer { Observability.record("nzila_trading_sweep_seconds", seconds: Self.seconds(ContinuousClock.now - started)) }
        result.fills = await concurrently(work, width: width) { tenant, books in await self.work(tenant, books, market) }.reduce(0, +)
        if result.fills > 0 { onFills() }
        result.seconds = Self.seconds(ContinuousClock.now - started)
        return result
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Expires and matches what one tenant has due now; the number of fills.
    @discardableResult
    public func drain(_ tenant: TenantRef) async -> Int {
        do {
            let (due, market) = try await due(tenant: tenant.id.rawValue)
            guard let books = due[tenant.id.rawValue] else { return 0 }
            return await work(tenant, books, market)
        } catch {
            logger.warning("order matcher could not read its index", metadata: ["error": "\(String(reflecting: error))"])
            return 0
        }
    }

    /// The market one sweep matches against, read once for every tenant: each quoted instrument with
    /// its stored quote, and the mid rates to CAD. Every tenant's books meet the same quote in a
    /// sweep; a quote stored meanwhile is the next sweep's (its seq is newer, so the index names the
    /// books it concerns again).
    struct Market: Sendable {
        var quotes: [String: (instrument: Instrument, quote: MarketStore.StoredQuote)] = [:]
        var rates: [Currency: FXRate] = [:]
    }

    /// The index's answer at the platform's now, for the exchanges in session, and the market it was
    /// read against: two statements, three when some book is due.
    func due(tenant: UUID?) async throws -> ([UUID: TriggerIndexStore.Due], Market) {
        let now = clock.now()
        var market = Market()
        for (instrument, stored) in try await MarketReference.quotes(nil, client: client, logger: logger) {
            market.quotes[instrument.symbol] = (instrument, stored)
        }
        let open = market.quotes.values.filter { $0.instrument.session.isOpen(at: now) && $0.quote.expiresAt > now }.map(\.instrument.symbol).sorted()
        let due = try await TriggerIndexStore.due(client: client, now: now, open: open, tenant: tenant, logger: logger)
        if due.values.contains(where: { !$0.symbols.isEmpty }) { market.rates = try await MarketReference.ratesToCAD(client: client, logger: logger) }
        return (due, market)
    }

    func work(_ tenant: TenantRef, _ books: TriggerIndexStore.Due, _ market: Market) async -> Int {
        var fills = 0
        do {
            let session = session(tenant)
            while books.expiring {
                let expired = try await session.run { db -> Int in
                    let store = TradingStore(db)
                    var count = 0
                    for id in try await TradingMatchStore(db).expired(now: db.now, limit: 100) {
                        guard let order = try await store.order(id, member: nil, lock: true) else { continue }
                        // Only a competition's orders end with a gtc time in force (at the competition's end).
                        let why = order.timeInForce == .gtc ? "its competition ended" : "day order: its exchange closed (or its competition ended)"
                        if try await store.finish(order, to: .expired, reason: why) != nil { count += 1 }
                    }
                    return count
                }
                if expired < 100 { break }
            }
            for symbol in books.symbols where !Task.isCancelled {
                guard let (instrument, quote) = market.quotes[symbol] else { continue }
                let rate = market.rates[instrument.currency]
                fills += try await session.run { db in try await Self.match(db, instrument: instrument, quote: quote, rate: rate) }
            }
        } catch {
            if Task.isCancelled || Task.isShuttingDownGracefully { return fills }
            logger.warning("order matcher failed for a tenant; the next sweep retries", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
        }
        return fills
    }

    /// One instrument's book against a stored quote, in the caller's transaction (`rate`: its
    /// currency's mid rate to CAD; without one nothing fills).
    static func match(_ db: TenantDB, instrument: Instrument, quote stored: MarketStore.StoredQuote, rate: FXRate?) async throws -> Int {
        guard instrument.session.isOpen(at: db.now), stored.expiresAt > db.now else { return 0 }
        let matching = TradingMatchStore(db)
        guard let book = try await matching.claimAndLockWorking(symbol: instrument.symbol) else { return 0 }
        let (fills, after) = Matching.match(book.map(\.working), against: stored.quote)
        let byID = Dictionary(uniqueKeysWithValues: book.map { ($0.order.id.rawValue, $0.order) })
        let afterByID = Dictionary(uniqueKeysWithValues: after.map { ($0.id, $0) })
        // Orders the quote concerned without a fill (the shown size went to older ones) or elected
        // are marked as having met it, so it never fills them later; the others are left alone
        // (nothing in them changed, and their index entries stay as they are).
        let filledIDs = Set(fills.map(\.order))
        let electedBefore = Set(book.filter(\.working.elected).map(\.working.id))
        try await matching.seen(after.filter { order in
            guard !filledIDs.contains(order.id), order.lastQuoteSeq == stored.quote.seq else { return false }
            return order.elected != electedBefore.contains(order.id) || Matching.fillPrice(order, stored.quote) != nil
        })
        guard !fills.isEmpty else { return 0 }
        let section = try await db.section(TradingSection.self) ?? .none
        guard let rate else { return 0 }
        var written = 0
        for fill in fills {
            guard let order = byID[fill.order], let working = afterByID[fill.order] else { continue }
            if try await settle(db, order: order, working: working, fill: fill, instrument: instrument, rate: rate, section: section) { written += 1 }
        }
        return written
    }

    /// Values one fill, checks the money, and records it (or cancels a buy the cash cannot pay).
    static func settle(
        _ db: TenantDB, order: TradingOrder, working: WorkingOrder, fill proposed: Fill, instrument: Instrument, rate: FXRate, section: TradingSection
    ) async throws -> Bool {
        let matching = TradingMatchStore(db)
        guard let (account, before) = try await matching.lockAccount(order.accountId, position: order.symbol) else { return false }
        var fill = proposed
        // What this order may spend: the cash less what other orders hold back.
        let spendable = account.cash - (account.reserved - order.reserved.minorUnits)
        func cost(_ qty: Int64) -> (notional: Int64, cad: Int64, fee: Int64)? {
            guard let notional = instrument.notionalMinor(fill.price, qty: qty, rounding: order.side == .buy ? .up : .down) else { return nil }
            let cad = OrderRules.toCAD(notional, from: instrument.currency, rate: rate, rounding: order.side == .buy ? .up : .down)
            return (notional, cad, section.commission(onCADMinor: cad))
        }
        if order.side == .buy {
            let lot = instrument.lot(at: fill.price)
            var qty = fill.qty
            while qty > 0, let c = cost(qty), c.cad + c.fee > spendable { qty -= lot }
            if qty <= 0 {
                _ = try await TradingStore(db).finish(order, to: .canceled, reason: "insufficient buying power at the fill price")
                return false
            }
            fill = Fill(order: fill.order, qty: qty, price: fill.price, quoteSeq: fill.quoteSeq)
        }
        guard let c = cost(fill.qty) else { return false }
        let position = order.side == .buy
            ? before.buying(fill.qty, at: fill.price, cadMinor: c.cad)
            : try before.selling(fill.qty, at: fill.price, cadMinor: c.cad)
        let leaves = order.qty - order.filledQty - fill.qty
        // A buy keeps reserving for what is left, pro rata (rounded up), never more than it held nor
        // than the cash left for it after this fill (a market buy whose price ran past its
        // reservation): the next fill's own check then limits what it may still buy.
        let prorata = Int64((Int128(order.reserved.minorUnits) * Int128(leaves) + Int128(order.qty - order.filledQty) - 1) / Int128(order.qty - order.filledQty))
        let reservedAfter = leaves == 0 || order.side == .sell ? 0 : max(0, min(order.reserved.minorUnits, prorata, spendable - c.cad - c.fee))
        var progressed = working
        progressed.filledQty = order.filledQty + fill.qty
        let recorded = try await matching.record(TradingMatchStore.Settled(
            order: order, working: progressed, fill: fill, currency: instrument.currency, notionalMinor: c.notional, rate: rate, cadMinor: c.cad, feeMinor: c.fee,
            reservedAfter: reservedAfter, position: position))
        // A copied leader's fill is queued for the copy guard to mirror (`CopyTrader`).
        if recorded { try await CopyStore(db).queueFill(of: order) }
        return recorded
    }
}
