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
            let behind = try await eventually { () -> Planes.Reply? in
                let reply = try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug)
                return reply.status == .ok ? nil : reply
            }
            #expect(behind?.status == .serviceUnavailable && behind?.problemCode == "tenant-schema-behind")
            try await harness.owner.query(
                "UPDATE control.tenants SET schema_version = \(harness.catalog.latestTenantVersion) WHERE slug = \(fixture.slug)", logger: harness.logger)
            for (status, expected, code) in [("suspended", HTTPResponse.Status.forbidden, "tenant-suspended"), ("offboarded", .gone, "tenant-offboarded")] {
                let before = try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug).status
                try await harness.owner.query(
                    "UPDATE control.tenants SET status = \(status) WHERE slug = \(fixture.slug)", logger: harness.logger)
                let reply = try await eventually { () -> Planes.Reply? in
                    let reply = try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug)
                    return reply.status == before ? nil : reply
                }
                #expect(reply?.status == expected)
                #expect(reply?.problemCode == code)
            }
        }
    }

    @Test("suspend and resume reach every data plane through the change feed in well under a second; offboarded is final")
    func suspendAndResume() async throws {
        let harness = try await Harness.get()
        // Platform time stands still here, so a cached entry never ages out: only a push explains a change.
        let clock = MovableClock(frozenAt: Date())
        try await harness.withPlanes(clock: clock) { planes in
            let fixture = try await planes.provisionFixture(prefix: "susp")
            let admin = try await planes.adminToken()
            let token = fixture.members[0].token
            // A second data-plane instance: its own directory, its own feed.
            let other = harness.dataPlane(jwksPort: 1, clock: .movable(clock))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await other.changeFeed!.run() }
                defer { group.cancelAll() }
                for directory in [planes.data.directory, other.directory] {
                    #expect(try await eventually { directory.isFeedConnected })
                }
                let slug = try TenantSlug(fixture.slug)
                // Warm both caches: with the feed up, entries live 30 s of platform time, which does not pass here.
                #expect(try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug).status == .ok)
                #expect(try await other.directory.tenant(slug: slug, now: clock.now())?.status == .active)

                func lifecycle(_ action: String, reason: Any = "Unpaid invoice 2026-11", token: String? = nil) async throws -> Planes.Reply {
                    try await planes.control(.post, "/v1/tenants/\(fixture.slug)/\(action)", token: token ?? admin, json: ["reason": reason])
                }
                let suspended = try await lifecycle("suspend")
                #expect(suspended.status == .ok && suspended.json["status"] as? String == "suspended", "\(suspended.text)")
                // Seen by both instances although their cached entries never expire: the feed pushed it.
                let seenHere = try await eventually {
                    try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug).problemCode == "tenant-suspended"
                }
                let seenThere = try await eventually { try await other.directory.tenant(slug: slug, now: clock.now())?.status == .suspended }
                #expect(seenHere && seenThere, "pushed to this plane: \(seenHere), to the other: \(seenThere)")
                #expect(try await lifecycle("suspend").problemCode == "invalid-transition")
                #expect(try await lifecycle("resume").json["status"] as? String == "active")
                let resumed = try await eventually { try await planes.data(.get, "/v1/accounts", token: token, tenant: fixture.slug).status == .ok }
                #expect(resumed, "resumed through the push")

                // Only platform admins; a reason is required; unknown tenants are 404; offboarded is final.
                #expect(try await lifecycle("suspend", token: fixture.staffToken).status == .forbidden)
                #expect(try await lifecycle("suspend", reason: " ").problemCode == "validation-failed")
                #expect(try await planes.control(.post, "/v1/tenants/nosuch_tenant/suspend", token: admin, json: ["reason": "x"]).status == .notFound)
                let audit = try await harness.owner.statement(
                    "SELECT action, detail->>'reason' FROM control.audit_log WHERE target = \("tenant:\(fixture.slug)") AND action LIKE 'tenant.%' ORDER BY id",
                    logger: harness.logger
                ) { try await $0.all((String, String?).self) }
                #expect(audit.map(\.0) == ["tenant.create", "tenant.suspend", "tenant.resume"] && audit[1].1 == "Unpaid invoice 2026-11")
                try await harness.owner.statement("UPDATE control.tenants SET status = 'offboarded' WHERE slug = \(fixture.slug)", logger: harness.logger) { _ in }
                #expect(try await lifecycle("resume").problemCode == "invalid-transition")
            }
        }
    }

    @Test("a tenant's own hostnames: unique across tenants, resolved by the data plane as soon as they change, audited")
    func customDomains() async throws {
        let harness = try await Harness.get()
        // Platform time stands still, so a cached miss never ages out: only the feed's push drops it.
        try await harness.withPlanes(clock: MovableClock(frozenAt: Date())) { planes in
            let f = try await planes.provisionFixture(prefix: "dom")
            let other = try await planes.provisionFixture(prefix: "dom_other")
            let admin = try await planes.adminToken()
            let host = "bank.\(f.slug.replacingOccurrences(of: "_", with: "-")).example"
            #expect(try await eventually { planes.data.directory.isFeedConnected })
            #expect(try await planes.data.directory.tenant(domain: host, now: planes.clock.now()) == nil)
            let added = try await planes.control(.post, "/v1/tenants/\(f.slug)/domains", token: f.staffToken, json: ["hostname": "  Bank.\(host.dropFirst(5)) "])
            #expect(added.status == .created && added.json["hostname"] as? String == host, "\(added.text)")
            let resolved = try await eventually { try await planes.data.directory.tenant(domain: host, now: planes.clock.now())?.slug.value }
            #expect(resolved == f.slug, "a cached miss was dropped by the change feed")
            #expect(try await planes.control(.post, "/v1/tenants/\(other.slug)/domains", token: admin, json: ["hostname": host]).problemCode == "domain-taken")
            #expect(try await planes.control(.post, "/v1/tenants/\(f.slug)/domains", token: admin, json: ["hostname": "localhost"]).problemCode == "validation-failed")
            #expect(try await planes.control(.post, "/v1/tenants/\(other.slug)/domains", token: f.staffToken, json: ["hostname": "x.example"]).status == .notFound)
            let listed = try await planes.control(.get, "/v1/tenants/\(f.slug)/domains", token: f.staffToken)
            #expect((listed.json["data"] as? [[String: Any]])?.compactMap { $0["hostname"] as? String } == [host])
            #expect(try await planes.control(.delete, "/v1/tenants/\(f.slug)/domains/\(host)", token: f.staffToken).status == .noContent)
            let gone = try await eventually { try await planes.data.directory.tenant(domain: host, now: planes.clock.now()) == nil }
            #expect(gone)
            #expect(try await planes.control(.delete, "/v1/tenants/\(f.slug)/domains/\(host)", token: f.staffToken).status == .notFound)
            let audit = try await harness.owner.statement(
                "SELECT action FROM control.audit_log WHERE target = \("domain:\(host)") ORDER BY id", logger: harness.logger
            ) { try await $0.all(String.self) }
            #expect(audit == ["domain.add", "domain.remove"])
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
