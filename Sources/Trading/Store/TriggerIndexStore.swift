import Foundation
import Logging
import NzilaDatabase
import PostgresNIO

/// The platform's trigger index of working orders (Migrations/reference/0007): which tenants' books
/// the stored quotes concern now, in one query over every tenant, read by the matcher's platform
/// connection. Tenants write it only through the row trigger on their orders.
public enum TriggerIndexStore {
    /// What a tenant has due: day orders past their close, and the symbols whose book the current
    /// quote can make trade.
    public struct Due: Sendable, Equatable {
        public var expiring = false
        public var symbols: [String] = []
    }

    /// The books due at `now`, by tenant (only `tenant`'s when given): an entry expiring, or one in a
    /// symbol of `open` whose fresh quote it has not met and whose trigger the quote reaches
    /// (`Matching.concerns` is the same predicate).
    public static func due(client: PostgresClient, now: Date, open: [String], tenant: UUID?, logger: Logger) async throws -> [UUID: Due] {
        let rows = try await client.statement(
            """
            SELECT tenant_id, symbol, bool_or(expiring), bool_or(concerned) FROM (
                SELECT w.tenant_id, w.symbol, coalesce(w.expires_at <= \(now), false) AS expiring,
                       q.symbol IS NOT NULL AND (w.last_quote_seq IS NULL OR w.last_quote_seq < q.seq) AND (
                           w.trigger = 'any'
                           OR (w.trigger = 'buy_limit' AND q.ask_e4 <= w.price_e4) OR (w.trigger = 'sell_limit' AND q.bid_e4 >= w.price_e4)
                           OR (w.trigger = 'buy_stop' AND q.last_e4 >= w.price_e4) OR (w.trigger = 'sell_stop' AND q.last_e4 <= w.price_e4)) AS concerned
                FROM trading_index.working_orders w
                LEFT JOIN reference.quotes q ON q.symbol = w.symbol AND q.expires_at > \(now) AND w.symbol = ANY(\(open)::text[])
                WHERE (\(tenant)::uuid IS NULL OR w.tenant_id = \(tenant))) s
            WHERE expiring OR concerned
            GROUP BY tenant_id, symbol ORDER BY tenant_id, symbol
            """, logger: logger
        ) { try await $0.all((UUID, String, Bool, Bool).self) }
        var due: [UUID: Due] = [:]
        for (tenant, symbol, expiring, concerned) in rows {
            if expiring { due[tenant, default: Due()].expiring = true }
            if concerned { due[tenant, default: Due()].symbols.append(symbol) }
        }
        return due
    }
}
