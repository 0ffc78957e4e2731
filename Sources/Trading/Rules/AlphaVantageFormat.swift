import Foundation
import NzilaValues

/// Alpha Vantage's answers, read as pure functions (the HTTP side is `AlphaVantageFeed`): the
/// `GLOBAL_QUOTE` object and the `TIME_SERIES_DAILY` series, every price a decimal string read
/// exactly (never through a `Double`), and the ways it says no — `Error Message` (an unknown
/// symbol), `Note` / `Information` (the call-rate limit or a premium-only call), an empty quote.
public enum AlphaVantageFormat {
    public struct GlobalQuote: Sendable, Equatable {
        public let symbol: String
        public let price: Price
        public let previousClose: Price
        public let volume: Int64
        public let latestTradingDay: Day
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        /// The symbol is not known to the provider (`Error Message`, or an empty quote).
        case unknownSymbol(String)
        /// The provider is limiting calls (`Note` / `Information`): try on a later tick.
        case limited(String)
        /// The key was refused (`Error Message` naming the apikey).
        case rejectedKey
        /// Not the documented shape.
        case malformed(String)

        public var description: String {
            switch self {
            case .unknownSymbol(let s): "Alpha Vantage knows no symbol \(s)"
            case .limited(let why): "Alpha Vantage is limiting calls: \(why)"
            case .rejectedKey: "Alpha Vantage refused the API key"
            case .malformed(let why): "Alpha Vantage answered off its documented shape: \(why)"
            }
        }
    }

    /// `{"Global Quote": {"01. symbol": …, "05. price": …, "06. volume": …, "07. latest trading day": …, "08. previous close": …}}`.
    public static func globalQuote(_ data: Data, symbol: String) -> Result<GlobalQuote, Refusal> {
        let object: [String: Any]
        switch top(data, symbol: symbol) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let o): object = o
        }
        guard let quote = object["Global Quote"] as? [String: Any] else { return .failure(.malformed("no \"Global Quote\"")) }
        if quote.isEmpty { return .failure(.unknownSymbol(symbol)) }
        guard let price = (quote["05. price"] as? String).flatMap(decimal), price.e4 > 0 else { return .failure(.malformed("05. price")) }
        guard let previous = (quote["08. previous close"] as? String).flatMap(decimal), previous.e4 > 0 else { return .failure(.malformed("08. previous close")) }
        guard let volume = (quote["06. volume"] as? String).flatMap({ Int64($0) }), volume >= 0 else { return .failure(.malformed("06. volume")) }
        guard let day = (quote["07. latest trading day"] as? String).flatMap(Day.init) else { return .failure(.malformed("07. latest trading day")) }
        return .success(GlobalQuote(symbol: quote["01. symbol"] as? String ?? symbol, price: price, previousClose: previous, volume: volume, latestTradingDay: day))
    }

    /// `{"Meta Data": {…}, "Time Series (Daily)": {"YYYY-MM-DD": {"1. open", "2. high", "3. low", "4. close", "5. volume"}}}`,
    /// as bars named `symbol` (ours, not the provider's), oldest first. A bar whose prices do not
    /// hold together (low above open, high below close…) is malformed, not stored.
    public static func dailySeries(_ data: Data, symbol: String) -> Result<[DailyBar], Refusal> {
        let object: [String: Any]
        switch top(data, symbol: symbol) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let o): object = o
        }
        guard let series = object["Time Series (Daily)"] as? [String: Any] else { return .failure(.malformed("no \"Time Series (Daily)\"")) }
        var bars: [DailyBar] = []
        for (key, value) in series {
            guard let day = Day(key), let fields = value as? [String: Any] else { return .failure(.malformed("day \(key)")) }
            func price(_ name: String) -> Price? { (fields[name] as? String).flatMap(decimal).flatMap { $0.e4 > 0 ? $0 : nil } }
            guard let open = price("1. open"), let high = price("2. high"), let low = price("3. low"), let close = price("4. close"),
                let volume = (fields["5. volume"] as? String).flatMap({ Int64($0) }), volume >= 0,
                low <= open, open <= high, low <= close, close <= high
            else { return .failure(.malformed("bar of \(key)")) }
            bars.append(DailyBar(symbol: symbol, day: day, open: open, high: high, low: low, close: close, volume: volume))
        }
        return .success(bars.sorted { $0.day < $1.day })
    }

    static func top(_ data: Data, symbol: String) -> Result<[String: Any], Refusal> {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return .failure(.malformed("not a JSON object")) }
        if let message = object["Error Message"] as? String {
            return .failure(message.lowercased().contains("apikey") ? .rejectedKey : .unknownSymbol(symbol))
        }
        if let note = (object["Note"] ?? object["Information"]) as? String { return .failure(.limited(String(note.prefix(200)))) }
        return .success(object)
    }

    /// A decimal string as a `Price`: up to four decimals exactly; more are rounded half-up at the
    /// fourth (the provider pads to four; this is only a guard).
    public static func decimal(_ text: String) -> Price? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count > 4, parts[1].allSatisfy(\.isASCIIDigit) else { return Price(text) }
        guard let truncated = Price("\(parts[0]).\(parts[1].prefix(4))") else { return nil }
        let next = parts[1].dropFirst(4).first!
        return next >= "5" ? Price(e4: truncated.e4 + 1) : truncated
    }

    /// A quote from a provider that gives only a last price: the last moved onto the instrument's
    /// grid (to the nearest grid price, ties up), a bid one tick below (at the first tick, the last
    /// itself) and an ask one tick above it,
    /// each showing the instrument's simulated book depth in board lots; `seq` numbers it by the
    /// second it was taken at (a later poll, a later quote).
    public static func quote(_ quote: GlobalQuote, instrument: Instrument, at now: Date) -> Quote {
        let floor = instrument.floorToGrid(quote.price)
        let ceil = instrument.ceilToGrid(quote.price)
        let last = quote.price.e4 - floor.e4 < ceil.e4 - quote.price.e4 ? floor : ceil
        let bid = instrument.step(last, ticks: -1)
        let ask = instrument.step(last, ticks: 1)
        let size = instrument.lot(at: last) * Int64(max(1, instrument.simulation.depthLots))
        return Quote(
            symbol: instrument.symbol, seq: Int64(now.timeIntervalSince1970.rounded(.down)), at: now, bid: bid, bidSize: size, ask: ask, askSize: size, last: last)
    }
}
