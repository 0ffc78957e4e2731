import Foundation
import NzilaCore
import NzilaDatabase
import NzilaValues

public enum TradingIdeaTag {}
/// A trade idea's id.
public typealias TradingIdeaID = Identifier<TradingIdeaTag>
public enum TradingCommentTag {}
/// A comment's id.
public typealias TradingCommentID = Identifier<TradingCommentTag>

public enum IdeaDirection: String, Sendable, Codable, CaseIterable {
    case long, short, neutral
}

/// Why and when staff hid an idea or a comment (shown to staff only).
public struct Moderation: Codable, Sendable {
    public let hiddenAt: Date
    public let reason: String
}

/// The outcome of the order an idea stands on, once it has filled (in part or whole).
public struct IdeaOutcome: Codable, Sendable {
    public let orderId: TradingOrderID
    public let side: OrderSide
    public let status: OrderStatus
    public let filledQty: Int64
    /// The quantity-weighted price of its fills, half-even to the ten-thousandth.
    public let averageFillPrice: String?
}

public struct IdeaComment: Codable, Sendable {
    public let id: TradingCommentID
    public let authorId: MemberID
    public let author: String
    public let body: String
    public let createdAt: Date
    public let moderation: Moderation?
}

public struct TradingIdea: Codable, Sendable {
    public let id: TradingIdeaID
    public let authorId: MemberID
    /// The author's display name (their trading profile).
    public let author: String
    public let symbol: String
    public let direction: IdeaDirection
    public let thesis: String
    public let orderId: TradingOrderID?
    public let outcome: IdeaOutcome?
    public let comments: Int
    public let createdAt: Date
    public let moderation: Moderation?
}

/// Trade ideas, their comments and follows (`Migrations/tenant/0026`).
public struct IdeaStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let ideaColumns = """
        i.id, i.member_id, p.display_name, i.symbol, i.direction, i.thesis, i.order_id, i.created_at, i.hidden_at, i.hidden_reason,
        (SELECT count(*) FROM trading_idea_comments c WHERE c.idea_id = i.id AND (c.hidden_at IS NULL OR $staff))::int,
        o.side, o.status, o.filled_qty,
        (SELECT CASE WHEN sum(f.qty) > 0 THEN round(sum(f.price_e4::numeric * f.qty) / sum(f.qty))::int8 END FROM trading_fills f WHERE f.order_id = i.order_id)
        """
    typealias IdeaRow = (UUID, UUID, String, String, String, String, UUID?, Date, Date?, String?, Int, String?, String?, Int64?, Int64?)

    static func idea(_ r: IdeaRow) throws -> TradingIdea {
        guard let direction = IdeaDirection(rawValue: r.4) else { throw Problem.internalError }
        var outcome: IdeaOutcome?
        if let order = r.6, let side = r.11.flatMap(OrderSide.init(rawValue:)), let status = r.12.flatMap(OrderStatus.init(rawValue:)), let filled = r.13, filled > 0 {
            outcome = IdeaOutcome(orderId: TradingOrderID(order), side: side, status: status, filledQty: filled, averageFillPrice: r.14.map { Price(e4: $0).description })
        }
        return TradingIdea(
            id: TradingIdeaID(r.0), authorId: MemberID(r.1), author: r.2, symbol: r.3, direction: direction, thesis: r.5, orderId: r.6.map { TradingOrderID($0) },
            outcome: outcome, comments: r.10, createdAt: r.7, moderation: r.8.map { Moderation(hiddenAt: $0, reason: r.9 ?? "") })
    }

    /// The FROM of an idea with its author's profile and order.
    static let ideaFrom = """
        trading_ideas i JOIN trading_profiles p ON p.member_id = i.member_id LEFT JOIN trading_orders o ON o.id = i.order_id
        """

    public enum Refusal: Error, Equatable { case noProfile, notYourOrder }

    /// A new idea; refused without a profile (the author's display name) or with an order not the author's.
    public func share(member: MemberID, symbol: String, direction: IdeaDirection, thesis: String, order: TradingOrderID?) async throws -> Result<TradingIdea, Refusal> {
        guard try await db.query("SELECT 1 FROM trading_profiles WHERE member_id = \(member)").first(Int.self) != nil else { return .failure(.noProfile) }
        if let order, try await db.query("SELECT 1 FROM trading_orders WHERE id = \(order) AND member_id = \(member) AND symbol = \(symbol)").first(Int.self) == nil {
            return .failure(.notYourOrder)
        }
        let id = UUID()
        try await db.query(
            """
            INSERT INTO trading_ideas (id, member_id, symbol, direction, thesis, order_id, created_at)
            VALUES (\(id), \(member), \(symbol), \(direction.rawValue), \(thesis), \(order?.rawValue), \(db.now))
            """
        )
        guard let idea = try await self.idea(TradingIdeaID(id), staff: false) else { throw Problem.internalError }
        return .success(idea)
    }

    /// One idea (a hidden one only for staff).
    public func idea(_ id: TradingIdeaID, staff: Bool) async throws -> TradingIdea? {
        try await db.query(
            """
            SELECT \(unescaped: Self.ideaColumns.replacingOccurrences(of: "$staff", with: staff ? "true" : "false")) FROM \(unescaped: Self.ideaFrom)
            WHERE i.id = \(id) AND (i.hidden_at IS NULL OR \(staff))
            """
        ).first(IdeaRow.self).map(Self.idea)
    }

    /// Ideas newest first: every member's, one author's, one symbol's, or (`followedBy`) those of whom
    /// a member follows — the member's feed.
    public func ideas(author: MemberID?, symbol: String?, followedBy: MemberID?, staff: Bool, page: PageRequest) async throws -> Page<TradingIdea> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.ideaColumns.replacingOccurrences(of: "$staff", with: staff ? "true" : "false")) FROM \(unescaped: Self.ideaFrom)
            WHERE (i.hidden_at IS NULL OR \(staff))
              AND (\(author)::uuid IS NULL OR i.member_id = \(author)) AND (\(symbol)::text IS NULL OR i.symbol = \(symbol))
              AND (\(followedBy)::uuid IS NULL OR i.member_id IN (SELECT followed_id FROM trading_follows WHERE follower_id = \(followedBy)))
              AND (\(after == nil) OR (i.created_at, i.id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY i.created_at DESC, i.id DESC LIMIT \(page.limit + 1)
            """
        ).all(IdeaRow.self)
        return try page.page(of: try rows.map(Self.idea), item: { $0 }, cursor: {
            PageCursor(position: Int64(($0.createdAt.timeIntervalSince1970 * 1_000_000).rounded()), id: $0.id.rawValue)
        })
    }

    static let commentColumns = "c.id, c.member_id, p.display_name, c.body, c.created_at, c.hidden_at, c.hidden_reason"

    /// An idea's comments, oldest first (hidden ones only for staff).
    public func comments(_ idea: TradingIdeaID, staff: Bool) async throws -> [IdeaComment] {
        try await db.query(
            """
            SELECT \(unescaped: Self.commentColumns) FROM trading_idea_comments c JOIN trading_profiles p ON p.member_id = c.member_id
            WHERE c.idea_id = \(idea) AND (c.hidden_at IS NULL OR \(staff)) ORDER BY c.created_at, c.id LIMIT 500
            """
        ).all((UUID, UUID, String, String, Date, Date?, String?).self).map { r in
            IdeaComment(
                id: TradingCommentID(r.0), authorId: MemberID(r.1), author: r.2, body: r.3, createdAt: r.4,
                moderation: r.5.map { Moderation(hiddenAt: $0, reason: r.6 ?? "") })
        }
    }

    /// A comment on a visible idea; nil when the idea is not there (or hidden).
    public func comment(on idea: TradingIdeaID, member: MemberID, body: String) async throws -> Result<IdeaComment, Refusal>? {
        guard try await db.query("SELECT 1 FROM trading_profiles WHERE member_id = \(member)").first(Int.self) != nil else { return .failure(.noProfile) }
        guard let row = try await db.query(
            """
            WITH made AS (
                INSERT INTO trading_idea_comments (id, idea_id, member_id, body, created_at)
                SELECT \(UUID()), i.id, \(member), \(body), \(db.now) FROM trading_ideas i WHERE i.id = \(idea) AND i.hidden_at IS NULL
                RETURNING *)
            SELECT c.id, c.member_id, p.display_name, c.body, c.created_at FROM made c JOIN trading_profiles p ON p.member_id = c.member_id
            """
        ).first((UUID, UUID, String, String, Date).self) else { return nil }
        return .success(IdeaComment(id: TradingCommentID(row.0), authorId: MemberID(row.1), author: row.2, body: row.3, createdAt: row.4, moderation: nil))
    }

    /// Hides an idea or a comment with a reason (staff); false when there is none, or it is hidden already.
    public func hide(idea: TradingIdeaID, reason: String, by staff: UUID) async throws -> Bool {
        try await db.query(
            """
            UPDATE trading_ideas SET hidden_at = \(db.now), hidden_reason = \(reason), hidden_by = \(staff) WHERE id = \(idea) AND hidden_at IS NULL RETURNING 1
            """
        ).first(Int.self) != nil
    }

    public func hide(comment: TradingCommentID, reason: String, by staff: UUID) async throws -> Bool {
        try await db.query(
            """
            UPDATE trading_idea_comments SET hidden_at = \(db.now), hidden_reason = \(reason), hidden_by = \(staff)
            WHERE id = \(comment) AND hidden_at IS NULL RETURNING 1
            """
        ).first(Int.self) != nil
    }

    /// Follows a member who has a profile (following twice is following); false when they have none
    /// or are the follower.
    public func follow(_ followed: MemberID, by follower: MemberID) async throws -> Bool {
        guard followed != follower else { return false }
        return try await db.query(
            """
            WITH made AS (
                INSERT INTO trading_follows (follower_id, followed_id, created_at)
                SELECT \(follower), p.member_id, \(db.now) FROM trading_profiles p WHERE p.member_id = \(followed)
                ON CONFLICT DO NOTHING RETURNING 1)
            SELECT 1 FROM made UNION ALL SELECT 1 FROM trading_follows WHERE follower_id = \(follower) AND followed_id = \(followed)
            """
        ).first(Int.self) != nil
    }

    public func unfollow(_ followed: MemberID, by follower: MemberID) async throws -> Bool {
        try await db.query("DELETE FROM trading_follows WHERE follower_id = \(follower) AND followed_id = \(followed) RETURNING 1").first(Int.self) != nil
    }

    /// Whom the member follows, by display name.
    public func following(_ follower: MemberID) async throws -> [(MemberID, String)] {
        try await db.query(
            """
            SELECT p.member_id, p.display_name FROM trading_follows f JOIN trading_profiles p ON p.member_id = f.followed_id
            WHERE f.follower_id = \(follower) ORDER BY p.display_name LIMIT 1000
            """
        ).all((UUID, String).self).map { (MemberID($0.0), $0.1) }
    }
}
