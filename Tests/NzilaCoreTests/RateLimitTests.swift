import Foundation
import NzilaCore
import Synchronization
import Testing

@Suite("Rate limits")
struct RateLimitTests {
    @Test("a bucket gives its burst at once, then refills at its rate, and says how long to wait")
    func bucket() {
        var bucket = TokenBucket(RateLimit(perSecond: 2, burst: 3), now: 100)
        #expect(bucket.take(now: 100) == .allowed(remaining: 2))
        #expect(bucket.take(now: 100) == .allowed(remaining: 1))
        #expect(bucket.take(now: 100) == .allowed(remaining: 0))
        #expect(bucket.take(now: 100) == .limited(retryAfter: 0.5))
        #expect(bucket.take(now: 100.25) == .limited(retryAfter: 0.25))
        #expect(bucket.take(now: 100.5) == .allowed(remaining: 0))
        #expect(!bucket.isFull(now: 101) && bucket.isFull(now: 102))
        #expect(bucket.take(now: 110) == .allowed(remaining: 2), "never more than the burst")
        #expect(bucket.take(now: 50) == .allowed(remaining: 1), "a clock going back refills nothing")
    }

    @Test("the limiter keys buckets apart, resets a bucket whose limit changed, and forgets idle ones past its bound")
    func limiter() {
        let now = Mutex(0.0)
        let limiter = RateLimiter(maxKeys: 2, clock: { now.withLock { $0 } })
        let one = RateLimit(perSecond: 1, burst: 1)
        #expect(limiter.take("a", limit: one) == .allowed(remaining: 0))
        #expect(limiter.take("a", limit: one) == .limited(retryAfter: 1))
        #expect(limiter.take("b", limit: one) == .allowed(remaining: 0), "another key, another bucket")
        #expect(limiter.take("a", limit: RateLimit(perSecond: 1, burst: 5)) == .allowed(remaining: 4), "a new limit starts full")
        now.withLock { $0 = 10 }
        #expect(limiter.take("c", limit: one) == .allowed(remaining: 0), "idle buckets make room")
    }

    @Test("a tenant's section lowers the platform's ceiling, never raises it; the 429 carries Retry-After and RateLimit-*")
    func policy() {
        let platform = RateLimitPolicy(tenant: RateLimit(perSecond: 400, burst: 800), caller: RateLimit(perSecond: 20, burst: 40))
        let lowered = platform.applying(tenantSection: Data(#"{"tenant_per_second": 50, "member_per_second": 5000, "member_burst": 4}"#.utf8))
        #expect(lowered == RateLimitPolicy(tenant: RateLimit(perSecond: 50, burst: 800), caller: RateLimit(perSecond: 20, burst: 4)))
        #expect(platform.applying(tenantSection: nil) == platform && platform.applying(tenantSection: Data("[]".utf8)) == platform)
        let problem = Problem.rateLimited("per-caller", limit: RateLimit(perSecond: 2, burst: 4), retryAfter: 0.2)
        #expect(problem.status == .tooManyRequests && problem.code == "rate-limited")
        #expect(problem.headers[.retryAfter] == "1" && problem.headers[.init("RateLimit-Remaining")!] == "0" && problem.headers[.init("RateLimit-Limit")!] == "4")
    }
}
