import Foundation
import JWTKit
import NzilaCore
import Testing

@Suite("Access tokens")
struct TokenTests {
    @Test(arguments: Role.allCases)
    func audiencesFollowTheRole(role: Role) {
        switch role {
        case .platformAdmin: #expect(role.audiences == ["control-plane"])
        case .member: #expect(role.audiences == ["data-plane"])
        default: #expect(role.audiences == ["control-plane", "data-plane"])
        }
    }

    static func pair(kid: String = "k1") async -> (TokenIssuer, TokenVerifier, ES256PrivateKey) {
        let key = ES256PrivateKey()
        let issuer = await TokenIssuer(privateKey: key, kid: kid, lifetimeSeconds: 900)
        return (issuer, TokenVerifier(audience: Audience.dataPlane), key)
    }

    static func jwks(_ key: ES256PrivateKey, kid: String) -> JWKSet {
        JWKSet(keys: [PublicJWK(kid: kid, x: key.parameters!.x, y: key.parameters!.y)])
    }

    @Test func roundTripCarriesTheClaims() async throws {
        let (issuer, verifier, key) = await Self.pair()
        try await verifier.install(Self.jwks(key, kid: "k1"))
        let subject = UUID()
        let now = Date()
        let token = try await issuer.issue(subject: subject, tenant: "demo", role: .member, now: now)
        let claims = try await verifier.verify(token, now: now)
        #expect(claims.sub.value == subject.uuidString.lowercased())
        #expect(claims.tenant == "demo" && claims.role == .member && claims.iss.value == "nzila")
        #expect(claims.exp.value.timeIntervalSince(claims.iat.value) == 900)
        let header = try JSONSerialization.jsonObject(with: Data(base64URLEncoded: String(token.split(separator: ".")[0]))!) as? [String: Any]
        #expect(header?["alg"] as? String == "ES256" && header?["kid"] as? String == "k1")
    }

    @Test func refusesWhatItMust() async throws {
        let (issuer, verifier, key) = await Self.pair()
        try await verifier.install(Self.jwks(key, kid: "k1"))
        let subject = UUID()
        let expired = try await issuer.issue(subject: subject, tenant: "demo", role: .member, now: Date().addingTimeInterval(-901))
        await #expect(throws: TokenVerifier.Failure.invalid) { try await verifier.verify(expired, now: Date()) }
        let otherKey = await TokenIssuer(privateKey: ES256PrivateKey(), kid: "k1")
        let forged = try await otherKey.issue(subject: subject, tenant: "demo", role: .member, now: Date())
        await #expect(throws: TokenVerifier.Failure.invalid) { try await verifier.verify(forged, now: Date()) }
        let unknown = try await TokenIssuer(privateKey: ES256PrivateKey(), kid: "k2").issue(subject: subject, tenant: "demo", role: .member, now: Date())
        await #expect(throws: TokenVerifier.Failure.unknownKID("k2")) { try await verifier.verify(unknown, now: Date()) }
        let adminToken = try await issuer.issue(subject: subject, tenant: nil, role: .platformAdmin, now: Date())
        await #expect(throws: TokenVerifier.Failure.invalid) { try await verifier.verify(adminToken, now: Date()) }
        let body = try await issuer.issue(subject: subject, tenant: "demo", role: .member, now: Date()).split(separator: ".")[1]
        let none = "\(Data(#"{"alg":"none","kid":"k1"}"#.utf8).base64URLEncoded).\(body)."
        await #expect(throws: TokenVerifier.Failure.badAlgorithm) { try await verifier.verify(none, now: Date()) }
        await #expect(throws: TokenVerifier.Failure.malformed) { try await verifier.verify("abc", now: Date()) }
    }

    @Test func claimsMustFitTheRole() async throws {
        let (issuer, verifier, key) = await Self.pair()
        try await verifier.install(Self.jwks(key, kid: "k1"))
        // A member token without a tenant is malformed even when correctly signed.
        let orphan = try await issuer.issue(subject: UUID(), tenant: nil, role: .member, now: Date())
        await #expect(throws: TokenVerifier.Failure.invalid) { try await verifier.verify(orphan, now: Date()) }
    }
}

@Suite("Login throttle")
struct LoginThrottleTests {
    @Test("four free failures, then a lock from one minute doubling to at most an hour")
    func lockGrowth() {
        #expect((0...4).map(LoginThrottle.lockSeconds(afterFailures:)) == [0, 0, 0, 0, 0])
        #expect((5...8).map(LoginThrottle.lockSeconds(afterFailures:)) == [60, 120, 240, 480])
        #expect(LoginThrottle.lockSeconds(afterFailures: 11) == 3_600 && LoginThrottle.lockSeconds(afterFailures: 1_000) == 3_600)
    }
}
