import Foundation
import NzilaValues

/// What a caller may do in banking: the banking rows of the staff matrix (`Permission`).
public typealias BankingPermission = Permission

/// The account products a member can open through the API; wallets and the credit union's own
/// accounts are opened by other flows.
public enum MemberAccountKind: String, Codable, Sendable, CaseIterable {
    case chequing, savings
    /// One per member per currency (a unique index refuses a second).
    case wallet
}

/// Input for a new member, validated as a whole so every bad field is reported at once.
public struct NewMember: Sendable, Equatable {
    public let email: String
    public let fullName: String
    public let phone: String?
    public let password: String

    public static func validate(email: String, fullName: String, phone: String?, password: String) throws(RuleError) -> NewMember {
        var errors: [FieldError] = []
        let email = Validate.email(email).get(into: &errors)
        let name = Validate.name(fullName, field: "full_name").get(into: &errors)
        if let error = Validate.password(password) { errors.append(error) }
        if let phone, phone.range(of: #"^\+[1-9][0-9]{6,14}$"#, options: .regularExpression) == nil {
            errors.append(FieldError(field: "phone", message: "must be an E.164 number such as +14165550100"))
        }
        guard errors.isEmpty, let email, let name else { throw RuleError.invalid(errors) }
        return NewMember(email: email, fullName: name, phone: phone, password: password)
    }
}

/// Who an account is opened for: a member opens their own; staff name the member.
public enum AccountOwnerRule {
    public static func owner(requested: UUID?, principal: Principal) throws(RuleError) -> MemberID {
        if principal.role == .member {
            guard requested == nil || requested == principal.id else {
                throw RuleError.invalid(field: "member_id", "a member opens accounts for themselves only")
            }
            return MemberID(principal.id)
        }
        guard principal.role.may(.openAccount) else { throw RuleError.forbidden("Your role may not open accounts.") }
        guard let requested else { throw RuleError.invalid(field: "member_id", "is required when staff open an account") }
        return MemberID(requested)
    }

    /// Member accounts never go below zero unless a product allows overdraft (none does yet).
    public static let memberFloorMinor: Int64 = 0
}

/// The statuses of an account and the moves between them: open ⇄ frozen, and either to closed once
/// the account is empty; closed is final. A frozen account neither pays nor receives.
public enum AccountStatus: String, Codable, Sendable, CaseIterable {
    case open, frozen, closed

    /// The permission a move to this status needs.
    public var permission: BankingPermission { self == .closed ? .closeAccount : .freezeAccount }

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
