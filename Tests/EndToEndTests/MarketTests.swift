import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing
import Trading

/// Paper trading's market in `reference`: the shipped instruments, and the ingestion service taking
/// the seeded feed's quotes and bars in, on the platform clock, against the real database.
/// Serialized: both tests write the platform's one set of quotes (and one takes the ingestion lock).
@Suite("Market data", .serialized)
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

        // The suite's other tests move the market's clock (days, weeks ahead) and leave their bars: ingestion fills bars
        // after the newest stored, so this test starts from none. The market is this serialized suite's alone.
        try await harness.owner.query("DELETE FROM reference.daily_bars", logger: logger)
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
        #expect(row.1 == expected.seq && row.2 == expected.last.e4 && row.3 == feed.reference(of: dangcem, at: Self.noon).e4)
        #expect(dangcem.band(reference: Price(e4: row.3))?.contains(Price(e4: row.2)) == true, "inside the day's band")

        // Bars: the last 10 days' sessions, none of today's (NGX is still trading), each in its month's partition.
        let bars = try await harness.owner.statement(
            "SELECT day::text, close_e4, tableoid::regclass::text FROM reference.daily_bars WHERE symbol = 'DANGCEM' AND source = 'seeded:market-test' ORDER BY day",
            logger: logger
        ) { try await $0.all((String, Int64, String).self) }
        #expect(bars.map(\.0) == ["2027-02-22", "2027-02-23", "2027-02-24", "2027-02-25", "2027-02-26", "2027-03-01", "2027-03-02"], "\(bars.map(\.0))")
        #expect(bars.map(\.2).contains("reference.daily_bars_2027_02") && bars.map(\.2).contains("reference.daily_bars_2027_03"))
        #expect(Price(e4: bars.last!.1) == feed.reference(of: dangcem, at: Self.noon), "yesterday's close is today's reference")
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

extension MarketTests {
    @Test("the market routes: instruments with their rules, quotes with their band and freshness, bars by day; bad queries are problems")
    func routes() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: Self.noon)
        try await harness.withPlanes(clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "mk")
            let member = f.members[0]
            _ = try #require(try await Self.ingest(planes.data.marketIngestion))

            let all = try await planes.data(.get, "/v1/market/instruments", token: member.token, tenant: f.slug)
            #expect(all.status == .ok, "\(all.text)")
            let listed = try #require(all.json["data"] as? [[String: Any]])
            #expect(listed.count >= 64)
            let npn = try #require(listed.first { $0["symbol"] as? String == "NPN" })
            #expect(npn["quote_unit"] as? String == "ZAc" && npn["currency"] as? String == "ZAR" && npn["daily_band_bps"] == nil, "\(npn)")
            #expect(npn["open_now"] as? Bool == true && npn["session_close"] as? String == "16:50" && npn["time_zone"] as? String == "Africa/Johannesburg")
            let tsx = try await planes.data(.get, "/v1/market/instruments?exchange=TSX", token: member.token, tenant: f.slug)
            let ry = try #require((tsx.json["data"] as? [[String: Any]])?.first { $0["symbol"] as? String == "RY" })
            #expect((ry["board_lots"] as? [[String: Any]])?.map { $0["value"] as? String } == ["1000", "500", "100"] && ry["open_now"] as? Bool == false)
            #expect((ry["tick_sizes"] as? [[String: Any]])?.map { $0["from_price"] as? String } == ["0", "0.5"])

            let quotes = try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM,RY", token: member.token, tenant: f.slug)
            #expect(quotes.status == .ok, "\(quotes.text)")
            let rows = try #require(quotes.json["data"] as? [[String: Any]])
            try #require(rows.map { $0["symbol"] as? String } == ["DANGCEM", "RY"], "\(quotes.text)")
            let dangcem = rows[0]
            #expect(dangcem["stale"] as? Bool == false && dangcem["market_open"] as? Bool == true && dangcem["band_low"] is String, "\(dangcem)")
            #expect(rows.count == 2 && rows[1]["band_low"] == nil && rows[1]["market_open"] as? Bool == false)
            clock.advance(seconds: 31)
            let later = try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM", token: member.token, tenant: f.slug)
            #expect((later.json["data"] as? [[String: Any]])?.first?["stale"] as? Bool == true, "past its 30 s lifetime until the next tick")

            let bars = try await planes.data(.get, "/v1/market/bars?symbol=DANGCEM&from=2027-02-22&to=2027-03-02", token: f.staffToken, tenant: f.slug)
            #expect(bars.status == .ok, "\(bars.text)")
            let days = (bars.json["data"] as? [[String: Any]])?.compactMap { $0["day"] as? String } ?? []
            #expect(days.first == "2027-02-22" && days.last == "2027-03-02" && days.count == 7, "\(days)")

            for (path, field) in [
                ("/v1/market/quotes?symbols=NOPE", "symbols"), ("/v1/market/quotes", "symbols"), ("/v1/market/quotes?symbols=a;b", "symbols"),
                ("/v1/market/bars?symbol=RY&from=2027-03-03&to=2027-01-01", "to"), ("/v1/market/bars?symbol=RY&from=03/01/2027&to=2027-03-03", "from"),
                ("/v1/market/instruments?exchange=lse", "exchange"),
            ] {
                let bad = try await planes.data(.get, path, token: member.token, tenant: f.slug)
                #expect(bad.status == .unprocessableContent && bad.text.contains("\"\(field)\""), "\(path): \(bad.status) \(bad.text)")
            }
            #expect(try await planes.data(.get, "/v1/market/bars?symbol=NOPE&from=2027-03-01&to=2027-03-03", token: member.token, tenant: f.slug).status == .notFound)
        }
    }
}

extension MarketTests {
    @Test("prices:<symbol> on the stream: the latest quote at once, each new one after a tick (heard from another plane too), none after unsubscribe")
    func pricesOnTheStream() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: Self.noon)
        // The broadcast's fallback read an hour away: what arrives was announced.
        try await harness.withPlanes(data: { $0.marketIngestSeconds = 3_600 }, clock: clock, relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "px")
            let g = try await planes.provisionFixture(prefix: "py")
            let member = f.members[0]
            func prices(_ stream: StreamClient, _ symbol: String) -> [[String: Any]] {
                stream.messages.filter { $0["topic"] as? String == "prices:\(symbol)" }
            }
            // Another plane's ingestion: this plane hears of it by nzila_quotes only. (Bars from
            // yesterday only: a month of them is the ingestion test's business, and slow here.)
            var settings = MarketIngestion.Settings()
            settings.backfillDays = 1
            let elsewhere = MarketIngestion(
                client: harness.owner, feed: SeededQuoteFeed(seed: planes.data.settings.marketSeed), source: "seeded:\(planes.data.settings.marketSeed)",
                clock: .movable(clock), settings: settings, logger: harness.logger)
            _ = try #require(try await Self.ingest(elsewhere))

            let stream = StreamTests.open(planes, f, token: member.token, label: "member")
            let staff = StreamTests.open(planes, g, token: g.staffToken, label: "other tenant's staff")
            let ready = try await stream.wait(type: "stream.ready")
            #expect((ready["topics"] as? [String])?.contains("prices:<key>") == true, "\(ready)")
            _ = try await staff.wait(type: "stream.ready")

            // An unknown symbol is refused.
            try stream.send(["action": "subscribe", "topics": ["prices:NOPE"]])
            let unknown = try await stream.wait(type: "error")
            #expect(unknown["code"] as? String == "unknown-topic" && (unknown["message"] as? String)?.contains("NOPE") == true, "\(unknown)")

            try await stream.subscribe(["prices:DANGCEM", "orders"])
            try await staff.subscribe(["prices:DANGCEM"])
            try await stream.wait(for: "the latest DANGCEM quote") { _ in !prices(stream, "DANGCEM").isEmpty }
            let now = try #require(prices(stream, "DANGCEM").first)
            let view = try #require(
                (try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM", token: member.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            let data = try #require(now["data"] as? [String: Any])
            #expect(now["type"] as? String == "market.quote.v1" && now["seq"] == nil)
            for field in ["symbol", "bid", "ask", "last", "bid_size", "ask_size", "quoted_at", "band_low", "band_high"] {
                #expect("\(data[field] ?? "-")" == "\(view[field] ?? "+")", "\(field): \(data) vs \(view)")
            }
            #expect(now["occurred_at"] as? String == view["quoted_at"] as? String)
            // The same platform data reaches another tenant's staff; nothing of the member's tenant does.
            try await staff.wait(for: "the DANGCEM quote on the other tenant's stream") { _ in !prices(staff, "DANGCEM").isEmpty }

            // A tick on this plane: the new quote follows, once.
            clock.advance(seconds: 15)
            _ = try #require(try await Self.ingest(planes.data.marketIngestion))
            try await stream.wait(for: "the next DANGCEM quote") { _ in prices(stream, "DANGCEM").count == 2 }
            let next = try #require(prices(stream, "DANGCEM").last?["data"] as? [String: Any])
            #expect(next["quoted_at"] as? String != data["quoted_at"] as? String, "\(next)")

            // Another plane's tick, heard through the announcement.
            clock.advance(seconds: 15)
            _ = try #require(try await Self.ingest(elsewhere))
            try await stream.wait(for: "the DANGCEM quote another plane stored") { _ in prices(stream, "DANGCEM").count == 3 }

            // Unsubscribed: the next tick's quotes go to NPN's follower, not DANGCEM's.
            try stream.send(["action": "unsubscribe", "topics": ["prices:DANGCEM"]])
            try await stream.wait(for: "the unsubscribe") { messages in
                messages.contains { $0["type"] as? String == "stream.subscribed" && ($0["topics"] as? [String]) == ["orders"] }
            }
            try await stream.subscribe(["prices:NPN"])
            try await stream.wait(for: "the latest NPN quote") { _ in prices(stream, "NPN").count == 1 }
            clock.advance(seconds: 15)
            _ = try #require(try await Self.ingest(planes.data.marketIngestion))
            try await stream.wait(for: "the next NPN quote") { _ in prices(stream, "NPN").count == 2 }
            try await staff.wait(for: "the fourth DANGCEM quote on the staff stream") { _ in prices(staff, "DANGCEM").count == 4 }
            #expect(prices(stream, "DANGCEM").count == 3, "\(stream.transcript)")
            #expect(stream.events.isEmpty, "no tenant event was written: \(stream.events)")
            await stream.close()
            await staff.close()
        }
    }
}
