import Foundation
import Synchronization
import NzilaCore
import Yams

/// A tenant template from `TenantTemplates/<name>.yaml`: fees, branding, KYC tier limits and enabled
/// domains, checked against the platform's rules before any tenant is made from it.
public struct TenantTemplate: Sendable {
    public let name: String
    /// The configuration sections, as JSON for the `jsonb` columns.
    public let sections: [String: Data]
    public let ledgerCurrencies: [Currency]

    /// The domains the template enables.
    public var domains: [String] {
        sections["domains"].flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String] } ?? []
    }

    public static let sectionNames = TenantConfig.sections

    public enum Invalid: Error, CustomStringConvertible, Equatable {
        case unknown(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .unknown(let name): return "no template named \(name)"
            case .malformed(let reason): return reason
            }
        }
    }

    /// Parsed templates as JSON, by file path: YAML parsing is the slow part of loading one, and
    /// templates are read-only files of the release (a changed file needs a restart).
    static let parsed = Mutex<[String: Data]>([:])

    /// Loads and validates a template; `name` must be a plain file stem.
    public static func load(named name: String, from root: URL, tenantName: String) throws(Invalid) -> TenantTemplate {
        guard name.range(of: "^[a-z0-9_-]{1,64}$", options: .regularExpression) != nil else { throw .unknown(name) }
        let path = root.appendingPathComponent("TenantTemplates/\(name).yaml").path
        var json = parsed.withLock { $0[path] }
        if json == nil {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unknown(name) }
            guard let document = (try? Yams.load(yaml: text)) as? [String: Any],
                let data = try? JSONSerialization.data(withJSONObject: document, options: [.fragmentsAllowed])
            else { throw .malformed("\(name).yaml is not a mapping") }
            parsed.withLock { $0[path] = data }
            json = data
        }
        guard var document = json.flatMap({ try? JSONSerialization.jsonObject(with: $0) }) as? [String: Any] else {
            throw .malformed("\(name).yaml is not a mapping")
        }
        let ledger = (document.removeValue(forKey: "ledger_currencies") as? [String]) ?? ["CAD"]
        let currencies = ledger.compactMap(Currency.init(code:))
        guard currencies.count == ledger.count, !currencies.isEmpty else { throw .malformed("ledger_currencies lists an unknown currency") }
        guard Set(document.keys).isSuperset(of: sectionNames), Set(document.keys).isSubset(of: sectionNames + TenantConfig.optionalSections) else {
            throw .malformed("a template has the sections \(sectionNames), and may have \(TenantConfig.optionalSections)")
        }
        if var branding = document["branding"] as? [String: Any] {
            if branding["display_name"] == nil || branding["display_name"] is NSNull { branding["display_name"] = tenantName }
            document["branding"] = branding
        }
        // The same rules as every later configuration version.
        let problems = TenantConfig.problems(document)
        guard problems.isEmpty else {
            throw .malformed("\(name).yaml: " + problems.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
        }
        var sections: [String: Data] = [:]
        for key in sectionNames + TenantConfig.optionalSections where document[key] != nil {
            guard let value = document[key], let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else {
                throw .malformed("section \(key) cannot be stored as JSON")
            }
            sections[key] = data
        }
        return TenantTemplate(name: name, sections: sections, ledgerCurrencies: currencies)
    }

    /// The whole configuration as one JSON object, as versioned in `control.tenant_config_versions`.
    public var combinedJSON: Data {
        var object: [String: Any] = [:]
        for (key, data) in sections { object[key] = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
