import Foundation
import NzilaValues

/// An account as the ledger sees it at the moment it is locked for posting.
public struct AccountSnapshot: Sendable, Equatable {
    public let id: AccountID
    public let memberID: MemberID?
    public let currency: Currency
    public let status: AccountStatus
    public let balanceMinor: Int64
    /// Reserved by active holds; not spendable.
    public let heldMinor: Int64
    /// nil: a credit-union account whose balance may take either sign.
    public let floorMinor: Int64?

    public init(
        id: AccountID, memberID: MemberID?, currency: Currency, status: AccountStatus, balanceMinor: Int64, heldMinor: Int64 = 0, floorMinor: Int64?
    ) {
        self.id = id
        self.memberID = memberID
        self.currency = currency
        self.status = status
        self.balanceMinor = balanceMinor
        self.heldMinor = heldMinor
        self.floorMinor = floorMinor
    }

    /// What can leave the account before it reaches its floor (nil: no floor).
    public var spendableMinor: Int64? { floorMinor.map { balanceMinor - heldMinor - $0 } }
}

extension AccountSnapshot {
    /// The account once `minor` of its holds is given back: what a capture's floor check sees, since
    /// the money it reserved becomes available to the posting that takes it.
    public func releasing(_ minor: Int64) -> AccountSnapshot {
        AccountSnapshot(
            id: id, memberID: memberID, currency: currency, status: status, balanceMinor: balanceMinor, heldMinor: heldMinor - minor,
            floorMinor: floorMinor)
    }
}

/// Why a posting is refused; each becomes a problem with a stable type.
public enum PostingError: DomainError, Equatable, Sendable {
    case insufficientFunds(account: AccountID, available: Money, needed: Money)
    case accountFrozen(AccountID, status: AccountStatus)
    case currencyMismatch(account: AccountID, accountCurrency: Currency, requested: Currency)
    case sameAccount
}

/// One line of a journal: a signed amount on one account (positive raises its balance).
public struct Leg: Sendable, Equatable {
    public let account: AccountID
    public let amount: Money

    public init(account: AccountID, amount: Money) {
        self.account = account
        self.amount = amount
    }
}

/// A balanced journal ready to be written: its legs sum to zero in each currency.
public struct JournalPlan: Sendable, Equatable {
    public let kind: String
    public let memo: String
    public let legs: [Leg]
    /// The journal this one corrects, for a reversal.
    public let reverses: UUID?

    /// Checks the balance here (a programmer error if not); the database's deferred zero-sum trigger
    /// checks it again at COMMIT.
    public init(kind: String, memo: String, legs: [Leg], reverses: UUID? = nil) {
        precondition(legs.count >= 2, "a journal has at least two entries")
        for currency in Set(legs.map(\.amount.currency)) {
            precondition(legs.filter { $0.amount.currency == currency }.reduce(0) { $0 + $1.amount.minorUnits } == 0, "unbalanced journal")
        }
        self.kind = kind
        self.memo = memo
        self.legs = legs
        self.reverses = reverses
    }
}

extension JournalPlan {
    /// `amount` leaves one account and reaches another: the two legs of every plain movement.
    static func movement(from: AccountID, to: AccountID, amount: Money, kind: String, memo: String) -> JournalPlan {
        JournalPlan(
            kind: kind, memo: memo,
            legs: [Leg(account: from, amount: Money(minorUnits: -amount.minorUnits, currency: amount.currency)), Leg(account: to, amount: amount)])
    }
}

/// The rules of moving money between accounts, as pure functions of locked snapshots. The database
/// checks the same invariants again (balance floor CHECK, zero-sum constraint trigger).
public enum Posting {
    /// The largest single movement the API accepts: 10 million major units (10^9 cents, 10^7 XOF).
    public static func maxAmountMinor(_ currency: Currency) -> Int64 {
        var value: Int64 = 10_000_000
        for _ in 0..<currency.exponent { value *= 10 }
        return value
    }

    /// A positive integer amount in the currency, below the maximum.
    public static func validateAmount(_ minor: Int64, currency: Currency, field: String = "amount") throws(RuleError) -> Money {
        guard minor > 0 else { throw RuleError.invalid(field: field, "must be a positive integer of minor units") }
        guard minor <= maxAmountMinor(currency) else {
            throw RuleError.invalid(field: field, "must be at most \(maxAmountMinor(currency)) minor units of \(currency.code)")
        }
        return Money(minorUnits: minor, currency: currency)
    }

    /// Moves `amount` from one account to another: debit `from` (never below its floor), credit `to`.
    public static func transfer(from: AccountSnapshot, to: AccountSnapshot, amount: Money, kind: String, memo: String) throws(PostingError)
        -> JournalPlan
    {
        precondition(amount.minorUnits > 0, "posting amount must be positive")
        guard from.id != to.id else { throw .sameAccount }
        for account in [from, to] {
            guard account.status == .open else { throw .accountFrozen(account.id, status: account.status) }
            guard account.currency == amount.currency else {
                throw .currencyMismatch(account: account.id, accountCurrency: account.currency, requested: amount.currency)
            }
        }
        try requireSpendable(amount, from: from)
        return JournalPlan.movement(from: from.id, to: to.id, amount: amount, kind: kind, memo: memo)
    }

    /// Converts between two accounts in different currencies through the credit union: the source
    /// currency goes to its cash account, the target currency leaves its cash account at the mid
    /// rate, the member receives the customer amount and the spread goes to FX spread income. Each
    /// currency's legs sum to zero.
    public static func conversion(
        from: AccountSnapshot, to: AccountSnapshot, cashFrom: AccountSnapshot, cashTo: AccountSnapshot, spreadIncome: AccountSnapshot,
        quote: ConversionQuote, memo: String
    ) throws(PostingError) -> JournalPlan {
        for account in [from, to] {
            guard account.status == .open else { throw .accountFrozen(account.id, status: account.status) }
        }
        guard from.currency == quote.send.currency else {
            throw .currencyMismatch(account: from.id, accountCurrency: from.currency, requested: quote.send.currency)
        }
        guard to.currency == quote.receive.currency else {
            throw .currencyMismatch(account: to.id, accountCurrency: to.currency, requested: quote.receive.currency)
        }
        try requireSpendable(quote.send, from: from)
        let target = quote.receive.currency
        var legs = [
            Leg(account: from.id, amount: Money(minorUnits: -quote.send.minorUnits, currency: quote.send.currency)),
            Leg(account: cashFrom.id, amount: quote.send),
            Leg(account: cashTo.id, amount: Money(minorUnits: -quote.midReceive.minorUnits, currency: target)),
            Leg(account: to.id, amount: quote.receive),
        ]
        if quote.spread.minorUnits > 0 { legs.append(Leg(account: spreadIncome.id, amount: quote.spread)) }
        return JournalPlan(kind: "conversion", memo: memo, legs: legs)
    }
}

extension Posting {
    /// The exact opposite of a journal, naming it: the only way to correct one. Accounts that would
    /// pass their floor (the money has since been spent) refuse it like any posting.
    public static func reversal(of journal: UUID, legs: [Leg], accounts: [AccountID: AccountSnapshot], memo: String) throws(PostingError)
        -> JournalPlan
    {
        for leg in legs where leg.amount.minorUnits > 0 {
            guard let account = accounts[leg.account] else { continue }
            guard account.status == .open else { throw .accountFrozen(account.id, status: account.status) }
            try requireSpendable(leg.amount, from: account)
        }
        let opposite = legs.map { Leg(account: $0.account, amount: Money(minorUnits: -$0.amount.minorUnits, currency: $0.amount.currency)) }
        return JournalPlan(kind: "reversal", memo: memo, legs: opposite, reverses: journal)
    }

    /// The account can give `amount` without its available balance (balance − holds) passing its floor.
    public static func requireSpendable(_ amount: Money, from account: AccountSnapshot) throws(PostingError) {
        guard let spendable = account.spendableMinor else { return }
        guard amount.minorUnits <= spendable else {
            throw .insufficientFunds(account: account.id, available: Money(minorUnits: max(spendable, 0), currency: account.currency), needed: amount)
        }
    }
}

extension PostingError {
    /// The refusal a client sees: API.md's stable types.
    public var ruleError: RuleError {
        switch self {
        case .insufficientFunds(let account, let available, let needed):
            return RuleError(
                .unprocessable, "insufficient-funds", "Insufficient funds",
                detail: "Account \(account.rawValue.lowercased) has \(available.minorUnits) \(available.currency.code) available; the posting needs \(needed.minorUnits).")
        case .accountFrozen(let account, let status):
            return RuleError(.unprocessable, "account-frozen", "Account not open", detail: "Account \(account.rawValue.lowercased) is \(status.rawValue).")
        case .currencyMismatch(let account, let accountCurrency, let requested):
            return RuleError(
                .unprocessable, "currency-mismatch", "Currency mismatch",
                detail: "Account \(account.rawValue.lowercased) holds \(accountCurrency.code), not \(requested.code).")
        case .sameAccount:
            return RuleError.invalid(field: "to_account_id", "must differ from the account the money leaves")
        }
    }
}
