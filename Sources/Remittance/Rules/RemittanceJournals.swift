import Ledger
import NzilaValues

/// The journals of a remittance (DOMAIN.md, Ledger): funding moves the payer's money to remittance
/// clearing and the fee to fee income; conversion turns the CAD in clearing into the receiving
/// currency at the mid rate, the spread going to FX income; delivery moves clearing to the partner's
/// settlement account; a refund reverses each posted journal in full, fee included. After delivery
/// clearing is back to zero in both currencies, which `RemittanceJournalsTests` checks.
public enum RemittanceJournals {
    /// The credit union's accounts a remittance posts to (opened on first use per currency).
    public struct Accounts: Sendable, Equatable {
        public let clearingSend: AccountID
        public let feeIncome: AccountID
        public let cashSend: AccountID
        public let cashReceive: AccountID
        public let clearingReceive: AccountID
        public let spreadIncome: AccountID
        public let settlement: AccountID

        public init(
            clearingSend: AccountID, feeIncome: AccountID, cashSend: AccountID, cashReceive: AccountID, clearingReceive: AccountID,
            spreadIncome: AccountID, settlement: AccountID
        ) {
            self.clearingSend = clearingSend
            self.feeIncome = feeIncome
            self.cashSend = cashSend
            self.cashReceive = cashReceive
            self.clearingReceive = clearingReceive
            self.spreadIncome = spreadIncome
            self.settlement = settlement
        }

        /// The kinds and currencies `LedgerStore.systemAccounts` opens for these accounts.
        public static func wanted(send: Currency, receive: Currency) -> [(kind: String, currency: Currency)] {
            [("remittance_clearing", send), ("fee_income", send), ("cash", send), ("cash", receive), ("remittance_clearing", receive),
             ("fx_spread_income", receive), ("partner_settlement", receive)]
        }

        public init(_ found: [String: AccountID], send: Currency, receive: Currency) {
            self.init(
                clearingSend: found["remittance_clearing/\(send.code)"]!, feeIncome: found["fee_income/\(send.code)"]!,
                cashSend: found["cash/\(send.code)"]!, cashReceive: found["cash/\(receive.code)"]!,
                clearingReceive: found["remittance_clearing/\(receive.code)"]!, spreadIncome: found["fx_spread_income/\(receive.code)"]!,
                settlement: found["partner_settlement/\(receive.code)"]!)
        }
    }

    /// The payer's side: `payer` (a member account, checked against its floor, or the cash account
    /// an external funding arrived in) gives send + fee.
    public static func funding(payer: AccountSnapshot, send: Money, fee: Money, accounts: Accounts, memo: String) throws(PostingError) -> JournalPlan {
        precondition(send.minorUnits > 0, "a remittance sends a positive amount")
        precondition(fee.minorUnits >= 0, "a fee is never negative")
        precondition(send.currency == fee.currency, "the fee is charged in the send currency")
        guard payer.status == .open else { throw .accountFrozen(payer.id, status: payer.status) }
        guard payer.currency == send.currency else { throw .currencyMismatch(account: payer.id, accountCurrency: payer.currency, requested: send.currency) }
        let total = Money(minorUnits: send.minorUnits + fee.minorUnits, currency: send.currency)
        try Posting.requireSpendable(total, from: payer)
        var legs = [Leg(account: payer.id, amount: Money(minorUnits: -total.minorUnits, currency: total.currency)), Leg(account: accounts.clearingSend, amount: send)]
        if fee.minorUnits > 0 { legs.append(Leg(account: accounts.feeIncome, amount: fee)) }
        return JournalPlan(kind: "remittance_funding", memo: memo, legs: legs)
    }

    /// CAD leaves clearing for the credit union's cash; the receiving currency leaves cash at the mid
    /// rate (receive + spread) into clearing (receive) and FX income (spread).
    public static func conversion(send: Money, receive: Money, spread: Money, accounts: Accounts, memo: String) -> JournalPlan {
        precondition(receive.currency == spread.currency, "the spread is kept in the receiving currency")
        precondition(spread.minorUnits >= 0, "a spread is never negative")
        var legs = [
            Leg(account: accounts.clearingSend, amount: Money(minorUnits: -send.minorUnits, currency: send.currency)),
            Leg(account: accounts.cashSend, amount: send),
            Leg(account: accounts.cashReceive, amount: Money(minorUnits: -(receive.minorUnits + spread.minorUnits), currency: receive.currency)),
            Leg(account: accounts.clearingReceive, amount: receive),
        ]
        if spread.minorUnits > 0 { legs.append(Leg(account: accounts.spreadIncome, amount: spread)) }
        return JournalPlan(kind: "remittance_conversion", memo: memo, legs: legs)
    }

    /// The partner paid the recipient: what clearing held for them is now owed to (or prepaid at) the partner.
    public static func delivery(receive: Money, accounts: Accounts, memo: String) -> JournalPlan {
        JournalPlan.movementPlan(from: accounts.clearingReceive, to: accounts.settlement, amount: receive, kind: "remittance_delivery", memo: memo)
    }
}

extension JournalPlan {
    /// Two legs: `amount` leaves one account and reaches the other.
    public static func movementPlan(from: AccountID, to: AccountID, amount: Money, kind: String, memo: String) -> JournalPlan {
        JournalPlan(
            kind: kind, memo: memo,
            legs: [Leg(account: from, amount: Money(minorUnits: -amount.minorUnits, currency: amount.currency)), Leg(account: to, amount: amount)])
    }
}
