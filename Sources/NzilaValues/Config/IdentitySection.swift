import Foundation

/// `identity`: the identity verification provider the credit union's members verify with (document + selfie), a
/// connection of the platform's registry (`nzila partners add … --kind identity`), and whether a verified session moves
/// the member to tier 2 by itself: `{"connection": "stripe-id-cu1", "grant_tier": 2}`. Without `grant_tier` the verified
/// result is recorded as evidence and staff decide the tier.
public struct IdentitySection: ConfigSection, Equatable {
    public static let key = "identity"

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let identity = check.object(value, at: path, required: ["connection"], optional: ["grant_tier"]) else { return }
        _ = check.pattern(identity["connection"], at: "\(path).connection", PayoutsSection.partnerPattern, "must be an identity connection's name")
        if let tier = identity["grant_tier"], (tier as? Int) != 2 || tier is Bool {
            check.fail("\(path).grant_tier", "must be 2: a verified identity (document and selfie) is what tier 2 needs")
        }
    }

    public let connection: String
    public let grantTier: Int?
}
