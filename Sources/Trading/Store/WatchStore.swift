import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO

/// A member's watchlist as answered.
public struct WatchlistView: Codable, Sendable {
    public let id: TradingWatchlistID
    public let memberId: MemberID
    public let name: String
    public let symbols: [String]
    public let createdAt: Date
    public let updatedAt: Date
}

/// A price alert as answered.
public struct AlertView: Codable, Sendable {
    public let id: TradingAlertID
    public let memberId: MemberID
    public let symbol: String
    public let condition: AlertCondition
    public let price: String
    public let status: AlertStatus
    /// The last trade price the alert has seen, and whether it is at or beyond the level.
    public let lastSeenPrice: String
    public let beyond: Bool
    public let armedAt: Date
    public let triggeredAt: Date?
    public let triggeredPrice: String?
    public let createdAt: Date
}

/// Watchlists and price alerts in the tenant's schema.
public struct WatchStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    // MARK: Watchlists

    static let watchlistColumns = "w.id, w.member_id, w.name, w.symbols, w.created_at, w.updated_at"
    typealias WatchlistRow = (UUID, UUID, String, [String], Date, Date)

    static func watchlist(_ r: WatchlistRow) -> WatchlistView {
        WatchlistView(id: TradingWatchlistID(r.0), memberId: MemberID(r.1), name: r.2, symbols: r.3, createdAt: r.4, updatedAt: r.5)
    }

    /// The symbols of `symbols` that are not listed instruments.
    public func unlisted(_ symbols: [String]) async throws -> [String] {
        guard !symbols.isEmpty else { return [] }
        let rows: [String] = try await db.query("SELECT symbol FROM reference.instruments WHERE symbol = ANY(\(symbols)::text[])").all(String.self)
        let listed = Set(rows)
        return symbols.filter { !listed.contains($0) }
    }

    public enum WatchlistRefusal: Error, Equatable {
        case nameTaken, tooMany, noMember
    }

    /// A new watchlist, under the member's row lock (so the count per member holds under concurrency).
    public func createWatchlist(member: MemberID, name: String, symbols: [String]) async throws -> Result<WatchlistView, WatchlistRefusal> {
        // The lock first, in its own statement: the count after it then sees every list committed before.
        guard try await lockMember(member) else { return .failure(.noMember) }
        let rows = try await db.query(
            """
            WITH m AS (SELECT id FROM members WHERE id = \(member)),
            counted AS (SELECT count(*) AS n, bool_or(name = \(name)) AS taken FROM trading_watchlists WHERE member_id = \(member)),
            made AS (
                INSERT INTO trading_watchlists AS w (id, member_id, name, symbols, created_at, updated_at)
                SELECT \(UUID()), m.id, \(name), \(symbols)::text[], \(db.now), \(db.now) FROM m, counted
                WHERE counted.n < \(PriceAlerts.maximumWatchlistsPerMember) AND NOT coalesce(counted.taken, false)
                RETURNING \(unescaped: Self.watchlistColumns))
            SELECT (SELECT count(*) FROM m)::int8, (SELECT n FROM counted)::int8, (SELECT coalesce(taken, false) FROM counted), made.*
            FROM (SELECT 1) one LEFT JOIN made ON true
            """
        ).all((Int64, Int64, Bool, UUID?, UUID?, String?, [String]?, Date?, Date?).self)
        guard let r = rows.first else { throw Problem.internalError }
        if let id = r.3, let owner = r.4, let n = r.5, let s = r.6, let c = r.7, let u = r.8 { return .success(Self.watchlist((id, owner, n, s, c, u))) }
        if r.0 == 0 { return .failure(.noMember) }
        return .failure(r.2 ? .nameTaken : .tooMany)
    }

    public func watchlists(member: MemberID) async throws -> [WatchlistView] {
        try await db.query(
            "SELECT \(unescaped: Self.watchlistColumns) FROM trading_watchlists w WHERE w.member_id = \(member) ORDER BY w.created_at, w.id"
        ).all(WatchlistRow.self).map(Self.watchlist)
    }

    public func watchlist(_ id: TradingWatchlistID, member: MemberID?) async throws -> WatchlistView? {
        try await db.query("SELECT \(unescaped: Self.watchlistColumns) FROM trading_watchlists w WHERE w.id = \(id) AND (\(member)::uuid IS NULL OR w.member_id = \(member))")
            .first(WatchlistRow.self).map(Self.watchlist)
    }

    /// The watchlist with its name and symbols as given (nil: unchanged). Throws a unique violation
    /// when the name is another of the member's lists'.
    public func updateWatchlist(_ id: TradingWatchlistID, member: MemberID?, name: String?, symbols: [String]?) async throws -> WatchlistView? {
        try await db.query(
            """
            UPDATE trading_watchlists w SET name = coalesce(\(name), w.name), symbols = coalesce(\(symbols)::text[], w.symbols), updated_at = \(db.now)
            WHERE w.id = \(id) AND (\(member)::uuid IS NULL OR w.member_id = \(member)) RETURNING \(unescaped: Self.watchlistColumns)
            """
        ).first(WatchlistRow.self).map(Self.watchlist)
    }

    /// Adds `symbol` at `position` (0-based; nil or past the end: last), unless it is there already
    /// or the list is full; nil when there is no such list.
    public func addSymbol(_ id: TradingWatchlistID, member: MemberID?, symbol: String, position: Int?) async throws -> WatchlistView? {
        let at = position.map { max(0, $0) } ?? PriceAlerts.maximumSymbolsPerWatchlist
        return try await db.query(
            """
            UPDATE trading_watchlists w SET
                symbols = CASE WHEN \(symbol) = ANY(w.symbols) OR cardinality(w.symbols) >= \(PriceAlerts.maximumSymbolsPerWatchlist) THEN w.symbols
                               ELSE w.symbols[1:\(at)] || ARRAY[\(symbol)]::text[] || w.symbols[\(at + 1):] END,
                updated_at = \(db.now)
            WHERE w.id = \(id) AND (\(member)::uuid IS NULL OR w.member_id = \(member)) RETURNING \(unescaped: Self.watchlistColumns)
            """
        ).first(WatchlistRow.self).map(Self.watchlist)
    }

    public func removeSymbol(_ id: TradingWatchlistID, member: MemberID?, symbol: String) async throws -> WatchlistView? {
        try await db.query(
            """
            UPDATE trading_watchlists w SET symbols = array_remove(w.symbols, \(symbol)), updated_at = \(db.now)
            WHERE w.id = \(id) AND (\(member)::uuid IS NULL OR w.member_id = \(member)) RETURNING \(unescaped: Self.watchlistColumns)
            """
        ).first(WatchlistRow.self).map(Self.watchlist)
    }

    public func deleteWatchlist(_ id: TradingWatchlistID, member: MemberID?) async throws -> Bool {
        try await db.query("DELETE FROM trading_watchlists WHERE id = \(id) AND (\(member)::uuid IS NULL OR member_id = \(member)) RETURNING 1").first(Int.self) != nil
    }

    // MARK: Alerts

    static let alertColumns = "a.id, a.member_id, a.symbol, a.condition, a.price_e4, a.status, a.seen_e4, a.beyond, a.armed_at, a.triggered_at, a.triggered_e4, a.created_at"
    typealias AlertRow = (UUID, UUID, String, String, Int64, String, Int64, Bool, Date, Date?, Int64?, Date)

    static func alert(_ r: AlertRow) throws -> AlertView {
        guard let condition = AlertCondition(rawValue: r.3), let status = AlertStatus(rawValue: r.5) else { throw Problem.internalError }
        return AlertView(
            id: TradingAlertID(r.0), memberId: MemberID(r.1), symbol: r.2, condition: condition, price: Price(e4: r.4).description, status: status,
            lastSeenPrice: Price(e4: r.6).description, beyond: r.7, armedAt: r.8, triggeredAt: r.9, triggeredPrice: r.10.map { Price(e4: $0).description },
            createdAt: r.11)
    }

    /// A new armed alert seeing `quote` as its first price, unless the member already has the most
    /// armed alerts allowed (counted under the member's row lock); nil then.
    public func createAlert(member: MemberID, symbol: String, condition: AlertCondition, level: Price, quote: Quote) async throws -> AlertView? {
        let beyond = PriceAlerts.isBeyond(condition, level: level, price: quote.last)
        guard try await lockMember(member) else { return nil }
        return try await db.query(
            """
            WITH m AS (SELECT id FROM members WHERE id = \(member))
            INSERT INTO trading_alerts AS a (id, member_id, symbol, condition, price_e4, status, beyond, seen_e4, seen_seq, armed_at, created_at)
            SELECT \(UUID()), m.id, \(symbol), \(condition.rawValue), \(level.e4), 'armed', \(beyond), \(quote.last.e4), \(quote.seq), \(db.now), \(db.now) FROM m
            WHERE (SELECT count(*) FROM trading_alerts WHERE member_id = \(member) AND status = 'armed') < \(PriceAlerts.maximumArmedPerMember)
            RETURNING \(unescaped: Self.alertColumns)
            """
        ).first(AlertRow.self).map(Self.alert)
    }

    /// Locks an active member's row (their counted items are added under it); false when there is none.
    public func lockMember(_ member: MemberID) async throws -> Bool {
        try await db.query("SELECT 1 FROM members WHERE id = \(member) AND status = 'active' FOR UPDATE").first(Int.self) != nil
    }

    /// Whether `member` names no active member.
    public func unlistedMember(_ member: MemberID) async throws -> Bool {
        try await db.query("SELECT 1 FROM members WHERE id = \(member) AND status = 'active'").first(Int.self) == nil
    }

    public func alerts(member: MemberID, status: AlertStatus?, page: PageRequest) async throws -> Page<AlertView> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.alertColumns) FROM trading_alerts a
            WHERE a.member_id = \(member) AND (\(status?.rawValue)::text IS NULL OR a.status = \(status?.rawValue))
              AND (\(after == nil) OR (a.created_at, a.id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY a.created_at DESC, a.id DESC LIMIT \(page.limit + 1)
            """
        ).all(AlertRow.self)
        return try page.page(of: try rows.map(Self.alert), item: { $0 }, cursor: {
            PageCursor(position: Int64(($0.createdAt.timeIntervalSince1970 * 1_000_000).rounded()), id: $0.id.rawValue)
        })
    }

    public func alert(_ id: TradingAlertID, member: MemberID?, lock: Bool = false) async throws -> AlertView? {
        try await db.query(
            "SELECT \(unescaped: Self.alertColumns) FROM trading_alerts a WHERE a.id = \(id) AND (\(member)::uuid IS NULL OR a.member_id = \(member)) \(unescaped: lock ? "FOR UPDATE" : "")"
        ).first(AlertRow.self).map(Self.alert)
    }

    public func deleteAlert(_ id: TradingAlertID, member: MemberID?) async throws -> Bool {
        try await db.query("DELETE FROM trading_alerts WHERE id = \(id) AND (\(member)::uuid IS NULL OR member_id = \(member)) RETURNING 1").first(Int.self) != nil
    }

    /// A triggered alert armed again, seeing `quote` as its first price, unless its member already
    /// has the most armed alerts allowed (counted under the member's row lock); nil then.
    public func rearm(_ alert: AlertView, quote: Quote) async throws -> AlertView? {
        guard let level = Price(alert.price), try await lockMember(alert.memberId) else { return nil }
        let beyond = PriceAlerts.isBeyond(alert.condition, level: level, price: quote.last)
        return try await db.query(
            """
            UPDATE trading_alerts a SET status = 'armed', beyond = \(beyond), seen_e4 = \(quote.last.e4), seen_seq = \(quote.seq), armed_at = \(db.now),
                triggered_at = NULL, triggered_e4 = NULL, triggered_seq = NULL
            WHERE a.id = \(alert.id) AND a.status = 'triggered'
              AND (SELECT count(*) FROM trading_alerts WHERE member_id = \(alert.memberId) AND status = 'armed') < \(PriceAlerts.maximumArmedPerMember)
            RETURNING \(unescaped: Self.alertColumns)
            """
        ).first(AlertRow.self).map(Self.alert)
    }

    /// An armed alert the watcher evaluates, locked.
    public struct Armed: Sendable {
        public let id: TradingAlertID
        public let member: MemberID
        public let symbol: String
        public let condition: AlertCondition
        public let level: Price
        public let beyond: Bool
        public let seenSeq: Int64
    }

    public func lockArmed(_ ids: [UUID]) async throws -> [Armed] {
        try await db.query(
            """
            SELECT id, member_id, symbol, condition, price_e4, beyond, seen_seq FROM trading_alerts
            WHERE id = ANY(\(ids)::uuid[]) AND status = 'armed' ORDER BY id FOR UPDATE
            """
        ).all((UUID, UUID, String, String, Int64, Bool, Int64).self).compactMap { r in
            AlertCondition(rawValue: r.3).map {
                Armed(id: TradingAlertID(r.0), member: MemberID(r.1), symbol: r.2, condition: $0, level: Price(e4: r.4), beyond: r.5, seenSeq: r.6)
            }
        }
    }

    /// What a quote did to an armed alert.
    public struct Seen: Sendable {
        public let alert: Armed
        public let quote: Quote
        public let outcome: PriceAlerts.Outcome
    }

    /// Records what the quotes did, in one statement: each alert's side and last price seen; the ones
    /// that fired `triggered`, each with its event.
    public func record(_ seen: [Seen]) async throws {
        guard !seen.isEmpty else { return }
        let fired = seen.filter { $0.outcome == .fires }
        let events = try Outbox.Batch(fired.map {
            TradingAlertEvent(
                alertId: $0.alert.id, memberId: $0.alert.member, symbol: $0.alert.symbol, condition: $0.alert.condition, price: $0.alert.level,
                triggeredPrice: $0.quote.last, quoteSeq: $0.quote.seq, triggeredAt: db.now)
        })
        try await db.query(
            """
            WITH v AS (
                SELECT * FROM unnest(\(seen.map(\.alert.id.rawValue))::uuid[], \(seen.map { $0.outcome == .unchanged ? $0.alert.beyond : $0.outcome == .fires })::bool[],
                                     \(seen.map { $0.outcome == .fires })::bool[], \(seen.map(\.quote.last.e4))::int8[], \(seen.map(\.quote.seq))::int8[])
                    AS v(id, beyond, fired, seen, seq)),
            updated AS (
                UPDATE trading_alerts a SET beyond = v.beyond, seen_e4 = v.seen, seen_seq = v.seq,
                    status = CASE WHEN v.fired THEN 'triggered' ELSE a.status END,
                    triggered_at = CASE WHEN v.fired THEN \(db.now) ELSE a.triggered_at END,
                    triggered_e4 = CASE WHEN v.fired THEN v.seen ELSE a.triggered_e4 END,
                    triggered_seq = CASE WHEN v.fired THEN v.seq ELSE a.triggered_seq END
                FROM v WHERE a.id = v.id AND a.status = 'armed' RETURNING a.id)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM unnest(\(events.types)::text[], \(events.aggregates)::uuid[], \(events.payloads)::text[]) AS e(t, a, p)
            WHERE e.a IN (SELECT id FROM updated)
            """
        )
    }
}

extension TradingAlertEvent: OutboxEvent {
    public var type: String { Self.type }
    public var aggregateID: UUID { alertId.rawValue }
    public var audience: [UUID] { [memberId.rawValue] }
}

/// The platform's alert index (Migrations/reference/0009): the armed alerts of every tenant that
/// the stored quotes cross, in one query, read by the watcher's platform connection.
public enum AlertIndexStore {
    public struct Due: Sendable, Equatable {
        public let tenant: UUID
        public let alert: UUID
        public let symbol: String
    }

    /// Armed alerts whose side of their level the current quote changes (`PriceAlerts.isBeyond`
    /// is the same predicate), with the quotes they meet.
    public static func due(client: PostgresClient, tenant: UUID?, logger: Logger) async throws -> (due: [Due], quotes: [String: Quote]) {
        let rows = try await client.statement(
            """
            SELECT a.tenant_id, a.alert_id, q.symbol, q.seq, q.quoted_at, q.bid_e4, q.bid_size, q.ask_e4, q.ask_size, q.last_e4
            FROM trading_index.alerts a JOIN reference.quotes q ON q.symbol = a.symbol
            WHERE (CASE WHEN a.condition = 'crosses_above' THEN q.last_e4 >= a.price_e4 ELSE q.last_e4 <= a.price_e4 END) <> a.beyond
              AND (\(tenant)::uuid IS NULL OR a.tenant_id = \(tenant))
            ORDER BY a.tenant_id, a.alert_id
            """, logger: logger
        ) { try await $0.all((UUID, UUID, String, Int64, Date, Int64, Int64, Int64, Int64, Int64).self) }
        var quotes: [String: Quote] = [:]
        let due = rows.map { r in
            quotes[r.2] = Quote(symbol: r.2, seq: r.3, at: r.4, bid: Price(e4: r.5), bidSize: r.6, ask: Price(e4: r.7), askSize: r.8, last: Price(e4: r.9))
            return Due(tenant: r.0, alert: r.1, symbol: r.2)
        }
        return (due, quotes)
    }
}
