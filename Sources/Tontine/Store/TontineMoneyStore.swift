import Compliance
import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension ContributionSource: PostgresEncodable, PostgresNonThrowingEncodable {
    public static var psqlType: PostgresDataType { String.psqlType }
    public static var psqlFormat: PostgresFormat { String.psqlFormat }
    public func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        rawValue.encode(into: &byteBuffer, context: context)
    }
}

/// The rows that record a circle's money beside its journals: contributions, arrears, movements
/// (what verify-ledger reconciles the pool, guarantee and arrears accounts against) and the events.
struct TontineMoneyStore {
    let db: TenantDB

    /// A member's outstanding arrears in a circle, oldest first, locked.
    struct Owed: Sendable {
        let id: Int64
        let advance: Int64
        let penalty: Int64
    }

    func owed(_ circle: TontineID, member: MemberID) async throws -> [Owed] {
        try await owed(circle, members: [member])[member] ?? []
    }

    /// The outstanding arrears of several members at once, each member's oldest first, locked.
    func owed(_ circle: TontineID, members: [MemberID]) async throws -> [MemberID: [Owed]] {
        var result: [MemberID: [Owed]] = [:]
        for (member, id, advance, penalty) in try await db.query(
            """
            SELECT member_id, id, advanced_minor - advance_recovered_minor, penalty_minor - penalty_recovered_minor FROM tontine_arrears
            WHERE circle_id = \(circle) AND member_id = ANY(\(members.map(\.rawValue)))
              AND (advance_recovered_minor < advanced_minor OR penalty_recovered_minor < penalty_minor)
            ORDER BY id FOR UPDATE
            """
        ).all((UUID, Int64, Int64, Int64).self) {
            result[MemberID(member), default: []].append(Owed(id: id, advance: advance, penalty: penalty))
        }
        return result
    }

    /// Spreads a recovery over the rows, oldest first: (row, advance, penalty) for each row touched.
    static func allocate(_ rows: [Owed], advance: Int64, penalty: Int64) -> [(Int64, Int64, Int64)] {
        var advanceLeft = advance
        var penaltyLeft = penalty
        var result: [(Int64, Int64, Int64)] = []
        for row in rows {
            let a = min(advanceLeft, row.advance)
            let p = min(penaltyLeft, row.penalty)
            advanceLeft -= a
            penaltyLeft -= p
            if a > 0 || p > 0 { result.append((row.id, a, p)) }
        }
        return result
    }

    /// One movement to record, with the journal that moved it.
    struct Movement {
        let kind: String
        let member: MemberID
        let amount: Int64
        var journal: JournalID? = nil
    }

    /// A contribution (or advance) to record.
    struct Paid {
        let member: MemberID
        let source: ContributionSource
        let account: AccountID?
        let amount: Int64
        let lateFee: Int64
        let late: Bool
        let journal: JournalID
    }

    /// Stands for "no account" (a guarantee's advance) in a bound uuid array.
    static let noAccount = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Writes a contribution (or advance), its movements, the arrears it recovered and its event in
    /// one statement. Throws `alreadyContributed` if the member's contribution to the cycle exists.
    func recordContribution(
        circle: TontineID, cycle: Int, member: MemberID, source: ContributionSource, account: AccountID?, amount: Int64, lateFee: Int64, late: Bool,
        journal: JournalID, movements: [Movement], recoveries: [(Int64, Int64, Int64)], events: [any OutboxEvent]
    ) async throws {
        try await recordContributions(
            circle: circle, cycle: cycle,
            [Paid(member: member, source: source, account: account, amount: amount, lateFee: lateFee, late: late, journal: journal)],
            movements: movements.map { var m = $0; m.journal = m.journal ?? journal; return m }, recoveries: recoveries, events: events)
    }

    /// Several contributions to one cycle at once (the scheduler's autopay): the rows, every movement
    /// (each naming its journal), the arrears recovered and the events, in one statement.
    func recordContributions(
        circle: TontineID, cycle: Int, _ paid: [Paid], movements: [Movement], recoveries: [(Int64, Int64, Int64)], events: [any OutboxEvent]
    ) async throws {
        guard !paid.isEmpty else { return }
        let batch = try Outbox.Batch(events)
        do {
            try await db.query(
                """
                WITH paid AS (
                    INSERT INTO tontine_contributions (id, circle_id, cycle, member_id, source, account_id, amount_minor, late_fee_minor, late,
                        journal_id, created_at)
                    SELECT gen_random_uuid(), \(circle), \(cycle), c.member, c.source, nullif(c.account, \(Self.noAccount)), c.amount, c.fee, c.late,
                        c.journal, \(db.now)
                    FROM unnest(\(paid.map(\.member.rawValue))::uuid[], \(paid.map(\.source.rawValue))::text[],
                                \(paid.map { $0.account?.rawValue ?? Self.noAccount })::uuid[], \(paid.map(\.amount))::int8[],
                                \(paid.map(\.lateFee))::int8[], \(paid.map(\.late))::bool[], \(paid.map(\.journal.rawValue))::uuid[])
                        AS c(member, source, account, amount, fee, late, journal)
                    RETURNING 1),
                moved AS (
                    INSERT INTO tontine_movements (circle_id, cycle, member_id, kind, amount_minor, journal_id, created_at)
                    SELECT \(circle), \(cycle), m.member, m.kind, m.amount, m.journal, \(db.now)
                    FROM unnest(\(movements.map(\.kind))::text[], \(movements.map(\.member.rawValue))::uuid[], \(movements.map(\.amount))::int8[],
                                \(movements.map { ($0.journal ?? paid[0].journal).rawValue })::uuid[]) AS m(kind, member, amount, journal)
                    WHERE EXISTS (SELECT 1 FROM paid)),
                recovered AS (
                    UPDATE tontine_arrears r SET advance_recovered_minor = advance_recovered_minor + x.a, penalty_recovered_minor = penalty_recovered_minor + x.p
                    FROM unnest(\(recoveries.map(\.0))::int8[], \(recoveries.map(\.1))::int8[], \(recoveries.map(\.2))::int8[]) AS x(id, a, p)
                    WHERE r.id = x.id AND EXISTS (SELECT 1 FROM paid))
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) WITH ORDINALITY AS e(t, a, p, n)
                WHERE EXISTS (SELECT 1 FROM paid)
                ORDER BY e.n
                """)
        } catch where DatabaseErrors.sqlState(error) == "23505" {
            throw CircleRefusal.alreadyContributed(cycle)
        }
    }

    /// Marks what a settlement recovered of arrears rows: (row, advance, penalty).
    func recover(_ rows: [(Int64, Int64, Int64)]) async throws {
        guard !rows.isEmpty else { return }
        try await db.query(
            """
            UPDATE tontine_arrears r SET advance_recovered_minor = advance_recovered_minor + x.a, penalty_recovered_minor = penalty_recovered_minor + x.p
            FROM unnest(\(rows.map(\.0))::int8[], \(rows.map(\.1))::int8[], \(rows.map(\.2))::int8[]) AS x(id, a, p) WHERE r.id = x.id
            """)
    }

    /// Books what a defaulter owes for an advance.
    func recordArrears(circle: TontineID, cycle: Int?, member: MemberID, advanced: Int64, penalty: Int64, note: String? = nil) async throws {
        try await db.query(
            """
            INSERT INTO tontine_arrears (circle_id, cycle, member_id, advanced_minor, penalty_minor, note, created_at)
            VALUES (\(circle), \(cycle), \(member), \(advanced), \(penalty), \(note), \(db.now))
            """)
    }

    /// open|short → paid: the payout journal, its movements, the arrears it recovered and the event.
    /// Returns how many other cycles of the circle are still unpaid, or nil when this one was no
    /// longer open or short.
    func recordPayout(
        circle: TontineID, cycle: Int, from: CycleStatus, gross: Int64, recovered: Int64, journal: JournalID, movements: [Movement],
        recoveries: [(Int64, Int64, Int64)], event: any OutboxEvent
    ) async throws -> Int? {
        precondition(from.next.contains(.paid))
        let batch = try Outbox.Batch([event])
        return try await db.query(
            """
            WITH paid AS (
                UPDATE tontine_cycles SET status = 'paid', payout_minor = \(gross), recovered_minor = \(recovered), payout_journal_id = \(journal),
                    paid_at = \(db.now), next_action_at = NULL
                WHERE circle_id = \(circle) AND cycle = \(cycle) AND status = \(from.rawValue) RETURNING circle_id),
            moved AS (
                INSERT INTO tontine_movements (circle_id, cycle, member_id, kind, amount_minor, journal_id, created_at)
                SELECT \(circle), \(cycle), m.member, m.kind, m.amount, \(journal), \(db.now) FROM paid,
                    unnest(\(movements.map(\.kind))::text[], \(movements.map(\.member.rawValue))::uuid[], \(movements.map(\.amount))::int8[])
                        AS m(kind, member, amount)),
            recovered AS (
                UPDATE tontine_arrears r SET advance_recovered_minor = advance_recovered_minor + x.a, penalty_recovered_minor = penalty_recovered_minor + x.p
                FROM paid, unnest(\(recoveries.map(\.0))::int8[], \(recoveries.map(\.1))::int8[], \(recoveries.map(\.2))::int8[]) AS x(id, a, p)
                WHERE r.id = x.id)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM paid, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            RETURNING (SELECT count(*)::int FROM tontine_cycles c WHERE c.circle_id = \(circle) AND c.cycle <> \(cycle) AND c.status <> 'paid')
            """
        ).first(Int.self)
    }

    /// open → short, with its event.
    func markShort(circle: TontineID, cycle: Int, missing: [MemberID]) async throws {
        let batch = try Outbox.Batch([TontineCycleShort(tontineId: circle, cycle: cycle, missing: missing)])
        try await db.query(
            """
            WITH moved AS (UPDATE tontine_cycles SET status = 'short' WHERE circle_id = \(circle) AND cycle = \(cycle) AND status = 'open' RETURNING 1)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM moved, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            """)
    }

    /// Marks a member delinquent (once) and opens a case for staff, with its event.
    func markDelinquent(circle: TontineID, cycle: Int, member: MemberID, circleName: String) async throws {
        let marked = try await db.query(
            """
            UPDATE tontine_members SET delinquent_at = \(db.now)
            WHERE circle_id = \(circle) AND member_id = \(member) AND delinquent_at IS NULL RETURNING 1
            """
        ).first(Int.self)
        guard marked != nil else { return }
        let caseID = try await CaseStore(db).open(
            kind: "tontine", memberID: member.rawValue, screeningID: nil,
            summary: "Tontine \(circleName): member missed cycle \(cycle) after receiving their payout", by: nil)
        try await Outbox.append([TontineMemberDelinquent(tontineId: circle, memberId: member, cycle: cycle, caseId: CaseID(caseID))], in: db)
    }
}

/// A tontine event is about its circle: a relay keeps each circle's events in order.
public protocol CircleEvent: OutboxEvent {
    var tontineId: TontineID { get }
}

extension CircleEvent {
    public var aggregateID: UUID { tontineId.rawValue }
}

extension TontineStateChanged: CircleEvent { public var type: String { state.event } }
extension TontineMemberJoined: CircleEvent {
    public var type: String { TontineEvents.memberJoined }
    public var audience: [UUID] { [memberId.rawValue] }
}
extension TontineContributionReceived: CircleEvent {
    public var type: String { TontineEvents.contributionReceived }
    public var audience: [UUID] { [memberId.rawValue] }
}
extension TontineCyclePaid: CircleEvent {
    public var type: String { TontineEvents.cyclePaid }
    public var audience: [UUID] { [recipientId.rawValue] }
}
extension TontineContributionDue: CircleEvent {
    public var type: String { TontineEvents.contributionDue }
    public var audience: [UUID] { memberIds.map(\.rawValue) }
}
extension TontineCycleShort: CircleEvent {
    public var type: String { TontineEvents.cycleShort }
    public var audience: [UUID] { missing.map(\.rawValue) }
}
extension TontineAdvanceMade: CircleEvent {
    public var type: String { TontineEvents.advanceMade }
    public var audience: [UUID] { [memberId.rawValue] }
}
extension TontineMemberDelinquent: CircleEvent {
    public var type: String { TontineEvents.memberDelinquent }
    public var audience: [UUID] { [memberId.rawValue] }
}
