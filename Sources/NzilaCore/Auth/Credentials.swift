import Foundation

/// Login and refresh bodies and answers shared by both planes (API.md, Identity).
public struct LoginBody: StrictBody {
    public static let fields: Set<String> = ["email", "password"]
    public let email: String
    public let password: String

    public init(email: String, password: String) {
        self.email = email
        self.password = password
    }
}

public struct RefreshBody: StrictBody {
    public static let fields: Set<String> = ["refresh_token"]
    public let refreshToken: String
}

public struct TokenPair: Codable, Sendable {
    public let accessToken: String
    public let tokenType: String
    public let expiresIn: Int
    public let refreshToken: String

    public init(accessToken: String, expiresIn: Int, refreshToken: String) {
        self.accessToken = accessToken
        self.tokenType = "Bearer"
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
    }
}

/// How long a refresh token lives; each use replaces it with a new one.
public let refreshTokenLifetimeSeconds = 30 * 24 * 3600

extension Problem {
    /// The one answer to every failed login, whatever was wrong, so accounts cannot be probed.
    public static let invalidCredentials = Problem(
        .unauthorized, "invalid-credentials", "Invalid credentials", detail: "The email or password is wrong.",
        headers: [.wwwAuthenticate: "Bearer"])

    public static let invalidRefreshToken = Problem(
        .unauthorized, "invalid-refresh-token", "Invalid refresh token", detail: "The refresh token is unknown, used or expired.",
        headers: [.wwwAuthenticate: "Bearer"])
}

/// How long repeated failed logins lock an email: nothing for the first four failures within the
/// window, then one minute, doubling with each further failure, at most an hour. A success clears it.
public enum LoginThrottle {
    public static let freeFailures = 4
    /// Failures further apart than this start counting again.
    public static let windowSeconds = 15 * 60
    public static let maxLockSeconds = 3_600

    public static func lockSeconds(afterFailures failures: Int) -> Int {
        guard failures > freeFailures else { return 0 }
        let doublings = min(failures - freeFailures - 1, 6)
        return min(60 << doublings, maxLockSeconds)
    }
}

extension Problem {
    public static func tooManyAttempts(retryAfter seconds: Int) -> Problem {
        Problem(
            .tooManyRequests, "too-many-attempts", "Too many attempts",
            detail: "Too many failed logins for this email; try again in \(seconds) seconds.", headers: [.retryAfter: "\(seconds)"])
    }
}
