import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

struct CopyBody: StrictBody {
    static let fields: Set<String> = ["leader_member_id", "amount", "copy_open_positions", "stop_loss_pct", "member_id"]
    /// A member whose trading profile is copyable.
    let leaderMemberId: String?
    /// `{"amount": minor units, "currency": "CAD"}`: held back on the main account's buying power for the copy.
    let amount: AmountBody?
    /// Buy the leader's holdings now, in their proportions of equity (default false).
    let copyOpenPositions: Bool?
    /// 5–95: the copy closes everything when its equity falls this far below its amount.
    let stopLossPct: Int?
    /// Staff start a copy for a member (a member leaves it out).
    let memberId: String?
}

struct StopCopyBody: StrictBody {
    static let fields: Set<String> = ["close_positions"]
    /// Sell what the copy holds at market (default false: the positions stay the follower's to sell).
    let closePositions: Bool?
}

/// Copy trading within the credit union (`CopyTrading`, `CopyTrader`, `CopyStore`).
struct CopyRoutes {
    /// Copies a leader may have at once: each leader fill is mirrored to every copy in its transaction.
    static let maxCopiers = 100

    func mount(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/trading/copies", "Copy a member who opted in: a separate paper account mirrors their fills, scaled and rounded down to the lot",
            access: .ownOrStaff(.manageTrading), idempotent: true, body: CopyBody.self, answer: CopyView.self
        ) { request, context in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(CopyBody.self, from: raw)
            let follower = try context.subject(named: body.memberId)
            var errors: [FieldError] = []
            let leader = body.leaderMemberId.flatMap(MemberID.init)
            if leader == nil { errors.append(FieldError(field: "leader_member_id", message: "must be a member's id (GET /v1/trading/leaderboard shows who is copyable)")) }
            if leader == follower { errors.append(FieldError(field: "leader_member_id", message: "cannot be the follower: nobody copies themselves")) }
            if body.amount?.currency != "CAD" { errors.append(FieldError(field: "amount.currency", message: "must be CAD: paper accounts are in CAD")) }
            let amount = body.amount?.amount ?? 0
            if !(100...100_000_000_000).contains(amount) { errors.append(FieldError(field: "amount.amount", message: "must be 100 to 100000000000 minor units")) }
            let stopLoss = body.stopLossPct ?? 0
            if !(5...95).contains(stopLoss) { errors.append(FieldError(field: "stop_loss_pct", message: "must be a whole percentage from 5 to 95")) }
            guard errors.isEmpty, let leader else { throw Problem.validation(errors) }
            let copyOpen = body.copyOpenPositions ?? false
            let now = context.now
            return try await context.idempotentWrite(request, route: "/v1/trading/copies", raw: raw) { db in
                guard let profile = try await LeaderboardStore(db).profile(member: leader), profile.copyable else {
                    throw RuleError(.conflict, "not-copyable", "Not copyable", detail: "That member has not opted in to being copied.")
                }
                let trading = TradingStore(db)
                guard let main = try await trading.account(member: follower, lock: true) else {
                    throw RuleError(.conflict, "no-trading-account", "No paper account", detail: "Open the member's paper account first (POST /v1/trading/account).")
                }
                guard amount <= main.buyingPower.minorUnits else {
                    throw RuleError(
                        .unprocessable, "insufficient-buying-power", "Insufficient buying power",
                        detail: "The copy needs \(Money(minorUnits: amount, currency: .cad).formatted) CAD; the account can spend \(main.buyingPower.formatted) CAD.")
                }
                let store = CopyStore(db)
                guard try await store.copiers(leader: leader) < Self.maxCopiers else {
                    throw RuleError(.conflict, "too-many-copiers", "Too many copiers", detail: "That member is copied by \(Self.maxCopiers) members already.")
                }
                switch try await store.start(follower: follower, leader: leader, main: main, amount: amount, stopLossPct: stopLoss, copyOpenPositions: copyOpen) {
                case .failure(.alreadyCopying):
                    throw RuleError(.conflict, "already-copying", "Already copying", detail: "The member copies that leader already; stop that copy first.")
                case .success(let copy):
                    if copyOpen { try await CopyTrader.openPositions(db, copy: copy, now: now) }
                    return (copy, "/v1/trading/copies/\(copy.id)")
                }
            }
        }
        routes.route(
            .get, "/v1/trading/copies", "The member's copies, newest first (staff: every member's, or ?member_id=)", access: .ownOrStaff(.readTrading),
            answer: Page<CopyView>.self
        ) { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            var follower = context.memberID
            if follower == nil, let raw = query["member_id"] {
                guard let id = MemberID(raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
                follower = id
            }
            return try Response.json(try await context.session.run { try await CopyStore($0).list(follower: follower, page: page) })
        }
        routes.route(.get, "/v1/trading/copies/{id}", "One copy", access: .ownOrStaff(.readTrading), answer: CopyView.self) { _, context in
            let id = TradingCopyID(try context.pathUUID("Copy"))
            let follower = context.memberID
            guard let copy = try await context.session.run({ try await CopyStore($0).copy(id, follower: follower) }) else { throw Problem.notFound("Copy") }
            return try Response.json(copy)
        }
        routes.route(
            .get, "/v1/trading/copies/{id}/log", "What the copy did: started, each fill mirrored or skipped and why, stopped, settled",
            access: .ownOrStaff(.readTrading), answer: Page<CopyLogEntry>.self
        ) { _, context in
            let id = TradingCopyID(try context.pathUUID("Copy"))
            let follower = context.memberID
            let log = try await context.session.run { db -> [CopyLogEntry] in
                let store = CopyStore(db)
                guard try await store.copy(id, follower: follower) != nil else { throw Problem.notFound("Copy") }
                return try await store.history(id)
            }
            return try Response.json(Page(data: log, nextCursor: nil))
        }
        routes.route(
            .post, "/v1/trading/copies/{id}/stop", "Stop a copy: no more mirroring, its working orders canceled; close_positions sells what it holds",
            access: .ownOrStaff(.manageTrading), body: StopCopyBody.self, answer: CopyView.self
        ) { request, context in
            let id = TradingCopyID(try context.pathUUID("Copy"))
            let close = try await request.decodeStrict(StopCopyBody.self).closePositions ?? false
            let follower = context.memberID
            let by = context.principal.role.rawValue
            let now = context.now
            let copy = try await context.session.run { db -> CopyView in
                let store = CopyStore(db)
                guard let copy = try await store.copy(id, follower: follower) else { throw Problem.notFound("Copy") }
                guard copy.state != .stopped,
                    let stopped = try await CopyTrader.stop(db, copy: copy, reason: .member, closePositions: close, detail: "stopped by the \(by)", now: now)
                else { throw RuleError(.conflict, "copy-stopped", "Copy stopped", detail: "The copy is stopped already.") }
                return stopped
            }
            return try Response.json(copy)
        }
    }
}
