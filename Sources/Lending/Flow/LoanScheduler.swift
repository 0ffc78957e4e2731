import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Ages every disbursed loan on the platform clock: the day before an instalment falls due it
/// reminds the member (`loan.instalment_due.v1`, once per instalment); on a due day it takes what
/// is due from the loan's account when the member chose autopay (all of it or nothing, tried again
/// each day while it is overdue); past the grace days it charges the late penalty (once per instalment) and moves
/// the loan through the delinquency buckets, each change an event. State lives in the database: a
/// loan says when it is next looked at (`next_action_at`), so a restart resumes; each loan is
/// stepped in its own transaction under its row lock (skip-locked: two planes never step one loan
/// at once). It sweeps on `SweepTicks`, so a test clock or `nzila dev --test-clock` moves it.
public final class LoanScheduler: Service, Sendable {
    let ticks: SweepTicks
    let sweeper: DueSweep<LoanID>

    public init(
        tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        clockMoves: AsyncStream<Void>?, sweepInterval: Duration, logger: Logger
    ) {
        self.ticks = SweepTicks(interval: sweepInterval, clockMoves: clockMoves)
        self.sweeper = DueSweep(
            name: "loan", tenants: tenants, session: session, logger: logger,
            due: { db in try await LoanStore(db).due(now: db.now, limit: 256) },
            step: { loan, db in try await Self.step(loan, db: db, logger: logger) },
            postpone: { loan, db, until in try await LoanStore(db).postpone(loan, until: until) })
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
    }

    /// One pass over every tenant with lending on.
    public func sweep() async { await sweeper.sweep() }

    /// Steps every loan of the tenant due for a look, a few at a time, until none is.
    public func drain(_ tenant: TenantRef) async { await sweeper.drain(tenant) }

    /// Today's work for one loan, in one transaction: autopay, penalties, the bucket, the next look.
    static func step(_ id: LoanID, db: TenantDB, logger: Logger) async throws {
        let store = LoanStore(db)
        guard let found = try await store.findWithBook(id, lock: true), found.0.state == .disbursed, let disbursedOn = found.0.disbursedOn else { return }
        var (loan, book) = found
        guard let today = Day(utc: db.now) else { return }
        if loan.autopay {
            let standing = LoanStanding.of(book, disbursedOn: disbursedOn, today: today, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays)
            let owed = standing.due.reduce(0) { $0 + $1.unpaid.totalMinor }
            if owed > 0 {
                // In a savepoint: a refusal (the account short or frozen) undoes the autopay's rows and
                // leaves the rest of the day's work (penalties, the bucket) to run.
                try await db.query("SAVEPOINT loan_autopay")
                do {
                    _ = try await LoanMoney.repay(db, loan: loan, book: book, amountMinor: owed, account: loan.account, kind: .autopay, by: .system, today: today)
                    try await db.query("RELEASE SAVEPOINT loan_autopay")
                    guard let reread = try await store.findWithBook(id, lock: true) else { return }
                    (loan, book) = reread
                    if loan.state != .disbursed { return }
                } catch let refusal as any DomainError {
                    try await db.query("ROLLBACK TO SAVEPOINT loan_autopay")
                    logger.info("loan autopay refused", metadata: ["loan": "\(id)", "reason": "\(refusal.ruleError.code)"])
                }
            }
        }
        let penalties: [(number: Int, penalty: Int64)]
        (book, penalties) = LoanStanding.charging(book, today: today, graceDays: loan.penaltyGraceDays, fixedMinor: loan.penaltyFixedMinor, bps: loan.penaltyBps)
        let standing = LoanStanding.of(book, disbursedOn: disbursedOn, today: today, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays)
        let reminders = LoanStanding.reminders(book, today: today)
        for instalment in reminders {
            guard let index = book.firstIndex(where: { $0.number == instalment.number }) else { continue }
            book[index].reminded = true
        }
        let next = LoanStanding.nextActionDay(book, today: today, graceDays: loan.penaltyGraceDays, autopay: loan.autopay)
        try await store.age(loan, penalties: penalties, reminders: reminders, bucket: standing.bucket, daysPastDue: standing.daysPastDue, next: next?.startUTC)
    }
}
