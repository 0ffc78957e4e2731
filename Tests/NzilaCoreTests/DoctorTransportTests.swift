import NzilaCore
import NzilaDatabase
import Testing

@Suite("Doctor: transport and keys")
struct DoctorTransportTests {
    @Test("a database beyond loopback without verify-full is named with its fix; loopback and verified ones are not")
    func transport() throws {
        let urls: [(setting: String, url: DatabaseURL)] = [
            ("NZILA_DIRECT_URL", try #require(DatabaseURL("postgres://o:pw@db.internal:5432/nzila"))),
            ("NZILA_PGBOUNCER_URL", try #require(DatabaseURL("postgres://a:pw@bouncer.internal:6432/nzila?sslmode=require"))),
            ("NZILA_LISTEN_URL", try #require(DatabaseURL("postgres://a:pw@db.internal:5432/nzila?sslmode=verify-full&sslrootcert=system"))),
            ("local", try #require(DatabaseURL("postgres://a:pw@127.0.0.1:5432/nzila"))),
        ]
        let findings = Doctor.transport(urls)
        #expect(findings.map(\.problem) == [
            "NZILA_DIRECT_URL reaches db.internal with sslmode=disable: the connection is not encrypted",
            "NZILA_PGBOUNCER_URL reaches bouncer.internal with sslmode=require: the connection is encrypted but the server is not fully verified",
        ])
        #expect(findings.allSatisfy { $0.severity == .warning && $0.fix.contains("sslmode=verify-full") && !$0.problem.contains("pw") })
    }

    @Test("a master key on the machine is a warning pointing at a key service; a missing platform key says what starts it")
    func keys() {
        let local = Doctor.keys(LocalKeyProvider(current: .hex(String(repeating: "ab", count: 32))), platformKey: false)
        #expect(local.count == 2 && local[0].fix.contains("NZILA_KEY_PROVIDER=vault") && local[1].problem.contains("no platform key"))
        #expect(!local[0].problem.contains("abab"), "the key itself is never printed")
    }
}
