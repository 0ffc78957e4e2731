import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaValues

/// Copy trading's moves, in the caller's transaction (`CopyTrading` holds the rules):
///
/// - **Mirroring**: each fill of a leader's main-account order is mirrored, in the matcher's
///   transaction that records it, to every active copy of that leader as a market day order
///   (`copied_from` the leader's order): a buy scaled by copy equity / leader equity, a sell the
///   copy's share of the position, each rounded down to the board lot (nothing below one lot); a
///   buy the copy's cash cannot pay for is cut to the lots it can. What cannot be mirrored (a lot
///   too many, no market data) is skipped, with the reason in the copy's log; it never fails the
///   leader's fill.
/// - **Opening positions**: a copy started with `copy_open_positions` buys each of the leader's
///   holdings, scaled the same way.
/// - **Stopping**: every working order of the copy is canceled (its reservation released) and, when
///   asked or by the stop loss, every holding sold at market; the copy settles once it holds nothing.
enum CopyTrader {
    /// An account's equity in CAD: cash plus every position at the latest last trade; nil when a
    /// holding has no price to value it with.
    static func equity(_ db: TenantDB, account: TradingAccount) async throws -> Int64? {
        var total = account.cash.minorUnits
        for position in try await PortfolioStore(db).positions(account: account.id) where position.qty > 0 {
            guard let value = position.marketValueCad else { return nil }
            total += value.minorUnits
        }
        return total
    }

    /// Mirrors one fill of `order` (as it was before the fill) to the copies of its member, when the
    /// order is on their main account. Each copy's share is figured on the leader order's whole
    /// filled quantity so far and what the copy has already mirrored of it is taken off, so small
    /// partial fills add up to the lots they make instead of each rounding to nothing.
    static func mirror(_ db: TenantDB, order: TradingOrder, fillQty: Int64, price: Price, instrument: Instrument, now: Date) async throws {
        let copies = CopyStore(db)
        let active = try await copies.mirroring(leader: order.memberId)
        guard !active.isEmpty else { return }
        let trading = TradingStore(db)
        guard let leaderAccount = try await trading.account(order.accountId, lock: false), leaderAccount.kind == "main" else { return }
        let lot = instrument.lot(at: price)
        let filled = order.filledQty + fillQty
        var leaderEquity: Int64?
        var leaderHeldBefore: Int64 = 0
        if order.side == .buy {
            leaderEquity = try await equity(db, account: leaderAccount)
        } else {
            leaderHeldBefore = try await trading.sellable(account: leaderAccount.id, symbol: order.symbol).held + filled
        }
        for copy in active {
            guard let account = try await trading.account(copy.accountId, lock: false) else { continue }
            let done = try await copies.mirrored(copy.id, leaderOrder: order.id)
            let target: Int64?
            var available = Int64.max
            switch order.side {
            case .buy:
                let copyEquity = try await equity(db, account: account)
                target = copyEquity.flatMap { c in leaderEquity.flatMap { CopyTrading.scaled(filled, copyEquity: c, leaderEquity: $0, lot: lot) } }
            case .sell:
                let (held, promised) = try await trading.sellable(account: account.id, symbol: order.symbol)
                target = CopyTrading.closing(copyHeld: held + done.filled, leaderSold: filled, leaderHeld: leaderHeldBefore, lot: lot)
                available = held - promised
            }
            let qty = min((target ?? 0) - done.placed, available)
            guard qty > 0 else {
                if done.placed == 0 {
                    let why = order.side == .buy
                        ? "the leader bought \(filled) \(order.symbol) so far: scaled to this copy's equity it is less than one board lot (\(lot))"
                        : "the leader sold \(filled) \(order.symbol) so far: this copy's share is less than one board lot, or it holds none"
                    try await copies.log(copy.id, "skipped", leaderOrder: order.id, order: nil, detail: why)
                }
                continue
            }
            try await place(db, copy: copy, side: order.side, symbol: order.symbol, qty: qty, copiedFrom: order.id, now: now)
        }
    }

    /// Buys each of the leader's holdings in the copy, scaled to its equity (a new copy's: what it was given).
    static func openPositions(_ db: TenantDB, copy: CopyView, now: Date) async throws {
        let trading = TradingStore(db)
        guard let leader = try await trading.account(member: copy.leaderId), let leaderEquity = try await equity(db, account: leader) else {
            try await CopyStore(db).log(copy.id, "skipped", leaderOrder: nil, order: nil, detail: "the leader's holdings could not be valued: none copied")
            return
        }
        let market = MarketStore(db)
        for position in try await PortfolioStore(db).positions(account: leader.id) where position.qty > 0 {
            let lot = try await market.instrument(position.symbol).map { i in position.marketPrice.flatMap(Price.init).map { i.lot(at: $0) } ?? 1 } ?? 1
            guard let qty = CopyTrading.scaled(position.qty, copyEquity: copy.amount.minorUnits, leaderEquity: leaderEquity, lot: lot) else {
                try await CopyStore(db).log(
                    copy.id, "skipped", leaderOrder: nil, order: nil,
                    detail: "the leader's \(position.qty) \(position.symbol), scaled to this copy, are less than one board lot (\(lot))")
                continue
            }
            try await place(db, copy: copy, side: .buy, symbol: position.symbol, qty: qty, copiedFrom: nil, now: now)
        }
    }

    /// Places one market day order in the copy's account (a buy cut to the lots its buying power
    /// pays for), logging it or why it could not be placed.
    static func place(_ db: TenantDB, copy: CopyView, side: OrderSide, symbol: String, qty: Int64, copiedFrom: TradingOrderID?, now: Date) async throws {
        // Mirroring reads copies without locks: under the copy account's lock, a copy stopped (or
        // left by its leader) meanwhile gets nothing more — its closing sells aside.
        _ = try await TradingStore(db).account(copy.accountId, lock: true)
        let state = try await CopyStore(db).state(copy.id)
        if copiedFrom != nil || side == .buy, state != .active { return }
        var qty = qty
        if side == .buy, let fitted = try await affordable(db, copy: copy, symbol: symbol, qty: qty) { qty = fitted }
        let copies = CopyStore(db)
        guard qty > 0 else {
            try await copies.log(copy.id, "skipped", leaderOrder: copiedFrom, order: nil, detail: "buying \(symbol): the copy's cash pays for no board lot")
            return
        }
        let ticket = OrderTicket(symbol: symbol, side: side, type: .market, qty: qty, limit: nil, stop: nil, timeInForce: .day)
        do {
            let order = try await OrderPlacement.place(
                db, ticket: ticket, member: copy.followerId, account: copy.accountId, clientOrderID: nil, now: now, copiedFrom: copiedFrom, copy: copy.id)
            try await copies.log(copy.id, "mirrored", leaderOrder: copiedFrom, order: order.id, detail: "\(side.rawValue) \(qty) \(symbol) at market")
        } catch let refusal as RuleError {
            try await copies.log(copy.id, "skipped", leaderOrder: copiedFrom, order: nil, detail: "\(side.rawValue) \(qty) \(symbol): \(refusal.detail)")
        } catch let problem as Problem {
            try await copies.log(copy.id, "skipped", leaderOrder: copiedFrom, order: nil, detail: "\(side.rawValue) \(qty) \(symbol): \(problem.title): \(problem.detail)")
        }
    }

    /// The most of `qty` (whole lots) the copy's buying power reserves for at market; nil when the
    /// market cannot be read (the placement then says why).
    static func affordable(_ db: TenantDB, copy: CopyView, symbol: String, qty: Int64) async throws -> Int64? {
        guard let (instrument, quote, rate, section) = try await MarketStore(db).market(symbol), let stored = quote, let rate,
            let account = try await TradingStore(db).account(copy.accountId, lock: false)
        else { return nil }
        let section_ = section ?? .none
        let lot = instrument.lot(at: stored.quote.ask)
        func needed(_ q: Int64) -> Int64? {
            OrderRules.reservation(
                OrderTicket(symbol: symbol, side: .buy, type: .market, qty: q, limit: nil, stop: nil, timeInForce: .day), instrument: instrument,
                ask: stored.quote.ask, rate: rate, bufferBps: section_.marketBuffer, commission: section_.commission(onCADMinor:))
        }
        let power = account.buyingPower.minorUnits
        guard let full = needed(qty), full > power else { return qty }
        // Proportionally first, then down a lot at a time (the commission is not linear).
        var q = Int64(Int128(qty) * Int128(max(0, power)) / Int128(max(1, full))) / lot * lot
        while q > 0, let n = needed(q), n > power { q -= lot }
        return max(0, q)
    }

    /// Stops a copy: every working order of its account canceled (reservations released) and, when
    /// `closePositions`, every holding sold at market; settled at once if it holds nothing. Locks are
    /// taken as the matcher takes them — the account's working orders, then the account — before the
    /// copy's state moves (conditionally: nil when it was already stopped), so a stop and a fill
    /// being mirrored never wait on each other in a cycle. The copy as it now is.
    static func stop(_ db: TenantDB, copy: CopyView, reason: CopyTrading.StopReason, closePositions: Bool, detail: String, now: Date) async throws -> CopyView? {
        let store = CopyStore(db)
        let trading = TradingStore(db)
        let working = try await store.working(account: copy.accountId, lock: true)
        _ = try await trading.account(copy.accountId, lock: true)
        guard let fresh = try await store.copy(copy.id, follower: nil), fresh.state != .stopped,
            let stopped = try await store.transition(fresh, to: .stopped, reason: reason, closePositions: closePositions, detail: detail)
        else { return nil }
        for id in working {
            guard let order = try await trading.order(id, member: nil), order.status == .new || order.status == .partiallyFilled else { continue }
            _ = try await trading.finish(order, to: .canceled, reason: "the copy stopped")
        }
        try await wind(db, copy: stopped, now: now)
        return try await store.copy(copy.id, follower: nil)
    }

    /// A stopped copy's next step: when it is to close and nothing is working (a day order that
    /// expired unfilled), sell what it holds at market again; settle once nothing is held.
    static func wind(_ db: TenantDB, copy: CopyView, now: Date) async throws {
        if copy.closePositions, try await CopyStore(db).working(account: copy.accountId).isEmpty {
            for position in try await PortfolioStore(db).positions(account: copy.accountId) where position.qty > 0 {
                try await place(db, copy: copy, side: .sell, symbol: position.symbol, qty: position.qty, copiedFrom: nil, now: now)
            }
        }
        _ = try await CopyStore(db).settle(copy)
    }
}
