import NzilaValues

/// The life of a tontine circle (DOMAIN.md): forming → active → completed, or dissolved from
/// forming or active (staff settle every member's net position first).
public enum CircleState: String, Sendable, Codable, CaseIterable {
    case forming, active, completed, dissolved

    /// Where a circle may go from here.
    public var next: Set<CircleState> {
        switch self {
        case .forming: return [.active, .dissolved]
        case .active: return [.completed, .dissolved]
        case .completed, .dissolved: return []
        }
    }

    public var isFinal: Bool { next.isEmpty }

    /// The event this state emits, written to the outbox in the transition's transaction.
    public var event: String { "tontine.\(rawValue).v1" }

    public enum Refusal: DomainError, Equatable, Sendable {
        case illegal(from: CircleState, to: CircleState)

        public var ruleError: RuleError {
            switch self {
            case .illegal(let from, _): RuleError.invalidTransition("tontine", current: from.rawValue)
            }
        }
    }

    /// The transition, or why not.
    public func transition(to target: CircleState) -> Result<CircleState, Refusal> {
        next.contains(target) ? .success(target) : .failure(.illegal(from: self, to: target))
    }
}
