import Ledger
import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle

/// Releases holds that expired, across every active tenant: on a slow sweep, and at once whenever a
/// movable platform clock moves (`nzila dev --test-clock`). A posting releases its accounts' expired
/// holds itself before it reads a balance, so this only makes an idle account's available balance
/// and the hold's status right without waiting for the next posting. A pass costs one short
/// transaction per active tenant, so the interval is long (five minutes by default).
public struct HoldExpiryWorker: Service {
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let ticks: SweepTicks
    let logger: Logger
    /// Accounts released per tenant transaction; a tenant with more goes again at once.
    static let batch = 500

    public init(
        tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        clockMoves: AsyncStream<Void>?, interval: Duration, logger: Logger
    ) {
        self.tenants = tenants
        self.session = session
        self.ticks = SweepTicks(interval: interval, clockMoves: clockMoves)
        self.logger = logger
    }

    /// One pass over every tenant; returns the accounts whose holds it released.
    @discardableResult
    public func sweepOnce() async -> Int {
        let all: [TenantRef]
        do {
            all = try await tenants()
        } catch {
            logger.warning("hold expiry could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return 0
        }
        var released = 0
        for tenant in all where !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Bounded: a tenant with a huge backlog yields to the others after 20 batches.
                for _ in 0..<20 {
                    let count = try await session(tenant).run { try await LedgerStore($0).releaseExpiredHolds(limit: Self.batch) }
                    released += count
                    if count < Self.batch { break }
                }
            } catch {
                logger.warning("hold expiry failed for a tenant", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
            }
        }
        return released
    }

    public func run() async throws {
        await ticks.run { await sweepOnce() }
    }
}
