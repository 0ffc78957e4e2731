import Foundation
import NzilaValues

public enum TontineSwapTag {}
public enum TontineDisputeTag {}
public typealias TontineSwapID = Identifier<TontineSwapTag>
public typealias TontineDisputeID = Identifier<TontineDisputeTag>

/// A request to swap turns: the other member accepts or declines it (the requester may withdraw it
/// by declining too). Only turns whose cycles are not yet paid can move.
public enum SwapStatus: String, Sendable, Codable, CaseIterable {
    case requested, accepted, declined

    public var next: Set<SwapStatus> {
        switch self {
        case .requested: return [.accepted, .declined]
        case .accepted, .declined: return []
        }
    }

    public var event: String { "tontine.swap_\(rawValue).v1" }

    public enum Refusal: DomainError, Equatable, Sendable {
        case illegal(from: SwapStatus, to: SwapStatus)

        public var ruleError: RuleError {
            switch self {
            case .illegal(let from, _): RuleError.invalidTransition("swap", current: from.rawValue)
            }
        }
    }

    public func transition(to target: SwapStatus) -> Result<SwapStatus, Refusal> {
        next.contains(target) ? .success(target) : .failure(.illegal(from: self, to: target))
    }
}

/// A member's dispute about a cycle's money: staff uphold it (and may refund the contribution or
/// waive the late fee through the ledger) or reject it, always with a reason.
public enum DisputeStatus: String, Sendable, Codable, CaseIterable {
    case open, upheld, rejected

    public var next: Set<DisputeStatus> {
        switch self {
        case .open: return [.upheld, .rejected]
        case .upheld, .rejected: return []
        }
    }

    public var event: String { self == .open ? "tontine.dispute_opened.v1" : "tontine.dispute_\(rawValue).v1" }

    public enum Refusal: DomainError, Equatable, Sendable {
        case illegal(from: DisputeStatus, to: DisputeStatus)

        public var ruleError: RuleError {
            switch self {
            case .illegal(let from, _): RuleError.invalidTransition("dispute", current: from.rawValue)
            }
        }
    }

    public func transition(to target: DisputeStatus) -> Result<DisputeStatus, Refusal> {
        next.contains(target) ? .success(target) : .failure(.illegal(from: self, to: target))
    }
}

/// What an upheld dispute does with money.
public enum DisputeAction: String, Sendable, Codable, CaseIterable {
    /// The pool gives the member's contribution to the cycle back (only while the cycle is unpaid:
    /// after the payout the pool no longer holds it); the member may contribute again.
    case refundContribution = "refund_contribution"
    /// Fee income gives the late fee of the member's contribution to the cycle back.
    case waiveLateFee = "waive_late_fee"
}

/// `tontine.swap_<status>.v1`: a swap of turns was requested, accepted or declined.
public struct TontineSwapChanged: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let swapId: TontineSwapID
    public let requesterId: MemberID
    public let counterpartyId: MemberID
    public let requesterCycle: Int
    public let counterpartyCycle: Int
    public let status: SwapStatus
}

/// `tontine.dispute_<opened|upheld|rejected>.v1`: a dispute was opened or resolved.
public struct TontineDisputeChanged: Codable, Sendable, Equatable {
    public let tontineId: TontineID
    public let disputeId: TontineDisputeID
    public let memberId: MemberID
    public let cycle: Int
    public let status: DisputeStatus
    public let action: DisputeAction?
    public let journalId: JournalID?
}

/// Why a swap or dispute is refused.
public enum PeopleRefusal: DomainError, Equatable, Sendable {
    case swapWithSelf
    case turnPaid(cycle: Int)
    case notCounterparty
    case nothingToRefund(cycle: Int)
    case cyclePaid(cycle: Int)
    case noLateFee(cycle: Int)

    public var ruleError: RuleError {
        switch self {
        case .swapWithSelf: RuleError.invalid(field: "with_member_id", "must be another member of the circle")
        case .turnPaid(let cycle):
            RuleError(.conflict, "turn-paid", "Turn already paid", detail: "Cycle \(cycle) has been paid out; only unpaid turns can be swapped.")
        case .notCounterparty: RuleError.forbidden("Only the member asked may accept a swap; either member may decline it.")
        case .nothingToRefund(let cycle):
            RuleError(.conflict, "nothing-to-refund", "Nothing to refund", detail: "The member has no standing contribution to cycle \(cycle) paid from an account.")
        case .cyclePaid(let cycle):
            RuleError(.conflict, "cycle-paid", "Cycle paid",
                      detail: "Cycle \(cycle) has been paid out, so the pool no longer holds the contribution; settle it by dissolution or a staff transfer.")
        case .noLateFee(let cycle): RuleError(.conflict, "no-late-fee", "No late fee", detail: "The member paid no late fee on cycle \(cycle).")
        }
    }
}
