import Foundation
import NzilaValues

extension RuleError {
    /// An account the caller cannot see (another member's looks missing too).
    public static func accountNotFound(_ id: AccountID) -> RuleError {
        RuleError(.notFound, "account-not-found", "Account not found", detail: "Account \(id.rawValue.lowercased) was not found.")
    }

    public static func holdNotFound(_ id: UUID) -> RuleError {
        RuleError(.notFound, "hold-not-found", "Hold not found", detail: "Hold \(id.lowercased) was not found.")
    }
}
