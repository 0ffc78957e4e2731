import Foundation
import Logging
import NzilaCore
import ServiceLifecycle

/// The loop a domain's scheduler runs on every tenant with its domain on (tontine cycles, loans):
/// read what is due in the tenant's transaction time, step each item in its own transaction a few
/// at a time, and read again until nothing new is due. State lives in the database (each item says
/// when it is next due), so a restart resumes; an item whose step fails is postponed by
/// `retryAfter` so it never holds up the others, and looked at again then.
public struct DueSweep<Key: Hashable & Sendable>: Sendable {
    /// What the logs call it ("tontine cycle", "loan").
    public let name: String
    let tenants: @Sendable () async throws -> [TenantRef]
    let session: @Sendable (TenantRef) -> TenantSession
    let due: @Sendable (TenantDB) async throws -> [Key]
    let step: @Sendable (Key, TenantDB) async throws -> Void
    let postpone: @Sendable (Key, TenantDB, Date) async throws -> Void
    let logger: Logger
    let perTenantConcurrency: Int
    let retryAfter: TimeInterval

    /// `due`: the items due now (`db.now`), at most a few hundred; `step`: one item's work, under its
    /// own lock; `postpone`: move a failed item's next look to the date given.
    public init(
        name: String, tenants: @escaping @Sendable () async throws -> [TenantRef], session: @escaping @Sendable (TenantRef) -> TenantSession,
        logger: Logger, perTenantConcurrency: Int = 6, retryAfter: TimeInterval = 3600,
        due: @escaping @Sendable (TenantDB) async throws -> [Key], step: @escaping @Sendable (Key, TenantDB) async throws -> Void,
        postpone: @escaping @Sendable (Key, TenantDB, Date) async throws -> Void
    ) {
        self.name = name
        self.tenants = tenants
        self.session = session
        self.due = due
        self.step = step
        self.postpone = postpone
        self.logger = logger
        self.perTenantConcurrency = perTenantConcurrency
        self.retryAfter = retryAfter
    }

    /// One pass over every tenant.
    public func sweep() async {
        let all: [TenantRef]
        do {
            all = try await tenants()
        } catch {
            logger.warning("\(name) scheduler could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        for tenant in all where !Task.isShuttingDownGracefully && !Task.isCancelled { await drain(tenant) }
    }

    /// Steps every due item of the tenant, a few at a time, until none is due. An item that failed
    /// (or that another plane holds) is left for the next sweep.
    public func drain(_ tenant: TenantRef) async {
        let session = session(tenant)
        var seen = Set<Key>()
        for _ in 0..<1_000 where !Task.isShuttingDownGracefully {
            var items: [Key]
            do {
                items = try await session.run { try await due($0) }
            } catch {
                logger.warning("\(name) scheduler could not read what is due", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
                return
            }
            items.removeAll { seen.contains($0) }
            if items.isEmpty { return }
            seen.formUnion(items)
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for item in items {
                    if running >= perTenantConcurrency {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    group.addTask {
                        do {
                            try await session.run { try await step(item, $0) }
                        } catch {
                            logger.warning("\(name) step failed; it is looked at again later", metadata: [
                                "tenant": "\(tenant.slug)", "item": "\(item)", "retry_after_seconds": "\(Int(retryAfter))",
                                "error": "\(String(reflecting: error))",
                            ])
                            try? await session.run { try await postpone(item, $0, $0.now.addingTimeInterval(retryAfter)) }
                        }
                    }
                }
            }
        }
    }
}
