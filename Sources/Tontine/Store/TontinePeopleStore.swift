import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Swaps, disputes, dissolution and the credit record in the tenant's schema. Each change writes its
/// row and its event in one statement.
struct TontinePeopleStore {
    let db: TenantDB

    // MARK: Swaps

    struct Swap: Sendable {
        let id: TontineSwapID
        let circle: TontineID
        let requester: MemberID
        let counterparty: MemberID
        let requesterCycle: Int
        let counterpartyCycle: Int
        let status: SwapStatus
        let requestedAt: Date
        let decidedAt: Date?
    }

    static let swapColumns = "id, circle_id, requester_id, counterparty_id, requester_cycle, counterparty_cycle, status, requested_at, decided_at"
    typealias SwapRow = (UUID, UUID, UUID, UUID, Int, Int, String, Date, Date?)

    static func swap(_ r: SwapRow) throws -> Swap {
        Swap(
            id: TontineSwapID(r.0), circle: TontineID(r.1), requester: MemberID(r.2), counterparty: MemberID(r.3), requesterCycle: r.4,
            counterpartyCycle: r.5, status: try .stored(r.6), requestedAt: r.7, decidedAt: r.8)
    }

    func event(_ swap: Swap, _ status: SwapStatus) -> TontineSwapChanged {
        TontineSwapChanged(
            tontineId: swap.circle, swapId: swap.id, requesterId: swap.requester, counterpartyId: swap.counterparty,
            requesterCycle: swap.requesterCycle, counterpartyCycle: swap.counterpartyCycle, status: status)
    }

    func requestSwap(_ swap: Swap) async throws {
        let batch = try Outbox.Batch([event(swap, .requested)])
        do {
            try await db.query(
                """
                WITH asked AS (
                    INSERT INTO tontine_swaps (id, circle_id, requester_id, counterparty_id, requester_cycle, counterparty_cycle, status, requested_at)
                    VALUES (\(swap.id), \(swap.circle), \(swap.requester), \(swap.counterparty), \(swap.requesterCycle), \(swap.counterpartyCycle),
                            'requested', \(db.now)) RETURNING 1)
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM asked, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
                """)
        } catch where DatabaseErrors.sqlState(error) == "23505" {
            throw RuleError(.conflict, "swap-pending", "Swap pending", detail: "A swap between these members is already waiting for an answer.")
        }
    }

    func findSwap(_ id: TontineSwapID, circle: TontineID) async throws -> Swap? {
        try await db.query("SELECT \(unescaped: Self.swapColumns) FROM tontine_swaps WHERE id = \(id) AND circle_id = \(circle) FOR UPDATE")
            .first(SwapRow.self).map(Self.swap)
    }

    func swaps(_ circle: TontineID) async throws -> [Swap] {
        try await db.query("SELECT \(unescaped: Self.swapColumns) FROM tontine_swaps WHERE circle_id = \(circle) ORDER BY requested_at, id")
            .all(SwapRow.self).map(Self.swap)
    }

    /// requested → accepted: the two members' positions and the two cycles' recipients exchange, in
    /// one statement with the event. False when the swap was no longer requested.
    func accept(_ swap: Swap, by member: MemberID) async throws -> Bool {
        let batch = try Outbox.Batch([event(swap, .accepted)])
        return try await db.query(
            """
            WITH decided AS (
                UPDATE tontine_swaps SET status = 'accepted', decided_at = \(db.now), decided_by = \(member)
                WHERE id = \(swap.id) AND status = 'requested' RETURNING circle_id),
            positions AS (
                UPDATE tontine_members m SET position = CASE m.member_id WHEN \(swap.requester) THEN \(swap.counterpartyCycle) ELSE \(swap.requesterCycle) END
                FROM decided WHERE m.circle_id = decided.circle_id AND m.member_id IN (\(swap.requester), \(swap.counterparty))),
            turns AS (
                UPDATE tontine_cycles c SET recipient_id = CASE c.cycle WHEN \(swap.requesterCycle) THEN \(swap.counterparty) ELSE \(swap.requester) END
                FROM decided WHERE c.circle_id = decided.circle_id AND c.cycle IN (\(swap.requesterCycle), \(swap.counterpartyCycle))
                  AND c.status IN ('open', 'short'))
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM decided, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            RETURNING 1
            """
        ).first(Int.self) != nil
    }

    func decline(_ swap: Swap, by member: MemberID) async throws -> Bool {
        let batch = try Outbox.Batch([event(swap, .declined)])
        return try await db.query(
            """
            WITH decided AS (
                UPDATE tontine_swaps SET status = 'declined', decided_at = \(db.now), decided_by = \(member)
                WHERE id = \(swap.id) AND status = 'requested' RETURNING 1)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM decided, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            RETURNING 1
            """
        ).first(Int.self) != nil
    }

    // MARK: Disputes

    struct Dispute: Sendable {
        let id: TontineDisputeID
        let circle: TontineID
        let cycle: Int
        let member: MemberID
        let reason: String
        let status: DisputeStatus
        let action: DisputeAction?
        let resolution: String?
        let resolvedByRole: String?
        let journal: JournalID?
        let openedAt: Date
        let resolvedAt: Date?
    }

    static let disputeColumns = "id, circle_id, cycle, member_id, reason, status, action, resolution, resolved_by_role, journal_id, opened_at, resolved_at"
    typealias DisputeRow = (UUID, UUID, Int, UUID, String, String, String?, String?, String?, UUID?, Date, Date?)

    static func dispute(_ r: DisputeRow) throws -> Dispute {
        Dispute(
            id: TontineDisputeID(r.0), circle: TontineID(r.1), cycle: r.2, member: MemberID(r.3), reason: r.4, status: try .stored(r.5),
            action: try r.6.map { try .stored($0) }, resolution: r.7, resolvedByRole: r.8, journal: r.9.map { JournalID($0) }, openedAt: r.10,
            resolvedAt: r.11)
    }

    func event(_ dispute: Dispute, _ status: DisputeStatus, action: DisputeAction?, journal: JournalID?) -> TontineDisputeChanged {
        TontineDisputeChanged(
            tontineId: dispute.circle, disputeId: dispute.id, memberId: dispute.member, cycle: dispute.cycle, status: status, action: action,
            journalId: journal)
    }

    func open(_ dispute: Dispute) async throws {
        let batch = try Outbox.Batch([event(dispute, .open, action: nil, journal: nil)])
        try await db.query(
            """
            WITH opened AS (
                INSERT INTO tontine_disputes (id, circle_id, cycle, member_id, reason, status, opened_at)
                VALUES (\(dispute.id), \(dispute.circle), \(dispute.cycle), \(dispute.member), \(dispute.reason), 'open', \(db.now)) RETURNING 1)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM opened, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            """)
    }

    func findDispute(_ id: TontineDisputeID, circle: TontineID) async throws -> Dispute? {
        try await db.query("SELECT \(unescaped: Self.disputeColumns) FROM tontine_disputes WHERE id = \(id) AND circle_id = \(circle) FOR UPDATE")
            .first(DisputeRow.self).map(Self.dispute)
    }

    func disputes(_ circle: TontineID, member: MemberID?) async throws -> [Dispute] {
        try await db.query(
            """
            SELECT \(unescaped: Self.disputeColumns) FROM tontine_disputes
            WHERE circle_id = \(circle) AND (\(member)::uuid IS NULL OR member_id = \(member)) ORDER BY opened_at, id
            """
        ).all(DisputeRow.self).map(Self.dispute)
    }

    /// open → upheld|rejected with who, why and the journal of its action, and the event.
    func resolve(
        _ dispute: Dispute, to status: DisputeStatus, action: DisputeAction?, resolution: String, journal: JournalID?, by actor: TontineActor
    ) async throws -> Bool {
        let batch = try Outbox.Batch([event(dispute, status, action: action, journal: journal)])
        return try await db.query(
            """
            WITH resolved AS (
                UPDATE tontine_disputes SET status = \(status.rawValue), action = \(action?.rawValue), resolution = \(resolution),
                    resolved_by = \(actor.id), resolved_by_role = \(actor.role), journal_id = \(journal), resolved_at = \(db.now)
                WHERE id = \(dispute.id) AND status = 'open' RETURNING 1)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM resolved, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            RETURNING 1
            """
        ).first(Int.self) != nil
    }

    /// The member's standing contribution to a cycle paid from an account: (id, account, late fee,
    /// whether the fee was already waived).
    func contribution(_ circle: TontineID, cycle: Int, member: MemberID) async throws -> (UUID, AccountID, Int64, Bool)? {
        try await db.query(
            """
            SELECT co.id, co.account_id, co.late_fee_minor,
                   EXISTS (SELECT 1 FROM tontine_movements v WHERE v.circle_id = co.circle_id AND v.cycle = co.cycle AND v.member_id = co.member_id
                           AND v.kind = 'fee_waived')
            FROM tontine_contributions co
            WHERE co.circle_id = \(circle) AND co.cycle = \(cycle) AND co.member_id = \(member) AND co.refund_journal_id IS NULL AND co.account_id IS NOT NULL
            FOR UPDATE
            """
        ).first((UUID, UUID, Int64, Bool).self).map { ($0.0, AccountID($0.1), $0.2, $0.3) }
    }

    /// Marks a contribution refunded and records the movement.
    func refunded(_ contribution: UUID, circle: TontineID, cycle: Int, member: MemberID, amount: Int64, journal: JournalID) async throws {
        try await db.query(
            """
            WITH refunded AS (UPDATE tontine_contributions SET refund_journal_id = \(journal) WHERE id = \(contribution) RETURNING 1)
            INSERT INTO tontine_movements (circle_id, cycle, member_id, kind, amount_minor, journal_id, created_at)
            SELECT \(circle), \(cycle), \(member), 'refund', \(amount), \(journal), \(db.now) FROM refunded
            """)
    }

    func movement(_ circle: TontineID, cycle: Int?, member: MemberID, kind: String, amount: Int64, journal: JournalID) async throws {
        try await db.query(
            """
            INSERT INTO tontine_movements (circle_id, cycle, member_id, kind, amount_minor, journal_id, created_at)
            VALUES (\(circle), \(cycle), \(member), \(kind), \(amount), \(journal), \(db.now))
            """)
    }

    // MARK: Dissolution

    /// Each member's money in the circle: paid in (contributions less refunds, plus what the
    /// guarantee advanced for them, which they owe separately) and received (payouts, gross).
    func positions(_ circle: TontineID) async throws -> [Dissolution.Position] {
        try await db.query(
            """
            SELECT m.member_id,
                coalesce(sum(v.amount_minor) FILTER (WHERE v.kind IN ('contribution', 'advance')), 0)::int8
                    - coalesce(sum(v.amount_minor) FILTER (WHERE v.kind = 'refund'), 0)::int8,
                coalesce(sum(v.amount_minor) FILTER (WHERE v.kind = 'payout'), 0)::int8
            FROM tontine_members m LEFT JOIN tontine_movements v ON v.circle_id = m.circle_id AND v.member_id = m.member_id
            WHERE m.circle_id = \(circle) GROUP BY m.member_id ORDER BY m.member_id
            """
        ).all((UUID, Int64, Int64).self).map { Dissolution.Position(member: MemberID($0.0), paidInMinor: $0.1, receivedMinor: $0.2) }
    }

    /// Every cycle not yet paid is cancelled (no more scheduler steps).
    func cancelOpenCycles(_ circle: TontineID) async throws {
        try await db.query(
            "UPDATE tontine_cycles SET status = 'cancelled', next_action_at = NULL WHERE circle_id = \(circle) AND status IN ('open', 'short')")
    }

    // MARK: Credit record

    /// A member's record across every circle: cycles due (their due day passed, not cancelled),
    /// paid on time, paid late, missed (advanced by the guarantee, or still missing), and circles.
    func record(_ member: MemberID, today: Day) async throws -> (due: Int, onTime: Int, late: Int, missed: Int, circles: Int, completed: Int, delinquent: Int) {
        let row = try await db.query(
            """
            WITH due AS (
                SELECT cy.circle_id, cy.cycle, co.source, co.late
                FROM tontine_members m
                JOIN tontine_cycles cy ON cy.circle_id = m.circle_id AND cy.status <> 'cancelled' AND cy.due_date < \(today.description)::date
                LEFT JOIN tontine_contributions co ON co.circle_id = cy.circle_id AND co.cycle = cy.cycle AND co.member_id = m.member_id
                    AND co.refund_journal_id IS NULL
                -- A cycle counts once the member's money is in or grace is over (still in grace: not yet on the record).
                WHERE m.member_id = \(member) AND (co.id IS NOT NULL OR cy.phase >= 3))
            SELECT (SELECT count(*) FROM due)::int,
                   (SELECT count(*) FROM due WHERE source IN ('member', 'autopay') AND NOT late)::int,
                   (SELECT count(*) FROM due WHERE source IN ('member', 'autopay') AND late)::int,
                   (SELECT count(*) FROM due WHERE source IS NULL OR source = 'guarantee')::int,
                   (SELECT count(*) FROM tontine_members WHERE member_id = \(member))::int,
                   (SELECT count(*) FROM tontine_members m JOIN tontine_circles c ON c.id = m.circle_id
                    WHERE m.member_id = \(member) AND c.state = 'completed')::int,
                   (SELECT count(*) FROM tontine_members WHERE member_id = \(member) AND delinquent_at IS NOT NULL)::int
            """
        ).first((Int, Int, Int, Int, Int, Int, Int).self)
        guard let row else { throw Problem.internalError }
        return (row.0, row.1, row.2, row.3, row.4, row.5, row.6)
    }
}

extension TontineSwapChanged: CircleEvent {
    public var type: String { status.event }
    public var audience: [UUID] { [requesterId.rawValue, counterpartyId.rawValue] }
}
extension TontineDisputeChanged: CircleEvent {
    public var type: String { status.event }
    public var audience: [UUID] { [memberId.rawValue] }
}
