import Banking
import Compliance
import Remittance
import Foundation
import Hummingbird
import NIOCore
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
            RequestFacts.note(tenant: tenant.slug.value)
            let principal = try await plane.authenticate(request, tenant: tenant)
            RequestFacts.note(principal: principal.id, role: principal.role.rawValue)
            try await plane.admit(tenant, caller: principal)
            guard tenant.enabledDomains.contains(domain) else {
                throw Problem(
                    .forbidden, "domain-disabled", "Domain disabled", detail: "This credit union has not enabled \(domain).")
            }
            let session = plane.session(tenant: tenant, principal: principal, audit: DataPlane.auditAction(request, principal: principal))
            let scope = TenantScope(tenant: tenant, principal: principal, session: session, now: plane.clock.now())
            return try await handler(request, scope)
        }
    }

    func unauthenticated(_ handler: @escaping UnauthenticatedHandler) -> RouteHandler {
        { [plane, domain] request, _ in
            let tenant = try await plane.resolveTenant(request)
            RequestFacts.note(tenant: tenant.slug.value)
            try await plane.admit(tenant, caller: nil)
            guard tenant.enabledDomains.contains(domain) else {
                throw Problem(.forbidden, "domain-disabled", "Domain disabled", detail: "This credit union has not enabled \(domain).")
            }
            return try await handler(request, tenant, plane.session(tenant: tenant, principal: nil), plane.clock.now())
        }
    }
}

struct RegisterBody: StrictBody {
    static let fields: Set<String> = ["email", "full_name", "phone", "password"]
    let email: String
    let fullName: String
    let phone: String?
    let password: String
}

/// A new member and the tokens that log them in.
struct Registration: Encodable {
    let member: MemberRecord
    let tokens: TokenPair
}

/// Builds the data-plane HTTP application. The caller runs the pools.
public func buildDataPlaneApplication(_ plane: DataPlane, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
    let app = PlaneApplication(
        readiness: plane.groupClients, deadlineSeconds: plane.settings.requestDeadlineSeconds, logger: plane.logger, plane: "data",
        metricsToken: plane.settings.metricsToken, tracer: plane.settings.tracer)
    plane.addMemberAuthRoutes(to: app.router, table: app.routes)
    let routing = DataPlaneRouting(router: app.router, table: app.routes, plane: plane, domain: "banking")
    BankingRoutes(hasher: plane.hasher, onboarded: plane.screenNewMember).mount(on: routing)
    LedgerRoutes().mount(on: routing)
    HoldRoutes().mount(on: routing)
    let compliance = DataPlaneRouting(router: app.router, table: app.routes, plane: plane, domain: "compliance")
    ComplianceRoutes(screening: plane.screening).mount(on: compliance)
    CaseRoutes(onDecision: { db, record, status, principal, now in
        try await OrderReview.caseDecided(db, record: record, status: status, by: principal, now: now)
    }).mount(on: compliance)
    KYCRoutes(keys: plane.dataKeys).mount(on: compliance)
    let remittance = DataPlaneRouting(router: app.router, table: app.routes, plane: plane, domain: "remittance")
    QuoteRoutes().mount(on: remittance)
    let worker = plane.remittanceWorker
    RemittanceRoutes(screening: plane.screening, keys: plane.dataKeys, kick: { worker.kick($0) }).mount(on: remittance)
    FundingWebhookRoutes(secret: { plane.webhookSecret(tenant: $0, provider: $1) }, kick: { worker.kick($0) }).mount(on: remittance)
    return app.application(
        title: "Nzila data plane", description: "Tenant-scoped banking and compliance APIs for member apps and portals.", host: plane.settings.host,
        port: plane.settings.port, name: "nzila-data-plane", logger: plane.logger, onServerRunning: onServerRunning)
}

extension DataPlane {
    /// Screens a member just enrolled (by staff or by themselves) when the tenant has compliance on.
    var screenNewMember: BankingRoutes.Onboarded {
        { [screening, logger] record, session, principal in
            guard session.tenant.enabledDomains.contains("compliance"), let id = UUID(uuidString: record.id) else { return }
            await MemberScreening(cache: screening, logger: logger).onboard(memberID: id, fullName: record.fullName, session: session, by: principal)
        }
    }

    func addMemberAuthRoutes(to router: Router<BasicRequestContext>, table: RouteTable) {
        router.route(.post, "/v1/auth/login", "Log a member of the resolved tenant in", in: table, isPublic: true) { request, _ in
            let tenant = try await self.resolveTenant(request)
            let body = try await request.decodeStrict(LoginBody.self)
            let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
            guard email.count <= 254 else { throw Problem.invalidCredentials }
            let session = self.session(tenant: tenant, principal: nil)
            // The lock check and the lookup, then the password check outside any transaction, then the
            // outcome recorded (a failure must commit, so it is not thrown inside the transaction).
            let (guarded, found) = try await session.run { db in
                let execute: LoginGuard.Execute = { try await db.query($0) }
                return (try await LoginGuard.tenant.state(email: email, now: db.now, execute: execute), try await MemberStore(db).credentials(email: email))
            }
            if let locked = guarded.lockedSeconds { throw Problem.tooManyAttempts(retryAfter: locked) }
            let verified = self.hasher.verify(body.password, against: found?.1 ?? PasswordHasher.decoy) && found != nil
            // A clean success writes nothing; a failure, or a success after failures, is recorded.
            let lock = verified && guarded.failures == 0 ? 0 : try await session.run { db in
                let execute: LoginGuard.Execute = { try await db.query($0) }
                if verified {
                    try await LoginGuard.tenant.succeeded(email: email, execute: execute)
                    return 0
                }
                return try await LoginGuard.tenant.failed(email: email, now: db.now, execute: execute)
            }
            guard verified, let member = found?.0 else {
                throw lock > 0 ? Problem.tooManyAttempts(retryAfter: lock) : Problem.invalidCredentials
            }
            return try Response.json(try await self.issueMemberTokens(member, tenant: tenant, family: UUID()))
        }
        router.route(.post, "/v1/auth/register", "A new member registers with the resolved credit union (KYC tier 1) and is logged in", in: table, isPublic: true) { request, _ in
            let tenant = try await self.resolveTenant(request)
            let body = try await request.decodeStrict(RegisterBody.self)
            let member = try NewMember.validate(email: body.email, fullName: body.fullName, phone: body.phone, password: body.password)
            let hash = try self.hasher.hash(member.password)
            guard let record = try await self.session(tenant: tenant, principal: nil).run({ try await MemberStore($0).create(member, passwordHash: hash) }),
                let id = UUID(uuidString: record.id)
            else { throw Problem.conflict("member-exists", "A member with email \(member.email) already exists; log in instead.") }
            await self.screenNewMember(record, self.session(tenant: tenant, principal: nil), nil)
            let tokens = try await self.issueMemberTokens(MemberID(id), tenant: tenant, family: UUID())
            return try Response.json(Registration(member: record, tokens: tokens), status: .created, headers: [.location: "/v1/members/\(record.id)"])
        }
        router.route(.post, "/v1/auth/refresh", "Exchange a member refresh token for new tokens", in: table, isPublic: true) { request, _ in
            let tenant = try await self.resolveTenant(request)
            let body = try await request.decodeStrict(RefreshBody.self)
            let use = try await self.session(tenant: tenant, principal: nil).run { db in
                try await RefreshTokens.tenant.use(body.refreshToken, now: db.now, execute: { try await db.query($0) })
            }
            guard case .valid(let member, let family) = use else {
                if use == .reused { self.logger.warning("refresh token reused; its family is revoked", metadata: ["kind": "member"]) }
                throw Problem.invalidRefreshToken
            }
            return try Response.json(try await self.issueMemberTokens(MemberID(member), tenant: tenant, family: family))
        }
        router.route(.post, "/v1/auth/logout", "Revoke a refresh token and its whole family, and the access token sent with it", in: table, isPublic: true) { request, _ in
            let tenant = try await self.resolveTenant(request)
            let body = try await request.decodeStrict(RefreshBody.self)
            try await self.session(tenant: tenant, principal: nil).run { db in
                try await RefreshTokens.tenant.revokeFamily(of: body.refreshToken, execute: { try await db.query($0) })
            }
            if let token = request.bearerToken, let claims = try? await self.verify(token), claims.tenant == tenant.slug.value {
                let digest = OpaqueToken.digest(token)
                try await self.registry.statement(
                    "SELECT tenant_api.revoke_token(\(digest), \(claims.exp.value))", logger: self.logger) { _ in }
                self.verifier.revoke(digest: digest)
            }
            return Response(status: .noContent)
        }
    }

    func issueMemberTokens(_ member: MemberID, tenant: TenantRef, family: UUID) async throws -> TokenPair {
        let issuer = try await keyRing.issuer()
        let now = clock.now()
        let access = try await issuer.issue(subject: member.rawValue, tenant: tenant.slug.value, role: .member, now: now)
        let refresh = OpaqueToken.generate()
        let expires = now.addingTimeInterval(TimeInterval(refreshTokenLifetimeSeconds))
        try await session(tenant: tenant, principal: nil).run { db in
            try await RefreshTokens.tenant.store(refresh, owner: member.rawValue, family: family, expires: expires, execute: { try await db.query($0) })
        }
        return TokenPair(accessToken: access, expiresIn: issuer.lifetimeSeconds, refreshToken: refresh)
    }
}
