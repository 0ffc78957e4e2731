import Foundation
import NzilaCore
import Testing

@Suite("JSON Schema from a Decodable type")
struct JSONSchemaTests {
    enum Colour: String, Codable, CaseIterable { case red, deepBlue = "deep_blue" }
    struct Inner: Codable { let amountMinor: Int64; let note: String? }
    struct Outer: Codable {
        let id: UUID
        let at: Date
        let colour: Colour
        let inner: Inner
        let tags: [String]
        let lines: [Inner]
        let flag: Bool?
        let ratio: Double
    }

    @Test("objects with snake_case keys, required exactly the non-optional ones, nested objects, arrays, enums, formats")
    func outer() throws {
        let schema = JSONSchema.of(Outer.self)
        #expect(schema["type"] as? String == "object" && schema["additionalProperties"] as? Bool == false)
        #expect(schema["required"] as? [String] == ["id", "at", "colour", "inner", "tags", "lines", "ratio"])
        let properties = try #require(schema["properties"] as? [String: Any])
        #expect((properties["id"] as? [String: String]) == ["type": "string", "format": "uuid"])
        #expect((properties["at"] as? [String: String]) == ["type": "string", "format": "date-time"])
        #expect((properties["colour"] as? [String: Any])?["enum"] as? [String] == ["red", "deep_blue"])
        let inner = try #require(properties["inner"] as? [String: Any])
        #expect(inner["required"] as? [String] == ["amount_minor"])
        #expect(((inner["properties"] as? [String: Any])?["amount_minor"] as? [String: String]) == ["type": "integer"])
        #expect(((properties["tags"] as? [String: Any])?["items"] as? [String: String]) == ["type": "string"])
        #expect((((properties["lines"] as? [String: Any])?["items"] as? [String: Any])?["required"] as? [String]) == ["amount_minor"])
        #expect((properties["flag"] as? [String: Any])?["anyOf"] != nil)
        #expect((properties["ratio"] as? [String: String]) == ["type": "number"])
    }
}
