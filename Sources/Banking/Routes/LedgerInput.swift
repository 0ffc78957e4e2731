import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Runs a money-moving write under its Idempotency-Key in one tenant transaction: a replay returns
/// the first response byte for byte; a refused write rolls back and records nothing, so a retry runs
/// it again. `work` returns the resource and its location. Every domain's money-moving POST uses it.
public func idempotentWrite<Value: Encodable & Sendable>(
    _ request: Request, context: TenantRequestContext, route: String, raw: Data,
    _ work: @escaping @Sendable (TenantDB) async throws -> (Value, String)
) async throws -> Response {
    let key = try IdempotencyGate.key(from: request)
    let keyScope = idempotencyScope(context, route: route)
    return try await context.session.run { db in
        let execute: IdempotencyGate.Execute = { try await db.query($0) }
        if let replay = try await IdempotencyGate.tenant.claim(scope: keyScope, key: key, body: raw, execute: execute) {
            return replay.response
        }
        let (value, location): (Value, String)
        do {
            (value, location) = try await work(db)
        } catch let error as PostingError {
            throw error.problem
        }
        let data = try JSONEncoder.api.encode(value)
        try await IdempotencyGate.tenant.record(scope: keyScope, key: key, status: 201, body: data, execute: execute)
        return Response.jsonData(data, status: .created, headers: [.location: location])
    }
}

/// Keys are scoped to the tenant (its own table), the caller and the route (API.md).
func idempotencyScope(_ context: TenantRequestContext, route: String) -> String {
    "\(context.principal.id.lowercased) POST \(route)"
}

/// Posts the journal a rule plans, idempotently.
func idempotentPosting(
    _ request: Request, context: TenantRequestContext, route: String, raw: Data, plan: @escaping @Sendable (LedgerStore) async throws -> JournalPlan
) async throws -> Response {
    try await idempotentWrite(request, context: context, route: route, raw: raw) { db in
        let ledger = LedgerStore(db)
        let journal = try await ledger.post(try await plan(ledger))
        return (journal, "/v1/journals/\(journal.id)")
    }
}

/// An account id and a valid amount in a supported currency, or every field error at once.
func validate(accountID raw: String, field: String, minor: Int64, currency code: String) throws -> (AccountID, Money) {
    var errors: [FieldError] = []
    let id = UUID(uuidString: raw)
    if id == nil { errors.append(FieldError(field: field, message: "must be a UUID")) }
    let currency = Currency(code: code)
    if currency == nil { errors.append(FieldError(field: "currency", message: "must be a supported ISO 4217 code")) }
    guard errors.isEmpty, let id, let currency else { throw Problem.validation(errors) }
    return (AccountID(id), try Posting.validateAmount(minor, currency: currency))
}

func memoText(_ memo: String?, default fallback: String) throws -> String {
    guard let memo else { return fallback }
    guard memo.count <= 140 else { throw Problem.validation(field: "memo", "must be at most 140 characters") }
    return memo
}

public func accountNotFound(_ id: AccountID) -> Problem {
    Problem(.notFound, "account-not-found", "Account not found", detail: "Account \(id.rawValue.lowercased) was not found.")
}

/// A 409 naming the current state (API.md, State machines), for every resource with a life cycle.
public func invalidTransition(_ what: String, current: String) -> Problem {
    Problem(.conflict, "invalid-transition", "Invalid transition", detail: "The \(what) is \(current); that action is not allowed now.")
}
