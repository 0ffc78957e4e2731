import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaValues

/// Copy trading's moves, in the caller's transaction (`CopyTrading` holds the rules):
///
/// - **Mirroring**: each fill of a leader's main-account order is queued by the matcher in the
///   fill's transaction (`CopyStore.queueFill`) and mirrored by the copy guard to every active copy
///   of that leader, each copy in its own transaction, as a market day order (`copied_from` the
///   leader's order): a buy scaled by copy equity / leader equity, a sell the copy's share of the
///   position, each figured on the leader order's whole filled quantity so far less what the copy
///   already mirrored of it, and rounded down to the board lot an order placed now is checked
///   against (nothing below one lot); a buy the copy's cash cannot pay for is cut to the lots it
///   can. What cannot be mirrored is skipped, with the reason in the copy's log.
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

    /// Mirrors a leader's order, as it stands now (its filled quantity so far), to one copy;
    /// `leaderEquity` is read once for all the leader's copies (`leaderEquity(_:order:)`).
    static func mirror(_ db: TenantDB, copy: CopyView, order: TradingOrder, leaderEquity: Int64?, now: Date) async throws {
        let trading = TradingStore(db)
        let copies = CopyStore(db)
        // The copy account's lock first: two guards mirroring one order to one copy at once (two
        // planes, or a sweep and a drain) take turns, and the second sees what the first placed.
        guard order.filledQty > 0, let account = try await trading.account(copy.accountId, lock: true),
            let leaderAccount = try await trading.account(order.accountId, lock: false), leaderAccount.kind == "main"
        else { return }
        let done = try await copies.mirrored(copy.id, leaderOrder: order.id)
        let target: Int64?
        var available = Int64.max
        switch order.side {
        case .buy:
            let copyEquity = try await equity(db, account: account)
            target = copyEquity.flatMap { c in leaderEquity.flatMap { CopyTrading.scaled(order.filledQty, copyEquity: c, leaderEquity: $0, lot: 1) } }
        case .sell:
            let leaderHeldBefore = try await trading.sellable(account: leaderAccount.id, symbol: order.symbol).held + order.filledQty
            let (held, promised) = try await trading.sellable(account: account.id, symbol: order.symbol)
            target = CopyTrading.closing(copyHeld: held + done.filled, leaderSold: order.filledQty, leaderHeld: leaderHeldBefore, lot: 1)
            available = held - promised
        }
        // The lot comes last, at the price an order placed now is checked at (`place`).
        let qty = min((target ?? 0) - done.placed, available)
        guard qty > 0 else {
            if done.placed == 0 {
                let why = order.side == .buy
                    ? "the leader bought \(order.filledQty) \(order.symbol): scaled to this copy's equity it is less than one share"
                    : "the leader sold \(order.filledQty) \(order.symbol): this copy holds none to sell"
                try await copies.log(copy.id, "skipped", leaderOrder: order.id, order: nil, detail: why)
            }
            return
        }
        try await place(db, copy: copy, side: order.side, symbol: order.symbol, qty: qty, copiedFrom: order.id, now: now, wholePosition: false)
    }

    /// The equity of the main account `order` is on (nil: not a main account, or a holding without a price).
    static func leaderEquity(_ db: TenantDB, order: TradingOrder) async throws -> Int64? {
        guard let account = try await TradingStore(db).account(order.accountId, lock: false), account.kind == "main" else { return nil }
        return try await equity(db, account: account)
    }

    /// Buys each of the leader's holdings in the copy, scaled to its equity (a new copy's: what it was given).
    static func openPositions(_ db: TenantDB, copy: CopyView, now: Date) async throws {
        let trading = TradingStore(db)
        guard let leader = try await trading.account(member: copy.leaderId), let leaderEquity = try await equity(db, account: leader) else {
            try await CopyStore(db).log(copy.id, "skipped", leaderOrder: nil, order: nil, detail: "the leader's holdings could not be valued: none copied")
            return
        }
        for position in try await PortfolioStore(db).positions(account: leader.id) where position.qty > 0 {
            guard let qty = CopyTrading.scaled(position.qty, copyEquity: copy.amount.minorUnits, leaderEquity: leaderEquity, lot: 1) else {
                try await CopyStore(db).log(
                    copy.id, "skipped", leaderOrder: nil, order: nil, detail: "the leader's \(position.qty) \(position.symbol), scaled to this copy, are less than one share")
                continue
            }
            try await place(db, copy: copy, side: .buy, symbol: position.symbol, qty: qty, copiedFrom: nil, now: now, wholePosition: false)
        }
    }

    /// Places one market day order in the copy's account: the quantity rounded down to the board lot
    /// an order placed now is checked against (`OrderRules.marketLotPrice`), a buy cut to the lots its
    /// buying power pays for; logged, or why it could not be placed. Under the copy account's lock, a
    /// copy no longer active gets no more buys or mirrored orders (its closing sells aside).
    /// Returns whether it was placed.
    @discardableResult
    static func place(
        _ db: TenantDB, copy: CopyView, side: OrderSide, symbol: String, qty wanted: Int64, copiedFrom: TradingOrderID?, now: Date, wholePosition: Bool
    ) async throws -> Bool {
        _ = try await TradingStore(db).account(copy.accountId, lock: true)
        let state = try await CopyStore(db).state(copy.id)
        if copiedFrom != nil || side == .buy, state != .active { return false }
        let copies = CopyStore(db)
        guard let (instrument, stored, _, _) = try await MarketStore(db).market(symbol), let quote = stored else {
            try await copies.log(copy.id, "skipped", leaderOrder: copiedFrom, order: nil, detail: "\(side.rawValue) \(symbol): no market data yet")
            return false
        }
        let lot = instrument.lot(at: OrderRules.marketLotPrice(instrument: instrument, reference: quote.reference, quote: quote.quote))
        var qty = wanted / lot * lot
        if side == .buy, qty > 0, let fitted = try await affordable(db, copy: copy, symbol: symbol, qty: qty, lot: lot) { qty = fitted }
        guard qty > 0 else {
            let why = side == .buy && wanted >= lot
                ? "buying \(symbol): the copy's cash pays for no board lot (\(lot))"
                : "\(side.rawValue) \(wanted) \(symbol): less than one board lot (\(lot))\(wholePosition ? ", kept" : "")"
            try await copies.log(copy.id, "skipped", leaderOrder: copiedFrom, order: nil, detail: why)
            return false
        }
        let ticket = OrderTicket(symbol: symbol, side: side, type: .market, qty: qty, limit: nil, stop: nil, timeInForce: .day)
        do {
            let order = try await OrderPlacement.place(
                db, ticket: ticket, member: copy.followerId, account: copy.accountId, clientOrderID: nil, now: now, copiedFrom: copiedFrom, copy: copy.id)
            try await copies.log(copy.id, "mirrored", leaderOrder: copiedFrom, order: order.id, detail: "\(side.rawValue) \(qty) \(symbol) at market")
            return true
        } catch let refusal as RuleError {
            try await copies.log(copy.id, "skipped", leaderOrder: copiedFrom, order: nil, detail: "\(side.rawValue) \(qty) \(symbol): \(refusal.detail)")
        } catch let problem as Problem {
            try await copies.log(copy.id, "skipped", leaderOrder: copiedFrom, order: nil, detail: "\(side.rawValue) \(qty) \(symbol): \(problem.title): \(problem.detail)")
        }
        return false
    }

    /// The most of `qty` (whole lots) the copy's buying power reserves for at market; nil when the
    /// market cannot be read (the placement then says why).
    static func affordable(_ db: TenantDB, copy: CopyView, symbol: String, qty: Int64, lot: Int64) async throws -> Int64? {
        guard let (instrument, quote, rate, section) = try await MarketStore(db).market(symbol), let stored = quote, let rate,
            let account = try await TradingStore(db).account(copy.accountId, lock: false)
        else { return nil }
        let terms = section ?? .none
        func needed(_ q: Int64) -> Int64? {
            OrderRules.reservation(
                OrderTicket(symbol: symbol, side: .buy, type: .market, qty: q, limit: nil, stop: nil, timeInForce: .day), instrument: instrument,
                ask: stored.quote.ask, rate: rate, bufferBps: terms.marketBuffer, commission: terms.commission(onCADMinor:))
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

    /// A stopped copy's next step, in its own transaction: a buy still working (mirrored just as it
    /// stopped) canceled; when it is to close and no sell is working (a day order that expired
    /// unfilled), what it holds sold at market again, in whole lots; settled once nothing it can sell
    /// is left (holdings below one board lot stay in the closed account, said in its log).
    static func wind(_ db: TenantDB, copy: CopyView, now: Date) async throws {
        let store = CopyStore(db)
        let trading = TradingStore(db)
        var sellsWorking = false
        for id in try await store.working(account: copy.accountId, lock: true) {
            guard let order = try await trading.order(id, member: nil), order.status == .new || order.status == .partiallyFilled else { continue }
            if order.side == .sell { sellsWorking = true; continue }
            _ = try await trading.finish(order, to: .canceled, reason: "the copy stopped")
        }
        var leftovers: [String] = []
        for position in try await PortfolioStore(db).positions(account: copy.accountId) where position.qty > 0 {
            guard let (instrument, stored, _, _) = try await MarketStore(db).market(position.symbol), let quote = stored else { continue }
            let lot = instrument.lot(at: OrderRules.marketLotPrice(instrument: instrument, reference: quote.reference, quote: quote.quote))
            if position.qty < lot {
                leftovers.append(position.symbol)
            } else if copy.closePositions, !sellsWorking {
                try await place(db, copy: copy, side: .sell, symbol: position.symbol, qty: position.qty, copiedFrom: nil, now: now, wholePosition: true)
            }
        }
        if try await store.settle(copy, leftovers: leftovers), !leftovers.isEmpty {
            try await store.log(copy.id, "settled", leaderOrder: nil, order: nil, detail: "kept below one board lot: \(leftovers.joined(separator: ", "))")
        }
    }
}
