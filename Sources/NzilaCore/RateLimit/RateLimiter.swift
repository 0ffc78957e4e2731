import Foundation
import Synchronization

/// Token buckets by key ("tenant:<id>", "principal:<id>") in one process. Each data plane limits
/// what reaches it; with several instances behind a balancer a tenant gets up to that many times
/// the rate (the limits protect each instance's database pool, which is what a flood exhausts).
/// The table is bounded: past `maxKeys`, buckets back to full (idle) are forgotten first.
public final class RateLimiter: Sendable {
    let buckets = Mutex<[String: TokenBucket]>([:])
    let maxKeys: Int
    let clock: @Sendable () -> Double

    /// `clock` is the platform clock in seconds: buckets refill as business time passes, so a test
    /// (or `nzila dev --test-clock`) refills them by moving it rather than by waiting.
    public init(maxKeys: Int = 100_000, clock: @escaping @Sendable () -> Double) {
        precondition(maxKeys > 0, "a bounded table")
        self.maxKeys = maxKeys
        self.clock = clock
    }

    /// Takes a token from `key`'s bucket (made full on first use, or anew if its limit changed).
    public func take(_ key: String, limit: RateLimit) -> TokenBucket.Decision {
        let now = clock()
        return buckets.withLock { table in
            if table.count >= maxKeys, table[key] == nil {
                table = table.filter { !$0.value.isFull(now: now) }
                if table.count >= maxKeys { table.removeAll(keepingCapacity: true) }
            }
            var bucket = table[key].flatMap { $0.limit == limit ? $0 : nil } ?? TokenBucket(limit, now: now)
            let decision = bucket.take(now: now)
            table[key] = bucket
            return decision
        }
    }
}
