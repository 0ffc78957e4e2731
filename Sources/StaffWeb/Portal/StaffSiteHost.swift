import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase
import Synchronization

/// What a plane gives its staff site: the tenant of a request (the portal) or the platform's own
/// brand (the console), the staff login (the control plane's, with its lockout), tokens for the
/// signed-in staff member, the tenant templates (the console) and the platform clock.
public protocol StaffSiteHost: Sendable {
    /// The tenant served at the request's host, as the API resolves it (its refusals are the API's).
    func portalTenant(_ request: Request) async throws -> PortalTenant
    /// Takes the login form from the tenant's and the address's rate limits, as the API's login does.
    func admitLogin(_ request: Request, context: PlaneRequestContext, tenant: PortalTenant) async throws
    /// Checks a staff member's email and password (the control plane's login, lockout included).
    func authenticateStaff(email: String, password: String) async throws -> WebIdentity
    /// An access token for the signed-in staff member, and when it expires.
    func accessToken(for identity: WebIdentity) async throws -> (token: String, expires: Date)
    /// The platform clock.
    func now() -> Date
    /// The tenant templates a platform admin may provision from (the console's form).
    func templates() -> [String]
    /// Calls a control-plane route under the staff member's token (the portal's settings pages: the
    /// configuration lives with the control plane). A control plane that cannot be reached is a 503.
    func controlPlane(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]?, headers: HTTPFields, token: String) async throws -> APIAnswer
    /// Forgets what the host keeps of a tenant's branding, after a staff member changed it.
    func brandingChanged(_ slug: String)
}

extension StaffSiteHost {
    public func templates() -> [String] { [] }

    public func controlPlane(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]?, headers: HTTPFields, token: String) async throws -> APIAnswer {
        throw Problem.notFound("Page")
    }

    public func brandingChanged(_ slug: String) {}
}

/// The tenant a portal page belongs to, with its branding.
public struct PortalTenant: Sendable {
    public let slug: String
    public let name: String
    public let primaryColor: String
    public let secondaryColor: String
    public let logoURL: String?
    public let enabledDomains: Set<String>

    public init(slug: String, name: String, primaryColor: String, secondaryColor: String, logoURL: String?, enabledDomains: Set<String>) {
        (self.slug, self.name, self.primaryColor, self.secondaryColor, self.logoURL, self.enabledDomains) =
            (slug, name, primaryColor, secondaryColor, logoURL, enabledDomains)
    }

    /// The brand stylesheet: the two colours as CSS custom properties. Colours are checked against
    /// `#RRGGBB` (the configuration already requires it) so nothing else can reach the CSS.
    public var stylesheet: String {
        let valid: (String, String) -> String = { $0.wholeMatch(of: /#[0-9A-Fa-f]{6}/) != nil ? $0 : $1 }
        return ":root{--brand:\(valid(primaryColor, "#0B6E4F"));--brand-2:\(valid(secondaryColor, "#F2A541"));}\n"
    }
}

/// Access tokens minted for sessions, kept until a minute before they expire (so the API's token
/// cache sees one token per session, not one per page).
final class SessionTokens: Sendable {
    let tokens = Mutex<[Data: (String, Date)]>([:])

    func token(for session: WebSession, now: Date, mint: () async throws -> (token: String, expires: Date)) async throws -> String {
        if let (token, expires) = tokens.withLock({ $0[session.digest] }), expires.timeIntervalSince(now) > 60 { return token }
        let minted = try await mint()
        tokens.withLock {
            if $0.count > 10_000 { $0.removeAll() }
            $0[session.digest] = (minted.token, minted.expires)
        }
        return minted.token
    }

    func forget(_ session: WebSession) {
        _ = tokens.withLock { $0.removeValue(forKey: session.digest) }
    }
}
