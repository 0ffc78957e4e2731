import Foundation
import Ledger
import NzilaCore
import NzilaDatabase

/// The journals of a loan, each with the rows that say what it was, in the caller's transaction:
/// the disbursement, a repayment (by hand, autopay or payoff) and the write-off.
///
/// Ledger signs: a positive leg raises a balance. `loans_receivable` goes negative by the principal
/// lent; interest is income when paid (`loan_interest_income`); penalties, fees and the origination
/// fee are `fee_income`; a write-off moves what is left of the principal to `loan_losses`. Every
/// account a journal touches is locked first, in id order (the platform's one lock order).
enum LoanMoney {
    static let systemKinds = ["loans_receivable", "fee_income", "loan_interest_income", "loan_losses"]

    struct Accounts {
        let receivable: AccountID
        let feeIncome: AccountID
        let interestIncome: AccountID
        let losses: AccountID
    }

    static func accounts(_ db: TenantDB, _ currency: Currency) async throws -> Accounts {
        let found = try await LedgerStore(db).systemAccounts(systemKinds.map { ($0, currency) })
        func id(_ kind: String) -> AccountID { found["\(kind)/\(currency.code)"]! }
        return Accounts(receivable: id("loans_receivable"), feeIncome: id("fee_income"), interestIncome: id("loan_interest_income"), losses: id("loan_losses"))
    }

    static func legs(_ raw: [(AccountID, Int64)], _ currency: Currency) -> [Leg] {
        raw.filter { $0.1 != 0 }.map { Leg(account: $0.0, amount: Money(minorUnits: $0.1, currency: currency)) }
    }

    /// The member's account the money moves through: theirs, open, in the loan's currency.
    static func checkMemberAccount(_ snapshot: AccountSnapshot?, loan: Loan, field: String) throws {
        guard let snapshot, snapshot.memberID == loan.member else {
            throw Problem.validation(field: field, "must be an account of the borrower's")
        }
        guard snapshot.currency == loan.currency else { throw Problem.validation(field: field, "must be in the loan's currency, \(loan.currency.code)") }
        guard snapshot.status == .open else { throw PostingError.accountFrozen(snapshot.id, status: snapshot.status) }
    }

    /// approved → disbursed: the receivable lends the principal, the member receives it less the
    /// origination fee, the fee is income; the schedule is fixed from `today`.
    static func disburse(_ db: TenantDB, loan: Loan, by actor: LoanActor, today: Day) async throws -> Loan {
        if case .failure(let refusal) = loan.state.transition(to: .disbursed) { throw refusal }
        guard let terms = loan.terms(disbursedOn: today) else { throw RuleError.invalid(field: "term", "runs past the calendar") }
        let quote = try LoanQuote.of(terms, feeMinor: loan.feeMinor)
        let schedule = quote.schedule
        // The dates moved with the day; the cash flows did not: the cap is checked again all the same.
        try RateCap.check(apr: quote.apr, capBps: loan.capBps)
        let accounts = try await accounts(db, loan.currency)
        let ledger = LedgerStore(db)
        let locked = try await ledger.lock([loan.account, accounts.receivable, accounts.feeIncome])
        try checkMemberAccount(locked[loan.account], loan: loan, field: "account_id")
        let plan = JournalPlan(
            kind: "loan_disbursement", memo: "loan \(loan.id) disbursed",
            legs: legs([(accounts.receivable, -loan.principal.minorUnits), (loan.account, loan.principal.minorUnits - loan.feeMinor),
                        (accounts.feeIncome, loan.feeMinor)], loan.currency))
        let journal = try await ledger.post(plan)
        let store = LoanStore(db)
        try await store.insertSchedule(loan.id, schedule)
        var change = LoanStore.Change()
        change.disbursedOn = today
        change.disbursementJournal = journal.id
        change.principalOutstandingMinor = loan.principal.minorUnits
        change.nextActionAt = LoanStanding.firstLook(schedule, today: today)?.startUTC
        guard let disbursed = try await store.transition(loan, from: .approved, to: .disbursed, reason: "disbursed", by: actor, change: change) else {
            throw LoanState.Refusal.illegal(from: loan.state, to: .disbursed)
        }
        return disbursed
    }

    /// A repayment of `amountMinor` from `account`, allocated by `LoanStanding` (the payoff's own
    /// function); the whole payoff closes the loan. The loan's row is locked by the caller, who read
    /// its `book` with it.
    ///
    /// Order, for the hot rows: the credit union's receivable and income accounts are touched by every
    /// repayment, and held from their lock to COMMIT. So the repayment's own rows (under a deferred
    /// foreign key to the journal) and the loan's move are written first; then the accounts are
    /// locked (in id order, the platform's one order), the member's floor checked and the journal
    /// posted. A refusal after the rows were written rolls the whole transaction back (a route) or
    /// the caller's savepoint (the scheduler).
    static func repay(
        _ db: TenantDB, loan: Loan, book: [BookedInstalment], amountMinor: Int64, account: AccountID, kind: RepaymentKind, by actor: LoanActor, today: Day
    ) async throws -> LoanRepaymentView {
        let (view, post) = try await prepareRepayment(db, loan: loan, book: book, amountMinor: amountMinor, account: account, kind: kind, by: actor, today: today)
        try await post()
        return view
    }

    /// A repayment's rows and answer, and its last step — lock the accounts, check the member's floor,
    /// post the journal — for the caller to run last (after recording the idempotency key, a route):
    /// the credit union's accounts are then held only for that step and COMMIT.
    static func prepareRepayment(
        _ db: TenantDB, loan: Loan, book: [BookedInstalment], amountMinor: Int64, account: AccountID, kind: RepaymentKind, by actor: LoanActor, today: Day
    ) async throws -> (LoanRepaymentView, @Sendable () async throws -> Void) {
        guard loan.state == .disbursed, let disbursedOn = loan.disbursedOn else { throw LoanState.NotRepayable(loan.state) }
        _ = try Posting.validateAmount(amountMinor, currency: loan.currency)
        let store = LoanStore(db)
        let standing = LoanStanding.of(book, disbursedOn: disbursedOn, today: today, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays)
        let parts = try standing.allocate(amountMinor)
        let closes = amountMinor == standing.quote.totalMinor
        let accounts = try await accounts(db, loan.currency)
        let principal = parts.reduce(0) { $0 + $1.principalMinor }
        let interest = parts.reduce(0) { $0 + $1.interestMinor }
        let charges = parts.reduce(0) { $0 + $1.penaltyMinor + $1.feeMinor }
        var after = book
        for part in parts {
            guard let index = after.firstIndex(where: { $0.number == part.number }) else { throw Problem.internalError }
            after[index].penaltyPaidMinor += part.penaltyMinor
            after[index].feePaidMinor += part.feeMinor
            after[index].interestPaidMinor += part.interestMinor
            after[index].principalPaidMinor += part.principalMinor
        }
        let standingAfter = LoanStanding.of(after, disbursedOn: disbursedOn, today: today, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays)
        let outstanding = loan.principalOutstandingMinor - principal
        let id = LoanRepaymentID(UUID())
        let journal = JournalID(UUID())
        let next = LoanStanding.nextActionDay(after, today: today, graceDays: loan.penaltyGraceDays, autopay: loan.autopay)
        try await store.record(
            loan,
            LoanStore.Received(
                id: id, kind: closes ? .payoff : kind, account: account, amountMinor: amountMinor, parts: parts, journal: journal,
                principalOutstandingMinor: outstanding, bucket: standingAfter.bucket, daysPastDue: standingAfter.daysPastDue, nextActionAt: next?.startUTC,
                closes: closes),
            today: today)
        if closes {
            var change = LoanStore.Change()
            change.clearsSchedule = true
            guard try await store.transition(loan, from: .disbursed, to: .closed, reason: "paid off", by: actor, change: change) != nil else {
                throw LoanState.Refusal.illegal(from: loan.state, to: .closed)
            }
        }
        let plan = JournalPlan(
            kind: "loan_repayment", memo: "loan \(loan.id) \(kind.rawValue)",
            legs: legs([(account, -amountMinor), (accounts.receivable, principal), (accounts.interestIncome, interest), (accounts.feeIncome, charges)],
                       loan.currency))
        let post: @Sendable () async throws -> Void = {
            let ledger = LedgerStore(db)
            let locked = try await ledger.lock([account, accounts.receivable, accounts.feeIncome, accounts.interestIncome])
            try checkMemberAccount(locked[account], loan: loan, field: "account_id")
            try Posting.requireSpendable(Money(minorUnits: amountMinor, currency: loan.currency), from: locked[account]!)
            _ = try await ledger.post(plan, id: journal.rawValue)
        }
        let view = LoanRepaymentView(
            id: id, loanId: loan.id, kind: closes ? .payoff : kind, amount: Money(minorUnits: amountMinor, currency: loan.currency),
            penaltyMinor: parts.reduce(0) { $0 + $1.penaltyMinor }, feeMinor: parts.reduce(0) { $0 + $1.feeMinor }, interestMinor: interest,
            principalMinor: principal, parts: parts, principalOutstanding: Money(minorUnits: outstanding, currency: loan.currency),
            journalId: journal, loanState: closes ? .closed : .disbursed)
        return (view, post)
    }

    /// disbursed → written_off (tenant admin): what is left of the principal moves from the
    /// receivable to losses; nothing more is asked of the member by the scheduler.
    static func writeOff(_ db: TenantDB, loan: Loan, reason: String, by actor: LoanActor) async throws -> Loan {
        if case .failure(let refusal) = loan.state.transition(to: .writtenOff) { throw refusal }
        let outstanding = loan.principalOutstandingMinor
        guard outstanding > 0 else {
            throw RuleError(.conflict, "nothing-to-write-off", "Nothing to write off", detail: "The loan's principal is repaid; what is left is interest or penalties the member still owes.")
        }
        let accounts = try await accounts(db, loan.currency)
        let ledger = LedgerStore(db)
        _ = try await ledger.lock([accounts.receivable, accounts.losses])
        let journal = try await ledger.post(
            JournalPlan(
                kind: "loan_write_off", memo: "loan \(loan.id) written off",
                legs: legs([(accounts.receivable, outstanding), (accounts.losses, -outstanding)], loan.currency)))
        var change = LoanStore.Change()
        change.writeOffJournal = journal.id
        change.writtenOffMinor = outstanding
        change.principalOutstandingMinor = 0
        change.clearsSchedule = true
        guard let written = try await LoanStore(db).transition(loan, from: .disbursed, to: .writtenOff, reason: reason, by: actor, change: change) else {
            throw LoanState.Refusal.illegal(from: loan.state, to: .writtenOff)
        }
        return written
    }
}

/// A repayment as the API answers it: the allocation, per instalment and in total.
public struct LoanRepaymentView: Codable, Sendable {
    public let id: LoanRepaymentID
    public let loanId: LoanID
    public let kind: RepaymentKind
    public let amount: Money
    public let penaltyMinor: Int64
    public let feeMinor: Int64
    public let interestMinor: Int64
    public let principalMinor: Int64
    public let parts: [RepaymentPart]
    public let principalOutstanding: Money
    public let journalId: JournalID
    public let loanState: LoanState
}
