import Foundation
import Ledger
import NzilaCore
import Testing

@Suite("Members' money in and out")
struct MoneyFlowsTests {
    let cad = Currency(code: "CAD")!
    let xof = Currency(code: "XOF")!
    let day = Day(year: 2026, month: 12, day: 6)!

    @Test("rows sum per currency, exactly; kinds largest first; net is in − out")
    func sums() throws {
        let flows = try MoneyFlows.summarise(from: day, to: day, [
            .init(currency: xof, kind: "conversion", inMinor: 65_000, outMinor: 0, journals: 1),
            .init(currency: cad, kind: "withdrawal", inMinor: 0, outMinor: 20_000, journals: 2),
            .init(currency: cad, kind: "deposit", inMinor: 125_050, outMinor: 0, journals: 3),
            .init(currency: cad, kind: "conversion", inMinor: 0, outMinor: 10_000, journals: 1),
        ])
        #expect(flows.currencies.map(\.currency.code) == ["CAD", "XOF"])
        let c = flows.currencies[0]
        #expect(c.moneyIn.minorUnits == 125_050 && c.moneyOut.minorUnits == 30_000 && c.net.minorUnits == 95_050)
        #expect(c.kinds.map(\.kind) == ["deposit", "withdrawal", "conversion"])
        #expect(flows.currencies[1].net.minorUnits == 65_000)
        let json = String(decoding: try JSONEncoder.api.encode(flows), as: UTF8.self)
        #expect(json.contains("\"money_in\"") && json.contains("\"from\":\"2026-12-06\""), "\(json)")
    }

    @Test("nothing moved: no currencies; a total past Int64 is refused, never wrapped")
    func edges() throws {
        #expect(try MoneyFlows.summarise(from: day, to: day, []).currencies.isEmpty)
        #expect(throws: RuleError.self) {
            try MoneyFlows.summarise(from: day, to: day, [
                .init(currency: cad, kind: "deposit", inMinor: .max, outMinor: 0, journals: 1),
                .init(currency: cad, kind: "refund", inMinor: 1, outMinor: 0, journals: 1),
            ])
        }
    }

    @Test("day ranges: defaults, both days included, every bad field named, at most the maximum span")
    func ranges() throws {
        #expect(try DayRange.parse(from: nil, to: nil, defaultFrom: day, maxDays: 92) == DayRange(from: day, to: day))
        let week = try DayRange.parse(from: nil, to: nil, defaultFrom: day, defaultSpan: 7, maxDays: 92)
        #expect(week.to.description == "2026-12-13" && week.days == 8)
        #expect(try DayRange.parse(from: "2026-12-01", to: "2026-12-31", defaultFrom: day, maxDays: 92).days == 31)
        do {
            _ = try DayRange.parse(from: "2026-13-01", to: "yesterday", defaultFrom: day, maxDays: 92)
            Issue.record("accepted bad days")
        } catch {
            #expect(Set(error.errors.map(\.field)) == ["from", "to"])
        }
        #expect(throws: RuleError.self) { try DayRange.parse(from: "2026-12-06", to: "2026-12-05", defaultFrom: day, maxDays: 92) }
        #expect(throws: RuleError.self) { try DayRange.parse(from: "2026-01-01", to: "2026-12-31", defaultFrom: day, maxDays: 92) }
        #expect(try DayRange.day(of: 1_796_601_599).description == "2026-12-06" && DayRange.day(of: -1).description == "1969-12-31")
    }
}
