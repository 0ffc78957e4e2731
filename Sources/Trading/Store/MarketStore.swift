import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaValues

/// The market as a tenant's requests read it (`reference`, readable by every tenant role).
public struct MarketStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let instrumentColumns = """
        symbol, exchange, name, kind, currency::text, quote_unit, unit_minor, board_lots, ticks, band_bps, time_zone, session_open::int,
        session_close::int, start_price_e4, volatility_bps, spread_ticks, depth_lots
        """
    /// The instrument columns of table alias `alias`.
    static func instrumentColumns(_ alias: String) -> String {
        instrumentColumns.split(separator: ",").map { "\(alias)." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
    }

    typealias InstrumentRow = (String, String, String, String, String, String, Int64, String, String, Int?, String, Int, Int, Int64, Int, Int, Int)

    static func instrument(_ r: InstrumentRow) throws -> Instrument {
        var fields: [String: String] = [
            "symbol": r.0, "exchange": r.1, "name": r.2, "kind": r.3, "currency": r.4, "quote_unit": r.5, "unit_minor": String(r.6), "board_lots": r.7,
            "ticks": r.8, "band_bps": r.9.map(String.init) ?? "", "time_zone": r.10, "start_price": Price(e4: r.13).description,
            "volatility_bps": String(r.14), "spread_ticks": String(r.15), "depth_lots": String(r.16),
        ]
        fields["open"] = String(format: "%02d:%02d", r.11 / 60, r.11 % 60)
        fields["close"] = String(format: "%02d:%02d", r.12 / 60, r.12 % 60)
        return try InstrumentsFile.instrument(fields).get()
    }

    /// Every instrument, those of one exchange, or those named, by symbol.
    public func instruments(exchange: String? = nil, symbols: [String]? = nil) async throws -> [Instrument] {
        try await db.query(
            """
            SELECT \(unescaped: Self.instrumentColumns) FROM reference.instruments
            WHERE (\(exchange)::text IS NULL OR exchange = \(exchange)) AND (\(symbols)::text[] IS NULL OR symbol = ANY(\(symbols)::text[])) ORDER BY symbol
            """
        ).all(InstrumentRow.self).map(Self.instrument)
    }

    /// What placing an order on `symbol` reads, in one round trip: the instrument, its stored quote
    /// (nil: none yet), the mid rate CAD per unit of its currency (nil: no pair with CAD) and the
    /// tenant's `trading` section (nil: the defaults). Nil when the symbol is not listed.
    public func market(_ symbol: String) async throws -> (instrument: Instrument, quote: StoredQuote?, rateToCAD: FXRate?, section: TradingSection?)? {
        guard let r = try await db.query(
            """
            SELECT \(unescaped: Self.instrumentColumns("i")), q.seq, q.quoted_at, q.bid_e4, q.bid_size, q.ask_e4, q.ask_size, q.last_e4, q.reference_e4, q.expires_at,
                   (SELECT array_agg(r.base::text || '=' || r.mid_rate::text) FROM reference.fx_rates r
                    WHERE (r.base = i.currency AND r.quote = 'CAD') OR (r.base = 'CAD' AND r.quote = i.currency)),
                   (SELECT value::text FROM tenant_config WHERE key = \(TradingSection.key))
            FROM reference.instruments i LEFT JOIN reference.quotes q ON q.symbol = i.symbol WHERE i.symbol = \(symbol)
            """
        ).first((String, String, String, String, String, String, Int64, String, String, Int?, String, Int, Int, Int64, Int, Int, Int,
                 Int64?, Date?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Date?, [String]?, String?).self)
        else { return nil }
        let instrument = try Self.instrument((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15, r.16))
        let pairs = (r.26 ?? []).compactMap { pair -> (base: String, mid: String)? in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
        let rate = TradingStore.rateToCAD(instrument.currency, pairs: pairs)
        let section = db.read(TradingSection.self, from: r.27)
        guard let seq = r.17, let at = r.18, let bid = r.19, let bidSize = r.20, let ask = r.21, let askSize = r.22, let last = r.23, let reference = r.24,
            let expires = r.25
        else { return (instrument, nil, rate, section) }
        let quote = Quote(symbol: symbol, seq: seq, at: at, bid: Price(e4: bid), bidSize: bidSize, ask: Price(e4: ask), askSize: askSize, last: Price(e4: last))
        return (instrument, StoredQuote(quote: quote, reference: Price(e4: reference), expiresAt: expires), rate, section)
    }

    public func instrument(_ symbol: String) async throws -> Instrument? {
        try await db.query("SELECT \(unescaped: Self.instrumentColumns) FROM reference.instruments WHERE symbol = \(symbol)")
            .first(InstrumentRow.self).map(Self.instrument)
    }

    /// A stored quote with its session's reference price and until when it may be used.
    public struct StoredQuote: Sendable {
        public let quote: Quote
        public let reference: Price
        public let expiresAt: Date
    }

    /// The latest stored quote of each symbol asked for that has one.
    public func quotes(_ symbols: [String]) async throws -> [String: StoredQuote] {
        var found: [String: StoredQuote] = [:]
        for r in try await db.query(
            """
            SELECT symbol, seq, quoted_at, bid_e4, bid_size, ask_e4, ask_size, last_e4, reference_e4, expires_at
            FROM reference.quotes WHERE symbol = ANY(\(symbols)::text[])
            """
        ).all((String, Int64, Date, Int64, Int64, Int64, Int64, Int64, Int64, Date).self) {
            let quote = Quote(symbol: r.0, seq: r.1, at: r.2, bid: Price(e4: r.3), bidSize: r.4, ask: Price(e4: r.5), askSize: r.6, last: Price(e4: r.7))
            found[r.0] = StoredQuote(quote: quote, reference: Price(e4: r.8), expiresAt: r.9)
        }
        return found
    }

    /// A symbol's daily bars between two days (inclusive), oldest first.
    public func bars(_ symbol: String, from: Day, to: Day) async throws -> [DailyBar] {
        try await db.query(
            """
            SELECT day::text, open_e4, high_e4, low_e4, close_e4, volume FROM reference.daily_bars
            WHERE symbol = \(symbol) AND day BETWEEN \(from.description)::date AND \(to.description)::date ORDER BY day
            """
        ).all((String, Int64, Int64, Int64, Int64, Int64).self).compactMap { r in
            Day(r.0).map { DailyBar(symbol: symbol, day: $0, open: Price(e4: r.1), high: Price(e4: r.2), low: Price(e4: r.3), close: Price(e4: r.4), volume: r.5) }
        }
    }
}
