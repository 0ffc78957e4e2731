import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import ServiceLifecycle

/// Fills working orders against the stored quotes, tenant by tenant, on the platform clock (every
/// few seconds, at once when a test clock moves). For each tenant: day orders past their close
/// expire (their reservation released); then each symbol with working orders, when its exchange is
/// in session and its quote fresh, is matched in its own transaction (`Matching.match`: shown size
/// shared oldest first, stops elected on the last trade), under a per-tenant-and-symbol advisory
/// lock (two planes never match one book at once) and the orders' row locks. Each fill settles in
/// one statement: the fill at the mid rate of the moment, the order's progress and event, the
/// account's cash (a buy rounded up, a sell down, commission apart) and the position at average
/// cost. A buy whose fill would cost more than the account can spend (a market order whose price
/// ran past its reservation) fills only what the cash allows; with nothing allowed, the rest is
/// canceled and says why.
public final class OrderMatcher: Service, Sendable {
    let ticks: SweepTicks
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let logger: Logger

    public init(
        tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession, clockMoves: AsyncStream<Void>?,
        interval: Duration, logger: Logger
    ) {
        self.tenants = tenants
        self.session = session
        self.ticks = SweepTicks(interval: interval, clockMoves: clockMoves)
        self.logger = logger
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
    }

    public func sweep() async {
        let all: [TenantRef]
        do { all = try await tenants() } catch {
            logger.warning("order matcher could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        for tenant in all where !Task.isCancelled && !Task.isShuttingDownGracefully { await drain(tenant) }
    }

    /// Expires and matches one tenant's orders; the number of fills.
    @discardableResult
    public func drain(_ tenant: TenantRef) async -> Int {
        var fills = 0
        do {
            let session = session(tenant)
            while true {
                let expired = try await session.run { db -> Int in
                    let store = TradingStore(db)
                    var count = 0
                    for id in try await TradingMatchStore(db).expired(now: db.now, limit: 100) {
                        guard let order = try await store.order(id, member: nil, lock: true) else { continue }
                        if try await store.finish(order, to: .expired, reason: "day order: its exchange closed") != nil { count += 1 }
                    }
                    return count
                }
                if expired < 100 { break }
            }
            let symbols = try await session.run { try await TradingMatchStore($0).workingSymbols() }
            for symbol in symbols where !Task.isCancelled {
                fills += try await session.run { db in try await Self.match(db, symbol: symbol) }
            }
        } catch {
            if Task.isCancelled || Task.isShuttingDownGracefully { return fills }
            logger.warning("order matcher failed for a tenant; the next sweep retries", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
        }
        return fills
    }

    /// One symbol's book against its stored quote, in the caller's transaction.
    static func match(_ db: TenantDB, symbol: String) async throws -> Int {
        let matching = TradingMatchStore(db)
        guard try await matching.claim(symbol: symbol) else { return 0 }
        guard let (instrument, quote) = try await MarketStore(db).market(symbol), instrument.session.isOpen(at: db.now),
            let stored = quote, stored.expiresAt > db.now
        else { return 0 }
        let book = try await matching.lockWorking(symbol: symbol)
        let (fills, after) = Matching.match(book.map(\.working), against: stored.quote)
        let byID = Dictionary(uniqueKeysWithValues: book.map { ($0.order.id.rawValue, $0.order) })
        let afterByID = Dictionary(uniqueKeysWithValues: after.map { ($0.id, $0) })
        let filledIDs = Set(fills.map(\.order))
        try await matching.seen(after.filter { !filledIDs.contains($0.id) && $0.lastQuoteSeq == stored.quote.seq })
        guard !fills.isEmpty else { return 0 }
        let section = try await db.section(TradingSection.self) ?? .none
        guard let rate = try await TradingStore(db).rateToCAD(instrument.currency) else { return 0 }
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
        guard let account = try await matching.lockAccount(order.accountId) else { return false }
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
        let before = try await matching.position(account: order.accountId, symbol: order.symbol)
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
        return try await matching.record(TradingMatchStore.Settled(
            order: order, working: progressed, fill: fill, currency: instrument.currency, notionalMinor: c.notional, rate: rate, cadMinor: c.cad, feeMinor: c.fee,
            reservedAfter: reservedAfter, position: position))
    }
}
