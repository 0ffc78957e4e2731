import Banking
import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Mounts domain routes behind tenant resolution and authentication.
struct DataPlaneRouting: TenantRouting {
    let router: Router<BasicRequestContext>
    let table: RouteTable
    let plane: DataPlane
    let domain: String

    func scoped(_ handler: @escaping ScopedHandler) -> RouteHandler {
        { [plane, domain] request, _ in
            let tenant = try await plane.resolveTenant(request)
            let principal = try await plane.authenticate(request, tenant: tenant)
            guard tenant.enabledDomains.contains(domain) else {
                throw Problem(
                    .forbidden, "domain-disabled", "Domain disabled", detail: "This credit union has not enabled \(domain).")
            }
            let session = plane.session(tenant: tenant, principal: principal, audit: DataPlane.auditAction(request, principal: principal))
            let scope = TenantScope(tenant: tenant, principal: principal, session: session, now: plane.clock.now())
            return try await handler(request, scope)
        }
    }
}

/// Builds the data-plane HTTP application. The caller runs the pools.
public func buildDataPlaneApplication(_ plane: DataPlane) -> some ApplicationProtocol {
    let app = PlaneApplication(readiness: plane.groupClients, deadlineSeconds: plane.settings.requestDeadlineSeconds, logger: plane.logger)
    plane.addMemberAuthRoutes(to: app.router, table: app.routes)
    let routing = DataPlaneRouting(router: app.router, table: app.routes, plane: plane, domain: "banking")
    BankingRoutes(hasher: plane.hasher).mount(on: routing)
    LedgerRoutes().mount(on: routing)
    HoldRoutes().mount(on: routing)
    return app.application(
        title: "Nzila data plane", description: "Tenant-scoped banking APIs for member apps and portals.", host: plane.settings.host,
        port: plane.settings.port, name: "nzila-data-plane", logger: plane.logger)
}

extension DataPlane {
    func addMemberAuthRoutes(to router: Router<BasicRequestContext>, table: RouteTable) {
        router.route(.post, "/v1/auth/login", "Log a member of the resolved tenant in", in: table, isPublic: true) { request, _ in
            let tenant = try await self.resolveTenant(request)
            let body = try await request.decodeStrict(LoginBody.self)
            let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
            let session = self.session(tenant: tenant, principal: nil)
            let found = try await session.run { try await MemberStore($0).credentials(email: email) }
            guard let (member, hash) = found else {
                _ = self.hasher.verify(body.password, against: PasswordHasher.decoy)
                throw Problem.invalidCredentials
            }
            guard self.hasher.verify(body.password, against: hash) else { throw Problem.invalidCredentials }
            return try Response.json(try await self.issueMemberTokens(member, tenant: tenant))
        }
        router.route(.post, "/v1/auth/refresh", "Exchange a member refresh token for new tokens", in: table, isPublic: true) { request, _ in
            let tenant = try await self.resolveTenant(request)
            let body = try await request.decodeStrict(RefreshBody.self)
            let digest = OpaqueToken.digest(body.refreshToken)
            let member = try await self.session(tenant: tenant, principal: nil).run { db in
                try await db.query(
                    "DELETE FROM refresh_tokens WHERE token_sha256 = \(digest) AND expires_at > now() RETURNING member_id"
                ).first(UUID.self)
            }
            guard let member else { throw Problem.invalidRefreshToken }
            return try Response.json(try await self.issueMemberTokens(MemberID(member), tenant: tenant))
        }
    }

    func issueMemberTokens(_ member: MemberID, tenant: TenantRef) async throws -> TokenPair {
        let issuer = try await keyRing.issuer()
        let now = clock.now()
        let access = try await issuer.issue(subject: member.rawValue, tenant: tenant.slug.value, role: .member, now: now)
        let refresh = OpaqueToken.generate()
        let expires = now.addingTimeInterval(TimeInterval(refreshTokenLifetimeSeconds))
        try await session(tenant: tenant, principal: nil).run { db in
            try await db.query(
                "INSERT INTO refresh_tokens (token_sha256, member_id, expires_at) VALUES (\(OpaqueToken.digest(refresh)), \(member.rawValue), \(expires))")
        }
        return TokenPair(accessToken: access, expiresIn: issuer.lifetimeSeconds, refreshToken: refresh)
    }
}
