import Foundation

/// `domains`: the product domains the tenant has enabled; a route of any other answers 403
/// `domain-disabled`.
public struct DomainsSection: ConfigSection, Equatable {
    public static let key = "domains"
    public static let isRequired = true
    public static let known = ["banking", "remittance", "compliance", "tontine", "lending", "trading"]
    public let enabled: [String]

    public init(from decoder: any Decoder) throws {
        enabled = try decoder.singleValueContainer().decode([String].self)
    }

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let domains = check.array(value, at: path, count: 0...known.count) else { return }
        for (index, domain) in domains.enumerated() where !known.contains(domain as? String ?? "") {
            check.fail("\(path)[\(index)]", "must be one of \(known.joined(separator: ", "))")
        }
        if Set(domains.compactMap { $0 as? String }).count != domains.count { check.fail(path, "must not repeat a domain") }
    }
}
