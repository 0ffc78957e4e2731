import Foundation
import NzilaValues
import Testing
@testable import Trading

/// Price alerts: a fresh crossing between two consecutive quotes fires, once.
@Suite("Price alerts")
struct AlertRuleTests {
    static func prices(_ texts: [String]) -> [Price] { texts.map { Price($0)! } }
    static let level = Price("100")!

    @Test("crosses_above fires on the first quote at or above the level after one below it, and only once")
    func above() {
        #expect(PriceAlerts.firing(.crossesAbove, level: Self.level, armedAt: Price("99")!, then: Self.prices(["99.5", "100", "101", "99", "102"])) == 1)
        // Touching the level counts as reaching it.
        #expect(PriceAlerts.evaluate(.crossesAbove, level: Self.level, wasBeyond: false, price: Price("100")!) == .fires)
        #expect(PriceAlerts.evaluate(.crossesAbove, level: Self.level, wasBeyond: false, price: Price("99.9999")!) == .unchanged)
        #expect(PriceAlerts.evaluate(.crossesAbove, level: Self.level, wasBeyond: true, price: Price("99.9999")!) == .returned)
    }

    @Test("an alert created already beyond its level waits for the price to come back and cross again")
    func alreadyBeyond() {
        #expect(PriceAlerts.firing(.crossesAbove, level: Self.level, armedAt: Price("105")!, then: Self.prices(["106", "104", "100.5"])) == nil)
        #expect(PriceAlerts.firing(.crossesAbove, level: Self.level, armedAt: Price("105")!, then: Self.prices(["106", "99", "100.5"])) == 2)
        #expect(PriceAlerts.firing(.crossesBelow, level: Self.level, armedAt: Price("100")!, then: Self.prices(["100", "98", "101", "100"])) == 3)
    }

    @Test("crosses_below mirrors it; flat prices never fire")
    func below() {
        #expect(PriceAlerts.firing(.crossesBelow, level: Self.level, armedAt: Price("101")!, then: Self.prices(["100.01", "99.99", "98"])) == 1)
        #expect(PriceAlerts.firing(.crossesBelow, level: Self.level, armedAt: Price("101")!, then: Self.prices(Array(repeating: "101", count: 50))) == nil)
        #expect(PriceAlerts.isBeyond(.crossesBelow, level: Self.level, price: Self.level) && PriceAlerts.isBeyond(.crossesAbove, level: Self.level, price: Self.level))
    }

    @Test("watchlist symbols: well formed, each once, at most 100, every problem named")
    func watchlistSymbols() {
        #expect(PriceAlerts.symbols(["RY", "DANGCEM", "NPN"], field: "symbols").symbols == ["RY", "DANGCEM", "NPN"])
        let bad = PriceAlerts.symbols(["RY", "ry", "RY"], field: "symbols")
        #expect(bad.errors.map(\.field) == ["symbols[1]", "symbols[2]"])
        #expect(PriceAlerts.symbols((0..<101).map { "S\($0)" }, field: "symbols").errors.map(\.field) == ["symbols"])
    }
}
