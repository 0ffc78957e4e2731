import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Posts journals. Entries are signed so that a positive entry raises the account's balance; a
/// member deposit is +amount on the member account and −amount on the credit union's cash account,
/// and the database refuses any journal whose entries do not sum to zero per currency.
public struct LedgerStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    public enum Failure: Error, Equatable { case noCashAccount(Currency), notAMemberAccount }

    /// Cash paid in at the counter: cash account → member account, one balanced journal.
    public func postCashDeposit(to account: AccountID, amount: Money, memo: String) async throws {
        precondition(amount.minorUnits > 0, "deposit amount must be positive")
        let journal = UUID()
        guard
            let cash = try await db.query(
                "SELECT id FROM accounts WHERE member_id IS NULL AND kind = 'cash' AND currency = \(amount.currency.code)"
            ).first(UUID.self)
        else { throw Failure.noCashAccount(amount.currency) }
        try await db.query("INSERT INTO journals (id, kind, memo) VALUES (\(journal), 'cash_deposit', \(memo))")
        try await db.query(
            """
            INSERT INTO entries (journal_id, account_id, amount_minor, currency)
            VALUES (\(journal), \(cash), \(-amount.minorUnits), \(amount.currency.code)),
                   (\(journal), \(account.rawValue), \(amount.minorUnits), \(amount.currency.code))
            """)
    }
}
