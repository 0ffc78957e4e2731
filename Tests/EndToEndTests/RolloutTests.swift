import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Synchronization
import Testing

/// Every suite that runs a rollout: one rollout holds the single-runner lock at a time, so they take turns.
@Suite("Rollouts", .serialized)
struct RolloutRuns {}

extension RolloutRuns {
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
            // Released by the server before the next run: closing the connection alone lets the server end
            // that session (and drop its lock) after the client has moved on, a race a busy machine loses.
            let released: Bool? = try await other.query("SELECT pg_advisory_unlock(hashtext('nzila.migrate.apply'))", logger: harness.logger).first(Bool.self)
            #expect(released == true)
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

extension RolloutRuns {
@Suite("Migration rollout, interrupted")
struct RolloutKillTests {
    @Test("kill -9 during nzila migrate apply leaves every tenant whole; a rerun brings all to the latest version")
    func killAndResume() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            var slugs: [String] = []
            for index in 0..<6 { slugs.append(try await planes.provisionFixture(prefix: "kill\(index)").slug) }
            // A project copy whose next tenant migration takes a moment per tenant.
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-kill-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            for folder in ["Migrations", "policies", "TenantTemplates"] {
                try FileManager.default.copyItem(at: harness.root.appendingPathComponent(folder), to: root.appendingPathComponent(folder))
            }
            let latest = harness.catalog.latestTenantVersion
            let name = String(format: "%04d_slow", latest + 1)
            // Two tenants go through; the third waits on an advisory lock this test holds, so the migrator is
            // killed part-way whatever the machine's speed (rather than betting on a sleep per tenant).
            let gateKey = Int32.random(in: 1...Int32.max)
            let quoted = slugs.map { "'\($0)'" }.joined(separator: ",")
            try """
                CREATE TABLE slow_marker AS SELECT pg_advisory_xact_lock(77, \(gateKey)) IS NULL AS waited
                WHERE (SELECT count(*) FROM control.tenants WHERE slug IN (\(quoted)) AND schema_version > \(latest)) >= 2;
                ALTER TABLE members ADD COLUMN marker text;
                """.write(to: root.appendingPathComponent("Migrations/tenant/\(name).sql"), atomically: true, encoding: .utf8)
            let gate = try await harness.directURL.connect(applicationName: "nzila-tests-gate", logger: harness.logger)
            _ = try await gate.query("SELECT pg_advisory_lock(77, \(gateKey)) IS NULL", logger: harness.logger).first(Bool.self)
            let binary = harness.root.appendingPathComponent(".build/debug/nzila")
            try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the nzila executable first")
            let process = Process()
            process.executableURL = binary
            process.arguments = ["migrate", "apply", "--state", root.appendingPathComponent("state").path, "--concurrency", "1", "--waves", "100%",
                                 "--only", slugs.joined(separator: ","), "--json"]
            var environment = ProcessInfo.processInfo.environment
            environment["NZILA_DIRECT_URL"] = ProcessInfo.processInfo.environment["NZILA_TEST_DIRECT_URL"]
            environment["NZILA_PGBOUNCER_URL"] = ProcessInfo.processInfo.environment["NZILA_TEST_PGBOUNCER_URL"]
            environment["NZILA_HOME"] = root.path
            environment["NZILA_LOG_LEVEL"] = "error"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Kill it while it is part-way through: two tenants done, the third waiting at the gate.
            let catalog = try SQLCatalog(root: root)
            func versions() async throws -> [Int] {
                try await harness.owner.statement(
                    "SELECT schema_version FROM control.tenants WHERE slug = ANY(\(slugs)) ORDER BY slug", logger: harness.logger
                ) { try await $0.all(Int.self) }
            }
            let atGate = try await eventually {
                try await harness.owner.statement(
                    """
                    SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid::int8 = 77 AND objid::int8 = \(Int64(gateKey)) AND objsubid = 2)
                    """, logger: harness.logger
                ) { try await $0.first(Bool.self) ?? false }
            }
            #expect(atGate, "the third tenant's migration waits at the gate")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let midway = try await versions()
            #expect(midway.contains(latest) && midway.contains(latest + 1), "killed part-way: \(midway)")
            // Whole or not at all: a tenant has the column exactly when its version says so.
            let whole = try await harness.owner.statement(
                """
                SELECT count(*)::int FROM control.tenants t WHERE t.slug = ANY(\(slugs)) AND (t.schema_version = \(latest + 1)) <> EXISTS (
                    SELECT 1 FROM information_schema.columns c WHERE c.table_schema = 't_' || t.slug AND c.table_name = 'members' AND c.column_name = 'marker')
                """, logger: harness.logger
            ) { try await $0.first(Int.self) }
            #expect(whole == 0)
            // Open the gate: the killed migrator's waiting transaction wakes to a closed client and rolls back.
            try await gate.close()
            // The lock dies with the process's session, which the server ends once it sees the closed socket,
            // after the kill returns: wait for that (a bounded poll), then a rerun starts and finishes.
            let lock = try await harness.directURL.connect(applicationName: "nzila-tests-resume", logger: harness.logger)
            defer { Task { try? await lock.close() } }
            let free = try await eventually {
                let got = try await lock.query("SELECT pg_try_advisory_lock(hashtext('nzila.migrate.apply'))", logger: harness.logger).first(Bool.self) ?? false
                if got { _ = try await lock.query("SELECT pg_advisory_unlock(hashtext('nzila.migrate.apply'))", logger: harness.logger).first(Bool.self) }
                return got
            }
            #expect(free, "the killed migrator's session kept the rollout lock")
            var options = Rollout.Options()
            options.concurrency = 3
            let rerun = try await Rollout(migrator: Migrator(catalog: catalog, logger: harness.logger), options: options, logger: harness.logger)
                .run(client: harness.owner, lockConnection: lock, only: Set(slugs))
            #expect(rerun.failed.isEmpty && !rerun.halted)
            #expect(try await versions() == Array(repeating: latest + 1, count: slugs.count))
        }
    }
}
}

extension RolloutRuns {
@Suite("Non-transactional migrations")
struct NonTransactionalTests {
    @Test("CREATE INDEX CONCURRENTLY runs outside a transaction on existing tenants; a build left INVALID is dropped and redone")
    func concurrentIndex() async throws {
        #expect(Rollout.concurrentIndexName("-- nzila:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS Members_Name ON members (full_name)") == "members_name")
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let good = try await planes.provisionFixture(prefix: "ntx_a").slug
            let bad = try await planes.provisionFixture(prefix: "ntx_b")
            let latest = harness.catalog.latestTenantVersion
            var tenantMigrations = harness.catalog.migrations(.tenant)
            let migration = Migration(kind: .tenant, version: latest + 1, name: "\(latest + 1)_unique_names", sql: """
                -- nzila:no-transaction
                CREATE UNIQUE INDEX CONCURRENTLY members_full_name_unique ON members (full_name);
                """)
            #expect(migration.isNonTransactional && migration.transactionalStatements.allSatisfy { !$0.contains("CONCURRENTLY") })
            tenantMigrations.append(migration)
            let migrator = Migrator(catalog: harness.catalog.replacing(.tenant, with: tenantMigrations), logger: harness.logger)
            // Two members of one tenant share a name: the unique build fails there and leaves an INVALID index.
            try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(bad.tenantID), true)", logger: harness.logger)
                try await connection.query(PostgresQuery(unsafeSQL: "UPDATE t_\(bad.slug).members SET full_name = 'Same Name'"), logger: harness.logger)
            }
            var options = Rollout.Options()
            options.waves = [.percent(100)]
            options.maxFailures = 1
            let lock = try await harness.directURL.connect(applicationName: "nzila-tests-ntx", logger: harness.logger)
            defer { Task { try? await lock.close() } }
            let first = try await Rollout(migrator: migrator, options: options, logger: harness.logger).run(client: harness.owner, lockConnection: lock, only: [good, bad.slug])
            #expect(first.migrated == [good] && first.failed == [bad.slug], "\(first)")
            func index(_ slug: String) async throws -> (Int, Bool?) {
                let rows = try await harness.owner.statement(
                    """
                    SELECT x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                    WHERE i.relname = 'members_full_name_unique' AND i.relnamespace = \("t_\(slug)")::regnamespace
                    """, logger: harness.logger
                ) { try await $0.all(Bool.self) }
                return (rows.count, rows.first)
            }
            #expect(try await index(good) == (1, true))
            #expect(try await index(bad.slug) == (1, false), "the interrupted build is left INVALID")
            // Fix the data; the rerun drops the invalid index, builds it again and moves the version on.
            try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(bad.tenantID), true)", logger: harness.logger)
                try await connection.query(
                    PostgresQuery(unsafeSQL: "UPDATE t_\(bad.slug).members SET full_name = 'Other ' || id::text WHERE email LIKE 'member1%'"), logger: harness.logger)
            }
            let second = try await Rollout(migrator: migrator, options: options, logger: harness.logger).run(client: harness.owner, lockConnection: lock, only: [good, bad.slug])
            #expect(second.migrated == [bad.slug] && second.failed.isEmpty, "\(second)")
            #expect(try await index(bad.slug) == (1, true))
            let versions = try await harness.owner.statement(
                "SELECT schema_version FROM control.tenants WHERE slug = ANY(\([good, bad.slug]))", logger: harness.logger
            ) { try await $0.all(Int.self) }
            #expect(versions == [latest + 1, latest + 1])
        }
    }
}
}
