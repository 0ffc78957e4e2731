import Foundation
import NzilaCore
import NzilaDatabase

/// A circle as the API shows it: its terms, state and pool, its members with their positions and
/// standing, and each cycle with its due date, recipient, contributions in and missing. The seed is
/// shown from the start (before it, only its commitment).
public struct TontineRecord: Codable, Sendable {
    public struct Standing: Codable, Sendable, Equatable {
        /// Contributions, late fees and arrears paid.
        public let paid: Money
        /// Contributions of the cycles due so far, late fees and penalties charged.
        public let owed: Money
        /// paid − owed: negative when behind.
        public let balance: Money
        /// Advances and penalties still owed from defaults.
        public let arrears: Money
        public let received: Bool
        public let delinquent: Bool
    }

    public struct MemberView: Codable, Sendable {
        public let memberId: MemberID
        public let position: Int?
        public let joinedAt: Date
        /// Shown to the member themself and to staff only.
        public let payoutAccountId: AccountID?
        public let autopayAccountId: AccountID?
        public let standing: Standing
    }

    public struct CycleView: Codable, Sendable {
        public let cycle: Int
        public let dueDate: Day
        public let recipientId: MemberID
        public let status: CycleStatus
        public let contributed: [MemberID]
        public let missing: [MemberID]
        /// What the pool pays for this turn: every contribution, with the position pricing adjustment.
        public let payout: Money
        /// The position pricing adjustment (negative: the early turn's fee; positive: a later turn's share).
        public let adjustment: Money
        /// The adjustment as a simple annual rate on the turn's balance with the circle, in basis points
        /// (negative: a cost); 0 without pricing (`PositionPricing.annualisedReturnBps`).
        public let annualisedRateBps: Int?
        /// What the recipient's payout account received (after any arrears it recovered).
        public let paid: Money?
        public let paidAt: Date?
    }

    public struct SwapView: Codable, Sendable {
        public let id: TontineSwapID
        public let requesterId: MemberID
        public let counterpartyId: MemberID
        public let requesterCycle: Int
        public let counterpartyCycle: Int
        public let status: SwapStatus
        public let requestedAt: Date
        public let decidedAt: Date?
    }

    public struct DisputeView: Codable, Sendable {
        public let id: TontineDisputeID
        public let cycle: Int
        public let memberId: MemberID
        public let reason: String
        public let status: DisputeStatus
        public let action: DisputeAction?
        public let resolution: String?
        public let resolvedByRole: String?
        public let journalId: JournalID?
        public let openedAt: Date
        public let resolvedAt: Date?
    }

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
    public let organizerId: MemberID?
    public let poolAccountId: AccountID
    public let poolBalance: Money
    public let seedCommitment: String
    public let seed: String?
    public let members: [MemberView]
    public let cycles: [CycleView]
    public let swaps: [SwapView]
    /// A member sees their own disputes; staff all.
    public let disputes: [DisputeView]
    public let createdAt: Date
    public let startedAt: Date?
    public let endedAt: Date?
}

/// A line of `GET /v1/tontines`.
public struct TontineSummary: Codable, Sendable {
    public let id: TontineID
    public let name: String
    public let contribution: Money
    public let frequency: Frequency
    public let state: CircleState
    public let members: Int
    public let maxMembers: Int
    public let createdAt: Date
}

/// `GET /v1/members/{id}/tontine-record`: a member's record across every circle, for the member,
/// staff, and lending's score. A cycle counts once the member's money is in or its grace is over.
public struct TontineCreditRecord: Codable, Sendable {
    public let memberId: MemberID
    public let cyclesDue: Int
    public let paidOnTime: Int
    public let paidLate: Int
    public let missed: Int
    /// paid on time ÷ cycles due, in basis points (10,000 = always on time); null before any is due.
    public let onTimeBps: Int?
    public let circles: Int
    public let completedCircles: Int
    public let delinquentCircles: Int
}

/// The tontine record as other parts of the platform read it (the data plane wires it into
/// lending's scorecard; a domain never imports another).
public enum TontineCredit {
    /// The share of a member's due contributions paid on time, in basis points rounded down (so a
    /// record is never shown better than it is); nil without any contribution due yet.
    public static func onTimeBps(_ db: TenantDB, member: MemberID, today: Day) async throws -> Int? {
        let record = try await TontinePeopleStore(db: db).record(member, today: today)
        return ratioBps(onTime: record.onTime, due: record.due)
    }

    /// Rounding: basis points rounded down, so a record is never shown better than it is.
    static func ratioBps(onTime: Int, due: Int) -> Int? {
        due == 0 ? nil : onTime * 10_000 / due
    }
}

/// `GET /v1/tontine-cycles`: a cycle falling due in a window, across circles (the staff's view of
/// what is due this week), with how many contributions are in.
public struct DueCycle: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let name: String
    public let cycle: Int
    public let dueDate: Day
    public let status: CycleStatus
    public let recipientId: MemberID
    public let contribution: Money
    public let members: Int
    /// Members whose contribution (or advance) is in.
    public let contributed: Int
}
