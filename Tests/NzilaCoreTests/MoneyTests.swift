import NzilaCore
import Testing
import Foundation

@Suite("Money and currencies")
struct MoneyTests {
    static let cad = Currency(code: "CAD")!
    static let xof = Currency(code: "XOF")!

    @Test(arguments: [
        ("125.50", "CAD", Int64(12550)), ("125.5", "CAD", 12550), ("0.01", "CAD", 1), ("0", "CAD", 0), ("125", "CAD", 12500),
        ("-3.20", "CAD", -320), ("5000", "XOF", 5000), ("92233720368547758.07", "CAD", Int64.max),
    ])
    func parsesDecimals(text: String, code: String, minor: Int64) throws {
        let money = try Money.parse(text, currency: Currency(code: code)!)
        #expect(money.minorUnits == minor)
    }

    @Test(arguments: ["1.005", "1.", ".5", "1,00", "abc", "", "1e3", "--1", "5.5", "92233720368547758.08", " 1"])
    func refusesBadDecimals(text: String) {
        let currency = text == "5.5" ? MoneyTests.xof : MoneyTests.cad
        #expect(throws: MoneyError.self) { try Money.parse(text, currency: currency) }
    }

    @Test func formatsByExponent() {
        #expect(Money(minorUnits: 12550, currency: MoneyTests.cad).formatted == "125.50")
        #expect(Money(minorUnits: 5, currency: MoneyTests.cad).formatted == "0.05")
        #expect(Money(minorUnits: -320, currency: MoneyTests.cad).formatted == "-3.20")
        #expect(Money(minorUnits: 5000, currency: MoneyTests.xof).description == "5000 XOF")
    }

    @Test func addingRefusesMixedCurrenciesAndOverflow() throws {
        let a = Money(minorUnits: 100, currency: MoneyTests.cad)
        #expect(try a.adding(a).minorUnits == 200)
        #expect(throws: MoneyError.currencyMismatch(MoneyTests.cad, MoneyTests.xof)) {
            try a.adding(Money(minorUnits: 1, currency: MoneyTests.xof))
        }
        #expect(throws: MoneyError.overflow) { try Money(minorUnits: .max, currency: MoneyTests.cad).adding(a) }
    }

    @Test(arguments: ["CAD", "USD", "EUR", "GBP", "NGN", "GHS", "KES", "ZAR", "MAD", "CDF", "XOF", "XAF", "UGX", "RWF"])
    func knownCurrencies(code: String) throws {
        let currency = try #require(Currency(code: code))
        #expect(currency.exponent == (["XOF", "XAF", "UGX", "RWF"].contains(code) ? 0 : 2))
    }

    @Test(arguments: ["cad", "BTC", "", "CADX", "US"])
    func unknownCurrencies(code: String) {
        #expect(Currency(code: code) == nil)
    }

    @Test func jsonShape() throws {
        let data = try JSONEncoder.api.encode(Money(minorUnits: 12550, currency: MoneyTests.cad))
        #expect(String(decoding: data, as: UTF8.self) == #"{"amount":12550,"currency":"CAD"}"#)
        let decoded = try JSONDecoder().decode(Money.self, from: Data(#"{"amount":5000,"currency":"XOF"}"#.utf8))
        #expect(decoded == Money(minorUnits: 5000, currency: MoneyTests.xof))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Money.self, from: Data(#"{"amount":12.5,"currency":"CAD"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Money.self, from: Data(#"{"amount":1,"currency":"BTC"}"#.utf8)) }
    }
}
