import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing
import Trading

/// Paper trading's market in `reference`: the shipped instruments, and the ingestion service taking
/// the seeded feed's quotes and bars in, on the platform clock, against the real database.
@Suite("Market data")
struct MarketTests {
    /// 2027-03-03 (a Wednesday) 12:00 UTC: NGX, JSE, NSE and BRVM are trading; TSX and New York not yet.
    static let noon = Date(timeIntervalSince1970: 1_804_075_200)

    @Test("ingestion stores every instrument's quote for 30 s and the closed sessions' bars, in monthly partitions; another plane's tick is skipped")
    func ingestion() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: Self.noon)
        let logger = Logger(label: "market-test")
        let instruments = try await MarketReference.instruments(client: harness.owner, logger: logger)
        #expect(instruments.count >= 54 && Set(instruments.map(\.exchange)) == ["NGX", "JSE", "NSE", "BRVM", "TSX", "NASDAQ", "NYSE"])
        let shipped = try InstrumentsFile.parse(try InstrumentsFileText.shipped()).get()
        #expect(instruments == shipped.sorted { $0.symbol < $1.symbol }, "the database gives back exactly what the file says")

        let feed = SeededQuoteFeed(seed: "market-test")
        var settings = MarketIngestion.Settings()
        settings.backfillDays = 10
        let ingestion = MarketIngestion(client: harness.owner, feed: feed, source: "seeded:market-test", clock: .movable(clock), settings: settings, logger: logger)
        let tick = try #require(try await Self.ingest(ingestion))
        #expect(tick.quotes == instruments.count && tick.bars > 0)

        let stored = try await harness.owner.statement(
            "SELECT symbol, seq, last_e4, reference_e4, extract(epoch FROM expires_at - quoted_at)::int, source FROM reference.quotes WHERE source = 'seeded:market-test' ORDER BY symbol",
            logger: logger
        ) { try await $0.all((String, Int64, Int64, Int64, Int, String).self) }
        #expect(stored.count == instruments.count && stored.allSatisfy { $0.4 == 30 })
        let dangcem = try #require(instruments.first { $0.symbol == "DANGCEM" })
        let expected = feed.quote(dangcem, at: Self.noon)
        let row = try #require(stored.first { $0.0 == "DANGCEM" })
        #expect(row.1 == expected.seq && row.2 == expected.last.e4 && row.3 == feed.reference(dangcem, at: Self.noon).e4)
        #expect(dangcem.band(reference: Price(e4: row.3))?.contains(Price(e4: row.2)) == true, "inside the day's band")

        // Bars: the last 10 days' sessions, none of today's (NGX is still trading), each in its month's partition.
        let bars = try await harness.owner.statement(
            "SELECT day::text, close_e4, tableoid::regclass::text FROM reference.daily_bars WHERE symbol = 'DANGCEM' AND source = 'seeded:market-test' ORDER BY day",
            logger: logger
        ) { try await $0.all((String, Int64, String).self) }
        #expect(bars.map(\.0) == ["2027-02-22", "2027-02-23", "2027-02-24", "2027-02-25", "2027-02-26", "2027-03-01", "2027-03-02"], "\(bars.map(\.0))")
        #expect(bars.map(\.2).contains("reference.daily_bars_2027_02") && bars.map(\.2).contains("reference.daily_bars_2027_03"))
        #expect(Price(e4: bars.last!.1) == feed.reference(dangcem, at: Self.noon), "yesterday's close is today's reference")
        let ahead = try await harness.owner.statement("SELECT to_regclass('reference.daily_bars_2027_05') IS NOT NULL", logger: logger) {
            try await $0.all(Bool.self)
        }
        #expect(ahead == [true], "partitions are made ahead")

        // After NGX's close (14:20 Lagos = 13:20 UTC) today's bar is added, once.
        clock.advance(seconds: 3 * 3_600)
        let evening = try #require(try await Self.ingest(ingestion))
        #expect(evening.partitions == 0)
        let today = try await harness.owner.statement(
            "SELECT count(*)::int FROM reference.daily_bars WHERE symbol = 'DANGCEM' AND day = '2027-03-03'", logger: logger) { try await $0.all(Int.self) }
        #expect(today == [1])

        // Another plane holding this tick's lock: this one skips.
        try await harness.owner.transaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('nzila-market-ingestion'))", logger: logger)
            #expect(try await ingestion.ingest() == nil)
        }
    }
}

extension MarketTests {
    /// One tick, a database error told in full (PostgresNIO hides its details from `description`).
    static func ingest(_ ingestion: MarketIngestion) async throws -> MarketIngestion.Tick? {
        do {
            return try await ingestion.ingest()
        } catch {
            Issue.record("ingestion failed: \(String(reflecting: error))")
            throw error
        }
    }
}

enum InstrumentsFileText {
    static func shipped() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("ReferenceData/instruments.csv"), encoding: .utf8)
    }
}
