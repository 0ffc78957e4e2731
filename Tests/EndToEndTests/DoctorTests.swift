import Foundation
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("nzila doctor against the real stack")
struct DoctorEndToEndTests {
    @Test("a tenant table whose RLS is no longer forced is found and named; the test stack's PgBouncer pools by transaction")
    func findsUnforcedRLS() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "doc")
            let schema = "t_\(f.slug)"
            #expect(Doctor.rls(try await Doctor.tenantTables(harness.owner, logger: harness.logger)).filter { $0.problem.hasPrefix("\(schema).") }.isEmpty)
            try await harness.owner.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(schema).holds NO FORCE ROW LEVEL SECURITY"), logger: harness.logger)
            let found = Doctor.rls(try await Doctor.tenantTables(harness.owner, logger: harness.logger)).filter { $0.problem.hasPrefix("\(schema).") }
            try await harness.owner.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(schema).holds FORCE ROW LEVEL SECURITY"), logger: harness.logger)
            #expect(found.map(\.problem) == ["\(schema).holds does not force row-level security: its owner could read across tenants"])

            let bouncer = Doctor.pgbouncer(host: harness.bouncerURL.host, port: harness.bouncerURL.port, user: harness.directURL.user, password: harness.directURL.password)
            #expect(bouncer.isEmpty, "\(bouncer)")
        }
    }
}
