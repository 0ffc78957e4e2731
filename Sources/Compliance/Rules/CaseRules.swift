import NzilaValues

public enum CaseStatus: String, Sendable, Codable, CaseIterable {
    case open, escalated, released, rejected

    public var isFinal: Bool { self == .released || self == .rejected }
}

/// What an officer decides about a case.
public enum CaseDecision: String, Sendable, Codable, CaseIterable {
    /// Nothing to stop: a held remittance resumes.
    case release
    /// Confirmed: a held remittance is refunded; a Suspicious Transaction Report can be drafted.
    case reject
    /// Passed to the credit union's senior (a tenant admin), who decides.
    case escalate
}

/// The case lifecycle: open → (escalated) → released | rejected, decisions final. An escalated case is
/// decided only by a tenant admin.
public enum CaseRules {
    public enum Refusal: DomainError, Equatable, Sendable {
        case decided(CaseStatus)
        case alreadyEscalated
        case seniorOnly

        public var ruleError: RuleError {
            switch self {
            case .decided(let status):
                return RuleError(.conflict, "case-decided", "Case decided", detail: "The case was \(status.rawValue); a decision is final.")
            case .alreadyEscalated:
                return RuleError(.conflict, "case-escalated", "Case escalated", detail: "The case is already escalated.")
            case .seniorOnly:
                return RuleError(.forbidden, "case-escalated", "Case escalated", detail: "An escalated case is decided by a tenant admin.")
            }
        }
    }

    public static func decide(_ decision: CaseDecision, status: CaseStatus, role: Role) -> Result<CaseStatus, Refusal> {
        if status.isFinal { return .failure(.decided(status)) }
        switch decision {
        case .escalate:
            return status == .escalated ? .failure(.alreadyEscalated) : .success(.escalated)
        case .release, .reject:
            if status == .escalated && role != .tenantAdmin { return .failure(.seniorOnly) }
            return .success(decision == .release ? .released : .rejected)
        }
    }

    /// Cases can be (re)assigned until they are decided.
    public static func assign(status: CaseStatus) -> Result<Void, Refusal> {
        status.isFinal ? .failure(.decided(status)) : .success(())
    }
}
