import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaValues

/// Placing an order, in the caller's transaction: the exchange's rules (lot, tick, band around the
/// session's reference), then, under the account's row lock (so two orders at once never spend the
/// same money or shares), buying power for a buy — what it reserves must fit in cash − reserved —
/// or holdings not already promised to working sells for a sell (no shorting, no margin).
enum OrderPlacement {
    static func place(
        _ db: TenantDB, ticket: OrderTicket, member: MemberID, account accountID: TradingAccountID? = nil, clientOrderID: String?, now: Date,
        copiedFrom: TradingOrderID? = nil, copy: TradingCopyID? = nil
    ) async throws -> TradingOrder {
        let (instrument, account, reserve, endsAt) = try await check(db, ticket: ticket, member: member, account: accountID, replacing: nil, copyBuy: copy != nil)
        let expires = expiry(ticket, instrument: instrument, endsAt: endsAt, now: now)
        guard let order = try await TradingStore(db).place(
            ticket, account: account, clientOrderID: clientOrderID, reserve: reserve, expiresAt: expires, reason: copy == nil ? "placed" : "placed by a copy",
            copiedFrom: copiedFrom, copy: copy)
        else { throw duplicateClientOrderID }
        return order
    }

    /// Replaces a working order (Alpaca's `PATCH /orders/{id}`): a new order with a new id for what
    /// is asked — the old one's symbol, side and type; the new qty (by default what the old one had
    /// left), limit, stop and time in force (each the old one's unless given) — checked as a new order
    /// would be, except that the old order's reservation (a buy) or promised shares (a sell) count as
    /// free, since they go with it. The old one becomes `replaced`, linked both ways. Refused when the
    /// old one has stopped working (filled first, canceled, expired) or would change nothing.
    static func replace(
        _ db: TenantDB, id: TradingOrderID, member: MemberID?, change: ReplaceChange, now: Date
    ) async throws -> (old: TradingOrder, new: TradingOrder) {
        let store = TradingStore(db)
        // The order first, then its account: the matcher's and cancel's lock order.
        guard let old = try await store.order(id, member: member, lock: true) else { throw Problem.notFound("Order") }
        if case .failure(let refusal) = old.status.transition(to: .replaced) {
            if old.status == .filled {
                throw RuleError(.conflict, "order-filled", "Order already filled", detail: "The order filled before it could be replaced; nothing was changed.")
            }
            throw refusal
        }
        let ticket = OrderTicket(
            symbol: old.symbol, side: old.side, type: old.type, qty: change.qty ?? (old.qty - old.filledQty),
            limit: change.limit ?? old.limitPrice.flatMap(Price.init), stop: change.stop ?? old.stopPrice.flatMap(Price.init),
            timeInForce: change.timeInForce ?? old.timeInForce)
        if ticket.qty == old.qty - old.filledQty, ticket.limit?.description == old.limitPrice, ticket.stop?.description == old.stopPrice,
            ticket.timeInForce == old.timeInForce, change.clientOrderID == nil
        {
            throw Problem.validation(field: "qty", "the replacement changes nothing: give a new qty, limit_price, stop_price or time_in_force")
        }
        guard let account = try await store.account(old.accountId, lock: true) else { throw Problem.notFound("Order") }
        let (instrument, _, reserve, endsAt) = try await check(db, ticket: ticket, member: old.memberId, account: nil, replacing: (old, account))
        let expires = expiry(ticket, instrument: instrument, endsAt: endsAt, now: now)
        guard let new = try await store.replace(old, with: ticket, account: account, clientOrderID: change.clientOrderID, reserve: reserve, expiresAt: expires)
        else { throw duplicateClientOrderID }
        return (old, new)
    }

    /// What a replacement asks to change.
    struct ReplaceChange: Sendable {
        var qty: Int64?
        var limit: Price?
        var stop: Price?
        var timeInForce: TimeInForce?
        var clientOrderID: String?
    }

    /// A day order's end is its exchange's close; a competition account's orders end at the
    /// competition's end at the latest (`Competition.orderExpiry`).
    static func expiry(_ ticket: OrderTicket, instrument: Instrument, endsAt: Date?, now: Date) -> Date? {
        let day = ticket.timeInForce == .day ? instrument.session.dayOrderExpiry(placedAt: now) : nil
        guard let endsAt else { return day }
        return Competition.orderExpiry(dayExpiry: day, endsAt: endsAt)
    }

    static let duplicateClientOrderID = RuleError(
        .conflict, "duplicate-client-order-id", "Duplicate client order id", detail: "The account already has an order with this client_order_id.")

    /// The exchange's rules, then buying power or holdings on the locked account (`replacing`'s own
    /// reservation or promised shares counted as free), then a competition account's rules (trading
    /// only while it runs; one instrument's weight capped): the instrument, the account, what a buy
    /// reserves, and the competition's end when the account is in one.
    static func check(
        _ db: TenantDB, ticket: OrderTicket, member: MemberID, account accountID: TradingAccountID?, replacing: (order: TradingOrder, account: TradingAccount)?,
        copyBuy: Bool = false
    ) async throws -> (Instrument, TradingAccount, Int64, Date?) {
        guard let (instrument, quote, rate, section) = try await MarketStore(db).market(ticket.symbol) else {
            throw Problem.validation(field: "symbol", "\(ticket.symbol) is not listed (GET /v1/market/instruments)")
        }
        guard let stored = quote else {
            throw RuleError(.conflict, "no-market-data", "No market data", detail: "There is no quote for \(ticket.symbol) yet; try again shortly.")
        }
        let errors = OrderRules.errors(ticket, instrument: instrument, reference: stored.reference, quote: stored.quote)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let store = TradingStore(db)
        let locked: TradingAccount? = if let replacing { replacing.account } else { try await store.account(member: member, id: accountID, lock: true) }
        guard let account = locked else {
            if accountID != nil { throw Problem.validation(field: "account_id", "names none of the member's paper accounts") }
            throw RuleError(.conflict, "no-trading-account", "No paper account", detail: "Open the member's paper account first (POST /v1/trading/account).")
        }
        if account.closedAt != nil {
            throw RuleError(.conflict, "account-closed", "Account closed", detail: "The competition is over and its results are final; this account takes no more orders.")
        }
        if account.kind == "copy" && ticket.side == .buy && !copyBuy {
            throw RuleError(
                .conflict, "copy-account", "A copy's account",
                detail: "A copy's account buys only what its leader buys; sell from it, or stop the copy (POST /v1/trading/copies/{id}/stop).")
        }
        var competition: CompetitionStore.Row?
        if let id = account.competitionId {
            competition = try await CompetitionStore(db).competition(id)
            guard let c = competition, c.phase(now: db.now) == .running else {
                throw RuleError(
                    .conflict, "competition-not-running", "Competition not running",
                    detail: "A competition account trades only between the competition's start and its end.")
            }
        }
        var reserve: Int64 = 0
        switch ticket.side {
        case .buy:
            let section = section ?? .none
            guard let rate else {
                throw RuleError(.conflict, "no-fx-rate", "No FX rate", detail: "There is no \(instrument.currency.code)/CAD mid rate to value this order.")
            }
            guard let needed = OrderRules.reservation(
                ticket, instrument: instrument, ask: stored.quote.ask, rate: rate, bufferBps: section.marketBuffer, commission: section.commission(onCADMinor:))
            else { throw Problem.validation(field: "qty", "is too large to value") }
            let spendable = account.buyingPower.minorUnits + (replacing?.order.reserved.minorUnits ?? 0)
            guard needed <= spendable else {
                throw RuleError(
                    .unprocessable, "insufficient-buying-power", "Insufficient buying power",
                    detail: "The order needs \(Money(minorUnits: needed, currency: .cad).formatted) CAD; the account can spend \(Money(minorUnits: spendable, currency: .cad).formatted) CAD.")
            }
            reserve = needed
            if let competition, competition.maxPositionBps < 10_000 {
                let positions = try await PortfolioStore(db).positions(account: account.id)
                let equity = account.cash.minorUnits + positions.reduce(0) { $0 + ($1.marketValueCad?.minorUnits ?? 0) }
                // The position, and what the other working buys of the instrument will make it (the
                // order being replaced aside).
                let pending = try await store.workingBuys(account: account.id, symbol: ticket.symbol) - (replacing?.order.reserved.minorUnits ?? 0)
                let held = (positions.first { $0.symbol == ticket.symbol }?.marketValueCad?.minorUnits ?? 0) + max(0, pending)
                guard Competition.withinCap(positionCADMinor: held, orderCADMinor: needed, equityCADMinor: equity, maxBps: competition.maxPositionBps) else {
                    throw RuleError(
                        .unprocessable, "position-limit", "Over the competition's position limit",
                        detail: "The competition allows at most \(competition.maxPositionBps / 100)% of equity in one instrument; with this order \(ticket.symbol) would weigh \(Money(minorUnits: held + needed, currency: .cad).formatted) CAD of \(Money(minorUnits: equity, currency: .cad).formatted) CAD.")
                }
            }
        case .sell:
            var (held, promised) = try await store.sellable(account: account.id, symbol: ticket.symbol)
            if let old = replacing?.order { promised -= old.qty - old.filledQty }
            guard ticket.qty <= held - promised else {
                throw RuleError(
                    .unprocessable, "insufficient-holdings", "Insufficient holdings",
                    detail: "Selling \(ticket.qty) \(ticket.symbol) needs that many shares not already in a working sell: \(held) held, \(promised) promised. No short selling.")
            }
        }
        return (instrument, account, reserve, competition?.endsAt)
    }
}
