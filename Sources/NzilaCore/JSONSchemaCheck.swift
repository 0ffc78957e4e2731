import Foundation
import NzilaValues

/// Any JSON value, read so that a number is never a boolean and an integer stays apart from a
/// fraction (a schema's `integer` and `boolean` are checked exactly, and a stored document passes
/// through unchanged).
public indirect enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), integer(Int64), number(Double), string(String)
    case array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null; return }
        if let value = try? single.decode(Bool.self) { self = .bool(value); return }
        if let value = try? single.decode(Int64.self) { self = .integer(value); return }
        if let value = try? single.decode(Double.self) { self = .number(value); return }
        if let value = try? single.decode(String.self) { self = .string(value); return }
        if let value = try? single.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try single.decode([String: JSONValue].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }
}

extension JSONSchema {
    /// Where `value` breaks `schema`, one line per breach with its JSON path; empty when it conforms.
    /// Knows the keywords `JSONSchema.of` writes: type, properties, required, additionalProperties,
    /// items, anyOf, enum, const (a string) and the formats uuid (lower case, as the API writes ids)
    /// date-time and date.
    public static func violations(of value: JSONValue, against schema: [String: Any], at path: String = "$") -> [String] {
        if let constant = schema["const"] as? String {
            guard case .string(let text) = value, text == constant else { return ["\(path): not \(constant)"] }
            return []
        }
        if let choices = schema["anyOf"] as? [[String: Any]] {
            return choices.contains { violations(of: value, against: $0, at: path).isEmpty } ? [] : ["\(path): matches none of its allowed shapes"]
        }
        if let allowed = schema["enum"] as? [String] {
            guard case .string(let text) = value, allowed.contains(text) else { return ["\(path): not one of \(allowed.joined(separator: ", "))"] }
            return []
        }
        guard let type = schema["type"] as? String else { return [] }
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number):
            return []
        case ("string", .string(let text)):
            switch schema["format"] as? String {
            case "uuid" where UUID(uuidString: text) == nil || text != text.lowercased(): return ["\(path): not a lower-case UUID"]
            case "date-time" where !isDateTime(text): return ["\(path): not an RFC 3339 time"]
            case "date" where Day(text) == nil: return ["\(path): not a YYYY-MM-DD date"]
            default: return []
            }
        case ("array", .array(let items)):
            guard let itemSchema = schema["items"] as? [String: Any] else { return [] }
            return items.enumerated().flatMap { violations(of: $1, against: itemSchema, at: "\(path)[\($0)]") }
        case ("object", .object(let fields)):
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            var found = ((schema["required"] as? [String]) ?? []).filter { fields[$0] == nil }.map { "\(path).\($0): missing" }
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] {
                    found += violations(of: field, against: property, at: "\(path).\(name)")
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    found += violations(of: field, against: extra, at: "\(path).\(name)")
                } else if schema["additionalProperties"] as? Bool == false {
                    found.append("\(path).\(name): not in the schema")
                }
            }
            return found
        default:
            return ["\(path): expected \(type)"]
        }
    }

    static func isDateTime(_ text: String) -> Bool {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) != nil
            || (try? Date.ISO8601FormatStyle().parse(text)) != nil
    }
}
