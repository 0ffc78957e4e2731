import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Recomputes a tenant's ledger from its entries: every journal sums to zero per currency, every
/// balance equals the sum of its account's entries, none is below its floor. Runs as the owner on a
/// direct connection, inside one read-only transaction, under the tenant's setting (RLS is forced).
public struct LedgerVerifier: Sendable {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public let kind: String
        public let subject: String
        public let detail: String
        public var description: String { "\(kind) \(subject): \(detail)" }
    }

    /// A domain's own invariant over its ledger accounts, checked beside the ledger's: `sql` selects
    /// one row (subject, detail) per violation, as text, in the tenant's schema.
    public struct Check: Sendable {
        public let kind: String
        public let sql: String
        /// A table the check reads: a tenant whose schema does not have it yet (a rollout in
        /// progress) skips the check rather than failing the whole run.
        public let requires: String?

        public init(kind: String, sql: String, requires: String? = nil) {
            self.kind = kind
            self.sql = sql
            self.requires = requires
        }
    }

    let checks: [Check]

    /// `checks`: the domains' invariants (a tontine's pool, guarantee and arrears accounts).
    public init(checks: [Check] = []) {
        self.checks = checks
    }

    public func verify(slug: TenantSlug, tenantID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [Finding] {
        try await connection.query(
            "SELECT set_config('search_path', \(slug.schemaName), true), set_config('app.tenant_id', \(tenantID.uuidString), true)",
            logger: logger)
        var findings: [Finding] = []
        for (journal, currency, sum) in try await connection.query(
            "SELECT journal_id, currency::text, sum(amount_minor)::int8 FROM entries GROUP BY journal_id, currency HAVING sum(amount_minor) <> 0",
            logger: logger
        ).all((UUID, String, Int64).self) {
            findings.append(Finding(kind: "unbalanced-journal", subject: journal.lowercased, detail: "entries sum to \(sum) \(currency)"))
        }
        for (account, balance, computed, floor) in try await connection.query(
            """
            SELECT a.id, a.balance_minor, coalesce(e.total, 0)::int8, a.floor_minor FROM accounts a
            LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM entries GROUP BY account_id) e ON e.account_id = a.id
            WHERE a.balance_minor <> coalesce(e.total, 0) OR (a.floor_minor IS NOT NULL AND a.balance_minor < a.floor_minor)
            """, logger: logger
        ).all((UUID, Int64, Int64, Int64?).self) {
            if balance != computed {
                findings.append(Finding(kind: "balance-drift", subject: account.lowercased, detail: "balance \(balance), entries sum to \(computed)"))
            }
            if let floor, balance < floor {
                findings.append(Finding(kind: "below-floor", subject: account.lowercased, detail: "balance \(balance) below floor \(floor)"))
            }
        }
        for check in checks {
            if let table = check.requires {
                let present = try await connection.query("SELECT to_regclass(\(table)) IS NOT NULL", logger: logger).first(Bool.self)
                guard present == true else { continue }
            }
            for (subject, detail) in try await connection.query(PostgresQuery(unsafeSQL: check.sql), logger: logger).all((String, String).self) {
                findings.append(Finding(kind: check.kind, subject: subject, detail: detail))
            }
        }
        return findings
    }
}
