import Crypto
import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// The platform key (control.platform_keys, Migrations/control/0024): unwrapped once at start by the master key's
/// provider and used as the `SecretBox` that seals the platform's own secrets.
public enum PlatformKey {
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
        let key = try await provider.firstPlatformKey() ?? SymmetricKey(size: .bits256)
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
        try await client.statement("SELECT wrapped FROM control.platform_keys ORDER BY id DESC LIMIT 1", logger: logger) { try await $0.first(Data.self) }
    }
}
