import Foundation
import NzilaValues

public enum TontineTag {}
/// A tontine circle's id.
public typealias TontineID = Identifier<TontineTag>

/// `tontine.<state>.v1`: a circle reached `state` (from `from`, nil for a new circle), with the
/// reason and the role of who moved it.
public struct TontineStateChanged: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let from: CircleState?
    public let state: CircleState
    public let reason: String
    public let actorRole: String

    public init(tontine: TontineID, from: CircleState?, state: CircleState, reason: String, actorRole: String) {
        self.tontineId = tontine
        self.from = from
        self.state = state
        self.reason = String(reason.prefix(2000))
        self.actorRole = actorRole
    }

    enum CodingKeys: String, CodingKey { case tontineId, from, state, reason, actorRole }

    /// `from` is always present (null for a new circle).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tontineId, forKey: .tontineId)
        try container.encode(from, forKey: .from)
        try container.encode(state, forKey: .state)
        try container.encode(reason, forKey: .reason)
        try container.encode(actorRole, forKey: .actorRole)
    }
}

/// `tontine.member_joined.v1`: a member took a place in a forming circle.
public struct TontineMemberJoined: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let memberId: MemberID
    public let joinSeq: Int
}

/// How money came into a cycle.
public enum ContributionSource: String, Sendable, Codable, CaseIterable {
    /// The member paid it (a request).
    case member
    /// The scheduler debited the member's autopay account.
    case autopay
    /// The credit union's guarantee advanced it; the member owes it as arrears.
    case guarantee
}

/// `tontine.contribution_received.v1`: a cycle received a member's contribution (or its advance),
/// with the late fee it cost and any arrears it recovered.
public struct TontineContributionReceived: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let cycle: Int
    public let memberId: MemberID
    public let source: ContributionSource
    public let amount: Money
    public let lateFee: Money
    public let arrearsRecovered: Money
    public let late: Bool
    public let journalId: JournalID
}

/// `tontine.cycle_paid.v1`: the pool paid the cycle's recipient (less arrears it recovered).
public struct TontineCyclePaid: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let cycle: Int
    public let recipientId: MemberID
    public let paid: Money
    public let arrearsRecovered: Money
    public let journalId: JournalID
}

/// `tontine.contribution_due.v1`: a cycle's contributions fall due tomorrow (or today, when the
/// reminder could not go the day before); the members whose money is not in yet are reminded.
public struct TontineContributionDue: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let cycle: Int
    public let dueDate: Day
    public let contribution: Money
    public let memberIds: [MemberID]
}

/// `tontine.cycle_short.v1`: grace ended with contributions missing and no guarantee; the cycle
/// waits for them.
public struct TontineCycleShort: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let cycle: Int
    public let missing: [MemberID]
}

/// `tontine.advance_made.v1`: the guarantee advanced a missing contribution; the member owes it and
/// the penalty as arrears.
public struct TontineAdvanceMade: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let cycle: Int
    public let memberId: MemberID
    public let advanced: Money
    public let penalty: Money
    public let journalId: JournalID
}

/// `tontine.member_delinquent.v1`: a member who has been paid missed a contribution; a case is open.
public struct TontineMemberDelinquent: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let memberId: MemberID
    public let cycle: Int
    public let caseId: CaseID
}

extension TontineEvents {
    /// Every type the domain writes.
    public static let types: [String] =
        CircleState.allCases.map(\.event) + [
            memberJoined, contributionReceived, contributionDue, cyclePaid, cycleShort, advanceMade, memberDelinquent,
        ] + SwapStatus.allCases.map(\.event) + DisputeStatus.allCases.map(\.event)
}

public enum TontineEvents {
    public static let memberJoined = "tontine.member_joined.v1"
    public static let contributionReceived = "tontine.contribution_received.v1"
    public static let contributionDue = "tontine.contribution_due.v1"
    public static let cyclePaid = "tontine.cycle_paid.v1"
    public static let cycleShort = "tontine.cycle_short.v1"
    public static let advanceMade = "tontine.advance_made.v1"
    public static let memberDelinquent = "tontine.member_delinquent.v1"
}
