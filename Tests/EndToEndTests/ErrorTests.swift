import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NzilaCore
import Testing

@Suite("Errors are problem+json, never 500, never a partial write")
struct ErrorTests {
    enum Plane: Sendable { case control, data }
    enum Auth: Sendable { case none, admin, staff, member }

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let plane: Plane
        let method: HTTPRequest.Method
        let path: String
        var auth: Auth = .none
        var tenant: String? = "{tenant}"
        var body: String? = nil
        var contentType: String? = "application/json"
        var headers: [String: String] = [:]
        let status: HTTPResponse.Status
        let code: String
        var description: String { name }
    }

    static let oversized = "{\"email\":\"" + String(repeating: "a", count: (1 << 20) + 10) + "\"}"

    static let cases: [Case] = [
        // Routing
        Case(name: "unknown route (control)", plane: .control, method: .get, path: "/v1/nothing", status: .notFound, code: "route-not-found"),
        Case(name: "unknown route (data)", plane: .data, method: .get, path: "/v1/nothing", status: .notFound, code: "route-not-found"),
        Case(name: "wrong method", plane: .control, method: .delete, path: "/v1/tenants", status: .methodNotAllowed, code: "method-not-allowed"),
        Case(name: "wrong method (data)", plane: .data, method: .put, path: "/v1/accounts", status: .methodNotAllowed, code: "method-not-allowed"),
        // Bodies on the control plane
        Case(name: "malformed JSON", plane: .control, method: .post, path: "/v1/auth/login", body: "{\"email\":", status: .badRequest, code: "malformed-json"),
        Case(name: "not JSON media type", plane: .control, method: .post, path: "/v1/auth/login", body: "email=a", contentType: "application/x-www-form-urlencoded", status: .unsupportedMediaType, code: "unsupported-media-type"),
        Case(name: "no content type", plane: .control, method: .post, path: "/v1/auth/login", body: "{}", contentType: nil, status: .unsupportedMediaType, code: "unsupported-media-type"),
        Case(name: "oversized body", plane: .control, method: .post, path: "/v1/auth/login", body: oversized, status: .contentTooLarge, code: "payload-too-large"),
        Case(name: "unknown field", plane: .control, method: .post, path: "/v1/auth/login", body: "{\"email\":\"a@b.c\",\"password\":\"x\",\"remember\":true}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "wrong type", plane: .control, method: .post, path: "/v1/auth/login", body: "{\"email\":5,\"password\":\"x\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "missing field", plane: .control, method: .post, path: "/v1/auth/login", body: "{\"email\":\"a@b.c\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "array body", plane: .control, method: .post, path: "/v1/auth/login", body: "[1]", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "bad slug", plane: .control, method: .post, path: "/v1/tenants", auth: .admin, body: "{\"slug\":\"Bad Slug\",\"name\":\"x\"}", headers: ["Idempotency-Key": "k1"], status: .unprocessableContent, code: "validation-failed"),
        Case(name: "reserved slug", plane: .control, method: .post, path: "/v1/tenants", auth: .admin, body: "{\"slug\":\"admin\",\"name\":\"x\"}", headers: ["Idempotency-Key": "k2"], status: .unprocessableContent, code: "validation-failed"),
        Case(name: "unknown template", plane: .control, method: .post, path: "/v1/tenants", auth: .admin, body: "{\"slug\":\"tpl_missing\",\"name\":\"x\",\"template\":\"../etc\"}", headers: ["Idempotency-Key": "k3"], status: .unprocessableContent, code: "validation-failed"),
        Case(name: "empty name", plane: .control, method: .post, path: "/v1/tenants", auth: .admin, body: "{\"slug\":\"empty_name\",\"name\":\"  \"}", headers: ["Idempotency-Key": "k4"], status: .unprocessableContent, code: "validation-failed"),
        Case(name: "idempotency key too long", plane: .control, method: .post, path: "/v1/tenants", auth: .admin, body: "{\"slug\":\"long_key\",\"name\":\"x\"}", headers: ["Idempotency-Key": String(repeating: "k", count: 256)], status: .badRequest, code: "invalid-idempotency-key"),
        Case(name: "limit too high", plane: .control, method: .get, path: "/v1/tenants?limit=201", auth: .admin, status: .unprocessableContent, code: "validation-failed"),
        Case(name: "limit not a number", plane: .control, method: .get, path: "/v1/tenants?limit=ten", auth: .admin, status: .unprocessableContent, code: "validation-failed"),
        Case(name: "bad cursor", plane: .control, method: .get, path: "/v1/tenants?cursor=%%%", auth: .admin, status: .unprocessableContent, code: "validation-failed"),
        Case(name: "unknown tenant slug", plane: .control, method: .get, path: "/v1/tenants/no_such_tenant", auth: .admin, status: .notFound, code: "tenant-not-found"),
        Case(name: "malformed tenant slug", plane: .control, method: .get, path: "/v1/tenants/NOT..VALID", auth: .admin, status: .notFound, code: "tenant-not-found"),
        Case(name: "staff for unknown tenant", plane: .control, method: .post, path: "/v1/tenants/no_such_tenant/staff", auth: .admin, body: "{\"email\":\"s@x.io\",\"password\":\"long enough pw\",\"role\":\"teller\"}", status: .notFound, code: "tenant-not-found"),
        Case(name: "staff with bad role", plane: .control, method: .post, path: "/v1/tenants/{tenant}/staff", auth: .admin, body: "{\"email\":\"s@x.io\",\"password\":\"long enough pw\",\"role\":\"platform_admin\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "staff with short password", plane: .control, method: .post, path: "/v1/tenants/{tenant}/staff", auth: .admin, body: "{\"email\":\"s@x.io\",\"password\":\"short\",\"role\":\"teller\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "no token", plane: .control, method: .get, path: "/v1/tenants", status: .unauthorized, code: "unauthorized"),
        Case(name: "bad authorization scheme", plane: .control, method: .get, path: "/v1/tenants", headers: ["Authorization": "Basic YWJjOmRlZg=="], status: .unauthorized, code: "unauthorized"),
        Case(name: "wrong credentials", plane: .control, method: .post, path: "/v1/auth/login", body: "{\"email\":\"nobody@x.io\",\"password\":\"whatever it is\"}", status: .unauthorized, code: "invalid-credentials"),
        // Tenant resolution on the data plane
        Case(name: "no tenant named", plane: .data, method: .get, path: "/v1/accounts", auth: .member, tenant: nil, status: .badRequest, code: "tenant-required"),
        Case(name: "unknown tenant", plane: .data, method: .get, path: "/v1/accounts", auth: .member, tenant: "no_such_cu", status: .notFound, code: "tenant-not-found"),
        Case(name: "malformed X-Tenant", plane: .data, method: .get, path: "/v1/accounts", auth: .member, tenant: "DROP TABLE", status: .notFound, code: "tenant-not-found"),
        // Bodies and paths on the data plane
        Case(name: "member: unknown field", plane: .data, method: .post, path: "/v1/members", auth: .staff, body: "{\"email\":\"n@x.io\",\"full_name\":\"N\",\"password\":\"long enough pw\",\"admin\":true}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "member: bad email and phone", plane: .data, method: .post, path: "/v1/members", auth: .staff, body: "{\"email\":\"nope\",\"full_name\":\"N\",\"password\":\"long enough pw\",\"phone\":\"12\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "member: duplicate email", plane: .data, method: .post, path: "/v1/members", auth: .staff, body: "{\"email\":\"member0@{tenant}.test\",\"full_name\":\"N\",\"password\":\"long enough pw\"}", status: .conflict, code: "member-exists"),
        Case(name: "account: bad kind and currency", plane: .data, method: .post, path: "/v1/accounts", auth: .member, body: "{\"kind\":\"crypto\",\"currency\":\"BTC\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "account: float where a string goes", plane: .data, method: .post, path: "/v1/accounts", auth: .member, body: "{\"kind\":\"savings\",\"currency\":1.5}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "account: staff without member", plane: .data, method: .post, path: "/v1/accounts", auth: .staff, body: "{\"kind\":\"savings\",\"currency\":\"CAD\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "account: member id not a uuid", plane: .data, method: .post, path: "/v1/accounts", auth: .staff, body: "{\"kind\":\"savings\",\"currency\":\"CAD\",\"member_id\":\"42\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "account: unknown member", plane: .data, method: .post, path: "/v1/accounts", auth: .staff, body: "{\"kind\":\"savings\",\"currency\":\"CAD\",\"member_id\":\"6f1b8f5e-6a39-4a7e-9a52-3d2c43c2f7a1\"}", status: .unprocessableContent, code: "validation-failed"),
        Case(name: "account id not a uuid", plane: .data, method: .get, path: "/v1/accounts/abc", auth: .member, status: .notFound, code: "not-found"),
        Case(name: "account that does not exist", plane: .data, method: .get, path: "/v1/accounts/6f1b8f5e-6a39-4a7e-9a52-3d2c43c2f7a1", auth: .member, status: .notFound, code: "not-found"),
        Case(name: "accounts: limit zero", plane: .data, method: .get, path: "/v1/accounts?limit=0", auth: .member, status: .unprocessableContent, code: "validation-failed"),
        Case(name: "member login: malformed", plane: .data, method: .post, path: "/v1/auth/login", body: "{", status: .badRequest, code: "malformed-json"),
        Case(name: "data: oversized", plane: .data, method: .post, path: "/v1/members", auth: .staff, body: oversized, status: .contentTooLarge, code: "payload-too-large"),
    ]

    @Test("every bad input gets its problem status and type, and writes nothing")
    func table() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let fixture = try await planes.provisionFixture(prefix: "err")
            let admin = try await planes.adminToken()
            func count() async throws -> Int {
                let members = try await planes.data(.get, "/v1/members?limit=200", token: fixture.staffToken, tenant: fixture.slug)
                let accounts = try await planes.data(.get, "/v1/accounts?limit=200", token: fixture.staffToken, tenant: fixture.slug)
                return (members.json["data"] as? [Any] ?? []).count + (accounts.json["data"] as? [Any] ?? []).count
            }
            let tenantsBefore = try await harness.owner.statement("SELECT count(*)::int FROM control.tenants", logger: harness.logger) { try await $0.first(Int.self) }
            let before = try await count()
            for item in Self.cases {
                var headers: HTTPFields = [:]
                if let contentType = item.contentType { headers[.contentType] = contentType }
                for (name, value) in item.headers { headers[HTTPField.Name(name)!] = value }
                let token: String? = switch item.auth {
                case .none: nil
                case .admin: admin
                case .staff: fixture.staffToken
                case .member: fixture.members[0].token
                }
                let path = item.path.replacingOccurrences(of: "{tenant}", with: fixture.slug)
                let body = item.body.map { Data($0.replacingOccurrences(of: "{tenant}", with: fixture.slug).utf8) }
                let reply = try await Planes.send(
                    item.plane == .control ? planes.cp : planes.dp, item.method, path, token: token,
                    tenant: item.tenant?.replacingOccurrences(of: "{tenant}", with: fixture.slug), raw: body, headers: headers)
                #expect(reply.status == item.status, "\(item.name): \(reply.status) \(reply.text.prefix(300))")
                #expect(reply.problemCode == item.code, "\(item.name): \(reply.text.prefix(300))")
                #expect(reply.headers[.contentType] == "application/problem+json", "\(item.name)")
                #expect(reply.headers[.requestID] != nil, "\(item.name)")
                #expect(reply.json["status"] as? Int == Int(item.status.code), "\(item.name)")
                #expect(reply.json["instance"] as? String == String(path.split(separator: "?").first ?? ""), "\(item.name)")
            }
            #expect(try await count() == before, "a refused request wrote something")
            let tenantsAfter = try await harness.owner.statement("SELECT count(*)::int FROM control.tenants", logger: harness.logger) { try await $0.first(Int.self) }
            #expect(tenantsAfter! >= tenantsBefore!)
        }
    }

    @Test("wrong method answers 405 with Allow")
    func allowHeader() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let reply = try await planes.control(.patch, "/v1/tenants/some_slug")
            #expect(reply.status == .methodNotAllowed)
            #expect(reply.headers[.allow] == "GET")
        }
    }
}
