import NzilaValues

/// The life of a remittance order (DOMAIN.md): created → awaiting_funding → funded → screening →
/// (held → released | rejected) → converting → disbursing → delivered, with failed → refunded and
/// cancelled (before funds move, or from held with a refund). A rejection refunds.
public enum OrderState: String, Sendable, Codable, CaseIterable {
    case created, awaitingFunding = "awaiting_funding", funded, screening, held, released, rejected, converting, disbursing, delivered
    case failed, refunded, cancelled

    /// Where an order may go from here.
    public var next: Set<OrderState> {
        switch self {
        case .created: return [.awaitingFunding, .cancelled]
        case .awaitingFunding: return [.funded, .cancelled]
        case .funded: return [.screening]
        case .screening: return [.held, .converting]
        case .held: return [.released, .rejected, .cancelled]
        case .released: return [.converting]
        case .rejected: return [.refunded]
        case .converting: return [.disbursing, .failed]
        case .disbursing: return [.delivered, .failed]
        case .failed: return [.refunded]
        case .delivered, .refunded, .cancelled: return []
        }
    }

    public var isFinal: Bool { next.isEmpty }

    /// The member's money has left their available balance (held or captured) in this state.
    public var fundsMoved: Bool {
        ![.created, .awaitingFunding, .cancelled, .refunded].contains(self)
    }

    /// The event this state emits, written to the outbox in the transition's transaction.
    public var event: String { "remittance.\(rawValue).v1" }

    public enum Refusal: DomainError, Equatable, Sendable {
        case illegal(from: OrderState, to: OrderState)

        public var ruleError: RuleError {
            switch self {
            case .illegal(let from, _): RuleError.invalidTransition("remittance", current: from.rawValue)
            }
        }
    }

    /// The transition, or why not; moving to `cancelled` from `held` means the funds go back with it.
    public func transition(to target: OrderState) -> Result<Transition, Refusal> {
        guard next.contains(target) else { return .failure(.illegal(from: self, to: target)) }
        return .success(Transition(from: self, to: target, refund: (self == .held && target == .cancelled) || target == .refunded))
    }

    public struct Transition: Sendable, Equatable {
        public let from: OrderState
        public let to: OrderState
        /// The ledger must give the member their money back (send + fee) in the same transaction.
        public let refund: Bool
    }
}
