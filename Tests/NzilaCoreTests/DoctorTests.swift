import NzilaDatabase
import Testing

@Suite("nzila doctor's rules")
struct DoctorRuleTests {
    @Test("PgBouncer in session mode is an error with its fix; transaction mode is fine; an old version warns")
    func pgbouncer() {
        let session = Doctor.pgbouncer(config: ["pool_mode": "session"], version: "PgBouncer 1.18.0")
        #expect(session.count == 1 && session[0].severity == .error && session[0].fix.contains("pool_mode = transaction"))
        #expect(Doctor.pgbouncer(config: ["pool_mode": "transaction"], version: "PgBouncer 1.18.0").isEmpty)
        #expect(Doctor.pgbouncer(config: ["pool_mode": "transaction"], version: "PgBouncer 1.15.0").map(\.severity) == [.warning])
    }

    @Test("a tenant table without forced RLS, with RLS off or without its policy is named; a provisioned one is not")
    func rls() {
        let findings = Doctor.rls([
            ("t_a", "accounts", true, true, true), ("t_a", "members", true, false, true), ("t_b", "journals", false, false, false),
            ("t_b", "entries", true, true, false),
        ])
        #expect(findings.map(\.problem) == [
            "t_a.members does not force row-level security: its owner could read across tenants",
            "t_b.journals has row-level security off: its owner could read across tenants",
            "t_b.entries has no tenant policy: its owner could read across tenants",
        ])
        #expect(findings.allSatisfy { $0.severity == .error && $0.fix.contains("FORCE ROW LEVEL SECURITY") })
    }

    @Test("roles, version, fsync, lock headroom and clock skew")
    func rest() {
        #expect(Doctor.roles([("nzila_app", false, true, true)]).count == 1)
        #expect(Doctor.roles([("nzila_app", false, false, true), ("t_demo_app", false, false, false)]).isEmpty)
        #expect(Doctor.roles([("t_demo_app", false, false, true)]).first?.fix == "ALTER ROLE t_demo_app NOLOGIN NOSUPERUSER NOBYPASSRLS")
        #expect(Doctor.postgres(versionNum: 150_018, settings: ["fsync": "on", "max_locks_per_transaction": "64"], tenants: 10).isEmpty)
        #expect(Doctor.postgres(versionNum: 160_002, settings: ["fsync": "off", "max_locks_per_transaction": "64"], tenants: 900).count == 3)
        #expect(Doctor.clock(databaseSeconds: 100, localSeconds: 101.5).isEmpty && Doctor.clock(databaseSeconds: 100, localSeconds: 105).count == 1)
    }
}
