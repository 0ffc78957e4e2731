import Foundation
import NzilaValues

public enum TradingOrderTag {}
/// A paper order's id.
public typealias TradingOrderID = Identifier<TradingOrderTag>
public enum TradingAccountTag {}
/// A paper account's id.
public typealias TradingAccountID = Identifier<TradingAccountTag>
public enum TradingCompetitionTag {}
/// A trading competition's id.
public typealias TradingCompetitionID = Identifier<TradingCompetitionTag>

/// `trading.order_<event>.v1`: an order's trade update, with Alpaca's event name (`new`,
/// `partial_fill`, `fill`, `canceled`, `expired`, `replaced`, `rejected`), where it stands, and for a
/// fill its own quantity and price and the position after it. Prices are decimal strings in the
/// instrument's quote unit. Never a secret or an account number.
public struct TradingOrderEvent: Codable, Sendable, Equatable {
    public let orderId: TradingOrderID
    public let clientOrderId: String?
    public let memberId: MemberID
    public let event: String
    public let status: OrderStatus
    public let symbol: String
    public let side: OrderSide
    public let orderType: OrderType
    public let qty: Int64
    public let filledQty: Int64
    public let limitPrice: String?
    public let stopPrice: String?
    public let fillQty: Int64?
    public let fillPrice: String?
    public let positionQty: Int64?
    /// A replacement's links: the order it replaces (on its `new`), the order that replaced it (on `replaced`).
    public let replaces: TradingOrderID?
    public let replacedBy: TradingOrderID?

    public init(
        orderId: TradingOrderID, clientOrderId: String?, memberId: MemberID, status: OrderStatus, symbol: String, side: OrderSide, type: OrderType, qty: Int64,
        filledQty: Int64, limitPrice: Price?, stopPrice: Price?, fill: (qty: Int64, price: Price)? = nil, positionQty: Int64? = nil,
        replaces: TradingOrderID? = nil, replacedBy: TradingOrderID? = nil
    ) {
        self.orderId = orderId
        self.clientOrderId = clientOrderId
        self.memberId = memberId
        self.event = status.event
        self.status = status
        self.symbol = symbol
        self.side = side
        self.orderType = type
        self.qty = qty
        self.filledQty = filledQty
        self.limitPrice = limitPrice?.description
        self.stopPrice = stopPrice?.description
        self.fillQty = fill?.qty
        self.fillPrice = fill?.price.description
        self.positionQty = positionQty
        self.replaces = replaces
        self.replacedBy = replacedBy
    }

    enum CodingKeys: String, CodingKey {
        case orderId, clientOrderId, memberId, event, status, symbol, side, orderType, qty, filledQty, limitPrice, stopPrice, fillQty, fillPrice, positionQty, replaces, replacedBy
    }

    /// Every field always present (null when it does not apply), so consumers read one shape.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(clientOrderId, forKey: .clientOrderId)
        try c.encode(memberId, forKey: .memberId)
        try c.encode(event, forKey: .event)
        try c.encode(status, forKey: .status)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(side, forKey: .side)
        try c.encode(orderType, forKey: .orderType)
        try c.encode(qty, forKey: .qty)
        try c.encode(filledQty, forKey: .filledQty)
        try c.encode(limitPrice, forKey: .limitPrice)
        try c.encode(stopPrice, forKey: .stopPrice)
        try c.encode(fillQty, forKey: .fillQty)
        try c.encode(fillPrice, forKey: .fillPrice)
        try c.encode(positionQty, forKey: .positionQty)
        try c.encode(replaces, forKey: .replaces)
        try c.encode(replacedBy, forKey: .replacedBy)
    }

    public static var types: [String] { OrderStatus.allCases.map(\.eventType) }
}
