import Foundation

/// A member's linked external bank accounts (Plaid-style bank linking): how many, and whether a balance covers a pull.
public enum BankLinkRules {
    /// Linked items per member: a few banks, never a list to mine.
    public static let maxLinksPerMember = 10

    /// Whether an account whose bank reports `available` (minor units, nil when the bank gives none) covers a pull of
    /// `amount`: nil when it cannot be said. Only the available balance counts — the current one includes money not yet
    /// cleared, so a pull against it could bounce.
    public static func covers(available: Int64?, amount: Int64) -> Bool? {
        guard let available else { return nil }
        return available >= amount
    }

    /// A public token as the provider's Link flow hands it over: printable, no spaces, bounded.
    public static func validPublicToken(_ token: String) -> Bool {
        (1...500).contains(token.count) && token.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }
    }
}
