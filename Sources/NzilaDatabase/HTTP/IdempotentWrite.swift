import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore

extension TenantRequestContext {
    /// Runs a write under the request's Idempotency-Key in the request's one tenant transaction: a
    /// replay returns the first response byte for byte (a different body under the same key is a 422);
    /// a refused write rolls back and records nothing, so a retry runs it again. `work` returns the
    /// resource and its location. Every money-moving route of every domain writes through this.
    public func idempotentWrite<Value: Encodable & Sendable>(
        _ request: Request, route: String, raw: Data, status: HTTPResponse.Status = .created,
        _ work: @escaping @Sendable (TenantDB) async throws -> (Value, String)
    ) async throws -> Response {
        let key = try IdempotencyGate.key(from: request)
        let keyScope = idempotencyScope(route: route)
        return try await session.run { db in
            let execute: IdempotencyGate.Execute = { try await db.query($0) }
            if let replay = try await IdempotencyGate.tenant.claim(scope: keyScope, key: key, body: raw, execute: execute) {
                return replay.response
            }
            let (value, location) = try await work(db)
            let data = try JSONEncoder.api.encode(value)
            try await IdempotencyGate.tenant.record(scope: keyScope, key: key, status: Int(status.code), body: data, execute: execute)
            return Response.jsonData(data, status: status, headers: [.location: location])
        }
    }

    /// The same, for a write whose last step holds hot rows until COMMIT (a journal posted to the
    /// credit union's own accounts): `work` returns the answer and that step, and the key's record is
    /// written *before* the step, so the rows are held for the step and COMMIT only. A step that
    /// throws rolls back everything, the key's record included, as any refused write.
    public func idempotentWrite<Value: Encodable & Sendable>(
        _ request: Request, route: String, raw: Data, status: HTTPResponse.Status = .created,
        finishingWith work: @escaping @Sendable (TenantDB) async throws -> (Value, String, last: @Sendable () async throws -> Void)
    ) async throws -> Response {
        let key = try IdempotencyGate.key(from: request)
        let keyScope = idempotencyScope(route: route)
        return try await session.run { db in
            let execute: IdempotencyGate.Execute = { try await db.query($0) }
            if let replay = try await IdempotencyGate.tenant.claim(scope: keyScope, key: key, body: raw, execute: execute) {
                return replay.response
            }
            let (value, location, last) = try await work(db)
            let data = try JSONEncoder.api.encode(value)
            try await IdempotencyGate.tenant.record(scope: keyScope, key: key, status: Int(status.code), body: data, execute: execute)
            try await last()
            return Response.jsonData(data, status: status, headers: [.location: location])
        }
    }

    /// Keys are scoped to the tenant (its own table), the caller and the route (API.md).
    public func idempotencyScope(route: String) -> String {
        "\(principal.id.lowercased) POST \(route)"
    }
}
