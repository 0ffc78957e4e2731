import Foundation
import NzilaCore
import NzilaDatabase
import NzilaValues

/// A member's public trading profile.
public struct TradingProfile: Codable, Sendable {
    public let memberId: MemberID
    public let displayName: String
    /// On the tenant's leaderboards.
    public let `public`: Bool
    /// Others may copy their trades.
    public let copyable: Bool
    public let updatedAt: Date
}

/// One row of a leaderboard.
public struct LeaderboardEntry: Codable, Sendable {
    public let rank: Int
    public let memberId: MemberID
    public let displayName: String
    public let copyable: Bool
    public let periodReturn: Double
    public let annualVolatility: Double?
    public let sharpe: Double?
    public let maxDrawdown: Double
    /// 1 (calm, spread) to 10 (volatile, concentrated): `Leaderboard.riskScore`.
    public let riskScore: Int
    /// Daily returns the figures rest on, and the last day valued.
    public let days: Int
    public let asOf: Day
}

/// Profiles and the leaderboard's figures (`trading_profiles`, `trading_leaderboard`).
public struct LeaderboardStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// Recomputes every period's figures of the accounts valued on `asOf`, from their snapshots: one
    /// statement reads them, one writes them.
    public func refresh(asOf day: Day) async throws {
        let accounts = try await db.query(
            """
            SELECT a.id, a.member_id, a.starting_cash_minor, array_agg(s.day::text ORDER BY s.day), array_agg(s.value_minor ORDER BY s.day),
                   (array_agg(s.largest_holding_minor ORDER BY s.day DESC))[1], a.created_at
            FROM trading_accounts a JOIN trading_snapshots s ON s.account_id = a.id AND s.day <= \(day.description)::date
            WHERE a.kind = 'main' AND EXISTS (SELECT 1 FROM trading_snapshots t WHERE t.account_id = a.id AND t.day = \(day.description)::date)
            GROUP BY a.id
            """
        ).all((UUID, UUID, Int64, [String], [Int64], Int64, Date).self)
        // An undefined figure travels as NaN (arrays carry no nulls here) and is stored as null.
        var periods: [String] = [], ids: [UUID] = [], members: [UUID] = [], counts: [Int] = [], returns: [Double] = []
        var volatilities: [Double?] = [], sharpes: [Double?] = [], drawdowns: [Double] = [], risks: [Int] = []
        for a in accounts {
            let days = a.3.compactMap(Day.init)
            guard days.count == a.4.count else { continue }
            for entry in Leaderboard.entries(days: days, values: a.4, startingCash: a.2, openedAt: a.6, largestHolding: a.5) {
                periods.append(entry.period.rawValue)
                ids.append(a.0)
                members.append(a.1)
                counts.append(entry.days)
                returns.append(entry.periodReturn)
                volatilities.append(entry.annualVolatility)
                sharpes.append(entry.sharpe)
                drawdowns.append(entry.maxDrawdown)
                risks.append(entry.riskScore)
            }
        }
        guard !ids.isEmpty else { return }
        try await db.query(
            """
            INSERT INTO trading_leaderboard (period, account_id, member_id, as_of, days, period_return, annual_volatility, sharpe, max_drawdown, risk_score)
            SELECT t.p, t.a, t.m, \(day.description)::date, t.n, t.r, nullif(t.v, 'NaN'::float8), nullif(t.s, 'NaN'::float8), t.d, t.k
            FROM unnest(\(periods)::text[], \(ids)::uuid[], \(members)::uuid[], \(counts)::int4[], \(returns)::float8[], \(volatilities.map { $0 ?? .nan })::float8[],
                        \(sharpes.map { $0 ?? .nan })::float8[], \(drawdowns)::float8[], \(risks)::int4[]) AS t(p, a, m, n, r, v, s, d, k)
            ON CONFLICT (period, account_id) DO UPDATE SET member_id = EXCLUDED.member_id, as_of = EXCLUDED.as_of, days = EXCLUDED.days,
                period_return = EXCLUDED.period_return, annual_volatility = EXCLUDED.annual_volatility, sharpe = EXCLUDED.sharpe,
                max_drawdown = EXCLUDED.max_drawdown, risk_score = EXCLUDED.risk_score
            WHERE trading_leaderboard.as_of <= EXCLUDED.as_of
            """
        )
    }

    /// A period's leaderboard: members with a public profile, best period return first (ties share
    /// a rank), paged by rank.
    public func leaderboard(_ period: Leaderboard.Period, page: PageRequest) async throws -> Page<LeaderboardEntry> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT r.rank, r.member_id, r.display_name, r.copyable, r.period_return, r.annual_volatility, r.sharpe, r.max_drawdown, r.risk_score, r.days, r.as_of::text
            FROM (
                SELECT rank() OVER (ORDER BY l.period_return DESC)::int8 AS rank, l.member_id, p.display_name, p.copyable, l.period_return, l.annual_volatility,
                       l.sharpe, l.max_drawdown, l.risk_score, l.days, l.as_of
                FROM trading_leaderboard l JOIN trading_profiles p ON p.member_id = l.member_id AND p.public
                JOIN members m ON m.id = l.member_id AND m.status = 'active'
                WHERE l.period = \(period.rawValue)
            ) r
            WHERE (\(after == nil) OR (r.rank, r.member_id) > (\(after?.position ?? 0), \(after?.id ?? UUID())))
            ORDER BY r.rank, r.member_id LIMIT \(page.limit + 1)
            """
        ).all((Int64, UUID, String, Bool, Double, Double?, Double?, Double, Int, Int, String).self)
        return try page.page(of: rows, item: { r in
            guard let day = Day(r.10) else { throw Problem.internalError }
            return LeaderboardEntry(
                rank: Int(r.0), memberId: MemberID(r.1), displayName: r.2, copyable: r.3, periodReturn: r.4, annualVolatility: r.5, sharpe: r.6,
                maxDrawdown: r.7, riskScore: r.8, days: r.9, asOf: day)
        }, cursor: { PageCursor(position: $0.0, id: $0.1) })
    }

    public func profile(member: MemberID) async throws -> TradingProfile? {
        try await db.query("SELECT member_id, display_name, public, copyable, updated_at FROM trading_profiles WHERE member_id = \(member)")
            .first((UUID, String, Bool, Bool, Date).self).map { TradingProfile(memberId: MemberID($0.0), displayName: $0.1, public: $0.2, copyable: $0.3, updatedAt: $0.4) }
    }

    public enum ProfileRefusal: Error, Equatable { case nameTaken }

    /// Sets the member's profile; refused when another member has the display name.
    public func setProfile(member: MemberID, displayName: String, public isPublic: Bool, copyable: Bool) async throws -> Result<TradingProfile, ProfileRefusal> {
        do {
            guard let row = try await db.query(
                """
                INSERT INTO trading_profiles (member_id, display_name, public, copyable, created_at, updated_at)
                VALUES (\(member), \(displayName), \(isPublic), \(copyable), \(db.now), \(db.now))
                ON CONFLICT (member_id) DO UPDATE SET display_name = EXCLUDED.display_name, public = EXCLUDED.public, copyable = EXCLUDED.copyable,
                    updated_at = EXCLUDED.updated_at
                RETURNING member_id, display_name, public, copyable, updated_at
                """
            ).first((UUID, String, Bool, Bool, Date).self) else { throw Problem.internalError }
            return .success(TradingProfile(memberId: MemberID(row.0), displayName: row.1, public: row.2, copyable: row.3, updatedAt: row.4))
        } catch where DatabaseErrors.sqlState(error) == "23505" {
            return .failure(.nameTaken)
        }
    }
}
