import Foundation
import NzilaValues

public enum InstrumentKind: String, Sendable, Codable, CaseIterable {
    /// A share: members trade it.
    case equity
    /// An exchange's benchmark index: quoted, never traded (analytics measure against it).
    case index
}

/// How the seeded simulated feed moves an instrument (`SimulatedFeed`): where its walk starts, how
/// much it moves, the spread it quotes and the size it shows.
public struct SimulationParameters: Sendable, Equatable {
    /// The walk's price at the feed's epoch day's open.
    public let startPrice: Price
    /// Annualised volatility, in basis points (2_500 = 25%).
    public let volatilityBps: Int
    /// The widest quoted spread, in ticks (each quote draws 1…this).
    public let spreadTicks: Int
    /// The most board lots shown at the bid and at the ask (each quote draws 1…this).
    public let depthLots: Int

    public init(startPrice: Price, volatilityBps: Int, spreadTicks: Int, depthLots: Int) {
        self.startPrice = startPrice
        self.volatilityBps = volatilityBps
        self.spreadTicks = spreadTicks
        self.depthLots = depthLots
    }
}

/// A listed instrument and its exchange's rules, as `ReferenceData/instruments.csv` gives them.
public struct Instrument: Sendable, Equatable {
    public let symbol: String
    public let exchange: String
    public let name: String
    public let kind: InstrumentKind
    /// The currency it settles in (ZAR for a JSE share quoted in ZAc).
    public let currency: Currency
    /// What its prices count: the currency itself, or a fraction of it ("ZAc", cents of a rand).
    public let quoteUnit: String
    /// The currency's minor units in one quote unit: 100 for NGN (kobo per naira), 1 for ZAc (a
    /// rand cent is the rand's minor unit), 1 for XOF (no minor unit).
    public let unitMinor: Int64
    /// The board lot (the minimum trading unit) by price band: orders are whole multiples of it.
    public let lots: BandTable<Int64>
    /// The tick size by price band: prices are whole multiples of it.
    public let ticks: BandTable<Price>
    /// The daily price-limit band around the reference price (the previous close), in basis
    /// points; nil where the exchange has none (it halts instead).
    public let bandBps: Int?
    public let session: ExchangeSession
    public let simulation: SimulationParameters

    public init(
        symbol: String, exchange: String, name: String, kind: InstrumentKind, currency: Currency, quoteUnit: String, unitMinor: Int64, lots: BandTable<Int64>,
        ticks: BandTable<Price>, bandBps: Int?, session: ExchangeSession, simulation: SimulationParameters
    ) {
        self.symbol = symbol
        self.exchange = exchange
        self.name = name
        self.kind = kind
        self.currency = currency
        self.quoteUnit = quoteUnit
        self.unitMinor = unitMinor
        self.lots = lots
        self.ticks = ticks
        self.bandBps = bandBps
        self.session = session
        self.simulation = simulation
    }

    // MARK: the grid

    public func tick(at price: Price) -> Price { ticks.value(at: price) }
    public func lot(at price: Price) -> Int64 { lots.value(at: price) }

    public func isOnGrid(_ price: Price) -> Bool { price.e4 > 0 && price.e4 % tick(at: price).e4 == 0 }

    /// The grid price at or below `price` (never below the first tick).
    public func floorToGrid(_ price: Price) -> Price {
        let tick = tick(at: price).e4
        return Price(e4: max(tick, price.e4 - price.e4 % tick))
    }

    /// The grid price at or above `price`.
    public func ceilToGrid(_ price: Price) -> Price {
        let floor = floorToGrid(price)
        return floor >= price ? floor : Price(e4: floor.e4 + tick(at: floor).e4)
    }

    /// `ticks` ticks above (positive) or below (negative) a grid price, crossing bands as the
    /// grid does; never below the first tick.
    public func step(_ price: Price, ticks: Int) -> Price {
        var p = price
        if ticks > 0 {
            for _ in 0..<ticks { p = Price(e4: p.e4 + tick(at: p).e4) }
        } else if ticks < 0 {
            for _ in 0..<(-ticks) {
                let below = Price(e4: p.e4 - 1)
                guard below.e4 > 0 else { break }
                p = floorToGrid(below)
            }
        }
        return p
    }

    /// The day's band around `reference` (the previous close): the limits moved inward onto the
    /// grid (the width `reference × bps ÷ 10,000` is rounded down to the ten-thousandth, the low
    /// limit up to the grid, the high down), so a price at a limit is a price one may quote. Nil
    /// where the exchange has no band.
    public func band(reference: Price) -> ClosedRange<Price>? {
        guard let bps = bandBps else { return nil }
        let width = reference.e4 * Int64(bps) / 10_000
        let low = ceilToGrid(Price(e4: max(1, reference.e4 - width)))
        let high = floorToGrid(Price(e4: reference.e4 + width))
        return low <= high ? low...high : reference...reference
    }

    // MARK: the rules an order meets

    /// Refusals of an order's quantity: positive, and a whole number of board lots at `price` (the
    /// order's limit, else the market's price). Empty when it is fine.
    public func quantityErrors(_ qty: Int64, at price: Price) -> [FieldError] {
        guard qty > 0 else { return [FieldError(field: "qty", message: "must be a positive number of shares")] }
        let lot = lot(at: price)
        guard qty % lot == 0 else {
            return [FieldError(field: "qty", message: "must be a multiple of the board lot: \(lot) shares on \(exchange) at \(price) \(quoteUnit)")]
        }
        return []
    }

    /// Refusals of a limit or stop price (`field`): on the grid of its band, and inside the day's
    /// band around `reference` when the exchange has one.
    public func priceErrors(_ price: Price, field: String, reference: Price?) -> [FieldError] {
        guard price.e4 > 0 else { return [FieldError(field: field, message: "must be a positive price")] }
        guard isOnGrid(price) else {
            let tick = tick(at: price)
            return [FieldError(field: field, message: "must be on the tick grid: \(exchange) prices at \(price) \(quoteUnit) move by \(tick) (nearest \(floorToGrid(price)) or \(ceilToGrid(price)))")]
        }
        if let reference, let band = band(reference: reference), !band.contains(price) {
            let bps = bandBps ?? 0
            return [FieldError(field: field, message: "must be inside today's price band of ±\(Self.percent(bps)) around \(reference): \(band.lowerBound) to \(band.upperBound) \(quoteUnit)")]
        }
        return []
    }

    /// 1_000 → "10%", 750 → "7.5%".
    static func percent(_ bps: Int) -> String {
        let (whole, rest) = bps.quotientAndRemainder(dividingBy: 100)
        guard rest != 0 else { return "\(whole)%" }
        var fraction = rest < 10 ? "0\(rest)" : String(rest)
        if fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)%"
    }

    // MARK: money

    public enum Rounding: Sendable {
        /// Toward more: what a buyer pays.
        case up
        /// Toward less: what a seller receives.
        case down
    }

    /// `qty` at `price` in the currency's minor units: price (ten-thousandths of a quote unit) × qty
    /// × minor units per quote unit ÷ 10,000, rounded as named (a US share at $0.0001 ticks can
    /// cost a fraction of a cent; the buyer pays it up, the seller receives it down). Nil on
    /// overflow.
    public func notionalMinor(_ price: Price, qty: Int64, rounding: Rounding) -> Int64? {
        let (a, o1) = price.e4.multipliedReportingOverflow(by: qty)
        let (b, o2) = a.multipliedReportingOverflow(by: unitMinor)
        guard !o1, !o2, b >= 0 else { return nil }
        let (whole, rest) = b.quotientAndRemainder(dividingBy: Price.scale)
        return rounding == .up && rest > 0 ? whole + 1 : whole
    }
}
