import NzilaValues

/// A loan's life (issue 19): `submitted → approved | referred | declined`, `referred → approved |
/// declined`, `approved → disbursed → closed` (paid off) or `written_off`. Every transition is
/// checked here, again by a trigger in SQL, logged and written as an outbox event `loan.<state>.v1`
/// in the same statement, as Remittance's `OrderState`.
public enum LoanState: String, Sendable, Codable, CaseIterable {
    case submitted, approved, referred, declined, disbursed, closed
    case writtenOff = "written_off"

    public var next: Set<LoanState> {
        switch self {
        case .submitted: return [.approved, .referred, .declined]
        case .referred: return [.approved, .declined]
        case .approved: return [.disbursed]
        case .disbursed: return [.closed, .writtenOff]
        case .declined, .closed, .writtenOff: return []
        }
    }

    public var isFinal: Bool { next.isEmpty }

    /// The event this state emits.
    public var event: String { "loan.\(rawValue).v1" }

    public enum Refusal: DomainError, Equatable, Sendable {
        case illegal(from: LoanState, to: LoanState)

        public var ruleError: RuleError {
            switch self {
            case .illegal(let from, _): RuleError.invalidTransition("loan", current: from.rawValue)
            }
        }
    }

    /// Repayments and payoffs are for a disbursed loan only.
    public struct NotRepayable: DomainError, Equatable, Sendable {
        public let state: LoanState

        public init(_ state: LoanState) { self.state = state }

        public var ruleError: RuleError {
            RuleError(.conflict, "loan-not-active", "Loan not repayable", detail: "The loan is \(state.rawValue); only a disbursed loan takes repayments or has a payoff.")
        }
    }

    public func transition(to target: LoanState) -> Result<LoanState, Refusal> {
        next.contains(target) ? .success(target) : .failure(.illegal(from: self, to: target))
    }
}
