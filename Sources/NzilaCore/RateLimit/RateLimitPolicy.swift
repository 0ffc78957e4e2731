import Foundation

/// The limits a data plane applies to one tenant: all its requests together, each caller (a member,
/// or a staff member) on their own, and each source address on the routes without a token (login,
/// register, refresh, logout), before any password is hashed. The platform's values (environment, with defaults) are
/// a ceiling; a tenant's `rate_limits` configuration section may only lower them, so one credit
/// union cannot buy itself room at its neighbours' expense.
public struct RateLimitPolicy: Sendable, Equatable {
    public var tenant: RateLimit
    public var caller: RateLimit
    /// Per source address within the tenant, on the routes without a token. Argon2id costs tens of
    /// milliseconds of CPU, so a flood of logins is turned away here, before any hashing.
    public var address: RateLimit

    /// The platform's default for `address`: a member app logs in once and refreshes every quarter of
    /// an hour, so ten at once and two a second leave room for many members behind one carrier NAT.
    public static let defaultAddress = RateLimit(perSecond: 2, burst: 10)

    public init(tenant: RateLimit, caller: RateLimit, address: RateLimit = RateLimitPolicy.defaultAddress) {
        self.tenant = tenant
        self.caller = caller
        self.address = address
    }

    /// `NZILA_RATE_TENANT_PER_SECOND` (400) / `_BURST` (800), `NZILA_RATE_CALLER_PER_SECOND` (20) / `_BURST` (40),
    /// `NZILA_RATE_ADDRESS_PER_SECOND` (2) / `_BURST` (10).
    public static func platform(_ env: Env = Env()) -> RateLimitPolicy {
        func limit(_ name: String, _ fallback: RateLimit) -> RateLimit {
            RateLimit(
                perSecond: max(1, env.int("NZILA_RATE_\(name)_PER_SECOND", default: fallback.perSecond)),
                burst: max(1, env.int("NZILA_RATE_\(name)_BURST", default: fallback.burst)))
        }
        return RateLimitPolicy(
            tenant: limit("TENANT", RateLimit(perSecond: 400, burst: 800)), caller: limit("CALLER", RateLimit(perSecond: 20, burst: 40)),
            address: limit("ADDRESS", defaultAddress))
    }

    /// The tenant's section (`tenant_per_second`, `tenant_burst`, `member_per_second`, `member_burst`,
    /// `address_per_second`, `address_burst`, each optional) applied under this ceiling; anything unreadable keeps the ceiling.
    public func applying(tenantSection json: Data?) -> RateLimitPolicy {
        guard let json, let section = try? RateLimitsSection.decode(json) else { return self }
        func value(_ number: Int?, cap: Int) -> Int {
            guard let number, number >= 1 else { return cap }
            return min(number, cap)
        }
        return RateLimitPolicy(
            tenant: RateLimit(perSecond: value(section.tenantPerSecond, cap: tenant.perSecond), burst: value(section.tenantBurst, cap: tenant.burst)),
            caller: RateLimit(perSecond: value(section.memberPerSecond, cap: caller.perSecond), burst: value(section.memberBurst, cap: caller.burst)),
            address: RateLimit(perSecond: value(section.addressPerSecond, cap: address.perSecond), burst: value(section.addressBurst, cap: address.burst)))
    }
}
