import Foundation
import NzilaValues

/// The account products a member can open through the API; wallets and the credit union's own
/// accounts are opened by other flows.
public enum MemberAccountKind: String, Codable, Sendable, CaseIterable {
    case chequing, savings
    /// One per member per currency (a unique index refuses a second).
    case wallet
}

/// Member accounts never go below zero unless a product allows overdraft (none does yet).
public enum AccountFloor {
    public static let memberMinor: Int64 = 0
}

/// The statuses of an account and the moves between them: open ⇄ frozen, and either to closed once
/// the account is empty; closed is final. A frozen account neither pays nor receives.
public enum AccountStatus: String, Codable, Sendable, CaseIterable {
    case open, frozen, closed

    /// The permission a move to this status needs.
    public var permission: Permission { self == .closed ? .closeAccount : .freezeAccount }

    /// Checks a move from `current`; `balanceMinor` and `heldMinor` are the account's, locked.
    public static func change(from current: AccountStatus, to target: AccountStatus, balanceMinor: Int64, heldMinor: Int64) throws(RuleError) {
        guard current != .closed else {
            throw RuleError(.conflict, "invalid-transition", "Invalid transition", detail: "The account is closed; a closed account stays closed.")
        }
        guard target != current else {
            throw RuleError(.conflict, "invalid-transition", "Invalid transition", detail: "The account is already \(current.rawValue).")
        }
        if target == .closed, balanceMinor != 0 || heldMinor != 0 {
            throw RuleError(
                .unprocessable, "account-not-empty", "Account not empty",
                detail: "An account closes only at a zero balance with nothing held; it holds \(balanceMinor) minor units and \(heldMinor) are held.")
        }
    }

    /// Why the status changes: required, so an officer can always tell.
    public static func validateReason(_ reason: String) throws(RuleError) -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(trimmed.count) else { throw RuleError.invalid(field: "reason", "must be 1 to 500 characters") }
        return trimmed
    }
}

/// A hold's life: active until captured (all or part; the rest released), voided, or expired.
public enum HoldStatus: String, Codable, Sendable, CaseIterable {
    case active, captured, voided, expired
}
