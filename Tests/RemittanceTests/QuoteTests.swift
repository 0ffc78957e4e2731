import Ledger
import Foundation
import NzilaCore
import Remittance
import Testing

@Suite("Remittance quotes and fees")
struct QuoteTests {
    static let cad = Currency.cad
    static let xof = Currency(code: "XOF")!
    static let ngn = Currency(code: "NGN")!
    static let limits = QuoteEngine.Limits(minSendMinor: 1_000, maxSendMinor: 1_000_000)
    static let banded = FeeSchedule(corridor: "CAD-NGN", method: "bank_deposit", bands: [
        .init(fromMinor: 0, fixedMinor: 299, bps: 0, minMinor: 299, maxMinor: 299),
        .init(fromMinor: 50_000, fixedMinor: 0, bps: 100, minMinor: 500, maxMinor: 2_500),
        .init(fromMinor: 300_000, fixedMinor: 0, bps: 50, minMinor: 0, maxMinor: 4_000),
    ])

    func cad(_ minor: Int64) -> Money { Money(minorUnits: minor, currency: .cad) }

    @Test("fee bands at their edges: the band a send reaches applies; bps half-up; clamped to [min, max]")
    func bands() {
        #expect(Self.banded.fee(for: cad(49_999)).minorUnits == 299)
        #expect(Self.banded.fee(for: cad(50_000)).minorUnits == 500)  // 1% of 500.00 = 5.00, the minimum
        #expect(Self.banded.fee(for: cad(50_050)).minorUnits == 501)  // 500.5 rounds half-up to 501
        #expect(Self.banded.fee(for: cad(250_000)).minorUnits == 2_500)  // 25.00, the maximum
        #expect(Self.banded.fee(for: cad(299_999)).minorUnits == 2_500)
        #expect(Self.banded.fee(for: cad(300_000)).minorUnits == 1_500)  // next band: 0.5%
        #expect(Self.banded.fee(for: cad(1_000_000)).minorUnits == 4_000)
        #expect(Self.banded.band(for: cad(300_000)).fromMinor == 300_000)
    }

    @Test("from a send amount: customer rate is mid less the spread, receive rounds down, spread is the difference to mid; 0-exponent currencies")
    func fromSend() throws {
        let mid = try #require(FXRate(decimal: "441.5732"))
        let schedule = FeeSchedule(corridor: "CAD-XOF", method: "mobile_money", bands: [.init(fromMinor: 0, fixedMinor: 349, bps: 60, minMinor: 349, maxMinor: 3_000)])
        let quote = try QuoteEngine.quote(.send(cad(10_000)), receiveCurrency: Self.xof, mid: mid, spreadBps: 150, schedule: schedule, limits: Self.limits)
        #expect(quote.customerRate == "434.9496020000")  // 441.5732 × 0.985
        #expect(quote.receive.minorUnits == 43_494 && quote.receive.currency == Self.xof)  // 100.00 × 434.9496… = 43,494.96 → down
        #expect(quote.spread.minorUnits == 44_157 - 43_494)
        #expect(quote.fee.minorUnits == 409 && quote.totalDebit.minorUnits == 10_409)  // 3.49 + 0.60% of 100.00
        #expect(quote.basis == "send" && quote.midRate == "441.5732000000")
    }

    @Test("from a receive amount: the least send that delivers at least it, in both exponent directions")
    func fromReceive() throws {
        let mid = try #require(FXRate(decimal: "1131.2045"))
        let quote = try QuoteEngine.quote(.receive(Money(minorUnits: 5_000_000, currency: Self.ngn)), receiveCurrency: Self.ngn, mid: mid, spreadBps: 150,
                                          schedule: Self.banded, limits: Self.limits)
        #expect(quote.receive.minorUnits >= 5_000_000 && quote.basis == "receive")
        let oneLess = try QuoteEngine.quote(.send(cad(quote.send.minorUnits - 1)), receiveCurrency: Self.ngn, mid: mid, spreadBps: 150,
                                            schedule: Self.banded, limits: Self.limits)
        #expect(oneLess.receive.minorUnits < 5_000_000, "one cent less would not deliver it")
        let xofMid = try #require(FXRate(decimal: "441.5732"))
        let xof = try QuoteEngine.quote(.receive(Money(minorUnits: 100_000, currency: Self.xof)), receiveCurrency: Self.xof, mid: xofMid, spreadBps: 0,
                                        schedule: Self.banded, limits: Self.limits)
        #expect(xof.receive.minorUnits >= 100_000 && xof.send.minorUnits == 22_647)  // 100,000 / 441.5732 = 226.4629… → 226.47
    }

    @Test("out of the corridor's range, a wrong currency, or a bad spread are problems, not crashes")
    func refusals() throws {
        let mid = try #require(FXRate(decimal: "1131.2045"))
        #expect(throws: RuleError.self) { try QuoteEngine.quote(.send(cad(999)), receiveCurrency: Self.ngn, mid: mid, spreadBps: 150, schedule: Self.banded, limits: Self.limits) }
        #expect(throws: RuleError.self) { try QuoteEngine.quote(.send(cad(1_000_001)), receiveCurrency: Self.ngn, mid: mid, spreadBps: 150, schedule: Self.banded, limits: Self.limits) }
        #expect(throws: RuleError.self) { try QuoteEngine.quote(.receive(cad(5_000)), receiveCurrency: Self.ngn, mid: mid, spreadBps: 150, schedule: Self.banded, limits: Self.limits) }
        #expect(throws: RuleError.self) { try QuoteEngine.quote(.send(cad(5_000)), receiveCurrency: Self.ngn, mid: mid, spreadBps: 10_000, schedule: Self.banded, limits: Self.limits) }
    }

    @Test("the tenant's fee line is read from its configuration, flat or banded")
    func schedules() throws {
        let raw: [String: Any] = ["fx_spread_bps": 150, "corridors": [
            ["corridor": "CAD-NGN", "method": "mobile_money", "fixed_minor": 299, "bps": 50, "min_minor": 299, "max_minor": 2_500],
            ["corridor": "CAD-NGN", "method": "bank_deposit", "bands": [
                ["from_minor": 0, "fixed_minor": 299, "bps": 0, "min_minor": 299, "max_minor": 299],
                ["from_minor": 50_000, "fixed_minor": 0, "bps": 100, "min_minor": 500, "max_minor": 2_500]]],
        ]]
        // Read as the data plane reads it: the stored JSON decoded into the typed section.
        let fees = try FeesSection.decode(JSONSerialization.data(withJSONObject: raw))
        #expect(FeeSchedule.from(fees: fees, corridor: "CAD-NGN", method: "mobile_money")?.bands.count == 1)
        #expect(FeeSchedule.from(fees: fees, corridor: "CAD-NGN", method: "bank_deposit")?.bands.map(\.fromMinor) == [0, 50_000])
        #expect(FeeSchedule.from(fees: fees, corridor: "CAD-GHS", method: "mobile_money") == nil)
    }
}
