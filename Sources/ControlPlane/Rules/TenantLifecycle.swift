import Foundation
import NzilaValues

/// The moves of a tenant's life: active ⇄ suspended; offboarded is final (issue 5's offboarding).
public enum TenantLifecycle {
    public enum Action: String, Sendable {
        case suspend, resume

        var target: TenantStatus { self == .suspend ? .suspended : .active }
    }

    /// The status after `action`, or the refusal (409 `invalid-transition`) that refuses it.
    public static func apply(_ action: Action, to current: TenantStatus) throws(RuleError) -> TenantStatus {
        switch (action, current) {
        case (.suspend, .active), (.resume, .suspended):
            return action.target
        default:
            throw RuleError(
                .conflict, "invalid-transition", "Invalid transition",
                detail: current == .offboarded ? "The tenant is offboarded; that is final." : "The tenant is already \(current.rawValue).")
        }
    }
}
