import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A hold as the API shows it.
public struct HoldRecord: Codable, Sendable, Equatable {
    public let id: HoldID
    public let accountId: AccountID
    public let amount: Money
    public let captured: Money
    public let status: HoldStatus
    public let journalId: JournalID?
    public let memo: String
    public let expiresAt: Date
    public let createdAt: Date
}

/// Two-phase reservations: a hold raises its account's `held_minor` (so the available balance drops
/// while the ledger balance does not) until it is captured, voided or expires.
public struct HoldStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let columns = "id, account_id, amount_minor, captured_minor, currency::text, status, journal_id, memo, expires_at, created_at"
    typealias Row = (UUID, UUID, Int64, Int64, String, String, UUID?, String, Date, Date)

    /// Reserves `amount` on a locked account whose available balance the caller has checked.
    public func place(on account: AccountSnapshot, amount: Money, expiresAt: Date, memo: String) async throws -> HoldRecord {
        let id = UUID()
        let row = try await db.query(
            """
            WITH reserve AS (UPDATE accounts SET held_minor = held_minor + \(amount.minorUnits) WHERE id = \(account.id.rawValue))
            INSERT INTO holds (id, account_id, amount_minor, currency, memo, expires_at)
            VALUES (\(id), \(account.id.rawValue), \(amount.minorUnits), \(amount.currency.code), \(memo), \(expiresAt))
            RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self)
        guard let row, let record = HoldRecord(row: row) else { throw Problem.internalError }
        return record
    }

    /// A hold; `visibleTo` hides other members' holds. State changes happen under the account's lock.
    public func hold(_ id: UUID, visibleTo member: MemberID?) async throws -> HoldRecord? {
        try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM holds h
            WHERE id = \(id) AND (\(member == nil) OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = h.account_id AND a.member_id = \(member?.rawValue)))
            """
        ).first(Row.self).flatMap(HoldRecord.init(row:))
    }

    /// Ends an active hold: gives its whole amount back to the account and records how it ended.
    public func finish(_ hold: UUID, account: AccountID, amount: Int64, status: HoldStatus, captured: Int64, journal: UUID?) async throws -> HoldRecord {
        let row = try await db.query(
            """
            WITH release AS (UPDATE accounts SET held_minor = held_minor - \(amount) WHERE id = \(account.rawValue))
            UPDATE holds SET status = \(status.rawValue), captured_minor = \(captured), journal_id = \(journal), updated_at = clock_timestamp()
            WHERE id = \(hold) AND status = 'active' RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self)
        guard let row, let record = HoldRecord(row: row) else { throw Problem.internalError }
        return record
    }
}

extension HoldStore {
    /// Names the journal a capture posted.
    public func linkJournal(_ hold: UUID, journal: UUID) async throws -> HoldRecord {
        guard
            let row = try await db.query(
                "UPDATE holds SET journal_id = \(journal) WHERE id = \(hold) RETURNING \(unescaped: Self.columns)"
            ).first(Row.self), let record = HoldRecord(row: row)
        else { throw Problem.internalError }
        return record
    }
}

extension HoldRecord {
    init?(row: HoldStore.Row) {
        guard let currency = Currency(code: row.4), let status = HoldStatus(rawValue: row.5) else { return nil }
        self.init(
            id: HoldID(row.0), accountId: AccountID(row.1), amount: Money(minorUnits: row.2, currency: currency),
            captured: Money(minorUnits: row.3, currency: currency), status: status, journalId: row.6.map { JournalID($0) }, memo: row.7,
            expiresAt: row.8, createdAt: row.9)
    }
}
