import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import StaffWeb

/// What the console needs of the control plane: the platform's own brand, the login's rate limit per
/// address and its credential check (the same code as `POST /v1/auth/login`, lockout included),
/// tokens for the signed-in platform admin, the tenant templates and the platform clock.
struct ConsoleBridge: StaffSiteHost {
    let plane: ControlPlane

    func portalTenant(_ request: Request) async throws -> PortalTenant {
        PortalTenant(slug: "", name: "Nzila console", primaryColor: "#1F3A5F", secondaryColor: "#F2A541", logoURL: nil, enabledDomains: [])
    }

    func admitLogin(_ request: Request, context: PlaneRequestContext, tenant: PortalTenant) async throws {
        let address = context.clientAddress(request, trusted: plane.settings.trustedProxies)
        let limit = plane.settings.addressRateLimit
        if case .limited(let wait) = plane.addressLimiter.take(address, limit: limit) {
            throw Problem.rateLimited("per-address", limit: limit, retryAfter: wait)
        }
    }

    func authenticateStaff(email: String, password: String) async throws -> WebIdentity {
        let (id, role, tenant) = try await plane.checkCredentials(LoginBody(email: email, password: password))
        return WebIdentity(userID: id, role: role, tenant: tenant, email: email.trimmingCharacters(in: .whitespaces).lowercased())
    }

    func accessToken(for identity: WebIdentity) async throws -> (token: String, expires: Date) {
        let issuer = try await plane.keyRing.issuer()
        let now = plane.clock.now()
        let token = try await issuer.issue(subject: identity.userID, tenant: identity.tenant, role: identity.role, now: now)
        return (token, now.addingTimeInterval(TimeInterval(issuer.lifetimeSeconds)))
    }

    func now() -> Date { plane.clock.now() }

    func templates() -> [String] {
        let folder = plane.settings.projectRoot.appendingPathComponent("TenantTemplates")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted { $0 == "default" ? true : $1 == "default" ? false : $0 < $1 }
    }
}

extension ControlPlane {
    /// The platform console, mounted on the plane's router; `api` answers its calls in process.
    func console(api: InProcessAPI) -> StaffSite {
        StaffSite(
            host: ConsoleBridge(plane: self), api: api, sessions: WebSessionStore(client: client, logger: logger, idleSeconds: settings.webIdleSeconds),
            secureCookies: settings.secureCookies, surface: .console)
    }
}
