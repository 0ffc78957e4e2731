import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test("a new tenant migration reaches the tenant, its new table gets forced RLS and grants, and the registry records it")
    func upgradesATenant() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let fixture = try await planes.provisionFixture(prefix: "mig")
            let latest = harness.catalog.latestTenantVersion
            var tenantMigrations = harness.catalog.migrations(.tenant)
            tenantMigrations.append(Migration(kind: .tenant, version: latest + 1, name: "\(latest + 1)_notes", sql: """
                CREATE TABLE member_notes (
                    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
                    id uuid PRIMARY KEY, body text NOT NULL);
                ALTER TABLE members ADD COLUMN preferred_language text;
                """))
            let staged = harness.catalog.replacing(.tenant, with: tenantMigrations)
            let migrator = Migrator(catalog: staged, logger: harness.logger)
            let upgraded = try await migrator.applyTenants(harness.owner, only: [fixture.slug])
            #expect(upgraded == [fixture.slug])
            #expect(try await migrator.applyTenants(harness.owner, only: [fixture.slug]).isEmpty, "a second run must do nothing")
            let schema = "t_\(fixture.slug)"
            let check = try await harness.owner.statement(
                """
                SELECT c.relrowsecurity AND c.relforcerowsecurity,
                       has_table_privilege(\(schema + "_app"), \(schema + ".member_notes"), 'INSERT'),
                       (SELECT schema_version FROM control.tenants WHERE slug = \(fixture.slug)),
                       EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = c.oid AND conname = 'tenant_pinned')
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = \(schema) AND c.relname = 'member_notes'
                """, logger: harness.logger
            ) { try await $0.first((Bool, Bool, Int, Bool).self) }
            #expect(check?.0 == true && check?.1 == true && check?.2 == latest + 1 && check?.3 == true)
            // The tenant still serves requests after the upgrade.
            let reply = try await planes.data(.get, "/v1/members", token: fixture.staffToken, tenant: fixture.slug)
            #expect(reply.status == .ok)
        }
    }

    @Test("an applied global migration edited afterwards is refused as drift")
    func detectsDrift() async throws {
        let harness = try await Harness.get()
        var control = harness.catalog.migrations(.control)
        let first = control[0]
        control[0] = Migration(kind: .control, version: first.version, name: first.name, sql: first.sql + "\n-- edited")
        let edited = harness.catalog.replacing(.control, with: control)
        await #expect(throws: (any Error).self) { try await Migrator(catalog: edited, logger: harness.logger).applyGlobal(harness.owner) }
        let status = try await Migrator(catalog: harness.catalog, logger: harness.logger).globalStatus(harness.owner)
        #expect(status.allSatisfy { $0.applied })
        // A released tenant migration edited afterwards is refused the same way, naming it.
        var tenant = harness.catalog.migrations(.tenant)
        tenant[0] = Migration(kind: .tenant, version: tenant[0].version, name: tenant[0].name, sql: tenant[0].sql + "\n-- edited")
        await #expect(throws: Migrator.Drift(migration: "tenant/\(tenant[0].name)")) {
            try await Migrator(catalog: harness.catalog.replacing(.tenant, with: tenant), logger: harness.logger).applyGlobal(harness.owner)
        }
    }
}

@Suite("Idempotency key retention")
struct PurgeTests {
    @Test("keys older than 24 hours are purged from control and tenant schemas; younger ones stay")
    func purges() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "purge")
            for age in ["25 hours", "1 hour"] {
                let reply = try await planes.data(
                    .post, "/v1/deposits", token: f.staffToken, tenant: f.slug,
                    json: ["account_id": f.members[0].accountID, "amount": 100, "currency": "CAD"], headers: [.idempotencyKey: "age-\(age)"])
                #expect(reply.status == .created)
                try await harness.owner.withTransaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    try await connection.query(
                        "UPDATE \(unescaped: "t_\(f.slug)").idempotency_keys SET created_at = now() - \(age)::interval WHERE key = \("age-\(age)")",
                        logger: harness.logger)
                }
            }
            let deleted = try await IdempotencyPurger(client: harness.owner, clock: .system, logger: harness.logger).purgeOnce()
            #expect(deleted >= 1)
            let left = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                return try await connection.query(
                    "SELECT key FROM \(unescaped: "t_\(f.slug)").idempotency_keys WHERE key LIKE 'age-%' ORDER BY key", logger: harness.logger
                ).all(String.self)
            }
            #expect(left == ["age-1 hour"])
        }
    }
}
