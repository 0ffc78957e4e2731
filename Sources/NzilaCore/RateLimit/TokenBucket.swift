import Foundation
import HTTPTypes

/// A sustained rate and a burst: `perSecond` tokens flow into a bucket holding at most `burst`, and
/// each request takes one.
public struct RateLimit: Sendable, Equatable, Hashable {
    public let perSecond: Int
    public let burst: Int

    public init(perSecond: Int, burst: Int) {
        precondition(perSecond > 0, "a rate limit lets something through")
        precondition(burst >= 1, "a bucket holds at least one request")
        self.perSecond = perSecond
        self.burst = burst
    }
}

/// A token bucket, pure: the caller passes the time in seconds. Refills continuously; a request
/// that finds less than one token is refused with the time until one is there.
public struct TokenBucket: Sendable, Equatable {
    public let limit: RateLimit
    public private(set) var tokens: Double
    public private(set) var updated: Double

    public init(_ limit: RateLimit, now: Double) {
        self.limit = limit
        self.tokens = Double(limit.burst)
        self.updated = now
    }

    public enum Decision: Sendable, Equatable {
        case allowed(remaining: Int)
        /// Seconds until a token is back (at least 1 when rounded up for Retry-After).
        case limited(retryAfter: Double)
    }

    public mutating func take(now: Double) -> Decision {
        refill(now: now)
        guard tokens >= 1 else { return .limited(retryAfter: (1 - tokens) / Double(limit.perSecond)) }
        tokens -= 1
        return .allowed(remaining: Int(tokens.rounded(.down)))
    }

    /// Whether the bucket is back to full (an idle bucket that may be forgotten).
    public func isFull(now: Double) -> Bool {
        tokens + (now - updated) * Double(limit.perSecond) >= Double(limit.burst)
    }

    mutating func refill(now: Double) {
        let elapsed = max(0, now - updated)
        tokens = min(Double(limit.burst), tokens + elapsed * Double(limit.perSecond))
        updated = max(updated, now)
    }
}

extension Problem {
    /// 429 with `Retry-After` and the `RateLimit-*` fields of the IETF draft, naming which limit tripped.
    public static func rateLimited(_ scope: String, limit: RateLimit, retryAfter: Double) -> Problem {
        let seconds = max(1, Int(retryAfter.rounded(.up)))
        return Problem(
            .tooManyRequests, "rate-limited", "Too many requests",
            detail: "The \(scope) rate limit (\(limit.perSecond) requests per second, bursts of \(limit.burst)) is reached; retry in \(seconds) s.",
            headers: [
                .retryAfter: String(seconds), HTTPField.Name("RateLimit-Limit")!: String(limit.burst),
                HTTPField.Name("RateLimit-Remaining")!: "0", HTTPField.Name("RateLimit-Reset")!: String(seconds),
                HTTPField.Name("RateLimit-Policy")!: "\(limit.burst);w=\(max(1, limit.burst / limit.perSecond))",
            ])
    }
}
