import Foundation
import NzilaValues

/// The outbox events of lending, `loan.<event>.v1`. Ids, states and amounts; never an account number.
public enum LoanEvents {
    public static let repaymentReceived = "loan.repayment_received.v1"
    public static let penaltyCharged = "loan.penalty_charged.v1"
    public static let delinquencyChanged = "loan.delinquency_changed.v1"
    public static let instalmentDue = "loan.instalment_due.v1"

    public static var types: [String] {
        LoanState.allCases.map(\.event) + [repaymentReceived, penaltyCharged, delinquencyChanged, instalmentDue]
    }
}

/// `loan.<state>.v1`: a loan reached `state` (from `from`, null for a new application), why, and the
/// role of who moved it.
public struct LoanStateChanged: Codable, Sendable, Equatable {
    public let loanId: LoanID
    public let memberId: MemberID
    public let from: LoanState?
    public let state: LoanState
    public let reason: String
    public let actorRole: String

    public init(loan: LoanID, member: MemberID, from: LoanState?, state: LoanState, reason: String, actorRole: String) {
        self.loanId = loan
        self.memberId = member
        self.from = from
        self.state = state
        self.reason = String(reason.prefix(2000))
        self.actorRole = actorRole
    }

    enum CodingKeys: String, CodingKey { case loanId, memberId, from, state, reason, actorRole }

    /// `from` is always present (null for a new application).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(loanId, forKey: .loanId)
        try container.encode(memberId, forKey: .memberId)
        try container.encode(from, forKey: .from)
        try container.encode(state, forKey: .state)
        try container.encode(reason, forKey: .reason)
        try container.encode(actorRole, forKey: .actorRole)
    }
}

/// How a repayment came in.
public enum RepaymentKind: String, Sendable, Codable, CaseIterable {
    /// The member (or staff for them) paid an amount.
    case repayment
    /// The scheduler took what was due from the loan's account on a due day.
    case autopay
    /// The payoff that closed the loan.
    case payoff
}

/// `loan.repayment_received.v1`: a repayment, how it was allocated and the principal left.
public struct LoanRepaymentReceived: Codable, Sendable, Equatable {
    public let loanId: LoanID
    public let repaymentId: LoanRepaymentID
    public let kind: RepaymentKind
    public let amount: Money
    public let penaltyMinor: Int64
    public let feeMinor: Int64
    public let interestMinor: Int64
    public let principalMinor: Int64
    public let principalOutstanding: Money
}

/// `loan.penalty_charged.v1`: an instalment passed its grace days unpaid and was charged the penalty.
public struct LoanPenaltyCharged: Codable, Sendable, Equatable {
    public let loanId: LoanID
    public let instalment: Int
    public let penalty: Money
}

/// `loan.instalment_due.v1`: an instalment falls due tomorrow (or today, when the reminder could
/// not go the day before), with what it still asks for then — the member's reminder.
public struct LoanInstalmentDue: Codable, Sendable, Equatable {
    public let loanId: LoanID
    public let instalment: Int
    public let dueDate: Day
    public let amountDue: Money
}

/// `loan.delinquency_changed.v1`: the loan entered another delinquency bucket (null: current again).
public struct LoanDelinquencyChanged: Codable, Sendable, Equatable {
    public let loanId: LoanID
    public let from: DelinquencyBucket?
    public let bucket: DelinquencyBucket?
    public let daysPastDue: Int

    enum CodingKeys: String, CodingKey { case loanId, from, bucket, daysPastDue }

    public init(loanId: LoanID, from: DelinquencyBucket?, bucket: DelinquencyBucket?, daysPastDue: Int) {
        self.loanId = loanId
        self.from = from
        self.bucket = bucket
        self.daysPastDue = daysPastDue
    }

    /// Both buckets are always present (null when current).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(loanId, forKey: .loanId)
        try container.encode(from, forKey: .from)
        try container.encode(bucket, forKey: .bucket)
        try container.encode(daysPastDue, forKey: .daysPastDue)
    }
}
