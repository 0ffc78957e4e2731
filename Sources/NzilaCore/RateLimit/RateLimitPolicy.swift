import Foundation

/// The limits a data plane applies to one tenant: all its requests together, and each caller (a
/// member, or a staff member) on their own. The platform's values (environment, with defaults) are
/// a ceiling; a tenant's `rate_limits` configuration section may only lower them, so one credit
/// union cannot buy itself room at its neighbours' expense.
public struct RateLimitPolicy: Sendable, Equatable {
    public var tenant: RateLimit
    public var caller: RateLimit

    public init(tenant: RateLimit, caller: RateLimit) {
        self.tenant = tenant
        self.caller = caller
    }

    /// `NZILA_RATE_TENANT_PER_SECOND` (400) / `_BURST` (800), `NZILA_RATE_CALLER_PER_SECOND` (20) / `_BURST` (40).
    public static func platform(_ env: Env = Env()) -> RateLimitPolicy {
        RateLimitPolicy(
            tenant: RateLimit(perSecond: max(1, env.int("NZILA_RATE_TENANT_PER_SECOND", default: 400)), burst: max(1, env.int("NZILA_RATE_TENANT_BURST", default: 800))),
            caller: RateLimit(perSecond: max(1, env.int("NZILA_RATE_CALLER_PER_SECOND", default: 20)), burst: max(1, env.int("NZILA_RATE_CALLER_BURST", default: 40))))
    }

    /// The tenant's section (`tenant_per_second`, `tenant_burst`, `member_per_second`, `member_burst`,
    /// each optional) applied under this ceiling; anything unreadable keeps the ceiling.
    public func applying(tenantSection json: Data?) -> RateLimitPolicy {
        guard let json, let root = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else { return self }
        func value(_ key: String, cap: Int) -> Int {
            guard let number = (root[key] as? NSNumber)?.intValue, number >= 1 else { return cap }
            return min(number, cap)
        }
        return RateLimitPolicy(
            tenant: RateLimit(perSecond: value("tenant_per_second", cap: tenant.perSecond), burst: value("tenant_burst", cap: tenant.burst)),
            caller: RateLimit(perSecond: value("member_per_second", cap: caller.perSecond), burst: value("member_burst", cap: caller.burst)))
    }
}
