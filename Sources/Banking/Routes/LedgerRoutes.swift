import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Deposits, withdrawals and transfers (money-moving, Idempotency-Key required), journals and
/// account statements.
public struct LedgerRoutes: Sendable {
    public init() {}

    struct CashBody: StrictBody {
        static let fields: Set<String> = ["account_id", "amount", "currency", "memo"]
        let accountId: String
        let amount: Int64
        let currency: String
        let memo: String?
    }

    struct TransferBody: StrictBody {
        static let fields: Set<String> = ["from_account_id", "to_account_id", "amount", "currency", "memo"]
        let fromAccountId: String
        let toAccountId: String
        let amount: Int64
        let currency: String
        let memo: String?
    }

    public func mount(on routing: some TenantRouting) {
        let router = routing.router
        let table = routing.table
        for (path, kind) in [("/v1/deposits", "deposit"), ("/v1/withdrawals", "withdrawal")] {
            router.route(.post, path, "Cash \(kind) at the counter (teller or tenant admin)", in: table, idempotent: true, use: routing.scoped { request, scope in
                guard scope.principal.role.may(.postCash) else { throw Problem.forbidden("Only tellers and tenant admins handle cash.") }
                let raw = try await request.jsonBody()
                let body = try decodeStrictJSON(CashBody.self, from: raw)
                let (account, amount) = try validate(accountID: body.accountId, field: "account_id", minor: body.amount, currency: body.currency)
                let memo = try memoText(body.memo, default: kind == "deposit" ? "Cash deposit" : "Cash withdrawal")
                return try await idempotentPosting(request, scope: scope, route: path, raw: raw) { ledger in
                    let cash = try await ledger.cashAccount(amount.currency)
                    let locked = try await ledger.lock([cash, account])
                    guard let member = locked[account], member.memberID != nil else { throw accountNotFound(account) }
                    guard let till = locked[cash] else { throw accountNotFound(cash) }
                    let (from, to) = kind == "deposit" ? (till, member) : (member, till)
                    return try Posting.transfer(from: from, to: to, amount: amount, kind: kind, memo: memo)
                }
            })
        }
        router.route(.post, "/v1/transfers", "Move money between member accounts", in: table, idempotent: true, use: routing.scoped { request, scope in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(TransferBody.self, from: raw)
            let (from, amount) = try validate(accountID: body.fromAccountId, field: "from_account_id", minor: body.amount, currency: body.currency)
            let (to, _) = try validate(accountID: body.toAccountId, field: "to_account_id", minor: body.amount, currency: body.currency)
            let memo = try memoText(body.memo, default: "Transfer")
            guard scope.memberID != nil || scope.principal.role.may(.transferAny) else { throw Problem.forbidden("Your role may not move money.") }
            return try await idempotentPosting(request, scope: scope, route: "/v1/transfers", raw: raw) { ledger in
                let locked = try await ledger.lock([from, to])
                // A member moves only their own money; accounts they cannot see look missing.
                guard let source = locked[from], source.memberID != nil, scope.memberID == nil || source.memberID == scope.memberID else {
                    throw accountNotFound(from)
                }
                guard let target = locked[to], target.memberID != nil else { throw accountNotFound(to) }
                return try Posting.transfer(from: source, to: target, amount: amount, kind: "transfer", memo: memo)
            }
        })
        router.route(.get, "/v1/journals/{id}", "A journal with its entries", in: table, use: routing.scoped { request, scope in
            let id = try pathUUID(request, "Journal")
            let member = try ledgerReader(scope)
            guard let journal = try await scope.session.run({ try await LedgerStore($0).journal(id, visibleTo: member) }) else {
                throw Problem.notFound("Journal \(id.lowercased)")
            }
            return try Response.json(journal)
        })
        router.route(.get, "/v1/accounts/{id}/entries", "An account's statement, newest first", in: table, use: routing.scoped { request, scope in
            let id = AccountID(try pathUUID(request, "Account", segmentFromEnd: 1))
            let member = try ledgerReader(scope)
            let page = try PageRequest(query: request.queryDictionary)
            let statement = try await scope.session.run { db -> Page<StatementEntry>? in
                guard try await AccountStore.owned(id, by: member, in: db) else { return nil }
                return try await LedgerStore(db).statement(id, page: page)
            }
            guard let statement else { throw accountNotFound(id) }
            return try Response.json(statement)
        })
    }

    /// Members read the ledger of their own accounts; staff need the ledger-read permission.
    func ledgerReader(_ scope: TenantScope) throws -> MemberID? {
        if let member = scope.memberID { return member }
        guard scope.principal.role.may(.readLedger) else { throw Problem.forbidden("Your role may not read the ledger.") }
        return nil
    }
}

