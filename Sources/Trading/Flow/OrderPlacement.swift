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
    static func place(_ db: TenantDB, ticket: OrderTicket, member: MemberID, clientOrderID: String?, now: Date) async throws -> TradingOrder {
        guard let (instrument, quote) = try await MarketStore(db).market(ticket.symbol) else {
            throw Problem.validation(field: "symbol", "\(ticket.symbol) is not listed (GET /v1/market/instruments)")
        }
        guard let stored = quote else {
            throw RuleError(.conflict, "no-market-data", "No market data", detail: "There is no quote for \(ticket.symbol) yet; try again shortly.")
        }
        let errors = OrderRules.errors(ticket, instrument: instrument, reference: stored.reference, quote: stored.quote)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let store = TradingStore(db)
        guard let account = try await store.account(member: member, lock: true) else {
            throw RuleError(.conflict, "no-trading-account", "No paper account", detail: "Open the member's paper account first (POST /v1/trading/account).")
        }
        var reserve: Int64 = 0
        switch ticket.side {
        case .buy:
            let section = try await db.section(TradingSection.self) ?? .none
            guard let rate = try await store.rateToCAD(instrument.currency) else {
                throw RuleError(.conflict, "no-fx-rate", "No FX rate", detail: "There is no \(instrument.currency.code)/CAD mid rate to value this order.")
            }
            guard let needed = OrderRules.reservation(
                ticket, instrument: instrument, ask: stored.quote.ask, rate: rate, bufferBps: section.marketBuffer, commission: section.commission(onCADMinor:))
            else { throw Problem.validation(field: "qty", "is too large to value") }
            guard needed <= account.buyingPower.minorUnits else {
                throw RuleError(
                    .unprocessable, "insufficient-buying-power", "Insufficient buying power",
                    detail: "The order needs \(Money(minorUnits: needed, currency: .cad).formatted) CAD; the account can spend \(account.buyingPower.formatted) CAD.")
            }
            reserve = needed
        case .sell:
            let (held, promised) = try await store.sellable(account: account.id, symbol: ticket.symbol)
            guard ticket.qty <= held - promised else {
                throw RuleError(
                    .unprocessable, "insufficient-holdings", "Insufficient holdings",
                    detail: "Selling \(ticket.qty) \(ticket.symbol) needs that many shares not already in a working sell: \(held) held, \(promised) promised. No short selling.")
            }
        }
        let expires = ticket.timeInForce == .day ? instrument.session.dayOrderExpiry(placedAt: now) : nil
        guard let order = try await store.place(ticket, account: account, clientOrderID: clientOrderID, reserve: reserve, expiresAt: expires, reason: "placed") else {
            throw RuleError(.conflict, "duplicate-client-order-id", "Duplicate client order id", detail: "The account already has an order with this client_order_id.")
        }
        return order
    }
}
