import Foundation
import Ledger
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Posts the journal a rule plans, idempotently.
func idempotentPosting(
    _ request: Request, context: TenantRequestContext, route: String, raw: Data, plan: @escaping @Sendable (LedgerStore) async throws -> JournalPlan
) async throws -> Response {
    try await context.idempotentWrite(request, route: route, raw: raw) { db in
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
