import Foundation

/// Collects field errors while walking a JSON document (a tenant configuration), each named by its
/// path (`fees.corridors[2].max_minor`). Each `ConfigSection` checks its own part with it.
public struct ConfigChecker {
    public init() {}

    public var errors: [FieldError] = []

    public mutating func fail(_ path: String, _ message: String) {
        errors.append(FieldError(field: path.isEmpty ? "config" : path, message: message))
    }

    /// An object with exactly the required keys and any of the optional ones; unknown keys are named.
    public mutating func object(_ value: Any?, at path: String, required: [String], optional: [String]) -> [String: Any]? {
        guard let object = value as? [String: Any] else {
            fail(path, value == nil ? "is required" : "must be an object")
            return nil
        }
        for key in required where object[key] == nil { fail(path.isEmpty ? key : "\(path).\(key)", "is required") }
        let allowed = Set(required + optional)
        for key in object.keys.sorted() where !allowed.contains(key) { fail(path.isEmpty ? key : "\(path).\(key)", "is not a known field") }
        return object
    }

    public mutating func array(_ value: Any?, at path: String, count: ClosedRange<Int>) -> [Any]? {
        guard let array = value as? [Any] else {
            fail(path, value == nil ? "is required" : "must be a list")
            return nil
        }
        guard count.contains(array.count) else {
            fail(path, "must have \(count.lowerBound) to \(count.upperBound) entries")
            return nil
        }
        return array
    }

    /// An integer (not a float, not a boolean) within `range`.
    @discardableResult
    public mutating func integer(_ value: Any?, at path: String, in range: ClosedRange<Int64>) -> Int64? {
        // JSONSerialization gives booleans the type code "c" and non-integers "d" or "f".
        guard let number = value as? NSNumber, !["c", "d", "f"].contains(String(cString: number.objCType)) else {
            fail(path, value == nil ? "is required" : "must be an integer")
            return nil
        }
        let exact = number.int64Value
        guard range.contains(exact) else {
            fail(path, range.upperBound == Int64.max ? "must be at least \(range.lowerBound)" : "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return exact
    }

    public mutating func text(_ value: Any?, at path: String, length: ClosedRange<Int>) {
        guard let text = value as? String, length.contains(text.trimmingCharacters(in: .whitespacesAndNewlines).count) else {
            fail(path, "must be text of \(length.lowerBound) to \(length.upperBound) characters")
            return
        }
    }

    @discardableResult
    public mutating func pattern(_ value: Any?, at path: String, _ regex: String, _ message: String) -> String? {
        guard let text = value as? String, text.range(of: regex, options: .regularExpression) != nil else {
            fail(path, value == nil ? "is required" : message)
            return nil
        }
        return text
    }

    /// The value, unless it is absent or JSON null (optional fields).
    public static func present(_ value: Any?) -> Any? {
        guard let value, !(value is NSNull) else { return nil }
        return value
    }
}
