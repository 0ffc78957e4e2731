import Banking
import Ledger
import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// A new member and the tokens that log them in.
struct Registration: Codable {
    let member: MemberRecord
    let tokens: TokenPair
}

extension DataPlane {
    /// Member login, registration, refresh and logout: open routes, rate-limited per tenant and per
    /// source address by their gate before any password is hashed.
    func addMemberAuthRoutes(_ routes: TenantRoutes) {
        routes.openRoute(.post, "/v1/auth/login", "Log a member of the resolved tenant in", body: LoginBody.self, answer: TokenPair.self) { request, context in
            let tenant = context.tenant
            let body = try await request.decodeStrict(LoginBody.self)
            let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
            guard email.count <= 254 else { throw Problem.invalidCredentials }
            let session = context.session
            // The lock check and the lookup, then the password check outside any transaction, then the
            // outcome recorded (a failure must commit, so it is not thrown inside the transaction).
            let (guarded, found) = try await session.run { db in
                let execute: LoginGuard.Execute = { try await db.query($0) }
                return (try await LoginGuard.tenant.state(email: email, now: db.now, execute: execute), try await MemberStore(db).credentials(email: email))
            }
            if let locked = guarded.lockedSeconds { throw Problem.tooManyAttempts(retryAfter: locked) }
            let verified = await self.hasher.verified(body.password, against: found?.1 ?? PasswordHasher.decoy) && found != nil
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
        routes.openRoute(.post, "/v1/auth/register", "A new member registers with the resolved credit union (KYC tier 1) and is logged in", body: BankingRoutes.MemberBody.self, answer: Registration.self) { request, context in
            let tenant = context.tenant
            let body = try await request.decodeStrict(BankingRoutes.MemberBody.self)
            let member = try NewMember.validate(email: body.email, fullName: body.fullName, phone: body.phone, password: body.password)
            let hash = try await self.hasher.hashed(member.password)
            guard let record = try await context.session.run({ try await MemberStore($0).create(member, passwordHash: hash) }) else { throw Problem.conflict("member-exists", "A member with email \(member.email) already exists; log in instead.") }
            await self.screenNewMember(record, context.session, nil)
            let tokens = try await self.issueMemberTokens(record.id, tenant: tenant, family: UUID())
            return try Response.json(Registration(member: record, tokens: tokens), status: .created, headers: [.location: "/v1/members/\(record.id)"])
        }
        routes.openRoute(.post, "/v1/auth/refresh", "Exchange a member refresh token for new tokens", body: RefreshBody.self, answer: TokenPair.self) { request, context in
            let tenant = context.tenant
            let body = try await request.decodeStrict(RefreshBody.self)
            let use = try await context.session.run { db in
                try await RefreshTokens.tenant.use(body.refreshToken, now: db.now, execute: { try await db.query($0) })
            }
            guard case .valid(let member, let family) = use else {
                if use == .reused { self.logger.warning("refresh token reused; its family is revoked", metadata: ["kind": "member"]) }
                throw Problem.invalidRefreshToken
            }
            return try Response.json(try await self.issueMemberTokens(MemberID(member), tenant: tenant, family: family))
        }
        routes.openRoute(.post, "/v1/auth/logout", "Revoke a refresh token and its whole family, and the access token sent with it", body: RefreshBody.self) { request, context in
            let tenant = context.tenant
            let body = try await request.decodeStrict(RefreshBody.self)
            try await context.session.run { db in
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
