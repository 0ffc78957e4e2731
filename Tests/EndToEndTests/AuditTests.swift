import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Audit log")
struct AuditTests {
    @Test("control-plane changes and staff writes on the data plane are audited with actor, role, tenant and request id; reads are scoped; nobody rewrites it")
    func auditLog() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "audit")
            let other = try await planes.provisionFixture(prefix: "audit_other")
            let admin = try await planes.adminToken()
            let (a, b) = (f.members[0], f.members[1])
            func post(_ path: String, token: String, _ body: [String: Any], requestID: String) async throws -> Planes.Reply {
                try await planes.data(
                    .post, path, token: token, tenant: f.slug, json: body,
                    headers: [.idempotencyKey: UUID().uuidString, .requestID: requestID])
            }
            let deposit = try await post("/v1/deposits", token: f.staffToken, ["account_id": a.accountID, "amount": 1_000, "currency": "CAD"], requestID: "req-deposit")
            #expect(deposit.status == .created && deposit.headers[.requestID] == "req-deposit")
            let staffMove = ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 10, "currency": "CAD"] as [String: Any]
            #expect(try await post("/v1/transfers", token: f.staffToken, staffMove, requestID: "req-staff-transfer").status == .created)
            #expect(try await post("/v1/transfers", token: a.token, staffMove, requestID: "req-member-transfer").status == .created)
            let tooMuch = ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 99_999, "currency": "CAD"] as [String: Any]
            #expect(try await post("/v1/transfers", token: f.staffToken, tooMuch, requestID: "req-refused").problemCode == "insufficient-funds")
            let freeze = try await planes.data(
                .post, "/v1/accounts/\(b.accountID)/status", token: f.staffToken, tenant: f.slug, json: ["status": "frozen", "reason": "Review"],
                headers: [.requestID: "req-freeze"])
            #expect(freeze.status == .ok)

            // As the platform admin sees it, newest first.
            let log = try await planes.control(.get, "/v1/audit?tenant=\(f.slug)&limit=200", token: admin)
            let rows = log.json["data"] as? [[String: Any]] ?? []
            let byRequest = Dictionary(rows.compactMap { row in (row["request_id"] as? String).map { ($0, row) } }, uniquingKeysWith: { first, _ in first })
            #expect(byRequest["req-deposit"]?["action"] as? String == "POST /v1/deposits")
            #expect(byRequest["req-deposit"]?["actor_role"] as? String == "tenant_admin" && byRequest["req-deposit"]?["tenant"] as? String == f.slug)
            #expect(byRequest["req-staff-transfer"]?["action"] as? String == "POST /v1/transfers")
            #expect(byRequest["req-freeze"]?["action"] as? String == "POST /v1/accounts/{id}/status")
            #expect(byRequest["req-freeze"]?["target"] as? String == "/v1/accounts/\(b.accountID)/status")
            #expect(byRequest["req-member-transfer"] == nil && byRequest["req-refused"] == nil, "members' own moves and refused writes leave no staff record")
            let actions = rows.compactMap { $0["action"] as? String }
            #expect(actions.last == "tenant.create" && actions.contains("staff.create") && actions.contains("POST /v1/members"))
            #expect(rows.compactMap { $0["id"] as? Int } == rows.compactMap { $0["id"] as? Int }.sorted(by: >))

            // Filters and pages.
            let deposits = try await planes.control(.get, "/v1/audit?action=POST%20/v1/deposits&tenant=\(f.slug)", token: admin)
            #expect((deposits.json["data"] as? [[String: Any]])?.allSatisfy { $0["action"] as? String == "POST /v1/deposits" } == true)
            #expect((try await planes.control(.get, "/v1/audit?since=2999-01-01T00:00:00Z", token: admin).json["data"] as? [Any])?.isEmpty == true)
            let first = try await planes.control(.get, "/v1/audit?tenant=\(f.slug)&limit=2", token: admin)
            let cursor = try #require(first.json["next_cursor"] as? String)
            let second = try await planes.control(.get, "/v1/audit?tenant=\(f.slug)&limit=2&cursor=\(cursor)", token: admin)
            let ids = ((first.json["data"] as? [[String: Any]] ?? []) + (second.json["data"] as? [[String: Any]] ?? [])).compactMap { $0["id"] as? Int }
            #expect(ids.count == 4 && Set(ids).count == 4 && ids == ids.sorted(by: >))
            #expect(try await planes.control(.get, "/v1/audit?since=yesterday", token: admin).problemCode == "validation-failed")

            // A tenant admin reads their own tenant only; other staff not at all.
            let own = try await planes.control(.get, "/v1/audit", token: f.staffToken)
            #expect((own.json["data"] as? [[String: Any]])?.allSatisfy { $0["tenant"] as? String == f.slug } == true)
            #expect(try await planes.control(.get, "/v1/audit?tenant=\(other.slug)", token: f.staffToken).status == .forbidden)

            // Nobody rewrites it: not the owner, not a tenant role; a tenant role cannot read it or write another tenant's rows.
            for sql in ["UPDATE control.audit_log SET action = 'nothing'", "DELETE FROM control.audit_log", "TRUNCATE control.audit_log"] {
                let state: String?
                do {
                    try await harness.owner.statement(PostgresQuery(unsafeSQL: sql), logger: harness.logger) { _ in }
                    state = nil
                } catch { state = DatabaseErrors.sqlState(error) }
                #expect(state == "42501", "\(sql)")
            }
            let tenant = try #require(try await planes.data.directory.tenant(slug: try TenantSlug(f.slug), now: Date()))
            let session = TenantSession(client: harness.groups[tenant.poolGroup], tenant: tenant, memberID: nil, clock: .system, logger: harness.logger)
            for sql in [
                "SELECT count(*)::int FROM control.audit_log",
                "INSERT INTO control.audit_log (tenant_id, action, target) VALUES ('\(other.tenantID)', 'forged', 'x')",
                "UPDATE control.audit_log SET action = 'x' WHERE false",
            ] {
                let state: String?
                do {
                    _ = try await session.run { db in try await db.query(PostgresQuery(unsafeSQL: sql)).first(Int.self) }
                    state = nil
                } catch { state = DatabaseErrors.sqlState(error) }
                #expect(state == "42501", "\(sql): \(state ?? "accepted")")
            }
        }
    }
}

@Suite("Signing keys")
struct KeyRotationTests {
    static func kid(_ token: String) -> String? {
        var part = String(token.split(separator: ".").first ?? "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while part.count % 4 != 0 { part += "=" }
        guard let data = Data(base64Encoded: part), let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return header["kid"] as? String
    }

    @Test("after a rotation, tokens signed before and after it are accepted on both planes, and the JWKS serves both keys")
    func rotation() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "keys")
            let member = f.members[0]
            let before = try #require(Self.kid(f.staffToken))
            #expect(Self.kid(member.token) == before)
            let rotated = try await KeyRing.rotate(client: harness.owner, secrets: harness.secrets, logger: harness.logger)
            #expect(rotated != before)
            // Old tokens keep working on both planes.
            #expect(try await planes.data(.get, "/v1/accounts/\(member.accountID)", token: member.token, tenant: f.slug).status == .ok)
            #expect(try await planes.control(.get, "/v1/tenants/\(f.slug)", token: f.staffToken).status == .ok)
            // New tokens carry the new key within the key ring's refresh interval, and work at once everywhere.
            var fresh = f.staffToken
            _ = try await eventually {
                fresh = try await planes.login(planes.cp, email: "admin@\(f.slug).test", password: "staff password 123")
                return Self.kid(fresh) == rotated
            }
            #expect(Self.kid(fresh) == rotated)
            #expect(try await planes.data(.get, "/v1/accounts", token: fresh, tenant: f.slug).status == .ok)
            #expect(try await planes.control(.get, "/v1/tenants/\(f.slug)", token: fresh).status == .ok)
            let memberToken = try await planes.login(planes.dp, email: "member0@\(f.slug).test", password: "member password 0!", tenant: f.slug)
            #expect(try await planes.data(.get, "/v1/accounts/\(member.accountID)", token: memberToken, tenant: f.slug).status == .ok)
            let jwks = try await planes.control(.get, "/.well-known/jwks.json")
            let kids = Set((jwks.json["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String })
            #expect(kids.isSuperset(of: [before, rotated]), "\(kids)")
        }
    }
}
