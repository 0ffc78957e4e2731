import Foundation
import NzilaCore
import Ledger
import NzilaDatabase
import PostgresNIO

/// Who moved a circle: a member, staff, or the scheduler (`ChangeActor.system`).
public typealias TontineActor = ChangeActor

/// Circles, members and cycles in the tenant's schema (Migrations/tenant/0013). A circle's state
/// change writes its status-log row and its outbox event in the same statement as the change.
public struct TontineStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// A circle's row with its pool's balance.
    public struct Circle: Sendable {
        public let id: TontineID
        public let name: String
        public let contribution: Money
        public let frequency: Frequency
        public let maxMembers: Int
        public let order: Rotation.Order
        public let graceDays: Int
        public let firstDueDate: Day
        public let earlyFeeBps: Int
        public let state: CircleState
        public let organizer: MemberID?
        public let pool: AccountID
        public let poolBalanceMinor: Int64
        public let seedCommitment: String
        public let seed: String
        public let createdAt: Date
        public let startedAt: Date?
        public let endedAt: Date?
        let position: Int64
        public var currency: Currency { contribution.currency }
    }

    static let circleColumns = """
        c.id, c.name, c.currency::text, c.contribution_minor, c.frequency, c.max_members, c.payout_order, c.grace_days, c.first_due_date::text,
        c.early_fee_bps, c.state, c.organizer_id, c.pool_account_id, a.balance_minor, c.seed_commitment, c.seed, c.created_at, c.started_at, c.ended_at,
        (extract(epoch FROM c.created_at) * 1000000)::int8
        """
    typealias CircleRow = (
        UUID, String, String, Int64, String, Int, String, Int, String, Int, String, UUID?, UUID, Int64, String, String, Date, Date?, Date?, Int64
    )

    static func circle(_ r: CircleRow) throws -> Circle {
        guard let currency = Currency(code: r.2), let day = Day(r.8) else { throw Problem.internalError }
        return Circle(
            id: TontineID(r.0), name: r.1, contribution: Money(minorUnits: r.3, currency: currency), frequency: try .stored(r.4), maxMembers: r.5,
            order: try .stored(r.6), graceDays: r.7, firstDueDate: day, earlyFeeBps: r.9, state: try .stored(r.10), organizer: r.11.map { MemberID($0) },
            pool: AccountID(r.12), poolBalanceMinor: r.13, seedCommitment: r.14, seed: r.15, createdAt: r.16, startedAt: r.17, endedAt: r.18, position: r.19)
    }

    /// One circle; `lock` takes its row lock (its members and start serialise on it). `NO KEY UPDATE`,
    /// so the key-share locks the foreign keys of its movements take never wait on it.
    public func find(_ id: TontineID, lock: Bool = false) async throws -> Circle? {
        try await db.query(
            """
            SELECT \(unescaped: Self.circleColumns) FROM tontine_circles c JOIN accounts a ON a.id = c.pool_account_id
            WHERE c.id = \(id) \(unescaped: lock ? "FOR NO KEY UPDATE OF c" : "")
            """
        ).first(CircleRow.self).map(Self.circle)
    }

    /// Creates a forming circle and its pool account (floor 0), with its first status-log row and
    /// event, in one statement.
    public func create(_ id: TontineID, plan: CirclePlan, organizer: MemberID?, seed: String, by actor: TontineActor) async throws {
        let created = TontineStateChanged(tontine: id, from: nil, state: .forming, reason: "created", actorRole: actor.role)
        let event = try Outbox.Batch([created.to(organizer.map { [$0.rawValue] } ?? [])])
        let pool = AccountID(UUID())
        try await db.query(
            """
            WITH pool AS (
                INSERT INTO accounts (id, kind, currency, floor_minor, name, circle_id, created_at)
                VALUES (\(pool), 'tontine_pool', \(plan.contribution.currency.code), 0, \("Tontine pool: \(plan.name)"), \(id), \(db.now)) RETURNING id),
            circle AS (
                INSERT INTO tontine_circles (id, name, currency, contribution_minor, frequency, max_members, payout_order, grace_days, first_due_date,
                    early_fee_bps, state, organizer_id, pool_account_id, seed_commitment, seed, created_by, created_by_role, created_at)
                SELECT \(id), \(plan.name), \(plan.contribution.currency.code), \(plan.contribution.minorUnits), \(plan.frequency.rawValue),
                    \(plan.maxMembers), \(plan.order.rawValue), \(plan.graceDays), \(plan.firstDueDate.description)::date, \(plan.earlyFeeBps), 'forming',
                    \(organizer), pool.id, \(Rotation.commitment(seed)), \(seed), \(actor.id ?? UUID()), \(actor.role), \(db.now)
                FROM pool RETURNING id),
            logged AS (
                INSERT INTO tontine_status_log (circle_id, from_state, to_state, actor, actor_role, reason)
                SELECT id, NULL, 'forming', \(actor.id), \(actor.role), 'created' FROM circle)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM circle, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p)
            """)
    }

    /// A member's place, as stored.
    public struct Member: Sendable, Equatable {
        public let member: MemberID
        public let joinSeq: Int
        public let position: Int?
        public let payoutAccount: AccountID
        public let autopayAccount: AccountID?
        public let joinedAt: Date
        public let delinquent: Bool
    }

    public func members(_ circle: TontineID) async throws -> [Member] {
        try await db.query(
            """
            SELECT member_id, join_seq, position, payout_account_id, autopay_account_id, joined_at, delinquent_at IS NOT NULL
            FROM tontine_members WHERE circle_id = \(circle) ORDER BY join_seq
            """
        ).all((UUID, Int, Int?, UUID, UUID?, Date, Bool).self).map {
            Member(member: MemberID($0.0), joinSeq: $0.1, position: $0.2, payoutAccount: AccountID($0.3), autopayAccount: $0.4.map { AccountID($0) },
                   joinedAt: $0.5, delinquent: $0.6)
        }
    }

    /// Adds a member at the next join sequence (the caller holds the circle's lock and checked room),
    /// with its event. False when the member already holds a position.
    public func join(_ circle: TontineID, member: MemberID, joinSeq: Int, payout: AccountID, autopay: AccountID?) async throws -> Bool {
        let event = try Outbox.Batch([TontineMemberJoined(tontineId: circle, memberId: member, joinSeq: joinSeq)])
        let joined = try await db.query(
            """
            WITH joined AS (
                INSERT INTO tontine_members (circle_id, member_id, join_seq, payout_account_id, autopay_account_id, joined_at)
                VALUES (\(circle), \(member), \(joinSeq), \(payout), \(autopay), \(db.now))
                ON CONFLICT (circle_id, member_id) DO NOTHING RETURNING circle_id)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM joined, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p)
            RETURNING 1
            """
        ).first(Int.self)
        return joined != nil
    }

    /// One cycle to write at start.
    public struct NewCycle: Sendable {
        public let cycle: Int
        public let due: Day
        public let recipient: MemberID
        public let firstActionAt: Date
    }

    /// forming → active: the positions and cycles fixed, the log row and event, in one statement.
    /// False when the circle was no longer forming.
    public func start(_ circle: TontineID, positions: [(MemberID, Int)], cycles: [NewCycle], by actor: TontineActor, reason: String) async throws -> Bool {
        let event = try Outbox.Batch([TontineStateChanged(tontine: circle, from: .forming, state: .active, reason: reason, actorRole: actor.role)])
        let started = try await db.query(
            """
            WITH moved AS (
                UPDATE tontine_circles SET state = 'active', started_at = \(db.now) WHERE id = \(circle) AND state = 'forming' RETURNING id),
            placed AS (
                UPDATE tontine_members m SET position = p.position
                FROM unnest(\(positions.map(\.0.rawValue))::uuid[], \(positions.map(\.1))::int[]) AS p(member_id, position), moved
                WHERE m.circle_id = moved.id AND m.member_id = p.member_id),
            scheduled AS (
                INSERT INTO tontine_cycles (circle_id, cycle, due_date, recipient_id, status, next_action_at)
                SELECT moved.id, c.cycle, c.due::date, c.recipient, 'open', c.at
                FROM moved, unnest(\(cycles.map(\.cycle))::int[], \(cycles.map(\.due.description))::text[], \(cycles.map(\.recipient.rawValue))::uuid[],
                                   \(cycles.map(\.firstActionAt))::timestamptz[]) AS c(cycle, due, recipient, at)),
            logged AS (
                INSERT INTO tontine_status_log (circle_id, from_state, to_state, actor, actor_role, reason)
                SELECT id, 'forming', 'active', \(actor.id), \(actor.role), \(reason) FROM moved)
            INSERT INTO outbox_events (topic, aggregate_id, payload, audience)
            SELECT e.t, e.a, e.p::jsonb, ARRAY(SELECT member_id FROM tontine_members WHERE circle_id = moved.id)
            FROM moved, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p)
            RETURNING 1
            """
        ).first(Int.self)
        return started != nil
    }

    /// Moves a circle from `from` to `to` if it is still in `from` (with its log row and event).
    @discardableResult
    public func transition(_ circle: TontineID, from: CircleState, to: CircleState, reason: String, by actor: TontineActor) async throws -> Bool {
        precondition(from.next.contains(to), "illegal transition \(from) → \(to)")
        let event = try Outbox.Batch([TontineStateChanged(tontine: circle, from: from, state: to, reason: reason, actorRole: actor.role)])
        let moved = try await db.query(
            """
            WITH moved AS (
                UPDATE tontine_circles SET state = \(to.rawValue), ended_at = CASE WHEN \(to.isFinal) THEN \(db.now) ELSE ended_at END
                WHERE id = \(circle) AND state = \(from.rawValue) RETURNING id),
            logged AS (
                INSERT INTO tontine_status_log (circle_id, from_state, to_state, actor, actor_role, reason)
                SELECT id, \(from.rawValue), \(to.rawValue), \(actor.id), \(actor.role), \(String(reason.prefix(2000))) FROM moved)
            INSERT INTO outbox_events (topic, aggregate_id, payload, audience)
            SELECT e.t, e.a, e.p::jsonb, ARRAY(SELECT member_id FROM tontine_members WHERE circle_id = moved.id)
            FROM moved, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p)
            RETURNING 1
            """
        ).first(Int.self)
        return moved != nil
    }

    /// A cycle as stored.
    public struct Cycle: Sendable {
        public let circle: TontineID
        public let cycle: Int
        public let due: Day
        public let recipient: MemberID
        public let status: CycleStatus
        public let phase: Int
        public let nextActionAt: Date?
        /// The members were reminded that it falls due (`CycleClock.reminderAt`).
        public let reminded: Bool
        public let paidMinor: Int64?
        public let paidAt: Date?
        /// Members whose contribution (or advance) is in.
        public let contributed: [MemberID]
    }

    static let cycleColumns = """
        cy.circle_id, cy.cycle, cy.due_date::text, cy.recipient_id, cy.status, cy.phase::int, cy.next_action_at, cy.reminded,
        cy.payout_minor - coalesce(cy.recovered_minor, 0), cy.paid_at,
        ARRAY(SELECT co.member_id FROM tontine_contributions co WHERE co.circle_id = cy.circle_id AND co.cycle = cy.cycle AND co.refund_journal_id IS NULL ORDER BY co.created_at, co.member_id)
        """
    typealias CycleRow = (UUID, Int, String, UUID, String, Int, Date?, Bool, Int64?, Date?, [UUID])

    static func cycle(_ r: CycleRow) throws -> Cycle {
        guard let due = Day(r.2) else { throw Problem.internalError }
        return Cycle(
            circle: TontineID(r.0), cycle: r.1, due: due, recipient: MemberID(r.3), status: try .stored(r.4), phase: r.5, nextActionAt: r.6,
            reminded: r.7, paidMinor: r.8, paidAt: r.9, contributed: r.10.map { MemberID($0) })
    }

    public func cycles(_ circle: TontineID) async throws -> [Cycle] {
        try await db.query("SELECT \(unescaped: Self.cycleColumns) FROM tontine_cycles cy WHERE cy.circle_id = \(circle) ORDER BY cy.cycle")
            .all(CycleRow.self).map(Self.cycle)
    }

    /// One cycle under its row lock (contributions to it, its payout and the scheduler's steps
    /// serialise on it); `skipLocked`: nil when someone else holds it.
    public func lockCycle(_ circle: TontineID, _ cycle: Int, skipLocked: Bool = false) async throws -> Cycle? {
        try await db.query(
            """
            SELECT \(unescaped: Self.cycleColumns) FROM tontine_cycles cy WHERE cy.circle_id = \(circle) AND cy.cycle = \(cycle)
            FOR UPDATE \(unescaped: skipLocked ? "SKIP LOCKED" : "")
            """
        ).first(CycleRow.self).map(Self.cycle)
    }

    /// Cycles whose next scheduled step has come, oldest first.
    public func due(now: Date, limit: Int) async throws -> [(TontineID, Int)] {
        try await db.query(
            "SELECT circle_id, cycle FROM tontine_cycles WHERE next_action_at <= \(now) ORDER BY next_action_at, circle_id, cycle LIMIT \(limit)"
        ).all((UUID, Int).self).map { (TontineID($0.0), $0.1) }
    }

    /// Moves a cycle's next look to `until` (a step that failed), if it is still scheduled.
    public func postpone(_ circle: TontineID, _ cycle: Int, until: Date) async throws {
        try await db.query(
            "UPDATE tontine_cycles SET next_action_at = \(until) WHERE circle_id = \(circle) AND cycle = \(cycle) AND next_action_at IS NOT NULL")
    }

    /// Records the scheduler's progress on a cycle: phases done, whether its reminder went (with
    /// the reminder's event, in the same statement) and when to look next.
    public func schedule(_ circle: TontineID, _ cycle: Int, phase: Int, next: Date?, reminded: Bool? = nil, reminder: TontineContributionDue? = nil) async throws {
        let batch = try Outbox.Batch(reminder.map { [$0] } ?? [])
        try await db.query(
            """
            WITH scheduled AS (
                UPDATE tontine_cycles SET phase = \(phase), next_action_at = \(next), reminded = coalesce(\(reminded), reminded)
                WHERE circle_id = \(circle) AND cycle = \(cycle) RETURNING 1)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM scheduled, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            """)
    }

    /// Circles a member holds a position in (nil: every circle), newest first.
    public func list(member: MemberID?, page: PageRequest) async throws -> Page<TontineSummary> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.circleColumns), (SELECT count(*)::int FROM tontine_members m WHERE m.circle_id = c.id)
            FROM tontine_circles c JOIN accounts a ON a.id = c.pool_account_id
            WHERE (\(member)::uuid IS NULL OR EXISTS (SELECT 1 FROM tontine_members m WHERE m.circle_id = c.id AND m.member_id = \(member)))
              AND (\(after == nil) OR (c.created_at, c.id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY c.created_at DESC, c.id DESC LIMIT \(page.limit + 1)
            """
        ).all((UUID, String, String, Int64, String, Int, String, Int, String, Int, String, UUID?, UUID, Int64, String, String, Date, Date?, Date?, Int64, Int).self)
        let items = try rows.map { r -> (TontineSummary, Int64, UUID) in
            let c = try Self.circle((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15, r.16, r.17, r.18, r.19))
            return (TontineSummary(id: c.id, name: c.name, contribution: c.contribution, frequency: c.frequency, state: c.state, members: r.20,
                                   maxMembers: c.maxMembers, createdAt: c.createdAt), c.position, c.id.rawValue)
        }
        return page.page(of: items, item: { $0.0 }, cursor: { PageCursor(position: $0.1, id: $0.2) })
    }

    /// Each member's standing: what they paid (contributions, late fees, arrears recovered, less
    /// refunds and waived fees) against what they owed (the contributions of cycles due by `today`,
    /// late fees and penalties charged, less waived fees),
    /// their arrears outstanding and whether they have received their payout. Once a circle is
    /// dissolved, what a member owes is what they paid plus their arrears (the settlement refunded or
    /// charged the rest), so their balance is their arrears, negated.
    public func standings(_ circle: Circle, today: Day) async throws -> [MemberID: TontineRecord.Standing] {
        let rows = try await db.query(
            """
            SELECT m.member_id,
                coalesce((SELECT sum(CASE WHEN v.kind IN ('refund', 'fee_waived') THEN -amount_minor ELSE amount_minor END)
                          FROM tontine_movements v WHERE v.circle_id = m.circle_id AND v.member_id = m.member_id
                          AND v.kind IN ('contribution', 'late_fee', 'advance_recovered', 'penalty_recovered', 'refund', 'fee_waived')), 0)::int8,
                coalesce((SELECT sum(CASE WHEN v.kind = 'fee_waived' THEN -amount_minor ELSE amount_minor END)
                          FROM tontine_movements v WHERE v.circle_id = m.circle_id AND v.member_id = m.member_id
                          AND v.kind IN ('late_fee', 'penalty_booked', 'fee_waived')), 0)::int8
                  + \(circle.contribution.minorUnits) * (SELECT count(*) FROM tontine_cycles cy WHERE cy.circle_id = m.circle_id
                          AND cy.due_date <= \(today.description)::date AND cy.status <> 'cancelled')::int8,
                coalesce((SELECT sum(advanced_minor + penalty_minor - advance_recovered_minor - penalty_recovered_minor) FROM tontine_arrears r
                          WHERE r.circle_id = m.circle_id AND r.member_id = m.member_id), 0)::int8,
                EXISTS (SELECT 1 FROM tontine_cycles cy WHERE cy.circle_id = m.circle_id AND cy.recipient_id = m.member_id AND cy.status = 'paid'),
                m.delinquent_at IS NOT NULL
            FROM tontine_members m WHERE m.circle_id = \(circle.id)
            """
        ).all((UUID, Int64, Int64, Int64, Bool, Bool).self)
        let currency = circle.currency
        var result: [MemberID: TontineRecord.Standing] = [:]
        for (member, paid, due, arrears, received, delinquent) in rows {
            // A dissolved circle's settlement squared every member's contributions: what remains owed
            // is their arrears (what they received beyond what they paid in, and unrecovered defaults).
            let owed = circle.state == .dissolved ? paid + arrears : due
            let standing = Standing(paidMinor: paid, owedMinor: owed, received: received)
            result[MemberID(member)] = TontineRecord.Standing(
                paid: Money(minorUnits: paid, currency: currency), owed: Money(minorUnits: owed, currency: currency),
                balance: Money(minorUnits: standing.balanceMinor, currency: currency), arrears: Money(minorUnits: arrears, currency: currency),
                received: received, delinquent: delinquent)
        }
        return result
    }

    /// What the routes check of accounts a member names: owner, status and currency.
    public struct AccountFacts: Sendable {
        public let member: MemberID?
        public let status: AccountStatus
        public let currency: String
    }

    public func accounts(_ ids: [AccountID]) async throws -> [AccountID: AccountFacts] {
        var result: [AccountID: AccountFacts] = [:]
        for (id, member, status, currency) in try await db.query(
            "SELECT id, member_id, status, currency::text FROM accounts WHERE id = ANY(\(ids.map(\.rawValue)))"
        ).all((UUID, UUID?, String, String).self) {
            result[AccountID(id)] = AccountFacts(member: member.map { MemberID($0) }, status: try .stored(status), currency: currency)
        }
        return result
    }

    public func memberExists(_ member: MemberID) async throws -> Bool {
        try await db.query("SELECT 1 FROM members WHERE id = \(member) AND status = 'active'").first(Int.self) != nil
    }
}

extension TontineStore.Cycle {
    /// The cycle once `member`'s contribution is in (as the row now says).
    func adding(_ member: MemberID) -> TontineStore.Cycle {
        TontineStore.Cycle(
            circle: circle, cycle: cycle, due: due, recipient: recipient, status: status, phase: phase, nextActionAt: nextActionAt, reminded: reminded,
            paidMinor: paidMinor, paidAt: paidAt, contributed: contributed + [member])
    }
}

extension TontineStore {
    /// Cycles of running circles due within `days`, in `statuses`, earliest first (then by circle
    /// and cycle), paged; with each circle's member count and the contributions in.
    public func dueCycles(_ days: DayRange, statuses: [CycleStatus], page: PageRequest) async throws -> Page<DueCycle> {
        let after = page.after
        let afterDay = after.flatMap { Day(ordinal: Int($0.position / 100)) }?.description ?? "1900-01-01"
        let afterCycle = Int(after.map { $0.position % 100 } ?? 0)
        let rows = try await db.query(
            """
            SELECT c.id, c.name, cy.cycle, cy.due_date::text, cy.status, cy.recipient_id, c.currency::text, c.contribution_minor,
                   (SELECT count(*)::int FROM tontine_members m WHERE m.circle_id = c.id),
                   (SELECT count(*)::int FROM tontine_contributions co WHERE co.circle_id = cy.circle_id AND co.cycle = cy.cycle AND co.refund_journal_id IS NULL)
            FROM tontine_cycles cy JOIN tontine_circles c ON c.id = cy.circle_id
            WHERE cy.due_date BETWEEN \(days.from.description)::date AND \(days.to.description)::date
              AND cy.status = ANY(\(statuses.map(\.rawValue))::text[]) AND c.state = 'active'
              AND (\(after == nil) OR (cy.due_date, cy.circle_id, cy.cycle) > (\(afterDay)::date, \(after?.id ?? UUID()), \(afterCycle)))
            ORDER BY cy.due_date, cy.circle_id, cy.cycle LIMIT \(page.limit + 1)
            """
        ).all((UUID, String, Int, String, String, UUID, String, Int64, Int, Int).self)
        let items = try rows.map { r -> DueCycle in
            guard let due = Day(r.3) else { throw Problem.internalError }
            return DueCycle(
                tontineId: TontineID(r.0), name: r.1, cycle: r.2, dueDate: due, status: try .stored(r.4), recipientId: MemberID(r.5),
                contribution: Money(minorUnits: r.7, currency: try Currency.stored(r.6)), members: r.8, contributed: r.9)
        }
        return page.page(of: items, item: { $0 }, cursor: { PageCursor(position: Int64($0.dueDate.ordinal) * 100 + Int64($0.cycle), id: $0.tontineId.rawValue) })
    }
}
