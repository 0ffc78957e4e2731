import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Synchronization
import Testing

@Suite("Migration rollout")
struct RolloutTests {
    @Test("waves end at a count, then percentages of what is behind, then everything")
    func waveEnds() {
        let waves: [Rollout.Wave] = [.count(1), .percent(10), .percent(100)]
        #expect(Rollout.waveEnds(waves, total: 50) == [1, 5, 50])
        #expect(Rollout.waveEnds(waves, total: 1) == [1])
        #expect(Rollout.waveEnds(waves, total: 0) == [])
        #expect(Rollout.waveEnds([.count(5), .percent(10)], total: 20) == [5, 20])
        #expect(Rollout.Wave("10%") == .percent(10) && Rollout.Wave("3") == .count(3) && Rollout.Wave("0") == nil && Rollout.Wave("101%") == nil)
    }

    @Test("a tenant whose migration fails stays whole at its old version, its wave finishes, the budget halts the rest; one apply at a time")
    func failingTenant() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            var slugs: [String] = []
            for prefix in ["rolla", "rollb", "rollc", "rolld", "rolle"] { slugs.append(try await planes.provisionFixture(prefix: prefix).slug) }
            let bad = slugs[2]
            let latest = harness.catalog.latestTenantVersion
            var tenantMigrations = harness.catalog.migrations(.tenant)
            tenantMigrations.append(Migration(kind: .tenant, version: latest + 1, name: "\(latest + 1)_nickname", sql: """
                ALTER TABLE members ADD COLUMN greeting text NOT NULL DEFAULT 'Hello';
                ALTER TABLE members ADD COLUMN nickname text DEFAULT (1 / (CASE WHEN current_setting('search_path') = 't_\(bad)' THEN 0 ELSE 1 END))::text;
                """))
            let migrator = Migrator(catalog: harness.catalog.replacing(.tenant, with: tenantMigrations), logger: harness.logger)
            var options = Rollout.Options()
            options.concurrency = 2
            options.waves = [.count(1), .count(3), .percent(100)]
            let events = Mutex<[String]>([])
            let lock = try await harness.directURL.connect(applicationName: "nzila-tests-rollout", logger: harness.logger)
            defer { Task { try? await lock.close() } }

            // Another apply holds the lock: this one refuses to start.
            let other = try await harness.directURL.connect(applicationName: "nzila-tests-rollout-other", logger: harness.logger)
            let held: Bool? = try await other.query("SELECT pg_try_advisory_lock(hashtext('nzila.migrate.apply'))", logger: harness.logger).first(Bool.self)
            #expect(held == true)
            await #expect(throws: Rollout.Refusal.alreadyRunning) {
                _ = try await Rollout(migrator: migrator, options: options, logger: harness.logger).run(client: harness.owner, lockConnection: lock, only: Set(slugs))
            }
            try await other.close()

            let summary = try await Rollout(migrator: migrator, options: options, logger: harness.logger).run(
                client: harness.owner, lockConnection: lock, only: Set(slugs),
                report: { event in events.withLock { $0.append("\(event)") } })
            // Canary (a), then a wave of b and c: c fails, b is done, and the budget (0) stops d and e.
            #expect(events.withLock { $0 }.filter { $0.hasPrefix("failed(") }.count == 1, "\(events.withLock { $0 })")
            #expect(summary.halted && summary.failed == [bad] && Set(summary.migrated) == [slugs[0], slugs[1]], "\(summary)")
            let versions = try await harness.owner.statement(
                """
                SELECT t.slug, t.schema_version, EXISTS (SELECT 1 FROM information_schema.columns c
                    WHERE c.table_schema = 't_' || t.slug AND c.table_name = 'members' AND c.column_name = 'nickname')
                FROM control.tenants t WHERE t.slug = ANY(\(slugs)) ORDER BY t.slug
                """, logger: harness.logger
            ) { try await $0.all((String, Int, Bool).self) }
            #expect(versions.map(\.1) == [latest + 1, latest + 1, latest, latest, latest], "\(versions)")
            #expect(versions.map(\.2) == [true, true, false, false, false], "the failed tenant keeps no part of the migration")
            let failure = try await harness.owner.statement(
                "SELECT f.error FROM control.tenant_migration_failures f JOIN control.tenants t ON t.id = f.tenant_id WHERE t.slug = \(bad)",
                logger: harness.logger
            ) { try await $0.first(String.self) }
            #expect(failure?.hasPrefix("22012") == true, "\(failure ?? "no failure recorded")")

            // A rerun with a budget of one finishes the others; the broken tenant fails again, alone.
            options.maxFailures = 1
            let rerun = try await Rollout(migrator: migrator, options: options, logger: harness.logger).run(client: harness.owner, lockConnection: lock, only: Set(slugs))
            #expect(!rerun.halted && rerun.failed == [bad] && Set(rerun.migrated) == [slugs[3], slugs[4]], "\(rerun)")
            #expect(events.withLock { $0 }.contains { $0.contains("halted") })
        }
    }
}

@Suite("Schema drift")
struct DriftTests {
    @Test("a tenant as provisioned has no drift; hand changes to columns, indexes, RLS, policies and grants are each named")
    func drift() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "drift")
            let check = DriftCheck(migrator: Migrator(catalog: harness.catalog, logger: harness.logger), logger: harness.logger)
            let clean = try await check.check(client: harness.owner, only: [f.slug])
            #expect(clean.compared == [f.slug] && clean.findings.isEmpty, "\(clean.findings)")
            let schema = "t_\(f.slug)"
            for sql in [
                "ALTER TABLE \(schema).members ADD COLUMN shadow text",
                "DROP INDEX \(schema).members_created",
                "ALTER TABLE \(schema).holds NO FORCE ROW LEVEL SECURITY",
                "GRANT DELETE ON \(schema).entries TO \(schema)_app",
                "ALTER TABLE \(schema).accounts ALTER COLUMN name DROP NOT NULL",
            ] {
                try await harness.owner.statement(PostgresQuery(unsafeSQL: sql), logger: harness.logger) { _ in }
            }
            let found = try await check.check(client: harness.owner, only: [f.slug]).findings
            let named = Set(found.map { "\($0.kind.rawValue) \($0.object)" })
            #expect(named == [
                "unexpected column members.shadow", "missing index members_created", "changed table holds", "changed grant entries to <role>",
                "changed column accounts.name",
            ], "\(found)")
        }
    }
}
