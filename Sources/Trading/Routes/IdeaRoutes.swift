import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

struct IdeaBody: StrictBody {
    static let fields: Set<String> = ["symbol", "direction", "thesis", "order_id", "member_id"]
    let symbol: String?
    /// long, short or neutral.
    let direction: String?
    /// Why, in 1 to 2,000 characters.
    let thesis: String?
    /// The author's own paper order the idea stands on (its outcome shows once it fills).
    let orderId: String?
    let memberId: String?
}

struct CommentBody: StrictBody {
    static let fields: Set<String> = ["body", "member_id"]
    /// 1 to 1,000 characters.
    let body: String?
    let memberId: String?
}

struct FollowBody: StrictBody {
    static let fields: Set<String> = ["member_id", "follower_id"]
    /// Whom to follow: a member with a trading profile.
    let memberId: String?
    /// Staff acting for a member: who follows.
    let followerId: String?
}

struct HideBody: StrictBody {
    static let fields: Set<String> = ["reason"]
    /// Why, in 1 to 500 characters (shown to staff, kept in the audit log).
    let reason: String?
}

/// An idea with its comments.
public struct IdeaDetail: Codable, Sendable {
    public let idea: TradingIdea
    public let comments: [IdeaComment]
}

/// A member someone follows.
public struct FollowedMember: Codable, Sendable {
    public let memberId: MemberID
    public let displayName: String
}

/// Trade ideas, comments, follows and each member's feed; staff moderation (`IdeaStore`).
struct IdeaRoutes {
    static func text(_ raw: String?, field: String, max: Int) -> String? {
        guard let raw else { return nil }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        // Counted as the database counts (code points), so a check here never lets through what it refuses.
        return (1...max).contains(text.unicodeScalars.count) ? text : nil
    }

    static func refusal(_ refusal: IdeaStore.Refusal) -> RuleError {
        switch refusal {
        case .noProfile:
            RuleError(.conflict, "profile-required", "Trading profile required",
                      detail: "Ideas and comments appear under a display name: set one with PUT /v1/trading/profile first.")
        case .notYourOrder:
            RuleError(.unprocessable, "unknown-order", "Unknown order", detail: "order_id names none of the author's paper orders in this symbol.")
        }
    }

    func mount(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/trading/ideas", "Share a trade idea (symbol, long/short/neutral, thesis; optionally the author's own order)",
            access: .ownOrStaff(.manageTrading), body: IdeaBody.self, answer: TradingIdea.self
        ) { request, context in
            let body = try await request.decodeStrict(IdeaBody.self)
            let member = try context.subject(named: body.memberId)
            var errors: [FieldError] = []
            let symbol = body.symbol ?? ""
            if symbol.range(of: WatchRoutes.symbolPattern, options: .regularExpression) == nil { errors.append(FieldError(field: "symbol", message: "must be a listed symbol")) }
            let direction = body.direction.flatMap(IdeaDirection.init(rawValue:))
            if direction == nil { errors.append(FieldError(field: "direction", message: "must be long, short or neutral")) }
            let thesis = Self.text(body.thesis, field: "thesis", max: 2_000)
            if thesis == nil { errors.append(FieldError(field: "thesis", message: "must be 1 to 2,000 characters")) }
            var order: TradingOrderID?
            if let raw = body.orderId {
                order = UUID(uuidString: raw).map { TradingOrderID($0) }
                if order == nil { errors.append(FieldError(field: "order_id", message: "must be a UUID")) }
            }
            guard errors.isEmpty, let direction, let thesis else { throw Problem.validation(errors) }
            let idea = try await context.session.run { db -> TradingIdea in
                try await WatchRoutes.listed([symbol], store: WatchStore(db), field: "symbol")
                switch try await IdeaStore(db).share(member: member, symbol: symbol, direction: direction, thesis: thesis, order: order) {
                case .success(let idea): return idea
                case .failure(let refusal): throw Self.refusal(refusal)
                }
            }
            return try Response.json(idea, status: .created, headers: [.location: "/v1/trading/ideas/\(idea.id)"])
        }
        routes.route(
            .get, "/v1/trading/ideas", "Ideas shared in the credit union, newest first (?symbol=, ?author=<member id>)", access: .ownOrStaff(.readTrading),
            answer: Page<TradingIdea>.self
        ) { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            var author: MemberID?
            if let raw = query["author"] {
                guard let id = MemberID(raw) else { throw Problem.validation(field: "author", "must be a member id") }
                author = id
            }
            let symbol = query["symbol"]
            let staff = context.memberID == nil
            let ideas = try await context.session.run { try await IdeaStore($0).ideas(author: author, symbol: symbol, followedBy: nil, staff: staff, page: page) }
            return try Response.json(ideas)
        }
        routes.route(
            .get, "/v1/trading/feed", "The ideas of the members one follows, newest first (staff: ?member_id=)", access: .ownOrStaff(.readTrading),
            answer: Page<TradingIdea>.self
        ) { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            let member = try context.subject(named: query["member_id"])
            let staff = context.memberID == nil
            let ideas = try await context.session.run { try await IdeaStore($0).ideas(author: nil, symbol: nil, followedBy: member, staff: staff, page: page) }
            return try Response.json(ideas)
        }
        routes.route(.get, "/v1/trading/ideas/{id}", "An idea with its comments", access: .ownOrStaff(.readTrading), answer: IdeaDetail.self) { _, context in
            let id = TradingIdeaID(try context.pathUUID("Idea"))
            let staff = context.memberID == nil
            let detail = try await context.session.run { db -> IdeaDetail in
                let store = IdeaStore(db)
                guard let idea = try await store.idea(id, staff: staff) else { throw Problem.notFound("Idea") }
                return IdeaDetail(idea: idea, comments: try await store.comments(id, staff: staff))
            }
            return try Response.json(detail)
        }
        routes.route(
            .post, "/v1/trading/ideas/{id}/comments", "Comment on an idea", access: .ownOrStaff(.manageTrading), body: CommentBody.self, answer: IdeaComment.self
        ) { request, context in
            let id = TradingIdeaID(try context.pathUUID("Idea"))
            let body = try await request.decodeStrict(CommentBody.self)
            let member = try context.subject(named: body.memberId)
            guard let text = Self.text(body.body, field: "body", max: 1_000) else { throw Problem.validation(field: "body", "must be 1 to 1,000 characters") }
            let comment = try await context.session.run { db -> IdeaComment in
                switch try await IdeaStore(db).comment(on: id, member: member, body: text) {
                case .none: throw Problem.notFound("Idea")
                case .some(.failure(let refusal)): throw Self.refusal(refusal)
                case .some(.success(let comment)): return comment
                }
            }
            return try Response.json(comment, status: .created)
        }
        routes.route(
            .post, "/v1/trading/ideas/{id}/hide", "Hide an idea from members, with a reason (audited)", access: .staff(.manageTrading), body: HideBody.self,
            answer: TradingIdea.self
        ) { request, context in
            let id = TradingIdeaID(try context.pathUUID("Idea"))
            let reason = try Self.reason(try await request.decodeStrict(HideBody.self))
            let staffID = context.principal.id
            let idea = try await context.session.run { db -> TradingIdea in
                let store = IdeaStore(db)
                guard try await store.idea(id, staff: true) != nil else { throw Problem.notFound("Idea") }
                guard try await store.hide(idea: id, reason: reason, by: staffID) else {
                    throw RuleError(.conflict, "already-hidden", "Already hidden", detail: "The idea is hidden already.")
                }
                guard let idea = try await store.idea(id, staff: true) else { throw Problem.notFound("Idea") }
                return idea
            }
            return try Response.json(idea)
        }
        routes.route(
            .post, "/v1/trading/comments/{id}/hide", "Hide a comment from members, with a reason (audited)", access: .staff(.manageTrading), body: HideBody.self,
            answer: Moderation.self
        ) { request, context in
            let id = TradingCommentID(try context.pathUUID("Comment"))
            let reason = try Self.reason(try await request.decodeStrict(HideBody.self))
            let staffID = context.principal.id
            let now = context.now
            guard try await context.session.run({ try await IdeaStore($0).hide(comment: id, reason: reason, by: staffID) }) else {
                throw Problem.notFound("Comment (not hidden already)")
            }
            return try Response.json(Moderation(hiddenAt: now, reason: reason))
        }
        routes.route(
            .post, "/v1/trading/follows", "Follow a member who shares ideas (their ideas then fill one's feed)", access: .ownOrStaff(.manageTrading),
            body: FollowBody.self, answer: Page<FollowedMember>.self
        ) { request, context in
            let body = try await request.decodeStrict(FollowBody.self)
            let follower = try context.subject(named: body.followerId)
            guard let followed = body.memberId.flatMap(MemberID.init) else { throw Problem.validation(field: "member_id", "must be a member id") }
            let list = try await context.session.run { db -> [FollowedMember] in
                let store = IdeaStore(db)
                if try await WatchStore(db).unlistedMember(follower) { throw Problem.validation(field: "follower_id", "names no active member") }
                guard try await store.follow(followed, by: follower) else {
                    throw Problem.validation(field: "member_id", "names no other member with a trading profile")
                }
                return try await store.following(follower).map { FollowedMember(memberId: $0.0, displayName: $0.1) }
            }
            return try Response.json(Page(data: list, nextCursor: nil), status: .created)
        }
        routes.route(
            .get, "/v1/trading/follows", "Whom the member follows (staff: ?member_id=)", access: .ownOrStaff(.readTrading), answer: Page<FollowedMember>.self
        ) { request, context in
            let member = try context.subject(named: request.queryDictionary["member_id"])
            let list = try await context.session.run { try await IdeaStore($0).following(member) }
            return try Response.json(Page(data: list.map { FollowedMember(memberId: $0.0, displayName: $0.1) }, nextCursor: nil))
        }
        routes.route(.delete, "/v1/trading/follows/{id}", "Stop following a member", access: .ownOrStaff(.manageTrading)) { request, context in
            let followed = MemberID(try context.pathUUID("Member"))
            let follower = try context.subject(named: request.queryDictionary["follower_id"])
            guard try await context.session.run({ try await IdeaStore($0).unfollow(followed, by: follower) }) else { throw Problem.notFound("Follow") }
            return Response(status: .noContent)
        }
    }

    static func reason(_ body: HideBody) throws -> String {
        guard let reason = text(body.reason, field: "reason", max: 500) else { throw Problem.validation(field: "reason", "must be 1 to 500 characters") }
        return reason
    }
}
