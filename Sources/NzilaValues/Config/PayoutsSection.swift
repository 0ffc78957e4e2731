import Foundation

/// `payouts`: which payout partners the credit union pays through, per corridor and payout method, in the order to try
/// them (the next one when a partner declines or its circuit breaker is open). A partner is a connection of the
/// platform's registry (`nzila partners add`) or a built-in sandbox partner (`sandbox-momo`, `sandbox-cash`). A corridor
/// and method the section leaves out use the corridor's list from the platform's reference data.
public struct PayoutsSection: ConfigSection, Equatable {
    public static let key = "payouts"

    /// The sandbox partners every data plane has (`SandboxPartner`), beside the registry's connections.
    public static let builtIn: Set<String> = ["sandbox-momo", "sandbox-cash"]

    /// A partner connection's name, as the registry requires it.
    public static let partnerPattern = #"^[a-z][a-z0-9-]{1,39}$"#

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let payouts = check.object(value, at: path, required: ["routes"], optional: []) else { return }
        guard let routes = check.array(payouts["routes"], at: "\(path).routes", count: 0...500) else { return }
        var seen: Set<String> = []
        for (index, entry) in routes.enumerated() {
            let at = "\(path).routes[\(index)]"
            guard let route = check.object(entry, at: at, required: ["corridor", "method", "partners"], optional: []) else { continue }
            if let corridor = check.pattern(route["corridor"], at: "\(at).corridor", #"^CAD-[A-Z]{3}$"#, "must be CAD-<currency>, such as CAD-NGN") {
                if Currency(code: String(corridor.suffix(3))) == nil { check.fail("\(at).corridor", "names an unsupported currency") }
            }
            if let method = route["method"] as? String, FeesSection.payoutMethods.contains(method) {
                if let corridor = route["corridor"] as? String, !seen.insert("\(corridor)/\(method)").inserted {
                    check.fail(at, "repeats \(corridor) by \(method)")
                }
            } else {
                check.fail("\(at).method", "must be one of \(FeesSection.payoutMethods.sorted().joined(separator: ", "))")
            }
            guard let partners = check.array(route["partners"], at: "\(at).partners", count: 1...5) else { continue }
            var names: Set<String> = []
            for (p, partner) in partners.enumerated() {
                guard let name = check.pattern(partner, at: "\(at).partners[\(p)]", partnerPattern, "must be a partner connection's name") else { continue }
                if !names.insert(name).inserted { check.fail("\(at).partners[\(p)]", "repeats \(name)") }
            }
        }
    }

    public let routes: [Route]

    /// A corridor and payout method, and its partners in the order to try them.
    public struct Route: Decodable, Sendable, Equatable {
        public let corridor: String
        public let method: String
        public let partners: [String]
    }

    public func partners(corridor: String, method: String) -> [String]? {
        routes.first { $0.corridor == corridor && $0.method == method }?.partners
    }
}
