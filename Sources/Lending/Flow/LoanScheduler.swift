import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Ages every disbursed loan on the platform clock: on a due day it takes what is due from the
/// loan's account when the member chose autopay (all of it or nothing, tried again each day while
/// it is overdue); past the grace days it charges the late penalty (once per instalment) and moves
/// the loan through the delinquency buckets, each change an event. State lives in the database: a
/// loan says when it is next looked at (`next_action_at`), so a restart resumes; each loan is
/// stepped in its own transaction under its row lock (skip-locked: two planes never step one loan
/// at once). It sweeps on `SweepTicks`, so a test clock or `nzila dev --test-clock` moves it.
public final class LoanScheduler: Service, Sendable {
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let ticks: SweepTicks
    let logger: Logger
    /// How long a loan whose step failed waits before the scheduler tries it again.
    static let retryAfter: TimeInterval = 3600
    static let perTenantConcurrency = 6

    public init(
        tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        clockMoves: AsyncStream<Void>?, sweepInterval: Duration, logger: Logger
    ) {
        self.tenants = tenants
        self.session = session
        self.ticks = SweepTicks(interval: sweepInterval, clockMoves: clockMoves)
        self.logger = logger
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
    }

    public func sweep() async {
        let all: [TenantRef]
        do {
            all = try await tenants()
        } catch {
            logger.warning("loan scheduler could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        for tenant in all where !Task.isShuttingDownGracefully && !Task.isCancelled { await drain(tenant) }
    }

    /// Steps every loan due for a look, a few at a time, until none is.
    public func drain(_ tenant: TenantRef) async {
        let session = session(tenant)
        var seen = Set<LoanID>()
        for _ in 0..<1_000 where !Task.isShuttingDownGracefully {
            var due: [LoanID]
            do {
                due = try await session.run { try await LoanStore($0).due(now: $0.now, limit: 256) }
            } catch {
                logger.warning("loan scheduler could not read due loans", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
                return
            }
            due.removeAll { seen.contains($0) }
            if due.isEmpty { return }
            seen.formUnion(due)
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for loan in due {
                    if running >= Self.perTenantConcurrency {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    group.addTask {
                        do {
                            try await session.run { try await Self.step(loan, db: $0, logger: self.logger) }
                        } catch {
                            self.logger.warning("loan step failed; it is looked at again in an hour", metadata: [
                                "tenant": "\(tenant.slug)", "loan": "\(loan)", "error": "\(String(reflecting: error))",
                            ])
                            try? await session.run { try await LoanStore($0).postpone(loan, until: $0.now.addingTimeInterval(Self.retryAfter)) }
                        }
                    }
                }
            }
        }
    }

    /// Today's work for one loan, in one transaction: autopay, penalties, the bucket, the next look.
    static func step(_ id: LoanID, db: TenantDB, logger: Logger) async throws {
        let store = LoanStore(db)
        guard var loan = try await store.find(id, lock: true), loan.state == .disbursed, let disbursedOn = loan.disbursedOn else { return }
        guard let today = Day(utc: db.now) else { return }
        var book = try await store.book(id)
        if loan.autopay {
            let standing = LoanStanding.of(book, disbursedOn: disbursedOn, today: today, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays)
            let owed = standing.due.reduce(0) { $0 + $1.unpaid.totalMinor }
            if owed > 0 {
                do {
                    // A refusal (the account short or frozen) is thrown before anything is written, so the
                    // transaction stays good and the rest of the step runs.
                    _ = try await LoanMoney.repay(db, loan: loan, amountMinor: owed, account: loan.account, kind: .autopay, by: .system, today: today)
                    guard let reread = try await store.find(id, lock: true) else { return }
                    loan = reread
                    if loan.state != .disbursed { return }
                    book = try await store.book(id)
                } catch let refusal as any DomainError {
                    logger.info("loan autopay refused", metadata: ["loan": "\(id)", "reason": "\(refusal.ruleError.code)"])
                }
            }
        }
        let penalties = LoanStanding.penalties(book, today: today, graceDays: loan.penaltyGraceDays, fixedMinor: loan.penaltyFixedMinor, bps: loan.penaltyBps)
        for (number, penalty) in penalties {
            guard let index = book.firstIndex(where: { $0.number == number }) else { continue }
            book[index].penaltyMinor += penalty
            book[index].penaltyCharged = true
        }
        let standing = LoanStanding.of(book, disbursedOn: disbursedOn, today: today, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays)
        let next = LoanStanding.nextActionDay(book, today: today, graceDays: loan.penaltyGraceDays, autopay: loan.autopay)
        try await store.age(loan, penalties: penalties, bucket: standing.bucket, daysPastDue: standing.daysPastDue, next: next?.startUTC)
    }
}
