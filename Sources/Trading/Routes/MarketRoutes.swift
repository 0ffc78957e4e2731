import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// A price band's start and its value (a tick size as a decimal string, a board lot in shares).
public struct BandView: Codable, Sendable {
    public let fromPrice: String
    public let value: String
}

/// `GET /v1/market/instruments`: an instrument and its exchange's rules. Prices are decimal strings
/// in the quote unit (JSE: ZAc, cents of a rand).
public struct InstrumentView: Codable, Sendable {
    public let symbol: String
    public let exchange: String
    public let name: String
    public let kind: InstrumentKind
    public let currency: String
    public let quoteUnit: String
    public let boardLots: [BandView]
    public let tickSizes: [BandView]
    /// The daily price limit around the previous close, in basis points; null where the exchange has none.
    public let dailyBandBps: Int?
    public let timeZone: String
    /// The continuous session, local time.
    public let sessionOpen: String
    public let sessionClose: String
    public let openNow: Bool

    init(_ i: Instrument, now: Date) {
        symbol = i.symbol
        exchange = i.exchange
        name = i.name
        kind = i.kind
        currency = i.currency.code
        quoteUnit = i.quoteUnit
        boardLots = i.lots.bands.map { BandView(fromPrice: $0.from.description, value: String($0.value)) }
        tickSizes = i.ticks.bands.map { BandView(fromPrice: $0.from.description, value: $0.value.description) }
        dailyBandBps = i.bandBps
        timeZone = i.session.timeZone.identifier
        sessionOpen = String(format: "%02d:%02d", i.session.open / 60, i.session.open % 60)
        sessionClose = String(format: "%02d:%02d", i.session.close / 60, i.session.close % 60)
        openNow = i.session.isOpen(at: now)
    }
}

/// `GET /v1/market/quotes`: the latest quote, the day's band around its reference price, and
/// whether it is past its 30 s lifetime (`stale`: the feed has not been read since).
public struct QuoteView: Codable, Sendable {
    public let symbol: String
    public let bid: String
    public let bidSize: Int64
    public let ask: String
    public let askSize: Int64
    public let last: String
    public let referencePrice: String
    public let bandLow: String?
    public let bandHigh: String?
    public let quotedAt: Date
    public let stale: Bool
    public let marketOpen: Bool

    init(_ instrument: Instrument, _ stored: MarketStore.StoredQuote, now: Date) {
        let band = instrument.band(reference: stored.reference)
        let q = stored.quote
        symbol = instrument.symbol
        bid = q.bid.description
        bidSize = q.bidSize
        ask = q.ask.description
        askSize = q.askSize
        last = q.last.description
        referencePrice = stored.reference.description
        bandLow = band?.lowerBound.description
        bandHigh = band?.upperBound.description
        quotedAt = q.at
        stale = stored.expiresAt <= now
        marketOpen = instrument.session.isOpen(at: now)
    }
}

/// `GET /v1/market/bars`: one session's open, high, low, close and volume.
public struct BarView: Codable, Sendable {
    public let day: String
    public let open: String
    public let high: String
    public let low: String
    public let close: String
    public let volume: Int64
}

struct MarketRoutes {
    func mount(on routes: TenantRoutes) {
        routes.route(
            .get, "/v1/market/instruments", "Instruments and their exchanges' rules (?exchange=NGX)", access: .ownOrStaff(.readTrading),
            answer: Page<InstrumentView>.self
        ) { request, context in
            let exchange = request.queryDictionary["exchange"]
            if let exchange, exchange.range(of: #"^[A-Z]{2,8}$"#, options: .regularExpression) == nil {
                throw Problem.validation(field: "exchange", "must be an exchange code such as NGX, JSE, NSE, BRVM, TSX, NYSE or NASDAQ")
            }
            let now = context.now
            let instruments = try await context.session.run { try await MarketStore($0).instruments(exchange: exchange) }
            return try Response.json(Page(data: instruments.map { InstrumentView($0, now: now) }, nextCursor: nil))
        }
        routes.route(
            .get, "/v1/market/quotes", "Latest quotes (?symbols=RY,DANGCEM; at most 100)", access: .ownOrStaff(.readTrading), answer: Page<QuoteView>.self
        ) { request, context in
            let symbols = try Self.symbols(request.queryDictionary["symbols"])
            let now = context.now
            let (instruments, quotes) = try await context.session.run { db in
                (try await MarketStore(db).instruments(symbols: symbols), try await MarketStore(db).quotes(symbols))
            }
            let bySymbol = Dictionary(uniqueKeysWithValues: instruments.map { ($0.symbol, $0) })
            let unknown = symbols.filter { bySymbol[$0] == nil }
            guard unknown.isEmpty else { throw Problem.validation(field: "symbols", "not listed: \(unknown.prefix(5).joined(separator: ", "))") }
            let views = symbols.compactMap { symbol -> QuoteView? in
                guard let stored = quotes[symbol], let instrument = bySymbol[symbol] else { return nil }
                return QuoteView(instrument, stored, now: now)
            }
            return try Response.json(Page(data: views, nextCursor: nil))
        }
        routes.route(
            .get, "/v1/market/bars", "Daily bars of one symbol (?symbol=&from=YYYY-MM-DD&to=YYYY-MM-DD; at most 366 days)", access: .ownOrStaff(.readTrading),
            answer: Page<BarView>.self
        ) { request, context in
            let query = request.queryDictionary
            var errors: [FieldError] = []
            let symbol = query["symbol"] ?? ""
            if symbol.isEmpty { errors.append(FieldError(field: "symbol", message: "is required")) }
            let from = query["from"].flatMap(Day.init)
            let to = query["to"].flatMap(Day.init)
            if from == nil { errors.append(FieldError(field: "from", message: "must be a day, YYYY-MM-DD")) }
            if to == nil { errors.append(FieldError(field: "to", message: "must be a day, YYYY-MM-DD")) }
            if let from, let to, !(0...365).contains(to.ordinal - from.ordinal) {
                errors.append(FieldError(field: "to", message: "must be on or after from, at most 366 days later"))
            }
            guard errors.isEmpty, let from, let to else { throw Problem.validation(errors) }
            let bars = try await context.session.run { db -> [DailyBar]? in
                guard try await MarketStore(db).instrument(symbol) != nil else { return nil }
                return try await MarketStore(db).bars(symbol, from: from, to: to)
            }
            guard let bars else { throw Problem.notFound("Instrument \(symbol.prefix(20))") }
            return try Response.json(Page(data: bars.map {
                BarView(day: $0.day.description, open: $0.open.description, high: $0.high.description, low: $0.low.description, close: $0.close.description, volume: $0.volume)
            }, nextCursor: nil))
        }
    }

    /// `RY,DANGCEM` → the symbols, each well formed, 1 to 100 of them.
    static func symbols(_ raw: String?) throws -> [String] {
        let symbols = (raw ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard (1...100).contains(symbols.count) else { throw Problem.validation(field: "symbols", "name 1 to 100 symbols, comma separated") }
        for symbol in symbols where symbol.range(of: #"^[A-Z0-9][A-Z0-9.\-]{0,15}$"#, options: .regularExpression) == nil {
            throw Problem.validation(field: "symbols", "\(symbol.prefix(20)) is not a symbol")
        }
        var seen: Set<String> = []
        return symbols.filter { seen.insert($0).inserted }
    }
}
