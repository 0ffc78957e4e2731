import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NzilaCore
import Testing

@Suite("Both planes")
struct PlaneTests {
    /// Fills `{param}` so the route matches: slugs and UUIDs of things that do not exist.
    static func concrete(_ template: String) -> String {
        template.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.hasPrefix("{") else { return String(segment) }
            return segment == "{slug}" ? "no_such_tenant" : "6f1b8f5e-6a39-4a7e-9a52-3d2c43c2f7a1"
        }.joined(separator: "/")
    }

    @Test("every documented route is served, and routes outside the document are not")
    func openAPIMatchesRouter() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let fixture = try await planes.provisionFixture(prefix: "oas")
            for (client, tenant) in [(planes.cp, nil as String?), (planes.dp, fixture.slug)] {
                let document = try await Planes.send(client, .get, "/openapi.json")
                #expect(document.status == .ok)
                #expect(document.json["openapi"] as? String == "3.1.0")
                let paths = try #require(document.json["paths"] as? [String: [String: Any]])
                #expect(!paths.isEmpty)
                for (path, operations) in paths {
                    for method in operations.keys {
                        let reply = try await Planes.send(
                            client, HTTPRequest.Method(method.uppercased())!, Self.concrete(path), token: fixture.staffToken, tenant: tenant,
                            raw: Data("{}".utf8), headers: [.contentType: "application/json"])
                        #expect(!["route-not-found", "method-not-allowed"].contains(reply.problemCode ?? ""), "\(method) \(path) is documented but not served")
                        #expect(reply.status != .internalServerError, "\(method) \(path) answered 500: \(reply.text)")
                        let operation = operations[method] as? [String: Any]
                        let isPublic = (operation?["security"] as? [Any])?.isEmpty == true
                        if !isPublic {
                            let anonymous = try await Planes.send(client, HTTPRequest.Method(method.uppercased())!, Self.concrete(path), tenant: tenant)
                            #expect(anonymous.status == .unauthorized, "\(method) \(path) is reachable without a token")
                        }
                    }
                }
                let undocumented = try await Planes.send(client, .get, "/v1/undocumented", tenant: tenant)
                #expect(undocumented.problemCode == "route-not-found")
            }
        }
    }

    @Test("health, readiness and JWKS are public")
    func publicEndpoints() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            for client in [planes.cp, planes.dp] {
                #expect(try await Planes.send(client, .get, "/health").status == .ok)
                #expect(try await Planes.send(client, .get, "/ready").status == .ok)
            }
            let jwks = try await planes.control(.get, "/.well-known/jwks.json")
            let keys = try #require(jwks.json["keys"] as? [[String: Any]])
            #expect(keys.first?["alg"] as? String == "ES256" && keys.first?["d"] == nil)
        }
    }

    @Test("a suspended tenant answers 403 and an offboarded one 410, within about a second of the change")
    func tenantStatus() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let fixture = try await planes.provisionFixture(prefix: "status")
            let token = fixture.members[0].token
            #expect(try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug).status == .ok)
            // A schema behind this build's migrations answers 503 rather than failing on a missing column.
            try await harness.owner.query("UPDATE control.tenants SET schema_version = 1 WHERE slug = \(fixture.slug)", logger: harness.logger)
            try await Task.sleep(for: .milliseconds(1100))
            let behind = try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug)
            #expect(behind.status == .serviceUnavailable && behind.problemCode == "tenant-schema-behind")
            try await harness.owner.query(
                "UPDATE control.tenants SET schema_version = \(harness.catalog.latestTenantVersion) WHERE slug = \(fixture.slug)", logger: harness.logger)
            for (status, expected, code) in [("suspended", HTTPResponse.Status.forbidden, "tenant-suspended"), ("offboarded", .gone, "tenant-offboarded")] {
                try await harness.owner.query(
                    "UPDATE control.tenants SET status = \(status) WHERE slug = \(fixture.slug)", logger: harness.logger)
                try await Task.sleep(for: .milliseconds(1100))
                let reply = try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug)
                #expect(reply.status == expected)
                #expect(reply.problemCode == code)
            }
        }
    }

    @Test("staff enrol members and open accounts; lists page newest first without repeats")
    func bankingSlice() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let fixture = try await planes.provisionFixture(prefix: "bank")
            for index in 0..<5 {
                let reply = try await planes.data(
                    .post, "/v1/members", token: fixture.staffToken, tenant: fixture.slug,
                    json: ["email": "Extra\(index)@Example.com", "full_name": " Extra \(index) ", "password": "extra password \(index)", "phone": "+14165550100"])
                #expect(reply.status == .created)
                #expect(reply.json["email"] as? String == "extra\(index)@example.com")
                #expect(reply.json["full_name"] as? String == "Extra \(index)")
                #expect(reply.headers[.location] == "/v1/members/\(reply.json["id"] as? String ?? "")")
            }
            var seen: [String] = []
            var times: [String] = []
            var cursor: String?
            repeat {
                let reply = try await planes.data(
                    .get, "/v1/members?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: fixture.staffToken, tenant: fixture.slug)
                let data = reply.json["data"] as? [[String: Any]] ?? []
                seen += data.compactMap { $0["id"] as? String }
                times += data.compactMap { $0["created_at"] as? String }
                cursor = reply.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen.count == 7 && Set(seen).count == 7)
            #expect(times == times.sorted(by: >))
            let account = try await planes.data(.get, "/v1/accounts/\(fixture.members[0].accountID)", token: fixture.staffToken, tenant: fixture.slug)
            let balance = try #require(account.json["ledger_balance"] as? [String: Any])
            #expect(balance["amount"] as? Int == 0 && balance["currency"] as? String == "CAD")
            #expect(account.json["status"] as? String == "open" && account.json["kind"] as? String == "chequing")
        }
    }
}
