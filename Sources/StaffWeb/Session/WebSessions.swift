import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// Which browser surface a session belongs to: the credit-union portal (data plane) or the
/// platform console (control plane). A cookie of one is never a session of the other.
public enum WebSurface: String, Sendable {
    case portal, console

    /// The cookie that carries the session's opaque token, and the path it is sent on.
    var cookieName: String { "nzila_\(rawValue)" }
    var path: String { "/\(rawValue)" }
}

/// Who a browser session is: a staff user as the control plane authenticated them.
public struct WebIdentity: Sendable, Equatable {
    public let userID: UUID
    public let role: Role
    /// The tenant of tenant staff (nil: a platform admin).
    public let tenant: String?
    public let email: String

    public init(userID: UUID, role: Role, tenant: String?, email: String) {
        (self.userID, self.role, self.tenant, self.email) = (userID, role, tenant, email)
    }

    public var principal: Principal { Principal(id: userID, role: role, tenant: tenant) }
}

/// A live session: its identity, language and the CSRF token every form of it carries.
public struct WebSession: Sendable {
    public let digest: Data
    public let identity: WebIdentity
    public let locale: String
    public let csrf: String
}

/// The languages the portal and the console speak.
public enum WebLocale {
    public static let all = ["en", "fr"]

    public static func supported(_ raw: String?) -> String? {
        raw.flatMap { all.contains($0) ? $0 : nil }
    }
}

/// Browser sessions in `control.web_sessions`: only the SHA-256 of the cookie's token is stored. A
/// session dies at logout, after `idleSeconds` without a request, or `absoluteSeconds` after login —
/// all judged against the platform clock the caller passes (bound, never the database's `now()`).
public struct WebSessionStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    public let idleSeconds: Int
    public let absoluteSeconds: Int

    public init(client: PostgresClient, logger: Logger, idleSeconds: Int = 1_800, absoluteSeconds: Int = 43_200) {
        self.client = client
        self.logger = logger
        self.idleSeconds = max(60, idleSeconds)
        self.absoluteSeconds = max(self.idleSeconds, absoluteSeconds)
    }

    /// Opens a session: returns the cookie's token (shown once, never stored) and the session. The
    /// user's other sessions past their time are swept in the same statement.
    public func open(_ identity: WebIdentity, surface: WebSurface, now: Date) async throws -> (token: String, session: WebSession) {
        let token = OpaqueToken.generate()
        let digest = OpaqueToken.digest(token)
        let csrf = OpaqueToken.generate()
        let idleCutoff = now.addingTimeInterval(-TimeInterval(idleSeconds))
        let expires = now.addingTimeInterval(TimeInterval(absoluteSeconds))
        let locale = try await client.statement(
            """
            WITH swept AS (
                DELETE FROM control.web_sessions WHERE user_id = \(identity.userID) AND (expires_at <= \(now) OR last_seen_at <= \(idleCutoff))
            )
            INSERT INTO control.web_sessions
                (token_sha256, user_id, role, surface, tenant_slug, email, locale, csrf_token, created_at, last_seen_at, expires_at)
            SELECT \(digest), \(identity.userID), \(identity.role.rawValue), \(surface.rawValue), \(identity.tenant), \(identity.email),
                   COALESCE((SELECT locale FROM control.staff_preferences WHERE user_id = \(identity.userID)), 'en'), \(csrf), \(now), \(now), \(expires)
            RETURNING locale
            """, logger: logger
        ) { try await $0.first(String.self) ?? "en" }
        return (token, WebSession(digest: digest, identity: identity, locale: locale, csrf: csrf))
    }

    /// The session a cookie names, if it is alive for this surface (and tenant), marking it seen: one
    /// statement per page.
    public func current(token: String, surface: WebSurface, tenant: String?, now: Date) async throws -> WebSession? {
        let digest = OpaqueToken.digest(token)
        let idleCutoff = now.addingTimeInterval(-TimeInterval(idleSeconds))
        let row = try await client.statement(
            """
            UPDATE control.web_sessions SET last_seen_at = \(now)
            WHERE token_sha256 = \(digest) AND surface = \(surface.rawValue) AND tenant_slug IS NOT DISTINCT FROM \(tenant)
              AND last_seen_at > \(idleCutoff) AND expires_at > \(now)
            RETURNING user_id, role, tenant_slug, email, locale, csrf_token
            """, logger: logger
        ) { try await $0.first((UUID, String, String?, String, String, String).self) }
        guard let (user, role, slug, email, locale, csrf) = row, let role = Role(rawValue: role) else { return nil }
        return WebSession(digest: digest, identity: WebIdentity(userID: user, role: role, tenant: slug, email: email), locale: locale, csrf: csrf)
    }

    /// Logout: the session is gone (nothing if it already was).
    public func end(_ session: WebSession) async throws {
        try await client.statement("DELETE FROM control.web_sessions WHERE token_sha256 = \(session.digest)", logger: logger) { _ in }
    }

    /// The staff member's language, for this session and every later one.
    public func setLocale(_ locale: String, for session: WebSession) async throws {
        try await client.statement(
            """
            WITH preference AS (
                INSERT INTO control.staff_preferences (user_id, locale) VALUES (\(session.identity.userID), \(locale))
                ON CONFLICT (user_id) DO UPDATE SET locale = EXCLUDED.locale
            )
            UPDATE control.web_sessions SET locale = \(locale) WHERE user_id = \(session.identity.userID)
            """, logger: logger
        ) { _ in }
    }
}
