import Foundation
import Ledger
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
        routes.route(.post, "/v1/holds", "Reserve an amount on an account", access: .ownOrStaff(.transferAny), idempotent: true, body: PlaceBody.self, answer: HoldRecord.self, use: { request, context in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(PlaceBody.self, from: raw)
            let (account, amount) = try validate(accountID: body.accountId, field: "account_id", minor: body.amount, currency: body.currency)
            let lifetime = body.expiresInSeconds ?? Self.defaultLifetimeSeconds
            guard (1...Self.maxLifetimeSeconds).contains(lifetime) else {
                throw Problem.validation(field: "expires_in_seconds", "must be from 1 to \(Self.maxLifetimeSeconds)")
            }
            let memo = try memoText(body.memo, default: "Hold")
            return try await context.idempotentWrite(request, route: "/v1/holds", raw: raw) { db in
                let hold = try await HoldStore(db).place(
                    on: account, owner: context.memberID, amount: amount, expiresAt: context.now.addingTimeInterval(TimeInterval(lifetime)), memo: memo)
                return (hold, "/v1/holds/\(hold.id)")
            }
        })
        routes.route(.get, "/v1/holds/{id}", "Get a hold", access: .ownOrStaff(.readLedger), answer: HoldRecord.self, use: { request, context in
            let id = try context.pathUUID("Hold")
            guard let hold = try await context.session.run({ try await HoldStore($0).hold(id, visibleTo: context.memberID) }) else {
                throw RuleError.holdNotFound(id)
            }
            return try Response.json(hold)
        })
        routes.route(.post, "/v1/holds/{id}/capture", "Post all or part of a hold; the rest is released", access: .ownOrStaff(.transferAny), idempotent: true, body: CaptureBody.self, answer: HoldRecord.self, use: { request, context in
            let id = try context.pathUUID("Hold")
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(CaptureBody.self, from: raw)
            guard let target = UUID(uuidString: body.toAccountId).map({ AccountID($0) }) else {
                throw Problem.validation(field: "to_account_id", "must be a UUID")
            }
            let memo = try memoText(body.memo, default: "Hold capture")
            return try await context.idempotentWrite(request, route: "/v1/holds/\(id.lowercased)/capture", raw: raw, status: .ok) { db in
                let (hold, source, locked) = try await HoldStore(db).active(id, visibleTo: context.memberID, alsoLocking: [target])
                let amount = try Posting.validateAmount(body.amount ?? hold.amount.minorUnits, currency: hold.amount.currency)
                guard amount.minorUnits <= hold.amount.minorUnits else {
                    throw Problem.validation(field: "amount", "must be at most the held \(hold.amount.minorUnits)")
                }
                guard let destination = locked[target], context.memberID == nil || destination.memberID != nil else {
                    throw RuleError.accountNotFound(target)
                }
                // The floor check sees the reserved money as available again.
                let plan = try Posting.transfer(
                    from: source.releasing(hold.amount.minorUnits), to: destination, amount: amount, kind: "hold_capture", memo: memo)
                let (ended, _) = try await HoldStore(db).capture(hold, account: source.id, captured: amount.minorUnits, posting: plan)
                return (ended, "/v1/holds/\(ended.id)")
            }
        })
        routes.route(.post, "/v1/holds/{id}/void", "Release a hold without posting", access: .ownOrStaff(.transferAny), idempotent: true, body: VoidBody.self, answer: HoldRecord.self, use: { request, context in
            let id = try context.pathUUID("Hold")
            // An action with nothing to say may come without a body.
            let raw = request.headers[.contentType] == nil ? Data("{}".utf8) : try await request.jsonBody()
            _ = try decodeStrictJSON(VoidBody.self, from: raw)
            return try await context.idempotentWrite(request, route: "/v1/holds/\(id.lowercased)/void", raw: raw, status: .ok) { db in
                let holds = HoldStore(db)
                let (hold, source, _) = try await holds.active(id, visibleTo: context.memberID)
                let ended = try await holds.void(hold, account: source.id)
                return (ended, "/v1/holds/\(ended.id)")
            }
        })
    }
}
