import Foundation

/// What changed between two configurations, field by field, for `GET …/config/diff`.
public struct ConfigChange: Sendable, Equatable {
    public enum Kind: String, Sendable, Decodable, CaseIterable { case added, removed, changed }
    public let path: String
    public let kind: Kind
    /// The JSON of the value before and after (nil when absent).
    public let before: String?
    public let after: String?

    public static func between(_ old: Any?, _ new: Any?, at path: String = "") -> [ConfigChange] {
        switch (old, new) {
        case (nil, nil):
            return []
        case (nil, let added?):
            return [ConfigChange(path: path, kind: .added, before: nil, after: json(added))]
        case (let removed?, nil):
            return [ConfigChange(path: path, kind: .removed, before: json(removed), after: nil)]
        case (let a as [String: Any], let b as [String: Any]):
            return Set(a.keys).union(b.keys).sorted().flatMap { key in between(a[key], b[key], at: path.isEmpty ? key : "\(path).\(key)") }
        case (let a as [Any], let b as [Any]):
            return (0..<max(a.count, b.count)).flatMap { index in
                between(index < a.count ? a[index] : nil, index < b.count ? b[index] : nil, at: "\(path)[\(index)]")
            }
        case (let a?, let b?):
            return TenantConfig.same(a, b) ? [] : [ConfigChange(path: path, kind: .changed, before: json(a), after: json(b))]
        }
    }

    static func json(_ value: Any) -> String {
        (try? TenantConfig.data(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
