import Foundation
import NzilaValues

/// A credit union's trading competition, as pure rules: when it may be joined and traded in, what
/// its last valued day is, the cap on one instrument's weight, and how the results rank.
///
/// - **Phases**: `upcoming` before `starts_at`, `running` until `ends_at`, then `ended`; `final`
///   once the results are written (frozen).
/// - **Joining**: before the start, or while it runs when late entry is allowed; never after the
///   end; once per member; with the required academy course completed when one is set.
/// - **Trading**: only while it runs. Every order of a competition account expires at the end (a day
///   order at its exchange's close if that comes first), so nothing works past it.
/// - **Concentration**: a buy is refused when the instrument's value after it — the position's
///   value at the latest last trade, plus what the account's other working buys of it and the order
///   reserve (price buffer and commission included, so the check is conservative) — would exceed `max_position_pct` of the account's
///   equity (cash plus every position at the latest last trade, in CAD). Sells are never refused.
/// - **Results**: each account is valued at its snapshot of the **final day** — the latest trading
///   day (Monday to Friday) that began before the end — at that day's closes
///   (`PortfolioSnapshot`); an account with no snapshot by then counts its starting cash. Ranked by
///   value, highest first; equal values share the better rank (1, 1, 3). Written once that day's
///   snapshots are taken and the end has passed, never changed after.
public enum Competition {
    public enum Phase: String, Sendable, Codable, Equatable, CaseIterable {
        case upcoming, running, ended
        case final
    }

    public static func phase(startsAt: Date, endsAt: Date, frozen: Bool, now: Date) -> Phase {
        if frozen { return .final }
        if now < startsAt { return .upcoming }
        return now < endsAt ? .running : .ended
    }

    /// The last trading day that counts: the latest weekday whose day began (00:00 UTC) before the end.
    public static func finalDay(endsAt: Date) -> Day? {
        guard var day = Day(utc: endsAt.addingTimeInterval(-0.000_001)) else { return nil }
        while !PortfolioSnapshot.isTradingDay(day) {
            guard let previous = day.adding(days: -1) else { return nil }
            day = previous
        }
        return day
    }

    public enum JoinRefusal: Error, Equatable, Sendable {
        case ended, lateEntryClosed, alreadyJoined, courseRequired(String)
    }

    /// Why a member may not join now (nil: they may).
    public static func joinRefusal(
        phase: Phase, lateEntry: Bool, alreadyJoined: Bool, requiredCourse: String?, courseCompleted: Bool
    ) -> JoinRefusal? {
        switch phase {
        case .ended, .final: return .ended
        case .running where !lateEntry: return .lateEntryClosed
        default: break
        }
        if alreadyJoined { return .alreadyJoined }
        if let requiredCourse, !courseCompleted { return .courseRequired(requiredCourse) }
        return nil
    }

    /// When a competition account's order stops working: the competition's end, or the day order's
    /// own expiry when that comes first.
    public static func orderExpiry(dayExpiry: Date?, endsAt: Date) -> Date {
        guard let dayExpiry else { return endsAt }
        return min(dayExpiry, endsAt)
    }

    /// Whether a buy keeps the instrument within the cap: `(positionCAD + orderCAD) × 10000 ≤
    /// maxBps × equityCAD`, in integers. With no equity at all, nothing may be bought.
    public static func withinCap(positionCADMinor: Int64, orderCADMinor: Int64, equityCADMinor: Int64, maxBps: Int) -> Bool {
        guard maxBps < 10_000 else { return true }
        guard equityCADMinor > 0 else { return false }
        return (Int128(positionCADMinor) + Int128(orderCADMinor)) * 10_000 <= Int128(maxBps) * Int128(equityCADMinor)
    }

    /// One participant as valued.
    public struct Standing: Sendable, Equatable {
        public let account: UUID
        public let valueMinor: Int64
        public let joinedAt: Date

        public init(account: UUID, valueMinor: Int64, joinedAt: Date) {
            self.account = account
            self.valueMinor = valueMinor
            self.joinedAt = joinedAt
        }
    }

    /// Ranks by value, highest first; equal values share the better rank, listed by who joined first
    /// (then account id, so the order is total).
    public static func ranked(_ standings: [Standing]) -> [(rank: Int, standing: Standing)] {
        let sorted = standings.sorted {
            ($0.valueMinor, $1.joinedAt, $1.account.uuidString) > ($1.valueMinor, $0.joinedAt, $0.account.uuidString)
        }
        var out: [(Int, Standing)] = []
        for (i, s) in sorted.enumerated() {
            let rank = i > 0 && sorted[i - 1].valueMinor == s.valueMinor ? out[i - 1].0 : i + 1
            out.append((rank, s))
        }
        return out
    }

    /// The return on the starting cash, as a fraction (0.05 is 5%); display only, the rank rests on
    /// the integer values.
    public static func periodReturn(valueMinor: Int64, startingCashMinor: Int64) -> Double {
        guard startingCashMinor > 0 else { return 0 }
        return Double(valueMinor - startingCashMinor) / Double(startingCashMinor)
    }
}
