import Banking
import Ledger
import ControlPlane
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

/// One suite, run serially: it is the only one whose provisioning claims warm schemas, and it counts them.
@Suite("Warm pool and the provisioning barrier", .serialized)
struct WarmPoolTests {
    func warmIDs(_ harness: Harness) async throws -> Set<UUID> {
        Set(try await harness.owner.statement(
            "SELECT id FROM control.warm_schemas WHERE schema_version = \(harness.catalog.latestTenantVersion)", logger: harness.logger
        ) { try await $0.all(UUID.self) })
    }

    /// Refills until the pool holds `count` (another test's refill can hold the refill lock for a moment,
    /// and a refill that finds it taken leaves the work to the holder).
    func fill(_ control: ControlPlane, _ harness: Harness, atLeast count: Int) async throws -> Set<UUID> {
        let filled = try await eventually { () -> Set<UUID>? in
            try await control.warmPool.refill()
            let ids = try await warmIDs(harness)
            return ids.count >= count ? ids : nil
        }
        if let filled { return filled }
        return try await warmIDs(harness)
    }

    @Test("POST /v1/tenants claims a warm schema: same guarantees as a built tenant, no drift, a working ledger, isolation; the pool refills")
    func claim() async throws {
        let harness = try await Harness.get()
        let control = harness.controlPlane(claimWarm: true, warmPoolSize: 2)
        let before = try await fill(control, harness, atLeast: 2)
        #expect(before.count >= 2)
        // A warm schema is exactly what the migrations produce, before any claim.
        let warmNames = Set(before.map { "warm:" + TenantSchemaNames(warm: $0).schema })
        let warmDrift = try await DriftCheck(migrator: Migrator(catalog: harness.catalog, logger: harness.logger), logger: harness.logger)
            .check(client: harness.owner, only: warmNames)
        #expect(!warmDrift.compared.isEmpty && warmDrift.findings.isEmpty, "\(warmDrift.findings)")
        try await harness.withPlanes(control: control) { planes in
            let f = try await planes.provisionFixture(prefix: "warm")
            let id = try #require(UUID(uuidString: f.tenantID))
            #expect(before.contains(id), "the tenant took the id its warm schema was pinned to")
            #expect(try await !warmIDs(harness).contains(id))
            let leftovers = try await harness.owner.statement(
                """
                SELECT (SELECT count(*)::int FROM pg_namespace WHERE nspname = \(TenantSchemaNames(warm: id).schema)),
                       (SELECT count(*)::int FROM pg_roles WHERE rolname = \(TenantSchemaNames(warm: id).role)),
                       (SELECT array_agg(DISTINCT array_to_string(p.proconfig, ','))::text FROM pg_proc p WHERE p.pronamespace = \("t_\(f.slug)")::regnamespace)
                """, logger: harness.logger
            ) { try await $0.first((Int, Int, String?).self) }
            #expect(leftovers?.0 == 0 && leftovers?.1 == 0, "the warm names are gone")
            #expect(leftovers?.2 == "{search_path=t_\(f.slug)}", "every function follows the rename: \(String(describing: leftovers?.2))")
            try await checkFoundation(harness, slug: f.slug, tenantID: f.tenantID)

            // The ledger's triggers (which resolve tables through their pinned search_path) post and balance.
            let (a, b) = (f.members[0], f.members[1])
            let deposit = try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": a.accountID, "amount": 5_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(deposit.status == .created, "\(deposit.text)")
            let transfer = try await planes.data(
                .post, "/v1/transfers", token: a.token, tenant: f.slug,
                json: ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 1_250, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(transfer.status == .created, "\(transfer.text)")
            let findings = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await LedgerVerifier().verify(slug: try TenantSlug(f.slug), tenantID: id, on: connection, logger: harness.logger)
            }
            #expect(findings.isEmpty, "\(findings)")

            // Isolation: a built tenant and the claimed one see nothing of each other.
            let other = try await planes.provisionFixture(prefix: "warmb")
            let across = try await planes.data(.get, "/v1/accounts/\(other.members[0].accountID)", token: a.token, tenant: f.slug)
            #expect(across.status == .notFound)
            let foreign = try await planes.data(.get, "/v1/accounts/\(a.accountID)", token: a.token, tenant: other.slug)
            #expect(foreign.status == .unauthorized || foreign.status == .forbidden || foreign.status == .notFound, "\(foreign.status)")

            // The pool tops itself up at this build's version.
            #expect(try await fill(control, harness, atLeast: 2).count >= 2)
        }
    }

    @Test("a claim that fails after any step leaves no tenant and puts the warm schema back as it was", arguments: ProvisioningStep.allCases)
    func failedClaim(step: ProvisioningStep) async throws {
        struct Injected: Error {}
        let harness = try await Harness.get()
        let control = harness.controlPlane(claimWarm: true, warmPoolSize: 1, afterStep: { if $0 == step { throw Injected() } })
        let before = try await fill(control, harness, atLeast: 1)
        try #require(!before.isEmpty)
        let slug = try TenantSlug("warmfail_\(step.rawValue.lowercased())_\(UUID().uuidString.prefix(6).lowercased())")
        let template = try TenantTemplate.load(named: "default", from: harness.root, tenantName: "Doomed")
        await #expect(throws: Injected.self) {
            try await harness.owner.transaction(logger: harness.logger) { connection in
                _ = try await control.provisioner.provision(id: UUID(), slug: slug, name: "Doomed", template: template, on: connection, logger: harness.logger)
            }
        }
        // Each schema that was in the pool is still there under its warm name, unless another test's
        // import (which also claims) made a registered tenant of it meanwhile.
        let state = try await harness.owner.statement(
            """
            SELECT (SELECT count(*)::int FROM pg_roles WHERE rolname = \(slug.roleName)),
                   (SELECT count(*)::int FROM pg_namespace WHERE nspname = \(slug.schemaName)),
                   (SELECT count(*)::int FROM control.tenants WHERE slug = \(slug.value)),
                   (SELECT count(*)::int FROM unnest(\(Array(before))::uuid[]) AS b (id)
                    WHERE (EXISTS (SELECT 1 FROM control.warm_schemas w WHERE w.id = b.id)
                           AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'nzila_warm_' || replace(b.id::text, '-', '')))
                       OR EXISTS (SELECT 1 FROM control.tenants t WHERE t.id = b.id))
            """, logger: harness.logger
        ) { try await $0.first((Int, Int, Int, Int).self) }
        #expect(state?.0 == 0 && state?.1 == 0 && state?.2 == 0 && state?.3 == before.count, "the claimed schema is back in the pool: \(String(describing: state))")
    }

    @Test("a build older than the fleet's recorded version provisions nothing and says why")
    func olderBuildRefuses() async throws {
        let harness = try await Harness.get()
        let control = harness.controlPlane()
        let slug = try TenantSlug("aheadref_\(UUID().uuidString.prefix(6).lowercased())")
        let template = try TenantTemplate.load(named: "default", from: harness.root, tenantName: "Too Late")
        // The fleet's version is raised inside this transaction only, so no other test sees it.
        let error = await #expect(throws: Problem.self) {
            try await harness.owner.transaction(logger: harness.logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO control.fleet_version (tenant_schema_version) VALUES (\(harness.catalog.latestTenantVersion + 1))
                    ON CONFLICT (singleton) DO UPDATE SET tenant_schema_version = EXCLUDED.tenant_schema_version
                    """, logger: harness.logger)
                _ = try await control.provisioner.provision(id: UUID(), slug: slug, name: "Too Late", template: template, on: connection, logger: harness.logger)
            }
        }
        #expect(error?.status == .serviceUnavailable && error?.code == "schema-version-ahead", "\(String(describing: error))")
    }
}

extension RolloutRuns {
    @Suite("Provisioning during a rollout")
    struct MidRolloutTests {
        @Test("a tenant whose provisioning is in flight when a rollout ends is migrated by that rollout before it lets go")
        func createdMidRollout() async throws {
            let harness = try await Harness.get()
            try await harness.withPlanes { planes in
                let existing = try await planes.provisionFixture(prefix: "midr").slug
                let late = try TenantSlug("midr_late_\(UUID().uuidString.prefix(6).lowercased())")
                let latest = harness.catalog.latestTenantVersion
                var tenantMigrations = harness.catalog.migrations(.tenant)
                tenantMigrations.append(Migration(kind: .tenant, version: latest + 1, name: "\(latest + 1)_motto", sql: """
                    ALTER TABLE members ADD COLUMN motto text;
                    """))
                let migrator = Migrator(catalog: harness.catalog.replacing(.tenant, with: tenantMigrations), logger: harness.logger)
                let lock = try await harness.directURL.connect(applicationName: "nzila-tests-midrollout", logger: harness.logger)
                defer { Task { try? await lock.close() } }
                let lockPID = try await lock.query("SELECT pg_backend_pid()", logger: harness.logger).first(Int32.self)
                let template = try TenantTemplate.load(named: "default", from: harness.root, tenantName: "Late CU")
                // This build provisions at the old version; its transaction is open when the rollout reaches its last pass.
                let rollout = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                    _ = try await planes.control.provisioner.provision(id: UUID(), slug: late, name: "Late CU", template: template, on: connection, logger: harness.logger)
                    let task = Task {
                        try await Rollout(migrator: migrator, options: Rollout.Options(), logger: harness.logger)
                            .run(client: harness.owner, lockConnection: lock, only: [existing, late.value])
                    }
                    // Commit only once the rollout waits for this provisioning at the barrier.
                    let waiting = try await eventually {
                        try await harness.owner.statement(
                            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = \(lockPID))", logger: harness.logger
                        ) { try await $0.first(Bool.self) ?? false }
                    }
                    #expect(waiting, "the rollout's last pass waits for provisioning in flight")
                    return task
                }
                let summary = try await rollout.value
                #expect(summary.failed.isEmpty && Set(summary.migrated) == [existing, late.value], "\(summary)")
                let versions = try await harness.owner.statement(
                    "SELECT schema_version FROM control.tenants WHERE slug = ANY(\([existing, late.value]))", logger: harness.logger
                ) { try await $0.all(Int.self) }
                #expect(versions == [latest + 1, latest + 1])
            }
        }
    }
}
