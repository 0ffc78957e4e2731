import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaValues

/// A member's paper account: CAD cash, what open buys hold back, and what is left to spend.
public struct TradingAccount: Sendable, Codable {
    public let id: TradingAccountID
    public let memberId: MemberID
    /// `main` (the member's own, at most one) or `competition` (one per competition joined).
    public let kind: String
    public let competitionId: TradingCompetitionID?
    /// A competition account once its results are frozen: it takes no more orders.
    public let closedAt: Date?
    public let currency: String
    public let startingCash: Money
    public let cash: Money
    public let reserved: Money
    /// What the main account holds back for the member's copies (copy trading) until each settles.
    public let allocated: Money
    public let buyingPower: Money
    public let fees: Money
    public let createdAt: Date
}

/// An order as stored and answered.
public struct TradingOrder: Sendable, Codable {
    public let id: TradingOrderID
    public let clientOrderId: String?
    public let accountId: TradingAccountID
    public let memberId: MemberID
    public let symbol: String
    public let side: OrderSide
    public let type: OrderType
    public let qty: Int64
    public let filledQty: Int64
    public let limitPrice: String?
    public let stopPrice: String?
    public let timeInForce: TimeInForce
    public let status: OrderStatus
    /// CAD still held back for a working buy.
    public let reserved: Money
    public let expiresAt: Date?
    public let replaces: TradingOrderID?
    public let replacedBy: TradingOrderID?
    public let createdAt: Date
    public let updatedAt: Date
    /// A copy's mirrored order: the leader's order it copies (copy trading).
    public let copiedFrom: TradingOrderID?
}

/// Paper accounts and orders, in the tenant's schema (the only SQL of them).
public struct TradingStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let accountColumns = "id, member_id, starting_cash_minor, cash_minor, reserved_minor, fees_minor, created_at, kind, competition_id, closed_at, allocated_minor"
    typealias AccountRow = (UUID, UUID, Int64, Int64, Int64, Int64, Date, String, UUID?, Date?, Int64)

    static func account(_ r: AccountRow) -> TradingAccount {
        TradingAccount(
            id: TradingAccountID(r.0), memberId: MemberID(r.1), kind: r.7, competitionId: r.8.map { TradingCompetitionID($0) }, closedAt: r.9, currency: "CAD", startingCash: Money(minorUnits: r.2, currency: .cad),
            cash: Money(minorUnits: r.3, currency: .cad), reserved: Money(minorUnits: r.4, currency: .cad), allocated: Money(minorUnits: r.10, currency: .cad),
            buyingPower: Money(minorUnits: r.3 - r.4 - r.10, currency: .cad),
            fees: Money(minorUnits: r.5, currency: .cad), createdAt: r.6)
    }

    /// Opens the member's account with `startingCash`; nil when they have one (or are not an active member).
    public func open(member: MemberID, startingCash: Int64) async throws -> TradingAccount? {
        try await db.query(
            """
            INSERT INTO trading_accounts (id, member_id, starting_cash_minor, cash_minor, created_at)
            SELECT \(UUID()), m.id, \(startingCash), \(startingCash), \(db.now) FROM members m WHERE m.id = \(member) AND m.status = 'active'
            ON CONFLICT (member_id) WHERE kind = 'main' DO NOTHING
            RETURNING \(unescaped: Self.accountColumns)
            """
        ).first(AccountRow.self).map(Self.account)
    }

    /// The member's account — their main one, or the one `id` names (a competition account) — nil
    /// when they have no such account; `lock`: under its row lock (placements and cancels on it serialise).
    public func account(member: MemberID, id: TradingAccountID? = nil, lock: Bool = false) async throws -> TradingAccount? {
        // Two shapes, so each uses its index (the main account's is partial).
        if let id {
            return try await db.query(
                "SELECT \(unescaped: Self.accountColumns) FROM trading_accounts WHERE id = \(id) AND member_id = \(member) \(unescaped: lock ? "FOR UPDATE" : "")"
            ).first(AccountRow.self).map(Self.account)
        }
        return try await db.query(
            "SELECT \(unescaped: Self.accountColumns) FROM trading_accounts WHERE member_id = \(member) AND kind = 'main' \(unescaped: lock ? "FOR UPDATE" : "")"
        ).first(AccountRow.self).map(Self.account)
    }

    /// Any account by id (the order's own, when replacing), under its row lock.
    public func account(_ id: TradingAccountID, lock: Bool) async throws -> TradingAccount? {
        try await db.query(
            "SELECT \(unescaped: Self.accountColumns) FROM trading_accounts WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")"
        ).first(AccountRow.self).map(Self.account)
    }

    /// Opens the member's account in a competition with its starting cash; nil when they have one
    /// there already (or are not an active member).
    public func openCompetitionAccount(member: MemberID, competition: TradingCompetitionID, startingCash: Int64) async throws -> TradingAccount? {
        try await db.query(
            """
            INSERT INTO trading_accounts (id, member_id, starting_cash_minor, cash_minor, created_at, kind, competition_id)
            SELECT \(UUID()), m.id, \(startingCash), \(startingCash), \(db.now), 'competition', \(competition) FROM members m WHERE m.id = \(member) AND m.status = 'active'
            ON CONFLICT (competition_id, member_id) WHERE competition_id IS NOT NULL DO NOTHING
            RETURNING \(unescaped: Self.accountColumns)
            """
        ).first(AccountRow.self).map(Self.account)
    }

    /// What the account's working buys of `symbol` hold back, in CAD cents.
    public func workingBuys(account: TradingAccountID, symbol: String) async throws -> Int64 {
        try await db.query(
            """
            SELECT coalesce(sum(reserved_minor), 0)::int8 FROM trading_orders
            WHERE account_id = \(account) AND symbol = \(symbol) AND side = 'buy' AND status IN ('new', 'partially_filled')
            """
        ).first(Int64.self) ?? 0
    }

    /// Shares of `symbol` held and not already promised to a working sell.
    public func sellable(account: TradingAccountID, symbol: String) async throws -> (held: Int64, promised: Int64) {
        let row = try await db.query(
            """
            SELECT coalesce((SELECT qty FROM trading_positions WHERE account_id = \(account) AND symbol = \(symbol)), 0),
                   coalesce((SELECT sum(qty - filled_qty) FROM trading_orders
                             WHERE account_id = \(account) AND symbol = \(symbol) AND side = 'sell' AND status IN ('new', 'partially_filled')), 0)::int8
            """
        ).first((Int64, Int64).self)
        return (row?.0 ?? 0, row?.1 ?? 0)
    }

    /// The mid rate CAD per one unit of `currency`: the stored pair, else the inverse of CAD→currency
    /// (rounded half-up at 10 places).
    public func rateToCAD(_ currency: Currency) async throws -> FXRate? {
        if currency == .cad { return FXRate(scaled: FXRate.scale) }
        let rows = try await db.query(
            """
            SELECT base::text, mid_rate::text FROM reference.fx_rates
            WHERE (base = \(currency.code) AND quote = 'CAD') OR (base = 'CAD' AND quote = \(currency.code))
            """
        ).all((String, String).self)
        return Self.rateToCAD(currency, pairs: rows)
    }

    /// The same from the stored pairs of `currency` with CAD, as (base, mid rate): the direct pair,
    /// else the inverse of CAD→currency rounded half-up at 10 places.
    public static func rateToCAD(_ currency: Currency, pairs: [(base: String, mid: String)]) -> FXRate? {
        if currency == .cad { return FXRate(scaled: FXRate.scale) }
        if let direct = pairs.first(where: { $0.base == currency.code }) { return FXRate(decimal: direct.mid) }
        guard let inverse = pairs.first(where: { $0.base == "CAD" }).flatMap({ FXRate(decimal: $0.mid) }) else { return nil }
        let scaled = (FXRate.scale * FXRate.scale + inverse.scaled / 2) / inverse.scaled
        return scaled > 0 ? FXRate(scaled: scaled) : nil
    }

    static let orderColumns = """
        id, client_order_id, account_id, member_id, symbol, side, type, qty, filled_qty, limit_e4, stop_e4, time_in_force, status, reserved_minor,
        expires_at, replaces, replaced_by, created_at, updated_at, copied_from
        """
    /// `orderColumns` of the table aliased `alias` (an UPDATE … FROM returning the row as it now is).
    static func orderColumns(of alias: String) -> String {
        orderColumns.split(separator: ",").map { "\(alias)." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
    }
    typealias OrderRow = (UUID, String?, UUID, UUID, String, String, String, Int64, Int64, Int64?, Int64?, String, String, Int64, Date?, UUID?, UUID?, Date, Date, UUID?)

    static func order(_ r: OrderRow) throws -> TradingOrder {
        guard let side = OrderSide(rawValue: r.5), let type = OrderType(rawValue: r.6), let tif = TimeInForce(rawValue: r.11), let status = OrderStatus(rawValue: r.12)
        else { throw Problem.internalError }
        return TradingOrder(
            id: TradingOrderID(r.0), clientOrderId: r.1, accountId: TradingAccountID(r.2), memberId: MemberID(r.3), symbol: r.4, side: side, type: type, qty: r.7,
            filledQty: r.8, limitPrice: r.9.map { Price(e4: $0).description }, stopPrice: r.10.map { Price(e4: $0).description }, timeInForce: tif,
            status: status, reserved: Money(minorUnits: r.13, currency: .cad), expiresAt: r.14, replaces: r.15.map { TradingOrderID($0) },
            replacedBy: r.16.map { TradingOrderID($0) }, createdAt: r.17, updatedAt: r.18, copiedFrom: r.19.map { TradingOrderID($0) })
    }

    /// Places an order on a locked account: the order, its log row, its `new` event and the buy's
    /// reservation, in one statement. Nil when the client order id is already used on the account.
    public func place(
        _ ticket: OrderTicket, account: TradingAccount, clientOrderID: String?, reserve: Int64, expiresAt: Date?, reason: String,
        copiedFrom: TradingOrderID? = nil, copy: TradingCopyID? = nil
    ) async throws -> TradingOrder? {
        let id = TradingOrderID(UUID())
        let event = try Outbox.Batch([
            TradingOrderEvent(
                orderId: id, clientOrderId: clientOrderID, memberId: account.memberId, status: .new, symbol: ticket.symbol, side: ticket.side, type: ticket.type,
                qty: ticket.qty, filledQty: 0, limitPrice: ticket.limit, stopPrice: ticket.stop),
        ])
        return try await db.query(
            """
            WITH placed AS (
                INSERT INTO trading_orders (id, client_order_id, account_id, member_id, symbol, side, type, qty, limit_e4, stop_e4, time_in_force, status,
                                            reserved_minor, expires_at, created_at, updated_at, copied_from, copy_id)
                VALUES (\(id), \(clientOrderID), \(account.id), \(account.memberId), \(ticket.symbol), \(ticket.side.rawValue), \(ticket.type.rawValue), \(ticket.qty),
                        \(ticket.limit?.e4), \(ticket.stop?.e4), \(ticket.timeInForce.rawValue), 'new', \(reserve), \(expiresAt), \(db.now), \(db.now),
                        \(copiedFrom?.rawValue), \(copy?.rawValue))
                ON CONFLICT (account_id, client_order_id) DO NOTHING
                RETURNING \(unescaped: Self.orderColumns)),
            held AS (
                UPDATE trading_accounts SET reserved_minor = reserved_minor + \(reserve) WHERE id = \(account.id) AND EXISTS (SELECT 1 FROM placed) RETURNING 1),
            logged AS (
                INSERT INTO trading_order_log (order_id, from_status, to_status, reason, created_at) SELECT id, NULL, 'new', \(reason), \(db.now) FROM placed),
            announced AS (
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM placed, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p))
            SELECT * FROM placed
            """
        ).first(OrderRow.self).map(Self.order)
    }

    /// Replaces a working order on a locked account: the old one `replaced` (its reservation
    /// released, linked to the new), the new one `new` with `replaces` (and its own reservation), a
    /// log row and an event for each, in one statement. Nil when the old one stopped working first
    /// (or the client order id is taken).
    public func replace(
        _ old: TradingOrder, with ticket: OrderTicket, account: TradingAccount, clientOrderID: String?, reserve: Int64, expiresAt: Date?
    ) async throws -> TradingOrder? {
        let id = TradingOrderID(UUID())
        let events = try Outbox.Batch([
            TradingOrderEvent(
                orderId: old.id, clientOrderId: old.clientOrderId, memberId: old.memberId, status: .replaced, symbol: old.symbol, side: old.side, type: old.type,
                qty: old.qty, filledQty: old.filledQty, limitPrice: old.limitPrice.flatMap(Price.init), stopPrice: old.stopPrice.flatMap(Price.init), replacedBy: id),
            TradingOrderEvent(
                orderId: id, clientOrderId: clientOrderID, memberId: account.memberId, status: .new, symbol: ticket.symbol, side: ticket.side, type: ticket.type,
                qty: ticket.qty, filledQty: 0, limitPrice: ticket.limit, stopPrice: ticket.stop, replaces: old.id),
        ])
        return try await db.query(
            """
            WITH before AS (
                SELECT id, status, reserved_minor FROM trading_orders WHERE id = \(old.id) AND status IN ('new', 'partially_filled') FOR UPDATE),
            placed AS (
                INSERT INTO trading_orders (id, client_order_id, account_id, member_id, symbol, side, type, qty, limit_e4, stop_e4, time_in_force, status,
                                            reserved_minor, expires_at, replaces, created_at, updated_at)
                SELECT \(id), \(clientOrderID), \(account.id), \(account.memberId), \(ticket.symbol), \(ticket.side.rawValue), \(ticket.type.rawValue), \(ticket.qty),
                       \(ticket.limit?.e4), \(ticket.stop?.e4), \(ticket.timeInForce.rawValue), 'new', \(reserve), \(expiresAt), before.id, \(db.now), \(db.now)
                FROM before
                ON CONFLICT (account_id, client_order_id) DO NOTHING
                RETURNING \(unescaped: Self.orderColumns)),
            replaced AS (
                UPDATE trading_orders o SET status = 'replaced', reserved_minor = 0, replaced_by = placed.id, updated_at = \(db.now)
                FROM placed WHERE o.id = placed.replaces RETURNING o.id),
            held AS (
                UPDATE trading_accounts a SET reserved_minor = a.reserved_minor - before.reserved_minor + \(reserve)
                FROM before, replaced WHERE a.id = \(account.id) RETURNING 1),
            logged AS (
                INSERT INTO trading_order_log (order_id, from_status, to_status, reason, created_at)
                SELECT before.id, before.status, 'replaced', 'replaced by ' || placed.id, \(db.now) FROM before, placed
                UNION ALL SELECT placed.id, NULL, 'new', 'replaces ' || before.id, \(db.now) FROM before, placed),
            announced AS (
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM placed, unnest(\(events.types)::text[], \(events.aggregates)::uuid[], \(events.payloads)::text[]) AS e(t, a, p))
            SELECT * FROM placed
            """
        ).first(OrderRow.self).map(Self.order)
    }

    /// One order (a member's own only, when `member` is given); `lock`: under its row lock.
    public func order(_ id: TradingOrderID, member: MemberID?, lock: Bool = false) async throws -> TradingOrder? {
        try await db.query(
            """
            SELECT \(unescaped: Self.orderColumns) FROM trading_orders
            WHERE id = \(id) AND (\(member)::uuid IS NULL OR member_id = \(member)) \(unescaped: lock ? "FOR UPDATE" : "")
            """
        ).first(OrderRow.self).map(Self.order)
    }

    /// Orders, newest first: a member's (or every member's), `open` (working), `closed` (final) or `all`.
    public func orders(member: MemberID?, account: TradingAccountID? = nil, status: String, symbol: String?, page: PageRequest) async throws -> Page<TradingOrder> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.orderColumns) FROM trading_orders
            WHERE (\(member)::uuid IS NULL OR member_id = \(member)) AND (\(symbol)::text IS NULL OR symbol = \(symbol))
              AND (\(account)::uuid IS NULL OR account_id = \(account))
              AND (\(status) = 'all' OR (\(status) = 'open') = (status IN ('new', 'partially_filled')))
              AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all(OrderRow.self)
        return try page.page(of: rows.map(Self.order), item: { $0 }, cursor: {
            PageCursor(position: Int64(($0.createdAt.timeIntervalSince1970 * 1_000_000).rounded()), id: $0.id.rawValue)
        })
    }

    /// A working order stops working (`canceled`, `expired`): its status, log row and event, and
    /// the reservation it held released, in one statement. Nil when it was no longer working.
    public func finish(_ order: TradingOrder, to status: OrderStatus, reason: String) async throws -> TradingOrder? {
        precondition(status == .canceled || status == .expired, "finish cancels or expires")
        let event = try Outbox.Batch([
            TradingOrderEvent(
                orderId: order.id, clientOrderId: order.clientOrderId, memberId: order.memberId, status: status, symbol: order.symbol, side: order.side,
                type: order.type, qty: order.qty, filledQty: order.filledQty, limitPrice: order.limitPrice.flatMap(Price.init),
                stopPrice: order.stopPrice.flatMap(Price.init)),
        ])
        return try await db.query(
            """
            WITH before AS (
                SELECT id, status, reserved_minor, account_id FROM trading_orders WHERE id = \(order.id) AND status IN ('new', 'partially_filled') FOR UPDATE),
            done AS (
                UPDATE trading_orders o SET status = \(status.rawValue), reserved_minor = 0, updated_at = \(db.now)
                FROM before WHERE o.id = before.id RETURNING \(unescaped: Self.orderColumns(of: "o"))),
            released AS (
                UPDATE trading_accounts a SET reserved_minor = a.reserved_minor - before.reserved_minor FROM before, done WHERE a.id = before.account_id RETURNING 1),
            logged AS (
                INSERT INTO trading_order_log (order_id, from_status, to_status, reason, created_at)
                SELECT before.id, before.status, \(status.rawValue), \(reason), \(db.now) FROM before, done),
            announced AS (
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM done, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p))
            SELECT * FROM done
            """
        ).first(OrderRow.self).map(Self.order)
    }
}

extension TradingOrderEvent: OutboxEvent {
    public var type: String { status.eventType }
    public var aggregateID: UUID { orderId.rawValue }
    public var audience: [UUID] { [memberId.rawValue] }
}
