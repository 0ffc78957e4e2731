import DataPlane
import Testing

@Suite("Tenant address from the Host header")
struct TenantAddressTests {
    @Test(arguments: [
        ("demo.localhost", TenantAddress.slug("demo")),
        ("demo.localhost:8081", .slug("demo")),
        ("DEMO.LOCALHOST", .slug("demo")),
        ("localhost", .none),
        ("localhost:8081", .none),
        ("127.0.0.1:8081", .none),
        ("[::1]:8081", .none),
        ("", .none),
        ("bank.example.org", .domain("bank.example.org")),
        ("a.b.localhost", .domain("a.b.localhost")),
    ])
    func resolves(host: String, expected: TenantAddress) {
        #expect(TenantAddress.fromHost(host, baseDomain: "localhost") == expected)
    }

    @Test func missingHost() {
        #expect(TenantAddress.fromHost(nil, baseDomain: "nzila.test") == .none)
        #expect(TenantAddress.fromHost("cu1.nzila.test", baseDomain: "nzila.test") == .slug("cu1"))
    }
}
