import Foundation
import NzilaValues

/// A price in an instrument's quote unit (NGN, ZAc, KES, XOF, CAD, USD), held exactly as an integer
/// count of ten-thousandths of that unit: the finest tick any supported exchange uses is US$0.0001
/// (Reg NMS Rule 612, below $1.00), so every price on every grid is a whole number here. Never a
/// `Double`: prices are compared, added to grids and multiplied by quantities exactly.
public struct Price: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Ten-thousandths of the quote unit: 12.5 NGN is 125_000.
    public let e4: Int64

    public static let scale: Int64 = 10_000

    public init(e4: Int64) { self.e4 = e4 }

    /// Whole units: `Price(units: 12)` is 12.0000.
    public init(units: Int64) { self.e4 = units * Self.scale }

    /// Reads a plain decimal ("12.50", "0.005", "1500"): digits, at most one point, at most four
    /// decimals, no sign, no exponent. Nil for anything else (a bad price is never guessed at).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty, whole.count <= 12, whole.allSatisfy(\.isASCIIDigit) else { return nil }
        var value = Int64(whole)! * Self.scale
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...4).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
            let padded = fraction + String(repeating: "0", count: 4 - fraction.count)
            value += Int64(padded)!
        }
        self.e4 = value
    }

    public static func < (lhs: Price, rhs: Price) -> Bool { lhs.e4 < rhs.e4 }

    /// "12.5", "0.005", "1500": the shortest exact decimal.
    public var description: String {
        let whole = e4 / Self.scale
        var fraction = String(e4 % Self.scale)
        fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }

    /// As the API writes a price: a JSON string with at least `decimals` places ("12.50").
    public func text(decimals: Int) -> String {
        let plain = description
        guard decimals > 0 else { return plain }
        let parts = plain.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        return "\(parts[0])." + fraction + String(repeating: "0", count: max(0, decimals - fraction.count))
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// A value that changes with the price: a tick size or a board lot by price band. Each band starts
/// at its `from` price (inclusive) and runs to the next band's start; the first band starts at 0.
public struct BandTable<Value: Sendable & Equatable>: Sendable, Equatable {
    public struct Band: Sendable, Equatable {
        public let from: Price
        public let value: Value
    }

    public let bands: [Band]

    /// Bands in increasing `from`, the first from 0; nil otherwise.
    public init?(_ bands: [(from: Price, value: Value)]) {
        guard let first = bands.first, first.from.e4 == 0 else { return nil }
        for (a, b) in zip(bands, bands.dropFirst()) where !(a.from < b.from) { return nil }
        self.bands = bands.map { Band(from: $0.from, value: $0.value) }
    }

    /// One value at every price.
    public init(constant value: Value) { self.bands = [Band(from: Price(e4: 0), value: value)] }

    /// The value for `price`: the last band starting at or below it.
    public func value(at price: Price) -> Value {
        bands.last { $0.from <= price }?.value ?? bands[0].value
    }
}
