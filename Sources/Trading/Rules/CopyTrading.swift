import Foundation
import NzilaValues

/// Copy trading within a credit union, as pure rules (eToro's CopyTrader without its minimums).
///
/// - **A copy** is its own paper account (`kind: "copy"`), funded with the amount the follower
///   allocates from their main account's buying power.
/// - **Scaling**: a leader's buy is mirrored at `leader qty × copy equity / leader equity`, both
///   equities in CAD (cash plus every position at the latest last trade) at the moment the leader
///   places it, **rounded down to the board lot** at the order's price; what the rounding leaves is
///   kept as cash, and nothing below one lot is sent. Opening positions (`copy_open_positions`)
///   scale each of the leader's holdings the same way, so the copy holds them in the leader's
///   proportions of equity.
/// - **Closing**: a leader's sell closes the copy's **share** of the position: `copy held × leader
///   sell qty / leader held`, rounded down to the lot, and everything when the leader sells all.
/// - **Stop loss**: when the copy's equity falls to `allocated × (100 − stop_loss_pct) / 100` or
///   below, everything is closed and the copy stops.
/// - **States**: `active` (mirroring), `leader_left` (the leader stopped being copyable: no more
///   mirroring, the follower is told, positions stay theirs to manage or close), `stopped` (by the
///   member, by the stop loss). A stopped copy settles once it holds nothing it can sell and has
///   nothing working: the allocation held back on the main account is released (no cash moves; the
///   copy's profit or loss stays its own account's record) and the copy account closed.
public enum CopyTrading {
    public enum State: String, Sendable, Codable, CaseIterable {
        case active
        case leaderLeft = "leader_left"
        case stopped
    }

    public enum StopReason: String, Sendable, Codable, CaseIterable {
        case member
        case stopLoss = "stop_loss"
    }

    /// The transitions a copy may make: active → leader_left | stopped, leader_left → stopped.
    public static func allowed(from: State, to: State) -> Bool {
        switch (from, to) {
        case (.active, .leaderLeft), (.active, .stopped), (.leaderLeft, .stopped): true
        default: false
        }
    }

    /// A leader's quantity scaled to the copy, rounded down to whole lots; nil below one lot (or
    /// without equity on either side).
    public static func scaled(_ leaderQty: Int64, copyEquity: Int64, leaderEquity: Int64, lot: Int64) -> Int64? {
        guard leaderQty > 0, copyEquity > 0, leaderEquity > 0, lot > 0 else { return nil }
        let raw = Int128(leaderQty) * Int128(copyEquity) / Int128(leaderEquity)
        let lots = raw / Int128(lot)
        guard lots > 0, lots * Int128(lot) <= Int128(Int64.max) else { return nil }
        return Int64(lots * Int128(lot))
    }

    /// The copy's share of a leader's sell: everything when the leader sells all it holds, else
    /// `copyHeld × sold / leaderHeld` rounded down to whole lots; nil when that is nothing.
    public static func closing(copyHeld: Int64, leaderSold: Int64, leaderHeld: Int64, lot: Int64) -> Int64? {
        guard copyHeld > 0, leaderSold > 0, leaderHeld > 0, lot > 0 else { return nil }
        if leaderSold >= leaderHeld { return copyHeld }
        let raw = Int128(copyHeld) * Int128(leaderSold) / Int128(leaderHeld)
        let qty = Int64(raw / Int128(lot) * Int128(lot))
        return qty > 0 ? min(qty, copyHeld) : nil
    }

    /// Whether the copy's equity has fallen to its stop: `equity × 100 ≤ allocated × (100 − pct)`.
    public static func stopLossHit(equity: Int64, allocated: Int64, stopLossPct: Int) -> Bool {
        Int128(equity) * 100 <= Int128(allocated) * Int128(100 - stopLossPct)
    }
}

public enum TradingCopyTag {}
/// A copy's id.
public typealias TradingCopyID = Identifier<TradingCopyTag>

/// `trading.copy_leader_left.v1` and `trading.copy_stopped.v1`: a follower's copy stopped mirroring
/// because its leader stopped being copyable (positions stay the follower's), or stopped (by the
/// member or its stop loss). Told to the follower, on the stream and as a notification.
public struct TradingCopyEvent: Codable, Sendable, Equatable {
    public let copyId: TradingCopyID
    public let followerId: MemberID
    public let leaderId: MemberID
    public let leaderDisplayName: String
    public let accountId: TradingAccountID
    public let state: CopyTrading.State
    public let stopReason: CopyTrading.StopReason?
    public let at: Date

    public init(
        copyId: TradingCopyID, followerId: MemberID, leaderId: MemberID, leaderDisplayName: String, accountId: TradingAccountID, state: CopyTrading.State,
        stopReason: CopyTrading.StopReason?, at: Date
    ) {
        self.copyId = copyId
        self.followerId = followerId
        self.leaderId = leaderId
        self.leaderDisplayName = leaderDisplayName
        self.accountId = accountId
        self.state = state
        self.stopReason = stopReason
        self.at = at
    }

    public static let leaderLeft = "trading.copy_leader_left.v1"
    public static let stopped = "trading.copy_stopped.v1"
    public static let types = [leaderLeft, stopped]

    public var type: String { state == .stopped ? Self.stopped : Self.leaderLeft }
}
