import Foundation
import NzilaValues

/// A holding at average cost, in the instrument's currency, kept exactly: the cost basis is in
/// ten-thousandths of a quote unit (price × qty, no rounding), and beside it the same basis in CAD
/// minor units as each buy paid it (at that fill's recorded rate), so the FX part of a gain is
/// told apart from the price part.
///
/// - A buy adds its notional to the basis (fees are cash, not basis: they are reported apart).
/// - A sell removes the sold share of the basis, `basis × sold ÷ qty`, **rounded half-even** to the
///   ten-thousandth (CAD basis: to the cent, half-even); what remains stays exact, so selling
///   everything removes the basis to the last unit. Realised P&L = proceeds − removed basis.
/// - Average cost = basis ÷ qty (shown, never stored).
public struct Position: Sendable, Equatable {
    public var qty: Int64 = 0
    /// Ten-thousandths of the quote unit.
    public var basisE4: Int64 = 0
    /// What the shares held cost in CAD minor units, at each buy's rate.
    public var basisCADMinor: Int64 = 0
    /// Realised gains and losses so far, in the quote unit's ten-thousandths and in CAD minor units.
    public var realisedE4: Int64 = 0
    public var realisedCADMinor: Int64 = 0

    public init() {}

    public init(qty: Int64, basisE4: Int64, basisCADMinor: Int64, realisedE4: Int64, realisedCADMinor: Int64) {
        self.qty = qty
        self.basisE4 = basisE4
        self.basisCADMinor = basisCADMinor
        self.realisedE4 = realisedE4
        self.realisedCADMinor = realisedCADMinor
    }

    public enum Refusal: Error, Equatable { case oversold(held: Int64, selling: Int64) }

    /// After buying `qty` at `price`, which cost `cadMinor` CAD (the fill's notional converted at its rate).
    public func buying(_ qty: Int64, at price: Price, cadMinor: Int64) -> Position {
        var next = self
        next.qty += qty
        next.basisE4 += price.e4 * qty
        next.basisCADMinor += cadMinor
        return next
    }

    /// After selling `qty` at `price`, which brought `cadMinor` CAD.
    public func selling(_ qty: Int64, at price: Price, cadMinor: Int64) throws -> Position {
        guard qty <= self.qty else { throw Refusal.oversold(held: self.qty, selling: qty) }
        var next = self
        let removed = qty == self.qty ? basisE4 : Self.share(basisE4, qty, of: self.qty)
        let removedCAD = qty == self.qty ? basisCADMinor : Self.share(basisCADMinor, qty, of: self.qty)
        next.qty -= qty
        next.basisE4 -= removed
        next.basisCADMinor -= removedCAD
        next.realisedE4 += price.e4 * qty - removed
        next.realisedCADMinor += cadMinor - removedCAD
        return next
    }

    /// `total × part ÷ whole`, half-even, in 128 bits (no overflow on the way).
    static func share(_ total: Int64, _ part: Int64, of whole: Int64) -> Int64 {
        let product = Int128(total) * Int128(part)
        let (q, r) = product.quotientAndRemainder(dividingBy: Int128(whole))
        let twice = 2 * (r < 0 ? -r : r)
        if twice > Int128(whole) || (twice == Int128(whole) && q % 2 != 0) { return Int64(q + (product < 0 ? -1 : 1)) }
        return Int64(q)
    }

    /// The average cost per share, half-even to the ten-thousandth; nil when flat.
    public var averageCost: Price? {
        qty > 0 ? Price(e4: Self.share(basisE4, 1, of: qty)) : nil
    }

    /// Marked at `price`: market value and unrealised P&L in ten-thousandths of the quote unit.
    public func marked(at price: Price) -> (valueE4: Int64, unrealisedE4: Int64) {
        let value = price.e4 * qty
        return (value, value - basisE4)
    }
}

extension Position.Refusal: DomainError {
    public var ruleError: RuleError {
        switch self {
        case .oversold(let held, let selling):
            RuleError(.unprocessable, "insufficient-holdings", "Insufficient holdings", detail: "Selling \(selling) shares of a position of \(held) is not allowed: no short selling.")
        }
    }
}
