import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO
import ServiceLifecycle

/// Takes the market from the feed into `reference` on the platform clock: every tick (15 s by
/// default, and at once when a test clock moves) each instrument's quote, stored as the latest with
/// a 30 s lifetime; daily bars of every session that has closed since the newest stored one (at
/// most `backfillDays` back); and the monthly partitions of the bars table, three months ahead.
/// Several planes may run it: a transaction-scoped advisory lock lets one of them ingest per tick
/// (the others find it taken and skip), so quotes are written once.
public final class MarketIngestion: Service, Sendable {
    public struct Settings: Sendable {
        public var interval: Duration = .seconds(15)
        /// How far back bars are filled when none are stored (days).
        public var backfillDays = 30
        public init() {}
    }

    let client: PostgresClient
    let feed: any QuoteFeed
    let source: String
    let clock: NzilaCore.Clock
    let ticks: SweepTicks
    let settings: Settings
    let logger: Logger
    /// Called after a tick's quotes are committed (this plane's price broadcast).
    let stored: @Sendable () -> Void

    public init(
        client: PostgresClient, feed: any QuoteFeed, source: String, clock: NzilaCore.Clock, settings: Settings, logger: Logger,
        stored: @escaping @Sendable () -> Void = {}
    ) {
        self.stored = stored
        self.client = client
        self.feed = feed
        self.source = source
        self.clock = clock
        self.settings = settings
        self.ticks = SweepTicks(interval: settings.interval, clockMoves: clock.movable?.moves())
        self.logger = logger
    }

    public func run() async throws {
        await ticks.run { [self] in
            do {
                try await ingest()
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("market ingestion failed; the next tick retries", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// What one tick writes.
    public struct Tick: Sendable, Equatable {
        public let quotes: Int
        public let bars: Int
        public let partitions: Int
    }

    /// One tick: nil when another plane holds the lock.
    @discardableResult
    public func ingest() async throws -> Tick? {
        let now = clock.now()
        let instruments = try await MarketReference.instruments(client: client, logger: logger)
        guard !instruments.isEmpty else { return Tick(quotes: 0, bars: 0, partitions: 0) }
        let quotes = try await feed.quotes(instruments, at: now)
        let bySymbol = Dictionary(uniqueKeysWithValues: instruments.map { ($0.symbol, $0) })
        var withReference: [(Quote, reference: Price)] = []
        for quote in quotes {
            guard let instrument = bySymbol[quote.symbol] else { continue }
            // A source that cannot name the session's reference: its quote's last trade stands in.
            withReference.append((quote, try await feed.reference(instrument, at: now) ?? quote.last))
        }
        // Every call to the feed happens before the transaction: a slow or timing-out source never holds a
        // connection of the shared pool, the tick's lock, or a new partition's lock on the bars table.
        guard let today = Day(utc: now) else { return Tick(quotes: 0, bars: 0, partitions: 0) }
        let earliest = Day(ordinal: today.ordinal - settings.backfillDays) ?? today
        // Whether this plane has the tick (another plane holding it: skip, and ask the feed for no bars), and the
        // newest stored bars, in one short transaction; the lock is taken again for the writes below.
        let claimed = try await client.transaction(logger: logger) { connection -> [String: Day]? in
            let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(hashtext('nzila-market-ingestion'))", logger: logger)
                .decode(Bool.self).reduce(false) { $0 || $1 }
            return locked ? try await MarketReference.lastBarDays(on: connection, logger: logger) : nil
        }
        guard let last = claimed else { return nil }
        var bars: [DailyBar] = []
        for instrument in instruments {
            let from = last[instrument.symbol].flatMap { Day(ordinal: $0.ordinal + 1) } ?? earliest
            guard from <= today else { continue }
            bars += try await feed.dailyBars(instrument, days: from...today, at: now)
        }
        let tick = try await client.transaction(logger: logger) { connection -> Tick? in
            let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(hashtext('nzila-market-ingestion'))", logger: logger)
                .decode(Bool.self).reduce(false) { $0 || $1 }
            guard locked else { return nil }
            let partitions = try await MarketReference.ensurePartitions(from: earliest, months: 3 + settings.backfillDays / 28 + 1, on: connection, logger: logger)
            try await MarketReference.store(quotes: withReference, now: now, source: source, on: connection, logger: logger)
            // A bar another plane stored since `last` was read is kept as it is (ON CONFLICT DO NOTHING).
            try await MarketReference.store(bars: bars, source: source, on: connection, logger: logger)
            // The other planes' price broadcasts hear it at the commit (NOTIFY is transactional).
            if !withReference.isEmpty { try await connection.query("SELECT pg_notify(\(PriceBroadcast.channel), '')", logger: logger) }
            return Tick(quotes: withReference.count, bars: bars.count, partitions: partitions)
        }
        if let tick, tick.quotes > 0 { stored() }
        return tick
    }
}
