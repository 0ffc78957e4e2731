import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NzilaValues
import Synchronization
import Testing
import Trading

/// `AlphaVantageFeed` against a stand-in for Alpha Vantage's `/query` API on a real socket: it
/// answers GLOBAL_QUOTE and TIME_SERIES_DAILY in the provider's documented shape, knows some
/// symbols, limits calls when told to, and checks the key.
@Suite("Alpha Vantage feed")
struct AlphaVantageFeedTests {
    final class Provider: Sendable {
        let asked = Mutex<[String]>([])
        let limiting = Mutex(false)
    }

    static func api(_ provider: Provider) -> some ApplicationProtocol {
        let router = Router()
        router.get("/query") { request, _ -> Response in
            let q = request.uri.queryParameters
            let symbol = q["symbol"].map(String.init) ?? ""
            let function = q["function"].map(String.init) ?? ""
            provider.asked.withLock { $0.append("\(function) \(symbol)") }
            guard q["apikey"] == "av-test-key" else {
                return Self.json(#"{"Error Message": "the parameter apikey is invalid or missing."}"#)
            }
            if provider.limiting.withLock({ $0 }) {
                return Self.json(#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute."}"#)
            }
            switch (function, symbol) {
            case ("GLOBAL_QUOTE", "RY.TRT"):
                return Self.json(#"{"Global Quote": {"01. symbol": "RY.TRT", "05. price": "150.4370", "06. volume": "3201876", "07. latest trading day": "2027-03-03", "08. previous close": "149.5000"}}"#)
            case ("GLOBAL_QUOTE", "AAPL"):
                return Self.json(#"{"Global Quote": {"01. symbol": "AAPL", "05. price": "229.8700", "06. volume": "41000000", "07. latest trading day": "2027-03-02", "08. previous close": "228.0100"}}"#)
            case ("GLOBAL_QUOTE", "BROKEN"):
                return Response(status: .serviceUnavailable)
            case ("GLOBAL_QUOTE", _):
                return Self.json(#"{"Global Quote": {}}"#)
            case ("TIME_SERIES_DAILY", "RY.TRT") where q["outputsize"] == "compact":
                return Self.json(#"""
                    {"Meta Data": {"2. Symbol": "RY.TRT"}, "Time Series (Daily)": {
                        "2027-03-03": {"1. open": "149.1000", "2. high": "151.2000", "3. low": "148.9000", "4. close": "150.4400", "5. volume": "3201876"},
                        "2027-03-02": {"1. open": "148.0000", "2. high": "149.9000", "3. low": "147.5000", "4. close": "149.5000", "5. volume": "2900000"},
                        "2027-02-26": {"1. open": "147.0000", "2. high": "148.2000", "3. low": "146.5000", "4. close": "148.0000", "5. volume": "2500000"}}}
                    """#)
            default:
                return Self.json(#"{"Error Message": "Invalid API call."}"#)
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func instruments() throws -> [String: Instrument] {
        let all = try InstrumentsFile.parse(try InstrumentsFileText.shipped()).get()
        return Dictionary(uniqueKeysWithValues: all.map { ($0.symbol, $0) })
    }

    @Test("quotes, references and closed sessions' bars from the provider's shapes; unknown and failing symbols left out; a call limit stops the tick; the key never in an error")
    func feed() async throws {
        let provider = Provider()
        let all = try Self.instruments()
        let ry = try #require(all["RY"]), aapl = try #require(all["AAPL"]), shop = try #require(all["SHOP"])
        let broken = Instrument(
            symbol: "BROKEN", exchange: ry.exchange, name: "Broken", kind: .equity, currency: ry.currency, quoteUnit: ry.quoteUnit, unitMinor: ry.unitMinor,
            lots: ry.lots, ticks: ry.ticks, bandBps: ry.bandBps, session: ry.session, simulation: ry.simulation)
        // 2027-03-03 17:00 UTC: noon in Toronto, the session open.
        let noon = Date(timeIntervalSince1970: 1_804_093_200)
        try await Self.api(provider).test(.live) { client in
            let base = "http://127.0.0.1:\(client.port!)"
            let logger = Logger(label: "alpha-vantage-test")
            let feed = AlphaVantageFeed(.init(baseURL: base, apiKey: "av-test-key", symbols: ["RY": "RY.TRT"], timeout: .seconds(15), width: 2), logger: logger)

            let quotes = try await feed.quotes([ry, aapl, shop, broken], at: noon)
            #expect(quotes.map(\.symbol) == ["AAPL", "RY"], "SHOP is unknown, BROKEN answers 503: both left out")
            let quote = try #require(quotes.last)
            #expect(quote.last == Price("150.44") && quote.bid == Price("150.43") && quote.ask == Price("150.45") && quote.seq == 1_804_093_200)
            #expect(Set(provider.asked.withLock { $0 }) == ["GLOBAL_QUOTE RY.TRT", "GLOBAL_QUOTE AAPL", "GLOBAL_QUOTE SHOP", "GLOBAL_QUOTE BROKEN"])
            // Today's session (2027-03-03) is RY's latest trading day: its reference is the previous close.
            #expect(try await feed.reference(ry, at: noon) == Price("149.50"))
            // AAPL's latest trading day is yesterday's: its price is the close the day's band is around.
            #expect(try await feed.reference(aapl, at: noon) == Price("229.87"))
            #expect(try await feed.reference(shop, at: noon) == nil)

            // Bars of sessions that have closed, in the range asked: not today's while it trades.
            let days = Day(year: 2027, month: 3, day: 1)!...Day(year: 2027, month: 3, day: 3)!
            #expect(try await feed.dailyBars(ry, days: days, at: noon).map(\.day.description) == ["2027-03-02"])
            let evening = noon.addingTimeInterval(6 * 3_600)
            let bars = try await feed.dailyBars(ry, days: days, at: evening)
            #expect(bars.map(\.day.description) == ["2027-03-02", "2027-03-03"] && bars.last?.close == Price("150.44") && bars.allSatisfy { $0.symbol == "RY" })
            #expect(try await feed.dailyBars(shop, days: days, at: evening).isEmpty)

            // The call limit: the tick stops asking and keeps what it has.
            provider.asked.withLock { $0 = [] }
            provider.limiting.withLock { $0 = true }
            let limited = try await feed.quotes([ry, aapl, shop, broken], at: noon.addingTimeInterval(15))
            #expect(limited.isEmpty && provider.asked.withLock { $0.count } <= 2, "at most the calls already under way: \(provider.asked.withLock { $0 })")
            provider.limiting.withLock { $0 = false }

            // A wrong key is the provider's refusal; a provider that cannot be reached fails the tick, and neither error tells the key.
            let wrongKey = AlphaVantageFeed(.init(baseURL: base, apiKey: "secret-wrong", timeout: .seconds(15)), logger: logger)
            do {
                _ = try await wrongKey.quotes([ry, aapl], at: noon)
                Issue.record("a refused key fails the tick")
            } catch {
                #expect(!"\(error)".contains("secret-wrong"), "\(error)")
            }
            let nowhere = AlphaVantageFeed(.init(baseURL: "http://127.0.0.1:1", apiKey: "secret-nowhere", timeout: .seconds(2)), logger: logger)
            do {
                _ = try await nowhere.quotes([ry, aapl], at: noon)
                Issue.record("an unreachable provider fails the tick")
            } catch {
                #expect(!"\(error)".contains("secret-nowhere") && !String(reflecting: error).contains("secret-nowhere"), "\(error)")
            }
            await #expect(throws: AlphaVantageFeed.Unavailable.self) { try await nowhere.dailyBars(ry, days: days, at: evening) }
        }
    }

    @Test("the environment: a key turns the feed on, with the provider's symbols; no key, no feed")
    func environment() {
        let configured = AlphaVantageFeed.Configuration(environment: ["NZILA_ALPHAVANTAGE_KEY": "k", "NZILA_ALPHAVANTAGE_SYMBOLS": "RY=RY.TRT, SHOP = SHOP.TRT,bad"])
        #expect(configured?.symbols == ["RY": "RY.TRT", "SHOP": "SHOP.TRT"] && configured?.baseURL == "https://www.alphavantage.co")
        #expect(AlphaVantageFeed.Configuration(environment: ["NZILA_ALPHAVANTAGE_URL": "http://x/"]) == nil)
    }
}
