import Foundation
import NzilaValues
import Testing
@testable import Trading

/// Exchange rules, matching and positions, as pure rules.
@Suite("Trading rules")
struct TradingRuleTests {
    static func instrument(
        _ symbol: String, exchange: String, currency: String, unit: String = "", unitMinor: Int64 = 100, lots: String = "1", ticks: String, band: Int? = nil,
        zone: String, open: String, close: String, start: String, spread: Int = 2, depth: Int = 10
    ) -> Instrument {
        let lots = InstrumentsFile.table(lots, { Int64($0) })!
        let ticks = InstrumentsFile.table(ticks, { Price($0) })!
        return Instrument(
            symbol: symbol, exchange: exchange, name: symbol, kind: .equity, currency: Currency(code: currency)!, quoteUnit: unit.isEmpty ? currency : unit,
            unitMinor: unitMinor, lots: lots, ticks: ticks, bandBps: band,
            session: ExchangeSession(timeZone: zone, open: InstrumentsFile.minutes(open)!, close: InstrumentsFile.minutes(close)!)!,
            simulation: SimulationParameters(startPrice: Price(start)!, volatilityBps: 2_500, spreadTicks: spread, depthLots: depth))
    }

    static let tsx = instrument("RY", exchange: "TSX", currency: "CAD", lots: "0:1000|0.10:500|1.00:100", ticks: "0:0.005|0.50:0.01", zone: "America/Toronto", open: "09:30", close: "16:00", start: "150.00")
    static let ngx = instrument("DANGCEM", exchange: "NGX", currency: "NGN", ticks: "0:0.01|5.00:0.05|100.00:0.10", band: 1_000, zone: "Africa/Lagos", open: "10:00", close: "14:20", start: "480.00")
    static let jse = instrument("NPN", exchange: "JSE", currency: "ZAR", unit: "ZAc", unitMinor: 1, ticks: "1", zone: "Africa/Johannesburg", open: "09:00", close: "16:50", start: "128000")
    static let brvm = instrument("SNTS", exchange: "BRVM", currency: "XOF", unitMinor: 1, ticks: "0:1|100:5", band: 750, zone: "Africa/Abidjan", open: "09:45", close: "14:00", start: "25000")
    static let nasdaq = instrument("AAPL", exchange: "NASDAQ", currency: "USD", ticks: "0:0.0001|1.00:0.01", zone: "America/New_York", open: "09:30", close: "16:00", start: "230.00")

    static func p(_ text: String) -> Price { Price(text)! }

    @Test("prices are exact decimals to the ten-thousandth; anything else is refused")
    func prices() {
        #expect(Price("12.5")?.e4 == 125_000 && Price("0.005")?.e4 == 50 && Price("1500")?.e4 == 15_000_000 && Price("0.0001")?.e4 == 1)
        for bad in ["", "-1", "1.23456", "1e3", "1.2.3", " 1", "1,5", ".5", "5."] { #expect(Price(bad) == nil, "\(bad)") }
        #expect(Self.p("12.50").description == "12.5" && Self.p("12.50").text(decimals: 2) == "12.50" && Self.p("0.005").text(decimals: 2) == "0.005")
    }

    @Test("board lots by price: TSX 1,000 below $0.10, 500 below $1.00, 100 from $1.00; others 1")
    func lots() {
        #expect(Self.tsx.lot(at: Self.p("0.095")) == 1_000 && Self.tsx.lot(at: Self.p("0.10")) == 500 && Self.tsx.lot(at: Self.p("0.995")) == 500)
        #expect(Self.tsx.lot(at: Self.p("1.00")) == 100 && Self.tsx.lot(at: Self.p("150")) == 100)
        #expect(Self.tsx.quantityErrors(200, at: Self.p("150")).isEmpty)
        let refused = Self.tsx.quantityErrors(150, at: Self.p("150"))
        #expect(refused.first?.field == "qty" && refused.first?.message.contains("100 shares on TSX") == true, "\(refused)")
        #expect(!Self.tsx.quantityErrors(700, at: Self.p("0.50")).isEmpty && Self.tsx.quantityErrors(1_000, at: Self.p("0.50")).isEmpty)
        #expect(Self.ngx.quantityErrors(1, at: Self.p("480")).isEmpty && !Self.ngx.quantityErrors(0, at: Self.p("480")).isEmpty)
    }

    @Test("tick grids by band: TSX $0.005 below $0.50; NGX ₦0.01 below ₦5, 0.05 below ₦100, 0.10 above; JSE whole cents; BRVM 5 francs from 100; US $0.0001 below $1")
    func ticks() {
        #expect(Self.tsx.isOnGrid(Self.p("0.495")) && !Self.tsx.isOnGrid(Self.p("0.497")) && !Self.tsx.isOnGrid(Self.p("0.505")) && Self.tsx.isOnGrid(Self.p("0.51")))
        #expect(Self.ngx.isOnGrid(Self.p("4.99")) && Self.ngx.isOnGrid(Self.p("5.05")) && !Self.ngx.isOnGrid(Self.p("5.03")) && !Self.ngx.isOnGrid(Self.p("99.99")))
        #expect(Self.ngx.isOnGrid(Self.p("100.10")) && !Self.ngx.isOnGrid(Self.p("480.05")))
        #expect(Self.jse.isOnGrid(Self.p("128001")) && !Self.jse.isOnGrid(Self.p("128001.5")))
        #expect(Self.brvm.isOnGrid(Self.p("25005")) && !Self.brvm.isOnGrid(Self.p("25003")) && Self.brvm.isOnGrid(Self.p("73")))
        #expect(Self.nasdaq.isOnGrid(Self.p("0.9999")) && !Self.nasdaq.isOnGrid(Self.p("1.0001")))
        let off = Self.ngx.priceErrors(Self.p("480.05"), field: "limit_price", reference: nil)
        #expect(off.first?.message.contains("move by 0.1 (nearest 480 or 480.1)") == true, "\(off)")
        // Stepping crosses bands as the grid does.
        #expect(Self.ngx.step(Self.p("4.99"), ticks: 2) == Self.p("5.05") && Self.ngx.step(Self.p("5.05"), ticks: -2) == Self.p("4.99"))
        #expect(Self.tsx.ceilToGrid(Self.p("0.4999")) == Self.p("0.50") && Self.tsx.floorToGrid(Self.p("0.5099")) == Self.p("0.50"))
    }

    @Test("daily bands: ±10% NGX around the previous close, BRVM ±7.5%, limits moved inward onto the grid; none on TSX")
    func bands() {
        #expect(Self.ngx.band(reference: Self.p("480")) == Self.p("432")...Self.p("528"))
        #expect(Self.ngx.band(reference: Self.p("101.10")) == Self.p("91.00")...Self.p("111.20"), "90.99 up to the 0.05 grid, 111.21 down to the 0.10 grid")
        #expect(Self.brvm.band(reference: Self.p("25000")) == Self.p("23125")...Self.p("26875"))
        #expect(Self.tsx.band(reference: Self.p("150")) == nil)
        let outside = Self.brvm.priceErrors(Self.p("27000"), field: "limit_price", reference: Self.p("25000"))
        #expect(outside.first?.message.contains("±7.5% around 25000: 23125 to 26875 XOF") == true, "\(outside)")
        #expect(Self.brvm.priceErrors(Self.p("26875"), field: "limit_price", reference: Self.p("25000")).isEmpty)
    }

    @Test("money: price × qty in the currency's minor units; JSE cents are rand cents; a fraction of a cent is paid up and received down")
    func notional() {
        #expect(Self.ngx.notionalMinor(Self.p("480.10"), qty: 3, rounding: .up) == 144_030)
        #expect(Self.jse.notionalMinor(Self.p("128001"), qty: 2, rounding: .up) == 256_002)
        #expect(Self.brvm.notionalMinor(Self.p("25005"), qty: 4, rounding: .down) == 100_020)
        #expect(Self.nasdaq.notionalMinor(Self.p("0.1234"), qty: 3, rounding: .up) == 38 && Self.nasdaq.notionalMinor(Self.p("0.1234"), qty: 3, rounding: .down) == 37)
        #expect(Self.nasdaq.notionalMinor(Price(e4: .max / 2), qty: 3, rounding: .up) == nil)
    }
}
