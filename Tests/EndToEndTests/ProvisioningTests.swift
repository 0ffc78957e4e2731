import ControlPlane
import Foundation
import HummingbirdTesting
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Provisioning a tenant")
struct ProvisioningTests {
    @Test("creates role, schema, tables with forced RLS, grants, config, ledger accounts and the registry row")
    func provisionsEverything() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let fixture = try await planes.provisionFixture(prefix: "prov")
            try await checkFoundation(harness, slug: fixture.slug, tenantID: fixture.tenantID)
        }
    }

    @Test("a failure after any step leaves no role, schema or registry row", arguments: ProvisioningStep.allCases)
    func failureLeavesNothing(step: ProvisioningStep) async throws {
        struct Injected: Error {}
        let harness = try await Harness.get()
        let control = harness.controlPlane(afterStep: { if $0 == step { throw Injected() } })
        let slug = try TenantSlug("fail_\(step.rawValue.lowercased())_\(UUID().uuidString.prefix(6).lowercased())")
        let template = try TenantTemplate.load(named: "default", from: harness.root, tenantName: "Doomed")
        await #expect(throws: (any Error).self) {
            try await harness.owner.withTransaction(logger: harness.logger) { connection in
                _ = try await control.provisioner.provision(
                    id: UUID(), slug: slug, name: "Doomed", template: template, on: connection, logger: harness.logger)
            }
        }
        let leftovers = try await harness.owner.statement(
            """
            SELECT (SELECT count(*)::int FROM pg_roles WHERE rolname = \(slug.roleName)),
                   (SELECT count(*)::int FROM pg_namespace WHERE nspname = \(slug.schemaName)),
                   (SELECT count(*)::int FROM control.tenants WHERE slug = \(slug.value))
            """, logger: harness.logger
        ) { try await $0.first((Int, Int, Int).self) }
        #expect(leftovers?.0 == 0 && leftovers?.1 == 0 && leftovers?.2 == 0, "left behind after \(step): \(String(describing: leftovers))")
    }

    @Test("Idempotency-Key: replays the first response, refuses another body, and a second key for the slug is a 409")
    func idempotency() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let admin = try await planes.adminToken()
            let slug = "idem_\(UUID().uuidString.prefix(8).lowercased())"
            let key = UUID().uuidString
            let body = ["slug": slug, "name": "Idempotent CU"]
            let first = try await planes.control(.post, "/v1/tenants", token: admin, json: body, headers: [.idempotencyKey: key])
            #expect(first.status == .created)
            let again = try await planes.control(.post, "/v1/tenants", token: admin, json: body, headers: [.idempotencyKey: key])
            #expect(again.status == .created)
            #expect(again.body == first.body)
            #expect(again.headers[.idempotentReplayed] == "true")
            let other = try await planes.control(
                .post, "/v1/tenants", token: admin, json: ["slug": slug, "name": "Other"], headers: [.idempotencyKey: key])
            #expect(other.status == .unprocessableContent)
            #expect(other.problemCode == "idempotency-key-reused")
            let newKey = try await planes.control(.post, "/v1/tenants", token: admin, json: body, headers: [.idempotencyKey: UUID().uuidString])
            #expect(newKey.status == .conflict)
            #expect(newKey.problemCode == "tenant-exists")
            let missing = try await planes.control(.post, "/v1/tenants", token: admin, json: ["slug": "nokey_\(slug.suffix(6))", "name": "x"])
            #expect(missing.status == .badRequest)
            #expect(missing.problemCode == "idempotency-key-required")
        }
    }

    @Test("concurrent duplicates of one key provision once and answer alike")
    func concurrentDuplicates() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let admin = try await planes.adminToken()
            let slug = "dup_\(UUID().uuidString.prefix(8).lowercased())"
            let key = UUID().uuidString
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await planes.control(.post, "/v1/tenants", token: admin, json: ["slug": slug, "name": "Dup"], headers: [.idempotencyKey: key])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .created })
            #expect(Set(replies.map(\.body)).count == 1)
            #expect(replies.filter { $0.headers[.idempotentReplayed] == nil }.count == 1)
        }
    }

    @Test("several tenants provisioned at once all succeed")
    func concurrentTenants() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let admin = try await planes.adminToken()
            let statuses = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let slug = "par\(index)_\(UUID().uuidString.prefix(8).lowercased())"
                        let reply = try await planes.control(
                            .post, "/v1/tenants", token: admin, json: ["slug": slug, "name": "Parallel \(index)"],
                            headers: [.idempotencyKey: UUID().uuidString])
                        return "\(reply.status.code) \(reply.status == .created ? "" : reply.text)"
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0.hasPrefix("201") }, "\(statuses)")
        }
    }

    @Test("tenants can be listed with a cursor and read one by one")
    func listAndGet() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let admin = try await planes.adminToken()
            var slugs: [String] = []
            for _ in 0..<3 {
                let slug = "list_\(UUID().uuidString.prefix(8).lowercased())"
                slugs.append(slug)
                let reply = try await planes.control(.post, "/v1/tenants", token: admin, json: ["slug": slug, "name": "L", "template": "minimal"],
                    headers: [.idempotencyKey: UUID().uuidString])
                #expect(reply.status == .created)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let reply = try await planes.control(.get, "/v1/tenants?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: admin)
                #expect(reply.status == .ok)
                let data = try #require(reply.json["data"] as? [[String: Any]])
                #expect(data.count <= 2)
                seen += data.compactMap { $0["slug"] as? String }
                cursor = reply.json["next_cursor"] as? String
            } while cursor != nil
            #expect(Set(slugs).isSubset(of: Set(seen)))
            #expect(seen.count == Set(seen).count, "a tenant appeared on two pages")
            let one = try await planes.control(.get, "/v1/tenants/\(slugs[0])", token: admin)
            #expect(one.status == .ok && one.json["template"] as? String == "minimal")
        }
    }
}

/// Every guarantee of a provisioned tenant, however it was made (built or claimed from the warm pool):
/// exactly the migrations' tables, RLS enabled and forced with one policy each and no escape hatch,
/// grants to its role and nothing more, the registry row at the latest version, the audit entry, the
/// configuration and the credit union's own accounts, and no drift from what the migrations produce.
func checkFoundation(_ harness: Harness, slug: String, tenantID: String) async throws {
    let schema = "t_\(slug)"
    let role = "\(schema)_app"
    let owner = harness.owner
    let tables = try await owner.statement(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = \(schema) AND c.relkind = 'r' ORDER BY 1
        """, logger: harness.logger
    ) { try await $0.all((String, Bool, Bool).self) }
    #expect(Set(tables.map(\.0)) == Set(harness.catalog.tenantTables))
    #expect(tables.count >= 7)
    for (table, enabled, forced) in tables {
        #expect(enabled, "RLS not enabled on \(table)")
        #expect(forced, "RLS not forced on \(table)")
    }
    let policies = try await owner.statement(
        "SELECT tablename::text, qual, with_check FROM pg_policies WHERE schemaname = \(schema)", logger: harness.logger
    ) { try await $0.all((String, String?, String?).self) }
    #expect(policies.count == tables.count)
    for (table, qual, check) in policies {
        let using = try #require(qual)
        #expect(using.contains("SELECT (current_setting('app.tenant_id'::text))::uuid"), "policy on \(table) reads the setting per row: \(using)")
        #expect(!using.uppercased().contains(" OR "), "policy on \(table) has an escape hatch")
        #expect(check == using)
    }
    let grants = try await owner.statement(
        """
        SELECT has_schema_privilege(\(role), \(schema), 'USAGE'), has_schema_privilege(\(role), 'reference', 'USAGE'),
               has_schema_privilege(\(role), 'control', 'USAGE'), has_schema_privilege(\(role), 'public', 'CREATE'),
               has_table_privilege(\(role), 'reference.currencies', 'SELECT'),
               has_table_privilege(\(role), 'reference.currencies', 'INSERT'),
               has_table_privilege(\(role), \(schema + ".entries"), 'UPDATE'),
               pg_has_role('nzila_app', \(role), 'MEMBER'),
               (SELECT rolcanlogin FROM pg_roles WHERE rolname = \(role))
        """, logger: harness.logger
    ) { try await $0.first((Bool, Bool, Bool, Bool, Bool, Bool, Bool, Bool, Bool).self) }
    let g = try #require(grants)
    #expect(g.0 && g.1 && g.4 && g.7)
    #expect(!g.2 && !g.3 && !g.5 && !g.6 && !g.8)
    let registry = try await owner.statement(
        "SELECT schema_version, status, template FROM control.tenants WHERE slug = \(slug)", logger: harness.logger
    ) { try await $0.first((Int, String, String).self) }
    #expect(registry?.0 == harness.catalog.latestTenantVersion)
    #expect(registry?.1 == "active" && registry?.2 == "default")
    let audited = try await owner.statement(
        "SELECT count(*)::int FROM control.audit_log WHERE action = 'tenant.create' AND target = \("tenant:" + slug)",
        logger: harness.logger
    ) { try await $0.first(Int.self) }
    #expect(audited == 1)
    let counts = try await owner.withTransaction(logger: harness.logger) { connection in
        try await connection.query(
            "SELECT set_config('app.tenant_id', \(tenantID), true)", logger: harness.logger)
        return try await connection.query(
            """
            SELECT (SELECT count(*)::int FROM \(unescaped: schema).tenant_config),
                   (SELECT count(*)::int FROM \(unescaped: schema).accounts WHERE member_id IS NULL),
                   (SELECT value->>'display_name' FROM \(unescaped: schema).tenant_config WHERE key = 'branding')
            """, logger: harness.logger
        ).first((Int, Int, String).self)
    }
    #expect(counts?.0 == 5, "branding, domains, fees, kyc_limits and the default template's compliance section")
    #expect(counts?.1 == Provisioner.systemAccountKinds.count)
    #expect(counts?.2 == "Fixture \(slug)")
    let drift = try await DriftCheck(migrator: Migrator(catalog: harness.catalog, logger: harness.logger), logger: harness.logger)
    .check(client: harness.owner, only: [slug])
    #expect(drift.compared == [slug] && drift.findings.isEmpty, "\(drift.findings)")
}
