import Foundation

/// What changed between two configurations, field by field: for `GET …/config/diff`, the audit
/// log's before/after, and the portal's review of a change before it is saved.
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
            return json(a) == json(b) ? [] : [ConfigChange(path: path, kind: .changed, before: json(a), after: json(b))]
        }
    }

    /// The value's canonical JSON (sorted keys), so equal values compare equal.
    public static func json(_ value: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
