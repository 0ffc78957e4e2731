import Foundation
import NzilaValues

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
}
