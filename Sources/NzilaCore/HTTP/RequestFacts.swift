import Foundation
import Synchronization

/// What a request's handling learns about it for its log line and metrics: the tenant, the caller
/// and the database round trips. Set by the request middleware as a task-local, so code deep in a
/// handler (a `TenantSession`) adds to it without being passed anything; nothing else reads it.
public final class RequestFacts: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var tenant: String?
        public var principal: String?
        public var role: String?
        public var roundTrips = 0
    }

    let state = Mutex(Snapshot())

    public init() {}

    @TaskLocal public static var current: RequestFacts?

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// The resolved tenant's slug.
    public static func note(tenant slug: String) { current?.state.withLock { $0.tenant = slug } }

    /// The authenticated caller: an id and a role, never a token or a name.
    public static func note(principal id: UUID, role: String) {
        current?.state.withLock {
            $0.principal = id.lowercased
            $0.role = role
        }
    }

    /// `count` statements sent to the database (each one round trip).
    public static func roundTrips(_ count: Int) { current?.state.withLock { $0.roundTrips += count } }
}
