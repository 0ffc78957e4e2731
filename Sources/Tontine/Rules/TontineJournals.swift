import Ledger
import NzilaValues

/// The journals a circle posts, as pure functions of locked accounts. Signs follow the ledger: a
/// positive leg raises a balance. The pool (floor 0) holds the members' money between contribution
/// and payout; the guarantee account goes negative by what the credit union has advanced and comes
/// back as the advances are recovered; the arrears account goes negative by the penalties a
/// defaulter owes and comes back as they are paid.
public enum TontineJournals {
    /// The credit union's accounts a circle's journals use, in the circle's currency.
    public struct Accounts: Sendable, Equatable {
        public let pool: AccountID
        public let feeIncome: AccountID
        public let guarantee: AccountID
        public let arrears: AccountID

        public init(pool: AccountID, feeIncome: AccountID, guarantee: AccountID, arrears: AccountID) {
            self.pool = pool
            self.feeIncome = feeIncome
            self.guarantee = guarantee
            self.arrears = arrears
        }

        public static let systemKinds = ["fee_income", "tontine_guarantee", "tontine_arrears"]
    }

    /// What a member's payment covers: the contribution, the late fee, then what they owe from an
    /// earlier default (the advance first, then its penalty). All of it leaves their account in one
    /// journal, or none (their floor refuses the whole).
    public struct Payment: Sendable, Equatable {
        public let contributionMinor: Int64
        public let lateFeeMinor: Int64
        public let advanceRecoveredMinor: Int64
        public let penaltyRecoveredMinor: Int64

        public init(contributionMinor: Int64, lateFeeMinor: Int64, advanceRecoveredMinor: Int64, penaltyRecoveredMinor: Int64) {
            self.contributionMinor = contributionMinor
            self.lateFeeMinor = lateFeeMinor
            self.advanceRecoveredMinor = advanceRecoveredMinor
            self.penaltyRecoveredMinor = penaltyRecoveredMinor
        }

        public var totalMinor: Int64 { contributionMinor + lateFeeMinor + advanceRecoveredMinor + penaltyRecoveredMinor }
    }

    /// Legs without the zero ones (an entry is never 0).
    static func legs(_ raw: [(AccountID, Int64)], _ currency: Currency) -> [Leg] {
        raw.filter { $0.1 != 0 }.map { Leg(account: $0.0, amount: Money(minorUnits: $0.1, currency: currency)) }
    }

    /// The member pays `payment` from `from` (an open account of theirs in the circle's currency, its
    /// floor checked) into the pool, fee income, the guarantee and the arrears account.
    public static func contribution(from: AccountSnapshot, payment: Payment, currency: Currency, accounts: Accounts, memo: String) throws(PostingError)
        -> JournalPlan
    {
        guard from.status == .open else { throw .accountFrozen(from.id, status: from.status) }
        guard from.currency == currency else { throw .currencyMismatch(account: from.id, accountCurrency: from.currency, requested: currency) }
        let total = Money(minorUnits: payment.totalMinor, currency: currency)
        try Posting.requireSpendable(total, from: from)
        return JournalPlan(
            kind: "tontine_contribution", memo: memo,
            legs: legs([
                (from.id, -payment.totalMinor), (accounts.pool, payment.contributionMinor), (accounts.feeIncome, payment.lateFeeMinor),
                (accounts.guarantee, payment.advanceRecoveredMinor), (accounts.arrears, payment.penaltyRecoveredMinor),
            ], currency))
    }

    /// The guarantee advances a missing contribution into the pool, and the penalty the defaulter
    /// now owes is booked as a receivable (arrears) against fee income.
    public static func advance(amountMinor: Int64, penaltyMinor: Int64, currency: Currency, accounts: Accounts, memo: String) -> JournalPlan {
        JournalPlan(
            kind: "tontine_advance", memo: memo,
            legs: legs([
                (accounts.guarantee, -amountMinor), (accounts.pool, amountMinor), (accounts.arrears, -penaltyMinor), (accounts.feeIncome, penaltyMinor),
            ], currency))
    }

    /// The pool pays a cycle's recipient `grossMinor`, less what it recovers of their arrears (to
    /// the guarantee and arrears accounts). `to` must be open and in the currency.
    public static func payout(
        to: AccountSnapshot, grossMinor: Int64, advanceRecoveredMinor: Int64, penaltyRecoveredMinor: Int64, currency: Currency, accounts: Accounts,
        memo: String
    ) throws(PostingError) -> JournalPlan {
        guard to.status == .open else { throw .accountFrozen(to.id, status: to.status) }
        guard to.currency == currency else { throw .currencyMismatch(account: to.id, accountCurrency: to.currency, requested: currency) }
        let paid = grossMinor - advanceRecoveredMinor - penaltyRecoveredMinor
        precondition(paid >= 0, "a payout recovers at most what it pays")
        return JournalPlan(
            kind: "tontine_payout", memo: memo,
            legs: legs([
                (accounts.pool, -grossMinor), (to.id, paid), (accounts.guarantee, advanceRecoveredMinor), (accounts.arrears, penaltyRecoveredMinor),
            ], currency))
    }

    /// How much of what a member owes (`advanceOwed`, `penaltyOwed`) an amount recovers: the advance
    /// first, then the penalty.
    public static func recovery(fromMinor available: Int64, advanceOwed: Int64, penaltyOwed: Int64) -> (advance: Int64, penalty: Int64) {
        let (advance, rest) = Arrears.split(paymentMinor: available, arrearsMinor: advanceOwed)
        let (penalty, _) = Arrears.split(paymentMinor: rest, arrearsMinor: penaltyOwed)
        return (advance, penalty)
    }
}
