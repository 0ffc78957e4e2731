import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import ServiceLifecycle
import Synchronization

/// Drives orders forward (`PayoutStep`) for every tenant of a data plane: at once when a request
/// kicks it (an order placed, funded or released), and on a sweep of all tenants with remittance on
/// (orders whose next look is due: a pending payout, an unfunded order to expire, anything a crashed
/// worker left). State lives in the database, so a restart simply resumes; an order is worked by one
/// worker at a time (its row lock, skip-locked), and partners de-duplicate on the order id.
public final class RemittanceWorker: Service, Sendable {
    let step: PayoutStep
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let clock: @Sendable () -> Date
    /// The sweep's schedule: every `sweepInterval`, and at once when a movable platform clock moves
    /// (an unfunded order a test clock carried past its deadline is cancelled now).
    let ticks: SweepTicks
    let logger: Logger
    /// Where each kicked tenant stands. One drain per tenant at a time: a kick while it drains asks it
    /// to look once more when done, rather than starting a second drain that would only find the
    /// first one's orders locked.
    enum Drain { case queued, draining, again }
    let pending = Mutex<[TenantID: Drain]>([:])
    let signals: AsyncStream<TenantRef>
    let signal: AsyncStream<TenantRef>.Continuation
    /// Orders of one tenant moved at once.
    static let perTenantConcurrency = 4
    /// Tenants drained at once.
    static let tenantConcurrency = 8

    public init(
        step: PayoutStep, tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        clock: @escaping @Sendable () -> Date, clockMoves: AsyncStream<Void>? = nil, sweepInterval: Duration = .seconds(10), logger: Logger
    ) {
        self.step = step
        self.tenants = tenants
        self.session = session
        self.clock = clock
        self.ticks = SweepTicks(interval: sweepInterval, clockMoves: clockMoves)
        self.logger = logger
        (signals, signal) = AsyncStream.makeStream(of: TenantRef.self, bufferingPolicy: .unbounded)
    }

    /// Sweeps every tenant now rather than at the next tick.
    public func sweepNow() { ticks.now() }

    /// Asks for the tenant's due orders to be moved soon.
    public func kick(_ tenant: TenantRef) {
        let fresh = pending.withLock { all -> Bool in
            switch all[tenant.id] {
            case nil:
                all[tenant.id] = .queued
                return true
            case .draining?:
                all[tenant.id] = .again
                return false
            case .queued?, .again?:
                return false
            }
        }
        if fresh { signal.yield(tenant) }
    }

    /// Until graceful shutdown: then it takes no new work, lets each drain finish the order it is on
    /// (a step is short; a step cut short is safe anyway), and returns.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await ticks.run {
                    do {
                        for tenant in try await self.tenants() { self.kick(tenant) }
                    } catch {
                        self.logger.warning("remittance sweep could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
            }
            group.addTask { [self] in
                await withTaskGroup(of: Void.self) { drains in
                    var running = 0
                    for await tenant in signals {
                        if running >= Self.tenantConcurrency {
                            await drains.next()
                            running -= 1
                        }
                        running += 1
                        drains.addTask { await self.drain(tenant) }
                    }
                }  // waits for the drains in flight
            }
            group.addTask { [self] in
                try? await gracefulShutdown()
                signal.finish()
            }
        }
    }

    /// Moves every due order of the tenant, a few at a time, until none is due and no kick came meanwhile.
    public func drain(_ tenant: TenantRef) async {
        pending.withLock { $0[tenant.id] = .draining }
        repeat {
            await drainOnce(tenant)
        } while pending.withLock { all -> Bool in
            if all[tenant.id] == .again {
                all[tenant.id] = .draining
                return true
            }
            all[tenant.id] = nil
            return false
        }
    }

    func drainOnce(_ tenant: TenantRef) async {
        let session = session(tenant)
        // An order that failed (or was locked by another worker) stays due; it waits for the next sweep
        // rather than spinning here.
        var seen = Set<UUID>()
        for _ in 0..<100 where !Task.isShuttingDownGracefully {
            var due: [UUID]
            do {
                due = try await session.run { try await RemittanceStore($0).due(now: self.clock(), limit: 64) }
            } catch {
                logger.warning("remittance worker could not read due orders", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
                return
            }
            due.removeAll { seen.contains($0) }
            if due.isEmpty { return }
            seen.formUnion(due)
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for id in due {
                    if running >= Self.perTenantConcurrency {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    group.addTask {
                        do {
                            try await self.step.run(id, session: session, now: self.clock)
                        } catch {
                            self.logger.warning("remittance step failed; the next sweep retries it", metadata: [
                                "tenant": "\(tenant.slug)", "remittance": "\(id.lowercased)", "error": "\(String(reflecting: error))",
                            ])
                        }
                    }
                }
            }
        }
    }
}
