import Foundation
import NzilaValues
import Testing
@testable import Trading

/// Alpha Vantage's documented answers, read exactly, and the quote built from a last price.
@Suite("Alpha Vantage format")
struct AlphaVantageFormatTests {
    static let globalQuote = Data(#"""
        {"Global Quote": {"01. symbol": "RY.TRT", "02. open": "149.1000", "03. high": "151.2000", "04. low": "148.9000", "05. price": "150.4370",
         "06. volume": "3201876", "07. latest trading day": "2027-03-03", "08. previous close": "149.5000", "09. change": "0.9370", "10. change percent": "0.6268%"}}
        """#.utf8)

    static let series = Data(#"""
        {"Meta Data": {"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": "RY.TRT", "3. Last Refreshed": "2027-03-03",
                       "4. Output Size": "Compact", "5. Time Zone": "US/Eastern"},
         "Time Series (Daily)": {
            "2027-03-03": {"1. open": "149.1000", "2. high": "151.2000", "3. low": "148.9000", "4. close": "150.4400", "5. volume": "3201876"},
            "2027-03-02": {"1. open": "148.0000", "2. high": "149.9000", "3. low": "147.5000", "4. close": "149.5000", "5. volume": "2900000"}}}
        """#.utf8)

    @Test("GLOBAL_QUOTE: price, previous close, volume and day, exact; the quote is the price on the grid, a tick either side, the book depth shown")
    func quote() throws {
        let global = try AlphaVantageFormat.globalQuote(Self.globalQuote, symbol: "RY").get()
        #expect(global.price == Price("150.437") && global.previousClose == Price("149.50") && global.volume == 3_201_876)
        #expect(global.latestTradingDay == Day(year: 2027, month: 3, day: 3))
        let at = Date(timeIntervalSince1970: 1_804_093_200)
        let quote = AlphaVantageFormat.quote(global, instrument: TradingRuleTests.tsx, at: at)
        #expect(quote.last == Price("150.44") && quote.bid == Price("150.43") && quote.ask == Price("150.45"), "150.437 is nearest 150.44 on a one-cent grid")
        #expect(quote.bidSize == 100 * 10 && quote.askSize == 1_000 && quote.seq == 1_804_093_200 && quote.symbol == "RY")
        let ngx = AlphaVantageFormat.quote(try AlphaVantageFormat.globalQuote(Data(#"{"Global Quote": {"05. price": "4.025", "06. volume": "1", "07. latest trading day": "2027-03-03", "08. previous close": "4.00"}}"#.utf8), symbol: "X").get(), instrument: TradingRuleTests.ngx, at: at)
        #expect(ngx.last == Price("4.03") && ngx.bid == Price("4.02"), "a tie goes up")
    }

    @Test("the ways it says no: an unknown symbol, the call limit, a premium call, an empty quote, a bad shape")
    func refusals() {
        #expect(AlphaVantageFormat.globalQuote(Data(#"{"Error Message": "Invalid API call."}"#.utf8), symbol: "NOPE") == .failure(.unknownSymbol("NOPE")))
        #expect(AlphaVantageFormat.globalQuote(Data(#"{"Global Quote": {}}"#.utf8), symbol: "NOPE") == .failure(.unknownSymbol("NOPE")))
        #expect(AlphaVantageFormat.globalQuote(Data(#"{"Error Message": "the parameter apikey is invalid or missing."}"#.utf8), symbol: "RY") == .failure(.rejectedKey))
        #expect(AlphaVantageFormat.globalQuote(Data(#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute"}"#.utf8), symbol: "RY")
            == .failure(.limited("Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute")))
        #expect(AlphaVantageFormat.dailySeries(Data(#"{"Information": "This is a premium endpoint."}"#.utf8), symbol: "RY") == .failure(.limited("This is a premium endpoint.")))
        #expect(AlphaVantageFormat.globalQuote(Data(#"{"Global Quote": {"05. price": "1e3", "06. volume": "1", "07. latest trading day": "2027-03-03", "08. previous close": "4"}}"#.utf8), symbol: "RY")
            == .failure(.malformed("05. price")), "never a float")
        #expect(AlphaVantageFormat.globalQuote(Data("<html>".utf8), symbol: "RY") == .failure(.malformed("not a JSON object")))
        let upsideDown = Data(#"{"Time Series (Daily)": {"2027-03-03": {"1. open": "10", "2. high": "9", "3. low": "8", "4. close": "9", "5. volume": "1"}}}"#.utf8)
        #expect(AlphaVantageFormat.dailySeries(upsideDown, symbol: "RY") == .failure(.malformed("bar of 2027-03-03")))
    }

    @Test("TIME_SERIES_DAILY: bars named by our symbol, oldest first, prices exact; more than four decimals rounded half-up")
    func series() throws {
        let bars = try AlphaVantageFormat.dailySeries(Self.series, symbol: "RY").get()
        #expect(bars.map(\.day.description) == ["2027-03-02", "2027-03-03"] && bars.allSatisfy { $0.symbol == "RY" })
        #expect(bars[1].close == Price("150.44") && bars[1].volume == 3_201_876 && bars[0].low == Price("147.50"))
        #expect(AlphaVantageFormat.decimal("12.34565") == Price("12.3457") && AlphaVantageFormat.decimal("12.34564") == Price("12.3456"))
        #expect(AlphaVantageFormat.decimal("-1.00") == nil && AlphaVantageFormat.decimal("12.5") == Price("12.50"))
    }
}
