import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension ControlPlane {
    func addAuthRoutes(_ routes: ControlRoutes) {
        routes.auth.openRoute(.post, "/v1/auth/login", "Log in as a platform admin or tenant staff", in: routes.table, body: LoginBody.self, answer: TokenPair.self) { request, _ in
            try await self.login(try await request.decodeStrict(LoginBody.self))
        }
        routes.auth.openRoute(.post, "/v1/auth/refresh", "Exchange a refresh token for new tokens", in: routes.table, body: RefreshBody.self, answer: TokenPair.self) { request, _ in
            try await self.refresh(try await request.decodeStrict(RefreshBody.self))
        }
        routes.auth.openRoute(.post, "/v1/auth/logout", "Revoke a refresh token and its whole family, and the access token sent with it", in: routes.table, body: RefreshBody.self) { request, _ in
            try await self.logout(try await request.decodeStrict(RefreshBody.self), accessToken: request.bearerToken)
        }
        routes.route(.post, "/v1/tenants/{slug}/staff", "Create a staff user of a tenant", access: .staff(.createStaff), body: StaffBody.self, answer: StaffRecord.self, use: { request, context in
            let principal = context.principal
            let slug = try TenantRoutesInput.slug(context)
            return try await self.createStaff(slug: slug, body: try await request.decodeStrict(StaffBody.self), actor: AuditActor(principal, request: request))
        })
    }

    /// Wrong credentials answer alike whether or not the email exists; repeated failures lock the
    /// email (`LoginThrottle`), also whether or not it exists.
    func login(_ body: LoginBody) async throws -> Response {
        let (id, role, tenant) = try await checkCredentials(body)
        return try Response.json(try await issueTokens(userID: id, role: role, tenant: tenant, family: UUID()))
    }

    /// The user a correct email and password name; the lockout first, every failure counted.
    func checkCredentials(_ body: LoginBody) async throws -> (UUID, Role, String?) {
        let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
        guard email.count <= 254 else { throw Problem.invalidCredentials }
        let now = clock.now()
        return try await client.withConnection { connection -> (UUID, Role, String?) in
            let execute: LoginGuard.Execute = { try await connection.query($0, logger: self.logger) }
            let guarded = try await LoginGuard.control.state(email: email, now: now, execute: execute)
            if let seconds = guarded.lockedSeconds { throw Problem.tooManyAttempts(retryAfter: seconds) }
            let user = try await self.staffStore.credentials(email: email, on: connection)
            let verified = await hasher.verified(body.password, against: user?.1 ?? PasswordHasher.decoy) && user != nil
            guard verified, let user, let role = Role(rawValue: user.2) else {
                let lock = try await LoginGuard.control.failed(email: email, now: now, execute: execute)
                throw lock > 0 ? Problem.tooManyAttempts(retryAfter: lock) : Problem.invalidCredentials
            }
            if guarded.failures > 0 { try await LoginGuard.control.succeeded(email: email, execute: execute) }
            return (user.0, role, user.3)
        }
    }

    func issueTokens(userID: UUID, role: Role, tenant: String?, family: UUID) async throws -> TokenPair {
        let issuer = try await keyRing.issuer()
        let now = clock.now()
        let access = try await issuer.issue(subject: userID, tenant: tenant, role: role, now: now)
        let refresh = OpaqueToken.generate()
        try await client.withConnection { connection in
            try await RefreshTokens.control.store(
                refresh, owner: userID, family: family, expires: now.addingTimeInterval(TimeInterval(refreshTokenLifetimeSeconds)),
                execute: { try await connection.query($0, logger: self.logger) })
        }
        return TokenPair(accessToken: access, expiresIn: issuer.lifetimeSeconds, refreshToken: refresh)
    }

    /// Refresh tokens rotate: each is good once, and its successor belongs to the same family. A
    /// token presented twice revokes its family (it leaked), and the answer is the same 401.
    func refresh(_ body: RefreshBody) async throws -> Response {
        let now = clock.now()
        let use = try await client.withTransaction(logger: logger) { connection in
            try await RefreshTokens.control.use(body.refreshToken, now: now, execute: { try await connection.query($0, logger: self.logger) })
        }
        guard case .valid(let userID, let family) = use,
            let row = try await staffStore.roleAndTenant(of: userID),
            let role = Role(rawValue: row.0)
        else {
            if use == .reused { logger.warning("refresh token reused; its family is revoked", metadata: ["kind": "staff"]) }
            throw Problem.invalidRefreshToken
        }
        return try Response.json(try await issueTokens(userID: userID, role: role, tenant: row.1, family: family))
    }

    /// Logout: the refresh token's family is revoked (204 whether or not it was known).
    func logout(_ body: RefreshBody, accessToken: String?) async throws -> Response {
        try await client.withConnection { connection in
            try await RefreshTokens.control.revokeFamily(of: body.refreshToken, execute: { try await connection.query($0, logger: self.logger) })
        }
        // The access token sent with it stops working on both planes (the data planes hear of it).
        if let accessToken, let claims = try? await verify(accessToken) {
            try await revokedTokens.revoke(accessToken, claims: claims)
        }
        return Response(status: .noContent)
    }

    struct StaffBody: StrictBody {
        static let fields: Set<String> = ["email", "password", "role"]
        let email: String
        let password: String
        let role: String
    }

    struct StaffRecord: Codable {
        let id: String
        let email: String
        let role: String
        let tenant: String
        let createdAt: Date
    }

    func createStaff(slug: TenantSlug, body: StaffBody, actor: AuditActor) async throws -> Response {
        var errors: [FieldError] = []
        let email: String? = Validate.email(body.email).get(into: &errors)
        if let error = Validate.password(body.password) { errors.append(error) }
        let role = Role(rawValue: body.role).flatMap { $0.isStaff ? $0 : nil }
        if role == nil { errors.append(FieldError(field: "role", message: "must be one of \(Role.staffRoles.map(\.rawValue))")) }
        guard errors.isEmpty, let email, let role else { throw Problem.validation(errors) }
        let hash = try await hasher.hashed(body.password)
        let id = UUID()
        let created = try await staffStore.create(id: id, email: email, hash: hash, role: role, slug: slug, actor: actor)
        guard let created else { throw Problem.tenantNotFound("Tenant \(slug.value) was not found.") }
        return try Response.json(
            StaffRecord(id: id.lowercased, email: email, role: role.rawValue, tenant: slug.value, createdAt: created), status: .created)
    }
}
