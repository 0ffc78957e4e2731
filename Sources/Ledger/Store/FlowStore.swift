import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension LedgerStore {
    /// Members' money in and out per currency and journal kind over whole UTC days [`from`, `to`]
    /// (`MoneyFlows`). One statement: each journal's net change to members' balances per currency,
    /// then summed by kind. Entries carry their posting (platform) time; the BRIN index on
    /// `entries.created_at` (Migrations/tenant/0031) keeps a day's read to that day's blocks.
    public func memberFlows(from: Day, to: Day) async throws -> [MoneyFlows.Row] {
        let start = Date(timeIntervalSince1970: Double(from.ordinal) * 86_400)
        let end = Date(timeIntervalSince1970: Double(to.ordinal + 1) * 86_400)
        let rows = try await db.query(
            """
            SELECT n.currency::text, j.kind,
                   coalesce(sum(n.net) FILTER (WHERE n.net > 0), 0)::int8,
                   coalesce(-sum(n.net) FILTER (WHERE n.net < 0), 0)::int8,
                   count(*)::int
            FROM (SELECT e.journal_id, e.currency, sum(e.amount_minor) AS net
                  FROM entries e JOIN accounts a ON a.id = e.account_id
                  WHERE e.created_at >= \(start) AND e.created_at < \(end) AND a.member_id IS NOT NULL
                  GROUP BY e.journal_id, e.currency) n
            JOIN journals j ON j.id = n.journal_id
            WHERE n.net <> 0
            GROUP BY n.currency, j.kind
            """
        ).all((String, String, Int64, Int64, Int).self)
        return try rows.map { MoneyFlows.Row(currency: try Currency.stored($0.0), kind: $0.1, inMinor: $0.2, outMinor: $0.3, journals: $0.4) }
    }
}
