import Ledger
import Foundation
import NzilaCore
import NzilaDatabase

/// Posts a remittance's journals (`RemittanceJournals`) in the caller's transaction. Every account a
/// journal touches is locked first, in id order (`LedgerStore.lock`), so two orders posting to the
/// same clearing and income accounts queue instead of deadlocking.
struct RemittanceLedger {
    let db: TenantDB
    var ledger: LedgerStore { LedgerStore(db) }

    func accounts(receive: Currency) async throws -> RemittanceJournals.Accounts {
        let found = try await ledger.systemAccounts(RemittanceJournals.Accounts.wanted(send: .cad, receive: receive))
        return RemittanceJournals.Accounts(found, send: .cad, receive: receive)
    }

    /// The payer gives send + fee: a member account (its floor checked after `releasingHold` is given
    /// back to it), or the credit union's cash account when the money arrived from outside.
    func fund(_ order: RemittanceOrder, payer: AccountID?, releasingHold hold: HoldRecord? = nil) async throws -> JournalRecord {
        try await fund(orderID: order.id.description, send: order.send, fee: order.fee, receive: order.receive.currency, payer: payer, releasingHold: hold)
    }

    /// `owner`: the member the payer account must belong to (else 404, as if it did not exist).
    func fund(
        orderID: String, send: Money, fee: Money, receive: Currency, payer: AccountID?, owner: UUID? = nil, releasingHold hold: HoldRecord? = nil
    ) async throws -> JournalRecord {
        let accounts = try await accounts(receive: receive)
        let payerID = payer ?? accounts.cashSend
        let locked = try await ledger.lock([payerID, accounts.clearingSend, accounts.feeIncome])
        guard var source = locked[payerID] else { throw payer.map(RuleError.accountNotFound) ?? Problem.internalError }
        if let owner, source.memberID?.rawValue != owner { throw RuleError.accountNotFound(payerID) }
        let capturing = hold.flatMap { $0.status == .active ? $0 : nil }
        if let capturing { source = source.releasing(capturing.amount.minorUnits) }
        // The plan (and its floor check) first: a refusal leaves the hold as it was.
        let plan = try RemittanceJournals.funding(payer: source, send: send, fee: fee, accounts: accounts, memo: "Remittance \(orderID)")
        guard let capturing else { return try await ledger.post(plan) }
        return try await HoldStore(db).capture(capturing, account: source.id, captured: capturing.amount.minorUnits, posting: plan).journal
    }

    func convert(_ order: RemittanceOrder) async throws -> JournalRecord {
        let accounts = try await accounts(receive: order.receive.currency)
        _ = try await ledger.lock([accounts.clearingSend, accounts.cashSend, accounts.cashReceive, accounts.clearingReceive, accounts.spreadIncome])
        return try await ledger.post(
            RemittanceJournals.conversion(send: order.send, receive: order.receive, spread: order.spread, accounts: accounts, memo: "Remittance \(order.id)"))
    }

    func deliver(_ order: RemittanceOrder) async throws -> JournalRecord {
        let accounts = try await accounts(receive: order.receive.currency)
        _ = try await ledger.lock([accounts.clearingReceive, accounts.settlement])
        return try await ledger.post(RemittanceJournals.delivery(receive: order.receive, accounts: accounts, memo: "Remittance \(order.id) delivered"))
    }

    /// Gives the payer everything back, fee included: the conversion and the funding reversed (newest
    /// first), or a hold that was never captured voided. Returns the reversing journals.
    func refund(_ order: RemittanceOrder, reason: String) async throws -> [String] {
        var reversals: [String] = []
        var toReverse: [(journal: UUID, legs: [Leg])] = []
        for journal in [order.conversionJournalId, order.fundingJournalId].compactMap({ $0?.rawValue }) {
            guard let (legs, reversed, _) = try await ledger.legs(of: journal), !reversed else { continue }
            toReverse.append((journal, legs))
        }
        // Every account of both journals locked at once, in id order, like any other posting.
        let locked = toReverse.isEmpty ? [:] : try await ledger.lock(toReverse.flatMap { $0.legs.map(\.account) })
        for (journal, legs) in toReverse {
            let plan = try Posting.reversal(of: journal, legs: legs, accounts: locked, memo: "Refund of remittance \(order.id): \(reason.prefix(80))")
            reversals.append(try await ledger.post(plan).id.description)
        }
        if order.fundingJournalId == nil, let holdID = order.holdId?.rawValue,
            let hold = try await HoldStore(db).hold(holdID, visibleTo: nil)
        {
            let account = hold.accountId
            _ = try await ledger.lock([account])
            if let current = try await HoldStore(db).hold(holdID, visibleTo: nil), current.status == .active {
                _ = try await HoldStore(db).void(current, account: account)
            }
        }
        return reversals
    }
}
