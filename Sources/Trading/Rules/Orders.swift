import Foundation
import Ledger
import NzilaValues

/// Where an order stands, with Alpaca's names. `new` and `partially_filled` work; the rest are final.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case new
    case partiallyFilled = "partially_filled"
    case filled, canceled, expired, rejected, replaced

    public var next: Set<OrderStatus> {
        switch self {
        case .new: [.partiallyFilled, .filled, .canceled, .expired, .rejected, .replaced]
        case .partiallyFilled: [.filled, .canceled, .expired, .replaced]
        case .filled, .canceled, .expired, .rejected, .replaced: []
        }
    }

    public var isWorking: Bool { self == .new || self == .partiallyFilled }

    /// The event an order reaching this status announces (Alpaca's trade-update names).
    public var event: String {
        switch self {
        case .new: "new"
        case .partiallyFilled: "partial_fill"
        case .filled: "fill"
        case .canceled: "canceled"
        case .expired: "expired"
        case .rejected: "rejected"
        case .replaced: "replaced"
        }
    }

    /// `trading.order_<event>.v1`.
    public var eventType: String { "trading.order_\(event).v1" }

    public enum Refusal: DomainError, Equatable, Sendable {
        case illegal(from: OrderStatus, to: OrderStatus)

        public var ruleError: RuleError {
            switch self {
            case .illegal(let from, _): RuleError.invalidTransition("order", current: from.rawValue)
            }
        }
    }

    public func transition(to target: OrderStatus) -> Result<OrderStatus, Refusal> {
        next.contains(target) ? .success(target) : .failure(.illegal(from: self, to: target))
    }
}

/// An order as asked for, before it is checked.
public struct OrderTicket: Sendable, Equatable {
    public let symbol: String
    public let side: OrderSide
    public let type: OrderType
    public let qty: Int64
    public let limit: Price?
    public let stop: Price?
    public let timeInForce: TimeInForce

    public init(symbol: String, side: OrderSide, type: OrderType, qty: Int64, limit: Price?, stop: Price?, timeInForce: TimeInForce) {
        self.symbol = symbol
        self.side = side
        self.type = type
        self.qty = qty
        self.limit = limit
        self.stop = stop
        self.timeInForce = timeInForce
    }
}

/// What an order must meet before it works, and what a buy holds back, as pure rules.
public enum OrderRules {
    /// Every refusal of `ticket` on `instrument`, given the session's reference price (the previous
    /// close: the band is around it) and the latest quote. Empty when it may be placed.
    public static func errors(_ ticket: OrderTicket, instrument: Instrument, reference: Price, quote: Quote?) -> [FieldError] {
        var errors: [FieldError] = []
        if instrument.kind == .index {
            return [FieldError(field: "symbol", message: "\(instrument.symbol) is an index: it is quoted, not traded")]
        }
        if ticket.type.needsLimit, ticket.limit == nil { errors.append(FieldError(field: "limit_price", message: "is required for a \(ticket.type.rawValue) order")) }
        if !ticket.type.needsLimit, ticket.limit != nil { errors.append(FieldError(field: "limit_price", message: "is only for limit and stop_limit orders")) }
        if ticket.type.needsStop, ticket.stop == nil { errors.append(FieldError(field: "stop_price", message: "is required for a \(ticket.type.rawValue) order")) }
        if !ticket.type.needsStop, ticket.stop != nil { errors.append(FieldError(field: "stop_price", message: "is only for stop and stop_limit orders")) }
        if let limit = ticket.limit { errors += instrument.priceErrors(limit, field: "limit_price", reference: reference) }
        if let stop = ticket.stop { errors += instrument.priceErrors(stop, field: "stop_price", reference: reference) }
        // The board lot at the order's own price, else at the market's (TSX: by the previous close).
        let lotPrice = ticket.limit ?? ticket.stop ?? marketLotPrice(instrument: instrument, reference: reference, quote: quote)
        errors += instrument.quantityErrors(ticket.qty, at: lotPrice)
        if ticket.qty > 1_000_000_000 { errors.append(FieldError(field: "qty", message: "must be at most 1,000,000,000 shares")) }
        return errors
    }

    /// The price a market order's board lot is taken at: the previous close on the TSX (its standard
    /// trading unit goes by it), else the last trade.
    public static func marketLotPrice(instrument: Instrument, reference: Price, quote: Quote?) -> Price {
        instrument.exchange == "TSX" ? reference : quote?.last ?? reference
    }

    /// The price a buy is reserved at: its limit; a market or stop buy's ask (a stop's at least its
    /// stop) plus `bufferBps`, rounded up to the ten-thousandth, since it fills at whatever comes.
    public static func reservationPrice(_ ticket: OrderTicket, ask: Price, bufferBps: Int) -> Price {
        if let limit = ticket.limit { return limit }
        let base = max(ask, ticket.stop ?? ask)
        let buffered = (Int128(base.e4) * Int128(10_000 + bufferBps) + 9_999) / 10_000
        return Price(e4: Int64(buffered))
    }

    /// CAD minor units for `minor` units of `currency` at `rate` (CAD per one unit of it), rounded as
    /// named: cad = minor × rate × 10^2 ÷ 10^exponent.
    public static func toCAD(_ minor: Int64, from currency: Currency, rate: FXRate, rounding: Instrument.Rounding) -> Int64 {
        if currency == .cad { return minor }
        var numerator = Int128(minor) * rate.scaled * 100
        var denominator = FXRate.scale
        for _ in 0..<currency.exponent { denominator *= 10 }
        let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
        numerator = q
        return Int64(rounding == .up && r > 0 ? numerator + 1 : numerator)
    }

    /// The CAD a buy holds back: qty at its reservation price, in the instrument's currency rounded
    /// up, converted at the mid rate rounded up, plus the commission on that.
    public static func reservation(_ ticket: OrderTicket, instrument: Instrument, ask: Price, rate: FXRate, bufferBps: Int, commission: (Int64) -> Int64) -> Int64? {
        let price = reservationPrice(ticket, ask: ask, bufferBps: bufferBps)
        guard let minor = instrument.notionalMinor(price, qty: ticket.qty, rounding: .up) else { return nil }
        let cad = toCAD(minor, from: instrument.currency, rate: rate, rounding: .up)
        return cad + commission(cad)
    }
}
