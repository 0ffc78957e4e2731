import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NzilaValues
import Synchronization

/// A real provider's market data over HTTP, in Alpha Vantage's shape: `GET {base}/query?function=
/// GLOBAL_QUOTE&symbol=…&apikey=…` for each instrument's latest price (and the previous close,
/// which is the day's reference), `function=TIME_SERIES_DAILY&outputsize=compact` for daily bars
/// (its last 100 sessions). Alpha Vantage gives no bid, ask or sizes: `AlphaVantageFormat.quote`
/// builds them from the last price on the instrument's grid and says how.
///
/// The base URL and key are the platform operator's settings, never a tenant's (so no SSRF screen
/// applies); the key goes in the query string, as the provider asks, and never into a log line or
/// an error. A symbol the provider does not know is left out of the tick; when it limits calls
/// (`Note`/`Information`) the rest of the tick is skipped; timeouts and 5xx leave that symbol out;
/// a tick where every call failed throws (the ingestion service logs it and tries the next tick).
public final class AlphaVantageFeed: QuoteFeed, Sendable {
    public struct Configuration: Sendable, Equatable {
        public var baseURL: String
        public var apiKey: String
        /// Our symbol → the provider's (`RY` → `RY.TRT`); a symbol not listed is asked as it is.
        public var symbols: [String: String]
        public var timeout: TimeAmount
        /// Calls at once within a tick.
        public var width: Int

        public init(baseURL: String = "https://www.alphavantage.co", apiKey: String, symbols: [String: String] = [:], timeout: TimeAmount = .seconds(10), width: Int = 4) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.apiKey = apiKey
            self.symbols = symbols
            self.timeout = timeout
            self.width = max(1, width)
        }

        /// From the environment: NZILA_ALPHAVANTAGE_KEY (required), NZILA_ALPHAVANTAGE_URL,
        /// NZILA_ALPHAVANTAGE_SYMBOLS (`RY=RY.TRT,SHOP=SHOP.TRT`). Nil without a key.
        public init?(environment: [String: String]) {
            guard let key = environment["NZILA_ALPHAVANTAGE_KEY"], !key.isEmpty else { return nil }
            var symbols: [String: String] = [:]
            for pair in (environment["NZILA_ALPHAVANTAGE_SYMBOLS"] ?? "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty { symbols[parts[0]] = parts[1] }
            }
            self.init(baseURL: environment["NZILA_ALPHAVANTAGE_URL"] ?? "https://www.alphavantage.co", apiKey: key, symbols: symbols)
        }
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    let configuration: Configuration
    let client: HTTPClient
    let logger: Logger
    /// The latest GLOBAL_QUOTE of each symbol: what `reference` answers from.
    let latest = Mutex<[String: AlphaVantageFormat.GlobalQuote]>([:])

    public init(_ configuration: Configuration, client: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
    }

    enum Outcome: Sendable {
        case quote(AlphaVantageFormat.GlobalQuote)
        case skipped
        case limited
        case failed
    }

    public func quotes(_ instruments: [Instrument], at now: Date) async throws -> [Quote] {
        let bySymbol = Dictionary(uniqueKeysWithValues: instruments.map { ($0.symbol, $0) })
        var outcomes: [String: Outcome] = [:]
        var limited = false
        await withTaskGroup(of: (String, Outcome).self) { group in
            var next = instruments.makeIterator()
            for _ in 0..<configuration.width {
                guard let instrument = next.next() else { break }
                group.addTask { (instrument.symbol, await self.globalQuote(instrument.symbol)) }
            }
            while let (symbol, outcome) = await group.next() {
                outcomes[symbol] = outcome
                if case .limited = outcome { limited = true }
                if !limited, let instrument = next.next() {
                    group.addTask { (instrument.symbol, await self.globalQuote(instrument.symbol)) }
                }
            }
        }
        var quotes: [Quote] = []
        for (symbol, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            guard case .quote(let global) = outcome, let instrument = bySymbol[symbol] else { continue }
            latest.withLock { $0[symbol] = global }
            quotes.append(AlphaVantageFormat.quote(global, instrument: instrument, at: now))
        }
        if quotes.isEmpty, !instruments.isEmpty, outcomes.values.allSatisfy({ if case .failed = $0 { true } else { false } }) {
            throw Unavailable(description: "Alpha Vantage answered none of \(instruments.count) quote calls")
        }
        if limited { logger.notice("Alpha Vantage is limiting calls: this tick took \(quotes.count) of \(instruments.count) quotes") }
        return quotes
    }

    public func dailyBars(_ instrument: Instrument, days: ClosedRange<Day>, at now: Date) async throws -> [DailyBar] {
        let (status, data) = try await get(function: "TIME_SERIES_DAILY", symbol: instrument.symbol, extra: "&outputsize=compact")
        guard status == 200 else { throw Unavailable(description: "Alpha Vantage answered HTTP \(status) for the daily series of \(instrument.symbol)") }
        switch AlphaVantageFormat.dailySeries(data, symbol: instrument.symbol) {
        case .success(let bars):
            let today = Day(instrument.session.localDay(now))
            let closed = !instrument.session.isOpen(at: now) && SeededQuoteFeed.afterClose(instrument.session, now)
            return bars.filter { days.contains($0.day) && (today == nil || $0.day < today! || ($0.day == today! && closed)) }
        case .failure(.unknownSymbol): return []
        case .failure(let refusal): throw Unavailable(description: refusal.description)
        }
    }

    /// The previous close of the session in progress (or the next): the latest quote's previous
    /// close while its trading day is that session's, else its price (the close of the last one).
    public func reference(_ instrument: Instrument, at now: Date) async throws -> Price? {
        guard let global = latest.withLock({ $0[instrument.symbol] }) else { return nil }
        let session = Day(instrument.session.localDay(instrument.session.currentOrNext(at: now).open))
        return global.latestTradingDay == session ? global.previousClose : global.price
    }

    func globalQuote(_ symbol: String) async -> Outcome {
        do {
            let (status, data) = try await get(function: "GLOBAL_QUOTE", symbol: symbol, extra: "")
            guard status == 200 else {
                logger.warning("Alpha Vantage answered HTTP \(status) for \(symbol)")
                return status == 429 ? .limited : .failed
            }
            switch AlphaVantageFormat.globalQuote(data, symbol: symbol) {
            case .success(let quote): return .quote(quote)
            case .failure(.unknownSymbol): return .skipped
            case .failure(.limited): return .limited
            case .failure(let refusal):
                logger.warning("\(refusal.description) for \(symbol)")
                return .failed
            }
        } catch {
            logger.warning("Alpha Vantage call for \(symbol) failed: \(type(of: error))")
            return .failed
        }
    }

    /// One call; the URL (with its key) never leaves this function.
    func get(function: String, symbol: String, extra: String) async throws -> (Int, Data) {
        let asked = configuration.symbols[symbol] ?? symbol
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "function", value: function), URLQueryItem(name: "symbol", value: asked), URLQueryItem(name: "apikey", value: configuration.apiKey)]
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/query?\(query.percentEncodedQuery ?? "")\(extra)")
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: configuration.timeout)
        } catch {
            throw Unavailable(description: "Alpha Vantage unreachable (\(type(of: error)))")
        }
        return (Int(response.status.code), Data(buffer: try await response.body.collect(upTo: 4 << 20)))
    }
}
