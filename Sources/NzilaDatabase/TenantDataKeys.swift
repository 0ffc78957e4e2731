import Crypto
import Foundation
import NzilaCore
import PostgresNIO

/// Each tenant's data key for PII: 256 random bits, created on first use, stored in the tenant's
/// schema wrapped by the master key's provider, unwrapped once per process and kept in memory. (With a key
/// service, the first use of a key in a process is one call to it, inside the request's transaction.)
public actor TenantDataKeys {
    let provider: any KeyProvider
    var keys: [UUID: [Int: SymmetricKey]] = [:]

    public init(provider: any KeyProvider) {
        self.provider = provider
    }

    /// The newest key seen committed per tenant, and when it was read: reused for a minute, so sealing
    /// costs no round trip. A key this transaction creates is not remembered until a later read sees it
    /// (if the transaction rolled back, the key never existed).
    var newest: [UUID: (id: Int, key: SymmetricKey, at: ContinuousClock.Instant)] = [:]

    /// The newest key of the tenant (creating the first one if there is none), inside the caller's transaction.
    public func current(_ db: TenantDB) async throws -> (id: Int, key: SymmetricKey) {
        let tenant = db.tenant.id.rawValue
        if let known = newest[tenant], ContinuousClock.now - known.at < .seconds(60) { return (known.id, known.key) }
        let newestKey: PostgresQuery = "SELECT id, sealed_key FROM tenant_data_keys ORDER BY id DESC LIMIT 1"
        var row = try await db.query(newestKey).first((Int, Data).self)
        var committed = row != nil
        if row == nil {
            // Two first documents at once: the loser's insert waits for the winner and does nothing, and
            // the next statement (a new snapshot) reads the winner's key.
            let sealed = try await Self.answering503 { [provider] in try await provider.wrap(SymmetricKey(size: .bits256)) }
            row = try await db.query(
                "INSERT INTO tenant_data_keys (id, sealed_key) VALUES (1, \(sealed)) ON CONFLICT (id) DO NOTHING RETURNING id, sealed_key"
            ).first((Int, Data).self)
            if row == nil {
                row = try await db.query(newestKey).first((Int, Data).self)
                committed = true
            }
        }
        guard let (id, sealed) = row else { throw Problem.internalError }
        let key = try await unseal(tenant: tenant, id: id, sealed: sealed, remember: committed)
        if committed { newest[tenant] = (id, key, .now) }
        return (id, key)
    }

    /// The key a document was sealed with.
    public func key(_ id: Int, _ db: TenantDB) async throws -> SymmetricKey {
        if let key = keys[db.tenant.id.rawValue]?[id] { return key }
        guard let sealed = try await db.query("SELECT sealed_key FROM tenant_data_keys WHERE id = \(id)").first(Data.self) else {
            throw Problem.internalError
        }
        return try await unseal(tenant: db.tenant.id.rawValue, id: id, sealed: sealed)
    }

    /// `remember`: false for a key this transaction just created, which a rollback would erase; a
    /// remembered one would then shadow the key a later transaction stores under the same id.
    func unseal(tenant: UUID, id: Int, sealed: Data, remember: Bool = true) async throws -> SymmetricKey {
        if remember, let key = keys[tenant]?[id] { return key }
        let key = try await Self.answering503 { [provider] in try await provider.unwrap(sealed) }
        if remember { keys[tenant, default: [:]][id] = key }
        return key
    }
}

extension TenantDataKeys {
    /// A key service that fails inside a request is a 503 the client may retry, never a 500.
    static func answering503<Result: Sendable>(_ call: @Sendable () async throws -> Result) async throws -> Result {
        do { return try await call() } catch let failure as KeyProviderFailure {
            throw Problem(
                .serviceUnavailable, "key-service-unavailable", "Key service unavailable",
                detail: "The platform's key service did not unwrap this credit union's data key (\(failure.description.prefix(200))); try again.",
                headers: [.retryAfter: "30"])
        }
    }

    /// `plaintext` sealed with AES-256-GCM under the tenant's current key, bound to `binding` (say what it is and whose:
    /// it then opens only as that); the sealed bytes and the key's id to store beside them.
    public func seal(_ plaintext: Data, binding: Data, _ db: TenantDB) async throws -> (sealed: Data, keyID: Int) {
        let (id, key) = try await current(db)
        guard let combined = try AES.GCM.seal(plaintext, using: key, authenticating: binding).combined else { throw Problem.internalError }
        return (combined, id)
    }

    /// What `seal` sealed, or nil when it does not open as `binding` under its key (altered, or moved).
    public func open(_ sealed: Data, keyID: Int, binding: Data, _ db: TenantDB) async throws -> Data? {
        let key = try await key(keyID, db)
        guard let box = try? AES.GCM.SealedBox(combined: sealed) else { return nil }
        return try? AES.GCM.open(box, using: key, authenticating: binding)
    }
}
