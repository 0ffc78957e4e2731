import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Moves every active circle's cycles along on the platform clock (`CycleClock`): the reminder the
/// day before, the due day's autopay, its end-of-day retry, and the end of grace. It sweeps every tenant with tontine on, on
/// `SweepTicks` (so a test clock or `nzila dev --test-clock` moves circles at once). State lives in
/// the database: a cycle says which phases are done and when it is next due, so a restart resumes;
/// each cycle is stepped in its own transaction under its row lock (skip-locked: two planes never
/// step the same cycle at once).
public final class TontineScheduler: Service, Sendable {
    /// A cycle of a circle.
    struct CycleKey: Hashable, Sendable, CustomStringConvertible {
        let circle: TontineID
        let cycle: Int
        var description: String { "\(circle)/\(cycle)" }
    }

    let ticks: SweepTicks
    let sweeper: DueSweep<CycleKey>

    public init(
        tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        clockMoves: AsyncStream<Void>?, sweepInterval: Duration, logger: Logger
    ) {
        self.ticks = SweepTicks(interval: sweepInterval, clockMoves: clockMoves)
        self.sweeper = DueSweep(
            name: "tontine cycle", tenants: tenants, session: session, logger: logger,
            due: { db in try await TontineStore(db).due(now: db.now, limit: 256).map { CycleKey(circle: $0.0, cycle: $0.1) } },
            step: { key, db in try await Self.step(key.circle, key.cycle, db: db, logger: logger) },
            postpone: { key, db, until in try await TontineStore(db).postpone(key.circle, key.cycle, until: until) })
    }

    public func run() async throws {
        await ticks.run { await self.sweep() }
    }

    /// One pass over every tenant.
    public func sweep() async { await sweeper.sweep() }

    /// Steps every due cycle of the tenant, a few at a time, until none is due.
    public func drain(_ tenant: TenantRef) async { await sweeper.drain(tenant) }

    /// Every phase of the cycle whose time has come, in order, in one transaction.
    static func step(_ id: TontineID, _ number: Int, db: TenantDB, logger: Logger) async throws {
        let store = TontineStore(db)
        guard var cycle = try await store.lockCycle(id, number, skipLocked: true), let at = cycle.nextActionAt, at <= db.now else { return }
        guard let circle = try await store.find(id), circle.state == .active else {
            try await store.schedule(id, number, phase: cycle.phase, next: nil)
            return
        }
        let settlement = try await CycleSettlement.load(db, circle: circle)
        let members = try await store.members(id)
        let now = settlement.seconds
        var phase = cycle.phase
        while let next = CycleClock.next(afterPhases: phase, due: cycle.due, graceDays: circle.graceDays), next.at <= now {
            if cycle.status.takesContributions {
                switch next.phase {
                case .dueDay, .autopayRetry:
                    if cycle.status == .open, cycle.contributed.count >= members.count {
                        // Everyone paid before the due day: the payout waited for it.
                        try await settlement.pay(cycle, from: .open, memberCount: members.count, members: members)
                    } else if members.contains(where: { $0.autopayAccount != nil && !cycle.contributed.contains($0.member) }) {
                        for (member, refusal) in try await settlement.autopay(cycle, members: members, at: next.at) {
                            logger.info("tontine autopay refused", metadata: [
                                "tontine": "\(id)", "cycle": "\(number)", "member": "\(member)", "reason": "\(refusal.code)",
                            ])
                        }
                    } else {
                        phase += 1
                        continue
                    }
                case .endOfGrace:
                    try await settlement.endGrace(cycle, members: members)
                }
                guard let reread = try await store.lockCycle(id, number) else { throw Problem.internalError }
                cycle = reread
            }
            phase += 1
        }
        // The reminder, once, from the day before: to every member whose money is not in yet.
        var reminded = cycle.reminded
        var reminder: TontineContributionDue?
        if !reminded, now >= CycleClock.reminderAt(due: cycle.due) {
            let missing = members.map(\.member).filter { !cycle.contributed.contains($0) }
            if cycle.status.takesContributions, CycleClock.reminds(at: now, due: cycle.due), !missing.isEmpty {
                reminder = TontineContributionDue(tontineId: id, cycle: number, dueDate: cycle.due, contribution: circle.contribution, memberIds: missing)
            }
            reminded = true
        }
        let next = cycle.status.takesContributions
            ? CycleClock.nextLook(afterPhases: phase, reminded: reminded, due: cycle.due, graceDays: circle.graceDays).map { Date(timeIntervalSince1970: TimeInterval($0)) }
            : nil
        try await store.schedule(id, number, phase: phase, next: next, reminded: reminded, reminder: reminder)
    }
}
