import Foundation
import Ledger
import Logging
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Moves every active circle's cycles along on the platform clock (`CycleClock`): the due day's
/// autopay, its end-of-day retry, and the end of grace. It sweeps every tenant with tontine on, on
/// `SweepTicks` (so a test clock or `nzila dev --test-clock` moves circles at once). State lives in
/// the database: a cycle says which phases are done and when it is next due, so a restart resumes;
/// each cycle is stepped in its own transaction under its row lock (skip-locked: two planes never
/// step the same cycle at once).
public final class TontineScheduler: Service, Sendable {
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let ticks: SweepTicks
    let logger: Logger
    /// How long a cycle whose step failed waits before the scheduler tries it again.
    static let retryAfter: TimeInterval = 3600
    /// Cycles of one tenant stepped at once.
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

    /// One pass over every tenant.
    public func sweep() async {
        let all: [TenantRef]
        do {
            all = try await tenants()
        } catch {
            logger.warning("tontine scheduler could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        for tenant in all where !Task.isShuttingDownGracefully && !Task.isCancelled { await drain(tenant) }
    }

    /// Steps every due cycle of the tenant, a few at a time, until none is due. A cycle that failed
    /// (or that another plane holds) is left for the next sweep.
    public func drain(_ tenant: TenantRef) async {
        let session = session(tenant)
        var seen = Set<String>()
        for _ in 0..<1_000 where !Task.isShuttingDownGracefully {
            var due: [(TontineID, Int)]
            do {
                due = try await session.run { try await TontineStore($0).due(now: $0.now, limit: 256) }
            } catch {
                logger.warning("tontine scheduler could not read due cycles", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
                return
            }
            due.removeAll { seen.contains("\($0.0)/\($0.1)") }
            if due.isEmpty { return }
            for (circle, cycle) in due { seen.insert("\(circle)/\(cycle)") }
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for (circle, cycle) in due {
                    if running >= Self.perTenantConcurrency {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    group.addTask {
                        do {
                            try await session.run { try await Self.step(circle, cycle, db: $0, logger: self.logger) }
                        } catch {
                            self.logger.warning("tontine cycle step failed; it is looked at again in an hour", metadata: [
                                "tenant": "\(tenant.slug)", "tontine": "\(circle)", "cycle": "\(cycle)", "error": "\(String(reflecting: error))",
                            ])
                            // Out of the due list for a while, so a cycle that keeps failing never holds up the others.
                            try? await session.run { try await TontineStore($0).postpone(circle, cycle, until: $0.now.addingTimeInterval(Self.retryAfter)) }
                        }
                    }
                }
            }
        }
    }

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
        let next = cycle.status.takesContributions
            ? CycleClock.next(afterPhases: phase, due: cycle.due, graceDays: circle.graceDays).map { Date(timeIntervalSince1970: TimeInterval($0.at)) }
            : nil
        try await store.schedule(id, number, phase: phase, next: next)
    }
}
