import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaValues

/// What the matcher reads and writes in a tenant's schema: working orders by symbol, positions, and
/// each fill with everything it changes in one statement.
public struct TradingMatchStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// Working day orders whose close has come.
    public func expired(now: Date, limit: Int) async throws -> [TradingOrderID] {
        try await db.query(
            """
            SELECT id FROM trading_orders WHERE status IN ('new', 'partially_filled') AND expires_at <= \(now) ORDER BY expires_at, id LIMIT \(limit)
            """
        ).all(UUID.self).map { TradingOrderID($0) }
    }

    /// This tenant's matching of `symbol` for the rest of the transaction, unless another plane has it.
    /// The working orders of `symbol`, oldest first, under their row locks, with what matching needs
    /// — nil when another transaction is matching this book (a per-tenant-and-symbol advisory lock,
    /// taken first in the same statement: two planes never match one book at once).
    public func claimAndLockWorking(symbol: String) async throws -> [(order: TradingOrder, working: WorkingOrder)]? {
        let rows = try await db.query(
            """
            WITH claim AS (SELECT pg_try_advisory_xact_lock(hashtext('nzila-trading|' || current_setting('app.tenant_id') || '|' || \(symbol))) AS got)
            SELECT claim.got, o.* FROM claim LEFT JOIN LATERAL (
                SELECT \(unescaped: TradingStore.orderColumns), elected, last_quote_seq FROM trading_orders
                WHERE claim.got AND symbol = \(symbol) AND status IN ('new', 'partially_filled') AND (expires_at IS NULL OR expires_at > \(db.now))
                ORDER BY created_at, id FOR UPDATE) o ON true
            """
        ).all((Bool, UUID?, String?, UUID?, UUID?, String?, String?, String?, Int64?, Int64?, Int64?, Int64?, String?, String?, Int64?, Date?, UUID?, UUID?,
               Date?, Date?, UUID?, Bool?, Int64?).self)
        guard rows.first?.0 == true else { return nil }
        return try rows.compactMap { r in
            guard let id = r.1, let account = r.3, let member = r.4, let sym = r.5, let side = r.6, let type = r.7, let qty = r.8, let filled = r.9,
                let tif = r.12, let status = r.13, let reserved = r.14, let created = r.18, let updated = r.19, let elected = r.21
            else { return nil }
            let order = try TradingStore.order((
                id, r.2, account, member, sym, side, type, qty, filled, r.10, r.11, tif, status, reserved, r.15, r.16, r.17, created, updated, r.20))
            let working = WorkingOrder(
                id: id, side: order.side, type: order.type, qty: order.qty, filledQty: order.filledQty, limit: r.10.map { Price(e4: $0) },
                stop: r.11.map { Price(e4: $0) }, elected: elected, lastQuoteSeq: r.22)
            return (order, working)
        }
    }

    /// Records that orders met a quote (and which stops it elected) without a fill.
    public func seen(_ orders: [WorkingOrder]) async throws {
        guard !orders.isEmpty else { return }
        try await db.query(
            """
            UPDATE trading_orders o SET elected = s.elected, last_quote_seq = s.seq
            FROM unnest(\(orders.map(\.id))::uuid[], \(orders.map(\.elected))::bool[], \(orders.map { $0.lastQuoteSeq ?? 0 })::int8[]) AS s(id, elected, seq)
            WHERE o.id = s.id
            """)
    }

    /// An account's cash and reservations, under its row lock, and its position in `symbol` (empty
    /// if none yet): one statement. The position row is not locked (it may not exist yet), and need
    /// not be: only fills of `symbol` write it, and they run under the book's claim, which this
    /// transaction holds.
    public func lockAccount(_ id: TradingAccountID, position symbol: String) async throws -> ((cash: Int64, reserved: Int64), Position)? {
        try await db.query(
            """
            SELECT a.cash_minor, a.reserved_minor + a.allocated_minor, p.qty, p.basis_e4, p.basis_cad_minor, p.realised_e4, p.realised_cad_minor
            FROM trading_accounts a LEFT JOIN trading_positions p ON p.account_id = a.id AND p.symbol = \(symbol)
            WHERE a.id = \(id) FOR UPDATE OF a
            """
        ).first((Int64, Int64, Int64?, Int64?, Int64?, Int64?, Int64?).self).map { r in
            let position = r.2.map { Position(qty: $0, basisE4: r.3 ?? 0, basisCADMinor: r.4 ?? 0, realisedE4: r.5 ?? 0, realisedCADMinor: r.6 ?? 0) } ?? Position()
            return ((r.0, r.1), position)
        }
    }

    /// One fill as the matcher settled it.
    public struct Settled: Sendable {
        public let order: TradingOrder
        public let working: WorkingOrder
        public let fill: Fill
        public let currency: Currency
        public let notionalMinor: Int64
        public let rate: FXRate
        public let cadMinor: Int64
        public let feeMinor: Int64
        /// What the order still reserves after the fill (0 once it stops working).
        public let reservedAfter: Int64
        public let position: Position
    }

    /// The fill, the order's progress (its status, log row and event when the status changes, and
    /// the fill's event either way), the account's cash, reservation and fees, and the position, in
    /// one statement. False when the order already filled on this quote.
    public func record(_ s: Settled) async throws -> Bool {
        let cum = s.order.filledQty + s.fill.qty
        let status: OrderStatus = cum == s.order.qty ? .filled : .partiallyFilled
        let event = try Outbox.Batch([
            TradingOrderEvent(
                orderId: s.order.id, clientOrderId: s.order.clientOrderId, memberId: s.order.memberId, status: status, symbol: s.order.symbol, side: s.order.side,
                type: s.order.type, qty: s.order.qty, filledQty: cum, limitPrice: s.order.limitPrice.flatMap(Price.init),
                stopPrice: s.order.stopPrice.flatMap(Price.init), fill: (s.fill.qty, s.fill.price), positionQty: s.position.qty),
        ])
        let cashDelta = s.order.side == .buy ? -(s.cadMinor + s.feeMinor) : s.cadMinor - s.feeMinor
        let released = s.order.reserved.minorUnits - s.reservedAfter
        let logged = status != s.order.status
        let progressed = try await db.query(
            """
            WITH filled AS (
                INSERT INTO trading_fills (id, order_id, account_id, symbol, side, qty, price_e4, quote_seq, currency, notional_minor, fx_rate, cad_minor, fee_minor,
                                           cum_qty, leaves_qty, filled_at)
                VALUES (\(UUID()), \(s.order.id), \(s.order.accountId), \(s.order.symbol), \(s.order.side.rawValue), \(s.fill.qty), \(s.fill.price.e4), \(s.fill.quoteSeq),
                        \(s.currency.code), \(s.notionalMinor), \(s.rate.decimal)::numeric, \(s.cadMinor), \(s.feeMinor), \(cum), \(s.order.qty - cum), \(db.now))
                ON CONFLICT (order_id, quote_seq) DO NOTHING RETURNING order_id),
            progressed AS (
                UPDATE trading_orders o SET filled_qty = \(cum), status = \(status.rawValue), reserved_minor = \(s.reservedAfter), elected = \(s.working.elected),
                    last_quote_seq = \(s.fill.quoteSeq), updated_at = \(db.now)
                FROM filled WHERE o.id = filled.order_id RETURNING o.id),
            logged AS (
                INSERT INTO trading_order_log (order_id, from_status, to_status, reason, created_at)
                SELECT id, \(s.order.status.rawValue), \(status.rawValue), \("filled \(s.fill.qty) at \(s.fill.price)"), \(db.now)
                FROM progressed WHERE \(logged)),
            settled AS (
                UPDATE trading_accounts a SET cash_minor = a.cash_minor + \(cashDelta), reserved_minor = a.reserved_minor - \(released),
                    fees_minor = a.fees_minor + \(s.feeMinor)
                FROM progressed WHERE a.id = \(s.order.accountId) RETURNING 1),
            held AS (
                INSERT INTO trading_positions (account_id, symbol, qty, basis_e4, basis_cad_minor, realised_e4, realised_cad_minor, updated_at)
                SELECT \(s.order.accountId), \(s.order.symbol), \(s.position.qty), \(s.position.basisE4), \(s.position.basisCADMinor), \(s.position.realisedE4),
                       \(s.position.realisedCADMinor), \(db.now) FROM progressed
                ON CONFLICT (account_id, symbol) DO UPDATE SET qty = EXCLUDED.qty, basis_e4 = EXCLUDED.basis_e4, basis_cad_minor = EXCLUDED.basis_cad_minor,
                    realised_e4 = EXCLUDED.realised_e4, realised_cad_minor = EXCLUDED.realised_cad_minor, updated_at = EXCLUDED.updated_at
                RETURNING 1),
            announced AS (
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM progressed, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p))
            SELECT count(*)::int FROM progressed
            """
        ).first(Int.self)
        return progressed == 1
    }
}
