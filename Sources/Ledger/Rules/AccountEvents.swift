import Foundation
import NzilaValues

/// The ledger's outbox events. `account.balance_changed.v1` is written by the trigger that moves a
/// balance (Migrations/tenant/0015, `apply_entry`) for every entry on a member's account, so every
/// posting path announces it; this type documents its payload (and generates its schema).
public enum AccountEvents {
    public static let balanceChanged = "account.balance_changed.v1"
}

/// A member's account balance moved by one entry: the account and journal ids, the entry's signed
/// amount and the balance after it, in minor units. No account number.
public struct AccountBalanceChanged: Codable, Sendable, Equatable {
    public let accountId: UUID
    public let journalId: UUID
    public let amountMinor: Int64
    public let currency: String
    public let balanceMinor: Int64

    public init(accountId: UUID, journalId: UUID, amountMinor: Int64, currency: String, balanceMinor: Int64) {
        self.accountId = accountId
        self.journalId = journalId
        self.amountMinor = amountMinor
        self.currency = currency
        self.balanceMinor = balanceMinor
    }
}
