import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NzilaCore
import NzilaDatabase
import StaffWeb
import Synchronization

/// What the portal needs of the data plane: tenants with their branding, the login rate limits, the
/// staff login (the control plane's own route, so its lockout and its one store of passwords stay
/// the only ones), tokens for the signed-in staff member and the platform clock.
struct PortalBridge: StaffSiteHost {
    let plane: DataPlane
    /// Branding read from each tenant's configuration, kept a few seconds (a page reads it each time).
    let brands = BrandCache()
    static let brandSeconds: Duration = .seconds(10)

    func portalTenant(_ request: Request) async throws -> PortalTenant {
        let tenant = try await plane.resolveTenant(request)
        if let cached = brands.entries.withLock({ $0[tenant.id] }), ContinuousClock.now - cached.read < Self.brandSeconds,
            cached.brand.enabledDomains == tenant.enabledDomains
        {
            return cached.brand
        }
        let branding = try await plane.session(tenant: tenant, principal: nil).run { try await $0.section(BrandingSection.self) }
        let brand = PortalTenant(
            slug: tenant.slug.value, name: branding?.displayName ?? tenant.slug.value, primaryColor: branding?.primaryColor ?? "#0B6E4F",
            secondaryColor: branding?.secondaryColor ?? "#F2A541", logoURL: branding?.logoUrl, enabledDomains: tenant.enabledDomains)
        brands.entries.withLock { $0[tenant.id] = (brand, .now) }
        return brand
    }

    func admitLogin(_ request: Request, context: PlaneRequestContext, tenant: PortalTenant) async throws {
        let resolved = try await plane.resolveTenant(request)
        try await plane.admit(resolved, caller: nil, address: context.clientAddress(request, trusted: plane.settings.trustedProxies))
    }

    /// The control plane's `POST /v1/auth/login`: its lockout applies to the form as to the API. The
    /// refresh token it returns is revoked at once (the portal keeps a server-side session instead).
    func authenticateStaff(email: String, password: String) async throws -> WebIdentity {
        let base = plane.settings.controlPlaneURL
        let login = try await post(base + "/v1/auth/login", ["email": email, "password": password])
        switch login.status {
        case .ok: break
        case .unauthorized: throw Problem.invalidCredentials
        case .tooManyRequests: throw Problem.tooManyAttempts(retryAfter: Int(login.headers.first(name: "Retry-After") ?? "") ?? 60)
        default:
            plane.logger.warning("staff login through the control plane failed", metadata: ["status": "\(login.status.code)"])
            throw Problem(.serviceUnavailable, "login-unavailable", "Sign-in unavailable", detail: "Sign-in is unavailable; retry shortly.", headers: [.retryAfter: "5"])
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let pair = try decoder.decode(TokenPair.self, from: Data(buffer: login.body))
        _ = try? await post(base + "/v1/auth/logout", ["refresh_token": pair.refreshToken])
        let claims = try await plane.verify(pair.accessToken)
        guard let id = claims.subjectID else { throw Problem.invalidCredentials }
        return WebIdentity(userID: id, role: claims.role, tenant: claims.tenant, email: email.trimmingCharacters(in: .whitespaces).lowercased())
    }

    func accessToken(for identity: WebIdentity) async throws -> (token: String, expires: Date) {
        let issuer = try await plane.keyRing.issuer()
        let now = plane.clock.now()
        let token = try await issuer.issue(subject: identity.userID, tenant: identity.tenant, role: identity.role, now: now)
        return (token, now.addingTimeInterval(TimeInterval(issuer.lifetimeSeconds)))
    }

    func now() -> Date { plane.clock.now() }

    /// A control-plane route over HTTP, under the staff member's own token (its audience names both
    /// planes), so the control plane checks, validates and audits the change as for any API client.
    func controlPlane(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]?, headers: HTTPFields, token: String) async throws -> APIAnswer {
        var request = HTTPClientRequest(url: plane.settings.controlPlaneURL + path)
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers { request.headers.add(name: field.name.canonicalName, value: field.value) }
        request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
        request.headers.replaceOrAdd(name: "Accept", value: "application/json")
        if let json {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
            var fields = HTTPFields()
            for (name, value) in response.headers { if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) } }
            return APIAnswer(status: HTTPResponse.Status(code: Int(response.status.code)), headers: fields, body: Data(buffer: body))
        } catch {
            plane.logger.warning("control plane unreachable for a portal page", metadata: ["path": "\(path)", "error": "\(error)"])
            throw Problem(.serviceUnavailable, "control-plane-unavailable", "Control plane unavailable",
                          detail: "The control plane (settings, audit log) cannot be reached; retry shortly.", headers: [.retryAfter: "5"])
        }
    }

    func brandingChanged(_ slug: String) {
        brands.entries.withLock { entries in entries = entries.filter { $0.value.brand.slug != slug } }
    }

    struct Answer {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: ByteBuffer
    }

    func post(_ url: String, _ body: [String: String]) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            return Answer(status: response.status, headers: response.headers, body: try await response.body.collect(upTo: 64 * 1024))
        } catch {
            plane.logger.warning("control plane unreachable for a staff login", metadata: ["error": "\(error)"])
            throw Problem(.serviceUnavailable, "login-unavailable", "Sign-in unavailable", detail: "Sign-in is unavailable; retry shortly.", headers: [.retryAfter: "5"])
        }
    }
}

final class BrandCache: Sendable {
    let entries = Mutex<[TenantID: (brand: PortalTenant, read: ContinuousClock.Instant)]>([:])
}

extension DataPlane {
    /// The credit-union portal, mounted on the plane's router; `api` answers its calls in process.
    func portal(api: InProcessAPI) -> StaffSite {
        StaffSite(
            host: PortalBridge(plane: self), api: api,
            sessions: WebSessionStore(client: registry, logger: logger, idleSeconds: settings.webIdleSeconds),
            secureCookies: settings.secureCookies)
    }
}
