import Foundation
import JWTKit
import Logging
import NzilaCore
import PostgresNIO

/// The control plane's signing keys. The active ES256 key is created on first use, its private half
/// sealed with the master key before it is written to `control.signing_keys`. `rotate` adds a new
/// active key and retires the old one; the JWKS keeps a retired key until every token it signed has
/// expired, so a rotation never refuses a valid token. Both planes reread the keys every few seconds
/// (and at once when a token names a key they do not know), so a rotation needs no restart. The data
/// plane reads the same keys (it signs member tokens) but may not create them.
public actor KeyRing {
    let client: PostgresClient
    let mayCreate: Bool
    let secrets: SecretBox
    let logger: Logger
    let tokenLifetimeSeconds: Int
    var loaded: (issuer: TokenIssuer, jwks: JWKSet)?
    var loadedAt = ContinuousClock.now
    /// How long a read of the keys is reused.
    static let refreshInterval: Duration = .seconds(5)

    public init(client: PostgresClient, secrets: SecretBox, tokenLifetimeSeconds: Int, mayCreate: Bool, logger: Logger) {
        self.client = client
        self.mayCreate = mayCreate
        self.secrets = secrets
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
        self.logger = logger
    }

    public func issuer() async throws -> TokenIssuer { try await load().issuer }

    public func jwks() async throws -> JWKSet { try await load().jwks }

    /// Rereads the keys now, because a token named a key this process has not seen (a rotation);
    /// at most four times a second, so tokens with made-up kids cannot flood the database.
    public func reload() async throws -> JWKSet {
        if let lastForced, ContinuousClock.now - lastForced < .milliseconds(250), let loaded { return loaded.jwks }
        lastForced = ContinuousClock.now
        return try await load(force: true).jwks
    }
    var lastForced: ContinuousClock.Instant?

    func load(force: Bool = false) async throws -> (issuer: TokenIssuer, jwks: JWKSet) {
        if let loaded, !force, ContinuousClock.now - loadedAt < Self.refreshInterval { return loaded }
        let (kid, sealed) = try await activeKey()
        let issuer: TokenIssuer
        if let loaded, loaded.issuer.kid == kid {
            issuer = loaded.issuer
        } else {
            let pem = String(decoding: try secrets.open(sealed), as: UTF8.self)
            issuer = await TokenIssuer(privateKey: try ES256PrivateKey(pem: pem), kid: kid, lifetimeSeconds: tokenLifetimeSeconds)
        }
        // A retired key is published as long as a token it signed can still be valid (lifetimes may
        // differ between planes, so twice the longest we issue, and at least an hour).
        let keep = Self.publishedSeconds(tokenLifetimeSeconds: tokenLifetimeSeconds)
        let keys = try await client.statement(
            "SELECT kid, x, y FROM control.signing_keys WHERE active OR retired_at > clock_timestamp() - \(keep) * interval '1 second' ORDER BY created_at",
            logger: logger
        ) { try await $0.all((String, String, String).self) }.map { PublicJWK(kid: $0.0, x: $0.1, y: $0.2) }
        let result = (issuer: issuer, jwks: JWKSet(keys: keys))
        loaded = result
        loadedAt = ContinuousClock.now
        return result
    }

    /// How long a retired key stays in the JWKS: twice the longest token lifetime, at least an hour.
    public static func publishedSeconds(tokenLifetimeSeconds: Int) -> Int { max(tokenLifetimeSeconds * 2, 3600) }

    /// Adds a new active key and retires the others, under the keys' advisory lock; returns the new kid.
    public static func rotate(client: PostgresClient, secrets: SecretBox, logger: Logger) async throws -> String {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('nzila.signing_keys'))", logger: logger)
            let kid = try await insertKey(secrets: secrets, on: connection, logger: logger)
            try await connection.query(
                "UPDATE control.signing_keys SET active = false, retired_at = clock_timestamp() WHERE active AND kid <> \(kid)", logger: logger)
            return kid
        }
    }

    static func insertKey(secrets: SecretBox, on connection: PostgresConnection, logger: Logger) async throws -> String {
        let key = ES256PrivateKey()
        guard let parameters = key.parameters else { throw SecretBox.Failure.unsealFailed }
        let kid = Data((0..<8).map { _ in UInt8.random(in: 0...255) }).hexString
        let sealed = try secrets.seal(Data(key.pemRepresentation.utf8))
        try await connection.query(
            "INSERT INTO control.signing_keys (kid, private_key_sealed, x, y) VALUES (\(kid), \(sealed), \(parameters.x), \(parameters.y))",
            logger: logger)
        return kid
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
            let kid = try await Self.insertKey(secrets: secrets, on: connection, logger: logger)
            guard
                let sealed = try await connection.query("SELECT private_key_sealed FROM control.signing_keys WHERE kid = \(kid)", logger: logger)
                    .first(Data.self)
            else { throw SecretBox.Failure.unsealFailed }
            return (kid, sealed)
        }
    }
}
