import Foundation
import Ledger
import NzilaValues

/// Replays an academy scenario: the seeded feed's quotes of one instrument over a few steps (a
/// shock laid over them when the lesson wants a gap), one order checked by the exchange's rules as
/// a real placement is, then matched step by step by the matcher's own rules (`Matching.match`),
/// in a sandbox: the scenario's own cash and holding, nothing stored on the member's accounts. The
/// same scenario and order always replay the same way.
///
/// Money as in a real fill: the notional in the instrument's minor unit (a buy rounded up, a sell
/// down), then CAD at the step's rate (the same), no commission (the lesson is about the mechanic).
/// The holding's value each step is marked at the last trade, rounded down twice, as positions are.
public enum ScenarioReplay {
    public struct Step: Sendable, Codable, Equatable {
        public let step: Int
        public let at: Date
        public let bid: String
        public let bidSize: Int64
        public let ask: String
        public let askSize: Int64
        public let last: String
        /// CAD per unit of the instrument's currency.
        public let rate: String
        /// The stop was reached at this step (it now works as a market or limit order).
        public let elected: Bool
        public let fillQty: Int64?
        public let fillPrice: String?
        public let fillCad: Money?
        public let filledQty: Int64
        public let status: OrderStatus
        public let cash: Money
        public let holding: Int64
        public let holdingValueCad: Money
        public let equity: Money
    }

    public struct Result: Sendable, Codable, Equatable {
        /// The order replayed, its prices resolved.
        public let order: Academy.ScenarioOrder
        /// Why the order would be refused (the replay then shows the market alone).
        public let refused: [FieldError]
        public let steps: [Step]
        public let filledQty: Int64
        /// The average fill price, in the quote unit (nil: nothing filled).
        public let averagePrice: String?
        public let startingEquity: Money
        public let endingEquity: Money
    }

    /// The scenario's quotes: the seeded feed's, step by step from `from` (sequence numbers in
    /// replay order), each price moved by the shock from its step on, floored to the tick grid.
    public static func quotes(_ scenario: Academy.Scenario, instrument: Instrument, feed: SeededQuoteFeed) -> [Quote] {
        (0..<scenario.steps).map { i in
            let at = scenario.from.addingTimeInterval(Double(i * FeedProcess.stepSeconds))
            let q = feed.quote(instrument, at: at)
            guard let shock = scenario.shock, i >= shock.step else {
                return Quote(symbol: q.symbol, seq: Int64(i + 1), at: at, bid: q.bid, bidSize: q.bidSize, ask: q.ask, askSize: q.askSize, last: q.last)
            }
            func moved(_ p: Price) -> Price {
                let e4 = max(1, Int64(Int128(p.e4) * Int128(10_000 + shock.bps) / 10_000))
                return instrument.floorToGrid(Price(e4: e4))
            }
            let bid = moved(q.bid)
            let ask = max(moved(q.ask), instrument.step(bid, ticks: 1))
            return Quote(symbol: q.symbol, seq: Int64(i + 1), at: at, bid: bid, bidSize: q.bidSize, ask: ask, askSize: q.askSize, last: moved(q.last))
        }
    }

    /// The rate of each step: the scenario's, moved by its rate shock from that step on.
    public static func rates(_ scenario: Academy.Scenario) -> [FXRate]? {
        guard let base = FXRate(decimal: scenario.rate) else { return nil }
        return (0..<scenario.steps).map { i in
            guard let shock = scenario.rateShock, i >= shock.step else { return base }
            return FXRate(scaled: max(1, base.scaled * Int128(10_000 + shock.bps) / 10_000))
        }
    }

    public static func run(
        _ scenario: Academy.Scenario, order: Academy.ScenarioOrder, instrument: Instrument, quotes: [Quote], reference: Price, rates: [FXRate]
    ) -> Result {
        let base = quotes.first?.last ?? reference
        let limit = order.limitPrice.flatMap { resolve($0, base: base, instrument: instrument) }
        let stop = order.stopPrice.flatMap { resolve($0, base: base, instrument: instrument) }
        let ticket = OrderTicket(symbol: instrument.symbol, side: order.side, type: order.type, qty: order.qty, limit: limit, stop: stop, timeInForce: .day)
        let resolved = Academy.ScenarioOrder(side: order.side, type: order.type, qty: order.qty, limitPrice: limit?.description, stopPrice: stop?.description)
        var refused = OrderRules.errors(ticket, instrument: instrument, reference: reference, quote: quotes.first)
        if order.limitPrice != nil && limit == nil {
            refused.append(FieldError(field: "limit_price", message: "must be a decimal string such as \"12.50\", or an offset from the first price such as \"-2%\""))
        }
        if order.stopPrice != nil && stop == nil {
            refused.append(FieldError(field: "stop_price", message: "must be a decimal string such as \"12.50\", or an offset from the first price such as \"-2%\""))
        }
        if order.side == .sell && order.qty > scenario.holding {
            refused.append(FieldError(field: "qty", message: "the sandbox holds \(scenario.holding) shares: no short selling"))
        }
        var working: WorkingOrder? = refused.isEmpty
            ? WorkingOrder(id: UUID(uuidString: "00000000-0000-0000-0000-00000000a11a")!, side: ticket.side, type: ticket.type, qty: ticket.qty, limit: ticket.limit, stop: ticket.stop)
            : nil
        var cash = scenario.startingCashMinor
        var holding = scenario.holding
        var status: OrderStatus = refused.isEmpty ? .new : .rejected
        var steps: [Step] = []
        var notionalE4Sum: Int128 = 0
        var startingEquity: Int64?
        for (i, quote) in quotes.enumerated() {
            let rate = rates[min(i, rates.count - 1)]
            var elected = false
            var fill: Fill?
            var fillCAD: Int64?
            if var order = working, status == .new || status == .partiallyFilled {
                let wasElected = order.elected
                let (fills, after) = Matching.match([order], against: quote)
                order = after[0]
                elected = order.elected && !wasElected
                if var f = fills.first {
                    if order.side == .buy {
                        // Only what the sandbox's cash pays for, in whole lots, as the matcher does.
                        let lot = instrument.lot(at: f.price)
                        var qty = f.qty
                        while qty > 0, cost(instrument, f.price, qty, .buy, rate) > cash { qty -= lot }
                        f = Fill(order: f.order, qty: max(0, qty), price: f.price, quoteSeq: f.quoteSeq)
                    }
                    if f.qty > 0 {
                        let cad = cost(instrument, f.price, f.qty, order.side, rate)
                        cash += order.side == .buy ? -cad : cad
                        holding += order.side == .buy ? f.qty : -f.qty
                        notionalE4Sum += Int128(f.price.e4) * Int128(f.qty)
                        fill = f
                        fillCAD = cad
                        order.filledQty = (working?.filledQty ?? 0) + f.qty
                    } else {
                        order.filledQty = working?.filledQty ?? 0
                        status = .canceled
                    }
                }
                working = order
                if status != .canceled { status = order.filledQty == order.qty ? .filled : order.filledQty > 0 ? .partiallyFilled : .new }
            }
            let valueMinor = instrument.notionalMinor(quote.last, qty: holding, rounding: .down) ?? 0
            let valueCAD = OrderRules.toCAD(valueMinor, from: instrument.currency, rate: rate, rounding: .down)
            if startingEquity == nil {
                let startMinor = instrument.notionalMinor(quote.last, qty: scenario.holding, rounding: .down) ?? 0
                startingEquity = scenario.startingCashMinor + OrderRules.toCAD(startMinor, from: instrument.currency, rate: rate, rounding: .down)
            }
            steps.append(Step(
                step: i, at: quote.at, bid: quote.bid.description, bidSize: quote.bidSize, ask: quote.ask.description, askSize: quote.askSize,
                last: quote.last.description, rate: rate.decimal, elected: elected, fillQty: fill?.qty, fillPrice: fill?.price.description,
                fillCad: fillCAD.map { Money(minorUnits: $0, currency: .cad) }, filledQty: working?.filledQty ?? 0, status: status,
                cash: Money(minorUnits: cash, currency: .cad), holding: holding, holdingValueCad: Money(minorUnits: valueCAD, currency: .cad),
                equity: Money(minorUnits: cash + valueCAD, currency: .cad)))
        }
        let filled = working?.filledQty ?? 0
        // The average price, rounded half up to the quote unit's ten-thousandth.
        let average = filled > 0 ? Price(e4: Int64((notionalE4Sum + Int128(filled) / 2) / Int128(filled))).description : nil
        return Result(
            order: resolved, refused: refused, steps: steps, filledQty: filled, averagePrice: average,
            startingEquity: Money(minorUnits: startingEquity ?? scenario.startingCashMinor, currency: .cad),
            endingEquity: steps.last?.equity ?? Money(minorUnits: scenario.startingCashMinor, currency: .cad))
    }

    /// A price as a lesson writes it: a decimal in the quote unit ("680.50"), or a whole-percent
    /// offset from the scenario's first last trade ("-2%", "+3%"), floored to the tick grid.
    public static func resolve(_ text: String, base: Price, instrument: Instrument) -> Price? {
        guard text.hasSuffix("%") else { return Price(text) }
        guard let pct = Int(text.dropLast().replacingOccurrences(of: "+", with: "")), (-99...1_000).contains(pct) else { return nil }
        let e4 = Int64(Int128(base.e4) * Int128(100 + pct) / 100)
        return e4 > 0 ? instrument.floorToGrid(Price(e4: e4)) : nil
    }

    /// A fill's CAD: the notional in the minor unit, then CAD, both rounded against the member
    /// (a buy up, a sell down), as the matcher settles.
    static func cost(_ instrument: Instrument, _ price: Price, _ qty: Int64, _ side: OrderSide, _ rate: FXRate) -> Int64 {
        let rounding: Instrument.Rounding = side == .buy ? .up : .down
        let minor = instrument.notionalMinor(price, qty: qty, rounding: rounding) ?? Int64.max / 4
        return OrderRules.toCAD(minor, from: instrument.currency, rate: rate, rounding: rounding)
    }
}
