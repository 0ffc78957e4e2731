import Foundation
import NzilaCore
import PostgresNIO

/// Failed-login counting and lockout (`LoginThrottle`), for staff in `control` and for members in
/// their tenant's schema. Statements run through the caller's `execute`, so they join its
/// transaction or session.
public struct LoginGuard: Sendable {
    /// A trusted table name (never user input).
    let table: String

    public static let control = LoginGuard(table: "control.login_failures")
    /// The tenant's own table, reached through its session.
    public static let tenant = LoginGuard(table: "login_failures")

    public typealias Execute = IdempotencyGate.Execute

    /// Seconds the email stays locked (nil: not locked), and its failures so far (0: nothing to
    /// clear after a success, so a clean login writes nothing).
    public func state(email: String, now: Date, execute: Execute) async throws -> (lockedSeconds: Int?, failures: Int) {
        guard
            let (remaining, failures) = try await execute(
                """
                SELECT CASE WHEN locked_until > \(now) THEN ceil(extract(epoch FROM locked_until - \(now)))::int END, failures
                FROM \(unescaped: table) WHERE email = \(email)
                """
            ).first((Int?, Int).self)
        else { return (nil, 0) }
        return (remaining.map { max($0, 1) }, failures)
    }

    /// Counts a failure at `now` (the platform clock); returns the lock it starts, in seconds (0: none yet).
    @discardableResult
    public func failed(email: String, now: Date, execute: Execute) async throws -> Int {
        let failures = try await execute(
            """
            INSERT INTO \(unescaped: table) AS f (email, failures, last_failure_at) VALUES (\(email), 1, \(now))
            ON CONFLICT (email) DO UPDATE SET last_failure_at = \(now),
                failures = CASE WHEN f.last_failure_at < \(now) - \(LoginThrottle.windowSeconds) * interval '1 second' THEN 1 ELSE f.failures + 1 END
            RETURNING failures
            """
        ).first(Int.self) ?? 1
        let lock = LoginThrottle.lockSeconds(afterFailures: failures)
        if lock > 0 {
            _ = try await execute("UPDATE \(unescaped: table) SET locked_until = \(now) + \(lock) * interval '1 second' WHERE email = \(email)")
        }
        return lock
    }

    /// A successful login clears the count.
    public func succeeded(email: String, execute: Execute) async throws {
        _ = try await execute("UPDATE \(unescaped: table) SET failures = 0, locked_until = NULL WHERE email = \(email) AND failures > 0")
    }
}

/// Refresh tokens, stored as SHA-256 digests, rotating within a family (one per login): each use
/// marks the token used and issues the next; presenting a used token again means it leaked, so the
/// whole family is revoked. Logout revokes the family.
public struct RefreshTokens: Sendable {
    /// A trusted table name and the column naming the owner (`user_id` or `member_id`).
    let table: String
    let owner: String

    public static let control = RefreshTokens(table: "control.refresh_tokens", owner: "user_id")
    public static let tenant = RefreshTokens(table: "refresh_tokens", owner: "member_id")

    public typealias Execute = IdempotencyGate.Execute

    /// Stores a new token of `family` (a new family at login).
    public func store(_ token: String, owner id: UUID, family: UUID, expires: Date, execute: Execute) async throws {
        _ = try await execute(
            """
            INSERT INTO \(unescaped: table) (token_sha256, \(unescaped: owner), family, expires_at)
            VALUES (\(OpaqueToken.digest(token)), \(id), \(family), \(expires))
            """)
    }

    public enum Use: Sendable, Equatable {
        /// Valid: its owner and family; it is now used.
        case valid(owner: UUID, family: UUID)
        /// Unknown or expired.
        case invalid
        /// Used before: the family has been revoked.
        case reused
    }

    /// Spends a token at `now` (the platform clock), under its row lock so two concurrent uses cannot both succeed.
    public func use(_ token: String, now: Date, execute: Execute) async throws -> Use {
        let digest = OpaqueToken.digest(token)
        guard
            let (owner, family, used, live) = try await execute(
                """
                SELECT \(unescaped: owner), family, used_at IS NOT NULL, expires_at > \(now) FROM \(unescaped: table)
                WHERE token_sha256 = \(digest) FOR UPDATE
                """
            ).first((UUID, UUID, Bool, Bool).self)
        else { return .invalid }
        if used {
            _ = try await execute("DELETE FROM \(unescaped: table) WHERE family = \(family)")
            return .reused
        }
        guard live else { return .invalid }
        _ = try await execute("UPDATE \(unescaped: table) SET used_at = \(now) WHERE token_sha256 = \(digest)")
        return .valid(owner: owner, family: family)
    }

    /// Logout: revokes the family of `token` (nothing if it is unknown).
    public func revokeFamily(of token: String, execute: Execute) async throws {
        _ = try await execute(
            """
            DELETE FROM \(unescaped: table) WHERE family IN (SELECT family FROM \(unescaped: table) WHERE token_sha256 = \(OpaqueToken.digest(token)))
            """)
    }
}
