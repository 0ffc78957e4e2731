import Banking
import Ledger
import NzilaCore
import Testing

@Suite("FX conversion and fee rounding")
struct ConversionTests {
    static let cad = Currency(code: "CAD")!
    static let xof = Currency(code: "XOF")!

    @Test(arguments: [("441.5732", Int128(4_415_732_000_000)), ("0.0022646", 22_646_000), ("1", 10_000_000_000), ("1.0000000001", 10_000_000_001)])
    func parsesRates(text: String, scaled: Int128) throws {
        let rate = try #require(FXRate(decimal: text))
        #expect(rate.scaled == scaled)
        #expect(FXRate(decimal: rate.decimal) == rate)
    }

    @Test(arguments: ["abc", "-1", "0", "0.0", "1.12345678901", "1,5", ""])
    func refusesBadRates(text: String) {
        #expect(FXRate(decimal: text) == nil)
    }

    @Test func cadToXOFRoundsTheReceivedAmountDown() throws {
        let quote = try ConversionQuote.quote(
            send: Money(minorUnits: 10_000, currency: Self.cad), to: Self.xof, mid: FXRate(decimal: "441.5732")!, spreadBps: 150)
        #expect(quote.customerRate.decimal == "434.9496020000")
        #expect(quote.receive == Money(minorUnits: 43_494, currency: Self.xof))  // 43,494.9602 → 43,494
        #expect(quote.midReceive == Money(minorUnits: 44_157, currency: Self.xof))  // 44,157.32 → 44,157
        #expect(quote.spread == Money(minorUnits: 663, currency: Self.xof))
    }

    @Test func xofToCADCrossesExponents() throws {
        let quote = try ConversionQuote.quote(
            send: Money(minorUnits: 5_000, currency: Self.xof), to: Self.cad, mid: FXRate(decimal: "0.0022646")!, spreadBps: 0)
        #expect(quote.receive == Money(minorUnits: 1_132, currency: Self.cad))  // 11.323 CAD → 11.32
        #expect(quote.spread.minorUnits == 0)
    }

    @Test(arguments: [1, 7, 99, 1_000, 123_457, 999_999_999])
    func neverPaysMoreThanQuoted(minor: Int64) throws {
        let quote = try ConversionQuote.quote(
            send: Money(minorUnits: minor, currency: Self.cad), to: Self.xof, mid: FXRate(decimal: "441.5732")!, spreadBps: 150)
        // exact = minor × 434.949602 / 100; the quote is its floor.
        let exactTimes1e6 = Int128(minor) * 434_949_602 / 100
        #expect(Int128(quote.receive.minorUnits) * 1_000_000 <= exactTimes1e6)
        #expect(Int128(quote.receive.minorUnits + 1) * 1_000_000 > exactTimes1e6)
        #expect(quote.spread.minorUnits >= 0)
    }

    @Test func tooSmallToConvert() {
        #expect(throws: RuleError.self) {
            try ConversionQuote.quote(send: Money(minorUnits: 1, currency: Self.xof), to: Self.cad, mid: FXRate(decimal: "0.0022646")!, spreadBps: 0)
        }
    }

    @Test(arguments: [
        (Int64(10_000), 50, Int64(0), Int64(50)),  // 50.00 exactly
        (1_100, 50, 0, 6),  // 5.5 rounds half up to 6
        (1_090, 50, 0, 5),  // 5.45 rounds to 5
        (10_010, 50, 0, 50),  // 50.05 rounds to 50
        (100_000, 50, 299, 799),  // fixed 2.99 + 5.00
    ])
    func feesRoundHalfUp(amount: Int64, bps: Int, fixed: Int64, expected: Int64) {
        let fee = Fee.compute(amount: Money(minorUnits: amount, currency: Self.cad), fixedMinor: fixed, bps: bps, minMinor: 0, maxMinor: 1_000_000)
        #expect(fee.minorUnits == expected)
    }

    @Test func feesClamp() {
        let small = Fee.compute(amount: Money(minorUnits: 100, currency: Self.cad), fixedMinor: 0, bps: 50, minMinor: 299, maxMinor: 2_500)
        let large = Fee.compute(amount: Money(minorUnits: 10_000_000, currency: Self.cad), fixedMinor: 299, bps: 50, minMinor: 299, maxMinor: 2_500)
        #expect(small.minorUnits == 299 && large.minorUnits == 2_500)
    }
}
