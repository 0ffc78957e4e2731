import Foundation
import Hummingbird
import JWTKit
import Synchronization

/// A signing key in JWK form, as published at `/.well-known/jwks.json`.
public struct PublicJWK: Codable, Sendable, Equatable {
    public var kty = "EC"
    public var crv = "P-256"
    public var alg = "ES256"
    public var use = "sig"
    public var kid: String
    public var x: String
    public var y: String

    public init(kid: String, x: String, y: String) {
        self.kid = kid
        self.x = x
        self.y = y
    }
}

public struct JWKSet: Codable, Sendable {
    public var keys: [PublicJWK]
    public init(keys: [PublicJWK]) { self.keys = keys }
}

/// Signs access tokens with the control plane's current ES256 key.
public struct TokenIssuer: Sendable {
    public let kid: String
    let keys: JWTKeyCollection
    public let lifetimeSeconds: Int

    public init(privateKey: ES256PrivateKey, kid: String, lifetimeSeconds: Int = 900) async {
        self.kid = kid
        self.keys = JWTKeyCollection()
        await keys.add(ecdsa: privateKey, kid: JWKIdentifier(string: kid))
        self.lifetimeSeconds = lifetimeSeconds
    }

    public func issue(subject: UUID, tenant: String?, role: Role, now: Date) async throws -> String {
        let claims = AccessClaims(subject: subject, tenant: tenant, role: role, issuedAt: now, lifetimeSeconds: lifetimeSeconds)
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }
}

/// Verifies access tokens: header `alg` must be ES256 and `kid` a known key (no default-key fallback),
/// then the signature, expiry, issuer and audience. Verified tokens are cached until they expire, so a
/// hot path pays for one signature check per token, not per request.
public final class TokenVerifier: Sendable {
    let keys: JWTKeyCollection
    let knownKIDs: Mutex<Set<String>>
    let cache = Mutex<[String: AccessClaims]>([:])
    /// SHA-256 digests of revoked tokens (logout), pushed by the registry's change feed.
    let revoked = Mutex<Set<Data>>([])
    let audience: String
    static let cacheLimit = 50_000

    public init(audience: String) {
        self.audience = audience
        self.keys = JWTKeyCollection()
        self.knownKIDs = Mutex([])
    }

    /// Adds (or keeps) the public keys of a JWKS document.
    public func install(_ set: JWKSet) async throws {
        for jwk in set.keys where jwk.alg == "ES256" && jwk.kty == "EC" && jwk.crv == "P-256" {
            let key = try ES256PublicKey(parameters: (x: jwk.x, y: jwk.y))
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: jwk.kid))
            _ = knownKIDs.withLock { $0.insert(jwk.kid) }
        }
    }

    public func knows(kid: String) -> Bool { knownKIDs.withLock { $0.contains(kid) } }

    public enum Failure: Error, Equatable { case malformed, unknownKID(String), badAlgorithm, invalid, revoked }

    /// Refuses the token with this digest from now on (`OpaqueToken.digest` of the token). The
    /// check comes before the verified-token cache, so cached tokens are refused too.
    public func revoke(digest: Data) {
        _ = revoked.withLock { $0.insert(digest) }
    }

    /// Replaces the whole revocation set (the feed reconnected and reread the table).
    public func setRevoked(_ digests: Set<Data>) {
        revoked.withLock { $0 = digests }
    }

    public func isRevoked(_ token: String) -> Bool {
        revoked.withLock { set in set.isEmpty ? false : set.contains(OpaqueToken.digest(token)) }
    }

    struct Header: Decodable {
        let alg: String?
        let kid: String?
    }

    /// Verifies a compact JWT, or throws `Failure`.
    public func verify(_ token: String, now: Date) async throws(Failure) -> AccessClaims {
        if isRevoked(token) { throw .revoked }
        if let cached = cache.withLock({ $0[token] }), cached.exp.value > now {
            return cached
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw .malformed }
        guard header.alg == "ES256" else { throw .badAlgorithm }
        guard let kid = header.kid, knows(kid: kid) else { throw .unknownKID(header.kid ?? "") }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch {
            throw .invalid
        }
        guard claims.aud.value.contains(audience) else { throw .invalid }
        // Expiry by the platform clock (the cached path above judges it the same way).
        guard claims.exp.value > now else { throw .invalid }
        cache.withLock { cache in
            if cache.count >= TokenVerifier.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[token] = claims
        }
        return claims
    }
}

extension Request {
    /// The bearer token of the Authorization header, if any.
    public var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        // "Bearer " in any case, then the token without surrounding spaces or tabs (bytes: no Foundation).
        let bytes = value.utf8
        guard bytes.count > 7, zip(bytes.prefix(7), "bearer ".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let isBlank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let token = bytes.dropFirst(7).drop(while: isBlank).reversed().drop(while: isBlank).reversed()
        return token.isEmpty ? "" : String(decoding: token, as: UTF8.self)
    }
}
