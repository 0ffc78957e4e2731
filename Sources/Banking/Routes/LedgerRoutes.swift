import Foundation
import Ledger
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Deposits, withdrawals and transfers (money-moving, Idempotency-Key required), journals,
/// account statements and members' money in and out per day.
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

    struct ReverseBody: StrictBody {
        static let fields: Set<String> = ["memo"]
        let memo: String?
    }

    /// A conversion's journal and the arithmetic behind it, so a client can check it.
    struct ConversionResult: Codable, Sendable {
        let journal: JournalRecord
        let sendAmount: Money
        let receiveAmount: Money
        let midRate: String
        let customerRate: String
        let spreadBps: Int
        let spread: Money
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/conversions", "Convert between a member's own accounts in two currencies", access: .ownOrStaff(.transferAny), idempotent: true, body: TransferBody.self, answer: ConversionResult.self, use: { request, context in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(TransferBody.self, from: raw)
            let (from, send) = try validate(accountID: body.fromAccountId, field: "from_account_id", minor: body.amount, currency: body.currency)
            guard let toID = UUID(uuidString: body.toAccountId) else { throw Problem.validation(field: "to_account_id", "must be a UUID") }
            let to = AccountID(toID)
            let memo = try memoText(body.memo, default: "Conversion")
            return try await context.idempotentWrite(request, route: "/v1/conversions", raw: raw) { db in
                let ledger = LedgerStore(db)
                // An account's currency never changes, so it is read before locking; then every account
                // the journal touches is locked at once, in id order, as transfers and deposits do.
                guard let targetCurrency = try await ledger.currency(of: to) else { throw RuleError.accountNotFound(to) }
                guard send.currency != targetCurrency else {
                    throw Problem.validation(field: "to_account_id", "must hold another currency; use /v1/transfers within one")
                }
                guard let mid = try await ledger.midRate(from: send.currency, to: targetCurrency) else {
                    throw Problem(.unprocessableContent, "rate-unavailable", "No FX rate", detail: "No rate from \(send.currency.code) to \(targetCurrency.code).")
                }
                let quote = try ConversionQuote.quote(send: send, to: targetCurrency, mid: mid, spreadBps: try await ledger.fxSpreadBps())
                let own = try await ledger.systemAccounts([("cash", send.currency), ("cash", targetCurrency), ("fx_spread_income", targetCurrency)])
                let cashFrom = own["cash/\(send.currency.code)"]!
                let cashTo = own["cash/\(targetCurrency.code)"]!
                let income = own["fx_spread_income/\(targetCurrency.code)"]!
                let locked = try await ledger.lock([from, to, cashFrom, cashTo, income])
                guard let a = locked[from], let owner = a.memberID, context.memberID == nil || owner == context.memberID else {
                    throw RuleError.accountNotFound(from)
                }
                guard let b = locked[to], b.memberID == owner else { throw RuleError.accountNotFound(to) }
                guard let c = locked[cashFrom], let d = locked[cashTo], let e = locked[income] else { throw RuleError.accountNotFound(cashFrom) }
                let journal = try await ledger.post(
                    try Posting.conversion(from: a, to: b, cashFrom: c, cashTo: d, spreadIncome: e, quote: quote, memo: memo))
                let result = ConversionResult(
                    journal: journal, sendAmount: quote.send, receiveAmount: quote.receive, midRate: quote.midRate.decimal,
                    customerRate: quote.customerRate.decimal, spreadBps: quote.spreadBps, spread: quote.spread)
                return (result, "/v1/journals/\(journal.id)")
            }
        })
        for (path, kind) in [("/v1/deposits", "deposit"), ("/v1/withdrawals", "withdrawal")] {
            routes.route(.post, path, "Cash \(kind) at the counter (teller or tenant admin)", access: .staff(.postCash), idempotent: true, body: CashBody.self, answer: JournalRecord.self, use: { request, context in
                let raw = try await request.jsonBody()
                let body = try decodeStrictJSON(CashBody.self, from: raw)
                let (account, amount) = try validate(accountID: body.accountId, field: "account_id", minor: body.amount, currency: body.currency)
                let memo = try memoText(body.memo, default: kind == "deposit" ? "Cash deposit" : "Cash withdrawal")
                return try await idempotentPosting(request, context: context, route: path, raw: raw) { ledger in
                    let cash = try await ledger.systemAccount("cash", amount.currency)
                    let locked = try await ledger.lock([cash, account])
                    guard let member = locked[account], member.memberID != nil else { throw RuleError.accountNotFound(account) }
                    guard let till = locked[cash] else { throw RuleError.accountNotFound(cash) }
                    let (from, to) = kind == "deposit" ? (till, member) : (member, till)
                    return try Posting.transfer(from: from, to: to, amount: amount, kind: kind, memo: memo)
                }
            })
        }
        routes.route(.post, "/v1/transfers", "Move money between member accounts", access: .ownOrStaff(.transferAny), idempotent: true, body: TransferBody.self, answer: JournalRecord.self, use: { request, context in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(TransferBody.self, from: raw)
            let (from, amount) = try validate(accountID: body.fromAccountId, field: "from_account_id", minor: body.amount, currency: body.currency)
            let (to, _) = try validate(accountID: body.toAccountId, field: "to_account_id", minor: body.amount, currency: body.currency)
            let memo = try memoText(body.memo, default: "Transfer")
            // The plain case in one round trip; anything else (and every refusal) on the general path.
            let plain = OneStatementTransfer(
                from: from, to: to, amount: amount, memo: memo, keyScope: context.idempotencyScope(route: "/v1/transfers"),
                key: try IdempotencyGate.key(from: request), requestHash: IdempotencyGate.requestHash(raw))
            switch try await plain.run(in: context.session) {
            case .posted(let journal, let data):
                return Response.jsonData(data, status: .created, headers: [.location: "/v1/journals/\(journal.id)"])
            case .used(let storedHash, let status, let data):
                return try IdempotencyGate.replay(status: status, body: data, storedHash: storedHash, requestHash: plain.requestHash).response
            case .needsGeneralPath:
                break
            }
            return try await idempotentPosting(request, context: context, route: "/v1/transfers", raw: raw) { ledger in
                let locked = try await ledger.lock([from, to])
                // A member moves only their own money; accounts they cannot see look missing.
                guard let source = locked[from], source.memberID != nil, context.memberID == nil || source.memberID == context.memberID else {
                    throw RuleError.accountNotFound(from)
                }
                guard let target = locked[to], target.memberID != nil else { throw RuleError.accountNotFound(to) }
                return try Posting.transfer(from: source, to: target, amount: amount, kind: "transfer", memo: memo)
            }
        })
        routes.route(.post, "/v1/journals/{id}/reverse", "Correct a journal with its exact opposite (tenant admin)", access: .staff(.reverseJournal), idempotent: true, body: ReverseBody.self, answer: JournalRecord.self, use: { request, context in
            let id = try context.pathUUID("Journal")
            let raw = request.headers[.contentType] == nil ? Data("{}".utf8) : try await request.jsonBody()
            let body = try decodeStrictJSON(ReverseBody.self, from: raw)
            let memo = try memoText(body.memo, default: "Reversal of \(id.lowercased)")
            return try await context.idempotentWrite(request, route: "/v1/journals/\(id.lowercased)/reverse", raw: raw) { db in
                let ledger = LedgerStore(db)
                guard let original = try await ledger.legs(of: id) else { throw Problem.notFound("Journal \(id.lowercased)") }
                guard !original.isReversal else { throw RuleError.invalidTransition("journal", current: "a reversal itself") }
                guard !original.reversed else { throw RuleError.invalidTransition("journal", current: "already reversed") }
                let locked = try await ledger.lock(original.legs.map(\.account))
                let journal = try await ledger.post(try Posting.reversal(of: id, legs: original.legs, accounts: locked, memo: memo))
                return (journal, "/v1/journals/\(journal.id)")
            }
        })
        routes.route(.get, "/v1/journals/{id}", "A journal with its entries", access: .ownOrStaff(.readLedger), answer: JournalRecord.self, use: { request, context in
            let id = try context.pathUUID("Journal")
            let member = context.memberID
            guard let journal = try await context.session.run({ try await LedgerStore($0).journal(id, visibleTo: member) }) else {
                throw Problem.notFound("Journal \(id.lowercased)")
            }
            return try Response.json(journal)
        })
        routes.route(.get, "/v1/accounts/{id}/entries", "An account's statement, newest first", access: .ownOrStaff(.readLedger), answer: Page<StatementEntry>.self, use: { request, context in
            let id = AccountID(try context.pathUUID("Account"))
            let member = context.memberID
            let page = try PageRequest(query: request.queryDictionary)
            let statement = try await context.session.run { db -> Page<StatementEntry>? in
                guard try await AccountStore.owned(id, by: member, in: db) else { return nil }
                return try await LedgerStore(db).statement(id, page: page)
            }
            guard let statement else { throw RuleError.accountNotFound(id) }
            return try Response.json(statement)
        })
        routes.route(
            .get, "/v1/ledger/flows", "Members' money in and out per currency and journal kind over whole UTC days (?from=&to=, today by default)",
            access: .staff(.readLedger), answer: MoneyFlows.self, use: { request, context in
                let query = request.queryDictionary
                let days = try DayRange.parse(
                    from: query["from"], to: query["to"], defaultFrom: try DayRange.day(of: context.now.timeIntervalSince1970), maxDays: MoneyFlows.maxDays)
                let rows = try await context.session.run { try await LedgerStore($0).memberFlows(from: days.from, to: days.to) }
                return try Response.json(try MoneyFlows.summarise(from: days.from, to: days.to, rows))
            })
    }
}
