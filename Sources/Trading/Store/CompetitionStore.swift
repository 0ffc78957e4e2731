import Foundation
import NzilaCore
import NzilaDatabase
import NzilaValues

/// A competition as answered.
public struct CompetitionView: Codable, Sendable {
    public let id: TradingCompetitionID
    public let name: String
    public let startsAt: Date
    public let endsAt: Date
    /// The trading day whose snapshot gives the final values.
    public let finalDay: Day
    public let startingCash: Money
    public let maxPositionPct: Int
    public let lateEntry: Bool
    public let requiredCourse: String?
    public let phase: Competition.Phase
    public let participants: Int
    public let frozenAt: Date?
    /// The caller's own account in it, when they have joined.
    public let accountId: TradingAccountID?
}

/// One line of a competition's board.
public struct CompetitionStanding: Codable, Sendable {
    public let rank: Int
    public let memberId: MemberID
    public let displayName: String
    public let value: Money
    /// On the starting cash, as a fraction (display only; the rank rests on the value).
    public let periodReturn: Double
    /// The snapshot day the value is from (null: none yet, the starting cash).
    public let asOf: Day?
    /// Final (frozen) or provisional.
    public let final: Bool
}

/// Competitions, their accounts' standings and their frozen results (`trading_competitions`,
/// `trading_competition_results`).
public struct CompetitionStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    public struct Row: Sendable {
        public let id: TradingCompetitionID
        public let name: String
        public let startsAt: Date
        public let endsAt: Date
        public let finalDay: Day
        public let startingCash: Int64
        public let maxPositionBps: Int
        public let lateEntry: Bool
        public let requiredCourse: String?
        public let frozenAt: Date?
        public let participants: Int
        public let accountId: TradingAccountID?

        public func phase(now: Date) -> Competition.Phase {
            Competition.phase(startsAt: startsAt, endsAt: endsAt, frozen: frozenAt != nil, now: now)
        }

        func view(now: Date) -> CompetitionView {
            CompetitionView(
                id: id, name: name, startsAt: startsAt, endsAt: endsAt, finalDay: finalDay, startingCash: Money(minorUnits: startingCash, currency: .cad),
                maxPositionPct: maxPositionBps / 100, lateEntry: lateEntry, requiredCourse: requiredCourse, phase: phase(now: now), participants: participants,
                frozenAt: frozenAt, accountId: accountId)
        }
    }

    typealias SQLRow = (UUID, String, Date, Date, String, Int64, Int, Bool, String?, Date?, Int, Date, UUID?)

    static let columns = """
        c.id, c.name, c.starts_at, c.ends_at, c.final_day::text, c.starting_cash_minor, c.max_position_bps, c.late_entry, c.required_course, c.frozen_at,
        (SELECT count(*)::int4 FROM trading_accounts a WHERE a.competition_id = c.id), c.created_at
        """

    static func row(_ r: SQLRow) throws -> Row {
        guard let day = Day(r.4) else { throw Problem.internalError }
        return Row(
            id: TradingCompetitionID(r.0), name: r.1, startsAt: r.2, endsAt: r.3, finalDay: day, startingCash: r.5, maxPositionBps: r.6, lateEntry: r.7,
            requiredCourse: r.8, frozenAt: r.9, participants: r.10, accountId: r.12.map { TradingAccountID($0) })
    }

    public struct New: Sendable {
        public var name: String
        public var startsAt: Date
        public var endsAt: Date
        public var finalDay: Day
        public var startingCash: Int64
        public var maxPositionBps: Int
        public var lateEntry: Bool
        public var requiredCourse: String?
    }

    public func create(_ new: New, by staff: UUID) async throws -> Row {
        let id = UUID()
        try await db.query(
            """
            INSERT INTO trading_competitions (id, name, starts_at, ends_at, final_day, starting_cash_minor, max_position_bps, late_entry, required_course, created_by, created_at)
            VALUES (\(id), \(new.name), \(new.startsAt), \(new.endsAt), \(new.finalDay.description)::date, \(new.startingCash), \(new.maxPositionBps), \(new.lateEntry),
                    \(new.requiredCourse), \(staff), \(db.now))
            """
        )
        guard let row = try await competition(TradingCompetitionID(id)) else { throw Problem.internalError }
        return row
    }

    /// One competition (`member`: whose account in it to name); `lock`: under its row lock.
    public func competition(_ id: TradingCompetitionID, member: MemberID? = nil, lock: Bool = false) async throws -> Row? {
        try await db.query(
            """
            SELECT \(unescaped: Self.columns), (SELECT a.id FROM trading_accounts a WHERE a.competition_id = c.id AND a.member_id = \(member)::uuid)
            FROM trading_competitions c WHERE c.id = \(id) \(unescaped: lock ? "FOR UPDATE OF c" : "")
            """
        ).first(SQLRow.self).map(Self.row)
    }

    /// Competitions, latest start first.
    public func list(member: MemberID?, page: PageRequest) async throws -> Page<CompetitionView> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns), (SELECT a.id FROM trading_accounts a WHERE a.competition_id = c.id AND a.member_id = \(member)::uuid)
            FROM trading_competitions c
            WHERE (\(after == nil) OR (-(extract(epoch FROM c.starts_at) * 1000000)::int8, c.id) > (\(after?.position ?? 0), \(after?.id ?? UUID())))
            ORDER BY c.starts_at DESC, c.id LIMIT \(page.limit + 1)
            """
        ).all(SQLRow.self)
        let now = db.now
        return try page.page(of: rows, item: { try Self.row($0).view(now: now) }, cursor: { r in
            PageCursor(position: -Int64((r.2.timeIntervalSince1970 * 1_000_000).rounded()), id: r.0)
        })
    }

    /// The board: frozen results once written; before that, each account at its newest snapshot up
    /// to the final day (its starting cash without one), ranked as `Competition.ranked` ranks them.
    public func standings(_ competition: Row, page: PageRequest) async throws -> Page<CompetitionStanding> {
        let after = page.after
        let start = competition.startingCash
        if competition.frozenAt != nil {
            let rows = try await db.query(
                """
                SELECT rank, member_id, display_name, value_minor, as_of::text FROM trading_competition_results
                WHERE competition_id = \(competition.id) AND (\(after == nil) OR (rank::int8, member_id) > (\(after?.position ?? 0), \(after?.id ?? UUID())))
                ORDER BY rank, member_id LIMIT \(page.limit + 1)
                """
            ).all((Int, UUID, String, Int64, String?).self)
            return page.page(of: rows, item: { r in
                CompetitionStanding(
                    rank: r.0, memberId: MemberID(r.1), displayName: r.2, value: Money(minorUnits: r.3, currency: .cad),
                    periodReturn: Competition.periodReturn(valueMinor: r.3, startingCashMinor: start), asOf: r.4.flatMap(Day.init), final: true)
            }, cursor: { PageCursor(position: Int64($0.0), id: $0.1) })
        }
        let valued = try await provisional(competition.id, finalDay: competition.finalDay, startingCash: start)
        let ranked = Competition.ranked(valued.map { Competition.Standing(account: $0.account, valueMinor: $0.value, joinedAt: $0.joinedAt) })
        let byAccount = Dictionary(uniqueKeysWithValues: valued.map { ($0.account, $0) })
        let lines = ranked.compactMap { line -> (Int, Valued)? in byAccount[line.standing.account].map { (line.rank, $0) } }
            .sorted { ($0.0, $0.1.member.uuidString) < ($1.0, $1.1.member.uuidString) }
            .filter { after == nil || (Int64($0.0), $0.1.member.uuidString) > (after!.position, after!.id.uuidString) }
        return page.page(of: Array(lines.prefix(page.limit + 1)), item: { line in
            CompetitionStanding(
                rank: line.0, memberId: MemberID(line.1.member), displayName: line.1.displayName, value: Money(minorUnits: line.1.value, currency: .cad),
                periodReturn: Competition.periodReturn(valueMinor: line.1.value, startingCashMinor: start), asOf: line.1.asOf, final: false)
        }, cursor: { PageCursor(position: Int64($0.0), id: $0.1.member) })
    }

    struct Valued {
        let account: UUID
        let member: UUID
        let displayName: String
        let value: Int64
        let asOf: Day?
        let joinedAt: Date
    }

    /// Every participant at their newest snapshot through the final day: one statement.
    func provisional(_ id: TradingCompetitionID, finalDay: Day, startingCash: Int64) async throws -> [Valued] {
        try await db.query(
            """
            SELECT a.id, a.member_id, coalesce(p.display_name, ''), coalesce(s.value_minor, \(startingCash)), s.day::text, a.created_at
            FROM trading_accounts a
            LEFT JOIN trading_profiles p ON p.member_id = a.member_id
            LEFT JOIN LATERAL (
                SELECT t.value_minor, t.day FROM trading_snapshots t WHERE t.account_id = a.id AND t.day <= \(finalDay.description)::date ORDER BY t.day DESC LIMIT 1
            ) s ON true
            WHERE a.competition_id = \(id)
            """
        ).all((UUID, UUID, String, Int64, String?, Date).self).map {
            Valued(account: $0.0, member: $0.1, displayName: $0.2, value: $0.3, asOf: $0.4.flatMap(Day.init), joinedAt: $0.5)
        }
    }

    /// Freezes every competition that has ended and whose final day's snapshots are taken (`day`:
    /// the day the snapshot service has just taken): its results written, ranked, its accounts
    /// closed. The number frozen.
    @discardableResult
    public func freeze(through day: Day) async throws -> Int {
        let due = try await db.query(
            """
            SELECT id, final_day::text, starting_cash_minor FROM trading_competitions
            WHERE frozen_at IS NULL AND final_day <= \(day.description)::date AND ends_at <= \(db.now)
            ORDER BY id FOR UPDATE SKIP LOCKED
            """
        ).all((UUID, String, Int64).self)
        var frozen = 0
        for (id, final, start) in due {
            guard let finalDay = Day(final) else { continue }
            let valued = try await provisional(TradingCompetitionID(id), finalDay: finalDay, startingCash: start)
            let ranked = Competition.ranked(valued.map { Competition.Standing(account: $0.account, valueMinor: $0.value, joinedAt: $0.joinedAt) })
            let byAccount = Dictionary(uniqueKeysWithValues: valued.map { ($0.account, $0) })
            var accounts: [UUID] = [], members: [UUID] = [], names: [String] = [], ranks: [Int] = [], values: [Int64] = [], days: [String] = []
            for line in ranked {
                guard let v = byAccount[line.standing.account] else { continue }
                accounts.append(v.account)
                members.append(v.member)
                names.append(v.displayName)
                ranks.append(line.rank)
                values.append(v.value)
                days.append(v.asOf?.description ?? "")
            }
            try await db.query(
                """
                WITH results AS (
                    INSERT INTO trading_competition_results (competition_id, account_id, member_id, display_name, rank, value_minor, as_of)
                    SELECT \(id), t.a, t.m, t.n, t.r, t.v, nullif(t.d, '')::date
                    FROM unnest(\(accounts)::uuid[], \(members)::uuid[], \(names)::text[], \(ranks)::int4[], \(values)::int8[], \(days)::text[]) AS t(a, m, n, r, v, d)
                ), closed AS (
                    UPDATE trading_accounts SET closed_at = \(db.now) WHERE competition_id = \(id)
                )
                UPDATE trading_competitions SET frozen_at = \(db.now) WHERE id = \(id)
                """
            )
            frozen += 1
        }
        return frozen
    }
}
