import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The SQL of revoked access tokens (`control.revoked_tokens`), refused until they expire.
struct RevokedTokenStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Whether the access token was revoked (its owner logged out).
    func isRevoked(_ token: String) async throws -> Bool {
        try await client.statement(
            "SELECT EXISTS (SELECT 1 FROM control.revoked_tokens WHERE token_sha256 = \(OpaqueToken.digest(token)))", logger: logger
        ) { try await $0.first(Bool.self) ?? false }
    }

    /// Revokes the access token until it expires (nothing when it already is).
    func revoke(_ accessToken: String, claims: AccessClaims) async throws {
        try await client.statement(
            """
            INSERT INTO control.revoked_tokens (token_sha256, expires_at) VALUES (\(OpaqueToken.digest(accessToken)), \(claims.exp.value))
            ON CONFLICT DO NOTHING
            """, logger: logger
        ) { _ in }
    }
}

extension ControlPlane {
    var revokedTokens: RevokedTokenStore { RevokedTokenStore(client: client, logger: logger) }
}
