import Crypto
import Foundation
import Hummingbird
import NzilaCore
import PostgresNIO

/// Stripe-style Idempotency-Key handling on PostgreSQL. The key row is inserted in the same
/// transaction as the work and updated with the response before COMMIT, so:
/// - a key names a finished request or nothing (a rolled-back request leaves no key);
/// - a duplicate that arrives while the first runs blocks on the key's unique index until the first
///   commits, then replays its response: it never executes twice.
public struct IdempotencyGate: Sendable {
    /// A trusted table name (never user input) with columns scope, key, request_sha256, status, body.
    let table: String

    public init(table: String) { self.table = table }

    public static let control = IdempotencyGate(table: "control.idempotency_keys")
    /// The tenant's own table, reached through its session (search_path is the tenant schema).
    public static let tenant = IdempotencyGate(table: "idempotency_keys")

    /// Runs one statement in the caller's transaction.
    public typealias Execute = (PostgresQuery) async throws -> PostgresRowSequence

    /// A validated `Idempotency-Key` header.
    public static func key(from request: Request) throws(Problem) -> String {
        guard let key = request.headers[.idempotencyKey] else {
            throw Problem.badRequest("idempotency-key-required", "This request moves money or creates a tenant: send an Idempotency-Key header.")
        }
        guard (1...255).contains(key.count) else {
            throw Problem.badRequest("invalid-idempotency-key", "Idempotency-Key must be 1 to 255 characters.")
        }
        return key
    }

    public struct Stored: Sendable {
        public let status: Int
        public let body: Data

        /// The first response again, byte for byte, marked as a replay.
        public var response: Response {
            Response.jsonData(body, status: .init(code: status), headers: [.idempotentReplayed: "true"])
        }
    }

    /// Claims the key for this request, or returns the response of the request that already used it.
    /// Call inside the transaction that does the work.
    public func claim(
        scope: String, key: String, body: Data, on connection: PostgresConnection, logger: Logger
    ) async throws -> Stored? {
        try await claim(scope: scope, key: key, body: body) { try await connection.query($0, logger: logger) }
    }

    public func claim(scope: String, key: String, body: Data, execute: Execute) async throws -> Stored? {
        let hash = IdempotencyGate.requestHash(body)
        let inserted = try await execute(
            """
            INSERT INTO \(unescaped: table) (scope, key, request_sha256, status, body)
            VALUES (\(scope), \(key), \(hash), 0, ''::bytea) ON CONFLICT (scope, key) DO NOTHING RETURNING 1
            """
        ).first(Int.self)
        if inserted != nil { return nil }
        guard
            let (storedHash, status, storedBody) = try await execute(
                "SELECT request_sha256, status, body FROM \(unescaped: table) WHERE scope = \(scope) AND key = \(key)"
            ).first((Data, Int, Data).self)
        else {
            throw Problem.conflict("idempotency-in-progress", "A request with this Idempotency-Key is still running; retry shortly.")
        }
        return try IdempotencyGate.replay(status: status, body: storedBody, storedHash: storedHash, requestHash: hash)
    }

    /// What identifies "the same request" under a key: SHA-256 of the canonical JSON body.
    public static func requestHash(_ body: Data) -> Data {
        Data(SHA256.hash(data: canonical(body)))
    }

    /// The stored response of the key's first request, or 422 when this request's body differs.
    public static func replay(status: Int, body: Data, storedHash: Data, requestHash: Data) throws(Problem) -> Stored {
        guard constantTimeEquals(storedHash, requestHash) else {
            throw Problem(
                .unprocessableContent, "idempotency-key-reused", "Idempotency key reused",
                detail: "This Idempotency-Key was used with a different body.")
        }
        return Stored(status: status, body: body)
    }

    /// The body with object keys sorted and whitespace dropped, so "the same body" means the same JSON
    /// value, not the same bytes: clients may re-serialise a retry with its keys in another order.
    static func canonical(_ body: Data) -> Data {
        guard let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return body }
        return data
    }

    /// Records the response of a claimed key, in the same transaction.
    public func record(scope: String, key: String, status: Int, body: Data, on connection: PostgresConnection, logger: Logger) async throws {
        try await record(scope: scope, key: key, status: status, body: body) { try await connection.query($0, logger: logger) }
    }

    public func record(scope: String, key: String, status: Int, body: Data, execute: Execute) async throws {
        _ = try await execute("UPDATE \(unescaped: table) SET status = \(status), body = \(body) WHERE scope = \(scope) AND key = \(key)")
    }
}
