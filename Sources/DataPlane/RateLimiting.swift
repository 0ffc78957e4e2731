import Foundation
import NzilaCore
import NzilaDatabase
import Synchronization

/// Each tenant's rate limits as last read from its `rate_limits` configuration section, for
/// `Settings.rateLimitConfigSeconds`; a flood is turned away from this table without a database
/// round trip.
final class TenantRateLimits: Sendable {
    let known = Mutex<[TenantID: (policy: RateLimitPolicy, at: ContinuousClock.Instant)]>([:])
}

extension DataPlane {
    /// The source address's bucket (nil: not limited per address, as a signed webhook from a
    /// provider's few servers), then the caller's (nil: a route without a token), then the tenant's;
    /// a 429 problem with `Retry-After` and `RateLimit-*` when any is empty. Narrowest first, so a
    /// request refused for its own address or caller costs the credit union's shared budget nothing.
    func admit(_ tenant: TenantRef, caller: Principal?, address: String? = nil) async throws {
        let policy = try await rateLimits(of: tenant)
        // Addresses have their own table: a flood of new addresses cannot push callers' and tenants'
        // buckets out of theirs.
        if let address, case .limited(let wait) = addressLimiter.take("\(tenant.id.rawValue.lowercased):\(address)", limit: policy.address) {
            throw Problem.rateLimited("per-address", limit: policy.address, retryAfter: wait)
        }
        if let caller, case .limited(let wait) = rateLimiter.take("caller:\(tenant.id.rawValue.lowercased):\(caller.id.lowercased)", limit: policy.caller) {
            throw Problem.rateLimited("per-caller", limit: policy.caller, retryAfter: wait)
        }
        if case .limited(let wait) = rateLimiter.take("tenant:\(tenant.id.rawValue.lowercased)", limit: policy.tenant) {
            throw Problem.rateLimited("credit union's", limit: policy.tenant, retryAfter: wait)
        }
    }

    func rateLimits(of tenant: TenantRef) async throws -> RateLimitPolicy {
        let ttl = settings.rateLimitConfigSeconds
        if let cached = tenantRateLimits.known.withLock({ $0[tenant.id] }), ContinuousClock.now - cached.at < .seconds(ttl) { return cached.policy }
        let section = try await session(tenant: tenant, principal: nil).run { db in
            try await db.query("SELECT value::text FROM tenant_config WHERE key = \(RateLimitsSection.key)").first(String.self)
        }
        let policy = settings.rateLimits.applying(tenantSection: section.map { Data($0.utf8) })
        tenantRateLimits.known.withLock { known in
            if known.count >= 100_000 { known.removeAll(keepingCapacity: true) }
            known[tenant.id] = (policy, .now)
        }
        return policy
    }
}
