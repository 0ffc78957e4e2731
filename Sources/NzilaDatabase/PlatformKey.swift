import Crypto
import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// The platform key (control.platform_keys, Migrations/control/0024): unwrapped once at start by the master key's
/// provider and used as the `SecretBox` that seals the platform's own secrets.
public enum PlatformKey {
    public struct CannotAdopt: Error, CustomStringConvertible {
        public var description: String {
            "the signing keys were sealed by an earlier build under a master this provider does not have: give that master as NZILA_MASTER_KEY (or NZILA_MASTER_KEY_PREVIOUS during a rotation) for this first start"
        }
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "there is no platform key yet: start the control plane (or any nzila command with the owner's URL) once, with the master key's provider configured"
        }
    }

    /// The platform key, made on first use when `mayCreate` (as the owner): the local master itself, so values an
    /// earlier build sealed under the master keep opening, or a random key under a key service.
    public static func load(client: PostgresClient, provider: any KeyProvider, mayCreate: Bool, logger: Logger) async throws -> SecretBox {
        if let wrapped = try await current(client, logger: logger) { return SecretBox(key: try await provider.unwrap(wrapped)) }
        guard mayCreate else { throw Missing() }
        // An earlier build sealed the signing keys under the master: the platform key is the master that opens them
        // (the previous one, if the first start of this build is mid-rotation), or a fresh key on a fresh deployment.
        let candidates = try await provider.platformKeyCandidates()
        let sealed = try await client.statement("SELECT private_key_sealed FROM control.signing_keys LIMIT 1", logger: logger) { try await $0.first(Data.self) }
        let key: SymmetricKey
        if let sealed {
            guard let opening = candidates.first(where: { (try? SecretBox(key: $0).open(sealed)) != nil }) else {
                throw CannotAdopt()
            }
            key = opening
        } else {
            key = candidates.first ?? SymmetricKey(size: .bits256)
        }
        let wrapped = try await provider.wrap(key)
        let kind = provider is LocalKeyProvider ? "local" : "vault"
        try await client.statement(
            "INSERT INTO control.platform_keys (id, wrapped, provider) VALUES (1, \(wrapped), \(kind)) ON CONFLICT (id) DO NOTHING", logger: logger) { _ in }
        // Two first starts at once: the row that won is the key.
        guard let stored = try await current(client, logger: logger) else { throw Missing() }
        return SecretBox(key: try await provider.unwrap(stored))
    }

    /// Whether the deployment has its platform key yet (`nzila doctor`).
    public static func exists(_ client: PostgresClient, logger: Logger) async throws -> Bool {
        try await current(client, logger: logger) != nil
    }

    static func current(_ client: PostgresClient, logger: Logger) async throws -> Data? {
        // A data plane newer than the database's migrations names what to do instead of a missing relation.
        let migrated = try await client.statement("SELECT to_regclass('control.platform_keys') IS NOT NULL", logger: logger) { rows in
            try await rows.first(Bool.self) ?? false
        }
        guard migrated else { throw NotMigrated() }
        return try await client.statement("SELECT wrapped FROM control.platform_keys ORDER BY id DESC LIMIT 1", logger: logger) { try await $0.first(Data.self) }
    }

    public struct NotMigrated: Error, CustomStringConvertible {
        public var description: String { "control.platform_keys does not exist yet: start the control plane of this build (it applies the migrations) first" }
    }
}
