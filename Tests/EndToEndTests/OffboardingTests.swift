import Banking
import Ledger
import ControlPlane
import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Offboarding")
struct OffboardingTests {
    /// Each exported row of each table with the tenant id taken out, as canonical JSON.
    static func rows(_ archive: TenantArchive) throws -> [String: [String]] {
        var tables: [String: [String]] = [:]
        for table in try archive.verify().tables {
            let text = try String(contentsOf: archive.folder.appendingPathComponent(table.file), encoding: .utf8)
            tables[table.name] = try text.split(separator: "\n").map { line in
                var row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                row.removeValue(forKey: "tenant_id")
                return String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
            }
        }
        return tables
    }

    @Test("offboard exports everything and refuses the tenant; purge waits for retention and a verified export; import restores identical data")
    func exportPurgeImport() async throws {
        let harness = try await Harness.get()
        // PSQLError hides its details from `description`; the reflection names the SQLSTATE if one fails.
        do { try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "off")
            let admin = try await planes.adminToken()
            let (a, b) = (f.members[0], f.members[1])
            func post(_ path: String, _ body: [String: Any], token: String? = nil) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: token ?? f.staffToken, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            // Some history: cash, transfers, a reversal, an active hold, a frozen account, a config change.
            #expect(try await post("/v1/deposits", ["account_id": a.accountID, "amount": 50_000, "currency": "CAD"]).status == .created)
            let moved = try await post("/v1/transfers", ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 1_250, "currency": "CAD"], token: a.token)
            #expect(moved.status == .created)
            #expect(try await post("/v1/journals/\(moved.json["id"] as? String ?? "")/reverse", ["memo": "Sent twice"]).status == .created)
            #expect(try await post("/v1/transfers", ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 300, "currency": "CAD"], token: a.token).status == .created)
            #expect(try await post("/v1/transfers", ["from_account_id": b.accountID, "to_account_id": a.accountID, "amount": 50, "currency": "CAD"], token: b.token).status == .created)
            #expect(try await post("/v1/holds", ["account_id": a.accountID, "amount": 700, "currency": "CAD"]).status == .created)
            #expect(try await planes.data(
                .post, "/v1/accounts/\(b.accountID)/status", token: f.staffToken, tenant: f.slug, json: ["status": "frozen", "reason": "Review"]).status == .ok)
            let config = try await planes.control(.get, "/v1/tenants/\(f.slug)/config", token: admin)
            var document = try #require(config.json["config"] as? [String: Any])
            document["domains"] = ["banking", "remittance"]
            #expect(try await planes.control(
                .put, "/v1/tenants/\(f.slug)/config", token: admin, json: ["config": document, "reason": "Fewer products"],
                headers: [HTTPField.Name("If-Match")!: "\"1\""]).status == .ok)

            // Offboard: refused on the data plane, exported with a manifest of checksums.
            #expect(try await planes.control(.post, "/v1/tenants/\(f.slug)/offboard", token: f.staffToken, json: ["reason": "x"]).status == .forbidden)
            let offboarded = try await planes.control(.post, "/v1/tenants/\(f.slug)/offboard", token: admin, json: ["reason": "Merged into another credit union"])
            #expect(offboarded.status == .ok, "\(offboarded.text)")
            let export = try #require(offboarded.json["export"] as? [String: Any])
            let archive = TenantArchive(folder: URL(fileURLWithPath: try #require(export["path"] as? String), isDirectory: true))
            let manifest = try archive.verify(expectedManifest: export["manifest_sha256"] as? String)
            #expect(Set(manifest.tables.map(\.name)) == Set(harness.catalog.tenantTables) && manifest.files.count == 3)
            #expect(manifest.tables.first { $0.name == "entries" }?.rows == 10)
            var refused: HTTPResponse.Status?
            _ = try await eventually {
                refused = try await planes.data(.get, "/v1/accounts", token: f.staffToken, tenant: f.slug).status
                return refused == .gone
            }
            #expect(refused == .gone)
            #expect(try await planes.control(.post, "/v1/tenants/\(f.slug)/offboard", token: admin, json: ["reason": "again"]).problemCode == "invalid-transition")
            let original = try Self.rows(archive)

            // Import claims a warm schema when the pool has one (as the CLI does), so the restored tenant
            // takes the id that schema is pinned to.
            let claiming = Provisioner(migrator: Migrator(catalog: harness.catalog, logger: harness.logger), poolGroups: harness.poolGroups)
            try await harness.controlPlane(warmPoolSize: 1).warmPool.refill()
            let tools = TenantLifecycleTools(client: harness.owner, provisioner: claiming, projectRoot: harness.root, clock: planes.control.clock, logger: harness.logger)
            let slug = try TenantSlug(f.slug)
            // Not before the retention period; not with an export that does not verify.
            await #expect(throws: TenantLifecycleTools.Refusal.retention(f.slug, remainingDays: 30)) {
                _ = try await tools.purge(slug, retentionDays: 30, actor: "test")
            }
            let file = archive.folder.appendingPathComponent("tables/members.jsonl")
            let intact = try Data(contentsOf: file)
            try (intact + Data("{}\n".utf8)).write(to: file)
            await #expect(throws: TenantLifecycleTools.Refusal.export("tables/members.jsonl does not match its checksum")) {
                _ = try await tools.purge(slug, retentionDays: 0, actor: "test")
            }
            try intact.write(to: file)
            let active = try TenantSlug(try await planes.provisionFixture(prefix: "off_live").slug)
            await #expect(throws: TenantLifecycleTools.Refusal.notOffboarded(active.value)) { _ = try await tools.purge(active, retentionDays: 0, actor: "test") }

            // Purge: role and schema gone; registry, config history and export stay.
            _ = try await tools.purge(slug, retentionDays: 0, actor: "test")
            let gone = try await harness.owner.statement(
                """
                SELECT to_regnamespace(\(slug.schemaName)) IS NULL, NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(slug.roleName)),
                       (SELECT purged_at IS NOT NULL FROM control.tenants WHERE slug = \(f.slug))
                """, logger: harness.logger
            ) { try await $0.first((Bool, Bool, Bool).self) }
            #expect(gone?.0 == true && gone?.1 == true && gone?.2 == true)
            await #expect(throws: TenantLifecycleTools.Refusal.alreadyPurged(f.slug)) { _ = try await tools.purge(slug, retentionDays: 0, actor: "test") }
            // A purged tenant has no schema to migrate: a later rollout passes it by.
            try await harness.owner.statement("UPDATE control.tenants SET schema_version = 1 WHERE slug = \(f.slug)", logger: harness.logger) { _ in }
            #expect(try await Migrator(catalog: harness.catalog, logger: harness.logger).applyTenants(harness.owner, only: [f.slug]).isEmpty)

            // Import into a new tenant: the same rows, balances rebuilt from entries, members log in as before.
            let newSlug = try TenantSlug("\(f.slug)_back")
            let record = try await tools.importArchive(archive, as: newSlug, name: nil, actor: "test")
            #expect(record.slug == newSlug.value)
            let newID = record.id.rawValue
            let again = try await TenantArchive.export(
                tenant: newID, slug: newSlug, tables: harness.catalog.tenantTables,
                into: FileManager.default.temporaryDirectory.appendingPathComponent("nzila-test-exports"), client: harness.owner, logger: harness.logger)
            let restored = try Self.rows(again.0)
            for table in harness.catalog.tenantTables {
                #expect(restored[table] == original[table], "\(table) differs after the round trip")
            }
            let versions = try await harness.owner.statement(
                "SELECT count(*)::int FROM control.tenant_config_versions WHERE tenant_id = \(newID)", logger: harness.logger
            ) { try await $0.first(Int.self) }
            #expect(versions == 2)
            let findings = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await LedgerVerifier().verify(slug: newSlug, tenantID: newID, on: connection, logger: harness.logger)
            }
            #expect(findings.isEmpty, "\(findings)")
            let login = try await planes.data(
                .post, "/v1/auth/login", tenant: newSlug.value, json: ["email": "member0@\(f.slug).test", "password": "member password 0!"])
            #expect(login.status == .ok, "\(login.text)")
            // An archive is a file, and a file can lie: a table name this build does not have is refused before any SQL.
            let forged = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-test-exports/forged-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: archive.folder, to: forged)
            let manifestURL = forged.appendingPathComponent("manifest.json")
            let text = try String(contentsOf: manifestURL, encoding: .utf8)
            try text.replacingOccurrences(of: "\"name\" : \"members\"", with: "\"name\" : \"members (id) VALUES (1); DROP TABLE accounts; --\"")
                .write(to: manifestURL, atomically: true, encoding: .utf8)
            await #expect(throws: TenantArchive.Failure.malformed("the export names a table this build does not have: members (id) VALUES (1); DROP TABLE accounts; --")) {
                _ = try await tools.importArchive(TenantArchive(folder: forged), as: try TenantSlug("\(f.slug)_forged"), name: nil, actor: "test")
            }
        } } catch { Issue.record("\(String(reflecting: error))") }
    }
}
