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

extension AccountSnapshot {
    /// The account once `minor` of its holds is given back: what a capture's floor check sees, since
    /// the money it reserved becomes available to the posting that takes it.
    public func releasing(_ minor: Int64) -> AccountSnapshot {
        AccountSnapshot(
            id: id, memberID: memberID, currency: currency, status: status, balanceMinor: balanceMinor, heldMinor: heldMinor - minor,
            floorMinor: floorMinor)
    }
}
