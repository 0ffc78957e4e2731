import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO

/// The platform's market in `reference`: instruments (loaded from the instruments file), the latest
/// quote of each (a cache with a lifetime) and daily bars (partitioned by month). Not a tenant's
/// data: these statements run on the registry's connection (the CLI's owner, the data plane's role).
public enum MarketReference {
    /// How long a stored quote may be used.
    public static let quoteLifetime: TimeInterval = 30

    /// Adds or updates every instrument of the file, in one transaction.
    public static func save(instruments: [Instrument], client: PostgresClient, logger: Logger) async throws {
        try await client.transaction(logger: logger) { connection in
            for i in instruments {
                try await connection.query(
                    """
                    INSERT INTO reference.instruments (symbol, exchange, name, kind, currency, quote_unit, unit_minor, board_lots, ticks, band_bps, time_zone,
                                                       session_open, session_close, start_price_e4, volatility_bps, spread_ticks, depth_lots, updated_at)
                    VALUES (\(i.symbol), \(i.exchange), \(i.name), \(i.kind.rawValue), \(i.currency.code), \(i.quoteUnit), \(i.unitMinor),
                            \(table(i.lots) { String($0) }), \(table(i.ticks) { $0.description }), \(i.bandBps), \(i.session.timeZone.identifier),
                            \(i.session.open), \(i.session.close), \(i.simulation.startPrice.e4), \(i.simulation.volatilityBps),
                            \(i.simulation.spreadTicks), \(i.simulation.depthLots), clock_timestamp())
                    ON CONFLICT (symbol) DO UPDATE SET exchange = EXCLUDED.exchange, name = EXCLUDED.name, kind = EXCLUDED.kind, currency = EXCLUDED.currency,
                        quote_unit = EXCLUDED.quote_unit, unit_minor = EXCLUDED.unit_minor, board_lots = EXCLUDED.board_lots, ticks = EXCLUDED.ticks,
                        band_bps = EXCLUDED.band_bps, time_zone = EXCLUDED.time_zone, session_open = EXCLUDED.session_open,
                        session_close = EXCLUDED.session_close, start_price_e4 = EXCLUDED.start_price_e4, volatility_bps = EXCLUDED.volatility_bps,
                        spread_ticks = EXCLUDED.spread_ticks, depth_lots = EXCLUDED.depth_lots, updated_at = EXCLUDED.updated_at
                    """, logger: logger)
            }
        }
    }

    /// The shipped `ReferenceData/instruments.csv`, as `nzila dev` and the tests load it.
    public static func loadShipped(root: URL, client: PostgresClient, logger: Logger) async throws {
        let text = try String(contentsOf: root.appendingPathComponent("ReferenceData/instruments.csv"), encoding: .utf8)
        try await save(instruments: try InstrumentsFile.parse(text).get(), client: client, logger: logger)
    }

    /// A band table as the file writes it.
    static func table<Value>(_ table: BandTable<Value>, _ text: (Value) -> String) -> String {
        table.bands.count == 1 ? text(table.bands[0].value) : table.bands.map { "\($0.from):\(text($0.value))" }.joined(separator: "|")
    }

    /// Every instrument, by symbol.
    public static func instruments(client: PostgresClient, logger: Logger) async throws -> [Instrument] {
        try await client.statement("SELECT \(unescaped: MarketStore.instrumentColumns) FROM reference.instruments ORDER BY symbol", logger: logger) {
            try await $0.all(MarketStore.InstrumentRow.self).map(MarketStore.instrument)
        }
    }

    /// The mid rate CAD per unit of each currency that has a pair with CAD (`TradingStore.rateToCAD`'s
    /// rule), for the matcher's sweep: one statement.
    public static func ratesToCAD(client: PostgresClient, logger: Logger) async throws -> [Currency: FXRate] {
        let rows = try await client.statement(
            "SELECT base::text, quote::text, mid_rate::text FROM reference.fx_rates WHERE base = 'CAD' OR quote = 'CAD'", logger: logger
        ) { try await $0.all((String, String, String).self) }
        var pairs: [String: [(base: String, mid: String)]] = [:]
        for (base, quote, mid) in rows { pairs[base == "CAD" ? quote : base, default: []].append((base, mid)) }
        var rates: [Currency: FXRate] = [.cad: FXRate(scaled: FXRate.scale)]
        for (code, found) in pairs {
            guard let currency = Currency(code: code), let rate = TradingStore.rateToCAD(currency, pairs: found) else { continue }
            rates[currency] = rate
        }
        return rates
    }

    /// The stored quote of each symbol asked for (nil: every symbol) that has one, with its
    /// instrument: one statement.
    public static func quotes(_ symbols: [String]?, client: PostgresClient, logger: Logger) async throws -> [(Instrument, MarketStore.StoredQuote)] {
        let rows = try await client.statement(
            """
            SELECT \(unescaped: MarketStore.instrumentColumns("i")), q.seq, q.quoted_at, q.bid_e4, q.bid_size, q.ask_e4, q.ask_size, q.last_e4,
                   q.reference_e4, q.expires_at
            FROM reference.quotes q JOIN reference.instruments i ON i.symbol = q.symbol
            WHERE \(symbols)::text[] IS NULL OR q.symbol = ANY(\(symbols)::text[]) ORDER BY q.symbol
            """, logger: logger
        ) {
            try await $0.all((String, String, String, String, String, String, Int64, String, String, Int?, String, Int, Int, Int64, Int, Int, Int,
                              Int64, Date, Int64, Int64, Int64, Int64, Int64, Int64, Date).self)
        }
        return try rows.map { r in
            let instrument = try MarketStore.instrument((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15, r.16))
            let quote = Quote(
                symbol: r.0, seq: r.17, at: r.18, bid: Price(e4: r.19), bidSize: r.20, ask: Price(e4: r.21), askSize: r.22, last: Price(e4: r.23))
            return (instrument, MarketStore.StoredQuote(quote: quote, reference: Price(e4: r.24), expiresAt: r.25))
        }
    }

    /// Stores each quote (with its session's reference price) as the latest of its instrument,
    /// usable until `now` + `quoteLifetime`. One statement.
    public static func store(quotes: [(Quote, reference: Price)], now: Date, source: String, on connection: PostgresConnection, logger: Logger) async throws {
        guard !quotes.isEmpty else { return }
        let q = quotes.map(\.0)
        try await connection.query(
            """
            INSERT INTO reference.quotes (symbol, seq, quoted_at, expires_at, bid_e4, bid_size, ask_e4, ask_size, last_e4, reference_e4, source)
            SELECT s, n, \(now), \(now.addingTimeInterval(quoteLifetime)), b, bs, a, az, l, r, \(source)
            FROM unnest(\(q.map(\.symbol))::text[], \(q.map(\.seq))::int8[], \(q.map(\.bid.e4))::int8[], \(q.map(\.bidSize))::int8[], \(q.map(\.ask.e4))::int8[],
                        \(q.map(\.askSize))::int8[], \(q.map(\.last.e4))::int8[], \(quotes.map(\.reference.e4))::int8[]) AS t(s, n, b, bs, a, az, l, r)
            ON CONFLICT (symbol) DO UPDATE SET seq = EXCLUDED.seq, quoted_at = EXCLUDED.quoted_at, expires_at = EXCLUDED.expires_at, bid_e4 = EXCLUDED.bid_e4,
                bid_size = EXCLUDED.bid_size, ask_e4 = EXCLUDED.ask_e4, ask_size = EXCLUDED.ask_size, last_e4 = EXCLUDED.last_e4,
                reference_e4 = EXCLUDED.reference_e4, source = EXCLUDED.source
            """, logger: logger)
    }

    /// Stores daily bars (a bar already there is left as it is: a closed session does not change).
    public static func store(bars: [DailyBar], source: String, on connection: PostgresConnection, logger: Logger) async throws {
        guard !bars.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO reference.daily_bars (symbol, day, open_e4, high_e4, low_e4, close_e4, volume, source)
            SELECT s, d::date, o, h, l, c, v, \(source)
            FROM unnest(\(bars.map(\.symbol))::text[], \(bars.map(\.day.description))::text[], \(bars.map(\.open.e4))::int8[], \(bars.map(\.high.e4))::int8[],
                        \(bars.map(\.low.e4))::int8[], \(bars.map(\.close.e4))::int8[], \(bars.map(\.volume))::int8[]) AS t(s, d, o, h, l, c, v)
            ON CONFLICT (symbol, day) DO NOTHING
            """, logger: logger)
    }

    /// The day after each instrument's newest stored bar (nil: none stored).
    public static func lastBarDays(on connection: PostgresConnection, logger: Logger) async throws -> [String: Day] {
        var result: [String: Day] = [:]
        for try await (symbol, day) in try await connection.query("SELECT symbol, max(day)::text FROM reference.daily_bars GROUP BY symbol", logger: logger)
            .decode((String, String).self)
        {
            result[symbol] = Day(day)
        }
        return result
    }

    /// Makes sure the monthly partitions of daily bars exist from `from`'s month for `months` months.
    public static func ensurePartitions(from: Day, months: Int, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query("SELECT reference.ensure_bar_partitions(\(from.description)::date, \(months)::int)", logger: logger)
            .decode(Int.self).reduce(0, +)
    }
}
