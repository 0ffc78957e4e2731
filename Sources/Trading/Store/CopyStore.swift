import Foundation
import Logging
import NzilaCore
import PostgresNIO
import NzilaDatabase
import NzilaValues

/// A copy as answered.
public struct CopyView: Codable, Sendable {
    public let id: TradingCopyID
    public let followerId: MemberID
    public let leaderId: MemberID
    public let leaderDisplayName: String
    /// The copy's own paper account (`GET /v1/trading/account?account_id=`).
    public let accountId: TradingAccountID
    public let amount: Money
    public let stopLossPct: Int
    public let copyOpenPositions: Bool
    /// A stopped copy sells what it holds (and settles when it holds nothing).
    public let closePositions: Bool
    public let state: CopyTrading.State
    public let stopReason: CopyTrading.StopReason?
    public let createdAt: Date
    public let stoppedAt: Date?
    /// When the stopped copy, holding nothing, released its allocation on the main account.
    public let settledAt: Date?
}

/// Copies, their log and their state machine (`trading_copies`, `trading_copy_log`): the only SQL of them.
public struct CopyStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let columns = """
        c.id, c.follower_id, c.leader_id, coalesce(p.display_name, ''), c.account_id, c.allocated_minor, c.stop_loss_pct, c.copy_open_positions, c.state,
        c.stop_reason, c.created_at, c.stopped_at, c.settled_at, c.close_positions
        """
    typealias Row = (UUID, UUID, UUID, String, UUID, Int64, Int, Bool, String, String?, Date, Date?, Date?, Bool)

    static func view(_ r: Row) throws -> CopyView {
        guard let state = CopyTrading.State(rawValue: r.8) else { throw Problem.internalError }
        return CopyView(
            id: TradingCopyID(r.0), followerId: MemberID(r.1), leaderId: MemberID(r.2), leaderDisplayName: r.3, accountId: TradingAccountID(r.4),
            amount: Money(minorUnits: r.5, currency: .cad), stopLossPct: r.6, copyOpenPositions: r.7, closePositions: r.13, state: state,
            stopReason: r.9.flatMap(CopyTrading.StopReason.init(rawValue:)), createdAt: r.10, stoppedAt: r.11, settledAt: r.12)
    }

    public enum StartRefusal: Error, Equatable { case alreadyCopying }

    /// Opens the copy's account with `amount`, holds `amount` back on the follower's main account
    /// (locked by the caller), records the copy and its start: one statement.
    public func start(
        follower: MemberID, leader: MemberID, main: TradingAccount, amount: Int64, stopLossPct: Int, copyOpenPositions: Bool
    ) async throws -> Result<CopyView, StartRefusal> {
        let id = UUID(), account = UUID()
        do {
            try await db.query(
                """
                WITH opened AS (
                    INSERT INTO trading_accounts (id, member_id, starting_cash_minor, cash_minor, created_at, kind)
                    VALUES (\(account), \(follower), \(amount), \(amount), \(db.now), 'copy') RETURNING id),
                copy AS (
                    INSERT INTO trading_copies (id, follower_id, leader_id, account_id, allocated_minor, stop_loss_pct, copy_open_positions, state, created_at, updated_at)
                    SELECT \(id), \(follower), \(leader), opened.id, \(amount), \(stopLossPct), \(copyOpenPositions), 'active', \(db.now), \(db.now) FROM opened
                    RETURNING id),
                held AS (
                    UPDATE trading_accounts SET allocated_minor = allocated_minor + \(amount) WHERE id = \(main.id) RETURNING 1)
                INSERT INTO trading_copy_log (copy_id, event, detail, created_at)
                SELECT copy.id, 'started', \("allocated \(Money(minorUnits: amount, currency: .cad).formatted) CAD; stop loss \(stopLossPct)%"), \(db.now) FROM copy, held
                """
            )
        } catch where DatabaseErrors.sqlState(error) == "23505" {
            return .failure(.alreadyCopying)
        }
        guard let view = try await copy(TradingCopyID(id), follower: follower) else { throw Problem.internalError }
        return .success(view)
    }

    /// One copy (`follower`: only theirs). Copies are read without row locks: each change is a
    /// statement conditional on the state it starts from (`transition`, `settle`), and the locks a
    /// change needs are taken orders first, then accounts — the matcher's order (`CopyTrader.stop`).
    public func copy(_ id: TradingCopyID, follower: MemberID?) async throws -> CopyView? {
        try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM trading_copies c LEFT JOIN trading_profiles p ON p.member_id = c.leader_id
            WHERE c.id = \(id) AND (\(follower)::uuid IS NULL OR c.follower_id = \(follower))
            """
        ).first(Row.self).map(Self.view)
    }

    /// The copy's state now (a fresh read in the transaction, after an account lock).
    public func state(_ id: TradingCopyID) async throws -> CopyTrading.State? {
        try await db.query("SELECT state FROM trading_copies WHERE id = \(id)").first(String.self).flatMap(CopyTrading.State.init(rawValue:))
    }

    /// A follower's copies (staff: every one), newest first.
    public func list(follower: MemberID?, page: PageRequest) async throws -> Page<CopyView> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM trading_copies c LEFT JOIN trading_profiles p ON p.member_id = c.leader_id
            WHERE (\(follower)::uuid IS NULL OR c.follower_id = \(follower))
              AND (\(after == nil) OR (c.created_at, c.id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY c.created_at DESC, c.id DESC LIMIT \(page.limit + 1)
            """
        ).all(Row.self)
        return try page.page(of: rows, item: Self.view, cursor: { PageCursor(position: Int64(($0.10.timeIntervalSince1970 * 1_000_000).rounded()), id: $0.0) })
    }

    /// The copies mirroring `leader` (each placement checks again under the copy account's lock).
    public func mirroring(leader: MemberID) async throws -> [CopyView] {
        try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM trading_copies c LEFT JOIN trading_profiles p ON p.member_id = c.leader_id
            WHERE c.leader_id = \(leader) AND c.state = 'active' ORDER BY c.id
            """
        ).all(Row.self).map(Self.view)
    }

    /// Queues a fill of `order` for the copy guard to mirror when its member is copied and the order
    /// is on their main account: one statement, which writes nothing otherwise.
    public func queueFill(of order: TradingOrder) async throws {
        try await db.query(
            """
            INSERT INTO trading_copy_fills (leader_order_id, created_at)
            SELECT \(order.id), \(db.now)
            WHERE EXISTS (SELECT 1 FROM trading_copies c WHERE c.leader_id = \(order.memberId) AND c.state = 'active')
              AND EXISTS (SELECT 1 FROM trading_accounts a WHERE a.id = \(order.accountId) AND a.kind = 'main')
            """
        )
    }

    /// The leader orders with fills queued, and the last queue entry read.
    public func queuedFills() async throws -> (orders: [TradingOrderID], through: Int64?) {
        let rows = try await db.query("SELECT id, leader_order_id FROM trading_copy_fills ORDER BY id LIMIT 1000").all((Int64, UUID).self)
        var orders: [TradingOrderID] = []
        for (_, order) in rows where !orders.contains(TradingOrderID(order)) { orders.append(TradingOrderID(order)) }
        return (orders, rows.last?.0)
    }

    /// Removes the queue entries read and mirrored.
    public func dequeueFills(through id: Int64) async throws {
        try await db.query("DELETE FROM trading_copy_fills WHERE id <= \(id)")
    }

    /// How many copies mirror `leader` now.
    public func copiers(leader: MemberID) async throws -> Int {
        try await db.query("SELECT count(*)::int4 FROM trading_copies WHERE leader_id = \(leader) AND state = 'active'").first(Int.self) ?? 0
    }

    /// Every copy not yet settled (the guard's sweep).
    public func unsettled() async throws -> [CopyView] {
        try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM trading_copies c LEFT JOIN trading_profiles p ON p.member_id = c.leader_id
            WHERE c.settled_at IS NULL ORDER BY c.id
            """
        ).all(Row.self).map(Self.view)
    }

    /// Adds a line to the copy's log; a line that says what the last one said is not written again
    /// (a closing sell refused sweep after sweep logs once).
    public func log(_ copy: TradingCopyID, _ event: String, leaderOrder: TradingOrderID?, order: TradingOrderID?, detail: String) async throws {
        let text = String(detail.prefix(2000))
        try await db.query(
            """
            INSERT INTO trading_copy_log (copy_id, event, leader_order_id, order_id, detail, created_at)
            SELECT \(copy), \(event), \(leaderOrder?.rawValue), \(order?.rawValue), \(text), \(db.now)
            WHERE NOT EXISTS (
                SELECT 1 FROM (SELECT l.event, l.detail FROM trading_copy_log l WHERE l.copy_id = \(copy) ORDER BY l.id DESC LIMIT 1) last
                WHERE last.event = \(event) AND last.detail = \(text))
            """
        )
    }

    /// The copy's log, oldest first.
    public func history(_ copy: TradingCopyID) async throws -> [CopyLogEntry] {
        try await db.query(
            "SELECT event, leader_order_id, order_id, detail, created_at FROM trading_copy_log WHERE copy_id = \(copy) ORDER BY id"
        ).all((String, UUID?, UUID?, String, Date).self).map {
            CopyLogEntry(event: $0.0, leaderOrderId: $0.1.map { TradingOrderID($0) }, orderId: $0.2.map { TradingOrderID($0) }, detail: $0.3, at: $0.4)
        }
    }

    /// Moves a copy to `state` with its log line and its event, in one statement (the state
    /// machine's pairs are `CopyTrading.allowed`; the table's trigger checks them again). Nil when
    /// the copy was not in `from`.
    public func transition(
        _ copy: CopyView, to state: CopyTrading.State, reason: CopyTrading.StopReason?, closePositions: Bool, detail: String
    ) async throws -> CopyView? {
        guard CopyTrading.allowed(from: copy.state, to: state) else { return nil }
        let event = TradingCopyEvent(
            copyId: copy.id, followerId: copy.followerId, leaderId: copy.leaderId, leaderDisplayName: copy.leaderDisplayName, accountId: copy.accountId,
            state: state, stopReason: reason, at: db.now)
        let events = try Outbox.Batch([event])
        let moved = try await db.query(
            """
            WITH moved AS (
                UPDATE trading_copies SET state = \(state.rawValue), stop_reason = \(reason?.rawValue), close_positions = close_positions OR \(closePositions),
                    stopped_at = CASE WHEN \(state.rawValue) = 'stopped' THEN \(db.now) ELSE stopped_at END, updated_at = \(db.now)
                WHERE id = \(copy.id) AND state = \(copy.state.rawValue) RETURNING id),
            logged AS (
                INSERT INTO trading_copy_log (copy_id, event, detail, created_at)
                SELECT id, \(state == .stopped ? "stopped" : "leader_left"), \(detail), \(db.now) FROM moved)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM moved, unnest(\(events.types)::text[], \(events.aggregates)::uuid[], \(events.payloads)::text[]) AS e(t, a, p)
            RETURNING aggregate_id
            """
        ).first(UUID.self)
        guard moved != nil else { return nil }
        return try await self.copy(copy.id, follower: nil)
    }

    /// A stopped copy whose account holds nothing it can sell (`leftovers`: the symbols whose
    /// holdings are below one board lot, which stay in the closed account) and has nothing working
    /// releases its allocation on the follower's main account and is closed: one statement; false
    /// while it still holds something.
    public func settle(_ copy: CopyView, leftovers: [String] = []) async throws -> Bool {
        try await db.query(
            """
            WITH ready AS (
                SELECT c.id FROM trading_copies c
                WHERE c.id = \(copy.id) AND c.state = 'stopped' AND c.settled_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM trading_positions p WHERE p.account_id = c.account_id AND p.qty > 0 AND NOT p.symbol = ANY(\(leftovers)::text[]))
                  AND NOT EXISTS (SELECT 1 FROM trading_orders o WHERE o.account_id = c.account_id AND o.status IN ('new', 'partially_filled'))),
            settled AS (
                UPDATE trading_copies SET settled_at = \(db.now), updated_at = \(db.now) WHERE id IN (SELECT id FROM ready) RETURNING id),
            released AS (
                UPDATE trading_accounts SET allocated_minor = allocated_minor - \(copy.amount.minorUnits)
                WHERE member_id = \(copy.followerId) AND kind = 'main' AND EXISTS (SELECT 1 FROM settled) RETURNING 1),
            closed AS (
                UPDATE trading_accounts SET closed_at = \(db.now) WHERE id = \(copy.accountId) AND EXISTS (SELECT 1 FROM settled) RETURNING 1)
            INSERT INTO trading_copy_log (copy_id, event, detail, created_at)
            SELECT id, 'settled', 'nothing held: the allocation is released on the main account', \(db.now) FROM settled
            RETURNING copy_id
            """
        ).first(UUID.self) != nil
    }

    /// What the copy has mirrored of one leader order so far: the shares its orders asked for, and
    /// those they filled.
    public func mirrored(_ copy: TradingCopyID, leaderOrder: TradingOrderID) async throws -> (placed: Int64, filled: Int64) {
        try await db.query(
            "SELECT coalesce(sum(qty), 0)::int8, coalesce(sum(filled_qty), 0)::int8 FROM trading_orders WHERE copy_id = \(copy) AND copied_from = \(leaderOrder)"
        ).first((Int64, Int64).self) ?? (0, 0)
    }

    /// The copy account's working orders; `lock`: under their row locks, oldest first (as the matcher takes a book's).
    public func working(account: TradingAccountID, lock: Bool = false) async throws -> [TradingOrderID] {
        try await db.query(
            """
            SELECT id FROM trading_orders WHERE account_id = \(account) AND status IN ('new', 'partially_filled') ORDER BY created_at, id
            \(unescaped: lock ? "FOR UPDATE" : "")
            """
        ).all(UUID.self).map { TradingOrderID($0) }
    }

    /// Copies of leaders who are no longer copyable, still active: the profile change's consequence.
    public func orphaned(leader: MemberID) async throws -> [CopyView] {
        try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM trading_copies c LEFT JOIN trading_profiles p ON p.member_id = c.leader_id
            WHERE c.leader_id = \(leader) AND c.state = 'active' AND NOT coalesce(p.copyable, false) ORDER BY c.id
            """
        ).all(Row.self).map(Self.view)
    }
}

/// One line of a copy's log.
public struct CopyLogEntry: Codable, Sendable {
    public let event: String
    public let leaderOrderId: TradingOrderID?
    public let orderId: TradingOrderID?
    public let detail: String
    public let at: Date
}

extension TradingCopyEvent: OutboxEvent {
    public var aggregateID: UUID { copyId.rawValue }
    public var audience: [UUID] { [followerId.rawValue] }
}

/// The platform's copy index (Migrations/reference/0011): the tenants with a copy not yet settled,
/// read by the copy guard's platform connection.
public enum CopyIndexStore {
    public static func tenants(client: PostgresClient, tenant: UUID?, logger: Logger) async throws -> Set<UUID> {
        try await client.statement(
            "SELECT DISTINCT tenant_id FROM trading_index.copies WHERE (\(tenant)::uuid IS NULL OR tenant_id = \(tenant))", logger: logger
        ) { rows in
            var found: Set<UUID> = []
            for try await id in rows.decode(UUID.self) { found.insert(id) }
            return found
        }
    }
}
