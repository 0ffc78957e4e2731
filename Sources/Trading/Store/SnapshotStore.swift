import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO

/// The daily values of paper accounts (`trading_snapshots`): what the snapshot service writes and
/// the history, analytics and leaderboards read.
public struct SnapshotStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// An account with no snapshot of `day` yet, opened by its cutoff: its cash and holdings now,
    /// its newest snapshot's day, and its fills after `since`.
    public struct Pending: Sendable {
        public let account: TradingAccountID
        public let cash: Int64
        public let openedAt: Date
        public let lastDay: Day?
        public let holdings: [String: Int64]
        public let fills: [PortfolioSnapshot.LaterFill]
    }

    /// One statement.
    public func pending(day: Day, since: Date) async throws -> [Pending] {
        let rows = try await db.query(
            """
            SELECT a.id, a.cash_minor, a.created_at, (SELECT max(s.day)::text FROM trading_snapshots s WHERE s.account_id = a.id),
                   coalesce(h.symbols, '{}'), coalesce(h.qtys, '{}'),
                   coalesce(f.symbols, '{}'), coalesce(f.sides, '{}'), coalesce(f.qtys, '{}'), coalesce(f.cads, '{}'), coalesce(f.fees, '{}'), coalesce(f.ats, '{}')
            FROM trading_accounts a
            LEFT JOIN LATERAL (
                SELECT array_agg(p.symbol) AS symbols, array_agg(p.qty) AS qtys FROM trading_positions p WHERE p.account_id = a.id AND p.qty > 0
            ) h ON true
            LEFT JOIN LATERAL (
                SELECT array_agg(x.symbol) AS symbols, array_agg(x.side) AS sides, array_agg(x.qty) AS qtys, array_agg(x.cad_minor) AS cads,
                       array_agg(x.fee_minor) AS fees, array_agg(x.filled_at) AS ats
                FROM trading_fills x WHERE x.account_id = a.id AND x.filled_at > \(since)
            ) f ON true
            WHERE a.created_at <= \(PortfolioSnapshot.cutoff(day)) AND a.closed_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM trading_snapshots s WHERE s.account_id = a.id AND s.day = \(day.description)::date)
            ORDER BY a.id
            """
        ).all((UUID, Int64, Date, String?, [String], [Int64], [String], [String], [Int64], [Int64], [Int64], [Date]).self)
        return rows.map { r in
            var fills: [PortfolioSnapshot.LaterFill] = []
            for i in r.6.indices {
                guard let side = OrderSide(rawValue: r.7[i]) else { continue }
                fills.append(PortfolioSnapshot.LaterFill(symbol: r.6[i], side: side, qty: r.8[i], cadMinor: r.9[i], feeMinor: r.10[i], at: r.11[i]))
            }
            return Pending(
                account: TradingAccountID(r.0), cash: r.1, openedAt: r.2, lastDay: r.3.flatMap(Day.init), holdings: Dictionary(zip(r.4, r.5), uniquingKeysWith: +),
                fills: fills)
        }
    }

    public struct Row: Sendable, Equatable {
        public let account: TradingAccountID
        public let day: Day
        public let cash: Int64
        public let holdings: Int64
        public let largest: Int64
        public let unpriced: [String]

        public init(account: TradingAccountID, day: Day, cash: Int64, holdings: Int64, largest: Int64 = 0, unpriced: [String]) {
            self.account = account
            self.day = day
            self.cash = cash
            self.holdings = holdings
            self.largest = largest
            self.unpriced = unpriced
        }
    }

    /// Writes the rows in one statement; a row another plane wrote first is left alone. The number written.
    @discardableResult
    public func insert(_ rows: [Row]) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let written = try await db.query(
            """
            WITH written AS (
                INSERT INTO trading_snapshots (account_id, day, cash_minor, holdings_minor, value_minor, largest_holding_minor, unpriced, taken_at)
                SELECT t.a, t.d::date, t.c, t.h, t.c + t.h, t.l, string_to_array(t.u, ','), \(db.now)
                FROM unnest(\(rows.map(\.account.rawValue))::uuid[], \(rows.map(\.day.description))::text[], \(rows.map(\.cash))::int8[],
                            \(rows.map(\.holdings))::int8[], \(rows.map(\.largest))::int8[], \(rows.map { $0.unpriced.joined(separator: ",") })::text[])
                    AS t(a, d, c, h, l, u)
                ON CONFLICT (account_id, day) DO NOTHING RETURNING 1
            ) SELECT count(*)::int8 FROM written
            """
        ).first(Int64.self)
        return Int(written ?? 0)
    }

    /// One day's value of an account.
    public struct Value: Sendable, Equatable {
        public let day: Day
        public let cash: Int64
        public let holdings: Int64
        public let unpriced: [String]
        public var value: Int64 { cash + holdings }
    }

    /// The account's values from `from` to `to`, and the one before `from` (the window's starting
    /// value), in one statement.
    public func values(account: TradingAccountID, from: Day, to: Day) async throws -> (prior: Value?, window: [Value]) {
        let rows = try await db.query(
            """
            (SELECT true, day::text, cash_minor, holdings_minor, unpriced FROM trading_snapshots
             WHERE account_id = \(account) AND day < \(from.description)::date ORDER BY day DESC LIMIT 1)
            UNION ALL
            (SELECT false, day::text, cash_minor, holdings_minor, unpriced FROM trading_snapshots
             WHERE account_id = \(account) AND day >= \(from.description)::date AND day <= \(to.description)::date ORDER BY day)
            """
        ).all((Bool, String, Int64, Int64, [String]).self)
        var prior: Value?
        var window: [Value] = []
        for r in rows {
            guard let day = Day(r.1) else { continue }
            let value = Value(day: day, cash: r.2, holdings: r.3, unpriced: r.4)
            if r.0 { prior = value } else { window.append(value) }
        }
        return (prior, window)
    }

    /// Each day's close of `symbol`: its bar of that day, else the latest before it (nil when none).
    public func closes(_ symbol: String, on days: [Day]) async throws -> [Day: Price] {
        guard !days.isEmpty else { return [:] }
        let rows = try await db.query(
            """
            SELECT d, (SELECT b.close_e4 FROM reference.daily_bars b WHERE b.symbol = \(symbol) AND b.day <= d::date ORDER BY b.day DESC LIMIT 1)
            FROM unnest(\(days.map(\.description))::text[]) AS d
            """
        ).all((String, Int64?).self)
        var closes: [Day: Price] = [:]
        for r in rows { if let day = Day(r.0), let e4 = r.1 { closes[day] = Price(e4: e4) } }
        return closes
    }
}

extension MarketReference {
    /// Each day's last price of every instrument with bars: the close of its bar of that day, else of
    /// the latest bar in the 31 days before it.
    public static func closes(on days: [Day], client: PostgresClient, logger: Logger) async throws -> [Day: [String: Price]] {
        guard !days.isEmpty else { return [:] }
        return try await client.statement(
            """
            SELECT d, b.symbol, b.close_e4 FROM unnest(\(days.map(\.description))::text[]) AS d
            CROSS JOIN LATERAL (
                SELECT DISTINCT ON (symbol) symbol, close_e4 FROM reference.daily_bars
                WHERE day <= d::date AND day > d::date - 31 ORDER BY symbol, day DESC
            ) b
            """, logger: logger
        ) { rows in
            var closes: [Day: [String: Price]] = [:]
            for (d, symbol, e4) in try await rows.all((String, String, Int64).self) {
                guard let day = Day(d) else { continue }
                closes[day, default: [:]][symbol] = Price(e4: e4)
            }
            return closes
        }
    }
}
