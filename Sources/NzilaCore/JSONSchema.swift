import Foundation
import NzilaValues

/// A JSON Schema (2020-12) of a `Decodable` type, read from the type itself: its `init(from:)` is run
/// against a decoder that records each key it asks for, with the type and whether it is optional.
/// Keys are snake_case, as `JSONEncoder.api` writes them. Covers what the API's types use: objects,
/// strings, integers, booleans, numbers, arrays, UUIDs, times and days as formatted strings, and string
/// enums that are `CaseIterable`.
public enum JSONSchema {
    public static func of<T: Decodable>(_ type: T.Type) -> [String: Any] {
        schema(for: type)
    }

    static func schema(for type: any Decodable.Type) -> [String: Any] {
        if type == String.self { return ["type": "string"] }
        if type == Bool.self { return ["type": "boolean"] }
        if type == Double.self || type == Float.self { return ["type": "number"] }
        if [Int.self, Int64.self, Int32.self, Int16.self, UInt.self, UInt64.self, UInt32.self].contains(where: { $0 == type }) {
            return ["type": "integer"]
        }
        if type == UUID.self || type is any UUIDIdentifier.Type { return ["type": "string", "format": "uuid"] }
        if type == Date.self { return ["type": "string", "format": "date-time"] }
        if type == Day.self { return ["type": "string", "format": "date"] }
        if type == JSONValue.self { return [:] }
        if let dictionary = type as? any StringKeyedDictionary.Type {
            return ["type": "object", "additionalProperties": schema(for: dictionary.valueType)]
        }
        if let cases = type as? any (CaseIterable & RawRepresentable).Type, let names = stringCases(cases) {
            return ["type": "string", "enum": names]
        }
        let recorder = Recorder(probing: true)
        _ = try? type.init(from: SchemaDecoder(recorder: recorder))
        switch recorder.shape {
        case .array(let element): return ["type": "array", "items": schema(for: element)]
        case .single(let inner): return schema(for: inner)
        case .object:
            var properties: [String: Any] = [:]
            for field in recorder.fields { properties[field.name] = field.optional ? ["anyOf": [schema(for: field.type), ["type": "null"]]] : schema(for: field.type) }
            return [
                "type": "object", "additionalProperties": false, "properties": properties,
                "required": recorder.fields.filter { !$0.optional }.map(\.name),
            ]
        }
    }

    static func stringCases<C: CaseIterable & RawRepresentable>(_ type: C.Type) -> [String]? {
        let values = C.allCases.compactMap { $0.rawValue as? String }
        return values.count == C.allCases.count ? values : nil
    }

    /// The key `JSONEncoder.api` writes for a coding key: Foundation's own `convertToSnakeCase`, asked
    /// directly, so acronyms (`accountID` → `account_id`) come out the same.
    static func snakeCase(_ key: String) -> String {
        struct One: Encodable {
            struct Key: CodingKey {
                var stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue: Int) { nil }
            }
            let key: String
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(0, forKey: Key(stringValue: key))
            }
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(One(key: key)), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Int],
              let name = object.keys.first else { return key }
        return name
    }

    final class Recorder {
        enum Shape { case object, array(any Decodable.Type), single(any Decodable.Type) }
        struct Field { let name: String; let type: any Decodable.Type; let optional: Bool }
        var fields: [Field] = []
        var shape: Shape = .object
        /// Recording the type being described; false while making up a nested value to go on with.
        let probing: Bool

        init(probing: Bool) { self.probing = probing }

        func add(_ key: some CodingKey, _ type: any Decodable.Type, optional: Bool) {
            guard probing else { return }
            let name = JSONSchema.snakeCase(key.stringValue)
            guard !fields.contains(where: { $0.name == name }) else { return }
            fields.append(Field(name: name, type: type, optional: optional))
        }
    }

    /// Answers every request with a placeholder and stops the type's decoding at the first value it
    /// cannot make up (after the key is recorded), which is all the schema needs.
    struct Stop: Error {}

    struct SchemaDecoder: Decoder {
        let recorder: Recorder
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Keyed<Key>(recorder: recorder))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { Unkeyed(recorder: recorder) }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(recorder: recorder) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let recorder: Recorder
        var codingPath: [any CodingKey] = []
        var allKeys: [Key] = []
        func contains(_ key: Key) -> Bool { true }
        func decodeNil(forKey key: Key) throws -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            recorder.add(key, type, optional: false)
            return try placeholder(type)
        }
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            recorder.add(key, type, optional: true)
            return nil
        }
        // The primitives have their own requirements (whose defaults would ask `decodeNil`, then `decode`).
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { recorder.add(key, type, optional: true); return nil }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { recorder.add(key, type, optional: true); return nil }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> { throw Stop() }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw Stop() }
        func superDecoder() throws -> any Decoder { throw Stop() }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Stop() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let recorder: Recorder
        var codingPath: [any CodingKey] = []
        var count: Int? = 0
        var isAtEnd: Bool { !recorder.probing }
        var currentIndex = 0
        mutating func decodeNil() throws -> Bool { false }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            recorder.shape = .array(type)
            throw Stop()
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> { throw Stop() }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Stop() }
        mutating func superDecoder() throws -> any Decoder { throw Stop() }
    }

    struct Single: SingleValueDecodingContainer {
        let recorder: Recorder
        var codingPath: [any CodingKey] = []
        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            guard recorder.probing else { return try placeholder(type) }
            recorder.shape = .single(type)
            throw Stop()
        }
    }

    /// A value to hand back so decoding goes on to the next key: a primitive, an enum's first case,
    /// or the type made from placeholders all the way down (arrays empty).
    static func placeholder<T: Decodable>(_ type: T.Type) throws -> T {
        let values: [Any] = ["", 0, Int64(0), Int32(0), UInt(0), false, 0.0, UUID(), Date(timeIntervalSince1970: 0)]
        if let value = values.first(where: { Swift.type(of: $0) == type }) as? T { return value }
        if let cases = type as? any CaseIterable.Type, let first = firstCase(cases) as? T { return first }
        if let known = type as? any SchemaPlaceholder.Type, let value = known.schemaPlaceholder as? T { return value }
        return try T(from: SchemaDecoder(recorder: Recorder(probing: false)))
    }

    static func firstCase<C: CaseIterable>(_ type: C.Type) -> Any? { C.allCases.first }
}

/// A JSON object with free keys (`[String: V]`), which decodes through a keyed container that lists no keys.
protocol StringKeyedDictionary { static var valueType: any Decodable.Type { get } }
extension Dictionary: StringKeyedDictionary where Key == String, Value: Decodable {
    static var valueType: any Decodable.Type { Value.self }
}
