import NzilaCore
import Testing

@Suite("Tenant slugs")
struct SlugTests {
    @Test(arguments: ["demo", "abc", "cu_toronto_1", "a" + String(repeating: "b", count: 39), "x1_"])
    func valid(slug: String) throws {
        let parsed = try TenantSlug(slug)
        #expect(parsed.schemaName == "t_\(slug)")
        #expect(parsed.roleName == "t_\(slug)_app")
    }

    @Test(arguments: [
        "ab", "Demo", "1abc", "_abc", "a-b-c", "a b", "a" + String(repeating: "b", count: 40), "", "abc;drop", "été", "abc\u{0}",
    ])
    func badShape(slug: String) {
        #expect(throws: TenantSlug.Invalid.format) { try TenantSlug(slug) }
    }

    @Test(arguments: ["admin", "public", "postgres", "control", "reference", "www", "api"])
    func reserved(slug: String) {
        #expect(throws: TenantSlug.Invalid.reserved) { try TenantSlug(slug) }
    }
}
