import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Two-phase holds: place, capture (whole or part; the rest is released), void; holds expire.
public struct HoldRoutes: Sendable {
    public init() {}

    /// How long a hold lives unless the request says otherwise, and the longest it may.
    public static let defaultLifetimeSeconds = 7 * 24 * 3600
    public static let maxLifetimeSeconds = 30 * 24 * 3600

    struct PlaceBody: StrictBody {
        static let fields: Set<String> = ["account_id", "amount", "currency", "expires_in_seconds", "memo"]
        let accountId: String
        let amount: Int64
        let currency: String
        let expiresInSeconds: Int?
        let memo: String?
    }

    struct CaptureBody: StrictBody {
        static let fields: Set<String> = ["to_account_id", "amount", "memo"]
        let toAccountId: String
        let amount: Int64?
        let memo: String?
    }

    struct VoidBody: StrictBody {
        static let fields: Set<String> = []
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/holds", "Reserve an amount on an account", access: .ownOrStaff(.transferAny), idempotent: true, use: { request, context in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(PlaceBody.self, from: raw)
            let (account, amount) = try validate(accountID: body.accountId, field: "account_id", minor: body.amount, currency: body.currency)
            let lifetime = body.expiresInSeconds ?? Self.defaultLifetimeSeconds
            guard (1...Self.maxLifetimeSeconds).contains(lifetime) else {
                throw Problem.validation(field: "expires_in_seconds", "must be from 1 to \(Self.maxLifetimeSeconds)")
            }
            let memo = try memoText(body.memo, default: "Hold")
            return try await context.idempotentWrite(request, route: "/v1/holds", raw: raw) { db in
                let locked = try await LedgerStore(db).lock([account])
                guard let source = locked[account], source.memberID != nil, context.memberID == nil || source.memberID == context.memberID else {
                    throw accountNotFound(account)
                }
                guard source.status == "open" else { throw PostingError.accountFrozen(account, status: source.status) }
                guard source.currency == amount.currency else {
                    throw PostingError.currencyMismatch(account: account, accountCurrency: source.currency, requested: amount.currency)
                }
                try Posting.requireSpendable(amount, from: source)
                let hold = try await HoldStore(db).place(
                    on: source, amount: amount, expiresAt: context.now.addingTimeInterval(TimeInterval(lifetime)), memo: memo)
                return (hold, "/v1/holds/\(hold.id)")
            }
        })
        routes.route(.get, "/v1/holds/{id}", "Get a hold", access: .ownOrStaff(.readLedger), use: { request, context in
            let id = try context.pathUUID("Hold")
            guard let hold = try await context.session.run({ try await HoldStore($0).hold(id, visibleTo: context.memberID) }) else {
                throw holdNotFound(id)
            }
            return try Response.json(hold)
        })
        routes.route(.post, "/v1/holds/{id}/capture", "Post all or part of a hold; the rest is released", access: .ownOrStaff(.transferAny), idempotent: true, use: { request, context in
            let id = try context.pathUUID("Hold")
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(CaptureBody.self, from: raw)
            guard let target = UUID(uuidString: body.toAccountId).map({ AccountID($0) }) else {
                throw Problem.validation(field: "to_account_id", "must be a UUID")
            }
            let memo = try memoText(body.memo, default: "Hold capture")
            return try await context.idempotentWrite(request, route: "/v1/holds/\(id.lowercased)/capture", raw: raw) { db in
                let (hold, source, locked) = try await activeHold(id, context: context, db: db, alsoLocking: [target])
                let amount = try Posting.validateAmount(body.amount ?? hold.amount.minorUnits, currency: hold.amount.currency)
                guard amount.minorUnits <= hold.amount.minorUnits else {
                    throw Problem.validation(field: "amount", "must be at most the held \(hold.amount.minorUnits)")
                }
                guard let destination = locked[target], context.memberID == nil || destination.memberID != nil else {
                    throw accountNotFound(target)
                }
                // Release first, so the floor check sees the reserved money as available again.
                let holds = HoldStore(db)
                _ = try await holds.finish(id, account: source.id, amount: hold.amount.minorUnits, status: "captured", captured: amount.minorUnits, journal: nil)
                let released = AccountSnapshot(
                    id: source.id, memberID: source.memberID, currency: source.currency, status: source.status, balanceMinor: source.balanceMinor,
                    heldMinor: source.heldMinor - hold.amount.minorUnits, floorMinor: source.floorMinor)
                let journal = try await LedgerStore(db).post(
                    try Posting.transfer(from: released, to: destination, amount: amount, kind: "hold_capture", memo: memo))
                let ended = try await holds.linkJournal(id, journal: UUID(uuidString: journal.id)!)
                return (ended, "/v1/holds/\(ended.id)")
            }
        })
        routes.route(.post, "/v1/holds/{id}/void", "Release a hold without posting", access: .ownOrStaff(.transferAny), idempotent: true, use: { request, context in
            let id = try context.pathUUID("Hold")
            // An action with nothing to say may come without a body.
            let raw = request.headers[.contentType] == nil ? Data("{}".utf8) : try await request.jsonBody()
            _ = try decodeStrictJSON(VoidBody.self, from: raw)
            return try await context.idempotentWrite(request, route: "/v1/holds/\(id.lowercased)/void", raw: raw) { db in
                let (hold, source, _) = try await activeHold(id, context: context, db: db, alsoLocking: [])
                let ended = try await HoldStore(db).finish(id, account: source.id, amount: hold.amount.minorUnits, status: "voided", captured: 0, journal: nil)
                return (ended, "/v1/holds/\(ended.id)")
            }
        })
    }

    /// The hold, locked, with its account locked (which also expires it if its time has passed);
    /// anything but an active hold is a 409 naming its state.
    func activeHold(_ id: UUID, context: TenantRequestContext, db: TenantDB, alsoLocking others: [AccountID]) async throws
        -> (HoldRecord, AccountSnapshot, [AccountID: AccountSnapshot])
    {
        let holds = HoldStore(db)
        // Every change to a hold happens under its account's row lock, so locking the account (not the
        // hold first) keeps one lock order with transfers, which may expire holds of that account.
        guard let found = try await holds.hold(id, visibleTo: context.memberID),
            let accountID = UUID(uuidString: found.accountId).map({ AccountID($0) })
        else { throw holdNotFound(id) }
        let locked = try await LedgerStore(db).lock([accountID] + others)
        guard let hold = try await holds.hold(id, visibleTo: context.memberID), let account = locked[accountID] else { throw holdNotFound(id) }
        guard hold.status == "active" else { throw RuleError.invalidTransition("hold", current: hold.status) }
        return (hold, account, locked)
    }
}

func holdNotFound(_ id: UUID) -> Problem {
    Problem(.notFound, "hold-not-found", "Hold not found", detail: "Hold \(id.lowercased) was not found.")
}
