import Foundation
import NzilaCore
import NzilaDatabase

/// Holds are placed, captured and voided here, for every domain (expiry is `LedgerStore`'s, when an
/// account is locked, and the hold-expiry worker's for idle accounts). Every change happens under the
/// account's row lock, so it keeps one lock order with postings.
extension HoldStore {
    /// Locks `account` (which also expires its lapsed holds) and reserves `amount` on it: the account
    /// must be a member's (`owner`'s when given, else it looks missing), open, in the amount's
    /// currency, with the money spendable.
    public func place(on account: AccountID, owner: MemberID?, amount: Money, expiresAt: Date, memo: String) async throws -> HoldRecord {
        let locked = try await LedgerStore(db).lock([account])
        guard let source = locked[account], let member = source.memberID, owner == nil || member == owner else {
            throw RuleError.accountNotFound(account)
        }
        guard source.status == .open else { throw PostingError.accountFrozen(account, status: source.status) }
        guard source.currency == amount.currency else {
            throw PostingError.currencyMismatch(account: account, accountCurrency: source.currency, requested: amount.currency)
        }
        try Posting.requireSpendable(amount, from: source)
        return try await place(on: source, amount: amount, expiresAt: expiresAt, memo: memo)
    }

    /// The hold, locked with its account (and `others`, all in one id order): anything but an active
    /// hold is a 409 naming its state; a hold the member cannot see is missing.
    public func active(_ id: UUID, visibleTo member: MemberID?, alsoLocking others: [AccountID] = []) async throws
        -> (hold: HoldRecord, account: AccountSnapshot, locked: [AccountID: AccountSnapshot])
    {
        // Locking the account, not the hold first, keeps one lock order with transfers (which may
        // expire holds of that account).
        guard let found = try await hold(id, visibleTo: member) else { throw RuleError.holdNotFound(id) }
        let accountID = found.accountId
        let locked = try await LedgerStore(db).lock([accountID] + others)
        guard let hold = try await hold(id, visibleTo: member), let account = locked[accountID] else { throw RuleError.holdNotFound(id) }
        guard hold.status == .active else { throw RuleError.invalidTransition("hold", current: hold.status.rawValue) }
        return (hold, account, locked)
    }

    /// Captures an active hold whose account the caller locked: `captured` of it is taken by `plan`
    /// (built against `account.releasing(hold.amount)`), the rest released, and the journal linked.
    public func capture(_ hold: HoldRecord, account: AccountID, captured: Int64, posting plan: JournalPlan) async throws
        -> (hold: HoldRecord, journal: JournalRecord)
    {
        _ = try await finish(hold.id.rawValue, account: account, amount: hold.amount.minorUnits, status: .captured, captured: captured, journal: nil)
        let journal = try await LedgerStore(db).post(plan)
        return (try await linkJournal(hold.id.rawValue, journal: journal.id.rawValue), journal)
    }

    /// Releases an active hold whose account the caller locked, posting nothing.
    public func void(_ hold: HoldRecord, account: AccountID) async throws -> HoldRecord {
        return try await finish(hold.id.rawValue, account: account, amount: hold.amount.minorUnits, status: .voided, captured: 0, journal: nil)
    }
}
