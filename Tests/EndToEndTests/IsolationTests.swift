import Foundation
import HummingbirdTesting
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Tenant isolation")
struct IsolationTests {
    @Test("2,000 requests from 8 concurrent clients alternating tenants never see the other tenant's data")
    func concurrentRequestsStayInTheirTenant() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let a = try await planes.provisionFixture(prefix: "iso_a")
            let b = try await planes.provisionFixture(prefix: "iso_b")
            let accounts = [a.slug: Set(a.members.map(\.accountID)), b.slug: Set(b.members.map(\.accountID))]
            let fixtures = [a, b]
            let clients = 8
            let perClient = 250
            let violations = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var problems: [String] = []
                        for request in 0..<perClient {
                            let fixture = fixtures[(client + request) % 2]
                            let other = fixtures[(client + request + 1) % 2]
                            let useStaff = request % 3 == 0
                            let member = fixture.members[request % 2]
                            let reply = try await planes.data(
                                .get, useStaff ? "/v1/accounts?limit=200" : "/v1/accounts/\(member.accountID)",
                                token: useStaff ? fixture.staffToken : member.token, tenant: fixture.slug)
                            if reply.status != .ok { problems.append("\(fixture.slug) \(reply.status): \(reply.text)") }
                            for id in accounts[other.slug]! where reply.text.contains(id) {
                                problems.append("\(fixture.slug) saw \(other.slug)'s account \(id)")
                            }
                            let rows = useStaff ? (reply.json["data"] as? [[String: Any]] ?? []) : [reply.json]
                            let ids = Set(rows.compactMap { $0["id"] as? String })
                            if useStaff {
                                // Staff see their members' accounts and the credit union's own, never another tenant's.
                                if !accounts[fixture.slug]!.isSubset(of: ids) { problems.append("\(fixture.slug) staff list misses own accounts") }
                            } else if ids != [member.accountID] {
                                problems.append("\(fixture.slug) member got \(ids)")
                            }
                        }
                        return problems
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("a token for tenant A sent with X-Tenant of tenant B is refused")
    func tokenForAnotherTenant() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let a = try await planes.provisionFixture(prefix: "tok_a")
            let b = try await planes.provisionFixture(prefix: "tok_b")
            let memberReply = try await planes.data(.get, "/v1/accounts", token: a.members[0].token, tenant: b.slug)
            #expect(memberReply.status == .forbidden)
            let staffReply = try await planes.data(.get, "/v1/members", token: a.staffToken, tenant: b.slug)
            #expect(staffReply.status == .forbidden)
            let byID = try await planes.data(.get, "/v1/accounts/\(a.members[0].accountID)", token: b.staffToken, tenant: b.slug)
            #expect(byID.status == .notFound)
        }
    }

    @Test("in SQL, a tenant role cannot reach another schema, nor other tenants' rows with a forged search_path or app.tenant_id")
    func sqlLevelIsolation() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let a = try await planes.provisionFixture(prefix: "sql_a")
            let b = try await planes.provisionFixture(prefix: "sql_b")
            let client = harness.groups[0]
            let logger = harness.logger
            // Runs one statement as tenant A's role, with whatever settings the attacker chose.
            func asTenantA(searchPath: String, tenantID: String, _ sql: String) async throws -> Int {
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query(
                        """
                        SELECT set_config('role', \("t_\(a.slug)_app"), true), set_config('search_path', \(searchPath), true),
                               set_config('app.tenant_id', \(tenantID), true)
                        """, logger: logger)
                    return try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).first(Int.self) ?? -1
                }
            }
            func sqlState(_ body: () async throws -> Int) async -> String? {
                do {
                    _ = try await body()
                    return nil
                } catch {
                    return DatabaseErrors.sqlState(error)
                }
            }
            // Another tenant's schema is unreachable, qualified or through search_path.
            #expect(await sqlState { try await asTenantA(searchPath: "t_\(a.slug)", tenantID: a.tenantID, "SELECT count(*)::int FROM t_\(b.slug).accounts") } == "42501")
            #expect(await sqlState { try await asTenantA(searchPath: "t_\(b.slug)", tenantID: b.tenantID, "SELECT count(*)::int FROM accounts") } != nil)
            // Own schema, forged tenant id: not one row (each table is pinned to its tenant).
            #expect(try await asTenantA(searchPath: "t_\(a.slug)", tenantID: b.tenantID, "SELECT count(*)::int FROM accounts") == 0)
            #expect(try await asTenantA(searchPath: "t_\(a.slug)", tenantID: a.tenantID, "SELECT count(*)::int FROM accounts") > 0)
            // Writing a row of another tenant into A's schema fails, whatever the settings say.
            let plant = "INSERT INTO members (tenant_id, id, email, full_name, password_hash) VALUES ('\(b.tenantID)', gen_random_uuid(), 'x@y.z', 'X', 'h') RETURNING 1"
            #expect(await sqlState { try await asTenantA(searchPath: "t_\(a.slug)", tenantID: a.tenantID, plant) } == "42501")
            #expect(await sqlState { try await asTenantA(searchPath: "t_\(a.slug)", tenantID: b.tenantID, plant) } == "23514")
            // The control schema's secrets and other tables stay out of reach.
            #expect(await sqlState { try await asTenantA(searchPath: "t_\(a.slug)", tenantID: a.tenantID, "SELECT count(*)::int FROM control.users") } == "42501")
            // The one-round-trip read functions refuse a role/schema mismatch and find nothing across tenants.
            let roleA = "t_\(a.slug)_app", schemaB = "t_\(b.slug)"
            // Outside any transaction, on the shared pool.
            func count(_ query: PostgresQuery) async throws -> Int {
                try await client.statement(query, logger: logger) { rows in try await rows.first(Int.self) ?? -1 }
            }
            let mismatch = await sqlState {
                try await count(
                    "SELECT count(*)::int FROM tenant_api.account_by_id(\(roleA), \(schemaB), \(UUID(uuidString: b.tenantID)!), NULL, \(UUID(uuidString: b.members[0].accountID)!))")
            }
            #expect(mismatch == "42501")
            let crossRead = try await count(
                "SELECT count(*)::int FROM tenant_api.account_by_id(\(roleA), \("t_\(a.slug)"), \(UUID(uuidString: b.tenantID)!), NULL, \(UUID(uuidString: b.members[0].accountID)!))")
            #expect(crossRead == 0)
            // Without the settings (a pooled connection after COMMIT), nothing is readable at all.
            let bare = await sqlState { try await count(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM t_\(a.slug).accounts")) }
            #expect(bare == "42501")
        }
    }

    @Test("nothing set inside a tenant transaction survives COMMIT on the pooled server connection")
    func settingsDoNotLeak() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let a = try await planes.provisionFixture(prefix: "leak")
            let tenant = try #require(try await planes.data.directory.tenant(slug: try TenantSlug(a.slug), now: Date()))
            let session = TenantSession(client: harness.groups[tenant.poolGroup], tenant: tenant, memberID: nil, clock: .system, logger: harness.logger)
            for _ in 0..<50 {
                let inside = try await session.run { db in
                    try await db.query("SELECT current_user::text, current_setting('search_path')").first((String, String).self)
                }
                #expect(inside?.0 == "t_\(a.slug)_app" && inside?.1 == "t_\(a.slug)")
                let after = try await harness.groups[tenant.poolGroup].statement(
                    "SELECT current_user::text, current_setting('search_path'), coalesce(current_setting('app.tenant_id', true), '')",
                    logger: harness.logger
                ) { try await $0.first((String, String, String).self) }
                #expect(after?.0 == "nzila_app")
                #expect(after?.1.contains("t_") == false)
                #expect(after?.2 == "")
            }
        }
    }
}
