import Foundation

public enum OrderSide: String, Sendable, Codable, CaseIterable {
    case buy, sell
}

public enum OrderType: String, Sendable, Codable, CaseIterable {
    case market, limit, stop
    case stopLimit = "stop_limit"

    public var needsLimit: Bool { self == .limit || self == .stopLimit }
    public var needsStop: Bool { self == .stop || self == .stopLimit }
}

public enum TimeInForce: String, Sendable, Codable, CaseIterable {
    /// Expires at the close of its exchange's session (in the exchange's time zone).
    case day
    /// Good till cancelled.
    case gtc
}

/// One quote of an instrument: the best bid and ask with the size shown at each (shares), and the
/// last trade. `seq` numbers an instrument's quotes, so an order never fills twice on one quote.
public struct Quote: Sendable, Equatable, Codable {
    public let symbol: String
    public let seq: Int64
    public let at: Date
    public let bid: Price
    public let bidSize: Int64
    public let ask: Price
    public let askSize: Int64
    public let last: Price

    public init(symbol: String, seq: Int64, at: Date, bid: Price, bidSize: Int64, ask: Price, askSize: Int64, last: Price) {
        self.symbol = symbol
        self.seq = seq
        self.at = at
        self.bid = bid
        self.bidSize = bidSize
        self.ask = ask
        self.askSize = askSize
        self.last = last
    }

    enum CodingKeys: String, CodingKey { case symbol, seq, at, bid, bidSize, ask, askSize, last }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(seq, forKey: .seq)
        try c.encode(at, forKey: .at)
        try c.encode(bid.e4, forKey: .bid)
        try c.encode(bidSize, forKey: .bidSize)
        try c.encode(ask.e4, forKey: .ask)
        try c.encode(askSize, forKey: .askSize)
        try c.encode(last.e4, forKey: .last)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.decode(String.self, forKey: .symbol)
        seq = try c.decode(Int64.self, forKey: .seq)
        at = try c.decode(Date.self, forKey: .at)
        bid = Price(e4: try c.decode(Int64.self, forKey: .bid))
        bidSize = try c.decode(Int64.self, forKey: .bidSize)
        ask = Price(e4: try c.decode(Int64.self, forKey: .ask))
        askSize = try c.decode(Int64.self, forKey: .askSize)
        last = Price(e4: try c.decode(Int64.self, forKey: .last))
    }
}

/// What of a working order matters to matching.
public struct WorkingOrder: Sendable, Equatable {
    public let id: UUID
    public let side: OrderSide
    public let type: OrderType
    public let qty: Int64
    public var filledQty: Int64
    public let limit: Price?
    public let stop: Price?
    /// A stop or stop-limit whose stop was reached: it now works as a market (stop) or a limit
    /// (stop-limit) order.
    public var elected: Bool
    /// The last quote it was matched against (nil: none yet).
    public var lastQuoteSeq: Int64?

    public init(id: UUID, side: OrderSide, type: OrderType, qty: Int64, filledQty: Int64 = 0, limit: Price? = nil, stop: Price? = nil, elected: Bool = false, lastQuoteSeq: Int64? = nil) {
        self.id = id
        self.side = side
        self.type = type
        self.qty = qty
        self.filledQty = filledQty
        self.limit = limit
        self.stop = stop
        self.elected = elected
        self.lastQuoteSeq = lastQuoteSeq
    }

    public var leavesQty: Int64 { qty - filledQty }
}

/// A fill: `qty` shares at `price`, against the quote `quoteSeq`.
public struct Fill: Sendable, Equatable {
    public let order: UUID
    public let qty: Int64
    public let price: Price
    public let quoteSeq: Int64
}

/// How orders fill against quotes, as pure rules — the same orders and quotes give the same fills,
/// always (no randomness here; the feed's is seeded).
///
/// - A **market** order takes the ask (buy) or the bid (sell), **up to the size shown** there; what
///   is left works against later quotes (a partial fill as it would happen).
/// - A **limit** buy fills when the ask is at or below its limit, at the ask (the better of the
///   two); a limit sell when the bid is at or above it, at the bid. Also up to the size shown.
/// - A **stop** is elected when the last trade reaches its stop (buy: last ≥ stop; sell: last ≤
///   stop) — a stop already reached when placed is elected by the first quote it meets — and then
///   works as a market order: a price that gapped through the stop fills at the quote beyond it,
///   never at the stale stop. A **stop-limit** elected works as a limit at its limit price.
/// - Orders of one book (one tenant's paper market) share each quote's shown size in time
///   priority (`match` is given them oldest first); tenants never compete for it.
/// - An order meets each quote once (`lastQuoteSeq`).
public enum Matching {
    /// Matches `orders` (oldest first) against `quote`: the fills, and the orders as they are after
    /// it (elected, filled quantities, the quote recorded). Orders that were not eligible (already
    /// seen this quote) come back unchanged.
    public static func match(_ orders: [WorkingOrder], against quote: Quote) -> (fills: [Fill], orders: [WorkingOrder]) {
        var askLeft = quote.askSize
        var bidLeft = quote.bidSize
        var fills: [Fill] = []
        var after: [WorkingOrder] = []
        for var order in orders {
            guard order.leavesQty > 0, (order.lastQuoteSeq ?? Int64.min) < quote.seq else {
                after.append(order)
                continue
            }
            order.lastQuoteSeq = quote.seq
            if order.type.needsStop, !order.elected, let stop = order.stop {
                order.elected = order.side == .buy ? quote.last >= stop : quote.last <= stop
            }
            if let price = fillPrice(order, quote) {
                let shown = order.side == .buy ? askLeft : bidLeft
                let qty = min(order.leavesQty, shown)
                if qty > 0 {
                    fills.append(Fill(order: order.id, qty: qty, price: price, quoteSeq: quote.seq))
                    order.filledQty += qty
                    if order.side == .buy { askLeft -= qty } else { bidLeft -= qty }
                }
            }
            after.append(order)
        }
        return (fills, after)
    }

    /// The price `order` would trade at against `quote` now, or nil when it is not marketable.
    public static func fillPrice(_ order: WorkingOrder, _ quote: Quote) -> Price? {
        let touch = order.side == .buy ? quote.ask : quote.bid
        switch order.type {
        case .market:
            return touch
        case .limit:
            return within(order.limit, touch, side: order.side)
        case .stop:
            return order.elected ? touch : nil
        case .stopLimit:
            return order.elected ? within(order.limit, touch, side: order.side) : nil
        }
    }

    static func within(_ limit: Price?, _ touch: Price, side: OrderSide) -> Price? {
        guard let limit else { return nil }
        switch side {
        case .buy: return touch <= limit ? touch : nil
        case .sell: return touch >= limit ? touch : nil
        }
    }

    /// Whether `quote` can make an order with `trigger` trade (or elect it): the predicate the
    /// platform's trigger index answers in SQL (`TriggerIndexStore.due`) for every tenant at once,
    /// so a tick opens a transaction only in the tenants whose books it concerns. An order also
    /// stops being concerned by a quote it has met (`lastQuoteSeq`).
    public static func concerns(_ trigger: Trigger, _ quote: Quote) -> Bool {
        switch trigger {
        case .any: true
        case .buyLimit(let limit): quote.ask <= limit
        case .sellLimit(let limit): quote.bid >= limit
        case .buyStop(let stop): quote.last >= stop
        case .sellStop(let stop): quote.last <= stop
        }
    }
}

/// A working order reduced to what decides whether a quote concerns it (Migrations/tenant/0021 is
/// the same reduction, in the trigger that keeps the platform's index).
public enum Trigger: Sendable, Equatable {
    /// Trades at any price: a market order, an elected stop.
    case any
    /// A limit, or an elected stop-limit, at its limit.
    case buyLimit(Price), sellLimit(Price)
    /// A stop or stop-limit not yet elected, at its stop.
    case buyStop(Price), sellStop(Price)

    /// `order`'s trigger; nil once it has nothing left to fill.
    public init?(_ order: WorkingOrder) {
        guard order.leavesQty > 0 else { return nil }
        switch order.type {
        case .market: self = .any
        case .stop where order.elected: self = .any
        case .limit, .stopLimit where order.elected:
            guard let limit = order.limit else { return nil }
            self = order.side == .buy ? .buyLimit(limit) : .sellLimit(limit)
        case .stop, .stopLimit:
            guard let stop = order.stop else { return nil }
            self = order.side == .buy ? .buyStop(stop) : .sellStop(stop)
        }
    }
}
