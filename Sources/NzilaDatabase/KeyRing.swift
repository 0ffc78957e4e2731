import Foundation
import JWTKit
import Logging
import NzilaCore
import PostgresNIO

/// The control plane's signing keys. The active ES256 key is created on first use, its private half
/// sealed with the master key before it is written to `control.signing_keys`; every non-retired key
/// is published in the JWKS so tokens signed before a rotation still verify. The data plane reads the
/// same keys (it signs member tokens) but may not create them.
public actor KeyRing {
    let client: PostgresClient
    let mayCreate: Bool
    let secrets: SecretBox
    let logger: Logger
    let tokenLifetimeSeconds: Int
    var loaded: (issuer: TokenIssuer, jwks: JWKSet)?

    public init(client: PostgresClient, secrets: SecretBox, tokenLifetimeSeconds: Int, mayCreate: Bool, logger: Logger) {
        self.client = client
        self.mayCreate = mayCreate
        self.secrets = secrets
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
        self.logger = logger
    }

    public func issuer() async throws -> TokenIssuer { try await load().issuer }

    public func jwks() async throws -> JWKSet { try await load().jwks }

    func load() async throws -> (issuer: TokenIssuer, jwks: JWKSet) {
        if let loaded { return loaded }
        let (kid, sealed) = try await activeKey()
        let pem = String(decoding: try secrets.open(sealed), as: UTF8.self)
        let issuer = await TokenIssuer(privateKey: try ES256PrivateKey(pem: pem), kid: kid, lifetimeSeconds: tokenLifetimeSeconds)
        let keys = try await client.statement("SELECT kid, x, y FROM control.signing_keys ORDER BY created_at", logger: logger)
             { try await $0.all((String, String, String).self) }.map { PublicJWK(kid: $0.0, x: $0.1, y: $0.2) }
        let result = (issuer: issuer, jwks: JWKSet(keys: keys))
        loaded = result
        return result
    }

    /// The active key, creating it under an advisory lock so two control planes starting together
    /// agree on one.
    func activeKey() async throws -> (String, Data) {
        let secrets = self.secrets
        if !mayCreate {
            guard let existing = try await (client.statement(
                "SELECT kid, private_key_sealed FROM control.signing_keys WHERE active ORDER BY created_at DESC LIMIT 1", logger: logger
            ) { try await $0.first((String, Data).self) }) else {
                throw Problem(.serviceUnavailable, "signing-key-unavailable", "Signing key unavailable", detail: "Start the control plane first: it creates the signing key.")
            }
            return existing
        }
        return try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('nzila.signing_keys'))", logger: logger)
            if let existing = try await connection.query(
                "SELECT kid, private_key_sealed FROM control.signing_keys WHERE active ORDER BY created_at DESC LIMIT 1", logger: logger
            ).first((String, Data).self) {
                return existing
            }
            let key = ES256PrivateKey()
            guard let parameters = key.parameters else { throw SecretBox.Failure.unsealFailed }
            let kid = Data((0..<8).map { _ in UInt8.random(in: 0...255) }).hexString
            let sealed = try secrets.seal(Data(key.pemRepresentation.utf8))
            try await connection.query(
                "INSERT INTO control.signing_keys (kid, private_key_sealed, x, y) VALUES (\(kid), \(sealed), \(parameters.x), \(parameters.y))",
                logger: logger)
            return (kid, sealed)
        }
    }
}
