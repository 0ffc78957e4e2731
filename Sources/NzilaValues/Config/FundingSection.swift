import Foundation

/// `funding`: the providers through which the credit union's members fund remittances other than from their accounts,
/// each a connection of the platform's registry (`nzila partners add … --kind money-requests|card-payments`):
/// `{"interac": "interac-cu1", "card": "stripe-cu1"}`. A way to pay the section leaves out is not offered
/// (`funding: "interac"` on an order is then refused with a clear error). `bank_link` names the bank-linking connection
/// (`--kind bank-links`, Plaid-style) members link their external bank accounts through, to see them and their balance.
public struct FundingSection: ConfigSection, Equatable {
    public static let key = "funding"

    /// Each way to pay and the registry kind its connection must be.
    public static let kinds: [String: String] = ["interac": "money-requests", "card": "card-payments", "bank_link": "bank-links"]

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let funding = check.object(value, at: path, required: [], optional: kinds.keys.sorted()) else { return }
        for (way, name) in funding {
            _ = check.pattern(name, at: "\(path).\(way)", PayoutsSection.partnerPattern, "must be a funding connection's name")
        }
    }

    public let interac: String?
    public let card: String?
    /// The bank-linking connection (Plaid-style) members link their external bank accounts through; not a way to pay.
    public let bankLink: String?

    /// The connection for a way to pay (`interac`, `card`), if the credit union offers it.
    public func connection(for way: String) -> String? {
        switch way {
        case "interac": interac
        case "card": card
        default: nil
        }
    }
}
